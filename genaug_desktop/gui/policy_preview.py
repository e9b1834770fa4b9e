"""The live preview of the policy editor: the selected item beside N seeded variants.

Rendering runs in the background through the worker (``preview_render.preview_job``), one job at
a time in a :class:`JobSlot`: a newer request aborts the older one, so only the newest result is
ever shown. Requests are debounced: an edit after a quiet moment renders at once; edits that
follow each other closely (a slider drag) wait until 50 ms pass without one, or at most 250 ms.
Tiles arrive as packed RGB bytes already at display size; the GUI thread only wraps them in
QImages. A variant that fails shows its message on its tile; every tile's tooltip lists the ops
that fired with their drawn values.

Run alone: ``python -m genaug_desktop.gui.policy_preview IMAGE_OR_TEXT [PRESET]``.
"""

from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QImage,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QTextCharFormat,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QSpinBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.gui.colors import (
    ACCENT_INK,
    BROKEN_BORDER,
    BROKEN_FILL,
    BROKEN_TEXT,
    CARD_BORDER,
    CARD_FILL,
    CHANGED_WORD_FILL,
    GRID_BACKGROUND,
    MUTED_TEXT,
    PLACEHOLDER_FILL,
)
from genaug_desktop.gui.preview_render import (
    LOADING_TEXT_OPS,
    MAX_VARIANTS,
    PreviewRequest,
    PreviewResult,
    PreviewSource,
    describe_chain,
    preview_job,
)
from genaug_desktop.gui.thumbnails import image_from_raw
from genaug_desktop.gui.timers import tracked_timer
from genaug_desktop.gui.worker import JobSlot, JobWorker

AnyIndex = QModelIndex | QPersistentModelIndex

DEBOUNCE_MS = 50
MAX_WAIT_MS = 250
DEFAULT_VARIANTS = 8
MAX_SEED = 2**31 - 1
TileRole = Qt.ItemDataRole.UserRole + 1
# Changed words, and the source tile's frame and caption: the shared colours, switched with the theme.
HIGHLIGHT = CHANGED_WORD_FILL
SOURCE_ACCENT = ACCENT_INK
#: The source tile's caption badge on an image: white on it is 5.2:1 in either theme.
SOURCE_BADGE = QColor("#2563eb")
PAD = 6
#: What the tile area says with nothing to show.
NO_ITEM = "Select an item in the grid to preview the policy on it."


@dataclass(slots=True)
class Tile:
    """What one cell shows: the source (index -1) or a variant."""

    index: int
    caption: str
    image: QImage | None = None
    text: str | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)
    tooltip: str = ""
    error: str | None = None


