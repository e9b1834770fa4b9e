"""A typo in a step's label condition: the policy editor warns in its status and under the
conditions, with the class it probably meant (the CLI warning: test_cli_trial_fixes.py)."""

from __future__ import annotations

import pytest

from genaug_desktop.gui.policy_editor import PolicyEditor

TYPO = {"schema_version": 2, "modality": "image", "preprocess": [],
        "steps": [{"op": "hflip", "p": 1.0, "when": {"label": {"in": ["circel"]}}}]}


@pytest.fixture
def editor(qtbot) -> PolicyEditor:
    ed = PolicyEditor("image")
    qtbot.addWidget(ed)
    ed.resize(1280, 520)
    ed.show()
    ed.new_policy()
    return ed


def test_editor_warns_about_a_label_the_dataset_does_not_have(editor):
    editor.set_classes(["circle", "square", "triangle"])
    editor.edit("Load", TYPO, [("steps", 0)])
    editor.select_path(("steps", 0))
    assert editor.status_label.text() == "⚠ label 'circel' is not a class of this dataset; did you mean 'circle'?"
    summary = editor.conditions_form.summary_label.text()
    assert "Runs only when label in {circel}" in summary and "did you mean 'circle'?" in summary
    fixed = {**TYPO, "steps": [{**TYPO["steps"][0], "when": {"label": {"in": ["circle"]}}}]}
    editor.edit("Fix", fixed, [("steps", 0)])
    assert editor.status_label.text().startswith("✓ valid")


def test_without_known_classes_the_editor_does_not_guess(editor):
    editor.edit("Load", TYPO, [("steps", 0)])
    assert editor.status_label.text().startswith("✓ valid")
