"""The statistics panel: where the candidates stand, what the rules rejected, and class balance.

Charts (see :mod:`genaug_desktop.gui.charts` for why they are painted here rather than with a
charting library):

- candidates by status (pending, accepted, rejected by a person, rejected by a rule);
- by origin and by self-training round;
- rejections per rule;
- class balance: the real items per class beside the accepted candidates per class (as shares,
  so a dataset of 60 and 2,000 accepted candidates compare);
- the distribution of one rule's measured value over every candidate, with the rule's pass
  interval (``Rule.bounds()``) drawn: a core dry run with ``all_candidates=True``, in the
  background.

Counts are read in a job thread (newest request wins); the panel refreshes when it is shown
after a change, not while it is hidden.

Run alone: ``python -m genaug_desktop.gui.stats_panel PROJECT.genaug``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.gui.charts import Bar, BarChart, Histogram, PairedBarChart, Series
from genaug_desktop.core.formatting import plural
from genaug_desktop.gui.timers import tracked_timer
from genaug_desktop.gui.worker import JobSlot, JobWorker

if TYPE_CHECKING:
    from genaug_desktop.core.jobs import CancelToken
    from genaug_desktop.core.rules import Rule
    from genaug_desktop.core.store.project import Project

REFRESH_MS = 400

STATUS_COLORS = {
    "pending": QColor("#98a2b3"),
    "accepted": QColor("#12b76a"),
    "rejected": QColor("#f04438"),
    "rule": QColor("#f79009"),
}
ORIGIN_COLORS = {"augmentation": QColor("#2e90fa"), "generator": QColor("#7a5af8")}
REAL_COLOR = QColor("#98a2b3")
ACCEPTED_COLOR = QColor("#12b76a")


@dataclass(slots=True)
class Statistics:
    """What the charts show, read from the project in one job."""

    items: int = 0
    candidates: int = 0
    by_status: dict[str, int] = field(default_factory=dict)  # pending, accepted, rejected (person), rule
    by_origin: dict[str, int] = field(default_factory=dict)
    by_round: dict[str, int] = field(default_factory=dict)
    by_rule: dict[str, int] = field(default_factory=dict)  # current rejections per rule
    real_classes: dict[str, int] = field(default_factory=dict)
    accepted_classes: dict[str, int] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    modality: str = ""


def load_statistics(project: Project, cancel: CancelToken | None = None) -> Statistics:
    """Counts for every chart (runs in a job thread)."""
    from genaug_desktop.core.rules import list_rules, rejection_counts

    status = project.status()
    if cancel is not None:
        cancel.raise_if_cancelled()
    by_rule_person = project.query(
        "SELECT COALESCE(decided_by, ''), COUNT(*) FROM candidates WHERE status = 'rejected' GROUP BY decided_by"
    )
    split = {by: n for by, n in by_rule_person}
    rule_rejected = split.get("rule", 0)
    by_status = {
        "pending": int(status["by_status"].get("pending", 0)),
        "accepted": int(status["by_status"].get("accepted", 0)),
        "rejected": int(status["by_status"].get("rejected", 0)) - rule_rejected,
        "rule": rule_rejected,
    }
    accepted = dict(project.query(
        "SELECT COALESCE(label, ''), COUNT(*) FROM candidates WHERE status = 'accepted' GROUP BY label"
    ))
    try:
        rules = list_rules(project)
    except Exception:  # a damaged rule row must not hide every other chart
        rules = []
    return Statistics(
        items=int(status["items"]), candidates=int(status["candidates"]), by_status=by_status,
        by_origin={k: int(v) for k, v in status["by_origin"].items()},
        by_round={str(k): int(v) for k, v in status["by_round"].items()},
        by_rule=rejection_counts(project), real_classes=dict(status["classes"]),
        accepted_classes={str(k): int(v) for k, v in accepted.items()}, rules=rules, modality=project.modality,
    )


@dataclass(slots=True)
class Measurements:
    rule_id: str
    values: list[float | None]
    bounds: tuple[float | None, float | None]
    unit: str


def measure_rule(project: Project, rule: Rule, cancel: CancelToken) -> Any:
    """Measure *rule* on every candidate, whatever its status (a job: a dry run, no writes)."""
    from genaug_desktop.core.rules import dry_run_job

    result = yield from dry_run_job(project, [rule], cancel=cancel, all_candidates=True)
    _ids, values = result.measured.get(rule.id, ([], []))
    return Measurements(rule.id, list(values), rule.bounds(), rule.measure)


class StatsPanel(QWidget):
    """Charts over the open project; ``refresh()`` after anything that changes the counts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statsPanel")
        self.project: Project | None = None
        self.stats: Statistics | None = None
        self.measurements: Measurements | None = None
        self._dirty = False
        self._slot = JobSlot(self)
        self._measure_slot = JobSlot(self)
        self._timer = tracked_timer(self, REFRESH_MS, timeout=self.refresh)
        self._timer.setObjectName("statsRefresh")

        self.summary = QLabel()
        self.summary.setStyleSheet("color: palette(placeholder-text);")
        self.status_chart = BarChart("By status")
        self.origin_chart = BarChart("By origin and round")
        self.rule_chart = BarChart("Rejections per rule")
        self.rule_chart.empty_text = "No rule has rejected anything yet"
        self.class_chart = PairedBarChart("Class balance")
        self.class_chart.empty_text = "No class labels"
        self.histogram = Histogram("Measured value")
        self.histogram.empty_text = "Choose a rule that measures a value"
        for chart in (self.status_chart, self.origin_chart, self.rule_chart, self.class_chart, self.histogram):
            chart.setMinimumHeight(140)
        self.rule_combo = QComboBox()
        self.rule_combo.setToolTip("The rule whose measured value is shown, over every candidate")
        self.rule_combo.currentIndexChanged.connect(lambda _i: self.measure())
        self.rule_combo.activated.connect(lambda _i: setattr(self, "_rule_chosen", True))
        self.rule_combo.setMinimumContentsLength(14)
        self.rule_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        # It takes the row's free width (a rule's measure is a long name); the tooltip says it whole.
        self.rule_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._rule_chosen = False
        self.measure_label = QLabel()
        self.measure_label.setStyleSheet("color: palette(placeholder-text);")

        grid = self.grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(10)
        measure_row = QHBoxLayout()
        measure_row.setContentsMargins(0, 0, 0, 0)
        measure_row.addWidget(QLabel("Distribution of"))
        measure_row.addWidget(self.rule_combo, 1)
        measure_row.addWidget(self.measure_label)
        measure_box = QWidget()
        measure_column = QVBoxLayout(measure_box)
        measure_column.setContentsMargins(0, 0, 0, 0)
        measure_column.setSpacing(4)
        measure_column.addLayout(measure_row)
        measure_column.addWidget(self.histogram, 1)
        self.measure_box = measure_box
        self._wide: bool | None = None
        self._arrange(wide=False)
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(10, 8, 10, 10)
        column.setSpacing(8)
        column.addWidget(self.summary)
        column.addLayout(grid, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        scroll.setStyleSheet("QScrollArea { background: palette(alternate-base); } #statsBody { background: palette(alternate-base); }")
        body.setObjectName("statsBody")

        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: palette(placeholder-text); padding: 24px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(scroll)
        self._content = scroll
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._show_empty()

    # ---- layout ------------------------------------------------------------------------------------------
    def _arrange(self, wide: bool) -> None:
        """Two rows of charts, or one row when the panel is wide and short (a bottom dock)."""
        if wide == self._wide:
            return
        self._wide = wide
        self.measure_label.setVisible(not wide)
        grid = self.grid
        charts = [self.status_chart, self.origin_chart, self.rule_chart, self.class_chart]
        for w in [*charts, self.measure_box]:
            grid.removeWidget(w)
        for col in range(6):
            grid.setColumnStretch(col, 0)
        if wide:
            for col, chart in enumerate(charts):
                grid.addWidget(chart, 0, col)
                grid.setColumnStretch(col, 2)
            grid.addWidget(self.measure_box, 0, 4)
            grid.setColumnStretch(4, 3)
        else:
            for col, chart in enumerate(charts[:3]):
                grid.addWidget(chart, 0, col)
                grid.setColumnStretch(col, 1)
            grid.addWidget(self.class_chart, 1, 0)
            grid.addWidget(self.measure_box, 1, 1, 1, 2)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(wide=self.width() >= 1000 and self.width() >= 3.2 * self.height())

    # ---- project and refreshing ----------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        self._timer.stop()
        self._slot.abort()
        self._measure_slot.abort()
        self.project = project
        self.stats = None
        self.measurements = None
        self._rule_chosen = False
        self.rule_combo.blockSignals(True)
        self.rule_combo.clear()
        self.rule_combo.blockSignals(False)
        self.histogram.set_values([])
        self._show_empty()
        if project is not None:
            self.refresh(force=True)

    def schedule_refresh(self) -> None:
        """Something changed (a decision): refresh soon, once for a burst of changes."""
        if self.project is not None:
            if self.isVisible():
                self._timer.start()
            else:
                self._dirty = True

    def refresh(self, force: bool = False) -> None:
        self._timer.stop()
        project = self.project
        if project is None:
            return
        if not force and not self.isVisible():
            self._dirty = True
            return
        self._dirty = False
        worker = JobWorker(lambda cancel: load_statistics(project, cancel), name="statistics")
        worker.returned.connect(self._on_loaded)
        worker.errored.connect(lambda message: self.summary.setText(f"Cannot read the statistics: {message}"))
        self._slot.start(worker)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def is_settled(self) -> bool:
        return not self._slot.is_busy() and not self._measure_slot.is_busy() and not self._timer.isActive()

    def shutdown(self) -> None:
        self._timer.stop()
        for slot in (self._slot, self._measure_slot):
            slot.abort()
            if slot.current is not None:
                slot.current.wait()

    def _show_empty(self) -> None:
        if self.project is None:
            self.empty.setText("Statistics need a project: open one, or press Augment…, which offers to create one.")
            self.stack.setCurrentWidget(self.empty)
        elif self.stats is None:
            self.empty.setText("Reading the project…")
            self.stack.setCurrentWidget(self.empty)
        else:
            self.stack.setCurrentWidget(self._content)

    # ---- charts ------------------------------------------------------------------------------------------
    def _on_loaded(self, stats: Statistics) -> None:
        if self.project is None:
            return
        self.stats = stats
        s = stats
        reviewed = s.candidates - s.by_status.get("pending", 0)
        self.summary.setText(
            f"{plural(s.items, 'real item')} · {plural(s.candidates, 'candidate')} · {reviewed:,} reviewed · "
            f"{s.by_status.get('accepted', 0):,} accepted")
        names = {"pending": "Pending", "accepted": "Accepted", "rejected": "Rejected", "rule": "Rule-rejected"}
        tips = {"rejected": "rejected by a person", "rule": "rejected by an approved rule"}
        self.status_chart.set_bars([
            Bar(names[k], s.by_status.get(k, 0), STATUS_COLORS[k],
                f"{names[k]}: {s.by_status.get(k, 0):,}" + (f" ({tips[k]})" if k in tips else ""))
            for k in names
        ])
        origin = [Bar(k.capitalize(), v, ORIGIN_COLORS.get(k, QColor("#667085"))) for k, v in s.by_origin.items() if v]
        rounds = sorted(s.by_round.items(), key=lambda kv: int(kv[0]) if kv[0].lstrip("-").isdigit() else 0)
        origin += [Bar(f"Round {k}", v, QColor("#9e77ed")) for k, v in rounds]
        self.origin_chart.set_bars(origin)
        titles = {r.id: r.title for r in s.rules}
        per_rule = sorted(s.by_rule.items(), key=lambda kv: -kv[1])
        self.rule_chart.set_bars([
            Bar(rid, n, STATUS_COLORS["rule"], f"{titles.get(rid, rid)} ({rid}): rejected {plural(n, 'candidate')}")
            for rid, n in per_rule
        ])
        self.rule_chart.set_title("Rejections per rule", f"{plural(sum(s.by_rule.values()), 'candidate')} in all")
        labels = sorted(set(s.real_classes) | {k for k in s.accepted_classes if k})
        self.class_chart.set_data(
            labels,
            [Series(f"Real ({s.items:,})", REAL_COLOR),
             Series(f"Accepted ({s.by_status.get('accepted', 0):,})", ACCEPTED_COLOR)],
            [[s.real_classes.get(c, 0) for c in labels], [s.accepted_classes.get(c, 0) for c in labels]],
        )
        self.class_chart.set_title("Class balance", "share of each class")  # (the legend says real / accepted)
        self._fill_rules(s.rules)
        self._show_empty()

    def _fill_rules(self, rules: list[Rule]) -> None:
        measured = [r for r in rules if r.measure]
        current = self.rule_combo.currentData()
        self.rule_combo.blockSignals(True)
        self.rule_combo.clear()
        for r in measured:
            self.rule_combo.addItem(f"{r.id} · {r.measure}", r.id)
        index = self.rule_combo.findData(current) if current is not None and self._rule_chosen else -1
        if index < 0:  # until the person picks one: the rule that rejected most, else the first one
            by_rule = self.stats.by_rule if self.stats is not None else {}
            best = max(measured, key=lambda r: by_rule.get(r.id, 0), default=None)
            index = self.rule_combo.findData(best.id) if best is not None else -1
        self.rule_combo.setCurrentIndex(max(0, index) if measured else -1)
        self.rule_combo.blockSignals(False)
        self.rule_combo.setEnabled(bool(measured))
        self.measure()

    def _combo_tooltip(self) -> None:
        text = self.rule_combo.currentText()
        about = "The rule whose measured value is shown, over every candidate"
        self.rule_combo.setToolTip(f"{text}\n{about}" if text else about)

    def select_rule(self, rule_id: str) -> bool:
        index = self.rule_combo.findData(rule_id)
        if index < 0:
            return False
        self._rule_chosen = True
        self.rule_combo.setCurrentIndex(index)
        return True

    def measure(self) -> None:
        """Measure the chosen rule over every candidate (background; newest wins)."""
        self._combo_tooltip()
        project = self.project
        rule_id = self.rule_combo.currentData()
        rule = next((r for r in (self.stats.rules if self.stats else []) if r.id == rule_id), None)
        if project is None or rule is None:
            self._measure_slot.abort()
            self.histogram.set_title("Measured value")
            self.histogram.set_values([])
            self.measure_label.setText("")
            return
        self.measure_label.setText("measuring…")
        worker = JobWorker(lambda cancel: measure_rule(project, rule, cancel), name="measure-rule")
        worker.returned.connect(self._on_measured)
        worker.errored.connect(lambda message: self.measure_label.setText(f"cannot measure: {message}"))
        self._measure_slot.start(worker)

    def _on_measured(self, m: Measurements) -> None:
        self.measurements = m
        self.histogram.set_values(m.values, m.bounds, m.unit)
        measured = len(self.histogram.values)
        outside = self.histogram.outside()
        lo, hi = m.bounds
        interval = ("≥ " + f"{lo:g}" if hi is None else "≤ " + f"{hi:g}" if lo is None else f"{lo:g} – {hi:g}") \
            if lo is not None or hi is not None else "no bounds"
        # (the rule's id is in the chooser above: the title is the measure alone, so that it fits)
        self.histogram.set_title(m.unit, f"{measured:,} measured · pass {interval} · {outside:,} outside")
        self.measure_label.setText("over every candidate, whatever its status")
        self.histogram.setToolTip("Every candidate, whatever its status, measured by this rule; the dashed "
                                  "lines are its thresholds, amber bins fall outside them")


def main(argv: list[str] | None = None) -> int:
    from genaug_desktop.gui.demo import run_project_panel

    def build(project: Project) -> StatsPanel:
        panel = StatsPanel()
        panel.set_project(project)
        return panel

    return run_project_panel("stats_panel", "Statistics of", (1100, 520), build, argv)

if __name__ == "__main__":
    raise SystemExit(main())