class PreviewTileModel(QAbstractListModel):
    """The tiles of the newest preview; ``generation`` counts results shown."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tiles: list[Tile] = []
        self.modality = "image"
        self.generation = 0

    def set_tiles(self, tiles: list[Tile], modality: str) -> None:
        self.beginResetModel()
        self.tiles = tiles
        self.modality = modality
        self.generation += 1
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.tiles)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.tiles):
            return None
        tile = self.tiles[index.row()]
        if role == TileRole:
            return tile
        if role == Qt.ItemDataRole.DisplayRole:
            return tile.caption
        if role == Qt.ItemDataRole.ToolTipRole:
            return tile.tooltip
        return None


class TileDelegate(QStyledItemDelegate):
    """Paints image tiles as cards (image fitted in a square, caption below) and text tiles as rows
    with the changed words highlighted."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.side = 120
        self.text_width = 400

    # ---- sizes -----------------------------------------------------------------------------------
    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        tile: Tile | None = index.data(TileRole)
        if tile is None or index.model().modality == "image":  # type: ignore[attr-defined]
            return QSize(self.side + 2 * PAD + 4, self.side + 2 * PAD + 4)
        layout = self._layout(tile, option, self.text_width - 72 - 2 * PAD)
        line = QFontMetrics(option.font).height()
        height = int(layout.boundingRect().height()) if layout is not None else line
        return QSize(self.text_width, max(height, line) + 2 * PAD + 2)

    def _layout(self, tile: Tile, option: QStyleOptionViewItem, width: int) -> QTextLayout | None:
        text = tile.error if tile.error is not None else (tile.text or "")
        layout = QTextLayout(text, option.font)
        text_option = QTextOption()
        text_option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(text_option)
        if tile.error is None and tile.spans:
            fmt = QTextCharFormat()
            fmt.setBackground(HIGHLIGHT)
            ranges = []
            for start, length in tile.spans:
                r = QTextLayout.FormatRange()
                r.start, r.length, r.format = start, length, fmt
                ranges.append(r)
            layout.setFormats(ranges)
        layout.beginLayout()
        y = 0.0
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(max(40, width))
            line.setPosition(QPointF(0, y))
            y += line.height()
        layout.endLayout()
        return layout

    # ---- painting ----------------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        tile: Tile | None = index.data(TileRole)
        if tile is None:
            return
        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            if index.model().modality == "text":  # type: ignore[attr-defined]
                self._paint_text(painter, option, tile)
            else:
                self._paint_image(painter, option, tile)
        finally:
            painter.restore()

    def _card(self, painter: QPainter, option: QStyleOptionViewItem, rect: QRectF, tile: Tile) -> None:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if tile.error is not None:
            painter.setBrush(BROKEN_FILL)
            painter.setPen(QPen(BROKEN_BORDER, 1.0))
        else:
            painter.setBrush(CARD_FILL)
            border = SOURCE_ACCENT if tile.index < 0 else (option.palette.highlight().color() if selected else CARD_BORDER)
            painter.setPen(QPen(border, 1.5 if tile.index < 0 or selected else 1.0))
        painter.drawRoundedRect(rect, 5, 5)

    def _paint_image(self, painter: QPainter, option: QStyleOptionViewItem, tile: Tile) -> None:
        card = QRectF(option.rect).adjusted(2.5, 2.5, -2.5, -2.5)
        self._card(painter, option, card, tile)
        area = card.adjusted(PAD - 2, PAD - 2, -(PAD - 2), -(PAD - 2))
        side = min(area.width(), area.height())
        area = QRectF(area.center().x() - side / 2, area.center().y() - side / 2, side, side)
        target = area
        if tile.error is not None:
            painter.setPen(BROKEN_TEXT)
            painter.drawText(area.adjusted(4, 4, -4, -18), int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                             tile.error)
        elif tile.image is not None and not tile.image.isNull():
            img = tile.image
            scale = min(side / img.width(), side / img.height())
            w, h = img.width() * scale, img.height() * scale
            target = QRectF(area.center().x() - w / 2, area.center().y() - h / 2, w, h)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 2.0)
            painter.drawImage(target, img)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(PLACEHOLDER_FILL)
            painter.drawRoundedRect(area, 4, 4)
        # The caption is a badge on the image's corner: no row of its own, so tiles stay large.
        font = painter.font()
        font.setPointSizeF(max(6.0, font.pointSizeF() - 1))
        font.setBold(tile.index < 0)
        painter.setFont(font)
        fm = QFontMetrics(font)
        text = fm.elidedText(tile.caption, Qt.TextElideMode.ElideRight, int(area.width() - 8))
        badge = QRectF(target.left() + 3, target.bottom() - fm.height() - 5, fm.horizontalAdvance(text) + 8, fm.height() + 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(SOURCE_BADGE if tile.index < 0 else QColor(17, 24, 39, 150))
        painter.drawRoundedRect(badge, 3, 3)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(badge, int(Qt.AlignmentFlag.AlignCenter), text)

    def _paint_text(self, painter: QPainter, option: QStyleOptionViewItem, tile: Tile) -> None:
        card = QRectF(option.rect).adjusted(2.5, 1.5, -2.5, -1.5)
        self._card(painter, option, card, tile)
        gutter = QRectF(card.left() + PAD, card.top() + PAD - 2, 64, card.height() - 2 * PAD)
        painter.setPen(SOURCE_ACCENT if tile.index < 0 else MUTED_TEXT)
        font = painter.font()
        font.setBold(tile.index < 0)
        painter.setFont(font)
        painter.drawText(gutter, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), tile.caption)
        font.setBold(False)
        painter.setFont(font)
        layout = self._layout(tile, option, int(card.width()) - 72 - 2 * PAD)
        if layout is not None:
            painter.setPen(BROKEN_TEXT if tile.error is not None else option.palette.text().color())
            layout.draw(painter, QPointF(card.left() + 72 + PAD, card.top() + PAD - 2))


