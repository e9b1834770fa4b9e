"""The toolbar icon set: every icon ships in the installed package, draws, follows the palette's
text colour, and is sharp at a device pixel ratio of 2."""

from __future__ import annotations

from importlib import resources

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPalette

from genaug_desktop.gui.icons import ICON_NAMES, IconMissing, icon, render_svg, svg_source, tint_color


def test_every_icon_is_in_the_installed_package_and_nothing_else_is() -> None:
    folder = resources.files("genaug_desktop.resources").joinpath("icons")
    shipped = {entry.name[:-4] for entry in folder.iterdir() if entry.name.endswith(".svg")}
    assert set(ICON_NAMES) <= shipped
    # Every SVG there is in the set (the app icon aside), so none is drawn and forgotten.
    assert shipped - set(ICON_NAMES) == {"genaug"}
    for name in ICON_NAMES:
        source = svg_source(name)
        assert source.startswith(b"<svg") and b"currentColor" in source, name
        assert b"#" not in source, f"{name}: a fixed colour would not follow the theme"


@pytest.mark.parametrize("name", ICON_NAMES)
def test_each_icon_draws_in_the_colour_asked(qapp, name: str) -> None:
    image = render_svg(svg_source(name), QColor("#ff0000"), 48, 48)
    inked = [image.pixelColor(x, y) for x in range(48) for y in range(48) if image.pixelColor(x, y).alpha() > 200]
    assert len(inked) > 60, f"{name} draws almost nothing"
    assert all(c.red() > 200 and c.green() < 40 and c.blue() < 40 for c in inked)


def _ink(qicon: QIcon, mode: QIcon.Mode = QIcon.Mode.Normal, ratio: float = 1.0) -> tuple[QImage, set[int]]:
    image = QImage(int(24 * ratio), int(24 * ratio), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(0)
    painter = QPainter(image)
    qicon.paint(painter, QRect(0, 0, 24, 24), mode=mode)
    painter.end()
    opaque = {image.pixel(x, y) & 0xFFFFFF for x in range(image.width()) for y in range(image.height())
              if image.pixelColor(x, y).alpha() == 255}
    return image, opaque


def test_icons_follow_the_palette_text_colour(qapp) -> None:
    before = QPalette(qapp.palette())
    try:
        for text in ("#101010", "#f0f0f0"):
            palette = QPalette(before)
            palette.setColor(QPalette.ColorRole.WindowText, QColor(text))
            palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#808080"))
            qapp.setPalette(palette)
            assert tint_color(QIcon.Mode.Normal) == QColor(text)
            _, normal = _ink(icon("export"))
            assert normal == {QColor(text).rgb() & 0xFFFFFF}
            _, disabled = _ink(icon("export"), QIcon.Mode.Disabled)
            assert disabled == {0x808080}
    finally:
        qapp.setPalette(before)


def test_icons_are_drawn_at_the_device_pixel_ratio(qapp) -> None:
    pixmap = icon("open-dataset").pixmap(QSize(20, 20), 2.0)
    assert (pixmap.width(), pixmap.height(), pixmap.devicePixelRatio()) == (40, 40, 2.0)
    painted, _ = _ink(icon("close"), ratio=2.0)
    # What reaches the 2x device is the SVG rendered at 48 px, not a 24 px image scaled up.
    color = tint_color(QIcon.Mode.Normal)
    native = render_svg(svg_source("close"), color, 48, 48)
    upscaled = render_svg(svg_source("close"), color, 24, 24).scaled(48, 48)
    assert painted.convertToFormat(native.format()) == native
    assert native != upscaled


def test_unknown_icon_is_refused_with_its_name() -> None:
    with pytest.raises(IconMissing, match="'nope' is not one of the app's icons"):
        icon("nope")


def test_class_dots_carry_a_pixmap_for_high_dpi_screens(qapp) -> None:
    from genaug_desktop.gui.colors import label_dot

    sizes = {(s.width(), s.height()) for s in label_dot("cat", 12).availableSizes()}
    assert {(12, 12), (24, 24)} <= sizes  # drawn at 2x, not a 12 px dot scaled up
