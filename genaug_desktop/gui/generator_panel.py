"""The Generators dock: train a generator on the project, watch its loss, sample candidates.

:class:`GeneratorPanel` is a view over core ``genaug_desktop.core.generators``:

- the generator chooser lists ``describe_generators()``; one that cannot run here, or that makes
  the other modality, is greyed out with the reason in its tooltip;
- **Train** runs core ``train_job`` through the worker: the training :class:`ParamForm` is built
  from the generator's ``params``, beside the round (default ``next_round``), the seed and the
  data's ``max_synthetic_share`` (``DATA_PARAMS``, the same form class). Progress payloads feed a
  live :class:`LossChart`, the progress bar and the ETA; Cancel saves a resumable ``partial``
  checkpoint (the core does it) and **Resume** continues the newest one;
- **Sample** runs core ``sample_job``: N, seed, label (the project's classes), checkpoint (from
  ``list_checkpoints``) and the sampling form from ``sample_params`` (temperature, ...). Each batch
  the job stores is announced with ``candidates_added(ids)`` while the job goes on, so the
  candidates and review grids show them at once;
- **Rounds**: ``round_summary`` as a table (candidates, decisions, acceptance rate per round);
- **Load TorchScript…** reads what the file says about itself without running it, then asks
  (QMessageBox) before ``load_torchscript(confirmed=True)``, because loading runs its code.

Torch is imported only by the jobs (in the worker thread), and the generator list is read the
first time the panel is shown with a project, so opening the window or a dataset never loads it.

:class:`GeneratorWorkspace` puts the panel in a dock of a main window and wires it to the session
and to the other panels; the window only creates it.

Run alone: ``python -m genaug_desktop.gui.generator_panel PROJECT.genaug``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.core.jobs import Progress
from genaug_desktop.gui import colors
from genaug_desktop.gui.colors import ink_sheet, themed_style_sheet
from genaug_desktop.gui.lazy import LazyPanel
from genaug_desktop.gui.loss_chart import LossChart
from genaug_desktop.gui.param_form import ParamForm
from genaug_desktop.gui.worker import JobWorker, describe_error

if TYPE_CHECKING:
    from genaug_desktop.core.generators import CheckpointRecord, Generator, SampleResult, TrainResult
    from genaug_desktop.core.store.project import Project
    from genaug_desktop.gui.main_window import MainWindow


def _gen() -> Any:
    """The generators core, imported on first use: it pulls in numpy, which the window does not
    need until the panel is used (keeps the first open of a dataset free of a ~150 ms stall)."""
    import genaug_desktop.core.generators as generators

    return generators

ANY_LABEL = "Any (by class frequency)"
NEWEST = "Newest finished checkpoint"
ROUND_COLUMNS = ("Round", "Candidates", "Pending", "Accepted", "Rejected", "Acceptance", "Checkpoints")


def merge_ids(first: Progress, second: Progress) -> Progress | None:
    """Coalesce two sampling reports: the newer counts, both lists of new candidate ids."""
    if not isinstance(first.payload, list) or not isinstance(second.payload, list):
        return None
    return Progress(second.done, second.total, second.message, first.payload + second.payload, first.started)


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def resumable(records: list[CheckpointRecord]) -> list[CheckpointRecord]:
    """Partial checkpoints (newest first) that no later run continued."""
    continued = {r.parent for r in records if r.parent}
    return [r for r in records if r.state == "partial" and r.sha256 not in continued]


def ask_torchscript_path(parent: QWidget) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Load TorchScript Generator", os.path.expanduser("~"),
                                          "TorchScript files (*.pt *.pth *.ts *.zip);;All files (*)")
    return path


def confirm_torchscript(parent: QWidget, name: str, modality: str, labels: list[str | None], path: str) -> bool:
    classes = ", ".join(str(x) for x in labels if x is not None) or "none"
    answer = QMessageBox.warning(
        parent, "Run code from this file?",
        f"<p><b>{name}</b> says it makes {modality}s (classes: {classes}).</p>"
        "<p>Loading a TorchScript file <b>runs code from that file</b> on this computer, with your "
        "permissions. Only load files you trust.</p>"
        f"<p style='color:{colors.HINT_INK.name()}'>{path}</p>",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


class GeneratorPanel(QWidget):
    """Train and sample generators on a project.

    Signals: ``candidates_added(ids)`` while sampling stores candidates, ``sampling_finished(ids)``
    with every id stored by a run (also after a cancel), ``trained(TrainResult)``,
    ``notice(level, text)`` for the message bar, ``busy_changed(bool)`` and
    ``create_project_requested()`` (the hint's button, when a plain dataset is open).
    """

    candidates_added = Signal(list)
    sampling_finished = Signal(list)
    trained = Signal(object)
    notice = Signal(str, str)
    busy_changed = Signal(bool)
    create_project_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generatorPanel")
        self.project: Project | None = None
        self.generators: list[dict[str, Any]] | None = None  # read on first use
        self.externals: dict[str, Generator] = {}  # loaded TorchScript generators by SHA-256
        self.train_form: ParamForm | None = None
        self.sample_form: ParamForm | None = None
        self.checkpoints: list[CheckpointRecord] = []
        self.last_train: TrainResult | None = None
        self.last_sample: SampleResult | None = None
        self._job: JobWorker | None = None
        self._job_kind = ""
        self._sampled_ids: list[int] = []
        self._has_dataset = False

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_hint_page())
        self.pages.addWidget(self._build_main_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        self._show_hint()

    # ---- construction ----------------------------------------------------------------------------------
    def _build_hint_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(24, 24, 24, 24)
        self.hint_label = QLabel()
        self.hint_label.setObjectName("generatorHint")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        themed_style_sheet(self.hint_label, ink_sheet(colors.HINT_INK))
        self.create_project_button = QPushButton("Create Project…")
        self.create_project_button.clicked.connect(self.create_project_requested)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.create_project_button)
        row.addStretch(1)
        layout.addStretch(1)
        layout.addWidget(self.hint_label)
        layout.addLayout(row)
        layout.addStretch(1)
        return page

    def _build_main_page(self) -> QWidget:
        # top row: the generator chooser and what it is
        self.generator_combo = QComboBox()
        self.generator_combo.setObjectName("generator")
        self.generator_combo.setMinimumWidth(160)
        self.generator_combo.currentIndexChanged.connect(self._on_generator_changed)
        self.generator_help = QLabel("")
        self.generator_help.setObjectName("generatorHelp")
        self.generator_help.setWordWrap(True)
        themed_style_sheet(self.generator_help, ink_sheet(colors.HINT_INK))
        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(QLabel("Generator"))
        top.addWidget(self.generator_combo)
        top.addWidget(self.generator_help, 1)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_train_tab(), "Train")
        self.tabs.addTab(self._build_sample_tab(), "Sample")

        # right: the loss curve and the rounds
        self.chart = LossChart()
        self.rounds_table = QTableWidget(0, len(ROUND_COLUMNS))
        self.rounds_table.setObjectName("roundsTable")
        self.rounds_table.setHorizontalHeaderLabels(list(ROUND_COLUMNS))
        self.rounds_table.verticalHeader().hide()
        self.rounds_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rounds_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.rounds_table.setAlternatingRowColors(True)
        self.rounds_table.setShowGrid(False)
        header = self.rounds_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(ROUND_COLUMNS) - 1, QHeaderView.ResizeMode.ResizeToContents)
        self.results = QTabWidget()
        self.results.setDocumentMode(True)
        self.results.addTab(self.chart, "Loss")
        self.results.addTab(self.rounds_table, "Rounds")

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.tabs)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(left)
        splitter.addWidget(self.results)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        self.splitter = splitter

        # footer: one job at a time
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("generatorProgress")
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(12)
        self.progress_bar.setMaximumWidth(220)
        self.eta_label = QLabel("")
        self.eta_label.setObjectName("eta")
        self.status_label = QLabel("")
        self.status_label.setObjectName("generatorStatus")
        themed_style_sheet(self.status_label, ink_sheet(colors.HINT_INK))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop; training keeps a checkpoint to resume from, sampling keeps what it made")
        self.cancel_button.clicked.connect(self.cancel)
        footer = QHBoxLayout()
        footer.setSpacing(10)
        footer.addWidget(self.status_label, 1)
        footer.addWidget(self.eta_label)
        footer.addWidget(self.progress_bar)
        footer.addWidget(self.cancel_button)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addLayout(footer)
        self._set_busy(False)
        return page

    def _scroll(self, widget: QWidget) -> QScrollArea:
        scroll = QScrollArea()
        scroll.setWidget(widget)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        return scroll

    def _build_train_tab(self) -> QWidget:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 8, 10, 4)
        layout.setSpacing(8)
        self.train_form_holder = QVBoxLayout()
        self.train_form_holder.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.train_form_holder)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet("color: palette(midlight);")
        layout.addWidget(line)
        run = QFormLayout()
        run.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.round_spin = QSpinBox()
        self.round_spin.setObjectName("round")
        self.round_spin.setRange(0, 10_000)
        self.round_spin.setToolTip("Round 0 trains on the real items; round k adds accepted samples of earlier rounds")
        self.train_seed_spin = QSpinBox()
        self.train_seed_spin.setObjectName("trainSeed")
        self.train_seed_spin.setRange(0, 2**31 - 1)
        run.addRow("Round", self.round_spin)
        run.addRow("Seed", self.train_seed_spin)
        layout.addLayout(run)
        self.data_form = ParamForm(_gen().DATA_PARAMS, path="$.data")
        layout.addWidget(self.data_form)
        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("train")
        self.train_button.clicked.connect(self.train)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setObjectName("resume")
        self.resume_button.clicked.connect(self.resume)
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.resume_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addStretch(1)
        return self._scroll(body)

    def _build_sample_tab(self) -> QWidget:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 8, 10, 4)
        layout.setSpacing(8)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.checkpoint_combo = QComboBox()
        self.checkpoint_combo.setObjectName("checkpoint")
        self.count_spin = QSpinBox()
        self.count_spin.setObjectName("count")
        self.count_spin.setRange(1, 1_000_000)
        self.count_spin.setValue(32)
        self.sample_seed_spin = QSpinBox()
        self.sample_seed_spin.setObjectName("sampleSeed")
        self.sample_seed_spin.setRange(0, 2**31 - 1)
        self.label_combo = QComboBox()
        self.label_combo.setObjectName("label")
        form.addRow("Checkpoint", self.checkpoint_combo)
        form.addRow("Samples", self.count_spin)
        form.addRow("Seed", self.sample_seed_spin)
        form.addRow("Class", self.label_combo)
        layout.addLayout(form)
        self.sample_form_holder = QVBoxLayout()
        self.sample_form_holder.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.sample_form_holder)
        buttons = QHBoxLayout()
        self.sample_button = QPushButton("Sample")
        self.sample_button.setObjectName("sample")
        self.sample_button.clicked.connect(self.sample)
        self.torchscript_button = QPushButton("Load TorchScript…")
        self.torchscript_button.setToolTip("Sample from a model exported elsewhere (loading it runs its code)")
        self.torchscript_button.clicked.connect(self.load_torchscript_file)
        buttons.addWidget(self.sample_button)
        buttons.addWidget(self.torchscript_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addStretch(1)
        return self._scroll(body)

    # ---- project -----------------------------------------------------------------------------------------
    def set_dataset_open(self, open_: bool) -> None:
        """A plain dataset (no project) is open: the hint offers to create a project."""
        self._has_dataset = open_
        if self.project is None:
            self._show_hint()

    def set_project(self, project: Project | None) -> None:
        """Show *project* (None: the hint). A job on the previous project is stopped and joined."""
        if project is self.project:
            return
        self.shutdown()
        self.project = project
        self.externals = {}
        self.chart.clear()
        self.last_train = self.last_sample = None
        self.status_label.setText("")
        if project is None:
            self._show_hint()
            return
        self.pages.setCurrentIndex(1)
        if self.isVisible():
            self._ensure_generators()

    def _show_hint(self) -> None:
        self.pages.setCurrentIndex(0)
        if self._has_dataset:
            self.hint_label.setText(
                "Generators train on a project: a NAME.genaug folder that refers to this dataset and never "
                "changes it. Create one to train a generator and sample new candidates.")
        else:
            self.hint_label.setText("Open a project (File > Open Project…) to train a generator and sample candidates.")
        self.create_project_button.setVisible(self._has_dataset)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.project is not None:
            self._ensure_generators()

    def _ensure_generators(self) -> None:
        """Fill the chooser (first use) and the project's figures."""
        if self.project is None:
            return
        modality = self.project.modality
        if self.generators is None:
            self.generators = _gen().describe_generators()
        combo = self.generator_combo
        current = self.generator_name
        combo.blockSignals(True)
        combo.clear()
        first_usable = -1
        for row in self.generators:
            name = str(row["name"])
            why = row.get("why")
            usable = bool(row.get("available"))
            if usable and row.get("modality") != modality:
                usable, why = False, f"makes {row.get('modality')}s; this project holds {modality}s"
            combo.addItem(name if usable else f"{name} (unavailable)", name)
            index = combo.count() - 1
            item = combo.model().item(index)  # type: ignore[attr-defined]
            tip = str(row.get("help") or "")
            if not usable:
                item.setEnabled(False)
                tip = f"Unavailable: {why}" + (f"\n{tip}" if tip else "")
            combo.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
            if usable and (first_usable < 0 or name == current):
                first_usable = index
        combo.setCurrentIndex(max(first_usable, 0))
        combo.blockSignals(False)
        self._on_generator_changed()
        self.label_combo.clear()
        self.label_combo.addItem(ANY_LABEL, None)
        for label in sorted(self.project.class_counts()):
            self.label_combo.addItem(label, label)
        self.round_spin.setValue(_gen().next_round(self.project))
        self.refresh_rounds()

    # ---- generator ---------------------------------------------------------------------------------------
    @property
    def generator_name(self) -> str | None:
        data = self.generator_combo.currentData()
        return str(data) if data is not None else None

    def _usable(self) -> bool:
        index = self.generator_combo.currentIndex()
        item = self.generator_combo.model().item(index) if index >= 0 else None  # type: ignore[attr-defined]
        return item is not None and item.isEnabled()

    def set_generator(self, name: str) -> None:
        index = self.generator_combo.findData(name)
        if index < 0:
            raise ValueError(f"no generator {name!r}")
        self.generator_combo.setCurrentIndex(index)

    def _on_generator_changed(self) -> None:
        name = self.generator_name
        row = next((r for r in self.generators or [] if r["name"] == name), None)
        self.generator_help.setText(str(row.get("help") or "") if row else "")
        for holder, attr in ((self.train_form_holder, "train_form"), (self.sample_form_holder, "sample_form")):
            old = getattr(self, attr)
            if old is not None:
                holder.removeWidget(old)
                old.deleteLater()
            setattr(self, attr, None)
        if name is not None and self._usable():
            cls = _gen().get_generator(name)
            self.train_form = ParamForm(cls.params, path="$.params")
            self.sample_form = ParamForm(cls.sample_params, path="$.sample")
            self.train_form_holder.addWidget(self.train_form)
            self.sample_form_holder.addWidget(self.sample_form)
        self.refresh_checkpoints()

    # ---- checkpoints and rounds ------------------------------------------------------------------------------
    def refresh_checkpoints(self) -> None:
        name = self.generator_name
        combo = self.checkpoint_combo
        selected = combo.currentData()
        combo.clear()
        self.checkpoints = []
        if self.project is not None and name is not None:
            self.checkpoints = _gen().list_checkpoints(self.project, name)
            if any(r.state == "finished" for r in self.checkpoints):
                combo.addItem(NEWEST, None)
            for rec in self.checkpoints:
                when = rec.created_at[:16].replace("T", " ")
                combo.addItem(f"Round {rec.round if rec.round is not None else '–'} · {rec.state} · {when} · "
                              f"{rec.sha256[:8]}", rec.sha256)
        for sha, gen in self.externals.items():
            combo.addItem(f"TorchScript: {getattr(gen, 'info').name} · {sha[:8]}", f"external:{sha}")
        index = combo.findData(selected)
        combo.setCurrentIndex(index if index >= 0 else 0)
        self._update_buttons()

    def resume_candidate(self) -> CheckpointRecord | None:
        found = resumable(self.checkpoints)
        return found[0] if found else None

    def refresh_rounds(self) -> None:
        table = self.rounds_table
        rounds = _gen().round_summary(self.project) if self.project is not None else {}
        table.setRowCount(len(rounds))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, (rnd, entry) in enumerate(rounds.items()):
            rate = entry.get("acceptance_rate")
            states = sorted({c["state"] for c in entry.get("checkpoints", [])})
            cells = [rnd, f"{entry['candidates']:,}", f"{entry['pending']:,}", f"{entry['accepted']:,}",
                     f"{entry['rejected']:,}", "–" if rate is None else f"{rate:.0%}",
                     f"{len(entry.get('checkpoints', []))}" + (f" ({', '.join(states)})" if states else "")]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                elif c < 6:
                    item.setTextAlignment(right)
                else:
                    item.setText(f"   {text}")  # keeps it clear of the acceptance figure
                table.setItem(r, c, item)

    # ---- jobs --------------------------------------------------------------------------------------------
    def is_busy(self) -> bool:
        return self._job is not None

    def _update_buttons(self) -> None:
        idle = self._job is None and self.project is not None and self._usable()
        name = self.generator_name
        trainable = idle and name is not None and bool(
            next((r.get("trainable", True) for r in self.generators or [] if r["name"] == name), True))
        self.train_button.setEnabled(trainable)
        resume = self.resume_candidate() if trainable else None
        self.resume_button.setEnabled(resume is not None)
        self.resume_button.setToolTip(
            f"Continue the interrupted run of round {resume.round} ({resume.sha256[:8]})" if resume is not None
            else "Nothing to resume: a cancelled run leaves a checkpoint to continue from")
        self.sample_button.setEnabled(self._job is None and self.project is not None and self.checkpoint_combo.count() > 0)
        self.sample_button.setToolTip("" if self.checkpoint_combo.count() else "Train a generator (or load one) first")
        self.torchscript_button.setEnabled(self._job is None and self.project is not None)
        self.generator_combo.setEnabled(self._job is None)

    def _set_busy(self, busy: bool) -> None:
        self.progress_bar.setVisible(busy)
        self.eta_label.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if not busy:
            self.eta_label.setText("")
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)
        self._update_buttons()

    def _start(self, worker: JobWorker, kind: str) -> None:
        self._job = worker
        self._job_kind = kind
        worker.progress.connect(self._on_progress)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        worker.aborted.connect(self._on_aborted)
        worker.finished.connect(self._on_finished)
        self.progress_bar.setRange(0, 0)
        self._set_busy(True)
        self.busy_changed.emit(True)
        worker.start()

    def _say(self, level: str, text: str) -> None:
        themed_style_sheet(self.status_label, ink_sheet(colors.ERROR_INK if level == "error" else colors.HINT_INK))
        self.status_label.setText(text)
        self.notice.emit(level, text)

    def train(self) -> bool:
        """Train the chosen generator with the form's values (a new run)."""
        return self._train(resume=None)

    def resume(self) -> bool:
        """Continue the newest interrupted run of the chosen generator."""
        rec = self.resume_candidate()
        if rec is None:
            return False
        return self._train(resume=rec)

    def _train(self, resume: CheckpointRecord | None) -> bool:
        project, name, form = self.project, self.generator_name, self.train_form
        if project is None or name is None or form is None or self._job is not None:
            return False
        if form.error is not None or self.data_form.error is not None:
            self._say("error", f"Fix the parameters first: {form.error_text or self.data_form.error_text}")
            return False
        values = form.values()
        seed, rnd = self.train_seed_spin.value(), self.round_spin.value()
        share = float(self.data_form.values()["max_synthetic_share"])
        sha = None
        if resume is not None:
            values = {k: v for k, v in values.items() if k in ("epochs", "max_seconds")}
            sha = resume.sha256
            self.status_label.setText(f"Resuming round {resume.round} from {resume.sha256[:8]}…")
        else:
            self.chart.clear()
            self.status_label.setText(f"Training {name}…")
        themed_style_sheet(self.status_label, ink_sheet(colors.HINT_INK))
        self.results.setCurrentWidget(self.chart)
        worker = JobWorker(
            lambda cancel: _gen().train_job(project, name, values, seed, None if sha else rnd, share, sha, cancel), name="train")
        self._start(worker, "train")
        return True

    def sample(self) -> bool:
        """Sample N candidates with the chosen checkpoint and options; they arrive as pending."""
        project, name, form = self.project, self.generator_name, self.sample_form
        if project is None or name is None or self._job is not None:
            return False
        data = self.checkpoint_combo.currentData()
        generator: Any = name
        checkpoint: str | None = data
        options: dict[str, Any] = form.values() if form is not None else {}
        if isinstance(data, str) and data.startswith("external:"):
            generator = self.externals[data.split(":", 1)[1]]
            checkpoint = None
            options = {}
        if form is not None and form.error is not None:
            self._say("error", f"Fix the sampling options first: {form.error_text}")
            return False
        temperature = float(options.pop("temperature", 1.0))
        n, seed, label = self.count_spin.value(), self.sample_seed_spin.value(), self.label_combo.currentData()
        self._sampled_ids = []
        themed_style_sheet(self.status_label, ink_sheet(colors.HINT_INK))
        self.status_label.setText(f"Sampling {n:,} candidates…")
        worker = JobWorker(
            lambda cancel: _gen().sample_job(project, generator, checkpoint, n, seed, label, temperature, options, cancel=cancel),
            name="sample", coalesce=merge_ids)
        self._start(worker, "sample")
        return True

    def cancel(self) -> None:
        if self._job is not None:
            self.status_label.setText("Stopping…" if self._job_kind == "sample" else
                                      "Stopping: saving a checkpoint to resume from…")
            self._job.abort()

    def _on_progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress_bar.setRange(0, progress.total)
            self.progress_bar.setValue(min(progress.done, progress.total))
        payload = progress.payload
        if self._job_kind == "train":
            if isinstance(payload, dict) and payload.get("steps"):
                self.chart.set_total_steps(int(payload["steps"]))
                if payload.get("step"):
                    self.chart.add_point(payload["step"], payload.get("loss"), payload.get("val_loss"))
                eta = payload.get("eta_s")
                self.eta_label.setText(f"about {duration(eta)} left" if eta is not None and payload.get("phase") != "done"
                                       else "")
        elif isinstance(payload, list) and payload:
            self._sampled_ids.extend(payload)
            self.candidates_added.emit(list(payload))
        self.status_label.setText(progress.message)

    def _on_returned(self, result: Any) -> None:
        if self._job_kind == "train":
            self.last_train = result
            self._say("info", f"Trained: {result.summary()}")
            self.trained.emit(result)
        else:
            self.last_sample = result
            self._say("info", f"Sampled: {result.summary()}. They wait for review as pending candidates.")

    def _on_errored(self, message: str) -> None:
        self._say("error", f"{'Training' if self._job_kind == 'train' else 'Sampling'} failed: {message}")

    def _on_aborted(self) -> None:
        if self._job_kind == "train":
            self._say("info", "Training cancelled. Resume continues from where it stopped.")
        else:
            self._say("info", f"Sampling cancelled: the {len(self._sampled_ids):,} candidates made so far stay.")

    def _on_finished(self) -> None:
        kind = self._job_kind
        self._job = None
        self._job_kind = ""
        self._set_busy(False)
        self.busy_changed.emit(False)
        if self.project is None:
            return
        self.refresh_checkpoints()
        self.refresh_rounds()
        self.round_spin.setValue(_gen().next_round(self.project))
        if kind == "sample":
            self.sampling_finished.emit(list(self._sampled_ids))

    # ---- TorchScript --------------------------------------------------------------------------------------
    def load_torchscript_file(self, path: str | None = None) -> bool:
        """Ask for a file, show what it claims to be, and load it only after the person confirms
        that it may run code. True when a load started."""
        if self.project is None or self._job is not None:
            return False
        path = path or ask_torchscript_path(self)
        if not path:
            return False
        try:
            info = _gen().inspect_torchscript(path)
        except _gen().GeneratorError as exc:
            self._say("error", describe_error(exc))
            return False
        if info.modality != self.project.modality:
            self._say("error", f"{info.name} makes {info.modality}s, but this project holds {self.project.modality}s")
            return False
        if not confirm_torchscript(self, info.name, info.modality, info.labels, info.path):
            self._say("info", f"Not loaded: {os.path.basename(path)} was not trusted.")
            return False
        worker = JobWorker(lambda _cancel: _gen().load_torchscript(path, confirmed=True), name="load-torchscript")
        worker.returned.connect(self._on_torchscript_loaded)
        worker.errored.connect(lambda message: self._say("error", f"Cannot load the TorchScript file: {message}"))
        worker.finished.connect(self._on_load_finished)
        self._job = worker
        self._job_kind = "load"
        self._set_busy(True)
        self.status_label.setText(f"Loading {info.name}…")
        worker.start()
        return True

    def _on_torchscript_loaded(self, gen: Generator) -> None:
        sha = gen.checkpoint_sha256 or ""
        self.externals[sha] = gen
        self.refresh_checkpoints()
        self.checkpoint_combo.setCurrentIndex(self.checkpoint_combo.findData(f"external:{sha}"))
        self.tabs.setCurrentIndex(1)
        self._say("info", f"Loaded {getattr(gen, 'info').name}: choose it under Checkpoint to sample from it.")

    def _on_load_finished(self) -> None:
        self._job = None
        self._job_kind = ""
        self._set_busy(False)

    # ---- lifecycle -----------------------------------------------------------------------------------------
    def is_settled(self) -> bool:
        return self._job is None

    def shutdown(self) -> None:
        """Stop the running job and wait for it (a cancelled training run saves its checkpoint)."""
        job = self._job
        if job is not None:
            job.abort()
            job.wait(60_000)


