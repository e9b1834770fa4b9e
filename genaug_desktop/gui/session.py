"""What is open: a dataset or a project, the models it fills, and the jobs that fill them.

:class:`DatasetSession` is the one object panels share. Opening a dataset runs core
``scan_job`` through the worker: each progress payload (a :class:`ScanBatch`) is appended to the
item and problem models while the scan goes on. Opening a project loads its items and problems
in a job, then checks the source files in a second job and reports what changed or vanished.
Every error ends in ``error_occurred`` with a message for people.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import QObject, Signal

from genaug_desktop.core.jobs import CancelToken, Job, Progress
from genaug_desktop.core.formatting import plural
from genaug_desktop.gui.memory import CollectorGuard
from genaug_desktop.gui.models import ClassCountModel, ItemFilterProxy, ItemListModel, ProblemListModel
from genaug_desktop.gui.thumbnails import ThumbnailCache
from genaug_desktop.gui.worker import JobSlot, JobWorker

# The dataset readers and the project store (multiprocessing, sqlite3, csv ...) load when the first
# dataset is opened, not when the window starts.
if TYPE_CHECKING:
    from genaug_desktop.core.datasets.model import Item, ScanOptions, ScanResult
    from genaug_desktop.core.store.project import Project, SourceCheck

PROJECT_SUFFIX = ".genaug"  # the same as core.store.project.PROJECT_SUFFIX (a DESIGN.md contract)
PROJECT_DB = "project.sqlite"  # core.store.project.DB_NAME: checked without importing the store (sqlite3, 30 ms)

Kind = Literal["dataset", "project"]

_PROJECT_BATCH = 2000


@dataclass(frozen=True, slots=True)
class ProjectOpened:
    """First payload of :func:`load_project_job`: what the items that follow are relative to."""

    name: str
    dataset_root: str
    modality: str


def merge_scan_progress(first: Progress, second: Progress) -> Progress | None:
    """Coalesce two scan progress reports: the newer counts, both batches of items and problems."""
    from genaug_desktop.core.datasets.model import ScanBatch

    a, b = first.payload, second.payload
    if not isinstance(a, ScanBatch) or not isinstance(b, ScanBatch):
        return None
    merged = ScanBatch(a.items + b.items, a.problems + b.problems)
    return Progress(second.done, second.total, second.message, merged, first.started)


def load_project_job(path: str, cancel: CancelToken) -> Job[Project]:
    """Open the project at *path*: first a :class:`ProjectOpened` payload, then its problems and
    items as :class:`ScanBatch` payloads, so the view fills while a big project loads."""
    from genaug_desktop.core.datasets.model import ScanBatch
    from genaug_desktop.core.store.project import Project

    project = Project.open(path)
    try:
        total = project.item_count()
        message = f"Opening project {project.name}"
        yield Progress(0, total, message, ProjectOpened(project.name, project.dataset_root, project.modality))
        yield Progress(0, total, message, ScanBatch([], project.problems()))
        batch: list[Item] = []
        done = 0
        for item in project.iter_items():
            batch.append(item)
            if len(batch) >= _PROJECT_BATCH:
                cancel.raise_if_cancelled()
                done += len(batch)
                yield Progress(done, total, f"Loaded {done:,} of {total:,} items", ScanBatch(batch, []))
                batch = []
        done += len(batch)
        yield Progress(done, total, f"Loaded {done:,} of {total:,} items", ScanBatch(batch, []))
    except BaseException:
        project.close()
        raise
    return project


def dataset_root_for(path: str) -> str:
    """The folder item paths are relative to: the folder itself, or a text file's folder."""
    path = os.path.abspath(os.path.expanduser(path))
    return os.path.dirname(path) if os.path.isfile(path) else path


def looks_like_project(path: str) -> bool:
    return os.path.isfile(os.path.join(path, PROJECT_DB)) or path.rstrip("/\\").endswith(PROJECT_SUFFIX)


_SQLITE_MAGIC = b"SQLite format 3\x00"
#: How many folder entries :func:`unusable_reason` looks at for one file at most (a quick look on
#: the GUI thread, not a scan: past this it lets the scan decide).
_LOOK_LIMIT = 2000


