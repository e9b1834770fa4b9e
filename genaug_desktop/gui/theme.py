"""Light and dark themes: follow the desktop's colour scheme, or a forced choice from Preferences.

``ThemeController`` owns the decision. With the preference "system" it reads
``QStyleHints.colorScheme()`` (Qt 6.5+) and follows ``colorSchemeChanged``; "light" and "dark" force
one. Dark is a Fusion palette (the platform styles of Windows and macOS ignore a dark palette);
light is the style's own palette, so a light desktop keeps its native look and the window's start
costs nothing extra. Custom-painted widgets read :func:`is_dark` or the palette when they paint,
and the shared colours of :mod:`genaug_desktop.gui.colors` are switched with the palette.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from genaug_desktop.gui.settings import THEMES

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

# (role, active colour, disabled colour or None for the same)
_DARK_ROLES: tuple[tuple[QPalette.ColorRole, str, str | None], ...] = (
    (QPalette.ColorRole.Window, "#2b2d31", None),
    (QPalette.ColorRole.WindowText, "#e4e6ea", "#7c818a"),
    (QPalette.ColorRole.Base, "#1f2023", "#27292d"),
    (QPalette.ColorRole.AlternateBase, "#26282c", None),
    (QPalette.ColorRole.ToolTipBase, "#3a3d43", None),
    (QPalette.ColorRole.ToolTipText, "#e4e6ea", None),
    (QPalette.ColorRole.PlaceholderText, "#9a9fa8", None),  # muted text, 4.5:1 on Window
    (QPalette.ColorRole.Text, "#e4e6ea", "#7c818a"),
    (QPalette.ColorRole.Button, "#35383d", "#2e3034"),
    (QPalette.ColorRole.ButtonText, "#e4e6ea", "#7c818a"),
    (QPalette.ColorRole.BrightText, "#ff7b72", None),
    (QPalette.ColorRole.Light, "#4a4d54", None),
    (QPalette.ColorRole.Midlight, "#3d4046", None),
    (QPalette.ColorRole.Mid, "#2a2c30", None),
    (QPalette.ColorRole.Dark, "#1a1b1e", None),
    (QPalette.ColorRole.Shadow, "#0d0d0f", None),
    (QPalette.ColorRole.Highlight, "#3b6fd6", "#44474d"),
    (QPalette.ColorRole.HighlightedText, "#ffffff", "#9aa0a8"),
    (QPalette.ColorRole.Link, "#7fb0ff", None),
    (QPalette.ColorRole.LinkVisited, "#c29bff", None),
)


#: The light palette's muted text (4.5:1 or more on the window, a list and a button)
LIGHT_PLACEHOLDER = "#5c6370"


def dark_palette() -> QPalette:
    """The app's dark palette (every role, active and disabled)."""
    palette = QPalette()
    for role, color, disabled in _DARK_ROLES:
        palette.setColor(role, QColor(color))
        if disabled is not None:
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled))
    if hasattr(QPalette.ColorRole, "Accent"):  # Qt 6.6+
        palette.setColor(QPalette.ColorRole.Accent, QColor("#3b6fd6"))
    return palette


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether *palette* (default: the application's) draws light text on a dark window."""
    palette = palette if palette is not None else QGuiApplication.palette()
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    return window.lightness() < text.lightness()


def system_scheme() -> str:
    """"dark" when the desktop asks for a dark scheme, else "light" (also when it does not say)."""
    app = QGuiApplication.instance()
    if app is None:
        return "light"
    from PySide6.QtCore import Qt  # (not at import: see ThemeController.set_preference)

    scheme = QGuiApplication.styleHints().colorScheme()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def effective_theme(preference: str) -> str:
    """The theme that *preference* ("system", "light" or "dark") means on this desktop now."""
    if preference not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}, not {preference!r}")
    return system_scheme() if preference == "system" else preference


def _request_scheme(preference: str) -> None:
    """Ask the platform (Qt 6.8+) for the forced scheme too, so that title bars and native dialogs
    match; platforms that cannot (offscreen, older Qt) ignore it and the palette does the work."""
    hints = QGuiApplication.styleHints()
    if preference == "system":
        if hasattr(hints, "unsetColorScheme"):
            hints.unsetColorScheme()
    elif hasattr(hints, "setColorScheme"):
        from PySide6.QtCore import Qt

        hints.setColorScheme(Qt.ColorScheme.Dark if preference == "dark" else Qt.ColorScheme.Light)


