"""The details panel: the selected item shown large, with its metadata.

The large image is decoded in the background through the worker (newest selection wins: moving
through the grid quickly never queues up decodes), never on the GUI thread. Text items show their
full text.

A problem of the dataset (a file the scan skipped) can be shown too (:meth:`DetailsPanel.show_problem`):
its path, reason, line and size, and the file itself when it can be shown at all (the image, or the
text around the bad line), read in a job thread as well.

Run alone: ``python -m genaug_desktop.gui.details [DATASET]`` (shows the first item).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
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
from genaug_desktop.gui.colors import ERROR_INK, ink_sheet, themed_style_sheet
from genaug_desktop.gui.models import item_name
from genaug_desktop.gui.thumbnails import image_from_raw
from genaug_desktop.gui.worker import JobSlot, JobWorker

if TYPE_CHECKING:
    from genaug_desktop.core.datasets.model import Item, Problem
    from genaug_desktop.core.jobs import CancelToken

#: Longest side of the decoded preview; larger images are reduced while decoding.
PREVIEW_SIDE = 1024
#: How much of a problem text file is read to show it (around the bad line when there is one).
TEXT_PEEK_BYTES = 256 * 1024
TEXT_CONTEXT_LINES = 6


@dataclass(frozen=True, slots=True)
class ProblemFile:
    """What a problem's file holds, as far as it can be shown: an image, some text, or why neither."""

    size: int | None
    image: tuple[int, int, str, bytes] | None = None
    text: str | None = None
    note: str = ""


def inspect_problem_file(path: str, line: int | None, cancel: CancelToken) -> ProblemFile:
    """Read what can be shown of *path* (runs in a job thread): the image, else the text (the lines
    around *line*), else a note saying why nothing can be shown."""
    from genaug_desktop.core.datasets.model import IMAGE_EXTENSIONS, TEXT_EXTENSIONS
    from genaug_desktop.gui.worker import describe_error

    cancel.raise_if_cancelled()
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        return ProblemFile(None, note=f"The file cannot be read: {exc.strerror or exc}.")
    if not os.path.isfile(path):
        return ProblemFile(None, note="This is not a file.")
    if size == 0:
        return ProblemFile(0, note="The file is empty: there is nothing to show.")
    ext = os.path.splitext(path)[1].lower()
    image_error = ""
    if ext not in TEXT_EXTENSIONS:
        try:
            return ProblemFile(size, image=decode_preview(path, cancel))
        except Exception as exc:  # (shown to the person: why the file is a problem is why it cannot show)
            image_error = describe_error(exc)
    try:
        with open(path, "rb") as f:
            head = f.read(TEXT_PEEK_BYTES)
    except OSError as exc:
        return ProblemFile(size, note=f"The file cannot be read: {exc.strerror or exc}.")
    text = head.decode("utf-8", errors="replace")
    if b"\0" in head or (ext in IMAGE_EXTENSIONS and image_error) or (ext not in TEXT_EXTENSIONS and text.count("\ufffd") > 8):
        return ProblemFile(size, note=f"The file cannot be shown: {image_error or 'it is neither an image nor text'}.")
    return ProblemFile(size, text=_text_around(text, line, size > len(head)))


def _text_around(text: str, line: int | None, cut: bool) -> str:
    lines = text.splitlines()
    if line is None or not 1 <= line <= len(lines):
        return text + ("\n…" if cut else "")
    first = max(1, line - TEXT_CONTEXT_LINES)
    last = min(len(lines), line + TEXT_CONTEXT_LINES)
    width = len(str(last))
    return "\n".join(f"{'›' if n == line else ' '} {n:>{width}}  {lines[n - 1]}" for n in range(first, last + 1))


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

    FIELDS = ("Problem", "Key", "Path", "Label", "Size", "Dimensions", "Format", "Mode", "Line", "SHA-256")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item: Item | None = None
        self.problem: Problem | None = None
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
            if field == "Problem":
                themed_style_sheet(value, ink_sheet(ERROR_INK))
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
        self.problem = None
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

    def show_problem(self, problem: Problem, path: str | None = None) -> None:
        """Show a problem of the dataset (a file the scan skipped, *path* on disk): its reason, path,
        line and size, and the file as far as it can be shown (read in a job thread)."""
        self.item = None
        self.problem = problem
        self.path = path
        self._jobs.abort()
        self.title.setText(os.path.basename(problem.path.rstrip("/")) or problem.path)
        self.subtitle.setText("problem · not in the dataset (the scan skipped it)")
        values = {"Problem": problem.reason, "Key": problem.path, "Path": path or problem.path,
                  "Line": str(problem.line) if problem.line is not None else ""}
        for field in self.FIELDS:
            text = values.get(field, "")
            self.values[field].setText(_breakable(text) if field in ("Path", "Key") else text)
            self.values[field].setToolTip(text if len(text) > 40 else "")
        self._set_rows_visible({f for f, t in values.items() if t})
        self.stack.setCurrentWidget(self.preview)
        if path is None:
            self.preview.set_image(None, "No file to show.")
            return
        self.preview.set_image(None, "Loading…")
        worker = JobWorker(functools.partial(inspect_problem_file, path, problem.line), name="problem-file")
        worker.returned.connect(self._on_problem_file)
        worker.errored.connect(self._on_problem_failed)
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
            "Problem": "",
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


    def _on_problem_file(self, found: ProblemFile) -> None:
        if self.sender() is not self._jobs.current or self.problem is None:
            return
        if found.size is not None:
            self.values["Size"].setText(f"{human_bytes(found.size)} ({found.size:,} bytes)" if found.size >= 1024
                                        else human_bytes(found.size))
            self._form.setRowVisible(self.FIELDS.index("Size"), True)
        if found.image is not None:
            self.preview.set_image(image_from_raw(*found.image))
        elif found.text is not None:
            self.stack.setCurrentWidget(self.text_view)
            self.text_view.setPlainText(found.text)
        else:
            self.preview.set_image(None, f"⚠ {found.note}")

    def _on_problem_failed(self, message: str) -> None:
        if self.sender() is self._jobs.current and self.problem is not None:
            self.preview.set_image(None, f"⚠ The file cannot be shown: {message}")


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
