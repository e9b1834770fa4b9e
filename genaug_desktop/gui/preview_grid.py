"""The preview grid: every item of the dataset as a card, with an adjustable thumbnail size.

A QListView in icon mode over the session's filter proxy, painted by :class:`ItemDelegate`.
Uniform item sizes and batched layout keep it smooth with 100,000 items; the thumbnail cache is
told when the visible part changes so it decodes what is on screen first.

Run alone: ``python -m genaug_desktop.gui.preview_grid [DATASET]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.gui.colors import GRID_BACKGROUND
from genaug_desktop.gui.delegates import ItemDelegate
from genaug_desktop.core.formatting import plural
from genaug_desktop.gui.models import BrokenRole, ItemDataRole, ModalityRole, PathRole
from genaug_desktop.gui.session import DatasetSession
from genaug_desktop.gui.settings import DEFAULT_THUMBNAIL_SIZE, MAX_THUMBNAIL_SIZE, MIN_THUMBNAIL_SIZE

if TYPE_CHECKING:
    from genaug_desktop.core.datasets.model import Item


class ItemGridView(QListView):
    """The list view itself: icon mode, static, multi-select, uniform sizes, batched layout."""

    viewport_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(500)
        self.setSpacing(0)  # the delegate draws its own margins, so gaps are even
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionRectVisible(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setDragEnabled(False)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setMouseTracking(True)  # hover highlight
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setStyleSheet(f"QListView {{ background: {GRID_BACKGROUND}; }}")
        self.verticalScrollBar().valueChanged.connect(lambda _v: self.viewport_changed.emit())

    def resizeEvent(self, event: QResizeEvent) -> None:
        delegate = self.itemDelegate()
        if isinstance(delegate, ItemDelegate):
            # Assume the scroll bar is there, so showing it never changes the column count.
            width = self.contentsRect().width() - self.verticalScrollBar().sizeHint().width() - 1
            if width != delegate.row_width:
                delegate.row_width = width
                self.scheduleDelayedItemsLayout()
        super().resizeEvent(event)
        self.viewport_changed.emit()

    def visible_rows(self) -> range:
        """Rows (of the view's model) whose cards intersect the viewport; found by bisection,
        since cards are laid out in row order."""
        model = self.model()
        n = model.rowCount() if model is not None else 0
        if n == 0:
            return range(0)
        height = self.viewport().height()

        def rect_of(row: int) -> tuple[int, int] | None:
            rect = self.visualRect(model.index(row, 0))
            return None if rect.isEmpty() else (rect.top(), rect.bottom())

        lo, hi = 0, n  # first row whose bottom >= 0
        while lo < hi:
            mid = (lo + hi) // 2
            found = rect_of(mid)
            if found is not None and found[1] < 0:
                lo = mid + 1
            else:
                hi = mid
        first = lo
        lo, hi = first, n  # first row whose top > height (or not laid out yet)
        while lo < hi:
            mid = (lo + hi) // 2
            found = rect_of(mid)
            if found is not None and found[0] <= height:
                lo = mid + 1
            else:
                hi = mid
        return range(first, lo)


class PreviewGrid(QWidget):
    """The grid of cards plus its toolbar (item count, selection count, size slider).

    Signals: ``current_item_changed(Item | None)``, ``selection_changed(list[Item])``,
    ``thumbnail_size_changed(int)``.
    """

    current_item_changed = Signal(object)
    selection_changed = Signal(list)
    thumbnail_size_changed = Signal(int)

    def __init__(self, session: DatasetSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.view = ItemGridView(self)
        self.delegate = ItemDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setModel(session.proxy)

        self.count_label = QLabel()
        self.count_label.setObjectName("gridCount")
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_THUMBNAIL_SIZE, MAX_THUMBNAIL_SIZE)
        self.size_slider.setSingleStep(16)
        self.size_slider.setPageStep(32)
        self.size_slider.setFixedWidth(160)
        self.size_slider.setToolTip("Thumbnail size")
        self.size_value = QLabel()
        self.size_value.setMinimumWidth(48)

        toolbar = QFrame()
        toolbar.setObjectName("gridToolbar")
        toolbar.setStyleSheet(
            "#gridToolbar { background: palette(window); border-bottom: 1px solid palette(midlight); }"
        )
        bar = QHBoxLayout(toolbar)
        bar.setContentsMargins(10, 4, 10, 4)
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        bar.addWidget(QLabel("Size"))
        bar.addWidget(self.size_slider)
        bar.addWidget(self.size_value)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(toolbar)
        layout.addWidget(self.view, 1)

        self.size_slider.valueChanged.connect(self.set_thumbnail_size)
        self.view.viewport_changed.connect(session.thumbnails.viewport_changed)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        session.summary_changed.connect(self._update_count)
        session.proxy.filter_changed.connect(self._on_filter_changed)
        session.proxy.modelReset.connect(self._update_count)
        self.set_thumbnail_size(DEFAULT_THUMBNAIL_SIZE)
        self._update_count()

    # ---- thumbnail size --------------------------------------------------------------------------
    @property
    def thumbnail_size(self) -> int:
        return self.view.iconSize().width()

    def set_thumbnail_size(self, size: int) -> None:
        size = max(MIN_THUMBNAIL_SIZE, min(MAX_THUMBNAIL_SIZE, int(size)))
        if self.size_slider.value() != size:
            self.size_slider.setValue(size)  # re-enters through valueChanged
            return
        self.size_value.setText(f"{size} px")
        if self.view.iconSize().width() == size:
            return
        self.session.items.thumbnail_size = int(size * self.devicePixelRatioF())
        self.view.setIconSize(QSize(size, size))
        self.session.thumbnails.viewport_changed()
        self.thumbnail_size_changed.emit(size)

    # ---- queries (the screenshot mode and tests use these) --------------------------------------------
    def visible_items(self) -> list[Item]:
        proxy = self.session.proxy
        return [proxy.index(row, 0).data(ItemDataRole) for row in self.view.visible_rows()]

    def pending_visible_thumbnails(self) -> int:
        """Visible image cards still showing a placeholder."""
        proxy = self.session.proxy
        cache = self.session.thumbnails
        size = self.session.items.thumbnail_size
        pending = 0
        for row in self.view.visible_rows():
            index = proxy.index(row, 0)
            if index.data(ModalityRole) != "image" or index.data(BrokenRole) is not None:
                continue
            if not cache.has(index.data(PathRole), size):
                pending += 1
        return pending

    def selected_items(self) -> list[Item]:
        rows = sorted(i.row() for i in self.view.selectionModel().selectedIndexes())
        proxy = self.session.proxy
        return [proxy.index(row, 0).data(ItemDataRole) for row in rows]

    def select_key(self, key: str) -> bool:
        """Select and show the item with *key*; False when it is not in the (filtered) grid."""
        row = self.session.items.row_of_key(key)
        if row is None:
            return False
        index = self.session.proxy.mapFromSource(self.session.items.index(row))
        if not index.isValid():
            return False
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    # ---- slots -----------------------------------------------------------------------------------
    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_item_changed.emit(current.data(ItemDataRole) if current.isValid() else None)

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_count()
        self.selection_changed.emit(self.selected_items())

    def _on_filter_changed(self) -> None:
        self.view.scrollToTop()
        self.session.thumbnails.viewport_changed()
        self._update_count()

    def _update_count(self) -> None:
        total = self.session.items.rowCount()
        shown = self.session.proxy.rowCount()
        text = plural(total, "item") if shown == total else f"{shown:,} of {plural(total, 'item')}"
        selected = len(self.view.selectionModel().selectedIndexes())
        if selected > 1:
            text += f"  ·  {selected:,} selected"
        self.count_label.setText(text)


def main(argv: list[str] | None = None) -> int:
    from genaug_desktop.gui.demo import run_panel_demo

    return run_panel_demo(lambda session: PreviewGrid(session), argv, title="Preview grid", size=(900, 640))


if __name__ == "__main__":
    raise SystemExit(main())
