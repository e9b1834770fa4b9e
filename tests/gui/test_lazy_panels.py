"""The first open builds the window in stages, and the hidden docks' panels only when first shown:
no event-loop turn of the first open builds everything at once (issue 2, the stall while opening)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QTabBar

from genaug_desktop.gui.main_window import PANEL_STAGES, WORKSPACE_STAGES, MainWindow
from gui_helpers import wait_loaded
from review_helpers import make_text_project


def _dock_tab(window: MainWindow, title: str) -> tuple[QTabBar, int]:
    for bar in window.findChildren(QTabBar):
        if bar.parent() is window:
            for i in range(bar.count()):
                if bar.tabText(i) == title:
                    return bar, i
    raise AssertionError(f"no dock tab {title!r}")


def test_the_first_open_builds_one_stage_per_turn(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    built: list[str] = []
    stamps: dict[str, int] = {}  # the turn each stage ran on
    turns = [0]
    real = window._run_stage

    def recorded(stage: str) -> None:
        real(stage)
        built.append(stage)
        stamps[stage] = turns[0]

    window._run_stage = recorded  # type: ignore[method-assign]
    ticker = QTimer()
    ticker.timeout.connect(lambda: turns.__setitem__(0, turns[0] + 1))
    ticker.start(1)
    window.open_path(str(image_folder))
    # open_path starts the scan and returns: nothing of the workspace is built in it.
    assert window.session.is_busy and not window.has_workspace and window.is_building and built == []
    qtbot.waitUntil(lambda: not window.is_building, timeout=15_000)
    ticker.stop()
    wait_loaded(qtbot, window)
    names = built
    assert names == [s for s in (*WORKSPACE_STAGES, *PANEL_STAGES) if not s.startswith("import:")]
    # Each stage ran on a turn of its own (the 1 ms ticker ran in between), unless the dataset
    # finished loading first and the rest of the workspace was built at once to show it.
    assert window.stack.currentWidget() is window.splitter
    order = [stamps[n] for n in names]
    assert order == sorted(order)
    assert stamps["curation"] > stamps["splitter"] and stamps["generators"] > stamps["curation"]
    qtbot.waitUntil(window.is_settled, timeout=20_000)


def test_hidden_docks_build_their_panels_when_first_shown(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(window.is_settled, timeout=20_000)
    cur, gen = window.curation, window.generators
    assert cur is not None and gen is not None
    qtbot.wait(100)  # a few more turns: still nothing built behind the policy editor's tab
    assert cur.built_panels() == [] and gen._holder.panel is None
    # The tabs are all there, with their names, before the panels are.
    for title in ("Policy editor", "Rules", "Statistics", "Evaluate", "Generators"):
        _dock_tab(window, title)
    bar, index = _dock_tab(window, "Statistics")
    bar.setCurrentIndex(index)  # what a click on the tab does
    qtbot.waitUntil(lambda: cur.built_panel("stats") is not None, timeout=5000)
    stats = cur.built_panel("stats")
    assert stats is not None and stats.isVisible() and "Statistics need a project" in stats.empty.text()
    assert cur.built_panel("rules") is None and cur.built_panel("review") is None
    # The Review tab beside the grid: its panel is built when the tab is chosen, and is the tab.
    tabs = window.augmentation.grid_tabs
    tabs.setCurrentIndex(1)
    review = cur.built_panel("review")
    assert review is not None and tabs.currentWidget() is review and tabs.tabText(1) == "Review"
    assert not window.details.isVisible()  # the review has the room (the Items tab gets it back)
    tabs.setCurrentIndex(0)
    assert window.details.isVisible()
    # The Generators tab: its panel follows.
    assert gen.toggle_action.isChecked()
    bar, index = _dock_tab(window, "Generators")
    bar.setCurrentIndex(index)
    qtbot.waitUntil(lambda: gen._holder.panel is not None, timeout=5000)
    qtbot.waitUntil(window.is_settled, timeout=20_000)


def test_the_review_menu_gets_the_review_actions_when_it_opens(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    cur = window.curation
    assert cur is not None and cur.built_panel("review") is None
    texts = [a.text() for a in cur.menu.actions() if not a.isSeparator()]
    assert "&Propose Rules" in texts and "Accept" not in texts
    cur.menu.aboutToShow.emit()
    review = cur.built_panel("review")
    assert review is not None
    actions = cur.menu.actions()
    assert actions[:3] == [review.accept_action, review.reject_action, review.accept_passed_action]
    assert actions[3].isSeparator() and actions[4:6] == [review.undo_action, review.redo_action]
    qtbot.wait(20)  # the window adopts the new actions on the next turn: icons and status tips
    assert review.accept_action.statusTip() and not review.accept_action.icon().isNull()
    qtbot.waitUntil(window.is_settled, timeout=20_000)


def test_a_project_builds_the_review_and_rules_for_their_counts(qtbot, make_window, tmp_path: Path) -> None:
    path = make_text_project(tmp_path / "t")
    window: MainWindow = make_window()
    window.open_path(str(path))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(window.is_settled, timeout=20_000)
    cur = window.curation
    assert cur is not None
    review = cur.built_panel("review")
    assert review is not None and cur.built_panel("rules") is not None
    tabs = window.augmentation.grid_tabs
    assert tabs.tabText(tabs.indexOf(review)) == "Review (12 pending)"
    assert cur.built_panel("stats") is None and cur.built_panel("evaluate") is None
    # Reading a panel builds it, with the project.
    assert cur.evaluate.project is window.session.project
    qtbot.waitUntil(window.is_settled, timeout=20_000)


def test_a_saved_layout_builds_the_panel_it_shows(qtbot, image_folder: Path) -> None:
    from genaug_desktop.gui.settings import AppSettings

    first = MainWindow(AppSettings())
    qtbot.addWidget(first)
    first.resize(1280, 800)
    first.show()
    first.open_path(str(image_folder))
    wait_loaded(qtbot, first)
    cur = first.curation
    assert cur is not None
    # The person moved the Statistics dock to the right, out of the bottom tabs: it shows there.
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, cur.stats_dock)
    qtbot.waitUntil(lambda: cur.built_panel("stats") is not None, timeout=5000)
    qtbot.waitUntil(first.is_settled, timeout=20_000)
    first.close()

    second = MainWindow(AppSettings())
    qtbot.addWidget(second)
    second.show()
    second.open_path(str(image_folder))
    wait_loaded(qtbot, second)
    cur2 = second.curation
    assert cur2 is not None
    qtbot.waitUntil(lambda: cur2.built_panel("stats") is not None, timeout=5000)
    assert cur2.stats.isVisible() and second.dockWidgetArea(cur2.stats_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert cur2.built_panel("rules") is None and cur2.built_panel("evaluate") is None
    qtbot.waitUntil(second.is_settled, timeout=20_000)
