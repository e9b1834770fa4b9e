"""A live theme switch (light -> dark -> light) restyles the panels whose colours were tuned for light
only: the export dialog, the policy editor (toolbar status, section labels, forms, condition
summary, step tree and palette, preview tiles), the details panel, the dataset browser and the
compare view's word diff. In dark, no style sheet keeps a light-only colour and every text colour
set by a sheet is 4.5:1 on what it is drawn on; back in light, every sheet is what it was."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from genaug_desktop.core.datasets.model import Item
from genaug_desktop.core.store.project import Project
from genaug_desktop.gui import colors
from genaug_desktop.gui import policy_document as pd
from genaug_desktop.gui.theme import ThemeController
from review_helpers import make_image_project, make_text_project
from test_theme import _contrast as contrast
from theme_helpers import light_afterwards  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("light_afterwards")

HEX = re.compile(r"#[0-9a-fA-F]{6}\b")
#: The policy editor's Augment button: white on this blue is 5.2:1 (7.0:1 hovered) in either theme.
SAME_IN_BOTH = {"#2563eb", "#1d4ed8"}


def sheets(root: QWidget) -> list[tuple[QWidget, str]]:
    """(widget, style sheet) of *root* and every widget under it that has a sheet."""
    return [(w, w.styleSheet()) for w in [root, *root.findChildren(QWidget)] if w.styleSheet()]


def _declared(sheet: str, prop: str) -> str | None:
    match = re.search(rf"(?:^|[;{{\s]){prop}\s*:\s*(#[0-9a-fA-F]{{6}})", sheet)
    return match.group(1).lower() if match else None


def check_dark(root: QWidget) -> None:
    """No light-only colour stays in a sheet, and each sheet's text colour reads on its fill."""
    dark_values = {c.name() for c in colors._switched().values()}
    light_only = {c.name() for c in colors._LIGHT.values()} - dark_values - SAME_IN_BOTH
    palette = QApplication.palette()
    stale, faint = [], []
    for widget, sheet in sheets(root):
        used = {h.lower() for h in HEX.findall(sheet)}
        if used & light_only or not used <= dark_values | SAME_IN_BOTH:
            stale.append((widget.objectName() or type(widget).__name__, sheet))
        ink, fill = _declared(sheet, "color"), _declared(sheet, "background")
        if ink is not None and ink not in SAME_IN_BOTH:
            behind = QColor(fill) if fill else palette.color(QPalette.ColorRole.Window)
            if contrast(QColor(ink), behind) < 4.5:
                faint.append((widget.objectName() or type(widget).__name__, sheet))
    assert stale == []
    assert faint == []


def switch(controller: ThemeController, theme: str) -> None:
    """Switch the theme; widgets take the new application palette from posted events."""
    controller.set_preference(theme)
    QApplication.processEvents()


def round_trip(controller: ThemeController, root: QWidget) -> None:
    """light -> dark (checked) -> light: every sheet is back to what it was."""
    before = sheets(root)
    assert any(HEX.search(sheet) for _w, sheet in before)  # (there is something to switch)
    switch(controller, "dark")
    check_dark(root)
    switch(controller, "light")
    assert sheets(root) == before


# ---- the export dialog ---------------------------------------------------------------------------------
@pytest.fixture
def image_project(tmp_path: Path):
    project = Project.open(str(make_image_project(tmp_path / "img")))
    project.decide([c.id for c in project.candidates()][:4], "accepted")
    yield project
    project.close()


