"""The toolbar and menu icon set: monochrome SVGs in ``resources/icons/``, tinted when painted.

Each SVG draws with ``currentColor``. :class:`TintedSvgIconEngine` replaces it with the palette's
text colour of the moment (the disabled or highlighted text colour for those modes) and renders
at the exact size and device pixel ratio asked for, so one file is sharp at any scale and right
on light and dark themes without reloading anything: a theme change only needs a repaint.

The files are read from the installed ``genaug_desktop.resources`` package's folder (a wheel, an
editable install; ``importlib.resources`` where it is not a folder, a frozen bundle), on first
paint rather than at import.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QIconEngine, QImage, QPainter, QPalette, QPixmap

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

#: Every icon of the set (``resources/icons/NAME.svg``); a test checks that each one loads and draws.
ICON_NAMES: tuple[str, ...] = (
    "open-dataset", "open-text", "open-project", "open-sample", "recent", "export", "close", "quit",
    "new-policy", "open-policy", "save", "save-as", "augment", "policy-editor",
    "review", "accept", "reject", "accept-passed", "undo", "redo", "filter", "propose-rules", "rules",
    "statistics", "generators", "evaluate",
    "zoom-in", "zoom-out", "zoom-reset", "find", "browser", "details",
    "preferences", "shortcuts", "about", "user-guide",
    "error", "warning",  # the message bar's severities (info uses "about"): drawn, not font glyphs
)


class IconMissing(LookupError):
    """An icon name with no SVG in the installed resources (a packaging mistake)."""


@lru_cache(maxsize=1)
def _icons_folder() -> Traversable:
    from genaug_desktop.gui.resources import resource_dir

    folder = resource_dir() / "icons"
    if folder.is_dir():  # every supported install: a folder on disk (no importlib.resources, 3-11 ms)
        return folder
    from importlib import resources  # (a zipped or frozen package)

    return resources.files("genaug_desktop.resources").joinpath("icons")


@lru_cache(maxsize=None)
def svg_source(name: str) -> bytes:
    """The SVG text of icon *name*, read from the installed package's resources."""
    path = _icons_folder().joinpath(f"{name}.svg")
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise IconMissing(f"icon {name!r} is not in the installed resources (icons/{name}.svg)") from None


def tint_color(mode: QIcon.Mode, palette: QPalette | None = None) -> QColor:
    """The colour an icon is drawn in for *mode*: the text colour that the same place would use."""
    palette = palette if palette is not None else QGuiApplication.palette()
    if mode == QIcon.Mode.Disabled:
        return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
    if mode == QIcon.Mode.Selected:
        return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.HighlightedText)
    return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)


def render_svg(source: bytes, color: QColor, width: int, height: int) -> QImage:
    """*source* with ``currentColor`` set to *color*, rendered on a transparent image of that size.

    Through Qt's SVG image plug-in (QImageReader), not PySide6.QtSvg: importing that module makes
    PySide build every enum of its Qt namespace (~30 ms), and the toolbar's icons are painted in
    the window's first frame."""
    from PySide6.QtCore import QBuffer

    from PySide6.QtGui import QImageReader

    # SVG colours are #RRGGBB; a translucent palette colour becomes the painter's opacity.
    tinted = source.replace(b"currentColor", color.name().encode("ascii"))
    width, height = max(1, width), max(1, height)
    buffer = QBuffer()
    buffer.setData(QByteArray(tinted))
    reader = QImageReader(buffer, QByteArray(b"svg"))
    reader.setScaledSize(QSize(width, height))
    drawn = reader.read()
    premultiplied = QImage.Format.Format_ARGB32_Premultiplied
    if not drawn.isNull() and color.alpha() == 255:
        return drawn.convertToFormat(premultiplied)  # (drawn on a transparent image already)
    # Transparent pixels from zero bytes: QImage.fill's overloads make PySide build the Qt enums.
    image = QImage(bytes(4 * width * height), width, height, 4 * width, premultiplied).copy()
    if not drawn.isNull():
        painter = QPainter(image)
        painter.setOpacity(color.alphaF())
        painter.drawImage(QRectF(0, 0, width, height), drawn)
        painter.end()
    return image


class TintedSvgIconEngine(QIconEngine):
    """Draws one monochrome SVG in the palette's text colour, at the device pixel ratio painted on."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self._pixmaps: dict[tuple[int, int, int], QPixmap] = {}

    def clone(self) -> QIconEngine:
        return TintedSvgIconEngine(self.name)

    def key(self) -> str:
        return "genaug-tinted-svg"

    def iconName(self) -> str:
        return self.name

    def isNull(self) -> bool:
        return False

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:
        side = min(size.width(), size.height())  # the drawings are square
        return QSize(side, side)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        side = min(size.width(), size.height())
        pixels = max(1, round(side * scale))
        color = tint_color(mode)
        key = (pixels, color.rgba(), int(mode == QIcon.Mode.Disabled))
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            if len(self._pixmaps) > 32:  # a theme switched many times; keep the cache small
                self._pixmaps.clear()
            try:
                image = render_svg(svg_source(self.name), color, pixels, pixels)
            except IconMissing:
                premultiplied = QImage.Format.Format_ARGB32_Premultiplied
                image = QImage(bytes(4 * pixels * pixels), pixels, pixels, 4 * pixels, premultiplied).copy()
            pixmap = self._pixmaps[key] = QPixmap.fromImage(image)
        result = QPixmap(pixmap)
        result.setDevicePixelRatio(pixels / side if side else scale)
        return result

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        device = painter.device()
        scale = device.devicePixelRatioF() if device is not None else 1.0
        side = min(rect.width(), rect.height())
        pixmap = self.scaledPixmap(QSize(side, side), mode, state, scale)
        x = rect.x() + (rect.width() - side) // 2
        y = rect.y() + (rect.height() - side) // 2
        painter.drawPixmap(QRect(x, y, side, side), pixmap)


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The icon *name* of the set (see :data:`ICON_NAMES`), tinted for the current palette."""
    if name not in ICON_NAMES:
        raise IconMissing(f"{name!r} is not one of the app's icons")
    return QIcon(TintedSvgIconEngine(name))
