"""Panels built when first shown: :class:`LazyPanel` holds a panel's place in a dock until then.

Building every dock's panel when a dataset first opens stalled the window for a tenth of a
second; most of them sit in hidden dock tabs. A LazyPanel is an empty widget in the dock; the
first time it is painted (its tab raised, the dock opened, a saved layout restored with it
visible) it builds the panel on the next event-loop turn, and :meth:`LazyPanel.ensure` builds it at once
for code that needs the panel now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtCore import QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

P = TypeVar("P", bound=QWidget)


class LazyPanel(QWidget, Generic[P]):
    """Stands in for the panel ``factory()`` makes, and holds it once made."""

    def __init__(self, factory: Callable[[], P], name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if name:
            self.setObjectName(name)
        self._factory = factory
        self._panel: P | None = None
        self._pending = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

    @property
    def panel(self) -> P | None:
        """The panel, or None while it is not built."""
        return self._panel

    def ensure(self) -> P:
        """The panel, built now if it was not."""
        if self._panel is None:
            panel = self._factory()
            self._panel = panel
            layout = self.layout()
            assert layout is not None
            layout.addWidget(panel)
            panel.show()  # now, not on the next turn as a layout would
        return self._panel

    def paintEvent(self, event: QPaintEvent) -> None:
        # Painted, not just shown: a dock in a tab that is not raised gets a show event too, while
        # the main window lays its docks out. Built on the next turn, not inside this paint.
        super().paintEvent(event)
        if self._panel is None and not self._pending:
            self._pending = True
            QTimer.singleShot(0, self, self._build_shown)

    def _build_shown(self) -> None:
        self._pending = False
        if self._panel is None and self.isVisible():
            self.ensure()