def unusable_reason(path: str) -> str | None:
    """Why *path* cannot be opened at all, found with a few cheap checks (stat, access, a bounded look
    for one file, a project database's header), or None when it is worth a scan or a project load.

    The session checks this BEFORE it closes what is open, so that a wrong path, or a recent item
    deleted since, leaves the open dataset as it was. The scan and the project load still report
    everything these checks cannot see (a damaged file, a folder of unreadable images).
    """
    from genaug_desktop.core.datasets.model import TEXT_EXTENSIONS, printable_path

    shown = printable_path(path)
    try:
        is_dir = os.path.isdir(path)
        if not os.path.exists(path):
            return f"{shown}: no such file or folder (it may have been moved, renamed or deleted)"
        if not os.access(path, os.R_OK | (os.X_OK if is_dir else 0)):
            return f"{shown}: permission denied (this user cannot read it)"
        if looks_like_project(path):
            return _project_reason(path, shown)
        if not is_dir:
            if not os.path.isfile(path):
                return f"{shown}: not a file or folder"
            if os.path.splitext(path)[1].lower() not in TEXT_EXTENSIONS:
                return (f"{shown}: a single file must be a text dataset (.txt, .csv, .tsv, .jsonl); "
                        "for images open the folder that holds them")
            return None
        if not _has_a_file(path):
            return f"{shown}: no images or text files found"
    except OSError as exc:
        return f"{shown}: {exc.strerror or exc}"
    return None


def _project_reason(path: str, shown: str) -> str | None:
    db = os.path.join(path, PROJECT_DB)
    if not os.path.isdir(path):
        return f"{shown} is not a genaug project (a project is a folder)"
    if not os.path.isfile(db):
        return f"{shown} is not a genaug project (no {PROJECT_DB})"
    if not os.access(db, os.R_OK):
        return f"{shown}/{PROJECT_DB}: permission denied (this user cannot read it)"
    with open(db, "rb") as f:
        head = f.read(len(_SQLITE_MAGIC))
    if head and head != _SQLITE_MAGIC:  # (an empty file is an empty database: the load says more)
        return f"{shown}/{PROJECT_DB} is damaged or not a project database (not an SQLite file)"
    return None


def _has_a_file(root: str) -> bool:
    """Whether the folder holds a file that is not hidden, looking at _LOOK_LIMIT entries at most."""
    from genaug_desktop.core.datasets.model import IGNORED_NAMES

    todo, seen = [root], 0
    while todo:
        try:
            with os.scandir(todo.pop()) as entries:
                for entry in entries:
                    seen += 1
                    if seen > _LOOK_LIMIT:
                        return True  # a big tree: the scan decides
                    name = entry.name
                    if name.startswith(".") or name.lower() in IGNORED_NAMES:
                        continue
                    if entry.is_dir():
                        todo.append(entry.path)
                    elif entry.is_file():
                        return True
        except OSError:
            return True  # an unreadable subfolder: the scan reports it with the rest
    return False


@dataclass(slots=True)
class OpenState:
    """What the session has open right now."""

    kind: Kind
    path: str  # what the user opened (folder, text file or project)
    root: str  # the folder item paths are relative to
    modality: str | None = None
    loaded: bool = False
    cancelled: bool = False
    title: str = ""


