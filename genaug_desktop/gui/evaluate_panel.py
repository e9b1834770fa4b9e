"""The Evaluate panel: did the curation help? A small model trained on real items only, on real +
accepted and on real + all candidates, compared on held-out real items (core
:func:`~genaug_desktop.core.evaluation.evaluate_job`; without labels, the built-in generator's
held-out loss).

- options: held-out share, seeds, epochs (0: the default for the data), and whether to train on
  all candidates too (what the review was worth);
- Run starts the core Job through :class:`~genaug_desktop.gui.worker.JobWorker` (torch loads in
  that thread, on first use), with progress and Cancel; a cancelled run stores nothing;
- the result: one plain sentence, bars with error bars (mean ± standard deviation over seeds),
  and per-class changes;
- every stored run is listed (newest first) so runs compare over time, e.g. after each
  self-training round; "Run Again" repeats the selected run's settings on today's candidates.

Project facts and the list are read in a job thread. A plain dataset, a project without
candidates and data without labels each get a hint instead of a failure.

Run alone: ``python -m genaug_desktop.gui.evaluate_panel PROJECT.genaug``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.gui import colors
from genaug_desktop.gui.charts import DeltaBarChart, ErrorBar, ErrorBarChart, Series
from genaug_desktop.gui.colors import ink_sheet, themed_style_sheet
from genaug_desktop.core.formatting import plural
from genaug_desktop.gui.worker import JobSlot, JobWorker

if TYPE_CHECKING:
    from genaug_desktop.core.evaluation import EvaluationResult
    from genaug_desktop.core.jobs import CancelToken, Progress
    from genaug_desktop.core.store.project import Project

CONDITION_NAMES = {"real_only": "Real only", "with_accepted": "Real + accepted", "with_all": "Real + all"}
CONDITION_COLORS = {"real_only": QColor("#98a2b3"), "with_accepted": QColor("#12b76a"), "with_all": QColor("#2e90fa")}
GENERATOR_OF = {"text": "char_gru", "image": "conv_vae"}


@dataclass(slots=True)
class ProjectFacts:
    """What the panel needs to know about a project, read in a job thread."""

    modality: str = ""
    classes: int = 0
    candidates: int = 0
    accepted: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


def read_facts(project: Project, _cancel: CancelToken | None = None) -> ProjectFacts:
    from genaug_desktop.core.evaluation import stored_evaluations

    classes = project.query("SELECT COUNT(DISTINCT label) FROM items WHERE label IS NOT NULL")[0][0]
    by_status = dict(project.query("SELECT status, COUNT(*) FROM candidates GROUP BY status"))
    return ProjectFacts(project.modality, int(classes), int(sum(by_status.values())), int(by_status.get("accepted", 0)),
                        stored_evaluations(project, with_candidates=False))


def sentence(result: dict[str, Any]) -> str:
    text = str(result.get("summary") or "")
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def value_format(result: dict[str, Any]) -> Any:
    if result.get("metric") == "accuracy":
        return lambda v: f"{v * 100:.1f}%"
    return lambda v: (f"{v:.3f}".rstrip("0").rstrip(".") or "0") if abs(v) < 10 else f"{v:.1f}"


def short(stats: dict[str, Any] | None, result: dict[str, Any]) -> str:
    if not stats:
        return "—"
    fmt = value_format(result)
    return f"{fmt(stats['mean'])} ± {fmt(stats['std'])}"


class EvaluatePanel(QWidget):
    """Options, Run/Cancel with progress, the result (sentence and charts) and past runs.

    Signals: ``notice(level, text)`` for the window's message bar, ``busy_changed(bool)``,
    ``evaluated(result)`` when a run finished and was stored."""

    notice = Signal(str, str)
    busy_changed = Signal(bool)
    evaluated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluatePanel")
        self.project: Project | None = None
        self.facts: ProjectFacts | None = None
        self.shown: dict[str, Any] | None = None
        self._job: JobWorker | None = None
        self._facts_slot = JobSlot(self)
        self._select_id: int | None = None
        self._dataset_open = False

        self.pages = QStackedWidget()
        self.hint_label = QLabel()
        self.hint_label.setObjectName("evaluateHint")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        themed_style_sheet(self.hint_label, ink_sheet(colors.HINT_INK, "padding: 24px;"))
        self.pages.addWidget(self.hint_label)
        self.pages.addWidget(self._build_main())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        self._show_hint()

    # ---- construction ----------------------------------------------------------------------------
    def _build_main(self) -> QWidget:
        self.holdout_spin = QSpinBox()
        self.holdout_spin.setRange(5, 50)
        self.holdout_spin.setSingleStep(5)
        self.holdout_spin.setValue(20)
        self.holdout_spin.setSuffix(" %")
        self.holdout_spin.setToolTip("Share of the real items of each class kept out of training and used to score")
        self.seeds_spin = QSpinBox()
        self.seeds_spin.setRange(1, 20)
        self.seeds_spin.setValue(5)
        self.seeds_spin.setToolTip("Models trained per training set; more seeds give a surer answer and take longer")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(0, 500)
        self.epochs_spin.setSpecialValueText("default")
        self.epochs_spin.setToolTip("Training epochs; 'default' picks a quick setting for the data (every training "
                                    "set gets the same number of steps)")
        self.all_check = QCheckBox("Also train on all candidates (what the review was worth)")
        self.all_check.setChecked(True)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Held-out share", self.holdout_spin)
        form.addRow("Seeds", self.seeds_spin)
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("", self.all_check)

        self.run_button = QPushButton("Run Evaluation")
        self.run_button.setObjectName("runEvaluation")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setVisible(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(8)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        self.note_label = QLabel()
        self.note_label.setObjectName("evaluateNote")
        self.note_label.setWordWrap(True)
        themed_style_sheet(self.note_label, ink_sheet(colors.HINT_INK))
        self.status_label = QLabel()
        self.status_label.setObjectName("evaluateStatus")
        self.status_label.setWordWrap(True)
        themed_style_sheet(self.status_label, ink_sheet(colors.HINT_INK))

        self.history = QTableWidget(0, 7)
        self.history.setObjectName("evaluationHistory")
        self.history.setHorizontalHeaderLabels(["When", "Metric", "Accepted", "Real only", "+ Accepted", "+ All", "Seeds"])
        self.history.verticalHeader().setVisible(False)
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.history.horizontalHeader().setStretchLastSection(True)
        self.history.itemSelectionChanged.connect(self._on_history_selected)
        self.rerun_button = QPushButton("Run Again")
        self.rerun_button.setToolTip("Repeat the selected run's settings (split, seeds, epochs) on today's candidates")
        self.rerun_button.clicked.connect(self.run_again)
        self.rerun_button.setEnabled(False)
        history_title = QLabel("<b>Past runs</b>")

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(8, 8, 8, 8)
        lv.addLayout(form)
        lv.addLayout(buttons)
        lv.addWidget(self.progress_bar)
        lv.addWidget(self.status_label)
        lv.addWidget(self.note_label)
        hist_row = QHBoxLayout()
        hist_row.addWidget(history_title)
        hist_row.addStretch(1)
        hist_row.addWidget(self.rerun_button)
        lv.addLayout(hist_row)
        lv.addWidget(self.history, 1)

        self.sentence_label = QLabel()
        self.sentence_label.setObjectName("evaluationSentence")
        self.sentence_label.setWordWrap(True)
        self.sentence_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.sentence_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        font.setBold(True)
        self.sentence_label.setFont(font)
        self.detail_label = QLabel()
        self.detail_label.setWordWrap(True)
        themed_style_sheet(self.detail_label, ink_sheet(colors.HINT_INK))
        self.chart = ErrorBarChart("Held-out score")
        self.chart.empty_text = "Run an evaluation to see whether the accepted candidates help"
        self.delta_chart = DeltaBarChart("Per-class change")
        self.delta_chart.empty_text = "Per-class changes appear after a run"
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(8, 8, 8, 8)
        rv.addWidget(self.sentence_label)
        rv.addWidget(self.detail_label)
        rv.addWidget(self.chart, 3)
        rv.addWidget(self.delta_chart, 2)

        split = QSplitter(Qt.Orientation.Horizontal)
        # Scrolled, so that the dock (tabbed with the others at the bottom) can be small.
        for side, min_height in ((left, 300), (right, 420)):
            side.setMinimumHeight(min_height)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(side)
            scroll.setMinimumSize(160, 60)
            split.addWidget(scroll)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        return split

    # ---- project ---------------------------------------------------------------------------------
    def set_dataset_open(self, open_: bool) -> None:
        """A dataset without a project is open (or not): the hint says what to do."""
        self._dataset_open = open_
        if self.project is None:
            self._show_hint()

    def set_project(self, project: Project | None) -> None:
        if project is self.project:
            return
        self._facts_slot.abort()
        if self._job is not None:  # an evaluation of the old project: stop it before it closes
            self._job.abort()
            self._job.wait(30_000)
        self.project = project
        self.facts = None
        self.shown = None
        self.history.setRowCount(0)
        self._show_result(None)
        self.status_label.setText("")
        if project is None:
            self._show_hint()
            return
        self.pages.setCurrentIndex(1)
        self.refresh()

    def _show_hint(self) -> None:
        self.pages.setCurrentIndex(0)
        self.hint_label.setText(
            "Evaluation needs a project: create one from this dataset (File ▸ Create Project…), augment or sample "
            "candidates and review them; then this panel measures whether the accepted ones help a model."
            if self._dataset_open else
            "Open a project to measure whether its accepted candidates help a model on held-out real items.")

    def refresh(self) -> None:
        """Read the project's facts and past runs again (in the background)."""
        project = self.project
        if project is None:
            return
        worker = JobWorker(lambda cancel: read_facts(project, cancel), name="evaluate-facts")
        worker.returned.connect(self._on_facts)
        worker.errored.connect(lambda message: self._say("error", f"Cannot read the past evaluations: {message}"))
        self._facts_slot.start(worker)

    def _on_facts(self, facts: ProjectFacts) -> None:
        if self.project is None:
            return
        self.facts = facts
        notes = []
        if facts.classes < 2:
            gen = GENERATOR_OF.get(facts.modality, "built-in")
            notes.append(f"This dataset has no labels (or one class): instead of a classifier's accuracy, the "
                         f"comparison uses the {gen} generator's loss on held-out items (lower is better).")
        if facts.candidates == 0:
            notes.append("No candidates yet: augment or sample some and review them first. A run now measures "
                         "real items only.")
        elif facts.accepted == 0:
            notes.append(f"None of the {plural(facts.candidates, 'candidate')} is accepted yet: accept some in Review "
                         "to see what they change.")
        self.note_label.setText("\n\n".join(notes))
        self.note_label.setVisible(bool(notes))
        self._fill_history(facts.history)

    def _fill_history(self, history: list[dict[str, Any]]) -> None:
        wanted = self._select_id if self._select_id is not None else (self.shown or {}).get("id")
        self.history.blockSignals(True)
        self.history.setRowCount(0)
        row_of_wanted = -1
        for r, entry in enumerate(reversed(history)):
            self.history.insertRow(r)
            metric = "accuracy" if entry.get("metric") == "accuracy" else f"{entry.get('params', {}).get('model', '')} loss"
            cells = [str(entry.get("created_at", ""))[5:16].replace("T", " "), metric,
                     f"{int(entry.get('counts', {}).get('accepted', 0)):,}", short(entry.get("real_only"), entry), short(entry.get("with_accepted"), entry),
                     short(entry.get("with_all"), entry), str(len(entry.get("seeds", [])))]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setData(Qt.ItemDataRole.UserRole, entry)
                item.setToolTip(sentence(entry))
                self.history.setItem(r, c, item)
            if entry.get("id") == wanted:
                row_of_wanted = r
        self.history.blockSignals(False)
        self._select_id = None
        if row_of_wanted < 0 and history and self.shown is None:
            row_of_wanted = 0  # the newest run
        if row_of_wanted >= 0:
            self.history.selectRow(row_of_wanted)
        self.rerun_button.setEnabled(self._job is None and bool(self.history.selectedItems()))

    def _on_history_selected(self) -> None:
        rows = self.history.selectionModel().selectedRows()
        entry = self.history.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole) if rows else None
        self._show_result(entry)
        self.rerun_button.setEnabled(self._job is None and entry is not None)

    # ---- the result ------------------------------------------------------------------------------
    def _show_result(self, result: dict[str, Any] | None) -> None:
        self.shown = result
        if result is None:
            self.sentence_label.setText("")
            self.detail_label.setText("")
            self.chart.set_title("Held-out score")
            self.chart.set_bars([])
            self.delta_chart.empty_text = "Per-class changes appear after a run"
            self.delta_chart.set_data([], [], [])
            return
        self.sentence_label.setText(sentence(result))
        fmt = value_format(result)
        n = len(result.get("seeds", []))
        accuracy = result.get("metric") == "accuracy"
        bars = []
        for name in ("real_only", "with_accepted", "with_all"):
            stats = result.get(name)
            if not stats:
                continue
            extra = f"\ntrained on {stats.get('train_size', 0):,} items ({stats.get('candidates', 0):,} candidates)"
            bars.append(ErrorBar(CONDITION_NAMES[name], float(stats["mean"]), float(stats["std"]), CONDITION_COLORS[name],
                                 f"{CONDITION_NAMES[name]}: {fmt(stats['mean'])} ± {fmt(stats['std'])} over "
                                 f"{plural(n, 'seed')}{extra}"))
        if accuracy:
            self.chart.set_title("Held-out accuracy (higher is better)", f"mean ± standard deviation over {plural(n, 'seed')}")
            self.chart.set_bars(bars, fmt, y_max=1.0)
        else:
            model, unit = result.get("params", {}).get("model", "generator"), result.get("unit", "")
            self.chart.set_title(f"Held-out loss of the {model} generator, {unit} (lower is better)",
                                 f"mean ± standard deviation over {plural(n, 'seed')}")
            self.chart.set_bars(bars, fmt)
        counts = result.get("counts", {})
        detail = (f"Held out {plural(int(counts.get('held_out', 0)), 'real item')}; trained on "
                  f"{plural(int(counts.get('train_real', 0)), 'real item')}, + {counts.get('accepted', 0):,} accepted, "
                  f"+ {counts.get('all', 0):,} candidates in all.")
        left_out = int(result.get("excluded", {}).get("source_held_out", 0))
        if left_out:
            detail += f" {plural(left_out, 'candidate')} made from held-out items were left out (no leakage)."
        self.detail_label.setText(f"{detail} Run {result.get('id')}, {str(result.get('created_at', ''))[:19].replace('T', ' ')} UTC.")
        per_class = result.get("per_class") or {}
        series, values = [], []
        names = sorted(per_class)
        for key, name in (("accepted", "with_accepted"), ("all", "with_all")):
            if not result.get(name):
                continue
            series.append(Series(f"{CONDITION_NAMES[name]} − real only", CONDITION_COLORS[name]))
            values.append([per_class[c].get(f"delta_accuracy_{key}") * 100 if per_class[c].get(f"delta_accuracy_{key}")
                           is not None else None for c in names])
        if per_class:
            self.delta_chart.set_title("Per-class accuracy change, points", "mean over seeds; hover for details")
        else:
            self.delta_chart.set_title("Per-class change")
        self.delta_chart.empty_text = "No per-class figures: this dataset has no labels"
        self.delta_chart.set_data(names if per_class else [], series, values, lambda v: f"{v:+.1f}")

    # ---- running ---------------------------------------------------------------------------------
    def is_busy(self) -> bool:
        return self._job is not None

    def settings(self) -> dict[str, Any]:
        epochs = self.epochs_spin.value()
        return {"holdout": self.holdout_spin.value() / 100.0, "seeds": self.seeds_spin.value(),
                "epochs": epochs or None, "include_all": self.all_check.isChecked()}

    def run(self) -> bool:
        """Start an evaluation with the options shown; False when one runs or there is no project."""
        return self._run(**self.settings())

    def run_again(self) -> bool:
        """Repeat the selected past run's settings (held-out split, seeds, epochs) on today's candidates."""
        if self.shown is None:
            return False
        params = self.shown.get("params", {})
        self.holdout_spin.setValue(int(round(float(params.get("holdout", 0.2)) * 100)))
        seeds = list(params.get("seeds", self.shown.get("seeds", [])))
        self.seeds_spin.setValue(max(1, len(seeds)))
        self.epochs_spin.setValue(int(params.get("epochs") or 0))
        self.all_check.setChecked(bool(params.get("include_all", True)))
        return self._run(holdout=float(params.get("holdout", 0.2)), seeds=seeds or self.seeds_spin.value(),
                         epochs=params.get("epochs"), include_all=bool(params.get("include_all", True)),
                         split_seed=int(params.get("split_seed", 0)))

    def _run(self, holdout: float, seeds: Any, epochs: int | None, include_all: bool, split_seed: int = 0) -> bool:
        project = self.project
        if project is None or self._job is not None:
            return False

        def job(cancel: CancelToken) -> Any:
            from genaug_desktop.core.evaluation import evaluate_job

            return evaluate_job(project, holdout=holdout, seeds=seeds, epochs=epochs, include_all=include_all,
                                cancel=cancel, split_seed=split_seed)

        worker = JobWorker(job, name="evaluate")
        worker.progress.connect(self._on_progress)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(lambda message: self._say("error", f"Evaluation failed: {message}"))
        worker.aborted.connect(lambda: self._say("info", "Evaluation cancelled: nothing was stored."))
        worker.finished.connect(self._on_finished)
        self._job = worker
        self._set_busy(True)
        themed_style_sheet(self.status_label, ink_sheet(colors.HINT_INK))
        self.status_label.setText("Starting (the first run loads torch)…")
        worker.start()
        return True

    def cancel(self) -> None:
        if self._job is not None:
            self.status_label.setText("Stopping…")
            self._job.abort()

    def _set_busy(self, busy: bool) -> None:
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.run_button.setEnabled(not busy)
        self.rerun_button.setEnabled(not busy and bool(self.history.selectedItems()))
        for w in (self.holdout_spin, self.seeds_spin, self.epochs_spin, self.all_check):
            w.setEnabled(not busy)
        if busy:
            self.progress_bar.setRange(0, 0)
        self.busy_changed.emit(busy)

    def _on_progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress_bar.setRange(0, progress.total)
            self.progress_bar.setValue(min(progress.done, progress.total))
        self.status_label.setText(progress.message)

    def _on_returned(self, result: EvaluationResult) -> None:
        data = result.to_json()
        self._select_id = result.id
        self._show_result(data)
        self.status_label.setText(f"Stored as run {result.id}.")
        self.notice.emit("info", f"Evaluation stored: {sentence(data)}")
        self.evaluated.emit(result)

    def _on_finished(self) -> None:
        self._job = None
        self._set_busy(False)
        self.refresh()

    def _say(self, level: str, text: str) -> None:
        themed_style_sheet(self.status_label, ink_sheet(colors.ERROR_INK if level == "error" else colors.HINT_INK))
        self.status_label.setText(text)
        self.notice.emit(level, text)

    # ---- lifecycle -------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.project is not None and self._job is None:
            self.refresh()

    def is_settled(self) -> bool:
        return self._job is None and not self._facts_slot.is_busy()

    def shutdown(self) -> None:
        self._facts_slot.abort()
        for worker in (self._job, self._facts_slot.current):
            if worker is not None:
                worker.abort()
                worker.wait(30_000)


def main(argv: list[str] | None = None) -> int:
    from genaug_desktop.gui.demo import run_project_panel

    def build(project: Any) -> QWidget:
        panel = EvaluatePanel()
        panel.set_project(project)
        return panel

    return run_project_panel("evaluate_panel", "Evaluate", (1000, 620), build, argv)


if __name__ == "__main__":
    raise SystemExit(main())
