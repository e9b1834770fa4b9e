"""Small charts painted with QPainter: horizontal bars, paired bars, a histogram with thresholds,
vertical bars with error bars and signed per-category changes (the evaluation panel).

Why not a charting library: the statistics panel needs three simple kinds of chart, drawn in the
app's own colours and fonts. Qt Charts is not part of PySide6-Essentials (it comes with the much
larger PySide6-Addons), and pyqtgraph is built for large interactive plots: its category axes
and labelled horizontal bars need custom tick code, its default look needs restyling to match
the app, and it would be one more dependency on the start-up path of the statistics dock.
About three hundred lines of painting give exactly what is needed, with hover tooltips.

Every chart takes plain Python data (no core objects), paints a quiet "no data" line when empty,
and keeps the rectangles it drew so a tooltip can name the bar under the mouse.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

# Themed colours: gui.colors switches them in place between light and dark.
from genaug_desktop.gui.colors import CHART_CARD, CHART_CARD_BORDER, CHART_PASS_SHADE
from genaug_desktop.gui.colors import CHART_AXIS as AXIS
from genaug_desktop.gui.colors import CHART_GRID as GRID
from genaug_desktop.gui.colors import CHART_INK as INK
from genaug_desktop.gui.colors import CHART_MUTED as MUTED
from genaug_desktop.gui.colors import ERROR_INK
from genaug_desktop.gui.delegates import _small_font

# The threshold lines and their "min"/"max" labels: the theme's error ink (#b42318 was 2:1 on the dark card).
THRESHOLD = ERROR_INK
OUTSIDE = QColor("#fdb022")
INSIDE = QColor("#53b1fd")


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    color: QColor
    tooltip: str = ""


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    color: QColor


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about *ticks* ticks over *span*."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def _paint_legend(p: QPainter, area: QRectF, series: Sequence[Series], fm: QFontMetrics) -> QRectF:
    """One line of colour swatches and names at the top of *area*; returns the area below it."""
    x = area.left()
    for s in series:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(s.color)
        p.drawRoundedRect(QRectF(x, area.top() + 3, 10, 10), 2, 2)
        p.setPen(INK)
        p.drawText(QPointF(x + 14, area.top() + fm.ascent() + 1), s.name)
        x += 14 + fm.horizontalAdvance(s.name) + 16
    return area.adjusted(0, fm.height() + 8, 0, 0)


def _paint_y_grid(p: QPainter, area: QRectF, plot: QRectF, fm: QFontMetrics, y_max: float, step: float,
                  label_w: float, sy: Callable[[float], float], fmt: Callable[[float], str]) -> None:
    """Horizontal grid lines every *step* from 0 to *y_max*, labelled on the left."""
    v = 0.0
    while v <= y_max + 1e-9:
        y = sy(v)
        p.setPen(QPen(GRID, 1))
        p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setPen(MUTED)
        p.drawText(QRectF(area.left(), y - fm.height() / 2, label_w - 6, fm.height()),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, fmt(v))
        v += step


class _Chart(QWidget):
    """Title, empty text, tooltip plumbing."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.subtitle = ""
        self.empty_text = "No data yet"
        self._hits: list[tuple[QRectF, str]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(150)
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(320, 200)

    def set_title(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self.subtitle = subtitle
        self.update()

    def is_empty(self) -> bool:
        raise NotImplementedError

    def _paint_frame(self, p: QPainter) -> QRectF:
        """Background, title and subtitle; returns the area left for the plot."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(QPen(CHART_CARD_BORDER, 1))
        p.setBrush(CHART_CARD)
        p.drawRoundedRect(r, 8, 8)
        inner = r.adjusted(12, 10, -12, -10)
        bold = QFont(self.font())
        bold.setBold(True)
        fm = QFontMetrics(bold)
        p.setFont(bold)
        p.setPen(INK)
        p.drawText(QRectF(inner.left(), inner.top(), inner.width(), fm.height()), Qt.AlignmentFlag.AlignLeft,
                   fm.elidedText(self.title, Qt.TextElideMode.ElideRight, int(inner.width())))
        top = inner.top() + fm.height() + 2
        if self.subtitle:
            small = _small_font(self.font())
            sfm = QFontMetrics(small)
            p.setFont(small)
            p.setPen(MUTED)
            p.drawText(QRectF(inner.left(), top, inner.width(), sfm.height()), Qt.AlignmentFlag.AlignLeft,
                       sfm.elidedText(self.subtitle, Qt.TextElideMode.ElideRight, int(inner.width())))
            top += sfm.height() + 2
        return QRectF(inner.left(), top + 6, inner.width(), inner.bottom() - top - 6)

    def _paint_empty(self, p: QPainter, area: QRectF) -> None:
        p.setFont(self.font())
        p.setPen(MUTED)
        p.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        try:
            self._hits = []
            area = self._paint_frame(p)
            if self.is_empty():
                self._paint_empty(p, area)
            else:
                self._paint_plot(p, area)
        finally:
            p.end()

    def _paint_plot(self, p: QPainter, area: QRectF) -> None:
        raise NotImplementedError

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            pos = QPointF(event.pos())
            text = next((t for rect, t in self._hits if rect.contains(pos) and t), "")
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)


class BarChart(_Chart):
    """Horizontal bars, one per category: label on the left, value at the bar's end."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.bars: list[Bar] = []

    def set_bars(self, bars: Sequence[Bar]) -> None:
        self.bars = list(bars)
        self.update()

    def is_empty(self) -> bool:
        return not self.bars or all(b.value == 0 for b in self.bars)

    def _paint_plot(self, p: QPainter, area: QRectF) -> None:
        small = _small_font(self.font())
        fm = QFontMetrics(small)
        p.setFont(small)
        n = len(self.bars)
        row = min(32.0, max(12.0, area.height() / n))
        thickness = max(6.0, min(18.0, row * 0.6))
        label_w = min(area.width() * 0.5, max(fm.horizontalAdvance(b.label) for b in self.bars) + 10)
        value_w = max(fm.horizontalAdvance(_fmt(b.value)) for b in self.bars) + 8
        plot_w = max(10.0, area.width() - label_w - value_w)
        top = area.top() + max(0.0, (area.height() - row * n) / 2)
        high = max(b.value for b in self.bars) or 1.0
        for i, bar in enumerate(self.bars):
            y = top + i * row
            p.setPen(INK)
            p.drawText(QRectF(area.left(), y, label_w - 8, row), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       fm.elidedText(bar.label, Qt.TextElideMode.ElideMiddle, int(label_w - 8)))
            w = plot_w * bar.value / high
            rect = QRectF(area.left() + label_w, y + (row - thickness) / 2, max(w, 1.5 if bar.value else 0), thickness)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(bar.color)
            p.drawRoundedRect(rect, 3, 3)
            p.setPen(MUTED)
            p.drawText(QRectF(rect.right() + 6, y, value_w, row), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       _fmt(bar.value))
            self._hits.append((QRectF(area.left(), y, area.width(), row), bar.tooltip or f"{bar.label}: {_fmt(bar.value)}"))


class PairedBarChart(_Chart):
    """Categories with one bar per series (e.g. real items and accepted candidates per class),
    as shares of each series' total so different sizes compare; the counts are in the tooltips."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.categories: list[str] = []
        self.series: list[Series] = []
        self.values: list[list[float]] = []  # per series, per category
        self.as_share = True

    def set_data(self, categories: Sequence[str], series: Sequence[Series], values: Sequence[Sequence[float]]) -> None:
        self.categories = list(categories)
        self.series = list(series)
        self.values = [list(v) for v in values]
        self.update()

    def is_empty(self) -> bool:
        return not self.categories or not any(any(v) for v in self.values)

    def _paint_plot(self, p: QPainter, area: QRectF) -> None:
        small = _small_font(self.font())
        fm = QFontMetrics(small)
        p.setFont(small)
        area = _paint_legend(p, area, self.series, fm)
        totals = [sum(v) or 1.0 for v in self.values]
        shares = [[v / t for v in vals] if self.as_share else list(vals) for vals, t in zip(self.values, totals)]
        n, k = len(self.categories), len(self.series)
        group = min(16.0 * k + 10, max(10.0 * k, area.height() / max(1, n)))
        thickness = max(4.0, min(12.0, (group - 6) / k))
        label_w = min(area.width() * 0.35, max(fm.horizontalAdvance(c) for c in self.categories) + 10)
        value_w = fm.horizontalAdvance("100%") + 10
        plot_w = max(10.0, area.width() - label_w - value_w)
        high = max((max(s) for s in shares if s), default=1.0) or 1.0
        top = area.top() + max(0.0, (area.height() - group * n) / 2)
        for i, cat in enumerate(self.categories):
            y = top + i * group
            p.setPen(INK)
            p.drawText(QRectF(area.left(), y, label_w - 8, group), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       fm.elidedText(cat, Qt.TextElideMode.ElideMiddle, int(label_w - 8)))
            inner = y + (group - thickness * k) / 2
            tip = [cat] + [f"{s.name}: {_fmt(self.values[j][i])} ({shares[j][i]:.0%})" for j, s in enumerate(self.series)]
            for j, s in enumerate(self.series):
                value = shares[j][i]
                rect = QRectF(area.left() + label_w, inner + j * thickness, max(plot_w * value / high, 1.5 if value else 0),
                              thickness - 1)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(s.color)
                p.drawRoundedRect(rect, 2, 2)
                p.setPen(MUTED)
                text = f"{value:.0%}" if self.as_share else _fmt(value)
                p.drawText(QRectF(rect.right() + 5, rect.top() - 2, value_w, thickness + 4),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            self._hits.append((QRectF(area.left(), y, area.width(), group), "\n".join(tip)))


class Histogram(_Chart):
    """The distribution of a measured value, with the pass interval's bounds drawn as lines and
    the bins outside it in amber."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.values: list[float] = []
        self.bounds: tuple[float | None, float | None] = (None, None)
        self.unit = ""
        self.bins = 30
        self.counts: list[int] = []
        self.edges: list[float] = []

    def set_values(self, values: Sequence[float | None], bounds: tuple[float | None, float | None] = (None, None),
                   unit: str = "") -> None:
        self.values = [float(v) for v in values if v is not None and math.isfinite(float(v))]
        self.bounds = bounds
        self.unit = unit
        self._bin()
        self.update()

    def is_empty(self) -> bool:
        return not self.values

    def outside(self) -> int:
        lo, hi = self.bounds
        return sum(1 for v in self.values if (lo is not None and v < lo) or (hi is not None and v > hi))

    def _bin(self) -> None:
        if not self.values:
            self.counts, self.edges = [], []
            return
        lo_v, hi_v = min(self.values), max(self.values)
        for b in self.bounds:
            if b is not None and math.isfinite(b):
                lo_v, hi_v = min(lo_v, b), max(hi_v, b)
        span = hi_v - lo_v
        if span <= 0:
            span = abs(hi_v) or 1.0
            lo_v, hi_v = lo_v - span / 2, hi_v + span / 2
        else:
            lo_v, hi_v = lo_v - span * 0.04, hi_v + span * 0.04
        integral = all(v.is_integer() for v in self.values) and hi_v - lo_v <= 60
        if integral:  # one bin per whole number, so counts of characters or bits are exact
            lo_v, hi_v = math.floor(lo_v) - 0.5, math.ceil(hi_v) + 0.5
            n = int(round(hi_v - lo_v))
        else:
            n = self.bins
        width = (hi_v - lo_v) / n
        counts = [0] * n
        for v in self.values:
            counts[min(n - 1, max(0, int((v - lo_v) / width)))] += 1
        self.counts = counts
        self.edges = [lo_v + i * width for i in range(n + 1)]

    def _paint_plot(self, p: QPainter, area: QRectF) -> None:
        small = _small_font(self.font())
        fm = QFontMetrics(small)
        p.setFont(small)
        top_count = max(self.counts) or 1
        step_y = nice_step(top_count, 4)
        y_max = math.ceil(top_count / step_y) * step_y
        y_label_w = fm.horizontalAdvance(_fmt(y_max)) + 8
        plot = QRectF(area.left() + y_label_w, area.top() + fm.height(), area.width() - y_label_w - 4,
                      area.height() - 2 * fm.height() - 8)
        if plot.height() < 20 or plot.width() < 40:
            return
        x0, x1 = self.edges[0], self.edges[-1]

        def sx(v: float) -> float:
            return plot.left() + (v - x0) / (x1 - x0) * plot.width()

        def sy(c: float) -> float:
            return plot.bottom() - c / y_max * plot.height()

        _paint_y_grid(p, area, plot, fm, y_max, step_y, y_label_w, sy, _fmt)
        # pass interval, shaded
        lo, hi = self.bounds
        if lo is not None or hi is not None:
            left = sx(lo) if lo is not None else plot.left()
            right = sx(hi) if hi is not None else plot.right()
            shade = CHART_PASS_SHADE
            p.fillRect(QRectF(left, plot.top(), max(0.0, right - left), plot.height()), shade)
        # bars
        for i, n in enumerate(self.counts):
            a, b = self.edges[i], self.edges[i + 1]
            mid = (a + b) / 2
            out = (lo is not None and mid < lo) or (hi is not None and mid > hi)
            rect = QRectF(sx(a) + 0.5, sy(n), max(1.0, sx(b) - sx(a) - 1.0), plot.bottom() - sy(n))
            if n:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(OUTSIDE if out else INSIDE)
                p.drawRect(rect)
            where = "outside the pass interval" if out else "inside the pass interval"
            self._hits.append((QRectF(sx(a), plot.top(), sx(b) - sx(a), plot.height()),
                               f"{_fmt(a)} – {_fmt(b)} {self.unit}: {n:,} candidates ({where})".replace("  ", " ")))
        # x axis and ticks
        p.setPen(QPen(AXIS, 1))
        p.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.bottom()))
        step_x = nice_step(x1 - x0, max(2, int(plot.width() / 70)))
        t = math.ceil(x0 / step_x) * step_x
        p.setPen(MUTED)
        while t <= x1 + 1e-9:
            x = sx(t)
            p.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 3))
            p.drawText(QRectF(x - 40, plot.bottom() + 4, 80, fm.height()), Qt.AlignmentFlag.AlignHCenter, _fmt(round(t, 10)))
            t += step_x
        # threshold lines: "min" to the left of its line, "max" to the right (one label when equal)
        pen = QPen(THRESHOLD, 1.5, Qt.PenStyle.DashLine)
        lines = [(v, n) for v, n in ((lo, "min"), (hi, "max")) if v is not None]
        if len(lines) == 2 and lines[0][0] == lines[1][0]:
            lines = [(lines[0][0], "only")]
        for value, name in lines:
            x = sx(value)
            p.setPen(pen)
            p.drawLine(QPointF(x, plot.top() - 2), QPointF(x, plot.bottom()))
            label = f"{name} {_fmt(value)}"
            w = fm.horizontalAdvance(label) + 6
            lx = x - w - 2 if name == "min" else x + 3
            if lx < plot.left() or lx + w > plot.right():  # no room on that side: the other one
                lx = x + 3 if name == "min" else x - w - 2
            lx = max(plot.left(), min(lx, plot.right() - w))
            p.setPen(THRESHOLD)
            p.drawText(QRectF(lx, area.top(), w, fm.height()), Qt.AlignmentFlag.AlignLeft, label)


