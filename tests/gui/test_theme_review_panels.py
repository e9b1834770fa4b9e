"""A live theme switch (light -> dark -> light) restyles the review panel (Accept / Reject ink, the
toolbar and filter lines, the rule banner, the cards' badges and veil), the generator and
evaluation panels (muted and error text) and the preview grid's toolbar; the light palette's muted
text is 4.5:1 on the window. In dark no sheet keeps a light-only colour and text reads 4.5:1."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from genaug_desktop.core.store.project import Project
from genaug_desktop.gui import colors
from genaug_desktop.gui.theme import LIGHT_PLACEHOLDER, ThemeController
from review_helpers import make_image_project, make_text_project
from test_theme import _contrast as contrast
from test_review import cache  # noqa: F401  (fixture)
from test_theme_panels import round_trip, sheets, switch
from theme_helpers import light_afterwards  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("light_afterwards")


@pytest.fixture
def text_project(tmp_path: Path):
    project = Project.open(str(make_text_project(tmp_path / "t")))
    yield project
    project.close()


def _no_light_border(root: QWidget) -> None:
    """No sheet draws a line in the light theme's grey (#d7dbe1, #eaecf0: bright lines in dark)."""
    assert [s for _w, s in sheets(root) if "#d7dbe1" in s or "#eaecf0" in s] == []


def _colours(widget: QWidget) -> set[str]:
    image = widget.grab().toImage()
    return {image.pixelColor(x, y).name() for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}


def test_light_palette_muted_text_reads_on_window_base_and_button(qapp) -> None:
    ThemeController("light")
    palette = QApplication.palette()
    ink = palette.color(QPalette.ColorRole.PlaceholderText)
    assert ink.name() == LIGHT_PLACEHOLDER
    for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base, QPalette.ColorRole.Button):
        assert contrast(ink, palette.color(role)) >= 4.5, role
    controller = ThemeController("dark")
    palette = QApplication.palette()
    for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
        assert contrast(palette.color(QPalette.ColorRole.PlaceholderText), palette.color(role)) >= 4.5, role
    controller.set_preference("light")
    assert QApplication.palette().color(QPalette.ColorRole.PlaceholderText).name() == LIGHT_PLACEHOLDER