class PreviewTileView(QListView):
    """Tiles laid out to fit the viewport; ``tiles_painted(generation)`` after the newest tiles were
    painted (the latency benchmark waits for it)."""

    tiles_painted = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tile_model = PreviewTileModel(self)
        self.tile_delegate = TileDelegate(self)
        self.setModel(self.tile_model)
        self.setItemDelegate(self.tile_delegate)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setStyleSheet(f"QListView {{ background: {GRID_BACKGROUND}; }}")
        self.setMouseTracking(True)
        self._painted_generation = 0
        self.placeholder = ""
        #: the placeholder says why the preview could not be made (painted in the error ink)
        self.placeholder_is_error = False
        self._set_image_layout()

    def _set_image_layout(self) -> None:
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        # Not uniform: Qt would keep the first tile's size after the tile side changes.
        self.setUniformItemSizes(False)
        self.setSpacing(0)  # the delegate's size includes the gaps

    def _set_text_layout(self) -> None:
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.TopToBottom)
        self.setWrapping(False)
        self.setUniformItemSizes(False)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSpacing(0)

    def show_tiles(self, tiles: list[Tile], modality: str) -> None:
        if modality != self.tile_model.modality or self.viewMode() != (
            QListView.ViewMode.IconMode if modality == "image" else QListView.ViewMode.ListMode
        ):
            if modality == "image":
                self._set_image_layout()
            else:
                self._set_text_layout()
        self.tile_model.set_tiles(tiles, modality)
        self.fit_tiles()

    def best_side(self, count: int) -> int:
        """The largest square tile side (logical px) at which *count* tiles fit without scrolling."""
        width = max(80, self.viewport().width() - 2)
        height = max(80, self.viewport().height() - 2)
        best = 64
        for side in range(256, 63, -4):
            cell_w = cell_h = side + 2 * PAD + 4  # as sizeHint
            columns = max(1, width // cell_w)
            rows = -(-count // columns)
            if rows * cell_h <= height:
                best = side
                break
        return best

    def fit_tiles(self) -> None:
        delegate = self.tile_delegate
        delegate.text_width = max(160, self.viewport().width() - 6)
        if self.tile_model.modality == "image":
            delegate.side = self.best_side(max(1, self.tile_model.rowCount()))
        self.doItemsLayout()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_tiles()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self.tile_model.tiles and self.placeholder:
            painter = QPainter(self.viewport())
            painter.setPen(BROKEN_TEXT if self.placeholder_is_error else MUTED_TEXT)
            painter.drawText(self.viewport().rect().adjusted(16, 16, -16, -16),
                             int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.placeholder)
            painter.end()
        generation = self.tile_model.generation
        if self.tile_model.tiles and generation != self._painted_generation:
            self._painted_generation = generation
            self.tiles_painted.emit(generation)


def _chain_tooltip(caption: str, seed: int | None, chain: list[dict[str, Any]], error: str | None) -> str:
    head = f"{caption} · seed {seed}" if seed is not None else caption
    if error is not None:
        return f"{head}\nFailed: {error}"
    return f"{head}\n{describe_chain(chain)}"


class PolicyPreview(QWidget):
    """Variants count, seed and reshuffle above the tiles; renders in the background.

    Signals: ``rendered(PreviewResult)`` when a result is shown, ``settings_changed()`` when the
    count or seed changed.
    """

    rendered = Signal(object)
    settings_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slot = JobSlot(self)
        self._source: PreviewSource | None = None
        self._policy: dict[str, Any] | None = None
        self._focus: int | None = None
        self._problem = ""
        self._last_request_at = -1e9
        self._pending_since: float | None = None
        self._rendered_side = 0
        self.last_result: PreviewResult | None = None
        #: preview jobs started / aborted by a newer one (tests and the benchmark read these)
        self.started_count = 0
        self.aborted_count = 0
        self._running: set[JobWorker] = set()  # aborted renders may still be ending
        self._timer = tracked_timer(self, DEBOUNCE_MS, timeout=self.render_now)
        self._timer.setObjectName("previewDebounce")

        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, MAX_VARIANTS)
        self.count_spin.setValue(DEFAULT_VARIANTS)
        self.count_spin.setToolTip("How many variants to show")
        self.count_spin.setKeyboardTracking(False)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setToolTip("Base seed: variant k uses the same seed as variant k of a batch run with this seed")
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.setMinimumWidth(96)
        self.reshuffle_button = QToolButton()
        self.reshuffle_button.setText("⟳ Reshuffle")
        self.reshuffle_button.setToolTip("Pick a new seed")
        self.reshuffle_button.setAutoRaise(True)
        self.status_label = QLabel("")
        self.status_label.setObjectName("previewStatus")
        self.status_label.setStyleSheet("color: palette(placeholder-text);")

        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 8, 4)
        bar.setSpacing(6)
        title = QLabel("Preview")
        title.setStyleSheet("font-weight: 600;")
        bar.addWidget(title)
        bar.addSpacing(8)
        bar.addWidget(QLabel("Variants"))
        bar.addWidget(self.count_spin)
        bar.addWidget(QLabel("Seed"))
        bar.addWidget(self.seed_spin)
        bar.addWidget(self.reshuffle_button)
        bar.addStretch(1)
        bar.addWidget(self.status_label)

        self.view = PreviewTileView()
        self.view.placeholder = NO_ITEM
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

        self.count_spin.valueChanged.connect(self._on_settings)
        self.seed_spin.valueChanged.connect(self._on_settings)
        self.reshuffle_button.clicked.connect(self.reshuffle)

    # ---- inputs ------------------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return self.count_spin.value()

    @property
    def seed(self) -> int:
        return self.seed_spin.value()

    @property
    def source(self) -> PreviewSource | None:
        return self._source

    def set_count(self, n: int) -> None:
        self.count_spin.setValue(n)

    def set_seed(self, seed: int) -> None:
        self.seed_spin.setValue(seed)

    def reshuffle(self) -> None:
        self.seed_spin.setValue(random.randrange(0, MAX_SEED))

    def set_source(self, source: PreviewSource | None) -> None:
        if source == self._source:
            return
        self._source = source
        if source is None:
            self._slot.abort()
            self._timer.stop()
            self.show_placeholder(NO_ITEM)
            self.status_label.setText("")
            return
        self.schedule(immediate=True)

    def set_policy(self, policy: dict[str, Any] | None, focus: int | None = None, problem: str = "") -> None:
        """The policy document to preview (None while it is invalid; *problem* says why).

        *focus* is the top-level step being edited: the renderer caches the image before it.
        """
        self._focus = focus
        if policy is None:
            self._policy = None
            self._problem = problem
            self._slot.abort()
            self._timer.stop()
            self.status_label.setText(problem)
            return
        if policy == self._policy and not self._problem:
            return
        self._policy = copy.deepcopy(policy)
        self._problem = ""
        self.schedule()

    def set_focus(self, focus: int | None) -> None:
        self._focus = focus

    def _on_settings(self) -> None:
        self.settings_changed.emit()
        self.schedule(immediate=True)

    # ---- scheduling ----------------------------------------------------------------------------------
    def schedule(self, immediate: bool = False) -> None:
        """Ask for a render: at once after a quiet moment, else debounced (with a maximum wait)."""
        if self._source is None or self._policy is None:
            return
        now = time.monotonic()
        quiet = now - self._last_request_at >= DEBOUNCE_MS / 1000
        self._last_request_at = now
        if self._pending_since is None:
            self._pending_since = now
        waited_ms = (now - self._pending_since) * 1000
        if immediate or (quiet and not self._slot.is_busy()) or waited_ms >= MAX_WAIT_MS:
            self._timer.start(0)
        else:
            self._timer.start(DEBOUNCE_MS)

    def render_now(self) -> None:
        self._timer.stop()
        self._pending_since = None
        if self._source is None or self._policy is None:
            return
        dpr = self.devicePixelRatioF()
        side = int(self.view.best_side(self.count + 1) * dpr) if self._source.modality == "image" else 0
        self._rendered_side = side
        request = PreviewRequest(self._source, self._policy, self.seed, self.count, max(64, side), self._focus)
        worker = JobWorker(lambda cancel: preview_job(request, cancel), name="policy-preview")
        worker.progress.connect(self._on_progress)
        worker.returned.connect(self._on_result)
        worker.errored.connect(self._on_error)
        worker.aborted.connect(self._on_aborted)
        worker.finished.connect(lambda w=worker: self._running.discard(w))
        self._running.add(worker)
        self.started_count += 1
        if self.last_result is None or self._slot.is_busy():
            self.status_label.setText("Rendering…")
        self._slot.start(worker)

    def is_settled(self) -> bool:
        """Nothing waiting or rendering."""
        return not self._timer.isActive() and not self._slot.is_busy()

    def shutdown(self) -> None:
        """Stop rendering and wait for every render thread, older aborted ones included."""
        self._timer.stop()
        self._slot.abort()
        for worker in list(self._running):
            worker.abort()
            worker.wait()

    def show_placeholder(self, text: str, error: bool = False) -> None:
        """No tiles; *text* in the tile area instead (wrapped; in the error ink when *error*)."""
        self.view.placeholder = text
        self.view.placeholder_is_error = error
        self.view.show_tiles([], self.view.tile_model.modality)
        self.view.viewport().update()

    # ---- results -------------------------------------------------------------------------------------
    def _on_progress(self, progress: Any) -> None:
        if progress.message == LOADING_TEXT_OPS and self.sender() is self._slot.current:
            self.show_placeholder(LOADING_TEXT_OPS)
            self.status_label.setText("Loading…")
            self.status_label.setToolTip("The first text preview loads nlpaug and builds its augmenters (a few seconds)")

    def _on_aborted(self) -> None:
        self.aborted_count += 1

    def _on_error(self, message: str) -> None:
        self.status_label.setText(f"Preview failed: {message}")
        self.status_label.setToolTip(message)

    def _on_result(self, result: PreviewResult) -> None:
        self.last_result = result
        source = result.request.source
        modality = source.modality
        tiles: list[Tile] = []
        if result.source is not None:
            caption = "Original"
            tip = f"Original: {source.key}" + (f" · {source.label}" if source.label else "")
            if result.request.policy.get("preprocess"):
                tip += "\n(shown after pre-processing)"
            tiles.append(self._tile(result.source, caption, tip))
        for variant in result.variants:
            caption = f"#{variant.index}"
            tiles.append(self._tile(variant, caption, _chain_tooltip(caption, variant.seed, variant.chain, variant.error)))
        if result.error and not tiles:
            # Why there is nothing to show, in full where the tiles go (the status line is short).
            self.show_placeholder(result.error, error=True)
        else:
            if result.error:  # the source shows; the message takes the variants' place
                tiles.append(Tile(0, "Note", error=result.error, tooltip=result.error))
            self.view.show_tiles(tiles, modality)
        if result.error:
            self.status_label.setText("No preview")
            self.status_label.setToolTip(result.error)
        else:
            failed = sum(1 for v in result.variants if v.error)
            took = f"{result.seconds * 1000:.0f} ms" if result.seconds < 1 else f"{result.seconds:.1f} s"
            text = f"{len(result.variants)} variants in {took}"
            if failed:
                text += f" · {failed} failed"
            tip = f"seed {result.request.seed}; {result.prefix_hits} variants reused the steps before the one being edited"
            skipped = {str(link.get("op")): str(link["skipped"]) for v in result.variants for link in v.chain
                       if "skipped" in link}
            if skipped:
                text += f" · skipped for this item: {', '.join(sorted(skipped))}"
                tip += "\n" + "\n".join(f"{op} skipped ({why})" for op, why in sorted(skipped.items()))
            self.status_label.setText(text)
            self.status_label.setToolTip(tip)
        self.rendered.emit(result)

    @staticmethod
    def _tile(tile: Any, caption: str, tooltip: str) -> Tile:
        image = None
        if tile.image is not None:
            r = tile.image
            image = image_from_raw(r.width, r.height, r.mode, r.data)
            if tile.index < 0:
                tooltip = f"{tooltip}\n{r.full_width} × {r.full_height}"
        return Tile(tile.index, caption, image, tile.text, list(tile.spans), tooltip, tile.error)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # Much larger tiles than were rendered look soft: render again at the new size.
        if self._source is not None and self._source.modality == "image" and self._rendered_side:
            wanted = int(self.view.best_side(self.count + 1) * self.devicePixelRatioF())
            if wanted > self._rendered_side * 1.3:
                self.schedule()


def main(argv: list[str] | None = None) -> int:
    import os
    import sys

    from PySide6.QtWidgets import QApplication

    from genaug_desktop.core.policy import Policy
    from genaug_desktop.gui.resources import resource_dir

    args = sys.argv[1:] if argv is None else argv
    app = QApplication.instance() or QApplication(sys.argv[:1])
    target = args[0] if args else str(resource_dir() / "sample" / "images" / "circle" / "circle_000.png")
    preset = args[1] if len(args) > 1 else None
    if os.path.isfile(target) and not target.lower().endswith((".txt", ".csv")):
        source = PreviewSource(target, "image", path=target)
    else:
        source = PreviewSource("text", "text", text=target)
    preset = preset or ("image_medium" if source.modality == "image" else "text_typos")
    policy = Policy.load(str(resource_dir() / "presets" / f"{preset}.json")).to_json()
    preview = PolicyPreview()
    preview.resize(760, 420)
    preview.setWindowTitle("Policy preview — genaug-desktop")
    preview.show()
    preview.set_policy(policy)
    preview.set_source(source)
    rc = app.exec()
    preview.shutdown()
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