class GeneratorWorkspace(QObject):
    """Puts a :class:`GeneratorPanel` in a "Generators" dock of *window* and wires it up: the
    session's project, View > Generators (Ctrl+7), the message bar, and the candidates and
    review grids (refreshed while samples arrive; approved rules run over them afterwards)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        # The panel is built when the dock first shows, or when code reads ``panel``.
        self._holder: LazyPanel[GeneratorPanel] = LazyPanel(self._make_panel, "generatorsStandIn")
        dock = self.dock = QDockWidget("Generators", window)
        dock.setObjectName("generatorsDock")
        dock.setWidget(self._holder)
        dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
        neighbour = self._neighbour_dock()
        self._wanted = True
        if window.restoreDockWidget(dock):
            self._wanted = not dock.isHidden()
        elif neighbour is not None:
            window.tabifyDockWidget(neighbour, dock)
        else:
            window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        # Tabifying shows the new tab; keep the tab that showed before (the policy editor).
        editor = getattr(getattr(window, "augmentation", None), "dock", None)
        if isinstance(editor, QDockWidget):
            editor.raise_()
        self.toggle_action: QAction = dock.toggleViewAction()
        self.toggle_action.setText("&Generators")
        self.toggle_action.setShortcuts([QKeySequence("Ctrl+7")])
        self.toggle_action.triggered.connect(self._on_toggled)
        view = getattr(window, "view_menu", None)
        if isinstance(view, QMenu):
            view.addAction(self.toggle_action)
        window.addAction(self.toggle_action)

        session = window.session
        session.opened.connect(lambda _title: self._follow_session())
        session.loaded.connect(self._follow_session)
        session.closed.connect(self._follow_session)
        closing = getattr(session, "project_closing", None)
        if closing is not None:
            closing.connect(self._on_project_closing)
        self._follow_session()

    @property
    def panel(self) -> GeneratorPanel:
        """The panel (built now if it was not)."""
        return self._holder.ensure()

    def build_panel(self) -> None:
        self._holder.ensure()

    def _make_panel(self) -> GeneratorPanel:
        panel = GeneratorPanel()
        panel.notice.connect(self.window.message_bar.show_message)
        panel.candidates_added.connect(self._on_candidates_added)
        panel.sampling_finished.connect(self._on_sampling_finished)
        panel.create_project_requested.connect(self._create_project)
        s = self.window.session
        panel.set_dataset_open(s.is_open)
        panel.set_project(s.project if s.state is not None and s.state.loaded else None)
        return panel

    def _on_project_closing(self) -> None:
        if self._holder.panel is not None:
            self._holder.panel.set_project(None)

    def _neighbour_dock(self) -> QDockWidget | None:
        for holder in (getattr(self.window, "curation", None), getattr(self.window, "augmentation", None)):
            for attr in ("stats_dock", "dock"):
                dock = getattr(holder, attr, None)
                if isinstance(dock, QDockWidget):
                    return dock
        return None

    def _on_toggled(self, on: bool) -> None:
        self._wanted = on

    def _follow_session(self) -> None:
        s = self.window.session
        panel = self._holder.panel
        if panel is not None:  # (one built later reads the session then)
            project = s.project if s.state is not None and s.state.loaded else None
            panel.set_dataset_open(s.is_open)
            panel.set_project(project)
        self.dock.setVisible(s.is_open and self._wanted)

    def _views(self) -> list[Any]:
        out = []
        augmentation = getattr(self.window, "augmentation", None)
        out.append(getattr(augmentation, "candidates", None))
        out.append(self._curation_panel("review"))
        return [v for v in out if v is not None]

    def _curation_panel(self, name: str) -> Any:
        """The curation workspace's panel *name* if it is built (one built later reads the project then)."""
        curation = getattr(self.window, "curation", None)
        built = getattr(curation, "built_panel", None)
        return built(name) if callable(built) else getattr(curation, name, None)

    def _on_candidates_added(self, ids: list[int]) -> None:
        for view in self._views():
            hook = getattr(view, "candidates_added", None)
            if callable(hook):
                hook(ids)

    def _on_sampling_finished(self, ids: list[int]) -> None:
        for view in self._views():
            refresh = getattr(view, "refresh", None)
            if callable(refresh):
                refresh()
        curation = getattr(self.window, "curation", None)
        stats = self._curation_panel("stats")
        if stats is not None and hasattr(stats, "schedule_refresh"):
            stats.schedule_refresh()
        run_filter = getattr(curation, "run_filter", None)
        if ids and callable(run_filter):
            run_filter(ids)  # approved rules judge the new samples (quietly nothing when none is approved)

    def _create_project(self) -> None:
        augmentation = getattr(self.window, "augmentation", None)
        controller = getattr(augmentation, "controller", None)
        offer = getattr(controller, "offer_project", None) or getattr(controller, "_offer_project", None)
        state = self.window.session.state
        if callable(offer) and state is not None:
            offer(state.path)
        else:
            self.window.message_bar.show_message(
                "info", "Create a project with Policy > Augment…, or on the command line: genaug init PROJECT DATASET")

    def is_settled(self) -> bool:
        panel = self._holder.panel
        return panel is None or panel.is_settled()

    def shutdown(self) -> None:
        panel = self._holder.panel
        if panel is not None:
            panel.shutdown()


def main(argv: list[str] | None = None) -> int:
    import sys

    from PySide6.QtWidgets import QApplication

    from genaug_desktop.core.store.project import Project

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m genaug_desktop.gui.generator_panel PROJECT.genaug", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication([])
    project = Project.open(args[0])
    panel = GeneratorPanel()
    panel.setWindowTitle(f"Generators of {project.name} — genaug-desktop")
    panel.resize(1100, 420)
    panel.show()
    panel.set_project(project)
    try:
        app.exec()
    finally:
        panel.shutdown()
        project.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
