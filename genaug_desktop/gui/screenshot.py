"""Save a picture of a widget once it has finished loading (``--screenshot``)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget

from genaug_desktop.gui.timers import tracked_timer


class ScreenshotWhenReady(QObject):
    """Polls ``is_ready()`` every 100 ms; when it holds (or after *timeout_s*), paints *widget*
    once more and saves ``widget.grab()`` to *path*. Emits ``saved(ok, message)``."""

    saved = Signal(bool, str)

    def __init__(
        self, widget: QWidget, path: str, is_ready: Callable[[], bool], timeout_s: float = 20.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.widget = widget
        self.path = path
        self.is_ready = is_ready
        self.timed_out = False
        self._deadline = time.monotonic() + timeout_s
        self._ready_polls = 0
        self._timer = tracked_timer(self, 100, single_shot=False, timeout=self._poll)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _poll(self) -> None:
        if self.is_ready():
            # Two polls in a row: the last thumbnails have had one full event-loop turn to paint.
            self._ready_polls += 1
            if self._ready_polls < 2:
                return
        elif time.monotonic() < self._deadline:
            self._ready_polls = 0
            return
        else:
            self.timed_out = True
        self._timer.stop()
        QApplication.processEvents()
        image = self.widget.grab()
        if image.isNull() or not image.save(self.path):
            self.saved.emit(False, f"cannot save the screenshot to {self.path}")
        else:
            note = " (timed out waiting for loading to finish)" if self.timed_out else ""
            self.saved.emit(True, f"saved {self.path}{note}")