def test_review_panel_follows_a_live_theme_switch(qtbot, qapp, cache, tmp_path: Path) -> None:
    from genaug_desktop.gui.review import ReviewPanel, _veil

    project = Project.open(str(make_image_project(tmp_path / "img")))
    try:
        ids = [c.id for c in project.candidates()]
        project.decide(ids[:2], "accepted")
        project.decide(ids[2:4], "rejected", reason="blurry")
        controller = ThemeController("light")
        panel = ReviewPanel(cache)
        qtbot.addWidget(panel, before_close_func=lambda p: p.shutdown())
        panel.resize(1280, 700)
        panel.show()
        panel.set_project(project)
        qtbot.waitUntil(lambda: panel.is_settled() and panel.model.rowCount() > 0, timeout=10000)
        panel.show_ids(ids[:6], "Rule R1 would reject 6 candidates")
        qtbot.waitUntil(panel.is_settled, timeout=10000)
        qtbot.wait(50)
        panel.view.selectAll()  # (Accept and Reject enabled: their ink shows)
        qtbot.wait(50)
        assert panel.banner.isVisibleTo(panel)
        assert "#067647" in panel.accept_button.styleSheet() and "#b42318" in panel.reject_button.styleSheet()
        _no_light_border(panel)
        round_trip(controller, panel)

        switch(controller, "dark")
        button = panel.accept_button.palette().color(QPalette.ColorRole.Button)
        for b, ink in ((panel.accept_button, colors.SUCCESS_INK), (panel.reject_button, colors.ERROR_INK)):
            assert ink.name() in b.styleSheet()
            assert contrast(ink, button) >= 4.5  # (#067647 on the dark button was 1.9:1)
        fill, _border, ink = colors.message_colors("warning")
        assert fill.name() in panel.banner.styleSheet() and ink.name() in panel.banner.styleSheet()
        assert contrast(ink, fill) >= 4.5
        assert panel.banner.grab().toImage().pixelColor(panel.banner.width() // 2, 2) == fill
        # the cards: badge inks are the dark ones, the veil is the dark card's fill
        assert _veil().rgb() == QColor("#2f3136").rgb()
        seen = _colours(panel.view.viewport())
        assert colors.STATUS_ACCEPTED_FILL.name() in seen and "#dcfae6" not in seen
        switch(controller, "light")
        assert _veil().rgb() == QColor("#ffffff").rgb()
        seen = _colours(panel.view.viewport())
        assert "#dcfae6" in seen
    finally:
        project.close()


def test_generator_panel_follows_a_live_theme_switch(qtbot, qapp, text_project: Project) -> None:
    from genaug_desktop.gui.generator_panel import GeneratorPanel

    controller = ThemeController("light")
    panel = GeneratorPanel()
    qtbot.addWidget(panel, before_close_func=lambda p: p.shutdown())
    panel.resize(1280, 500)
    panel.show()
    panel.set_project(text_project)
    panel.set_generator("char_gru")
    panel._say("error", "Fix the parameters first: epochs must be 1 or more")
    assert colors.ERROR_INK.name() in panel.status_label.styleSheet()
    _no_light_border(panel)
    round_trip(controller, panel)

    switch(controller, "dark")
    assert panel.generator_help.styleSheet() == f"color: {colors.HINT_INK.name()};"
    assert contrast(colors.HINT_INK, QApplication.palette().color(QPalette.ColorRole.Window)) >= 4.5
    panel._say("info", "Trained")  # a message said while dark turns light with the theme
    assert panel.status_label.styleSheet() == "color: #a3a9b3;"
    switch(controller, "light")
    assert panel.status_label.styleSheet() == "color: #5c6370;"


def test_evaluate_panel_follows_a_live_theme_switch(qtbot, qapp, text_project: Project) -> None:
    from genaug_desktop.gui.evaluate_panel import EvaluatePanel

    controller = ThemeController("light")
    panel = EvaluatePanel()
    qtbot.addWidget(panel)
    panel.resize(1280, 620)
    panel.show()
    try:
        panel.set_project(text_project)
        qtbot.waitUntil(panel.is_settled, timeout=60000)
        panel._say("error", "The run failed: no classes")
        round_trip(controller, panel)
        switch(controller, "dark")
        assert colors.ERROR_INK.name() in panel.status_label.styleSheet()
        assert colors.HINT_INK.name() in panel.note_label.styleSheet()
    finally:
        panel.shutdown()


def test_preview_grid_toolbar_line_follows_the_palette(qtbot, qapp) -> None:
    from genaug_desktop.gui.preview_grid import PreviewGrid
    from genaug_desktop.gui.session import DatasetSession
    from genaug_desktop.gui.thumbnails import ThumbnailCache

    controller = ThemeController("light")
    session = DatasetSession(ThumbnailCache(workers=1))
    try:
        grid = PreviewGrid(session)
        qtbot.addWidget(grid)
        grid.resize(800, 400)
        grid.show()
        _no_light_border(grid)
        toolbar = grid.findChild(QWidget, "gridToolbar")
        assert toolbar is not None and "palette(midlight)" in toolbar.styleSheet()

        def line() -> QColor:
            return toolbar.grab().toImage().pixelColor(toolbar.width() // 2, toolbar.height() - 1)

        assert line().name() == QApplication.palette().color(QPalette.ColorRole.Midlight).name()
        switch(controller, "dark")
        assert line().name() == "#3d4046"  # the dark palette's midlight, not the light grey #d7dbe1
    finally:
        session.shutdown()
