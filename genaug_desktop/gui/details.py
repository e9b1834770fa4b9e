"""The details panel: the selected item shown large, with its metadata.

The large image is decoded in the background through the worker (newest selection wins: moving
through the grid quickly never queues up decodes), never on the GUI thread. Text items show their
full text.

Run alone: ``python -m genaug_desktop.gui.details [DATASET]`` (shows the first item).
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.core.formatting import human_bytes
from genaug_desktop.gui.models import item_name
from genaug_desktop.gui.thumbnails import image_from_raw
from genaug_desktop.gui.worker import JobSlot, JobWorker

if TYPE_CHECKING:
    from genaug_desktop.core.datasets.model import Item
    from genaug_desktop.core.jobs import CancelToken

#: Longest side of the decoded preview; larger images are reduced while decoding.
PREVIEW_SIDE = 1024


def decode_preview(path: str, cancel: CancelToken) -> tuple[int, int, str, bytes]:
    """Decode *path* for display, fitted in ``PREVIEW_SIDE`` (runs in a job thread)."""
    from genaug_desktop.core.datasets.images import make_thumbnail

    cancel.raise_if_cancelled()
    return make_thumbnail(path, PREVIEW_SIDE)


class ImagePreview(QLabel):
    """Shows a QImage scaled to fit, keeping its aspect ratio; a message when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("QLabel { background: palette(alternate-base); border: 1px solid palette(midlight); "
                           "border-radius: 6px; color: palette(placeholder-text); }")
        self.setWordWrap(True)

    @property
    def image(self) -> QImage | None:
        return self._image

    def set_image(self, image: QImage | None, message: str = "") -> None:
        self._image = image
        if image is None:
            self.setPixmap(QPixmap())
            self.setText(message)
        else:
            self.setText("")
            self._rescale()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._image is None:
            return
        dpr = self.devicePixelRatioF()
        room = self.contentsRect().size() * dpr
        room.setWidth(max(1, room.width() - 8))
        room.setHeight(max(1, room.height() - 8))
        img = self._image
        # Small images are enlarged without smoothing so their pixels stay visible and sharp.
        upscale = img.width() < room.width() / 2 and img.height() < room.height() / 2
        mode = Qt.TransformationMode.FastTransformation if upscale else Qt.TransformationMode.SmoothTransformation
        pixmap = QPixmap.fromImage(img.scaled(room, Qt.AspectRatioMode.KeepAspectRatio, mode))
        pixmap.setDevicePixelRatio(dpr)
        self.setPixmap(pixmap)