def test_export_dialog_follows_a_live_theme_switch(qtbot, qapp, image_project: Project, tmp_path: Path) -> None:
    from genaug_desktop.gui.export_dialog import ExportDialog

    controller = ThemeController("light")
    dialog = ExportDialog(image_project, destination=str(tmp_path / "out"))
    qtbot.addWidget(dialog, before_close_func=lambda d: d.shutdown())
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.is_planning() and dialog.plan is not None, timeout=20000)
    dialog.plan_warnings.setText("2 samples have no label")
    dialog.plan_warnings.show()
    dialog._show_field_error("splits", "The splits add up to 120 %, not 100 %.")
    dialog._set_status("Fix the option marked in red", error=True)
    assert "#b42318" in dialog.status_label.styleSheet()
    round_trip(controller, dialog)

    switch(controller, "dark")
    fill, _border, ink = colors.message_colors("warning")
    assert f"background: {fill.name()}" in dialog.plan_warnings.styleSheet()
    assert dialog.plan_warnings.grab().toImage().pixelColor(dialog.plan_warnings.width() // 2, 4) == fill
    assert colors.ERROR_INK.name() in dialog.field_errors["splits"].styleSheet()
    # a status set while dark is dark, and turns light with the theme (the label's newest sheet)
    dialog._set_status("Counting…")
    assert colors.HINT_INK.name() in dialog.status_label.styleSheet() == "color: #a3a9b3;"
    switch(controller, "light")
    assert dialog.status_label.styleSheet() == "color: #5c6370;"
    assert colors.SUCCESS_INK.name() in dialog.report_title.styleSheet()


# ---- the policy editor ----------------------------------------------------------------------------------
def test_policy_editor_follows_a_live_theme_switch(qtbot, qapp) -> None:
    from genaug_desktop.gui.param_form import RangeSlider
    from genaug_desktop.gui.policy_editor import PolicyEditor
    from genaug_desktop.gui.policy_steps import OpPaletteModel

    controller = ThemeController("light")
    editor = PolicyEditor("text")
    qtbot.addWidget(editor)
    editor.resize(1280, 520)
    editor.show()
    editor.new_policy()
    doc, paths = pd.insert(editor.document, ("steps",), 0, [pd.op_node("random_word_delete", {}, False),
                                                             pd.op_node("random_char_swap", {}, False)])
    doc = pd.set_when(doc, paths[0], {"label": {"not_in": ["cat"]}})
    doc = pd.set_fields(doc, paths[1], enabled=False)
    editor.edit("setup", doc, [paths[0]])
    editor._set_status("1 step is not available here", "warning")
    editor.conditions_form._set_message("Not valid: words min is more than max", error=True)
    assert editor.param_form is not None and editor.conditions_form is not None
    editor.param_form._set_error(None)
    round_trip(controller, editor)

    switch(controller, "dark")
    assert colors.WARNING_INK.name() in editor.status_label.styleSheet()
    assert colors.ERROR_INK.name() in editor.conditions_form.summary_label.styleSheet()
    # The step tree: the condition badge, a section head, a switched-off step.
    view = editor.steps_view
    model = view.model()
    step = model.index(0, 0, model.index(1, 0))
    assert step.data(Qt.ItemDataRole.DisplayRole) == "Random word delete"
    rect = view.visualRect(step)
    image = view.viewport().grab().toImage()
    row = {image.pixelColor(x, rect.center().y()).name() for x in range(rect.right() - 40, rect.right() - 2)}
    assert colors.CONDITION_FILL.name() in row and "#eef2ff" not in row
    assert model.index(1, 0).data(Qt.ItemDataRole.ForegroundRole).color() == colors.MUTED_TEXT
    off = model.index(1, 0, model.index(1, 0)).data(Qt.ItemDataRole.ForegroundRole).color()
    assert off == qapp.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    # The op palette's category heads are read when painted, not stored in the light theme.
    palette_model = editor.findChild(OpPaletteModel)
    assert palette_model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole).color().name() == "#a3a9b3"
    # The range slider takes the palette's colours when it paints (its handles were always white).
    slider = editor.param_form.findChild(RangeSlider)
    x = round(slider._x_of(slider._low))
    handle = slider.grab().toImage().pixelColor(x, slider.height() // 2)
    assert handle == qapp.palette().color(QPalette.ColorRole.Light) and handle.lightness() < 100
    switch(controller, "light")
    assert palette_model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole).color().name() == "#6b7280"


def test_policy_preview_tiles_use_the_theme_colours(qtbot, qapp) -> None:
    from genaug_desktop.gui import policy_preview

    controller = ThemeController("light")
    assert policy_preview.HIGHLIGHT is colors.CHANGED_WORD_FILL and policy_preview.SOURCE_ACCENT is colors.ACCENT_INK
    assert colors.CHANGED_WORD_FILL.name() == "#fde68a"
    switch(controller, "dark")
    text = qapp.palette().color(QPalette.ColorRole.Text)
    assert contrast(text, policy_preview.HIGHLIGHT) >= 4.5  # light text on the yellow was 1.2:1
    assert contrast(policy_preview.SOURCE_ACCENT, colors.CARD_FILL) >= 4.5
    assert contrast(QColor("#ffffff"), policy_preview.SOURCE_BADGE) >= 4.5


