"""Qt list models over core objects: dataset items, class counts, problems.

The models adapt core data (:class:`Item`, :class:`Problem`) and never change it. Views read
through custom roles, so a delegate or a test can ask for the :class:`Item` itself
(``ItemRole``), its thumbnail (``ThumbnailRole``), label, key or text.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRegularExpression,
    QSortFilterProxyModel,
    Signal,
)
from PySide6.QtGui import QBrush, QFont

from genaug_desktop.gui import roles
from genaug_desktop.core.formatting import first_lines, human_bytes
from genaug_desktop.gui.thumbnails import ThumbnailCache

# Core data types only for annotations: importing core.datasets pulls in multiprocessing and
# friends, which the window does not need until a dataset is opened (startup time).
if TYPE_CHECKING:
    from genaug_desktop.core.datasets.model import Item, Problem

AnyIndex = QModelIndex | QPersistentModelIndex

#: Filter value meaning "items without a label" (a real label is never empty).
UNLABELED = ""


class ItemRole(IntEnum):
    """Custom data roles of :class:`ItemListModel`."""

    ItemRole = roles.USER + 1
    KeyRole = roles.USER + 2
    LabelRole = roles.USER + 3
    PathRole = roles.USER + 4  # absolute path of the source file
    TextRole = roles.USER + 5
    ThumbnailRole = roles.USER + 6  # QImage, or None while it is being made
    BrokenRole = roles.USER + 7  # why the thumbnail failed, or None
    ModalityRole = roles.USER + 8
    NameRole = roles.USER + 9  # file name (image) or "file:line" (text)
    SearchRole = roles.USER + 10  # "label␟key␟text", what the filter box matches


# Module-level aliases read better at call sites: ``index.data(ThumbnailRole)``.
ItemDataRole = ItemRole.ItemRole
KeyRole = ItemRole.KeyRole
LabelRole = ItemRole.LabelRole
PathRole = ItemRole.PathRole
TextRole = ItemRole.TextRole
ThumbnailRole = ItemRole.ThumbnailRole
BrokenRole = ItemRole.BrokenRole
ModalityRole = ItemRole.ModalityRole
NameRole = ItemRole.NameRole
SearchRole = ItemRole.SearchRole

#: Separates the fields of ``SearchRole``; never typed into a filter box.
FIELD_SEPARATOR = "\x1f"


def item_name(item: Item) -> str:
    if item.modality == "text":
        return f"{os.path.basename(item.path)}:{item.line}" if item.line is not None else item.path
    return item.path.rsplit("/", 1)[-1]


class ItemListModel(QAbstractListModel):
    """The items of the open dataset, in scan order; rows are appended while a scan streams.

    Thumbnails come from a :class:`ThumbnailCache` at :attr:`thumbnail_size`; when one arrives
    the rows showing that file get a ``dataChanged`` for ``ThumbnailRole``.
    """

    counts_changed = Signal()

    def __init__(self, thumbnails: ThumbnailCache | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[Item] = []
        self._root = ""
        self._prefix = ""
        self._rows_by_path: dict[str, list[int]] = {}
        # key -> first row with it; built at the first look-up (a million-text dataset that is
        # never searched by key pays nothing), then kept in step by every change of the rows.
        self._row_by_key: dict[str, int] | None = None
        self._labels: Counter[str | None] = Counter()
        self.thumbnail_size = 128
        self._thumbnails = thumbnails
        if thumbnails is not None:
            thumbnails.thumbnails_ready.connect(self._on_thumbnails_ready)

    # ---- content ---------------------------------------------------------------------------------
    @property
    def root(self) -> str:
        return self._root

    def reset(self, root: str = "") -> None:
        """Empty the model; *root* is the folder item paths are relative to."""
        self.beginResetModel()
        self._items = []
        self._rows_by_path = {}
        self._row_by_key = None
        self._labels = Counter()
        self._root = root
        # Item paths are relative with "/" separators: where that is the OS separator, an
        # absolute path is the prefix and the item's path (os.path.join per item was most of
        # a scan batch's append_items).
        self._prefix = (root if root.endswith(os.sep) else root + os.sep) if root and os.sep == "/" else ""
        self.endResetModel()
        self.counts_changed.emit()

    def append_items(self, items: Sequence[Item]) -> None:
        if not items:
            return
        first = len(self._items)
        self.beginInsertRows(QModelIndex(), first, first + len(items) - 1)
        self._items.extend(items)
        by_key = self._row_by_key
        for row, item in enumerate(items, first):
            if by_key is not None:
                by_key.setdefault(item.key, row)
            if item.modality == "image":
                self._rows_by_path.setdefault(self.abspath(item), []).append(row)
            self._labels[item.label] += 1
        self.endInsertRows()
        self.counts_changed.emit()

    def item(self, row: int) -> Item:
        return self._items[row]

    def items(self) -> list[Item]:
        return list(self._items)

    def row_of_key(self, key: str) -> int | None:
        """The first row holding the item *key*, or None (a dict look-up)."""
        if self._row_by_key is None:
            by_key: dict[str, int] = {}
            for row, item in enumerate(self._items):
                by_key.setdefault(item.key, row)
            self._row_by_key = by_key
        return self._row_by_key.get(key)

    def rows_for_path(self, path: str) -> list[int]:
        return self._rows_by_path.get(path, [])

    def abspath(self, item: Item) -> str:
        if self._prefix:
            return self._prefix + item.path
        return os.path.join(self._root, *item.path.split("/"))

    def label_counts(self) -> dict[str | None, int]:
        return dict(self._labels)

    # ---- Qt model API ----------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: AnyIndex, role: int = roles.DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == ThumbnailRole:
            if item.modality != "image" or self._thumbnails is None:
                return None
            found = self._thumbnails.lookup(self.abspath(item), self.thumbnail_size)
            return None if isinstance(found, str) else found
        if role == BrokenRole:
            if item.modality != "image" or self._thumbnails is None:
                return None
            return self._thumbnails.failure(self.abspath(item))
        if role == roles.DISPLAY:
            return first_lines(item.text or "", 80) if item.modality == "text" else item_name(item)
        if role == SearchRole:
            return f"{item.label or ''}{FIELD_SEPARATOR}{item.key}{FIELD_SEPARATOR}{item.text or ''}"
        if role == NameRole:
            return item_name(item)
        if role == ItemDataRole:
            return item
        if role == KeyRole:
            return item.key
        if role == LabelRole:
            return item.label
        if role == PathRole:
            return self.abspath(item)
        if role == TextRole:
            return item.text
        if role == ModalityRole:
            return item.modality
        if role == roles.TOOLTIP:
            return self._tooltip(item)
        return None

    def _tooltip(self, item: Item) -> str:
        lines = [item.key]
        if item.label is not None:
            lines.append(f"label: {item.label}")
        if item.modality == "image":
            if item.width and item.height:
                lines.append(f"{item.width} × {item.height} {item.format or ''} {item.mode or ''}".rstrip())
            lines.append(human_bytes(item.size))
            reason = self._thumbnails.failure(self.abspath(item)) if self._thumbnails else None
            if reason:
                lines.append(f"cannot show: {reason}")
        else:
            lines.append(first_lines(item.text or "", 300))
        return "\n".join(lines)

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        for role in ItemRole:
            names[int(role)] = QByteArray(role.name[0].lower().encode() + role.name[1:].encode())
        return names

    def _on_thumbnails_ready(self, paths: list[str]) -> None:
        rows = [row for path in paths for row in self._rows_by_path.get(path, ())]
        if not rows:
            return
        # One signal for the whole batch: the view repaints its viewport once, not per item.
        self.dataChanged.emit(
            self.index(min(rows)), self.index(max(rows)), [int(ThumbnailRole), int(BrokenRole)]
        )


class ItemFilterProxy(QSortFilterProxyModel):
    """Filters items by a text (in label, key/path or text; case-insensitive) and a class.

    Both conditions become one regular expression over ``SearchRole`` ("label␟key␟text"), so Qt's
    own C++ filter does the work: with no filter set, rows inserted while a 100,000-item scan
    streams cost no call into Python at all (a Python ``filterAcceptsRow`` would cost one per row).
    """

    filter_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._label: str | None = None
        self.setFilterRole(int(SearchRole))
        self.setDynamicSortFilter(False)  # thumbnails arriving must never re-filter

    @property
    def filter_text(self) -> str:
        return self._text

    @property
    def filter_label(self) -> str | None:
        return self._label

    def set_filter_text(self, text: str) -> None:
        text = text.strip().replace(FIELD_SEPARATOR, "")
        if text != self._text:
            self._text = text
            self._refilter()

    def set_filter_label(self, label: str | None) -> None:
        if label != self._label:
            self._label = label
            self._refilter()

    def is_filtering(self) -> bool:
        return bool(self._text) or self._label is not None

    def pattern(self) -> str:
        """The regular expression for the current text and class ("" when not filtering)."""
        text = QRegularExpression.escape(self._text) if self._text else ""
        if self._label is None:
            return text
        prefix = "^" + QRegularExpression.escape(self._label) + FIELD_SEPARATOR
        if not self._text or self._text.casefold() in self._label.casefold():
            return prefix  # every item of this class matches the text through its label
        return prefix + ".*" + text

    def _refilter(self) -> None:
        options = (
            QRegularExpression.PatternOption.CaseInsensitiveOption
            | QRegularExpression.PatternOption.DotMatchesEverythingOption
            | QRegularExpression.PatternOption.UseUnicodePropertiesOption
        )
        self.setFilterRegularExpression(QRegularExpression(self.pattern(), options))
        self.filter_changed.emit()


class ClassCountModel(QAbstractTableModel):
    """Two columns (class, count): "All" first, then each label, then "(unlabeled)" if any.

    ``FilterRole`` gives the value for :meth:`ItemFilterProxy.set_filter_label` (None = all).
    """

    FilterRole = roles.USER + 1
    _horizontal: Any = None  # Qt.Orientation.Horizontal, read on first use
    ALL_TEXT = "All"
    UNLABELED_TEXT = "(unlabeled)"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str | None, int]] = [(None, 0)]

    def set_counts(self, counts: dict[str | None, int]) -> None:
        """Update from label -> count (None for unlabeled items); rows keep their places."""
        total = sum(counts.values())
        labels = sorted(k for k in counts if k is not None)
        wanted: list[tuple[str | None, int]] = [(None, total)] + [(k, counts[k]) for k in labels]
        if counts.get(None) and labels:
            wanted.append((UNLABELED, counts[None]))
        new_keys = [k for k, _ in wanted]
        old_keys = [k for k, _ in self._rows]
        if new_keys == old_keys:
            self._rows = wanted
            self.dataChanged.emit(self.index(0, 1), self.index(len(self._rows) - 1, 1))
            return
        old_set = set(old_keys)
        if [k for k in new_keys if k in old_set] != old_keys:
            self.beginResetModel()
            self._rows = wanted
            self.endResetModel()
            return
        # Insert new classes where they sort, so a selection (a persistent index) stays on its class.
        for position, key in enumerate(new_keys):
            if position >= len(self._rows) or self._rows[position][0] != key:
                self.beginInsertRows(QModelIndex(), position, position)
                self._rows.insert(position, (key, 0))
                self.endInsertRows()
        self._rows = wanted
        self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 1))

    def class_count(self) -> int:
        return sum(1 for key, _ in self._rows if key)

    def count_of(self, label: str | None) -> int | None:
        for key, n in self._rows:
            if key == label:
                return n
        return None

    def row_of(self, label: str | None) -> int | None:
        for row, (key, _) in enumerate(self._rows):
            if key == label:
                return row
        return None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2

    def headerData(self, section: int, orientation: Any, role: int = roles.DISPLAY) -> Any:
        # Qt.Orientation is read once a view shows the header, and kept: an import statement runs
        # PySide's import hook every time, and the class table's header asks on every scan batch.
        horizontal_value = ClassCountModel._horizontal
        if horizontal_value is None:
            from PySide6.QtCore import Qt

            horizontal_value = ClassCountModel._horizontal = Qt.Orientation.Horizontal
        horizontal = orientation == horizontal_value
        if horizontal and role == roles.DISPLAY:
            return ("Class", "Items")[section]
        if horizontal and role == roles.TEXT_ALIGNMENT and section == 1:
            return roles.ALIGN_RIGHT_VCENTER
        return None

    def data(self, index: AnyIndex, role: int = roles.DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        key, count = self._rows[index.row()]
        if role == roles.DISPLAY:
            if index.column() == 1:
                return f"{count:,}"
            return self.ALL_TEXT if key is None else self.UNLABELED_TEXT if key == UNLABELED else key
        if role == self.FilterRole:
            return key
        if role == roles.TEXT_ALIGNMENT and index.column() == 1:
            return roles.ALIGN_RIGHT_VCENTER
        if role == roles.FONT and key is None:
            font = QFont()
            font.setBold(True)
            return font
        if role == roles.DECORATION and index.column() == 0 and key:
            from genaug_desktop.gui.colors import label_dot  # painting helpers load with the views

            return label_dot(key)
        if role == roles.FOREGROUND and key == UNLABELED:
            from genaug_desktop.gui.colors import MUTED_TEXT  # 4.5:1 or more in either theme

            return QBrush(MUTED_TEXT)
        return None


class ProblemListModel(QAbstractListModel):
    """Problems (file, optional line, reason) in the order they were found, without duplicates."""

    ProblemRole = roles.USER + 1
    WhereRole = roles.USER + 2
    ReasonRole = roles.USER + 3

    count_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._problems: list[Problem] = []
        self._seen: set[tuple[str, int | None, str]] = set()
        self._paths: dict[str, int] = {}  # path -> row of its whole-file problem

    def reset(self) -> None:
        self.beginResetModel()
        self._problems = []
        self._seen = set()
        self._paths = {}
        self.endResetModel()
        self.count_changed.emit(0)

    def has_path(self, path: str) -> bool:
        """True when a whole-file problem (no line number) is listed for *path*."""
        return path in self._paths

    def set_file_problem(self, problem: Problem) -> None:
        """List *problem* as the one whole-file problem of its path, replacing an earlier one."""
        row = self._paths.get(problem.path)
        if row is None:
            self.append_problems([problem])
            return
        old = self._problems[row]
        self._seen.discard((old.path, old.line, old.reason))
        self._seen.add((problem.path, problem.line, problem.reason))
        self._problems[row] = problem
        self.dataChanged.emit(self.index(row), self.index(row))

    def append_problems(self, problems: Iterable[Problem]) -> None:
        new = []
        for p in problems:
            key = (p.path, p.line, p.reason)
            if key not in self._seen:
                self._seen.add(key)
                new.append(p)
        if not new:
            return
        first = len(self._problems)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        for row, p in enumerate(new, first):
            if p.line is None:
                self._paths.setdefault(p.path, row)
        self._problems.extend(new)
        self.endInsertRows()
        self.count_changed.emit(len(self._problems))

    def problems(self) -> list[Problem]:
        return list(self._problems)

    def problem(self, row: int) -> Problem:
        return self._problems[row]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._problems)

    def data(self, index: AnyIndex, role: int = roles.DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._problems):
            return None
        p = self._problems[index.row()]
        where = f"{p.path}:{p.line}" if p.line is not None else p.path
        if role == roles.DISPLAY:
            return f"{where} — {p.reason}"
        if role == roles.TOOLTIP:
            return f"{where}\n{p.reason}"
        if role == self.ProblemRole:
            return p
        if role == self.WhereRole:
            return where
        if role == self.ReasonRole:
            return p.reason
        return None
