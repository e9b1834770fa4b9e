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
GRID_BACKGROUND = "#f4f5f7"


@lru_cache(maxsize=512)
def label_colors(label: str) -> tuple[QColor, QColor]:
    """A stable (background, text) colour pair for a class name, the same on every run."""
    hue = zlib.crc32(label.encode("utf-8")) % 360
    return QColor.fromHsv(hue, 55, 246), QColor.fromHsv(hue, 210, 120)


@lru_cache(maxsize=512)
def label_dot(label: str, size: int = 12) -> QIcon:
    """A small round swatch in the class colour, for lists of classes."""
    background, foreground = label_colors(label)
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(foreground)
    painter.setBrush(background)
    painter.drawEllipse(QRectF(1.5, 1.5, size - 3, size - 3))
    painter.end()
    return QIcon(pixmap)
