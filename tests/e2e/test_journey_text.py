"""The full journey with the bundled sample texts, through the real main window's widgets:
open the sample -> create a project -> build a policy -> augment -> approve a rule and filter ->
review with the keyboard -> export as JSON Lines -> check the export against its manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from journey_helpers import (  # noqa: F401  (isolated_settings, journey_window, no_leftovers: fixtures)
    add_op_from_palette,
    edit_step_param,
    isolated_settings,
    journey_window,
    no_leftovers,
    run_journey,
    wait_until,
)

pytestmark = pytest.mark.slow  # each journey takes 5-20 s


def test_text_journey(qtbot, journey_window, tmp_path: Path) -> None:
    def build(editor) -> None:
        add_op_from_palette(qtbot, editor, "swap words", "random_word_swap")
        add_op_from_palette(qtbot, editor, "keyboard", "keyboard_typo")
        # The first step's share of words, typed into its spin box.
        edit_step_param(qtbot, editor, 0, "aug_word_p", 0.5, lambda field: field.spin)
        assert [s["op"] for s in editor.document["steps"]] == ["random_word_swap", "keyboard_typo"]
        wait_until(qtbot, lambda: editor.document["steps"][0]["params"]["aug_word_p"] == 0.5, "the edited share")

    manifest = run_journey(qtbot, journey_window, tmp_path, "texts", build, "jsonl")
    assert manifest["image"] is None