class DetailsPanel(QWidget):
    """The current item large (image or full text) and its metadata: key, path, label, size,
    dimensions, format, mode, SHA-256. ``preview_failed(path, reason)`` reports a decode failure."""

    preview_failed = Signal(str, str)
    preview_ready = Signal(str)

    FIELDS = ("Key", "Path", "Label", "Size", "Dimensions", "Format", "Mode", "Line", "SHA-256")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item: Item | None = None
        self.path: str | None = None
        self._jobs = JobSlot(self)

        self.title = QLabel("No item selected")
        title_font = QFont(self.title.font())
        title_font.setPointSizeF(title_font.pointSizeF() + 2)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel("Select an item in the grid to see it here.")
        self.subtitle.setStyleSheet("color: palette(placeholder-text);")
        self.subtitle.setWordWrap(True)

        self.preview = ImagePreview()
        self.text_view = QPlainTextEdit()
        self.text_view.setReadOnly(True)
        self.text_view.setStyleSheet(  # the palette's: a white page in the light theme, a dark one in the dark
            "QPlainTextEdit { background: palette(base); border: 1px solid palette(midlight); border-radius: 6px; }")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.preview)
        self.stack.addWidget(self.text_view)

        self.values: dict[str, QLabel] = {}
        form_box = QWidget()
        form = QFormLayout(form_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(4)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for field in self.FIELDS:
            name = QLabel(field)
            name.setStyleSheet("color: palette(placeholder-text);")
            value = QLabel("")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            value.setMinimumWidth(60)
            if field == "SHA-256":
                value.setFont(mono)
            form.addRow(name, value)
            self.values[field] = value
        self._form = form
        scroll = QScrollArea()
        scroll.setWidget(form_box)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.stack, 3)
        layout.addWidget(scroll, 2)
        self.show_item(None)

    # ---- public API ------------------------------------------------------------------------------
    def show_item(self, item: Item | None, path: str | None = None, selected: int = 1) -> None:
        """Show *item* (whose source file is *path*), or the empty state for None."""
        self.item = item
        self.path = path
        self._jobs.abort()
        if item is None:
            self.title.setText("No item selected")
            self.subtitle.setText("Select an item in the grid to see it here.")
            self.preview.set_image(None, "")
            self.stack.setCurrentWidget(self.preview)
            for value in self.values.values():
                value.setText("")
            self._set_rows_visible(set())
            return
        self.title.setText(item_name(item))
        extra = f"{selected:,} items selected · " if selected > 1 else ""
        self.subtitle.setText(f"{extra}{item.modality} item")
        self._fill_metadata(item, path)
        if item.modality == "text":
            self.stack.setCurrentWidget(self.text_view)
            self.text_view.setPlainText(item.text or "")
            return
        self.stack.setCurrentWidget(self.preview)
        if path is None:
            self.preview.set_image(None, "No file to show.")
            return
        self.preview.set_image(None, "Loading…")
        worker = JobWorker(functools.partial(decode_preview, path), name="preview")
        # Bound methods, not lambdas: Qt drops the connection if this panel is destroyed first.
        worker.returned.connect(self._on_decoded)
        worker.errored.connect(self._on_failed)
        self._jobs.start(worker)

    def is_loading(self) -> bool:
        return self._jobs.is_busy()

    def shutdown(self) -> None:
        self._jobs.abort()
        if self._jobs.current is not None:
            self._jobs.current.wait()

    # ---- internals -------------------------------------------------------------------------------
    def _fill_metadata(self, item: Item, path: str | None) -> None:
        dims = f"{item.width} × {item.height} px" if item.width and item.height else ""
        size = (
            f"{human_bytes(item.size)} ({item.size:,} bytes)" if item.modality == "image" and item.size >= 1024
            else human_bytes(item.size) if item.modality == "image"
            else f"{item.size:,} characters"
        )
        values = {
            "Key": item.key,
            "Path": path or item.path,
            "Label": item.label if item.label is not None else "(none)",
            "Size": size,
            "Dimensions": dims,
            "Format": item.format or "",
            "Mode": item.mode or "",
            "Line": str(item.line) if item.line is not None else "",
            "SHA-256": item.sha256,
        }
        for field, text in values.items():
            label = self.values[field]
            label.setText(text)
            label.setToolTip(text if len(text) > 40 else "")
        shown = {f for f, t in values.items() if t}
        self._set_rows_visible(shown)
        # Long paths and hashes must wrap anywhere, not only at spaces.
        for field in ("Path", "SHA-256", "Key"):
            text = values[field]
            self.values[field].setText(_breakable(text))

    def _set_rows_visible(self, shown: set[str]) -> None:
        for row, field in enumerate(self.FIELDS):
            self._form.setRowVisible(row, field in shown)

    def _on_decoded(self, raw: tuple[int, int, str, bytes]) -> None:
        if self.sender() is not self._jobs.current or self.path is None:
            return
        self.preview.set_image(image_from_raw(*raw))
        self.preview_ready.emit(self.path)

    def _on_failed(self, message: str) -> None:
        if self.sender() is not self._jobs.current or self.path is None:
            return
        self.preview.set_image(None, f"⚠ Cannot show this image\n\n{message}")
        self.preview_failed.emit(self.path, message)


def _breakable(text: str) -> str:
    """Insert zero-width spaces after separators (and every 16 hex digits) so QLabel can wrap."""
    if os.sep in text or "/" in text:
        return text.replace("/", "/\u200b").replace("\\", "\\\u200b")
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return "\u200b".join(text[i : i + 16] for i in range(0, 64, 16))
    return text


def main(argv: list[str] | None = None) -> int:
    from genaug_desktop.gui.demo import run_panel_demo
    from genaug_desktop.gui.session import DatasetSession

    def build(session: DatasetSession) -> QWidget:
        panel = DetailsPanel()

        def show_first() -> None:
            if session.items.rowCount():
                item = session.items.item(0)
                panel.show_item(item, session.items.abspath(item))

        session.loaded.connect(show_first)
        return panel

    return run_panel_demo(build, argv, title="Details", size=(380, 720))


if __name__ == "__main__":
    raise SystemExit(main())
