"""The full journey with the bundled sample images, through the real main window's widgets:
open the sample -> create a project -> build a policy -> augment -> approve a rule and filter ->
review with the keyboard -> export -> check the export against its manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from journey_helpers import (  # noqa: F401  (isolated_settings, journey_window, no_leftovers: fixtures)
    Stages,
    StrayWindows,
    add_op_from_palette,
    approve_a_rule_and_filter,
    augment_from_editor,
    click_index,
    check_journey_export,
    export_through_dialog,
    isolated_settings,
    journey_window,
    new_policy,
    no_leftovers,
    open_sample_from_welcome,
    review_with_keyboard,
    set_spin,
    tree_hashes,
    wait_until,
    wait_for_editor,
)

from genaug_desktop.gui.resources import sample_images_dir


def test_image_journey(qtbot, journey_window, tmp_path: Path) -> None:
    window = journey_window
    stages = Stages(tmp_path / "screens")
    dataset = sample_images_dir()
    before = tree_hashes(dataset)

    stages.shot(window, "welcome")
    open_sample_from_welcome(qtbot, window, "images")
    assert window.session.state.modality == "image"
    stages.shot(window, "sample-open")

    editor = wait_for_editor(qtbot, window)
    new_policy(qtbot, editor)
    rotate = add_op_from_palette(qtbot, editor, "rot", "rotate")
    add_op_from_palette(qtbot, editor, "bright", "brightness")
    # Change a parameter of the first step: select it, type a new high end of its angle range.
    click_index(qtbot, editor.steps_view, editor.step_model.index_of(("steps", 0)))
    wait_until(qtbot, lambda: editor.param_form is not None and "angle" in editor.param_form.fields, "rotate's form")
    rotate = editor.param_form
    set_spin(qtbot, rotate.fields["angle"].high_spin, 25)
    steps = editor.document["steps"]
    assert [s["op"] for s in steps] == ["rotate", "brightness"]
    wait_until(qtbot, lambda: editor.document["steps"][0]["params"]["angle"] == [-15.0, 25.0], "the edited angle")
    assert editor.status_label.text().startswith("✓ valid"), editor.status_label.text()
    stages.shot(window, "policy-built")

    project = tmp_path / "shapes.genaug"
    made = augment_from_editor(qtbot, window, project, per_item=2, stages=stages)
    assert made > 0
    stages.shot(window, "augmented")

    approve_a_rule_and_filter(qtbot, window, stages)

    decisions = review_with_keyboard(qtbot, window, stages)

    dest = tmp_path / "export"
    result = export_through_dialog(qtbot, window, dest, "imagefolder", stages)
    check_journey_export(window, dest, result, decisions)
    stages.shot(window, "done")

    assert tree_hashes(dataset) == before, "the source dataset changed"


@pytest.mark.xfail(strict=True, reason="param_form.ParamForm shows its 'No parameters.' label before the label has a "
                   "parent (param_form.py, ParamForm.__init__): adding an op without parameters (Hflip) flashes a "
                   "window and takes the focus from the main window. Not this test's file to fix; strict, so the "
                   "fix makes this test fail and it can go.")
def test_adding_an_op_without_parameters_opens_no_stray_window(qtbot, journey_window) -> None:
    window = journey_window
    open_sample_from_welcome(qtbot, window, "images")
    editor = wait_for_editor(qtbot, window)
    new_policy(qtbot, editor)
    watcher = StrayWindows(window)
    try:
        add_op_from_palette(qtbot, editor, "flip", "hflip")
    finally:
        seen = watcher.stop()
    assert not seen, seen
