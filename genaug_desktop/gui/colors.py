"""Colours shared by delegates and panels, and the stable colour of each class."""

from __future__ import annotations

import zlib
from functools import lru_cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

CARD_BORDER = QColor("#d7dbe1")
CARD_FILL = QColor("#ffffff")
PLACEHOLDER_FILL = QColor("#eef0f3")
PLACEHOLDER_GLYPH = QColor("#c9ced6")
BROKEN_FILL = QColor("#fdecea")
BROKEN_BORDER = QColor("#e0645c")
BROKEN_TEXT = QColor("#9b1c1c")
MUTED_TEXT = QColor("#6b7280")
# Charts (statistics, evaluation, loss curve): a card with axes, grid lines and labels.
CHART_CARD = QColor("#ffffff")
CHART_CARD_BORDER = QColor("#e4e7ec")
CHART_AXIS = QColor("#d0d5dd")
CHART_GRID = QColor("#eaecf0")
CHART_INK = QColor("#344054")
CHART_MUTED = QColor("#667085")
CHART_PASS_SHADE = QColor("#ecfdf3")  # a rule's pass interval behind a histogram
# A style-sheet colour: the palette's, so that the grids follow a light or dark theme live.
GRID_BACKGROUND = "palette(alternate-base)"

# The light values above, and their dark counterparts; use_dark() switches the QColor objects in
# place, so every delegate that imported them paints in the theme's colours from the next paint.
_LIGHT = {name: QColor(value) for name, value in (
    ("CARD_BORDER", CARD_BORDER), ("CARD_FILL", CARD_FILL), ("PLACEHOLDER_FILL", PLACEHOLDER_FILL),
    ("PLACEHOLDER_GLYPH", PLACEHOLDER_GLYPH), ("BROKEN_FILL", BROKEN_FILL), ("BROKEN_BORDER", BROKEN_BORDER),
    ("BROKEN_TEXT", BROKEN_TEXT), ("MUTED_TEXT", MUTED_TEXT), ("CHART_CARD", CHART_CARD),
    ("CHART_CARD_BORDER", CHART_CARD_BORDER), ("CHART_AXIS", CHART_AXIS), ("CHART_GRID", CHART_GRID),
    ("CHART_INK", CHART_INK), ("CHART_MUTED", CHART_MUTED), ("CHART_PASS_SHADE", CHART_PASS_SHADE))}
_DARK = {"CARD_BORDER": "#44474e", "CARD_FILL": "#2f3136", "PLACEHOLDER_FILL": "#3a3d43",
         "PLACEHOLDER_GLYPH": "#5c6069", "BROKEN_FILL": "#4a2524", "BROKEN_BORDER": "#e0645c",
         "BROKEN_TEXT": "#ffb4ab", "MUTED_TEXT": "#a3a9b3", "CHART_CARD": "#2f3136",
         "CHART_CARD_BORDER": "#44474e", "CHART_AXIS": "#5a5e67", "CHART_GRID": "#3a3d44",
         "CHART_INK": "#e4e6ea", "CHART_MUTED": "#a3a9b3", "CHART_PASS_SHADE": "#1f3b2c"}


def use_dark(dark: bool) -> None:
    """Switch the shared colours to their dark (or back to their light) values, in place."""
    for name, light in _LIGHT.items():
        globals()[name].setRgba((QColor(_DARK[name]) if dark else light).rgba())


@lru_cache(maxsize=512)
def label_colors(label: str) -> tuple[QColor, QColor]:
    """A stable (background, text) colour pair for a class name, the same on every run."""
    hue = zlib.crc32(label.encode("utf-8")) % 360
    return QColor.fromHsv(hue, 55, 246), QColor.fromHsv(hue, 210, 120)


@lru_cache(maxsize=512)
def label_dot(label: str, size: int = 12) -> QIcon:
    """A small round swatch in the class colour, for lists of classes."""
    background, foreground = label_colors(label)
    icon = QIcon()
    for scale in (1, 2, 3):  # one pixmap per device pixel ratio: sharp on high-DPI screens too
        pixmap = QPixmap(size * scale, size * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(foreground)
        painter.setBrush(background)
        painter.drawEllipse(QRectF(1.5, 1.5, size - 3, size - 3))
        painter.end()
        icon.addPixmap(pixmap)
    return icon