class DatasetSession(QObject):
    """The open dataset or project, shared by all panels.

    Signals: ``opened(title)`` when loading begins, ``progress_changed(Progress)``,
    ``busy_changed(bool)``, ``loaded()`` when all items are in, ``summary_changed()`` whenever the
    counts change, ``error_occurred(message)`` and ``notice(level, message)`` ("info" / "warning")
    for the message bar, ``closed()``.
    """

    opened = Signal(str)
    progress_changed = Signal(object)
    busy_changed = Signal(bool)
    loaded = Signal()
    summary_changed = Signal()
    error_occurred = Signal(str)
    notice = Signal(str, str)
    closed = Signal()
    project_closing = Signal()  # the open project is about to be closed: stop jobs that read it

    def __init__(self, thumbnails: ThumbnailCache | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails if thumbnails is not None else ThumbnailCache(parent=self)
        self.items = ItemListModel(self.thumbnails, self)
        self.proxy = ItemFilterProxy(self)
        self.proxy.setSourceModel(self.items)
        self.classes = ClassCountModel(self)
        self.problems = ProblemListModel(self)
        self.state: OpenState | None = None
        self.project: Project | None = None
        self.source_check: SourceCheck | None = None
        self._jobs = JobSlot(self)
        self._collector = CollectorGuard()
        self._last_progress: Progress | None = None
        self.items.counts_changed.connect(self._on_counts_changed)
        self.problems.count_changed.connect(lambda _n: self.summary_changed.emit())
        self.proxy.filter_changed.connect(self.summary_changed)
        self.thumbnails.thumbnail_failed.connect(self._on_thumbnail_failed)

    # ---- state -----------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.state is not None

    @property
    def is_busy(self) -> bool:
        return self._jobs.is_busy()

    @property
    def title(self) -> str:
        if self.state is None:
            return ""
        if self.state.title:
            return self.state.title
        return os.path.basename(self.state.path.rstrip("/\\")) or self.state.path

    @property
    def last_progress(self) -> Progress | None:
        return self._last_progress

    def summary_text(self) -> str:
        """"1,234 items · 3 classes · 2 problems" (with "12 shown" while a filter is on)."""
        n = self.items.rowCount()
        parts = [plural(n, "item")]
        if self.proxy.is_filtering():
            parts.append(f"{self.proxy.rowCount():,} shown")
        parts.append(plural(self.classes.class_count(), "class", "classes"))
        parts.append(plural(self.problems.rowCount(), "problem"))
        return " · ".join(parts)

    # ---- opening ---------------------------------------------------------------------------------
    def open_path(self, path: str, options: ScanOptions | None = None) -> None:
        """Open a project folder (``NAME.genaug``) or a dataset (folder or text file)."""
        path = os.path.abspath(os.path.expanduser(path))
        if looks_like_project(path):
            self.open_project(path)
        else:
            self.open_dataset(path, options)

    def open_dataset(self, path: str, options: ScanOptions | None = None) -> None:
        from genaug_desktop.core.datasets.model import ScanOptions
        from genaug_desktop.core.datasets.scan import scan_job

        path = os.path.abspath(os.path.expanduser(path))
        if self._refuse(path):
            return
        self._begin(OpenState("dataset", path, dataset_root_for(path)))
        options = options or ScanOptions()
        worker = JobWorker(lambda cancel: scan_job(path, options, cancel), name="scan", coalesce=merge_scan_progress)
        worker.progress.connect(self._on_load_progress)
        worker.returned.connect(self._on_scan_returned)
        self._run(worker)

    def open_project(self, path: str) -> None:
        path = os.path.abspath(os.path.expanduser(path))
        if self._refuse(path):
            return
        self._begin(OpenState("project", path, ""))
        worker = JobWorker(lambda cancel: load_project_job(path, cancel), name="open-project",
                           coalesce=merge_scan_progress)
        worker.progress.connect(self._on_load_progress)
        worker.returned.connect(self._on_project_returned)
        self._run(worker)

    def cancel(self) -> None:
        """Stop what is running; items already loaded stay."""
        self._jobs.abort()

    def close(self) -> None:
        """Close the dataset or project (the window goes back to the welcome page)."""
        self._jobs.abort()
        current = self._jobs.current
        if current is not None:
            current.wait()
        self._close_project()
        self.state = None
        self.source_check = None
        self._last_progress = None
        self.thumbnails.forget_queue()
        self.items.reset()
        self.problems.reset()
        self._collector.release()
        self.proxy.set_filter_text("")
        self.proxy.set_filter_label(None)
        self.closed.emit()

    def shutdown(self) -> None:
        """Stop every job, close the project, stop the thumbnail workers (window closing)."""
        self._jobs.abort()
        current = self._jobs.current
        if current is not None:
            current.wait()
        self._close_project()
        self._collector.release()
        self.thumbnails.shutdown()

    # ---- internals -------------------------------------------------------------------------------
    def _refuse(self, path: str) -> bool:
        """Say why *path* cannot be opened, if a quick check can tell; what is open stays open."""
        reason = unusable_reason(path)
        if reason is not None:
            self.error_occurred.emit(reason)
        return reason is not None

    def _begin(self, state: OpenState) -> None:
        self._jobs.abort()
        current = self._jobs.current
        if self.project is not None and current is not None:
            current.wait()  # a source check may still be reading the project we are about to close
        self._close_project()
        self.thumbnails.forget_queue()
        self.state = state
        self.source_check = None
        self._last_progress = None
        self.items.reset(state.root)
        self.problems.reset()
        self._collector.release()
        self.proxy.set_filter_text("")
        self.proxy.set_filter_label(None)
        if state.kind == "dataset":
            # Start the decoding processes now, while the scan reads headers.
            self.thumbnails.warm_up()
        self.opened.emit(self.title)

    def _run(self, worker: JobWorker) -> None:
        worker.errored.connect(self._on_errored)
        worker.aborted.connect(self._on_aborted)
        worker.finished.connect(self._on_finished)
        self._jobs.start(worker)
        self.busy_changed.emit(True)

    def _close_project(self) -> None:
        if self.project is not None:
            self.project_closing.emit()
            self.project.close()
            self.project = None

    def _on_load_progress(self, progress: Progress) -> None:
        from genaug_desktop.core.datasets.model import ScanBatch

        self._last_progress = progress
        batch = progress.payload
        if isinstance(batch, ProjectOpened) and self.state is not None:
            self.state.root = batch.dataset_root
            self.state.modality = batch.modality
            self.state.title = f"{batch.name} (project)"
            self.items.reset(batch.dataset_root)
            self.opened.emit(self.title)
        elif isinstance(batch, ScanBatch):
            if self.state is not None and self.state.modality is None and batch.items:
                self.state.modality = batch.items[0].modality
            self.items.append_items(batch.items)
            self.problems.append_problems(batch.problems)
            self._collector.loaded(len(batch.items))
        self.progress_changed.emit(progress)

    def _on_scan_returned(self, result: ScanResult) -> None:
        if self.state is None:
            return
        self.state.modality = result.modality
        self.state.loaded = True
        # The stream already delivered every item; only problems found at the very end may be new.
        self.problems.append_problems(result.problems)
        self.summary_changed.emit()
        self.loaded.emit()

    def _on_project_returned(self, project: Project) -> None:
        if self.state is None:
            project.close()
            return
        self.project = project
        self.state.loaded = True
        self.summary_changed.emit()
        self.loaded.emit()
        self.thumbnails.warm_up()
        self._check_sources(project)

    def _check_sources(self, project: Project) -> None:
        worker = JobWorker(lambda cancel: project.check_sources_job(cancel), name="check-sources")
        worker.progress.connect(self.progress_changed)
        worker.returned.connect(self._on_sources_checked)
        self._run(worker)

    def _on_sources_checked(self, check: SourceCheck) -> None:
        from genaug_desktop.core.datasets.model import Problem

        self.source_check = check
        if check.ok:
            return
        # The source check knows best why a file cannot be shown: its reason replaces a thumbnail's.
        for rel in check.missing:
            self.problems.set_file_problem(Problem(rel, "source file is missing (moved or deleted since the project was made)"))
        for rel in check.changed:
            self.problems.set_file_problem(Problem(rel, "source file changed since the project was made"))
        hint = " Moved the dataset? File > Relink Dataset… points the project at its new place." if check.missing else ""
        self.notice.emit("warning", check.summary() + hint)

    def _on_thumbnail_failed(self, path: str, reason: str) -> None:
        from genaug_desktop.core.datasets.model import Problem

        if self.state is None or not self.items.rows_for_path(path):
            return
        root = self.items.root
        rel = os.path.relpath(path, root).replace(os.sep, "/") if root else path
        if not self.problems.has_path(rel):  # one problem per file is enough
            self.problems.append_problems([Problem(rel, reason)])

    def _on_counts_changed(self) -> None:
        self.classes.set_counts(self.items.label_counts())
        self.summary_changed.emit()

    def _on_errored(self, message: str) -> None:
        self.error_occurred.emit(message)

    def _on_aborted(self) -> None:
        if self.state is not None and not self.state.loaded and self.sender() is self._jobs.current:
            self.state.cancelled = True
            progress = self._last_progress
            of = f" of {progress.total:,}" if progress is not None and progress.total else ""
            self.notice.emit("info", f"Loading cancelled: showing {self.items.rowCount():,}{of} items read so far.")

    def _on_finished(self) -> None:
        if not self._jobs.is_busy():
            self.busy_changed.emit(False)
