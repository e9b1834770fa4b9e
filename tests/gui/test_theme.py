"""Light and dark: following the system scheme, forcing one, and the custom-painted colours."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from genaug_desktop.gui import colors, theme
from genaug_desktop.gui.theme import ThemeController, dark_palette, effective_theme, is_dark
from theme_helpers import light_afterwards  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("light_afterwards")


def _contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours."""
    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_dark_palette_is_dark_and_readable() -> None:
    palette = dark_palette()
    assert is_dark(palette)
    role = QPalette.ColorRole
    for fg, bg in ((role.WindowText, role.Window), (role.Text, role.Base), (role.ButtonText, role.Button),
                   (role.HighlightedText, role.Highlight), (role.ToolTipText, role.ToolTipBase)):
        assert _contrast(palette.color(fg), palette.color(bg)) >= 4.5, (fg, bg)
    disabled = palette.color(QPalette.ColorGroup.Disabled, role.Text)
    assert 2.0 <= _contrast(disabled, palette.color(role.Base)) < _contrast(palette.color(role.Text), palette.color(role.Base))


def test_forced_dark_then_light(qapp) -> None:
    controller = ThemeController("system")
    assert controller.theme == "light" and not is_dark()  # the offscreen desktop says nothing: light
    changes: list[str] = []
    controller.theme_changed.connect(changes.append)
    controller.set_preference("dark")
    assert controller.theme == "dark" and is_dark()
    assert qapp.style().name().lower() == "fusion"
    # The shared colours of the delegates switched with it, in place.
    assert colors.CARD_FILL.lightness() < 80 and colors.MUTED_TEXT.lightness() > 120
    assert _contrast(qapp.palette().color(QPalette.ColorRole.Text), colors.CARD_FILL) >= 4.5
    # ... and the charts' (statistics, evaluation, loss curve).
    from genaug_desktop.gui import charts, loss_chart

    assert charts.INK is colors.CHART_INK and loss_chart.MUTED is colors.CHART_MUTED
    assert _contrast(colors.CHART_INK, colors.CHART_CARD) >= 7 and _contrast(colors.CHART_MUTED, colors.CHART_CARD) >= 4.5
    assert colors.CHART_CARD.lightness() < 80
    controller.set_preference("light")
    assert controller.theme == "light" and not is_dark()
    assert colors.CARD_FILL == QColor("#ffffff") and colors.CHART_CARD == QColor("#ffffff")
    assert changes == ["dark", "light"]


def test_system_preference_follows_the_desktop(qapp, monkeypatch: pytest.MonkeyPatch) -> None:
    controller = ThemeController("system")
    scheme = {"now": "light"}
    monkeypatch.setattr(theme, "system_scheme", lambda: scheme["now"])
    hints = QGuiApplication.styleHints()
    scheme["now"] = "dark"
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert controller.theme == "dark" and is_dark()
    scheme["now"] = "light"
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert controller.theme == "light"
    # A forced choice ignores the desktop.
    controller.set_preference("dark")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert controller.theme == "dark"


def test_unknown_theme_is_refused() -> None:
    with pytest.raises(ValueError, match="theme must be one of system, light, dark, not 'sepia'"):
        effective_theme("sepia")


def test_style_sheets_naming_palette_roles_follow_a_switch(qtbot) -> None:
    from PySide6.QtWidgets import QLabel

    label = QLabel("muted words in a panel")
    label.setStyleSheet("color: palette(placeholder-text);")  # how the panels write muted text
    qtbot.addWidget(label)
    label.show()

    def ink() -> QColor:
        image = label.grab().toImage()
        colours = [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())]
        return max(colours, key=lambda c: abs(c.lightness() - colours[0].lightness()))

    placeholder = QPalette.ColorRole.PlaceholderText
    controller = ThemeController("light")  # (the light palette's muted text is 4.5:1 on the window too)
    light_ink = ink()
    assert light_ink.name() == "#5c6370"
    assert _contrast(light_ink, QGuiApplication.palette().color(QPalette.ColorRole.Window)) >= 4.5
    controller.set_preference("dark")
    assert ink().name() == dark_palette().color(placeholder).name() != light_ink.name()
    assert _contrast(ink(), dark_palette().color(QPalette.ColorRole.Window)) >= 4.5
    controller.set_preference("light")
    assert ink().name() == light_ink.name()


def test_welcome_page_switches_with_the_theme(qtbot, tmp_path) -> None:
    from PySide6.QtWidgets import QFrame

    from genaug_desktop.gui.main_window import MainWindow
    from genaug_desktop.gui.settings import AppSettings

    window = MainWindow(AppSettings())
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.settings.add_recent(str(tmp_path))
    window._refresh_recent()
    welcome = window.welcome
    card = welcome.findChild(QFrame, "welcomeCard")

    def card_colour() -> QColor:
        corner = card.mapTo(welcome, card.rect().topLeft())
        return welcome.grab().toImage().pixelColor(corner.x() + 12, corner.y() + 12)

    assert card_colour().lightness() > 200
    window.theme.set_preference("dark")
    dark_card = card_colour()
    assert dark_card.lightness() < 80
    # The title and the recent entries are drawn in the dark inks, readable on the dark card.
    ink = QColor("#e4e6ea")
    assert _contrast(dark_card, ink) >= 4.5
    assert "color: #e4e6ea" in welcome.styleSheet()
    label = welcome.recent_list.itemWidget(welcome.recent_list.item(0))
    assert ink.name() in label.text()


def test_saved_theme_applies_when_the_window_opens(qtbot) -> None:
    from genaug_desktop.gui.main_window import MainWindow
    from genaug_desktop.gui.settings import AppSettings

    settings = AppSettings()
    settings.theme = "dark"
    window = MainWindow(settings)
    qtbot.addWidget(window)
    assert window.theme.preference == "dark" and is_dark()
    assert colors.CARD_FILL.lightness() < 80
