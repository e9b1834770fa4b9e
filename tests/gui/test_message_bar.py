"""The message bar: each severity shows the app's own drawn icon (never a font glyph that may be
missing from every installed font and paint as an empty box), in the bar's ink."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor

from genaug_desktop.gui import colors
from genaug_desktop.gui.message_bar import LEVEL_ICONS, MessageBar


def _ink_pixels(image, ink: QColor) -> int:
    count = 0
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            if c.alpha() > 200 and abs(c.red() - ink.red()) < 8 and abs(c.green() - ink.green()) < 8 \
                    and abs(c.blue() - ink.blue()) < 8:
                count += 1
    return count


@pytest.mark.parametrize("level", ["error", "warning", "info"])
def test_each_level_shows_a_drawn_icon_in_the_bar_ink(qtbot, level: str) -> None:
    bar = MessageBar()
    qtbot.addWidget(bar)
    bar.resize(500, 40)
    bar.show_message(level, "Something happened")
    assert bar.icon.text() == ""  # no glyph: a font may not have it
    pixmap = bar.icon.pixmap()
    assert not pixmap.isNull() and pixmap.width() >= 16
    _fill, _border, ink = colors.message_colors(level)
    assert _ink_pixels(pixmap.toImage(), ink) > 10  # the drawing is there, in the text's colour
    assert bar.icon.toolTip() == level.capitalize()


def test_levels_have_different_icons_and_a_theme_switch_recolours_it(qtbot) -> None:
    from genaug_desktop.gui.theme import ThemeController

    assert len(set(LEVEL_ICONS.values())) == 3
    controller = ThemeController("light")
    bar = MessageBar()
    qtbot.addWidget(bar)
    bar.show_message("error", "Cannot open it")
    error_image = bar.icon.pixmap().toImage()
    bar.show_message("warning", "3 files moved")
    assert bar.icon.pixmap().toImage() != error_image
    controller.set_preference("dark")
    _fill, _border, dark_ink = colors.message_colors("warning")
    assert _ink_pixels(bar.icon.pixmap().toImage(), dark_ink) > 10
    controller.set_preference("light")
