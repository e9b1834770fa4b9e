"""Colours shared by delegates and panels, and the stable colour of each class."""

from __future__ import annotations

import weakref
import zlib
from collections.abc import Callable
from functools import lru_cache

import shiboken6
from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QWidget

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
# The "!" / "BROKEN" badges: a strong fill with ink on it (white on #e0645c was 3.4:1).
BADGE_FILL = QColor("#b42318")
BADGE_INK = QColor("#ffffff")
ROW_SEPARATOR = QColor("#eceef1")
WARNING_INK = QColor("#b54708")  # "would reject N" counts, a dry run's hint
# A rule's state as text in a table, and as a chip (fill, ink) beside its title.
RULE_PROPOSED = QColor("#175cd3")
RULE_APPROVED = QColor("#067647")
RULE_DISABLED = QColor("#6b7280")
RULE_PROPOSED_FILL, RULE_PROPOSED_INK = QColor("#eff8ff"), QColor("#175cd3")
RULE_APPROVED_FILL, RULE_APPROVED_INK = QColor("#dcfae6"), QColor("#067647")
RULE_DISABLED_FILL, RULE_DISABLED_INK = QColor("#f2f4f7"), QColor("#475467")
RULE_STATE_COLORS = {"proposed": RULE_PROPOSED, "approved": RULE_APPROVED, "disabled": RULE_DISABLED}
# A candidate's review status as a chip (fill, ink), for the review grid and the compare view.
STATUS_PENDING_FILL, STATUS_PENDING_INK = QColor("#eef0f3"), QColor("#4b5563")
STATUS_ACCEPTED_FILL, STATUS_ACCEPTED_INK = QColor("#dcfae6"), QColor("#067647")
STATUS_REJECTED_FILL, STATUS_REJECTED_INK = QColor("#fee4e2"), QColor("#b42318")
STATUS_RULE_FILL, STATUS_RULE_INK = QColor("#fef0c7"), QColor("#93370d")
# The message bar: (fill, border, ink) per level.
MESSAGE_ERROR = (QColor("#fdecea"), QColor("#e0645c"), QColor("#7f1d1d"))
MESSAGE_WARNING = (QColor("#fff7e6"), QColor("#f0b44c"), QColor("#7c4a03"))
MESSAGE_INFO = (QColor("#eaf2ff"), QColor("#8fb3f0"), QColor("#1e3a8a"))