def refresh_style_sheets(app: QApplication) -> None:
    """Re-apply every widget's style sheet: Qt resolves a sheet's ``palette(...)`` and the colours it
    leaves to the palette when the sheet is set, so without this the panels would keep the old
    theme's colours (dark text on a dark window)."""
    for widget in app.allWidgets():
        sheet = widget.styleSheet()
        if sheet:
            widget.setStyleSheet("")
            widget.setStyleSheet(sheet)


class ThemeController(QObject):
    """Applies the theme preference to the application and keeps following the system.

    Signal: ``theme_changed(theme)`` with "light" or "dark" whenever the effective theme changes.
    """

    theme_changed = Signal(str)

    def __init__(self, preference: str = "system", parent: QObject | None = None) -> None:
        super().__init__(parent)
        app = QGuiApplication.instance()
        if not isinstance(app, QGuiApplication):
            raise RuntimeError("ThemeController needs a QApplication")
        self._app = app
        self._preference = "system"
        self._theme = "light"  # what the shared colours (gui.colors) start as
        self._light_style: str | None = None  # the platform style, to go back to from dark
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)
        self._scheme_known = False
        self.set_preference(preference)

    @property
    def preference(self) -> str:
        return self._preference

    @property
    def theme(self) -> str:
        """The theme shown now: "light" or "dark"."""
        return self._theme

    def set_preference(self, preference: str) -> None:
        """Follow the system ("system") or force "light" / "dark"; applies at once."""
        if preference not in THEMES:
            effective_theme(preference)  # refuses an unknown name before anything changes
        if preference != self._preference:  # (the platform is asked only when the choice changes)
            _request_scheme(preference)
        self._preference = preference
        if preference == "system" and not self._scheme_known:
            # Before the window's first paint: asking Qt for the scheme makes PySide build every
            # enum of its Qt namespace (~30 ms). The platform's palette already follows a dark
            # desktop; follow_system() asks properly once the window is painted.
            self._apply("dark" if is_dark() else "light")
        else:
            self._apply(effective_theme(preference))

    def follow_system(self) -> None:
        """Ask the platform for its colour scheme now (the window calls this after its first
        paint) and follow it when the preference is "system"."""
        if not self._scheme_known:
            self._scheme_known = True
            self._on_scheme_changed()

    def _on_scheme_changed(self, _scheme: object = None) -> None:
        self._scheme_known = True
        if self._preference == "system":
            self._apply(system_scheme())

    def _apply(self, theme: str) -> None:
        if theme == self._theme and is_dark() == (theme == "dark"):
            if theme == "light":  # already right but for the muted text (before the window exists: cheap)
                palette = self._app.palette()
                if palette.color(QPalette.ColorRole.PlaceholderText) != QColor(LIGHT_PLACEHOLDER):
                    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(LIGHT_PLACEHOLDER))
                    self._app.setPalette(palette)
                    from PySide6.QtWidgets import QApplication

                    if isinstance(self._app, QApplication):
                        refresh_style_sheets(self._app)
            return  # a light desktop starts without repainting anything
        from PySide6.QtWidgets import QApplication

        from genaug_desktop.gui import colors

        app = self._app
        if theme == "dark":
            if isinstance(app, QApplication) and app.style().name().lower() != "fusion":
                self._light_style = app.style().name()
                app.setStyle("Fusion")
            palette = dark_palette()
        else:
            if isinstance(app, QApplication) and self._light_style is not None:
                app.setStyle(self._light_style)
                self._light_style = None
            palette = self._light_palette()
        colors.use_dark(theme == "dark")
        app.setPalette(palette)
        if isinstance(app, QApplication):
            refresh_style_sheets(app)
        changed = theme != self._theme
        self._theme = theme
        if changed:
            self.theme_changed.emit(theme)

    def _light_palette(self) -> QPalette:
        from PySide6.QtWidgets import QApplication

        app = self._app
        palette = app.style().standardPalette() if isinstance(app, QApplication) else QPalette()
        if is_dark(palette):  # a style that follows a dark desktop: fall back to Qt's light default
            from PySide6.QtWidgets import QStyleFactory

            fusion = QStyleFactory.create("Fusion")
            palette = fusion.standardPalette()
        # Muted text (panels' hints and captions use palette(placeholder-text)): Qt's default, half
        # the text's black, is 3.9:1 on the light window; this grey is 5.3:1 there.
        palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(LIGHT_PLACEHOLDER))
        return palette
