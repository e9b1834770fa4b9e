"""The user guide says what the app does: the generators it lists exist (and every built-in one
is named), the engine setting applies when the Preferences dialog says it does, and a clicked
problem is described as what the details panel shows."""

from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "user-guide.md"


def _section(number: int) -> str:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(f"\n## {number}. ")
    end = text.find("\n## ", start + 5)
    return " ".join(text[start:end if end > 0 else None].split())


def test_the_generators_section_names_exactly_the_builtin_generators():
    from genaug_desktop.core.generators.registry import registry

    builtin = {e.name: e.modality for e in registry().values() if e.source == "built-in"}
    section = _section(8)
    named = set(re.findall(r"`([a-z][a-z0-9_]*)`", section)) - {"genaug"}
    assert named == set(builtin), (named, builtin)
    assert "VAE or GAN" not in section  # a GAN is not built in; the guide says how to add one


def test_the_preferences_section_says_when_the_engine_applies_as_the_dialog_does():
    from genaug_desktop.gui import preferences, settings

    section = _section(11)
    assert "engine applies from the next augmentation, filter or export" in section
    assert "the worker count applies after a restart" in section
    dialog = Path(preferences.__file__).read_text(encoding="utf-8")
    assert "Engine: applies from the next augmentation, filter or export." in dialog
    # and it is true: every batch job reads the setting when it starts
    assert "def job_engine" in Path(settings.__file__).read_text(encoding="utf-8")
    gui = Path(preferences.__file__).parent
    for name in ("augment_dialog.py", "export_dialog.py", "rules_panel.py"):
        assert "AppSettings().job_engine()" in (gui / name).read_text(encoding="utf-8"), name


def test_the_browse_section_says_what_clicking_a_problem_shows():
    assert "click one and the details panel shows the problem's path and reason" in _section(2)
