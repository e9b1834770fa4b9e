"""Dark theme for the colours that were tuned for light only: the message bar, rule states, review
status chips, class chips, badges. Text on its fill is 4.5:1 or more in both themes, and widgets
whose style sheets hold these colours follow a live theme switch."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtWidgets import QApplication

from genaug_desktop.gui import colors
from genaug_desktop.gui.delegates import draw_label_pill
from genaug_desktop.gui.message_bar import MessageBar
from genaug_desktop.gui.theme import ThemeController
from test_theme import _contrast as contrast  # the WCAG ratio, as the palette's own test measures it
from theme_helpers import light_afterwards  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("light_afterwards")


def text_pairs(base: QColor, window: QColor) -> dict[str, tuple[QColor, QColor]]:
    """Every (text, what it is drawn on) pair of the shared colours, in the theme now."""
    c = colors
    pairs = {f"message {level}": (ink, fill) for level in ("error", "warning", "info")
             for fill, _border, ink in [c.message_colors(level)]}
    pairs.update({f"rule {state} in a table": (ink, base) for state, ink in c.RULE_STATE_COLORS.items()})
    pairs.update({
        "rule proposed chip": (c.RULE_PROPOSED_INK, c.RULE_PROPOSED_FILL),
        "rule approved chip": (c.RULE_APPROVED_INK, c.RULE_APPROVED_FILL),
        "rule disabled chip": (c.RULE_DISABLED_INK, c.RULE_DISABLED_FILL),
        "status pending": (c.STATUS_PENDING_INK, c.STATUS_PENDING_FILL),
        "status accepted": (c.STATUS_ACCEPTED_INK, c.STATUS_ACCEPTED_FILL),
        "status rejected": (c.STATUS_REJECTED_INK, c.STATUS_REJECTED_FILL),
        "status rejected by rule": (c.STATUS_RULE_INK, c.STATUS_RULE_FILL),
        "badge": (c.BADGE_INK, c.BADGE_FILL),
        "broken reason": (c.BROKEN_TEXT, c.BROKEN_FILL),
        "problem reason": (c.BROKEN_TEXT, base),
        "muted on a card": (c.MUTED_TEXT, c.CARD_FILL),
        "muted in a list": (c.MUTED_TEXT, base),
        "warning count": (c.WARNING_INK, base),
        # the panels' own text (export dialog, policy editor and forms, dataset browser)
        "error on the window": (c.ERROR_INK, window),
        "error in a list": (c.ERROR_INK, base),
        "threshold label on a chart": (c.ERROR_INK, c.CHART_CARD),
        "success on the window": (c.SUCCESS_INK, window),
        "hint on the window": (c.HINT_INK, window),
        "hint in a list": (c.HINT_INK, base),
        "source caption on a card": (c.ACCENT_INK, c.CARD_FILL),
        "condition badge": (c.CONDITION_INK, c.CONDITION_FILL),
        "removed words": (c.DIFF_REMOVED_INK, c.DIFF_REMOVED_FILL),
        "added words": (c.DIFF_ADDED_INK, c.DIFF_ADDED_FILL),
        "changed words in a preview": (QApplication.palette().color(QPalette.ColorRole.Text), c.CHANGED_WORD_FILL),
    })
    return pairs


LABELS = [f"class {i}" for i in range(400)] + ["cat", "dog", "positive", "negative", "neutral", "truck"]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_on_every_fill_is_readable(qapp: QApplication, theme: str) -> None:
    ThemeController(theme)
    assert colors.is_dark_theme() == (theme == "dark")
    base = qapp.palette().color(QPalette.ColorRole.Base)
    window = qapp.palette().color(QPalette.ColorRole.Window)
    low = {name: round(contrast(ink, fill), 2) for name, (ink, fill) in text_pairs(base, window).items()
           if contrast(ink, fill) < 4.5}
    assert low == {}
    # chart lines and threshold labels on the chart card (lines want 3:1)
    assert min(contrast(line, colors.CHART_CARD) for line in (colors.CHART_TRAIN, colors.ERROR_INK)) >= 3.0
    worst = min(contrast(fg, bg) for bg, fg in (colors.label_colors(label) for label in LABELS))
    assert worst >= 4.5
    # the chips are the theme's: a deep chip on a dark card, a pale one on a light card
    bg, _fg = colors.label_colors("cat")
    assert (bg.lightness() < 110) == (theme == "dark")


def test_every_shared_colour_has_a_distinct_dark_value(qapp: QApplication) -> None:
    light = {name: QColor(c) for name, c in colors._switched().items()}
    ThemeController("dark")
    dark = colors._switched()
    same = sorted(name for name in light if light[name] == dark[name] and not name.startswith(("BROKEN_BORDER", "MESSAGE_")))
    assert same == []


def fill_at(widget, x: int, y: int) -> QColor:
    return widget.grab().toImage().pixelColor(x, y)


def test_message_bar_follows_a_live_theme_switch(qtbot, qapp: QApplication) -> None:
    controller = ThemeController("light")
    bar = MessageBar()
    qtbot.addWidget(bar)
    bar.resize(500, 40)
    bar.show_message("error", "Cannot create the project: the disk is full")
    light_fill, _, light_ink = (QColor(c) for c in colors.message_colors("error"))
    assert fill_at(bar, bar.width() // 2, 3) == light_fill
    controller.set_preference("dark")
    dark_fill, _, dark_ink = colors.message_colors("error")
    assert dark_fill != light_fill and dark_fill.lightness() < 80
    assert fill_at(bar, bar.width() // 2, 3) == dark_fill  # the bar already shown changed with the theme
    assert dark_ink.name() in bar.styleSheet()
    bar.show_message("warning", "3 source files changed")
    assert fill_at(bar, bar.width() // 2, 3) == colors.message_colors("warning")[0]
    controller.set_preference("light")
    assert fill_at(bar, bar.width() // 2, 3) == colors.message_colors("warning")[0] == QColor("#fff7e6")
    assert light_ink.name() not in bar.styleSheet()  # (the warning's ink now)


def test_rules_panel_state_chip_and_approve_button_follow_the_theme(qtbot, qapp: QApplication) -> None:
    from genaug_desktop.gui.rules_panel import RulesPanel

    controller = ThemeController("light")
    panel = RulesPanel()
    qtbot.addWidget(panel, before_close_func=lambda p: p.shutdown())
    panel.state_label.setText("Approved")
    panel._style_state_chip()
    assert "#dcfae6" in panel.state_label.styleSheet() and "#067647" in panel.approve_button.styleSheet()
    controller.set_preference("dark")
    assert colors.RULE_APPROVED_FILL.name() in panel.state_label.styleSheet()
    assert colors.RULE_APPROVED_INK.name() in panel.state_label.styleSheet()
    assert colors.RULE_APPROVED.name() in panel.approve_button.styleSheet()
    button = qapp.palette().color(QPalette.ColorRole.Button)
    assert contrast(colors.RULE_APPROVED, button) >= 4.5  # dark green on a dark button was 2:1


def test_class_chips_are_painted_in_the_theme_now(qapp: QApplication) -> None:
    controller = ThemeController("light")

    def chip_fill() -> QColor:
        img = QImage(200, 40, QImage.Format.Format_ARGB32)
        img.fill(QColor("#808080"))
        painter = QPainter(img)
        draw_label_pill(painter, 0, 0, "cat", QFont(), 180)
        painter.end()
        height = QFontMetrics(QFont()).height() + 2
        return img.pixelColor(5, height // 2)  # left of the text, inside the rounded end

    light = chip_fill()
    assert light.name() == colors.label_colors("cat", dark=False)[0].name()
    controller.set_preference("dark")
    dark = chip_fill()  # not the light pixmap from the cache
    assert dark.name() == colors.label_colors("cat", dark=True)[0].name() != light.name()
    assert colors.label_dot("cat") is not colors._label_dot("cat", 12, False)


def test_review_compare_status_pill_follows_the_theme(qtbot, qapp: QApplication) -> None:
    from types import SimpleNamespace

    from genaug_desktop.gui.compare import CompareView, status_pill_style

    controller = ThemeController("light")
    view = CompareView()
    qtbot.addWidget(view)
    view.row = SimpleNamespace(badge="rejected")  # (only the badge is read for the pill's colours)
    style, text = status_pill_style("rejected")
    view.status.setStyleSheet(style)
    assert "#fee4e2" in style and text == "✕ Rejected"
    controller.set_preference("dark")
    fill, ink = colors.status_colors("rejected")
    assert f"background: {fill.name()}" in view.status.styleSheet() and f"color: {ink.name()}" in view.status.styleSheet()
    assert fill.lightness() < 100 and contrast(ink, fill) >= 4.5
