"""Batch augmentation from the window: the Augment… dialog and the controller that runs the job.

:class:`AugmentController` is what the Augment… action calls. Augmentation stores candidates in a
project, so with a plain dataset open it first offers to create one (a ``NAME.genaug`` folder
outside the dataset, made by core ``init_project_job`` through the worker) and opens it. Then
:class:`AugmentDialog` asks how many variants (per item, or enough to balance the classes up to
a target), for which items (all or the selection), the seed and the worker processes, and core
``augment_job`` runs through the worker: progress with the ETA in the status bar, Cancel keeps
what was made, the window stays responsive, and the job's summary ends in the message bar.

Run alone: ``python -m genaug_desktop.gui.augment_dialog`` shows the dialog with made-up counts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QLabel,
    QMessageBox,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.core.jobs import Progress
from genaug_desktop.core.formatting import plural
from genaug_desktop.gui.colors import WARNING_INK, ink_sheet, themed_style_sheet
from genaug_desktop.gui.settings import AppSettings
from genaug_desktop.gui.worker import JobSlot, JobWorker

if TYPE_CHECKING:
    from genaug_desktop.core.augment import AugmentResult
    from genaug_desktop.core.datasets.model import Item
    from genaug_desktop.core.policy import Policy
    from genaug_desktop.gui.session import DatasetSession

MAX_PER_ITEM = 1000
PROJECT_SUFFIX = ".genaug"


@dataclass(frozen=True, slots=True)
class AugmentOptions:
    per_item: int = 4
    #: when set, make enough variants to bring every class up to this many items (per_item is ignored)
    balance_target: int | None = None
    selected_only: bool = False
    seed: int = 0
    workers: int = 1


def _counts_by_label(items: list[Item]) -> dict[str | None, list[str]]:
    out: dict[str | None, list[str]] = {}
    for item in items:
        out.setdefault(item.label, []).append(item.key)
    return out


def planned_variants(items: list[Item], options: AugmentOptions, class_sizes: dict[str, int]) -> int:
    """How many variants the job will make for *items* (before skipping ones already made)."""
    from genaug_desktop.core.augment import plan_variants

    counts = _counts_by_label(items)
    if options.balance_target is not None:
        targets = {label: max(options.balance_target, n) for label, n in class_sizes.items()}
        # The job balances the classes of the items in scope by their sizes in scope.
        plan = plan_variants(counts, None, targets)
    else:
        plan = plan_variants(counts, options.per_item, None)
    return sum(plan.values())


class AugmentDialog(QDialog):
    """Variants per item or class balancing, scope, seed and workers; the estimate updates live."""

    def __init__(
        self, policy_name: str, modality: str, items: list[Item], selected: list[Item], seed: int = 0,
        parent: QWidget | None = None, missing: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Augment")
        self.items = items
        self.selected = selected
        #: keys of the items whose source file is missing (moved or deleted): they are left out
        self.missing = missing
        labelled = [i for i in items if i.label is not None]
        self.class_sizes: dict[str, int] = {}
        for item in labelled:
            self.class_sizes[item.label] = self.class_sizes.get(item.label, 0) + 1  # type: ignore[index]
        largest = max(self.class_sizes.values(), default=0)

        intro = QLabel(f"Run <b>{policy_name}</b> over the {modality} dataset and store the variants as "
                       "<i>pending</i> candidates in the project, with their provenance.")
        intro.setWordWrap(True)

        self.per_item_radio = QRadioButton("Variants per item")
        self.per_item_spin = QSpinBox()
        self.per_item_spin.setRange(1, MAX_PER_ITEM)
        self.per_item_spin.setValue(4)
        self.balance_radio = QRadioButton("Balance classes up to")
        self.balance_spin = QSpinBox()
        self.balance_spin.setRange(1, 10_000_000)
        self.balance_spin.setValue(max(1, largest))
        self.balance_spin.setSuffix(" items per class")
        self.balance_spin.setToolTip("Each class gets enough variants to reach this many items; larger classes get none")
        self.per_item_radio.setChecked(True)
        if not self.class_sizes:
            self.balance_radio.setEnabled(False)
            self.balance_radio.setToolTip("The items have no class labels")
        how = QButtonGroup(self)
        how.addButton(self.per_item_radio)
        how.addButton(self.balance_radio)
        make = QGridLayout()
        make.addWidget(self.per_item_radio, 0, 0)
        make.addWidget(self.per_item_spin, 0, 1)
        make.addWidget(self.balance_radio, 1, 0)
        make.addWidget(self.balance_spin, 1, 1)
        if self.class_sizes:
            sizes = ", ".join(f"{label} {n:,}" for label, n in sorted(self.class_sizes.items())[:6])
            more = "…" if len(self.class_sizes) > 6 else ""
            note = QLabel(f"Classes now: {sizes}{more}")
            note.setStyleSheet("color: palette(placeholder-text);")
            make.addWidget(note, 2, 0, 1, 2)

        self.all_radio = QRadioButton(f"All items ({len(items):,})")
        self.selected_radio = QRadioButton(f"Selected items ({len(selected):,})")
        self.all_radio.setChecked(True)
        self.selected_radio.setEnabled(bool(selected))
        scope = QButtonGroup(self)
        scope.addButton(self.all_radio)
        scope.addButton(self.selected_radio)

        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(seed)
        self.seed_spin.setToolTip("With the preview's seed, variant k of each item is preview tile #k")
        self.workers_spin = QSpinBox()
        cpus = os.cpu_count() or 1
        self.workers_spin.setRange(1, max(1, cpus))
        self.workers_spin.setValue(max(1, cpus))
        self.workers_spin.setToolTip("Worker processes (one per core uses the whole machine)")
        self.estimate_label = QLabel()
        self.estimate_label.setStyleSheet("font-weight: 600;")
        self.missing_label = QLabel()
        self.missing_label.setObjectName("missingSources")
        self.missing_label.setWordWrap(True)
        themed_style_sheet(self.missing_label, ink_sheet(WARNING_INK))
        self.missing_label.hide()

        form = QFormLayout()
        form.addRow("Make", make)
        scope_box = QVBoxLayout()
        scope_box.addWidget(self.all_radio)
        scope_box.addWidget(self.selected_radio)
        form.addRow("Items", scope_box)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Workers", self.workers_spin)
        form.addRow("", self.estimate_label)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Augment")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.missing_label)
        layout.addWidget(self.buttons)
        for signal in (self.per_item_spin.valueChanged, self.balance_spin.valueChanged, self.per_item_radio.toggled,
                       self.all_radio.toggled):
            signal.connect(lambda *_: self._update_estimate())
        self._update_estimate()
        self.resize(460, self.sizeHint().height())

    def options(self) -> AugmentOptions:
        return AugmentOptions(
            per_item=self.per_item_spin.value(),
            balance_target=self.balance_spin.value() if self.balance_radio.isChecked() else None,
            selected_only=self.selected_radio.isChecked(),
            seed=self.seed_spin.value(),
            workers=self.workers_spin.value(),
        )

    def scope(self) -> list[Item]:
        """The items the job will augment: all or the selected ones, less those whose file is missing."""
        items = self.selected if self.selected_radio.isChecked() else self.items
        return [i for i in items if i.key not in self.missing] if self.missing else items

    def estimate(self) -> int:
        return planned_variants(self.scope(), self.options(), self.class_sizes)

    def _update_estimate(self) -> None:
        n = self.estimate()
        self.estimate_label.setText(f"About {plural(n, 'new candidate')}")
        self.per_item_spin.setEnabled(self.per_item_radio.isChecked())
        self.balance_spin.setEnabled(self.balance_radio.isChecked())
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(n > 0)
        warning = self._missing_warning()
        self.missing_label.setText(warning)
        self.missing_label.setVisible(bool(warning))
        ok.setToolTip(warning if n == 0 and warning else "")

    def _missing_warning(self) -> str:
        """What the missing source files mean for this run, or "" when none is in scope."""
        if not self.missing:
            return ""
        items = self.selected if self.selected_radio.isChecked() else self.items
        gone = [i.key for i in items if i.key in self.missing]
        if not gone:
            return ""
        fix = ("Put the files back where the project expects them, or make a new project where the dataset is "
               "now, to augment them.")
        if len(gone) == len(items):
            return (f"The source files of all {plural(len(items), 'item')} are missing (moved or deleted since the "
                    f"project was made, e.g. {gone[0]}): there is nothing to augment. {fix}")
        return (f"{len(gone):,} of the {plural(len(items), 'item')} have a missing source file (moved or deleted "
                f"since the project was made, e.g. {gone[0]}): they are left out. {fix}")


# ---- the controller --------------------------------------------------------------------------------------
def merge_id_progress(first: Progress, second: Progress) -> Progress | None:
    """Coalesce two augmentation progress reports: the newer counts, both lists of new ids."""
    if not isinstance(first.payload, list) or not isinstance(second.payload, list):
        return None
    return Progress(second.done, second.total, second.message, first.payload + second.payload, first.started)


def suggested_project_path(dataset: str) -> str:
    """Where a new project for *dataset* is suggested: beside the dataset, unless that folder is
    the app's own (the bundled samples) or not writable; then in the home folder."""
    from genaug_desktop.gui.resources import resource_dir

    base = os.path.abspath(dataset.rstrip("/\\"))
    stem = os.path.splitext(os.path.basename(base))[0] or "dataset"
    folder = os.path.dirname(base)
    bundled = os.path.realpath(str(resource_dir()))
    if os.path.commonpath([os.path.realpath(folder), bundled]) == bundled or not os.access(folder, os.W_OK):
        folder = os.path.expanduser("~")
    return os.path.join(folder, stem + PROJECT_SUFFIX)


