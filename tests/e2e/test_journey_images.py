"""The full journey with the bundled sample images, through the real main window's widgets:
open the sample -> create a project -> build a policy -> augment -> approve a rule and filter ->
review with the keyboard -> export as an ImageFolder -> check the export against its manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from journey_helpers import (  # noqa: F401  (isolated_settings, journey_window, no_leftovers: fixtures)
    StrayWindows,
    add_op_from_palette,
    edit_step_param,
    isolated_settings,
    journey_window,
    new_policy,
    no_leftovers,
    open_sample_from_welcome,
    run_journey,
    wait_for_editor,
    wait_until,
)

pytestmark = pytest.mark.slow  # each journey takes 5-20 s


def test_image_journey(qtbot, journey_window, tmp_path: Path) -> None:
    def build(editor) -> None:
        add_op_from_palette(qtbot, editor, "rot", "rotate")
        add_op_from_palette(qtbot, editor, "bright", "brightness")
        # The first step's angle range: a new high end typed into its spin box.
        edit_step_param(qtbot, editor, 0, "angle", 25, lambda field: field.high_spin)
        assert [s["op"] for s in editor.document["steps"]] == ["rotate", "brightness"]
        wait_until(qtbot, lambda: editor.document["steps"][0]["params"]["angle"] == [-15.0, 25.0], "the edited angle")

    manifest = run_journey(qtbot, journey_window, tmp_path, "images", build, "imagefolder")
    assert manifest["image"] is not None


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
