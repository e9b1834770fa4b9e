"""The full journey with the bundled sample texts, through the real main window's widgets:
open the sample -> create a project -> build a policy -> augment -> approve a rule and filter ->
review with the keyboard -> export as JSON Lines -> check the export against its manifest."""

from __future__ import annotations

from pathlib import Path

from journey_helpers import (  # noqa: F401  (isolated_settings, journey_window, no_leftovers: fixtures)
    Stages,
    add_op_from_palette,
    approve_a_rule_and_filter,
    augment_from_editor,
    check_journey_export,
    click_index,
    export_through_dialog,
    isolated_settings,
    journey_window,
    new_policy,
    no_leftovers,
    open_sample_from_welcome,
    review_with_keyboard,
    set_spin,
    tree_hashes,
    wait_for_editor,
    wait_until,
)

from genaug_desktop.gui.resources import sample_texts_file


def test_text_journey(qtbot, journey_window, tmp_path: Path) -> None:
    window = journey_window
    stages = Stages(tmp_path / "screens")
    dataset = sample_texts_file()
    before = tree_hashes(dataset)

    open_sample_from_welcome(qtbot, window, "texts")
    assert window.session.state.modality == "text"
    stages.shot(window, "sample-open")

    editor = wait_for_editor(qtbot, window)
    new_policy(qtbot, editor)
    swap = add_op_from_palette(qtbot, editor, "swap words", "random_word_swap")
    add_op_from_palette(qtbot, editor, "keyboard", "keyboard_typo")
    # Change a parameter: the word swap's share of words, typed into its spin box.
    assert swap is not editor.param_form
    click_index(qtbot, editor.steps_view, editor.step_model.index_of(("steps", 0)))
    wait_until(qtbot, lambda: editor.param_form is not None and "aug_word_p" in editor.param_form.fields,
               "the word swap's form")
    set_spin(qtbot, editor.param_form.fields["aug_word_p"].spin, 0.5)
    wait_until(qtbot, lambda: editor.document["steps"][0]["params"]["aug_word_p"] == 0.5, "the edited share")
    assert [s["op"] for s in editor.document["steps"]] == ["random_word_swap", "keyboard_typo"]
    assert editor.status_label.text().startswith("✓ valid"), editor.status_label.text()
    stages.shot(window, "policy-built")

    made = augment_from_editor(qtbot, window, tmp_path / "reviews.genaug", per_item=2, stages=stages)
    assert made > 0
    stages.shot(window, "augmented")

    approve_a_rule_and_filter(qtbot, window, stages)
    decisions = review_with_keyboard(qtbot, window, stages)

    dest = tmp_path / "export"
    result = export_through_dialog(qtbot, window, dest, "jsonl", stages)
    manifest = check_journey_export(window, dest, result, decisions)
    assert manifest["modality"] == "text" and manifest["format"] == "jsonl"
    stages.shot(window, "done")

    assert tree_hashes(dataset) == before, "the source dataset changed"
