"""A non-modal strip at the top of the window for errors, warnings and notices.

Every error a person must see ends here (never a traceback, never a modal dialog that blocks
the window while background work goes on).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from genaug_desktop.gui.colors import follow_theme, message_colors
from genaug_desktop.gui.icons import render_svg, svg_source
from genaug_desktop.gui.timers import tracked_timer

#: The app's own SVG icons, drawn in the bar's ink: a font glyph (U+26D4 ...) is an empty box
#: where no installed font has it.
LEVEL_ICONS = {"error": "error", "warning": "warning", "info": "about"}
#: Information goes away by itself; errors and warnings stay until dismissed.
INFO_TIMEOUT_MS = 8000


class MessageBar(QFrame):
    """Shows one message at a time with a level ("error", "warning", "info") and a close button.

    ``history`` keeps every message shown (tests and the About box read it).
    """

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.level = ""
        self.history: list[tuple[str, str]] = []
        self.icon = QLabel()
        self.icon.setObjectName("messageIcon")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self._selectable = False
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.setSpacing(10)
        layout.addWidget(self.icon)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.close_button)
        self._hide_timer = tracked_timer(self, INFO_TIMEOUT_MS, timeout=self.dismiss)
        follow_theme(self, self._restyle)  # the sheet's colours are the theme's at the time it is set
        self.hide()

    @property
    def message(self) -> str:
        return "" if self.isHidden() else self.text.text()

    def show_message(self, level: str, message: str) -> None:
        self.level = level
        self.history.append((level, message))
        self._restyle()
        self.text.setText(message)
        if not self._selectable:
            # Set on first message, not at start-up (see gui.roles): people copy error texts.
            from PySide6.QtCore import Qt

            self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._selectable = True
        self.show()
        if level == "info":
            self._hide_timer.start()
        else:
            self._hide_timer.stop()

    def _restyle(self) -> None:
        """Colour the bar for its level in the theme now (light or dark: text 4.5:1 or more)."""
        if not self.level:
            return
        fill, border, ink = message_colors(self.level)
        sheet = (
            f"#messageBar {{ background: {fill.name()}; border: none; border-bottom: 1px solid {border.name()}; }}"
            f"#messageBar QLabel {{ color: {ink.name()}; }}"
        )
        if sheet != self.styleSheet():  # (setting a sheet changes the palette: no loop)
            self.setStyleSheet(sheet)
        self._draw_icon(ink)

    def _draw_icon(self, ink: QColor) -> None:
        """The level's icon in the bar's ink, one text line high, sharp at the screen's pixel ratio."""
        side = max(16, self.fontMetrics().height())
        ratio = self.devicePixelRatioF() or 1.0
        pixels = round(side * ratio)
        pixmap = QPixmap.fromImage(render_svg(svg_source(LEVEL_ICONS.get(self.level, "about")), ink, pixels, pixels))
        pixmap.setDevicePixelRatio(ratio)
        self.icon.setPixmap(pixmap)
        self.icon.setFixedSize(side, side)
        self.icon.setToolTip(self.level.capitalize())

    def show_error(self, message: str) -> None:
        self.show_message("error", message)

    def dismiss(self) -> None:
        self._hide_timer.stop()
        self.hide()
        self.dismissed.emit()

    def shutdown(self) -> None:
        self._hide_timer.stop()