_SWITCHED = {
    "CARD_BORDER": "#44474e", "CARD_FILL": "#2f3136", "PLACEHOLDER_FILL": "#3a3d43",
    "PLACEHOLDER_GLYPH": "#5c6069", "BROKEN_FILL": "#4a2524", "BROKEN_BORDER": "#e0645c",
    "BROKEN_TEXT": "#ffb4ab", "MUTED_TEXT": "#a3a9b3", "CHART_CARD": "#2f3136",
    "CHART_CARD_BORDER": "#44474e", "CHART_AXIS": "#5a5e67", "CHART_GRID": "#3a3d44",
    "CHART_INK": "#e4e6ea", "CHART_MUTED": "#a3a9b3", "CHART_PASS_SHADE": "#1f3b2c",
    "BADGE_FILL": "#f97066", "BADGE_INK": "#2b1110", "ROW_SEPARATOR": "#34363b", "WARNING_INK": "#fdb022",
    "RULE_PROPOSED": "#84adff", "RULE_APPROVED": "#75e0a7", "RULE_DISABLED": "#a3a9b3",
    "RULE_PROPOSED_FILL": "#1b2b4b", "RULE_PROPOSED_INK": "#a9c5ff",
    "RULE_APPROVED_FILL": "#123524", "RULE_APPROVED_INK": "#8ee4b4",
    "RULE_DISABLED_FILL": "#34373d", "RULE_DISABLED_INK": "#c5cad3",
    "STATUS_PENDING_FILL": "#3a3d43", "STATUS_PENDING_INK": "#d0d4da",
    "STATUS_ACCEPTED_FILL": "#123524", "STATUS_ACCEPTED_INK": "#8ee4b4",
    "STATUS_REJECTED_FILL": "#4a2524", "STATUS_REJECTED_INK": "#ffb4ab",
    "STATUS_RULE_FILL": "#3f2d0c", "STATUS_RULE_INK": "#fcd68a",
}
_SWITCHED_TRIPLES = {
    "MESSAGE_ERROR": ("#3d1f1e", "#e0645c", "#ffb4ab"),
    "MESSAGE_WARNING": ("#3a2e12", "#f0b44c", "#fcd68a"),
    "MESSAGE_INFO": ("#1c2a44", "#5b8def", "#b9d2ff"),
}
# Panels' own text on the window or a list: an error, a success, a hint (muted text that stays
# 4.5:1 on a light window: #6b7280 on Fusion's #efefef was 4.2:1); and the accent of a source.
ERROR_INK = QColor("#b42318")
SUCCESS_INK = QColor("#067647")
HINT_INK = QColor("#5c6370")
ACCENT_INK = QColor("#2563eb")
# A policy step's condition badge in the step tree (fill, ink, border).
CONDITION_FILL, CONDITION_INK, CONDITION_BORDER = QColor("#eef2ff"), QColor("#3730a3"), QColor("#c7d2fe")
# The compare view's word diff: removed words (struck through) and added words (fill, ink).
DIFF_REMOVED_FILL, DIFF_REMOVED_INK = QColor("#fee4e2"), QColor("#912018")
DIFF_ADDED_FILL, DIFF_ADDED_INK = QColor("#d1fadf"), QColor("#05603a")
# Changed words in the policy preview's text tiles, behind the palette's text colour.
CHANGED_WORD_FILL = QColor("#fde68a")
_SWITCHED.update({
    "ERROR_INK": "#ff9c92", "SUCCESS_INK": "#75e0a7", "HINT_INK": "#a3a9b3", "ACCENT_INK": "#84adff",
    "CONDITION_FILL": "#262b4d", "CONDITION_INK": "#c7d2fe", "CONDITION_BORDER": "#4b55a8",
    "DIFF_REMOVED_FILL": "#4a2524", "DIFF_REMOVED_INK": "#ffb4ab",
    "DIFF_ADDED_FILL": "#123524", "DIFF_ADDED_INK": "#8ee4b4",
    "CHANGED_WORD_FILL": "#4d3f10",
})
# The loss chart's training curve (the validation curve's orange is 4.3:1 or more on either card).
CHART_TRAIN = QColor("#2e6fdb")
_SWITCHED["CHART_TRAIN"] = "#6b9bf2"  # (#2e6fdb was 2.7:1 on the dark card; lines want 3:1)
# A thin progress line (the review's decided share): the track and the done part.
PROGRESS_TRACK = QColor("#e4e7ec")
PROGRESS_FILL = QColor("#12b76a")
_SWITCHED.update({"PROGRESS_TRACK": "#44474e", "PROGRESS_FILL": "#32d583"})
# The light values above, and their dark counterparts; use_dark() switches the QColor objects in
# place, so every delegate that imported them paints in the theme's colours from the next paint.
_DARK: dict[str, QColor] = {name: QColor(value) for name, value in _SWITCHED.items()}
_DARK.update({f"{name}[{i}]": QColor(v) for name, values in _SWITCHED_TRIPLES.items() for i, v in enumerate(values)})


def _switched() -> dict[str, QColor]:
    """Every shared colour object by name (``NAME[i]`` for the parts of a triple)."""
    out: dict[str, QColor] = {name: globals()[name] for name in _SWITCHED}
    out.update({f"{name}[{i}]": c for name in _SWITCHED_TRIPLES for i, c in enumerate(globals()[name])})
    return out


_LIGHT: dict[str, QColor] = {name: QColor(color) for name, color in _switched().items()}
_dark = False


def use_dark(dark: bool) -> None:
    """Switch the shared colours to their dark (or back to their light) values, in place."""
    global _dark
    for name, color in _switched().items():
        color.setRgba((_DARK if dark else _LIGHT)[name].rgba())
    _dark = dark
    for follower in list(_followers):
        if shiboken6.isValid(follower):  # (its widget may be on its way out)
            follower.restyle()


def is_dark_theme() -> bool:
    """Whether the shared colours are the dark ones now (see :func:`use_dark`)."""
    return _dark


def message_colors(level: str) -> tuple[QColor, QColor, QColor]:
    """(fill, border, ink) of the message bar for "error", "warning" or "info", in the theme now."""
    return {"error": MESSAGE_ERROR, "warning": MESSAGE_WARNING}.get(level, MESSAGE_INFO)


def status_colors(badge: str) -> tuple[QColor, QColor]:
    """(fill, ink) of a candidate's review status chip: "pending", "accepted", "rejected" (by a
    person) or "rule" (rejected by a rule), in the theme now."""
    return {
        "accepted": (STATUS_ACCEPTED_FILL, STATUS_ACCEPTED_INK), "rejected": (STATUS_REJECTED_FILL, STATUS_REJECTED_INK),
        "rule": (STATUS_RULE_FILL, STATUS_RULE_INK),
    }.get(badge, (STATUS_PENDING_FILL, STATUS_PENDING_INK))


