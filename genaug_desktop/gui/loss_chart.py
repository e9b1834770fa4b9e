"""A live loss curve painted with QPainter: training loss and validation loss against the step.

Why not pyqtgraph: the project does not depend on it, and one small line chart in the app's own
colours is less code than restyling a general plotting widget (see gui/charts.py for the same
choice for the statistics panel). The chart keeps plain floats; the generator panel adds a
point per progress report, and a resumed run continues the same curve.

Run alone: ``python -m genaug_desktop.gui.loss_chart`` shows a made-up curve.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

# Themed colours: gui.colors switches them in place between light and dark.
from genaug_desktop.gui.colors import CHART_CARD, CHART_TRAIN
from genaug_desktop.gui.colors import CHART_AXIS as AXIS
from genaug_desktop.gui.colors import CHART_GRID as GRID
from genaug_desktop.gui.colors import CHART_INK as INK
from genaug_desktop.gui.colors import CHART_MUTED as MUTED
from genaug_desktop.gui.delegates import _small_font

TRAIN = CHART_TRAIN  # switched in place with the theme
VALIDATION = QColor("#e07b00")
#: Points kept per series; older ones are thinned (every other one) so a long run stays cheap.
MAX_POINTS = 4000


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """About *count* round values covering [low, high] (1, 2 or 5 times a power of ten apart)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    out = []
    value = first
    while value <= high + step * 1e-6:
        out.append(round(value, 12))
        value += step
    return out


def _label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


class LossChart(QWidget):
    """Training (solid) and validation (dashed, with dots) loss against the optimisation step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train: list[tuple[float, float]] = []
        self.validation: list[tuple[float, float]] = []
        self.total_steps: int | None = None
        self.empty_text = "The loss curve appears here while a generator trains."
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(80)
        self.setObjectName("lossChart")

    def sizeHint(self) -> QSize:
        return QSize(360, 190)

    # ---- data --------------------------------------------------------------------------------------
    def clear(self) -> None:
        self.train.clear()
        self.validation.clear()
        self.total_steps = None
        self.update()

    def add_point(self, step: float, loss: float | None = None, val_loss: float | None = None) -> None:
        """Add the losses at *step* (either may be None); a repeated step replaces its point."""
        for series, value in ((self.train, loss), (self.validation, val_loss)):
            if value is None or not math.isfinite(value):
                continue
            if series and series[-1][0] == step:
                series[-1] = (float(step), float(value))
            else:
                series.append((float(step), float(value)))
            if len(series) > MAX_POINTS:
                del series[: MAX_POINTS // 2 : 2]
        self.update()

    def set_total_steps(self, steps: int | None) -> None:
        self.total_steps = steps if steps else None
        self.update()

    def point_count(self) -> int:
        return len(self.train) + len(self.validation)

    # ---- painting ----------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), CHART_CARD)
        font = _small_font(self.font())
        painter.setFont(font)
        fm = QFontMetrics(font)
        if not self.train and not self.validation:
            painter.setPen(MUTED)
            painter.drawText(self.rect().adjusted(12, 0, -12, 0),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            painter.end()
            return
        values = [v for _s, v in self.train] + [v for _s, v in self.validation]
        steps = [s for s, _v in self.train] + [s for s, _v in self.validation]
        y_low, y_high = min(values), max(values)
        pad = (y_high - y_low) * 0.08 or max(abs(y_high) * 0.1, 0.1)
        y_low, y_high = max(0.0, y_low - pad) if y_low >= 0 else y_low - pad, y_high + pad
        x_low = 0.0
        x_high = float(max(max(steps), self.total_steps or 0, 1))
        y_ticks = nice_ticks(y_low, y_high, 5)
        tick_width = max(fm.horizontalAdvance(_label(t)) for t in y_ticks)
        legend_h = fm.height() + 6
        plot = QRectF(tick_width + 14, legend_h + 6, self.width() - tick_width - 26,
                      self.height() - legend_h - fm.height() - 20)
        if plot.width() < 20 or plot.height() < 20:
            painter.end()
            return

        def at(step: float, value: float) -> QPointF:
            x = plot.left() + (step - x_low) / (x_high - x_low) * plot.width()
            y = plot.bottom() - (value - y_low) / (y_high - y_low) * plot.height()
            return QPointF(x, y)

        # grid and axes
        for tick in y_ticks:
            if not y_low <= tick <= y_high:
                continue
            y = at(0, tick).y()
            painter.setPen(QPen(GRID, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(MUTED)
            painter.drawText(QRectF(0, y - fm.height() / 2, tick_width + 8, fm.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, _label(tick))
        painter.setPen(QPen(AXIS, 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.bottomLeft(), plot.topLeft())
        unit_left = plot.right() - fm.horizontalAdvance("step") - 6
        for tick in nice_ticks(x_low, x_high, 5):
            x = at(tick, y_low).x()
            painter.setPen(QPen(AXIS, 1))
            painter.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 3))
            if x + fm.horizontalAdvance(_label(tick)) / 2 > unit_left:
                continue  # its label would run into "step" (they were drawn over each other)
            painter.setPen(MUTED)
            painter.drawText(QRectF(x - 40, plot.bottom() + 4, 80, fm.height()), Qt.AlignmentFlag.AlignHCenter,
                             _label(tick))
        painter.setPen(MUTED)
        painter.drawText(QRectF(plot.right() - 60, plot.bottom() + 4, 60, fm.height()), Qt.AlignmentFlag.AlignRight,
                         "step")

        # the curves
        painter.save()
        painter.setClipRect(plot.adjusted(-4, -4, 4, 4))
        for series, color, dashed in ((self.train, TRAIN, False), (self.validation, VALIDATION, True)):
            if not series:
                continue
            path = QPainterPath(at(*series[0]))
            for point in series[1:]:
                path.lineTo(at(*point))
            pen = QPen(color, 2 if not dashed else 1.6)
            if dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            if dashed or len(series) == 1:
                painter.setBrush(color)
                painter.setPen(Qt.PenStyle.NoPen)
                for point in series[-200:]:
                    painter.drawEllipse(at(*point), 2.6, 2.6)
        painter.restore()

        # legend: name and latest value of each series
        x = plot.left()
        for name, series, color in (("training", self.train, TRAIN), ("validation", self.validation, VALIDATION)):
            if not series:
                continue
            last = series[-1][1]
            text = f"{name} {last:,.1f}" if abs(last) >= 100 else f"{name} {last:.4f}"
            painter.setPen(QPen(color, 2.5))
            y = legend_h / 2 + 2
            painter.drawLine(QPointF(x, y), QPointF(x + 16, y))
            painter.setPen(INK)
            painter.drawText(QRectF(x + 21, 2, fm.horizontalAdvance(text) + 4, legend_h), Qt.AlignmentFlag.AlignVCenter, text)
            x += 21 + fm.horizontalAdvance(text) + 18
        painter.end()


def main() -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    chart = LossChart()
    chart.set_total_steps(300)
    for step in range(0, 240, 4):
        chart.add_point(step, 3.2 * math.exp(-step / 60) + 1.1, 3.3 * math.exp(-step / 70) + 1.25 if step % 40 == 0 else None)
    chart.resize(520, 240)
    chart.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
