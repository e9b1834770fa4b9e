"""The rules panel on a real project: propose -> dry run counts -> browse -> edit thresholds ->
approve -> the filter rejects exactly what the dry run said; disable with release; dismiss."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from genaug_desktop.core.rules import dry_run, get_rule, list_rules
from genaug_desktop.core.store.project import Project
from genaug_desktop.gui.rules_panel import RulesPanel
from review_helpers import approve_length_rule, db_states, make_text_project


@pytest.fixture
def project(tmp_path: Path):
    path = make_text_project(tmp_path / "t")
    p = Project.open(str(path))
    yield p
    p.close()


@pytest.fixture
def panel(qtbot):
    w = RulesPanel()
    # pytest-qt closes its widgets before fixtures end: stop the panel's jobs and timers then.
    qtbot.addWidget(w, before_close_func=lambda panel: panel.shutdown())
    w.resize(1100, 420)
    w.show()
    return w


def settled(qtbot, panel: RulesPanel) -> None:
    qtbot.waitUntil(panel.is_settled, timeout=20000)


def test_propose_dry_run_approve_then_filter_rejects_the_right_ones(qtbot, panel: RulesPanel, project: Project) -> None:
    notices: list[tuple[str, str]] = []
    panel.notice.connect(lambda level, text: notices.append((level, text)))
    panel.set_project(project)
    assert panel.stack.currentWidget() is panel.empty and "Propose Rules" in panel.empty.text()

    window_progress: list[object] = []
    panel.progress_changed.connect(window_progress.append)
    panel.propose_button.click()
    qtbot.waitUntil(lambda: panel.model.rowCount() > 0, timeout=20000)
    settled(qtbot, panel)
    assert any("Proposed" in text for _l, text in notices)
    assert window_progress == []  # the window shows progress_changed as "Filter: …"; proposing is not filtering
    rules = list_rules(project)
    assert [r.id for r in panel.model.rules] == [r.id for r in rules]
    assert {r.state for r in rules} == {"proposed"}  # nothing approved by itself
    # The survey: each rule's "would reject" equals a core dry run of that rule alone.
    for rule in rules:
        assert panel.model.would[rule.id] == len(dry_run(project, [rule]).rejections), rule.id

    assert panel.select_rule("length_words")
    expected = dry_run(project, ["length_words"]).rejected_ids("length_words")
    assert expected == [9, 10]
    assert "would reject 2</b> of 12 pending candidates" in panel.dry_label.text()
    browsed: list[tuple[list[int], str, dict]] = []
    panel.browse_requested.connect(lambda ids, title, hints: browsed.append((ids, title, hints)))
    panel.browse_button.click()
    ids, title, hints = browsed[-1]
    assert ids == expected and "length_words" in title and hints[9].startswith("would reject: 1 words")

    # Edit the thresholds: a new dry run of the edited rule (debounced, in the background).
    field = panel._form.field("range")
    field.low_spin.setValue(10)
    assert panel.model.edited == {"length_words"}
    settled(qtbot, panel)
    edited = get_rule(project, "length_words").copy(values={"unit": "words", "range": [10, 11]})
    wanted = dry_run(project, [edited]).rejected_ids("length_words")
    assert len(wanted) > 2
    assert f"would reject {len(wanted)}</b>" in panel.dry_label.text()
    assert panel.revert_button.isVisible()
    panel.revert_button.click()
    assert not panel.model.edited and panel._form.values()["range"] == [8, 11]
    assert "would reject 2</b>" in panel.dry_label.text()

    panel.approve_button.click()
    assert get_rule(project, "length_words").state == "approved"
    assert panel.model.rule(panel.model.row_of("length_words")).state == "approved"
    filtered: list[object] = []
    panel.filtered.connect(filtered.append)
    assert panel.run_filter()
    qtbot.waitUntil(lambda: bool(filtered), timeout=20000)
    settled(qtbot, panel)
    states = db_states(Path(project.path))
    rejected = sorted(i for i, s in states.items() if s[0] == "rejected")
    assert rejected == expected
    assert all(states[i] == ("rejected", "rule", "length_words") for i in expected)
    assert panel.model.rejected == {"length_words": 2}
    assert any(text.startswith("Filter: checked 12 pending candidates with 1 approved rules: rejected 2")
               for _l, text in notices)


def test_saving_edited_thresholds_and_dismissing(qtbot, panel: RulesPanel, project: Project) -> None:
    from genaug_desktop.core.rules import propose_rules, save_proposals

    save_proposals(project, propose_rules(project))
    panel.set_project(project)
    settled(qtbot, panel)
    panel.select_rule("length_chars")
    panel._form.field("range").high_spin.setValue(80)
    assert panel.save_button.isVisible() and panel.approve_button.text() == "Save and Approve"
    panel.save_button.click()
    saved = get_rule(project, "length_chars")
    assert saved.values["range"][1] == 80 and saved.state == "proposed"
    assert "Edited: range" in saved.explanation
    assert not panel.model.edited

    panel.select_rule("script")
    assert panel.dismiss_button.isEnabled()
    panel.dismiss_button.click()
    assert "script" not in [r.id for r in list_rules(project)]
    assert panel.model.row_of("script") is None


def test_disable_can_release_what_the_rule_rejected(qtbot, panel: RulesPanel, project: Project, monkeypatch) -> None:
    from genaug_desktop.core.rules import run_filter

    approve_length_rule(project)
    run_filter(project)
    panel.set_project(project)
    settled(qtbot, panel)
    panel.select_rule("length")
    assert not panel.dismiss_button.isEnabled()  # it rejected candidates: disable instead
    assert panel.model.rejected == {"length": 2}
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a: QMessageBox.StandardButton.Yes))
    changed: list[object] = []
    panel.filtered.connect(changed.append)
    panel.disable_button.click()
    assert get_rule(project, "length").state == "disabled"
    states = db_states(Path(project.path))
    assert states[9][0] == states[10][0] == "pending"
    assert changed == [None]  # the window refreshes the review grid on this


def test_filter_without_approved_rules_does_nothing(qtbot, panel: RulesPanel, project: Project) -> None:
    panel.set_project(project)
    assert not panel.run_filter()
    assert not panel.is_filtering
    panel.set_project(None)
    assert panel.stack.currentWidget() is panel.empty and "Open a project" in panel.empty.text()
    assert not panel.propose_button.isEnabled()


def test_decisions_lower_the_would_reject_counts_without_a_new_survey(qtbot, panel: RulesPanel,
                                                                       project: Project) -> None:
    from genaug_desktop.core.rules import propose_rules, save_proposals

    save_proposals(project, propose_rules(project))
    panel.set_project(project)
    settled(qtbot, panel)
    assert panel.model.would["length_words"] == 2
    panel.select_rule("length_words")
    project.decide([9], "accepted")  # a person keeps one of the two
    panel.note_decided([9])
    assert panel.is_settled()  # no dry run needed
    assert panel.model.would["length_words"] == 1
    assert "would reject 1</b> of 11 pending candidates" in panel.dry_label.text()
    browsed: list[list[int]] = []
    panel.browse_requested.connect(lambda ids, _title, _hints: browsed.append(ids))
    panel.browse_button.click()
    assert browsed == [[10]]
    assert panel.model.would["length_words"] == len(dry_run(project, ["length_words"]).rejections)
    # Undo makes it undecided again (core decide with decided_by=None): the filter would check it,
    # so the dry run counts it again.
    project.decide([9], "pending", None, None)
    panel.note_decided([9])
    assert panel.model.would["length_words"] == 2
    assert "would reject 2</b> of 12 pending candidates" in panel.dry_label.text()
    assert panel.model.would["length_words"] == len(dry_run(project, ["length_words"]).rejections)


def test_a_rule_without_thresholds_shows_no_form_and_no_stray_window(qtbot, panel: RulesPanel, project: Project) -> None:
    """ParamForm shows its "No parameters." label before it has a parent: for a rule without
    thresholds that flashed a window of its own and took the focus from the main window."""
    from PySide6.QtWidgets import QApplication

    from genaug_desktop.core.rules import add_rule

    add_rule(project, "text_not_empty", {}, rule_id="not_empty")
    add_rule(project, "text_length", {"unit": "chars", "range": [5, 500]}, rule_id="length")
    panel.set_project(project)
    settled(qtbot, panel)
    before = {id(w) for w in QApplication.topLevelWidgets()}
    for rule_id in ("not_empty", "length", "not_empty"):
        assert panel.select_rule(rule_id)
        assert (panel._form is None) == (rule_id == "not_empty")
    windows = [w for w in QApplication.topLevelWidgets() if id(w) not in before and w.isVisible()]
    assert not windows, [type(w).__name__ for w in windows]
    assert panel._form is None and panel.approve_button.isEnabled()
    panel.approve_button.click()
    assert get_rule(project, "not_empty").state == "approved"
