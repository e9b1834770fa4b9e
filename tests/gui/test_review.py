"""The review panel on real projects: the keyboard flow persists every decision at once, undo and
redo restore the database (a rule's rejection included), bulk decisions, "accept all that passed",
filters, badges and counters. Decisions are read back through a sqlite3 connection of our own."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox

from genaug_desktop.core.rules import run_filter
from genaug_desktop.core.store.project import Project
from genaug_desktop.gui.review import ReviewPanel
from genaug_desktop.gui.review_models import (
    BadgeRole,
    CandidateIdRole,
    HintRole,
    ReasonRole,
    ReviewCounts,
    ReviewFilter,
    RuleRole,
)
from genaug_desktop.gui.thumbnails import ThumbnailCache
from review_helpers import approve_length_rule, db_states, make_image_project, make_text_project


@pytest.fixture
def text_path(tmp_path: Path) -> Path:
    return make_text_project(tmp_path / "t")


@pytest.fixture
def cache(qapp):
    c = ThumbnailCache(workers=1)
    yield c
    c.shutdown()


@pytest.fixture
def open_project():
    opened: list[Project] = []

    def open_(path: Path) -> Project:
        project = Project.open(str(path))
        opened.append(project)
        return project

    yield open_
    for p in opened:
        p.close()


def make_panel(qtbot, cache: ThumbnailCache, project: Project) -> ReviewPanel:
    panel = ReviewPanel(cache)
    qtbot.addWidget(panel, before_close_func=lambda p: p.shutdown())  # also when a test fails half-way
    panel.resize(1000, 700)
    panel.show()
    panel.set_project(project)
    qtbot.waitUntil(lambda: panel.is_settled() and panel.model.rowCount() > 0, timeout=10000)
    panel.activateWindow()
    panel.view.setFocus()
    return panel


def settle(qtbot, panel: ReviewPanel) -> None:
    qtbot.waitUntil(panel.is_settled, timeout=10000)
    panel.shutdown()


def current_id(panel: ReviewPanel) -> int:
    return panel.view.currentIndex().data(CandidateIdRole)


def test_keyboard_flow_persists_each_decision_at_once(qtbot, cache, open_project, text_path: Path) -> None:
    panel = make_panel(qtbot, cache, open_project(text_path))
    assert current_id(panel) == 1
    assert panel.counts_label.toolTip().startswith("0 of 12 reviewed")

    qtbot.keyClick(panel.view, Qt.Key.Key_A)
    # Committed before the key press returned: another connection sees it without any event processing.
    assert db_states(text_path)[1] == ("accepted", "person", None)
    assert current_id(panel) == 2  # moved on
    qtbot.keyClick(panel.view, Qt.Key.Key_R)
    assert db_states(text_path)[2] == ("rejected", "person", None)
    assert current_id(panel) == 3
    qtbot.keyClick(panel.view, Qt.Key.Key_Space)  # skip without deciding
    assert current_id(panel) == 4 and db_states(text_path)[3][0] == "pending"
    qtbot.keyClick(panel.view, Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier)
    assert current_id(panel) == 3
    qtbot.keyClick(panel.view, Qt.Key.Key_Right)
    assert current_id(panel) == 4
    qtbot.keyClick(panel.view, Qt.Key.Key_Left)
    qtbot.keyClick(panel.view, Qt.Key.Key_Left)
    assert current_id(panel) == 2
    qtbot.keyClick(panel.view, Qt.Key.Key_A)  # a person changes their mind: rejected -> accepted
    assert db_states(text_path)[2] == ("accepted", "person", None)

    states = db_states(text_path)
    assert [states[i][0] for i in (1, 2, 3, 4)] == ["accepted", "accepted", "pending", "pending"]
    assert panel.model.counts.accepted == 2 and panel.model.counts.reviewed == 2
    assert panel.counts_label.toolTip().startswith("2 of 12 reviewed · 2 accepted · 0 rejected")
    index = panel.model.index(panel.model.row_of_id(1))
    assert index.data(BadgeRole) == "accepted"
    # The decision log holds every change, in order.
    with Project.open(str(text_path)) as other:
        log = other.query("SELECT candidate_id, status, previous FROM decisions ORDER BY id")
    assert log == [(1, "accepted", "pending"), (2, "rejected", "pending"), (2, "accepted", "rejected")]
    settle(qtbot, panel)


def test_undo_and_redo_restore_the_database(qtbot, cache, open_project, text_path: Path) -> None:
    panel = make_panel(qtbot, cache, open_project(text_path))
    qtbot.keyClick(panel.view, Qt.Key.Key_A)
    qtbot.keyClick(panel.view, Qt.Key.Key_R)
    assert panel.undo_stack.count() == 2

    qtbot.keyClick(panel.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert db_states(text_path)[2][0] == "pending"
    assert db_states(text_path)[1][0] == "accepted"
    qtbot.keyClick(panel.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    # Undecided again, not "pending by a person": the filter checks it like any other candidate.
    assert db_states(text_path)[1] == ("pending", None, None)
    assert db_states(text_path)[2] == ("pending", None, None)
    assert panel.model.counts.reviewed == 0
    assert panel.model.index(0).data(BadgeRole) == "pending"

    redo = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(panel.view, Qt.Key.Key_Z, redo)
    assert db_states(text_path)[1] == ("accepted", "person", None)
    qtbot.keyClick(panel.view, Qt.Key.Key_Z, redo)
    assert db_states(text_path)[2] == ("rejected", "person", None)
    assert not panel.undo_stack.canRedo()
    assert panel.model.counts.accepted == 1 and panel.model.counts.rejected == 1
    # The buttons do the same.
    panel.undo_button.click()
    assert db_states(text_path)[2][0] == "pending"
    panel.redo_button.click()
    assert db_states(text_path)[2][0] == "rejected"
    settle(qtbot, panel)


def test_undo_of_an_override_restores_the_rule_rejection(qtbot, cache, open_project, text_path: Path) -> None:
    project = open_project(text_path)
    approve_length_rule(project)
    result = run_filter(project)
    assert sorted(result.rejected_ids) == [9, 10]  # "Ok." and "Bad"
    before = project.query("SELECT status, reason, rule_id, measured, decided_by FROM candidates WHERE id = 9")[0]
    panel = make_panel(qtbot, cache, project)
    index = panel.model.index(panel.model.row_of_id(9))
    assert index.data(BadgeRole) == "rule" and index.data(RuleRole) == "length"
    assert "shorter than" in index.data(ReasonRole)

    assert panel.select_id(9)
    qtbot.keyClick(panel.view, Qt.Key.Key_A)  # the person overrides the rule
    assert db_states(text_path)[9] == ("accepted", "person", None)
    panel.undo()
    after = project.query("SELECT status, reason, rule_id, measured, decided_by FROM candidates WHERE id = 9")[0]
    assert after == before  # rule id, reason and measured value are back
    assert panel.model.index(panel.model.row_of_id(9)).data(BadgeRole) == "rule"
    panel.redo()
    assert db_states(text_path)[9] == ("accepted", "person", None)
    settle(qtbot, panel)


def test_bulk_decisions_on_a_selection_undo_as_one(qtbot, cache, open_project, text_path: Path) -> None:
    panel = make_panel(qtbot, cache, open_project(text_path))
    selection = QItemSelection(panel.model.index(2), panel.model.index(5))
    panel.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert panel.selected_ids() == [3, 4, 5, 6]
    qtbot.keyClick(panel.view, Qt.Key.Key_R)
    states = db_states(text_path)
    assert [states[i][0] for i in (3, 4, 5, 6)] == ["rejected"] * 4
    assert states[2][0] == states[7][0] == "pending"
    assert panel.undo_stack.count() == 1 and panel.undo_stack.undoText() == "Reject 4 candidates"
    panel.accept_button.click()  # the same selection, by the button
    assert [db_states(text_path)[i][0] for i in (3, 4, 5, 6)] == ["accepted"] * 4
    panel.undo()
    assert [db_states(text_path)[i][0] for i in (3, 4, 5, 6)] == ["rejected"] * 4
    panel.undo()
    assert [db_states(text_path)[i][0] for i in (3, 4, 5, 6)] == ["pending"] * 4
    settle(qtbot, panel)


def test_accept_all_that_passed_asks_first(qtbot, cache, open_project, text_path: Path, monkeypatch) -> None:
    project = open_project(text_path)
    approve_length_rule(project)
    run_filter(project, candidate_ids=list(range(1, 11)))  # 11 and 12 stay unchecked
    panel = make_panel(qtbot, cache, project)
    asked: list[str] = []

    def answer(button):
        def question(_parent, _title, text, *_args):
            asked.append(text)
            return button
        return staticmethod(question)

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    assert panel.accept_all_passed() == 0
    assert all(s[0] == "pending" for i, s in db_states(text_path).items() if i not in (9, 10))

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    panel.accept_passed_button.click()
    assert "Accept 8 pending candidates that passed the 1 approved rule?" in asked[-1]
    assert "2 other pending candidates the current rules have not checked stay pending" in asked[-1]
    states = db_states(text_path)
    assert all(states[i] == ("accepted", "person", None) for i in range(1, 9))
    assert states[9] == states[10] == ("rejected", "rule", "length")
    assert states[11][0] == states[12][0] == "pending"
    assert panel.model.counts.accepted == 8
    panel.undo()
    assert all(db_states(text_path)[i][0] == "pending" for i in range(1, 9))
    settle(qtbot, panel)


def test_accept_all_that_passed_without_rules_says_why(qtbot, cache, open_project, text_path: Path, monkeypatch) -> None:
    panel = make_panel(qtbot, cache, open_project(text_path))
    notices: list[tuple[str, str]] = []
    panel.notice.connect(lambda level, text: notices.append((level, text)))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a: pytest.fail("must not ask")))
    assert panel.accept_all_passed() == 0
    assert notices and "No rule is approved yet" in notices[-1][1]
    settle(qtbot, panel)


def test_filters_by_status_origin_class_rule_and_round(qtbot, cache, open_project, text_path: Path) -> None:
    project = open_project(text_path)
    approve_length_rule(project)
    run_filter(project)
    project.decide([1], "accepted")
    project.decide([2], "rejected", "off topic")
    panel = make_panel(qtbot, cache, project)

    def shown() -> list[int]:
        return panel.model.visible_ids()

    assert shown() == list(range(1, 13))
    panel.set_status_filter("rejected_rule")
    assert shown() == [9, 10]
    panel.set_status_filter("rejected_person")
    assert shown() == [2]
    assert panel.model.index(0).data(ReasonRole) == "off topic"
    panel.set_status_filter("rejected")
    assert shown() == [2, 9, 10]
    panel.set_status_filter("accepted")
    assert shown() == [1]
    assert panel.shown_label.text() == "1 shown"
    panel.set_status_filter(None)

    assert panel.rule_combo.isEnabled()
    panel.set_rule_filter("length")
    assert shown() == [9, 10]
    panel.set_rule_filter(None)
    assert panel.origin_combo.isVisibleTo(panel) and panel.round_combo.isVisibleTo(panel)
    panel.origin_combo.setCurrentIndex(panel.origin_combo.findData("generator"))
    assert shown() == [11, 12]
    panel.round_combo.setCurrentIndex(panel.round_combo.findData(2))
    assert shown() == [12]
    panel.origin_combo.setCurrentIndex(0)
    panel.round_combo.setCurrentIndex(0)
    panel.set_class_filter("negative")
    assert shown() == [2, 5, 8]
    panel.set_status_filter("pending")
    assert shown() == [5, 8]
    # A decision keeps the card in view (with its new badge) until the filter changes.
    panel.select_id(5)
    qtbot.keyClick(panel.view, Qt.Key.Key_A)
    assert shown() == [5, 8] and panel.model.index(0).data(BadgeRole) == "accepted"
    panel.set_class_filter(None)  # any filter change applies the filters again
    assert 5 not in shown() and 8 in shown()
    settle(qtbot, panel)


def test_show_ids_narrows_the_grid_with_hints_and_a_banner(qtbot, cache, open_project, text_path: Path) -> None:
    panel = make_panel(qtbot, cache, open_project(text_path))
    panel.show_ids([3, 9], "Dry run: what rule x would reject", {3: "would reject: too short", 9: "would reject: no"})
    assert panel.model.visible_ids() == [3, 9]
    assert panel.banner.isVisibleTo(panel) and "rule x" in panel.banner_label.text()
    assert panel.model.index(0).data(HintRole) == "would reject: too short"
    panel.set_status_filter("pending")  # other filters combine with the ids
    assert panel.model.visible_ids() == [3, 9]
    panel.banner_clear.click()
    assert not panel.banner.isVisibleTo(panel)
    assert len(panel.model.visible_ids()) == 12
    settle(qtbot, panel)


def test_badges_and_counts_text() -> None:
    from collections import Counter

    counts = ReviewCounts(Counter({"pending": 688, "accepted": 280, "rejected": 20, "rule": 12}))
    assert counts.text() == "312 of 1,000 reviewed · 280 accepted · 32 rejected (12 by rules)"
    assert counts.text(1) == "312 of 1,000 reviewed · 280 accepted · 32 rejected"
    assert counts.text(0) == "312 of 1,000 reviewed"
    assert ReviewCounts().text() == "No candidates"
    assert not ReviewFilter().is_filtering and ReviewFilter(ids=frozenset()).is_filtering


def test_cards_paint_with_badges(qtbot, cache, open_project, tmp_path: Path) -> None:
    path = make_image_project(tmp_path / "i")
    project = open_project(path)
    from genaug_desktop.core.rules import add_rule, approve_rules

    add_rule(project, "image_not_blank", {"min_std": 2.0}, rule_id="not_blank")
    approve_rules(project, ["not_blank"])
    assert run_filter(project).rejected_ids == [7]
    project.decide([1], "accepted")
    project.decide([2], "rejected")
    panel = make_panel(qtbot, cache, project)
    qtbot.waitUntil(lambda: cache.pending() == 0 and all(
        cache.has(panel.model.review_row(r).path, panel.model.thumbnail_size) for r in range(panel.model.rowCount())),
        timeout=20000)
    badges = [panel.model.index(r).data(BadgeRole) for r in range(panel.model.rowCount())]
    assert badges == ["accepted", "rejected", "pending", "pending", "pending", "pending", "rule"]
    image = panel.view.viewport().grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20  # thumbnails, badges and borders, not a blank grid
    settle(qtbot, panel)


def test_plain_dataset_shows_a_hint(qtbot, cache) -> None:
    panel = ReviewPanel(cache)
    qtbot.addWidget(panel)
    panel.show()
    panel.set_project(None)
    assert panel.stack.currentWidget() is panel.empty_label
    assert "needs a project" in panel.empty_label.text()
    assert not panel.accept_action.isEnabled()
    panel.shutdown()


def test_new_candidates_are_added_while_a_job_stores_them(qtbot, cache, open_project, text_path: Path) -> None:
    project = open_project(text_path)
    panel = make_panel(qtbot, cache, project)
    panel.set_status_filter("pending")
    qtbot.keyClick(panel.view, Qt.Key.Key_A)  # the person is at work: nothing they see may be lost
    item = project.items()[3]
    new = project.add_candidates([{"origin": "augmentation", "source": item.key, "label": item.label,
                                   "text": f"{item.text} Again.", "provenance": {}} for _ in range(3)])
    panel.candidates_added(new)
    qtbot.waitUntil(lambda: panel.is_settled() and panel.model.rowCount() == 15, timeout=10000)
    assert panel.model.visible_ids()[-3:] == new
    assert current_id(panel) == 2  # still where the person was
    assert panel.model.index(0).data(BadgeRole) == "accepted"  # the decision is still shown
    assert panel.model.counts.total == 15 and panel.model.counts.pending == 14

    # The filter rejects some in the background: only those cards change.
    approve_length_rule(project)
    result = run_filter(project)
    panel.show_changes(result.rejected_ids)
    assert [panel.model.index(panel.model.row_of_id(i)).data(BadgeRole) for i in (9, 10)] == ["rule", "rule"]
    assert panel.rule_combo.findData("length") > 0
    settle(qtbot, panel)


def test_the_key_reminder_shows_whole_or_not_at_all(qtbot, cache, open_project, text_path: Path) -> None:
    """At every width the reminder of the keys is either hidden or wide enough for its text (it
    used to be shown a few pixels short, its first letters cut off)."""
    from PySide6.QtWidgets import QApplication

    panel = make_panel(qtbot, cache, open_project(text_path))
    settle(qtbot, panel)
    label = panel.keys_label
    shown = hidden = 0
    for width in range(560, 1000, 6):
        panel.resize(width, 700)
        QApplication.processEvents()
        if label.isVisible():
            shown += 1
            assert label.width() >= label.sizeHint().width(), (width, label.width(), label.sizeHint().width())
        else:
            hidden += 1
    assert shown and hidden  # both cases were seen