def _ask_create_project(parent: QWidget, dataset: str) -> str | None:
    """Explain why a project is needed and ask where to put it; the chosen folder, or None."""
    answer = QMessageBox.question(
        parent, "Create a project?",
        "Augmentation stores its variants as candidates in a project: a NAME.genaug folder that refers "
        "to the dataset and never changes it.\n\nCreate a project for this dataset now?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes,
    )
    if answer != QMessageBox.StandardButton.Yes:
        return None
    suggested = suggested_project_path(dataset)
    path, _ = QFileDialog.getSaveFileName(parent, "Create Project (outside the dataset folder)", suggested,
                                          f"genaug projects (*{PROJECT_SUFFIX})")
    if not path:
        return None
    return path if path.endswith(PROJECT_SUFFIX) else path + PROJECT_SUFFIX


def _ask_options(dialog: AugmentDialog) -> bool:
    return dialog.exec() == QDialog.DialogCode.Accepted


class AugmentController(QObject):
    """Runs the Augment… flow for a window: project creation if needed, the dialog, the job.

    Signals: ``progress_changed(Progress)`` and ``busy_changed(bool)`` for the status bar,
    ``notice(level, text)`` for the message bar, ``candidates_added(ids)`` while the job stores
    candidates, ``finished(AugmentResult | None)`` (None when cancelled or failed).
    """

    progress_changed = Signal(object)
    busy_changed = Signal(bool)
    notice = Signal(str, str)
    candidates_added = Signal(list)
    finished = Signal(object)

    #: Replaceable for tests: (parent, dataset path) -> project folder or None.
    ask_create_project: Callable[[QWidget, str], str | None] = staticmethod(_ask_create_project)  # type: ignore[assignment]
    #: Replaceable for tests: (dialog) -> accepted.
    ask_options: Callable[[AugmentDialog], bool] = staticmethod(_ask_options)  # type: ignore[assignment]

    def __init__(
        self,
        session: DatasetSession,
        policy: Callable[[], Policy],
        selected_items: Callable[[], list[Item]],
        seed: Callable[[], int] = lambda: 0,
        policy_name: Callable[[], str] = lambda: "the policy",
        parent_widget: QWidget | None = None,
        open_project: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(parent_widget)
        self.session = session
        #: opens the project it made (the window's open_path also lists it under Recent)
        self._open_project = open_project or session.open_project
        self._policy = policy
        self._selected_items = selected_items
        self._seed = seed
        self._policy_name = policy_name
        self._parent_widget = parent_widget
        self._slot = JobSlot(self)
        self._made: list[int] = []
        self._continue_after_open = False
        self._kind = ""
        self.last_result: AugmentResult | None = None
        session.loaded.connect(self._on_session_loaded)

    @property
    def is_busy(self) -> bool:
        return self._slot.is_busy()

    def cancel(self) -> None:
        self._slot.abort()

    def shutdown(self) -> None:
        """Stop the running job and wait for it (the window closes, or the project does)."""
        self._continue_after_open = False
        self._slot.abort()
        current = self._slot.current
        if current is not None:
            current.wait()

    # ---- the flow ---------------------------------------------------------------------------------------
    def request(self) -> None:
        """The Augment… action."""
        from genaug_desktop.core.policy import PolicyError

        session = self.session
        if session.state is None or not session.state.loaded:
            self.notice.emit("warning", "Open a dataset (and let it finish loading) before augmenting.")
            return
        if self.is_busy:
            self.notice.emit("info", "An augmentation is already running; cancel it in the status bar first.")
            return
        try:
            policy = self._policy()
        except PolicyError as exc:
            self.notice.emit("error", f"The policy cannot run: {exc}")
            return
        if session.state.modality is not None and policy.modality != session.state.modality:
            self.notice.emit("error", f"This is a {policy.modality} policy, but the dataset holds {session.state.modality}s.")
            return
        if session.project is None:
            self._offer_project(session.state.path)
            return
        items = session.items.items()
        selected = self._selected_items()
        missing = self.missing_sources(items)
        dialog = AugmentDialog(self._policy_name(), policy.modality, items, selected, self._seed(), self._parent_widget,
                               missing)
        try:
            if not self.ask_options(dialog):
                return
            options = dialog.options()
            scope = dialog.scope()
        finally:
            dialog.deleteLater()
        # Items whose file is gone are left out (each would fail); None: every item of the project.
        keys = [i.key for i in scope] if options.selected_only or missing else None
        self.run(policy, options, keys)

    def missing_sources(self, items: list[Item]) -> frozenset[str]:
        """Keys of the image items whose source file the project's source check found missing (a text
        item keeps its text in the project: it needs no file)."""
        check = self.session.source_check
        if check is None or not check.missing:
            return frozenset()
        gone = set(check.missing)
        return frozenset(i.key for i in items if i.modality == "image" and i.path in gone)

    def _offer_project(self, dataset: str) -> None:
        path = self.ask_create_project(self._parent_widget, dataset)  # type: ignore[arg-type]
        if path:
            self.create_project(path, dataset)

    def create_project(self, path: str, dataset: str) -> None:
        """Make a project for *dataset* at *path* in the background, open it, then continue to the dialog."""
        from genaug_desktop.core.store.project import init_project_job

        path = os.path.abspath(os.path.expanduser(path))
        worker = JobWorker(lambda cancel: init_project_job(path, dataset, None, cancel), name="init-project")
        worker.progress.connect(self.progress_changed)
        worker.returned.connect(lambda project: self._on_project_made(project, path, dataset))
        worker.errored.connect(lambda message: self.notice.emit("error", f"Cannot create the project: {message}"))
        worker.aborted.connect(lambda: self.notice.emit("info", "Project creation cancelled."))
        self._start(worker, "project")

    def _on_project_made(self, project: Any, path: str, dataset: str) -> None:
        project.close()
        state = self.session.state
        if state is None or state.path != dataset:  # the person opened something else meanwhile
            self.notice.emit("info", f"Created the project {os.path.basename(path)} (File > Open Project opens it).")
            return
        self._continue_after_open = True
        self._open_project(path)  # (the window's open_path clears the message bar: say it after)
        self.notice.emit("info", f"Created the project {os.path.basename(path)}; opening it.")

    def _on_session_loaded(self) -> None:
        if self._continue_after_open and self.session.project is not None:
            self._continue_after_open = False
            # After every other slot of ``loaded`` (the review panel opening the project, the
            # session ending its busy state): the dialog's event loop must not run inside them.
            QTimer.singleShot(0, self.request)

    def run(self, policy: Policy, options: AugmentOptions, item_keys: list[str] | None = None) -> None:
        """Start core ``augment_job`` on the open project."""
        from genaug_desktop.core.augment import augment_job, class_balance_targets

        project = self.session.project
        if project is None:
            self.notice.emit("error", "Augmentation needs a project; none is open.")
            return
        targets = class_balance_targets(project, options.balance_target) if options.balance_target is not None else None
        per_item = None if targets is not None else options.per_item
        workers = options.workers
        engine = AppSettings().job_engine()  # Preferences: "local" or "ray"

        def job(cancel: Any) -> Any:
            return augment_job(project, policy, per_item, options.seed, item_keys, targets, workers, cancel, engine)

        worker = JobWorker(job, name="augment", coalesce=merge_id_progress)
        worker.progress.connect(self._on_progress)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        worker.aborted.connect(self._on_aborted)
        self._made = []
        self._start(worker, "augment")

    def _start(self, worker: JobWorker, kind: str) -> None:
        self._kind = kind
        worker.finished.connect(self._on_finished)
        self._slot.start(worker)
        self.busy_changed.emit(True)

    # ---- job signals -------------------------------------------------------------------------------------
    def _on_progress(self, progress: Progress) -> None:
        if isinstance(progress.payload, list) and progress.payload:
            self._made.extend(progress.payload)
            self.candidates_added.emit(list(progress.payload))
        self.progress_changed.emit(progress)

    def _on_returned(self, result: AugmentResult) -> None:
        self.last_result = result
        self.notice.emit("warning" if result.failures else "info", f"Augmentation: {result.summary()}")
        self.finished.emit(result)

    def _on_errored(self, message: str) -> None:
        self.notice.emit("error", f"Augmentation failed: {message}")
        self.finished.emit(None)

    def _on_aborted(self) -> None:
        self.notice.emit("info", f"Augmentation cancelled: the {plural(len(self._made), 'candidate')} made before "
                                 "it stopped are kept.")
        self.finished.emit(None)

    def _on_finished(self) -> None:
        if not self._slot.is_busy():
            self.busy_changed.emit(False)


def main(argv: list[str] | None = None) -> int:
    import sys

    from PySide6.QtWidgets import QApplication

    from genaug_desktop.core.datasets.model import Item

    app = QApplication.instance() or QApplication(sys.argv[:1] if argv is None else ["augment"])
    items = [Item(f"{c}/{i}.png", f"{c}/{i}.png", "image", c, "", 0) for c, n in (("cat", 12), ("dog", 7)) for i in range(n)]
    dialog = AugmentDialog("Images: medium", "image", items, items[:3], 0)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        print(dialog.options())
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