# ---- details, dataset browser, compare -----------------------------------------------------------------
def test_details_text_view_is_a_dark_page_in_the_dark_theme(qtbot, qapp) -> None:
    from genaug_desktop.gui.details import DetailsPanel

    controller = ThemeController("light")
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.resize(360, 600)
    panel.show()
    panel.show_item(Item("a.csv:2", "a.csv", "text", "neg", "0" * 64, 12, line=2, text="Rust appeared."), None)
    assert panel.stack.currentWidget() is panel.text_view

    def page() -> QColor:
        view = panel.text_view.viewport()
        return view.grab().toImage().pixelColor(view.width() - 8, view.height() - 8)

    assert page() == QColor("#ffffff")
    switch(controller, "dark")
    assert page() == qapp.palette().color(QPalette.ColorRole.Base) and page().lightness() < 60  # was white under light text
    switch(controller, "light")
    assert page() == QColor("#ffffff")


def test_dataset_browser_no_problems_line_follows_the_theme(qtbot, qapp) -> None:
    from genaug_desktop.gui.dataset_browser import DatasetBrowser
    from genaug_desktop.gui.session import DatasetSession
    from genaug_desktop.gui.thumbnails import ThumbnailCache

    controller = ThemeController("light")
    session = DatasetSession(ThumbnailCache(workers=1))
    try:
        browser = DatasetBrowser(session)
        qtbot.addWidget(browser)
        assert "#067647" in browser.no_problems.styleSheet()
        round_trip(controller, browser)
        switch(controller, "dark")
        assert colors.SUCCESS_INK.name() in browser.no_problems.styleSheet()  # #15803d was 2.7:1 on dark
    finally:
        session.shutdown()


def test_compare_word_diff_is_redrawn_in_the_theme(qtbot, qapp, tmp_path: Path) -> None:
    from genaug_desktop.gui.compare import CompareView
    from genaug_desktop.gui.review_models import load_review_rows

    controller = ThemeController("light")
    view = CompareView()
    qtbot.addWidget(view, before_close_func=lambda v: v.shutdown())
    with Project.open(str(make_text_project(tmp_path / "t"))) as project:
        view.set_project(project)
        view.show_row(load_review_rows(project).rows[0])
        source, candidate = view.source_text.body, view.candidate_text.body
        assert "#d1fadf" in candidate.toHtml().lower() and "#fee4e2" in source.toHtml().lower()
        switch(controller, "dark")
        html = candidate.toHtml().lower()
        assert colors.DIFF_ADDED_FILL.name() in html and "#d1fadf" not in html
        assert colors.DIFF_REMOVED_INK.name() in source.toHtml().lower()
        assert contrast(colors.DIFF_ADDED_INK, colors.DIFF_ADDED_FILL) >= 4.5
        assert "really" in candidate.toPlainText() and view.text_diff is not None and view.text_diff.added == 1
        switch(controller, "light")
        assert "#d1fadf" in candidate.toHtml().lower() and colors.DIFF_ADDED_FILL.name() == "#d1fadf"


def test_histogram_threshold_labels_read_on_the_dark_card(qtbot, qapp) -> None:
    from genaug_desktop.gui.charts import THRESHOLD, Histogram

    controller = ThemeController("light")
    chart = Histogram("Width")
    qtbot.addWidget(chart)
    chart.resize(420, 220)
    chart.set_values([float(v % 60 + 20) for v in range(300)], (30, 75), "px")

    def threshold_pixels() -> set[str]:
        image = chart.grab().toImage()
        return {image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height())}

    assert "#b42318" in threshold_pixels()
    switch(controller, "dark")
    painted = threshold_pixels()
    assert THRESHOLD.name() in painted and "#b42318" not in painted
    assert contrast(THRESHOLD, colors.CHART_CARD) >= 4.5  # the "min"/"max" labels (#b42318 was 2:1)


def test_loss_chart_training_curve_is_drawn_in_the_theme(qtbot, qapp) -> None:
    from genaug_desktop.gui.loss_chart import LossChart

    controller = ThemeController("light")
    chart = LossChart()
    qtbot.addWidget(chart)
    chart.resize(420, 220)
    for step in range(40):
        chart.add_point(step, 2.0 / (1 + step / 10))

    def painted() -> set[str]:
        image = chart.grab().toImage()
        return {image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height())}

    assert "#2e6fdb" in painted()
    switch(controller, "dark")
    assert colors.CHART_TRAIN.name() in painted() and "#2e6fdb" not in painted()
