"""Review, rules and statistics in the main window: the tab and docks follow the open project, a plain
dataset shows hints, the keyboard flow works in the window, and the approved rules run by themselves
after an augmentation job."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.policy import Policy
from genaug_desktop.core.rules import add_rule, approve_rules
from genaug_desktop.core.store.project import Project, init_project_job
from genaug_desktop.gui.augment_dialog import AugmentOptions
from gui_helpers import wait_loaded
from review_helpers import approve_length_rule, db_states, make_text_project


def wait_settled(qtbot, window, timeout: int = 20000) -> None:
    qtbot.waitUntil(lambda: window.curation.is_settled() and not window.session.is_busy, timeout=timeout)


def test_project_opens_in_the_review_tab_rules_and_statistics(qtbot, make_window, tmp_path: Path) -> None:
    path = make_text_project(tmp_path / "t")
    with Project.open(str(path)) as project:
        approve_length_rule(project)
    window = make_window()
    window.open_path(str(path))
    wait_loaded(qtbot, window)
    wait_settled(qtbot, window)
    cur = window.curation
    assert cur is not None and cur.project is window.session.project
    tabs = window.augmentation.grid_tabs
    assert tabs.tabText(tabs.indexOf(cur.review)) == "Review (12 pending)"
    assert cur.review.model.rowCount() == 12
    assert [r.id for r in cur.rules.model.rules] == ["length"]
    stats = cur.stats  # (built when first shown or read: it reads its figures then)
    wait_settled(qtbot, window)
    assert stats.stats is not None or not stats.isVisible()
    assert window.dockWidgetArea(cur.rules_dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert cur.rules_dock in window.tabifiedDockWidgets(window.augmentation.dock)
    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Review" in titles and titles.index("&Review") < titles.index("&Help")
    assert cur.filter_action.isEnabled()

    # The keyboard flow inside the window (focus, shortcuts and all).
    window.curation.show_review()
    assert tabs.currentWidget() is cur.review
    qtbot.waitUntil(lambda: cur.review.view.hasFocus(), timeout=5000)
    qtbot.keyClick(cur.review.view, Qt.Key.Key_A)
    qtbot.keyClick(cur.review.view, Qt.Key.Key_R)
    assert db_states(path)[1][0] == "accepted" and db_states(path)[2][0] == "rejected"
    qtbot.keyClick(cur.review.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert db_states(path)[2][0] == "pending"
    assert tabs.tabText(tabs.indexOf(cur.review)) == "Review (11 pending)"

    # Run Filter Now from the menu: the length rule rejects the two short texts, the grid follows.
    cur.filter_action.trigger()
    qtbot.waitUntil(lambda: any(t.startswith("Filter:") for _l, t in window.message_bar.history), timeout=20000)
    wait_settled(qtbot, window)
    assert db_states(path)[9] == ("rejected", "rule", "length")
    qtbot.waitUntil(lambda: cur.review.model.counts.by_rule == 2, timeout=10000)
    wait_settled(qtbot, window)


def test_a_plain_dataset_shows_hints(qtbot, make_window, csv_file: Path) -> None:
    window = make_window()
    window.open_path(str(csv_file))
    wait_loaded(qtbot, window)
    cur = window.curation
    assert cur.project is None
    assert "needs a project" in cur.review.empty_label.text()
    assert "Rules live in a project" in cur.rules.empty.text()
    assert "Statistics need a project" in cur.stats.empty.text()
    assert not cur.filter_action.isEnabled() and not cur.propose_action.isEnabled()
    window.close_dataset()
    assert not cur.rules_dock.isVisible()


def test_filter_runs_after_an_augmentation_job(qtbot, make_window, image_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "pets.genaug"
    project = run_job(init_project_job(str(path), str(image_folder)))
    # Candidates are 48 px wide: a width rule of 1-10 px rejects every one of them.
    add_rule(project, "image_size", {"dimension": "width", "range": [1, 10]}, rule_id="tiny")
    approve_rules(project, ["tiny"])
    project.close()
    window = make_window()
    window.open_path(str(path))
    wait_loaded(qtbot, window)
    wait_settled(qtbot, window)
    policy = Policy.from_json({"schema_version": 1, "modality": "image", "preprocess": [],
                               "steps": [{"op": "hflip", "p": 1.0}]})
    window.augmentation.controller.run(policy, AugmentOptions(per_item=1, workers=1))
    qtbot.waitUntil(lambda: any(t.startswith("Filter:") for _l, t in window.message_bar.history), timeout=60000)
    wait_settled(qtbot, window)
    states = db_states(path)
    assert len(states) == 10  # one per decodable image
    assert all(s == ("rejected", "rule", "tiny") for s in states.values())
    qtbot.waitUntil(lambda: window.curation.review.model.counts.by_rule == 10, timeout=10000)
    wait_settled(qtbot, window)


def test_the_details_panel_steps_aside_while_reviewing(qtbot, make_window, tmp_path: Path) -> None:
    """The details panel describes the Items tab's item; beside the Review tab it would describe
    an item the person no longer sees, so it hides there and comes back (unless turned off)."""
    path = make_text_project(tmp_path / "t")
    window = make_window()
    window.open_path(str(path))
    wait_loaded(qtbot, window)
    wait_settled(qtbot, window)
    tabs, details = window.augmentation.grid_tabs, window.details
    assert tabs.currentWidget() is window.grid and details.isVisible()
    window.curation.show_review()
    assert not details.isVisible()
    tabs.setCurrentWidget(window.grid)
    assert details.isVisible()
    window.toggle_details_action.trigger()  # turned off: stays off on either tab
    window.curation.show_review()
    tabs.setCurrentWidget(window.grid)
    assert not details.isVisible()
    window.toggle_details_action.trigger()
    assert details.isVisible()
    wait_settled(qtbot, window)