@dataclass(frozen=True, slots=True)
class ErrorBar:
    """One vertical bar with a spread: *mean* ± *spread* (e.g. the standard deviation over seeds)."""

    label: str
    mean: float
    spread: float
    color: QColor
    tooltip: str = ""


class ErrorBarChart(_Chart):
    """Vertical bars with error bars (mean ± spread), the label under each bar and the value above.

    ``fmt`` writes a value (e.g. as a percentage); ``y_max`` fixes the top of the axis (e.g. 1.0
    for a share), otherwise it fits the tallest whisker. The axis starts at zero, so bar heights
    compare honestly."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.bars: list[ErrorBar] = []
        self.fmt = _fmt
        self.y_max: float | None = None
        self.setMinimumHeight(190)

    def set_bars(self, bars: Sequence[ErrorBar], fmt: Callable[[float], str] | None = None,
                 y_max: float | None = None) -> None:
        self.bars = list(bars)
        self.fmt = fmt or _fmt
        self.y_max = y_max
        self.update()

    def is_empty(self) -> bool:
        return not self.bars

    def _paint_plot(self, p: QPainter, area: QRectF) -> None:
        small = _small_font(self.font())
        fm = QFontMetrics(small)
        p.setFont(small)
        top_value = max(max(b.mean + max(b.spread, 0.0) for b in self.bars), 0.0)
        step = nice_step(self.y_max if self.y_max else top_value or 1.0, 4)
        y_max = self.y_max if self.y_max else math.ceil((top_value * 1.08 or 1.0) / step) * step
        y_label_w = max(fm.horizontalAdvance(self.fmt(step * k)) for k in range(int(round(y_max / step)) + 1)) + 8
        plot = QRectF(area.left() + y_label_w, area.top() + fm.height() + 4, area.width() - y_label_w - 4,
                      area.height() - 2 * fm.height() - 10)
        if plot.height() < 20 or plot.width() < 40:
            return

        def sy(v: float) -> float:
            return plot.bottom() - max(0.0, min(v, y_max)) / y_max * plot.height()

        _paint_y_grid(p, area, plot, fm, y_max, step, y_label_w, sy, lambda v: self.fmt(round(v, 10)))
        n = len(self.bars)
        slot = plot.width() / n
        width = min(72.0, slot * 0.55)
        for i, bar in enumerate(self.bars):
            cx = plot.left() + slot * (i + 0.5)
            rect = QRectF(cx - width / 2, sy(bar.mean), width, plot.bottom() - sy(bar.mean))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(bar.color)
            p.drawRoundedRect(rect, 3, 3)
            lo, hi = sy(bar.mean - bar.spread), sy(bar.mean + bar.spread)
            if bar.spread > 0:
                p.setPen(QPen(INK, 1.4))
                p.drawLine(QPointF(cx, lo), QPointF(cx, hi))
                for y in (lo, hi):
                    p.drawLine(QPointF(cx - 6, y), QPointF(cx + 6, y))
            text = f"{self.fmt(bar.mean)} ± {self.fmt(bar.spread)}"
            p.setPen(INK)
            p.drawText(QRectF(cx - slot / 2, hi - fm.height() - 2, slot, fm.height()), Qt.AlignmentFlag.AlignHCenter, text)
            p.drawText(QRectF(cx - slot / 2, plot.bottom() + 4, slot, fm.height()), Qt.AlignmentFlag.AlignHCenter,
                       fm.elidedText(bar.label, Qt.TextElideMode.ElideRight, int(slot - 4)))
            self._hits.append((QRectF(cx - slot / 2, plot.top(), slot, plot.height() + fm.height() + 4),
                               bar.tooltip or f"{bar.label}: {text}"))
        p.setPen(QPen(AXIS, 1))
        p.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.bottom()))


class DeltaBarChart(_Chart):
    """Signed changes per category (e.g. per-class accuracy with candidates minus without), one
    horizontal bar per series either side of a zero line; ``fmt`` writes a change."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.categories: list[str] = []
        self.series: list[Series] = []
        self.values: list[list[float | None]] = []  # per series, per category
        self.fmt: Callable[[float], str] = lambda v: f"{v:+.3g}"

    def set_data(self, categories: Sequence[str], series: Sequence[Series], values: Sequence[Sequence[float | None]],
                 fmt: Callable[[float], str] | None = None) -> None:
        self.categories = list(categories)
        self.series = list(series)
        self.values = [list(v) for v in values]
        if fmt is not None:
            self.fmt = fmt
        self.update()

    def is_empty(self) -> bool:
        return not self.categories or not self.series

    def _paint_plot(self, p: QPainter, area: QRectF) -> None:
        small = _small_font(self.font())
        fm = QFontMetrics(small)
        p.setFont(small)
        area = _paint_legend(p, area, self.series, fm)
        n, k = len(self.categories), len(self.series)
        group = min(14.0 * k + 10, max(9.0 * k, area.height() / max(1, n)))
        thickness = max(4.0, min(12.0, (group - 6) / k))
        label_w = min(area.width() * 0.3, max(fm.horizontalAdvance(c) for c in self.categories) + 10)
        present = [abs(v) for vals in self.values for v in vals if v is not None]
        extent = max(present, default=0.0) or 1.0
        value_w = max([fm.horizontalAdvance(self.fmt(v)) for vals in self.values for v in vals if v is not None] or [20]) + 8
        half = max(10.0, (area.width() - label_w - 2 * value_w) / 2)
        zero = area.left() + label_w + value_w + half
        top = area.top() + max(0.0, (area.height() - group * n) / 2)
        p.setPen(QPen(AXIS, 1))
        p.drawLine(QPointF(zero, top - 2), QPointF(zero, top + group * n + 2))
        for i, cat in enumerate(self.categories):
            y = top + i * group
            p.setPen(INK)
            p.drawText(QRectF(area.left(), y, label_w - 8, group), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       fm.elidedText(cat, Qt.TextElideMode.ElideMiddle, int(label_w - 8)))
            inner = y + (group - thickness * k) / 2
            tip = [cat]
            for j, s in enumerate(self.series):
                value = self.values[j][i] if i < len(self.values[j]) else None
                tip.append(f"{s.name}: {'no held-out items' if value is None else self.fmt(value)}")
                if value is None:
                    continue
                w = half * abs(value) / extent
                left = zero if value >= 0 else zero - w
                rect = QRectF(left, inner + j * thickness, max(w, 1.5), thickness - 1)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(s.color)
                p.drawRoundedRect(rect, 2, 2)
                p.setPen(MUTED)
                if value >= 0:
                    text_rect = QRectF(rect.right() + 4, rect.top() - 2, value_w, thickness + 4)
                    align = Qt.AlignmentFlag.AlignLeft
                else:
                    text_rect = QRectF(rect.left() - value_w - 4, rect.top() - 2, value_w, thickness + 4)
                    align = Qt.AlignmentFlag.AlignRight
                p.drawText(text_rect, align | Qt.AlignmentFlag.AlignVCenter, self.fmt(value))
            self._hits.append((QRectF(area.left(), y, area.width(), group), "\n".join(tip)))
