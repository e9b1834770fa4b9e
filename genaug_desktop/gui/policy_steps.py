"""Qt models of the policy editor: the step tree over a policy document, and the op palette.

:class:`PolicyStepModel` adapts a policy document (see ``policy_document``) and never changes it:
check boxes, probability edits and drops become ``edit_requested`` signals that the editor turns
into undoable commands, after which it hands the model the new document.

:class:`OpPaletteModel` lists the registry's ops of one modality by category, pre-processing
last; ops that cannot run here are disabled and say why in their tooltip.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QPalette, QStandardItem, QStandardItemModel

from genaug_desktop.gui import policy_document as pd
from genaug_desktop.gui.colors import ERROR_INK, MUTED_TEXT
from genaug_desktop.gui.preview_render import op_title

AnyIndex = QModelIndex | QPersistentModelIndex

MIME_TYPE = "application/x-genaug-policy-steps"
PathRole = Qt.ItemDataRole.UserRole + 1
KindRole = Qt.ItemDataRole.UserRole + 2  # "section", "op", "group"
OpNameRole = Qt.ItemDataRole.UserRole + 3
SearchRole = Qt.ItemDataRole.UserRole + 4
#: a step's conditions in short (``label not in {6, 9}``), None without ``when``
ConditionRole = Qt.ItemDataRole.UserRole + 5

SECTION_TITLES = {"preprocess": "Pre-processing", "steps": "Random steps"}
SECTION_HELP = {
    "preprocess": "Deterministic clean-up that runs first, in order, on every item (the article's "
                  "regularisation step). Add pre-processing ops from the palette's last group.",
    "steps": "Random transformations, run in order; each runs with its probability p. Group steps to "
             "pick one of them (one of), several (some of) or to run them together (sequence).",
}
GROUP_TITLES = {"one_of": "One of", "some_of": "Some of", "sequence": "Sequence"}
GROUP_HELP = {
    "one_of": "Runs exactly one of its steps, chosen at random with weights given by their p.",
    "some_of": "Runs a random number n of its steps (between the two ends of n), in order.",
    "sequence": "Runs its steps in order, as one unit with one probability.",
}
# The shared colours (switched in place with the theme), read when a row is painted.
MUTED = MUTED_TEXT
PROBLEM = ERROR_INK


def _switched_off_ink() -> QColor:
    """A switched-off step's text: the palette's disabled text, faint in either theme."""
    return QGuiApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)


def group_title(node: dict[str, Any]) -> str:
    kind = pd.group_kind(node) or ""
    title = GROUP_TITLES.get(kind, kind)
    if kind == "some_of":
        lo, hi = node.get("n", [1, 1])
        title += f" {lo}" if lo == hi else f" {lo}–{hi}"
    return f"{title} ({len(pd.children(node))})"


def format_p(p: float) -> str:
    return "1" if p >= 1 else f"{p:.2f}".rstrip("0").rstrip(".") if p > 0 else "0"


class _Node:
    __slots__ = ("parent", "children", "path", "row")

    def __init__(self, parent: _Node | None, path: tuple[Any, ...], row: int) -> None:
        self.parent = parent
        self.children: list[_Node] = []
        self.path = path
        self.row = row


class PolicyStepModel(QAbstractItemModel):
    """Two sections (pre-processing, random steps) with the steps of a policy document as a tree.

    Columns: the step (with an enable check box for random steps) and its probability p.
    ``edit_requested(description, new_document, selected_paths)`` asks the editor for a change.
    """

    edit_requested = Signal(str, object, object)

    COLUMNS = ("Step", "p")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document: pd.Document = pd.empty_document("image")
        self._root = _Node(None, (), 0)
        self._by_path: dict[tuple[Any, ...], _Node] = {}
        #: op name -> why it cannot run here (only unavailable ops are listed)
        self.unavailable: dict[str, str] = {}
        #: the step a validation error points to, and the message
        self.problem: tuple[tuple[Any, ...], str] | None = None
        self._build()

    # ---- the document -------------------------------------------------------------------------------
    def set_document(self, document: pd.Document) -> None:
        """Show *document*; the tree is rebuilt only when its shape changed."""
        same_shape = pd.structure_key(document) == pd.structure_key(self.document)
        if same_shape:
            self.document = document
            self._emit_all_changed(self._root)
            return
        self.beginResetModel()
        self.document = document
        self._build()
        self.endResetModel()

    def set_problem(self, problem: tuple[tuple[Any, ...], str] | None) -> None:
        if problem != self.problem:
            self.problem = problem
            self._emit_all_changed(self._root)

    def _emit_all_changed(self, node: _Node) -> None:
        if node.children:
            first = self.createIndex(0, 0, node.children[0])
            last = self.createIndex(len(node.children) - 1, len(self.COLUMNS) - 1, node.children[-1])
            self.dataChanged.emit(first, last)
            for child in node.children:
                self._emit_all_changed(child)

    def _build(self) -> None:
        self._root = _Node(None, (), 0)
        self._by_path = {}
        for row, section in enumerate(pd.SECTIONS):
            node = _Node(self._root, (section,), row)
            self._root.children.append(node)
            self._by_path[node.path] = node
            self._add_children(node, self.document.get(section, []))

    def _add_children(self, parent: _Node, items: list[dict[str, Any]]) -> None:
        for row, item in enumerate(items):
            node = _Node(parent, parent.path + (row,), row)
            parent.children.append(node)
            self._by_path[node.path] = node
            if pd.group_kind(item):
                self._add_children(node, pd.children(item))

    # ---- lookups ------------------------------------------------------------------------------------
    def index_of(self, path: tuple[Any, ...], column: int = 0) -> QModelIndex:
        node = self._by_path.get(tuple(path))
        if node is None:
            return QModelIndex()
        return self.createIndex(node.row, column, node)

    def path_of(self, index: AnyIndex) -> tuple[Any, ...] | None:
        if not index.isValid():
            return None
        node = index.internalPointer()
        return node.path if isinstance(node, _Node) else None

    def node_of(self, path: tuple[Any, ...]) -> dict[str, Any] | None:
        if len(path) < 2:
            return None
        try:
            return pd.node_at(self.document, path)
        except (IndexError, KeyError, pd.DocumentError):
            return None

    def all_paths(self) -> list[tuple[Any, ...]]:
        return list(self._by_path)

    # ---- Qt model API -------------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = parent.internalPointer() if parent.isValid() else self._root
        if not isinstance(node, _Node) or not 0 <= row < len(node.children) or not 0 <= column < len(self.COLUMNS):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node = index.internalPointer()
        if not isinstance(node, _Node) or node.parent is None or node.parent is self._root:
            return QModelIndex()
        return self.createIndex(node.parent.row, 0, node.parent)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        node = parent.internalPointer() if parent.isValid() else self._root
        return len(node.children) if isinstance(node, _Node) else 0

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole and section == 1:
            return "Probability that the step runs"
        return None

    def _kind(self, path: tuple[Any, ...], item: dict[str, Any] | None) -> str:
        if len(path) == 1:
            return "section"
        return "group" if item is not None and pd.group_kind(item) else "op"

    def _switched_off(self, path: tuple[Any, ...]) -> bool:
        """The step or a group above it is disabled."""
        for depth in range(2, len(path) + 1):
            node = self.node_of(path[:depth])
            if node is not None and node.get("enabled", True) is False:
                return True
        return False

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        path = self.path_of(index)
        if path is None:
            return None
        item = self.node_of(path)
        kind = self._kind(path, item)
        column = index.column()
        if role == PathRole:
            return path
        if role == KindRole:
            return kind
        if kind == "section":
            if role == Qt.ItemDataRole.DisplayRole and column == 0:
                count = len(self.document.get(path[0], []))
                return f"{SECTION_TITLES[path[0]]} ({count})" if count else SECTION_TITLES[path[0]]
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(MUTED)
            if role == Qt.ItemDataRole.ToolTipRole:
                return SECTION_HELP[path[0]]
            return None
        assert item is not None
        random_step = path[0] == "steps"
        name = item.get("op")
        if role == OpNameRole:
            return name
        if role == ConditionRole:
            return pd.when_summary(item, self.document.get("modality", "image")) if column == 0 else None
        problem = self.problem is not None and self.problem[0] == path
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return op_title(name) if kind == "op" else group_title(item)
            return format_p(float(item.get("p", 1.0))) if random_step else ""
        if role == Qt.ItemDataRole.EditRole and column == 1 and random_step:
            return float(item.get("p", 1.0))
        if role == Qt.ItemDataRole.CheckStateRole and column == 0 and random_step:
            return Qt.CheckState.Checked if item.get("enabled", True) else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ForegroundRole:
            if problem or (kind == "op" and name in self.unavailable):
                return QBrush(PROBLEM)
            if random_step and self._switched_off(path):
                return QBrush(_switched_off_ink())
            return None
        if role == Qt.ItemDataRole.FontRole and kind == "group":
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(path, item, kind)
        return None

    def _tooltip(self, path: tuple[Any, ...], item: dict[str, Any], kind: str) -> str:
        lines = []
        if kind == "group":
            lines.append(GROUP_HELP[pd.group_kind(item) or "sequence"])
        else:
            from genaug_desktop.core.ops.base import registry

            cls = registry().get(item.get("op", ""))
            lines.append(f"{item.get('op')}: {cls.help}" if cls is not None else str(item.get("op")))
            params = item.get("params") or {}
            if params:
                lines.append(", ".join(f"{k}={json.dumps(v)}" for k, v in params.items()))
            why = self.unavailable.get(item.get("op", ""))
            if why:
                lines.append(f"Not available here: {why}")
        if path[0] == "steps":
            lines.append(f"p = {format_p(float(item.get('p', 1.0)))}" + ("" if item.get("enabled", True) else " (disabled)"))
            summary = pd.when_summary(item, self.document.get("modality", "image"))
            if summary:
                lines.append(f"Runs only when {summary}; otherwise the step is skipped (and the chain says so)")
        if self.problem is not None and self.problem[0] == path:
            lines.append(f"Problem: {self.problem[1]}")
        return "\n".join(lines)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        path = self.path_of(index)
        if path is None:
            return Qt.ItemFlag.ItemIsDropEnabled
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if len(path) == 1:
            return base | Qt.ItemFlag.ItemIsDropEnabled
        item = self.node_of(path)
        flags = base | Qt.ItemFlag.ItemIsDragEnabled
        if path[0] == "steps":
            if index.column() == 0:
                flags |= Qt.ItemFlag.ItemIsUserCheckable
            else:
                flags |= Qt.ItemFlag.ItemIsEditable
        if item is not None and pd.group_kind(item):
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        return flags

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        path = self.path_of(index)
        if path is None or len(path) < 2 or path[0] != "steps":
            return False
        item = self.node_of(path)
        if item is None:
            return False
        if role == Qt.ItemDataRole.CheckStateRole and index.column() == 0:
            enabled = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
            title = op_title(item["op"]) if "op" in item else group_title(item)
            verb = "Enable" if enabled else "Disable"
            self.edit_requested.emit(f"{verb} {title}", pd.set_fields(self.document, path, enabled=enabled), [path])
            return True
        if role == Qt.ItemDataRole.EditRole and index.column() == 1:
            try:
                p = min(1.0, max(0.0, float(value)))
            except (TypeError, ValueError):
                return False
            if p == item.get("p", 1.0):
                return False
            self.edit_requested.emit("Change probability", pd.set_fields(self.document, path, p=p), [path])
            return True
        return False

    # ---- drag and drop ------------------------------------------------------------------------------
    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        paths = pd.top_level(p for p in (self.path_of(i) for i in indexes) if p is not None and len(p) > 1)
        mime = QMimeData()
        mime.setData(MIME_TYPE, json.dumps([list(p) for p in paths]).encode())
        return mime

    @staticmethod
    def dragged_paths(mime: QMimeData) -> list[tuple[Any, ...]]:
        if not mime.hasFormat(MIME_TYPE):
            return []
        try:
            raw = json.loads(bytes(mime.data(MIME_TYPE).data()).decode())
        except (ValueError, UnicodeDecodeError):
            return []
        return [tuple(p) for p in raw if isinstance(p, list) and p and p[0] in pd.SECTIONS]

    def _drop_target(self, row: int, parent: AnyIndex) -> tuple[tuple[Any, ...], int] | None:
        path = self.path_of(parent)
        if path is None:  # below the last row: the end of the random steps
            return ("steps",), len(self.document.get("steps", []))
        item = self.node_of(path)
        if len(path) > 1 and (item is None or not pd.group_kind(item)):
            return None
        count = len(self.document.get(path[0], [])) if len(path) == 1 else len(pd.children(item or {}))
        return path, count if row < 0 else row

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex) -> bool:
        paths = self.dragged_paths(data)
        target = self._drop_target(row, parent)
        if not paths or target is None:
            return False
        dest = target[0]
        return all(p[0] == dest[0] and dest[: len(p)] != p for p in paths)

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex) -> bool:
        if action == Qt.DropAction.IgnoreAction:
            return True
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        target = self._drop_target(row, parent)
        assert target is not None
        try:
            new, moved = pd.move(self.document, self.dragged_paths(data), target[0], target[1])
        except pd.DocumentError:
            return False
        if new != self.document:
            self.edit_requested.emit("Move steps", new, moved)
        # Qt removes the dragged rows itself after a successful move; this model has no removeRows,
        # so that does nothing: the document edit above already moved them.
        return True


# ---- the palette ----------------------------------------------------------------------------------------
PRE_PROCESSING = "Pre-processing"


class OpPaletteModel(QStandardItemModel):
    """Ops of one modality under their categories (random ops first, then pre-processing)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.modality = ""

    def set_modality(self, modality: str) -> None:
        from genaug_desktop.core.ops.base import registry

        if modality == self.modality:
            return
        self.modality = modality
        self.clear()
        groups: dict[str, list[type[Any]]] = {}
        for cls in registry().values():
            if cls.modality != modality:
                continue
            groups.setdefault(PRE_PROCESSING if cls.preprocess else (cls.category or "Other"), []).append(cls)
        order = [c for c in groups if c != PRE_PROCESSING] + ([PRE_PROCESSING] if PRE_PROCESSING in groups else [])
        bold = QFont()
        bold.setBold(True)
        for category in order:
            head = QStandardItem(category)
            head.setFont(bold)
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            head.setData(category, SearchRole)
            if category == PRE_PROCESSING:
                head.setToolTip(SECTION_HELP["preprocess"])
            for cls in groups[category]:
                available, why = cls.availability()
                entry = QStandardItem(op_title(cls.name))
                entry.setData(cls.name, OpNameRole)
                entry.setData(f"{cls.name} {op_title(cls.name)} {category} {cls.help}", SearchRole)
                tip = f"{op_title(cls.name)} ({cls.name}): {cls.help}"
                if available:
                    entry.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                    entry.setToolTip(tip + "\nDouble-click to add it to the policy.")
                else:
                    entry.setFlags(Qt.ItemFlag.ItemIsSelectable)  # greyed out, still shows its tooltip
                    entry.setToolTip(f"{tip}\nNot available here: {why}")
                head.appendRow(entry)
            self.appendRow(head)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and not index.parent().isValid():
            return QBrush(MUTED)  # a category: read when painted, so in the theme now (a stored brush would stay)
        return super().data(index, role)

    def op_names(self) -> list[str]:
        names = []
        for row in range(self.rowCount()):
            head = self.item(row)
            for child in range(head.rowCount()):
                names.append(head.child(child).data(OpNameRole))
        return names


class PaletteFilter(QSortFilterProxyModel):
    """Case-insensitive search over name, title, category and help; categories stay when a child matches."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setFilterRole(SearchRole)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setRecursiveFilteringEnabled(True)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        if not source_parent.isValid():
            # A category shows with its matching children (recursive filtering) or when not filtering;
            # the children carry the category in their search text, so "colour" lists all colour ops.
            return not self.filterRegularExpression().pattern()
        return super().filterAcceptsRow(source_row, source_parent)
