"""Help > Keyboard Shortcuts: read from the window's actions, complete, searchable, no clashes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence

from genaug_desktop.gui.main_window import MainWindow
from genaug_desktop.gui.shortcuts import ShortcutsDialog, collect_shortcuts, key_texts, window_conflicts
from gui_helpers import wait_loaded


def _listed(dialog: ShortcutsDialog) -> dict[int, tuple[str, ...]]:
    return {id(e.action): e.keys for e in dialog.entries if e.action is not None}


def test_lists_every_action_with_a_shortcut(qtbot, make_window) -> None:
    window: MainWindow = make_window()
    dialog = ShortcutsDialog(window, window)
    qtbot.addWidget(dialog)
    listed = _listed(dialog)
    with_keys = [a for a in window.findChildren(QAction) if key_texts(a)]
    assert with_keys and all(id(a) in listed for a in with_keys)
    names = {(e.section, e.name): e.keys for e in dialog.entries}
    assert names[("File", "Open Dataset")][0] == QKeySequence("Ctrl+O").toString(QKeySequence.SequenceFormat.NativeText)
    assert names[("Edit", "Preferences")] == ("Ctrl+,",)
    assert names[("Help", "Keyboard Shortcuts")] == ("Ctrl+/",)
    # Keys of multimedia keyboards ("Open", "Zoom In") are not listed beside Ctrl+O and Ctrl++.
    assert all("+" in k or len(k) <= 11 for e in dialog.entries for k in e.keys)
    assert "Open" not in names[("File", "Open Dataset")]


def test_search_filters_by_name_key_and_description(qtbot, make_window) -> None:
    window: MainWindow = make_window()
    dialog = ShortcutsDialog(window, window)
    qtbot.addWidget(dialog)
    total = len(dialog.entries)
    assert dialog.count_label.text() == f"{total} shortcuts"
    qtbot.keyClicks(dialog.search, "thumbnails grids")  # every word must match
    assert {e.name for e in dialog.visible_entries()} == {"Larger Thumbnails", "Smaller Thumbnails"}
    assert dialog.count_label.text() == f"2 of {total} shortcuts"
    dialog.search.setText("ctrl+e")
    assert [e.name for e in dialog.visible_entries()] == ["Export"]
    dialog.search.setText("manifest")  # a word of the status tip
    assert [e.name for e in dialog.visible_entries()] == ["Export"]
    dialog.search.setText("no such thing")
    assert dialog.visible_entries() == [] and dialog.count_label.text() == "No shortcut matches"
    sections = dialog._sections
    assert all(item.isHidden() for item in sections.values())
    dialog.search.clear()
    assert len(dialog.visible_entries()) == total


def test_workspace_shortcuts_appear_once_a_dataset_is_open(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    before = {(e.section, e.name) for e in collect_shortcuts(window)}
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.augmentation is not None and window.augmentation.has_editor, timeout=20_000)
    assert window.generators is not None  # (builds the panels still pending)
    entries = collect_shortcuts(window)
    after = {(e.section, e.name) for e in entries}
    assert {("Policy", "Augment"), ("Review", "Accept"), ("Review", "Reject"), ("View", "Generators"),
            ("Review", "Next candidate"), ("Policy editor", "Duplicate")} <= after - before
    accept = next(e for e in entries if e.name == "Accept")
    assert accept.keys == ("A",) and accept.scope == "panel"
    # Two window-wide actions on one key would both be dead: Qt runs neither.
    assert window_conflicts(entries) == {}
    qtbot.waitUntil(window.is_settled, timeout=20_000)


def test_review_keys_are_listed_only_with_a_review_grid(qtbot, make_window) -> None:
    import genaug_desktop.gui.review  # noqa: F401  (loaded, as after another window opened a project)

    window: MainWindow = make_window()
    assert not [e for e in collect_shortcuts(window) if e.section == "Review"]
