"""Help > Keyboard Shortcuts: every shortcut of the window, read from its actions, searchable.

Nothing here is a hand-written list: :func:`collect_shortcuts` walks the menu bar and every action
under the window (panels and docks included) each time the dialog opens, so a shortcut added or
changed anywhere shows up as it is. The review grid's keys that are not actions (Space to move on)
are read from the grid's own key table.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class ShortcutEntry:
    """One shortcut as listed: where it works, what it does, its keys."""

    section: str  # the menu it is in, or the panel it works in
    name: str  # the action's text, without the mnemonic
    keys: tuple[str, ...]  # as shown to the user (native text), first one is the main one
    tip: str  # the status tip: what it does
    scope: str  # "window" (anywhere in the window) or "panel" (when that panel has the focus)
    action: QAction | None = None

    def matches(self, query: str) -> bool:
        query = query.strip().lower()
        if not query:
            return True
        return all(word in f"{self.section} {self.name} {' '.join(self.keys)} {self.tip}".lower()
                   for word in query.split())


def plain_text(text: str) -> str:
    """An action's text as a person reads it: no mnemonic ampersand, no trailing ellipsis."""
    return re.sub(r"&(.)", r"\1", text).rstrip("…").strip()


# Qt.Key_Back and above are the dedicated keys of multimedia keyboards ("Open", "Zoom In"): a
# standard shortcut lists them beside Ctrl+O, but nobody looks for them in this dialog.
_FIRST_SPECIAL_KEY = int(Qt.Key.Key_Back.value)


def key_texts(action: QAction) -> tuple[str, ...]:
    """The action's shortcuts as shown to the user, without the multimedia-keyboard keys."""
    native = QKeySequence.SequenceFormat.NativeText
    keys = []
    for sequence in action.shortcuts():
        if sequence.isEmpty() or sequence[0].key().value >= _FIRST_SPECIAL_KEY:
            continue
        keys.append(sequence.toString(native))
    return tuple(keys)


def _owner_name(action: QAction) -> str:
    """The panel an action belongs to, from its parent widgets: "ReviewPanel" -> "Review panel"."""
    obj = action.parent()
    while obj is not None and not isinstance(obj, QMainWindow):
        if isinstance(obj, QWidget):
            title = obj.windowTitle() if obj.isWindow() else ""
            if title:
                return title
            name = type(obj).__name__.lstrip("_")
            if not name.startswith("Q"):  # an app class, not a bare Qt widget
                words = re.findall(r"[A-Z][a-z0-9]*", name) or [name]
                return " ".join([words[0]] + [w.lower() for w in words[1:]])
        obj = obj.parent()
    return "Window"


def _menu_actions(menu: QMenu, section: str, seen: dict[int, str]) -> None:
    for action in menu.actions():
        if action.isSeparator():
            continue
        seen.setdefault(id(action), section)
        if action.menu() is not None:
            _menu_actions(action.menu(), section, seen)


def collect_shortcuts(window: QMainWindow) -> list[ShortcutEntry]:
    """Every shortcut of *window*'s actions (menu bar first, then the panels'), plus the review keys.

    Panels the window builds when first shown are built first, so their keys are listed too."""
    build_panels = getattr(window, "build_panels", None)
    if callable(build_panels):
        build_panels()
    sections: dict[int, str] = {}
    ordered: list[QAction] = []
    for top in window.menuBar().actions():
        menu = top.menu()
        if menu is not None:
            _menu_actions(menu, plain_text(top.text()), sections)
            ordered.extend(a for a in _all_menu_actions(menu))
    ordered.extend(window.actions())
    ordered.extend(window.findChildren(QAction))
    entries: list[ShortcutEntry] = []
    done: set[int] = set()
    for action in ordered:
        if id(action) in done:
            continue
        done.add(id(action))
        keys = key_texts(action)
        if not keys:
            continue
        widget_scoped = action.shortcutContext() in (Qt.ShortcutContext.WidgetShortcut,
                                                     Qt.ShortcutContext.WidgetWithChildrenShortcut)
        section = sections.get(id(action)) or _owner_name(action)
        entries.append(ShortcutEntry(section, plain_text(action.text()), keys, action.statusTip() or action.toolTip(),
                                     "panel" if widget_scoped else "window", action))
    entries.extend(_review_keys(window, entries))
    return entries