def rule_chip_style(state: str) -> str:
    """Style-sheet colours of a rule's state chip ("proposed", "approved", "disabled"), in the theme now."""
    fill, ink = {
        "proposed": (RULE_PROPOSED_FILL, RULE_PROPOSED_INK), "approved": (RULE_APPROVED_FILL, RULE_APPROVED_INK),
    }.get(state, (RULE_DISABLED_FILL, RULE_DISABLED_INK))
    return f"background: {fill.name()}; color: {ink.name()};"


class _ThemeFollower(QObject):
    """Lives as long as its widget (a child of it) and restyles it when the theme switches."""

    def __init__(self, widget: QObject, restyle: Callable[[], None]) -> None:
        super().__init__(widget)
        self.restyle = restyle
        _followers.add(self)


_followers: weakref.WeakSet[_ThemeFollower] = weakref.WeakSet()


def follow_theme(widget: QObject, restyle: Callable[[], None]) -> None:
    """Call *restyle* whenever the theme switches (from :func:`use_dark`, after the shared colours
    changed and before the new palette and style sheets are applied), for a widget whose style
    sheet holds colours of this module: a sheet's colours are fixed when it is set, and a
    widget with a sheet hears nothing of a new application palette."""
    _ThemeFollower(widget, restyle)


class _SheetFollower(_ThemeFollower):
    """The style sheet of one widget, made again by *sheet* after every theme switch."""

    def __init__(self, widget: QWidget, sheet: Callable[[], str]) -> None:
        super().__init__(widget, self._apply)
        self.setObjectName("themedStyleSheet")
        self.sheet = sheet

    def _apply(self) -> None:
        widget = self.parent()
        if isinstance(widget, QWidget):
            widget.setStyleSheet(self.sheet())


def themed_style_sheet(widget: QWidget, sheet: Callable[[], str]) -> None:
    """Give *widget* the style sheet ``sheet()`` now, and make it again whenever the theme switches,
    for sheets that hold colours of this module (``lambda: f"color: {ERROR_INK.name()};"``).
    Calling it again for the same widget replaces *sheet* (a label that turns from hint to error)."""
    follower = widget.findChild(_SheetFollower, "themedStyleSheet", Qt.FindChildOption.FindDirectChildrenOnly)
    if follower is None:
        _SheetFollower(widget, sheet)
    else:
        follower.sheet = sheet
    widget.setStyleSheet(sheet())


def ink_sheet(color: QColor, extra: str = "") -> Callable[[], str]:
    """A style sheet maker for :func:`themed_style_sheet`: text in *color* (one of this module's,
    read when the sheet is made, so in the theme then), followed by *extra* declarations."""
    return lambda: f"color: {color.name()};{' ' + extra if extra else ''}"


def boxed_message_sheet(level: str) -> Callable[[], str]:
    """A style sheet maker for :func:`themed_style_sheet`: a label boxed in the message bar's
    colours of *level* ("error", "warning", "info"), in the theme when the sheet is made."""
    def sheet() -> str:
        fill, border, ink = message_colors(level)
        return (f"color: {ink.name()}; background: {fill.name()}; border: 1px solid {border.name()}; "
                "border-radius: 4px; padding: 6px;")
    return sheet


def label_colors(label: str, dark: bool | None = None) -> tuple[QColor, QColor]:
    """A stable (background, text) colour pair for a class name, the same on every run: a pale
    chip with deep ink in the light theme, a deep chip with pale ink in the dark one (the
    theme now unless *dark* says); text on chip is 4.8:1 or more for every hue."""
    return _label_colors(label, _dark if dark is None else dark)


@lru_cache(maxsize=1024)
def _label_colors(label: str, dark: bool) -> tuple[QColor, QColor]:
    hue = zlib.crc32(label.encode("utf-8")) % 360
    if dark:
        return QColor.fromHsv(hue, 130, 90), QColor.fromHsv(hue, 45, 252)
    return QColor.fromHsv(hue, 55, 246), QColor.fromHsv(hue, 210, 110)


def label_dot(label: str, size: int = 12) -> QIcon:
    """A small round swatch in the class colour, for lists of classes."""
    return _label_dot(label, size, _dark)


@lru_cache(maxsize=1024)
def _label_dot(label: str, size: int, dark: bool) -> QIcon:
    background, foreground = label_colors(label, dark)
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
