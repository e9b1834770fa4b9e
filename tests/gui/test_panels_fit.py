"""What a 1280 x 800 window with a bottom panel open leaves the review and statistics panels: the
review grid shows whole cards (the compare view moves beside it when the panel is too short), the
provenance line wraps instead of being cut mid-value, a long compare title ends in "…" with the
whole title in its tooltip, and the statistics' measure chooser and chart titles fit."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QWidget

from genaug_desktop.core.rules import run_filter
from genaug_desktop.core.store.project import Project
from genaug_desktop.gui.compare import CompareView, ElidedLabel
from genaug_desktop.gui.review import ReviewPanel
from review_helpers import approve_length_rule, make_image_project, make_text_project
from test_review import cache  # noqa: F401  (fixture)


@pytest.fixture
def image_project(tmp_path: Path):
    project = Project.open(str(make_image_project(tmp_path / "img")))
    yield project
    project.close()


def _review(qtbot, cache, project: Project, width: int, height: int) -> tuple[ReviewPanel, QWidget]:  # noqa: F811
    # In a host without a layout, as in the window whose workspace keeps a fixed minimum height: a
    # window of its own would never be made shorter than its layout's minimum.
    host = QWidget()
    host.resize(1300, 900)
    panel = ReviewPanel(cache)
    panel.setParent(host)
    qtbot.addWidget(host, before_close_func=lambda _h: panel.shutdown())
    panel.resize(width, height)
    host.show()
    panel.set_project(project)
    qtbot.waitUntil(lambda: panel.is_settled() and panel.model.rowCount() > 0, timeout=10000)
    qtbot.wait(20)  # (the layout after the rows arrived)
    return panel, host


def _whole_first_card(panel: ReviewPanel) -> bool:
    rect = panel.view.visualRect(panel.model.index(0, 0))
    return not rect.isEmpty() and rect.bottom() <= panel.view.viewport().height()


def test_short_review_panel_puts_compare_beside_the_grid_and_shows_whole_cards(qtbot, cache, image_project) -> None:  # noqa: F811
    # about what the review tab gets at 1280 x 800 with a bottom panel open
    panel, _host = _review(qtbot, cache, image_project, 990, 300)
    assert panel.splitter.orientation() == Qt.Orientation.Horizontal
    assert _whole_first_card(panel)
    assert panel.view.height() >= panel.view.minimumSizeHint().height()
    # tall enough for both: the compare view goes back under the grid, and the card stays whole
    panel.resize(990, 760)
    qtbot.wait(20)
    assert panel.splitter.orientation() == Qt.Orientation.Vertical
    assert _whole_first_card(panel)
    # narrow and short: it stays under the grid (beside, both would be too narrow)
    panel.resize(600, 300)
    qtbot.wait(20)
    assert panel.splitter.orientation() == Qt.Orientation.Vertical


def test_grid_minimum_height_is_one_whole_card(qtbot, cache, image_project) -> None:  # noqa: F811
    panel, _host = _review(qtbot, cache, image_project, 990, 760)
    card = panel.view.visualRect(panel.model.index(0, 0)).height()
    assert panel.view.minimumSizeHint().height() >= card
    panel.set_thumbnail_size(64)  # smaller cards: a smaller minimum
    qtbot.wait(20)
    assert panel.view.minimumSizeHint().height() < card


def test_provenance_line_wraps_and_is_selectable(qtbot) -> None:
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(420, 300)
    view.show()
    ops = ("augmentation · affine(angle=6.66, scale=1.02, shear_x=-1.54, shear_y=-4.04, tx=0.0324, ty=0.0325) → "
           "color_jitter(brightness=0.894, contrast=0.972, hue=4.7)")
    view.footer.setText(ops)
    qtbot.wait(20)
    footer = view.footer
    assert footer.wordWrap() and footer.text() == ops  # (all of it, on several lines)
    assert footer.height() >= 2 * footer.fontMetrics().height()
    assert footer.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse


def test_elided_label_keeps_the_whole_text_in_its_tooltip(qtbot) -> None:
    label = ElidedLabel("Candidate #12 · circle · from circle/a_rather_long_file_name_0001.png")
    qtbot.addWidget(label)
    label.resize(120, 20)
    label.show()
    qtbot.wait(10)
    assert label.text().endswith("…") and len(label.text()) < len(label.full_text())
    assert label.toolTip() == label.full_text()
    label.resize(QFontMetrics(label.font()).horizontalAdvance(label.full_text()) + 20, 20)
    qtbot.wait(10)
    assert label.text() == label.full_text() and label.toolTip() == ""


def test_statistics_measure_chooser_and_titles_fit(qtbot, tmp_path: Path) -> None:
    from genaug_desktop.gui.stats_panel import StatsPanel

    project = Project.open(str(make_text_project(tmp_path / "t")))
    try:
        approve_length_rule(project)
        run_filter(project)
        panel = StatsPanel()
        qtbot.addWidget(panel)
        panel.resize(1280, 260)  # a bottom panel at 1280 x 800: one row of charts
        panel.show()
        panel.set_project(project)
        qtbot.waitUntil(lambda: panel.measurements is not None and panel.is_settled(), timeout=20000)
        qtbot.wait(20)
        combo = panel.rule_combo
        text = combo.currentText()
        assert text and text in combo.toolTip()
        # the chooser shows its whole entry (it takes the row's free width)
        assert combo.width() >= QFontMetrics(combo.font()).horizontalAdvance(text) + 30
        bold = panel.histogram.font()
        bold.setBold(True)
        for chart in (panel.histogram, panel.class_chart):
            room = chart.width() - 24
            assert QFontMetrics(bold).horizontalAdvance(chart.title) <= room, chart.title
            small = QFontMetrics(panel.histogram.font())  # (the subtitle's font is smaller still)
            assert small.horizontalAdvance(chart.subtitle) <= room, chart.subtitle
    finally:
        panel.shutdown()
        project.close()