def _all_menu_actions(menu: QMenu) -> list[QAction]:
    found: list[QAction] = []
    for action in menu.actions():
        found.append(action)
        if action.menu() is not None:
            found.extend(_all_menu_actions(action.menu()))
    return found


def _review_keys(window: QMainWindow, entries: list[ShortcutEntry]) -> list[ShortcutEntry]:
    """The review grid's keys that no action carries (moving on), when the window has the grid."""
    review = sys.modules.get("genaug_desktop.gui.review")  # not imported here: loaded with the panel
    grid = getattr(review, "ReviewGridView", None)
    table = getattr(grid, "KEYS", None)
    if not isinstance(table, dict) or not window.findChildren(grid):
        return []
    listed = {key for entry in entries for key in entry.keys}
    grouped: dict[str, list[str]] = {}
    for (key, shifted), what in table.items():
        combo = int(key) | (int(Qt.KeyboardModifier.ShiftModifier.value) if shifted else 0)
        text = QKeySequence(combo).toString(QKeySequence.SequenceFormat.NativeText)
        if text not in listed:
            grouped.setdefault(what, []).append(text)
    names = {"next": ("Next candidate", "Move to the next candidate in the review grid"),
             "previous": ("Previous candidate", "Move to the previous candidate in the review grid")}
    result = []
    for what, keys in grouped.items():
        name, tip = names.get(what, (what.capitalize(), f"{what.capitalize()} in the review grid"))
        result.append(ShortcutEntry("Review", name, tuple(keys), tip, "panel"))
    return result


def window_conflicts(entries: list[ShortcutEntry]) -> dict[str, list[str]]:
    """Keys that two enabled-anywhere (window-wide) actions share: Qt would run neither."""
    by_key: dict[str, list[str]] = {}
    for entry in entries:
        if entry.scope != "window":
            continue
        for key in entry.keys:
            by_key.setdefault(key, []).append(f"{entry.section} > {entry.name}")
    return {key: names for key, names in by_key.items() if len(names) > 1}


class ShortcutsDialog(QDialog):
    """The shortcuts of *window*, grouped by menu or panel, with a search box."""

    def __init__(self, window: QMainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(640, 560)
        self.entries = collect_shortcuts(window)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search: an action, a key (Ctrl+E) or a word of what it does")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.set_filter)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Action", "Shortcut"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self._items: list[tuple[QTreeWidgetItem, ShortcutEntry]] = []
        self._sections: dict[str, QTreeWidgetItem] = {}
        for entry in self.entries:
            section = self._sections.get(entry.section)
            if section is None:
                section = self._sections[entry.section] = QTreeWidgetItem(self.tree, [entry.section])
                font = section.font(0)
                font.setBold(True)
                section.setFont(0, font)
                section.setFirstColumnSpanned(True)
                section.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item = QTreeWidgetItem(section, [entry.name, ", ".join(entry.keys)])
            where = " (when that panel has the keyboard focus)" if entry.scope == "panel" else ""
            item.setToolTip(0, (entry.tip or entry.name) + where)
            item.setToolTip(1, item.toolTip(0))
            self._items.append((item, entry))
        self.tree.expandAll()

        self.count_label = QLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.count_label)
        layout.addWidget(buttons)
        self.set_filter("")
        self.search.setFocus()

    def set_filter(self, query: str) -> None:
        """Show the shortcuts whose action, keys, section or description contain every word."""
        shown = 0
        for item, entry in self._items:
            hit = entry.matches(query)
            item.setHidden(not hit)
            shown += hit
        for section in self._sections.values():
            section.setHidden(all(section.child(i).isHidden() for i in range(section.childCount())))
        total = len(self._items)
        self.count_label.setText(f"{total} shortcuts" if shown == total else
                                 f"{shown} of {total} shortcuts" if shown else "No shortcut matches")

    def visible_entries(self) -> list[ShortcutEntry]:
        return [entry for item, entry in self._items if not item.isHidden()]
