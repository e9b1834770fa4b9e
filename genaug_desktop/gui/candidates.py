"""The project's candidates as a grid of cards (the full review UI comes later).

:class:`CandidateListModel` adapts core :class:`Candidate` rows with the same roles as the item
model, so the grid's :class:`ItemDelegate` paints them: image candidates show their blob (a PNG in
the project's ``blobs/``) through the shared :class:`ThumbnailCache`, text candidates their text.
The tooltip tells where a candidate came from and which ops made it.

Candidates load in the background through the worker (newest request wins); while an
augmentation runs, new ids arrive and the list refreshes at most a few times a second.

Run alone: ``python -m genaug_desktop.gui.candidates PROJECT.genaug``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from genaug_desktop.gui import roles
from genaug_desktop.gui.delegates import ItemDelegate
from genaug_desktop.gui.formatting import first_lines, plural
from genaug_desktop.gui.models import (
    BrokenRole,
    KeyRole,
    LabelRole,
    ModalityRole,
    NameRole,
    PathRole,
    TextRole,
    ThumbnailRole,
)
from genaug_desktop.gui.preview_grid import ItemGridView
from genaug_desktop.gui.preview_render import describe_chain
from genaug_desktop.gui.thumbnails import ThumbnailCache
from genaug_desktop.gui.timers import tracked_timer
from genaug_desktop.gui.worker import JobSlot, JobWorker

if TYPE_CHECKING:
    from genaug_desktop.core.jobs import CancelToken
    from genaug_desktop.core.store.project import Candidate, Project

AnyIndex = QModelIndex | QPersistentModelIndex
CandidateRole = roles.USER + 40
#: Newest candidates first, at most this many in the view (the review UI will page through all).
MAX_SHOWN = 20_000
REFRESH_MS = 400
STATUS_FILTERS = (("All", None), ("Pending", "pending"), ("Accepted", "accepted"), ("Rejected", "rejected"))


def load_candidates(project: Project, status: str | None, cancel: CancelToken) -> tuple[list[Candidate], dict[str, int]]:
    """The newest candidates (optionally of one status) and the counts by status (a job thread)."""
    cancel.raise_if_cancelled()
    counts = dict(project.status().get("by_status", {}))
    cancel.raise_if_cancelled()
    found = project.candidates(status=status)
    found.reverse()
    return found[:MAX_SHOWN], counts


class CandidateListModel(QAbstractListModel):
    """Candidates with the item model's roles (the item delegate paints them)."""

    def __init__(self, thumbnails: ThumbnailCache | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Candidate] = []
        self._paths: list[str | None] = []
        self._rows_by_path: dict[str, int] = {}
        self._thumbnails = thumbnails
        self.blob_file: Any = None  # (sha256) -> path; set with the project
        self.thumbnail_size = 128
        if thumbnails is not None:
            thumbnails.thumbnails_ready.connect(self._on_thumbnails_ready)

    def set_candidates(self, candidates: list[Candidate], blob_file: Any) -> None:
        self.beginResetModel()
        self._rows = list(candidates)
        self.blob_file = blob_file
        self._paths = [blob_file(c.blob) if c.blob and blob_file else None for c in self._rows]
        self._rows_by_path = {p: i for i, p in enumerate(self._paths) if p}
        self.endResetModel()

    def candidate(self, row: int) -> Candidate:
        return self._rows[row]

    def ids(self) -> list[int]:
        return [c.id for c in self._rows]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: AnyIndex, role: int = roles.DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        c = self._rows[index.row()]
        path = self._paths[index.row()]
        image = c.blob is not None
        if role == ThumbnailRole:
            if not image or self._thumbnails is None or path is None:
                return None
            found = self._thumbnails.lookup(path, self.thumbnail_size)
            return None if isinstance(found, str) else found
        if role == BrokenRole:
            return self._thumbnails.failure(path) if image and self._thumbnails is not None and path else None
        if role == ModalityRole:
            return "image" if image else "text"
        if role == NameRole:
            source = c.source_item.rsplit("/", 1)[-1] if c.source_item else c.origin
            return f"#{c.id} · {source}"
        if role == roles.DISPLAY:
            return first_lines(c.text or "", 80) if not image else f"#{c.id}"
        if role == LabelRole:
            return c.label
        if role == TextRole:
            return c.text
        if role == KeyRole:
            return f"candidate:{c.id}"
        if role == PathRole:
            return path
        if role == CandidateRole:
            return c
        if role == roles.TOOLTIP:
            return self._tooltip(c)
        return None

    @staticmethod
    def _tooltip(c: Candidate) -> str:
        lines = [f"Candidate #{c.id} · {c.status} · {c.origin}"]
        if c.source_item:
            lines.append(f"from {c.source_item}")
        if c.label is not None:
            lines.append(f"label: {c.label}")
        prov = c.provenance or {}
        if "seed" in prov:
            lines.append(f"seed {prov.get('base_seed')} · variant {prov.get('variant')}")
        if prov.get("ops") is not None:
            lines.append(describe_chain(prov.get("ops") or []))
        if c.reason:
            lines.append(f"reason: {c.reason}")
        if c.text:
            lines.append(first_lines(c.text, 300))
        return "\n".join(lines)

    def _on_thumbnails_ready(self, paths: list[str]) -> None:
        rows = [self._rows_by_path[p] for p in paths if p in self._rows_by_path]
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)), [int(ThumbnailRole), int(BrokenRole)])


class CandidatesView(QWidget):
    """A toolbar (counts, status filter) over a grid of candidate cards; ``count_changed(total)``."""

    count_changed = Signal(int)

    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.project: Project | None = None
        self.model = CandidateListModel(thumbnails, self)
        self._slot = JobSlot(self)
        self._refresh_timer = tracked_timer(self, REFRESH_MS, timeout=self.refresh)
        self._refresh_timer.setObjectName("candidatesRefresh")
        self.total = 0

        self.count_label = QLabel("No candidates")
        self.filter_combo = QComboBox()
        for text, _status in STATUS_FILTERS:
            self.filter_combo.addItem(text)
        self.filter_combo.setToolTip("Show candidates of one status")
        toolbar = QFrame()
        toolbar.setObjectName("candidatesToolbar")
        toolbar.setStyleSheet("#candidatesToolbar { background: palette(window); border-bottom: 1px solid #d7dbe1; }")
        bar = QHBoxLayout(toolbar)
        bar.setContentsMargins(10, 4, 10, 4)
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.filter_combo)

        self.view = ItemGridView()
        self.view.setItemDelegate(ItemDelegate(self.view))
        self.view.setModel(self.model)
        self.view.viewport_changed.connect(thumbnails.viewport_changed)
        self.empty_label = QLabel()
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: #6b7280; padding: 24px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(self.view)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(toolbar)
        layout.addWidget(self.stack, 1)
        self.filter_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.set_thumbnail_size(128)
        self._show_empty()

    @property
    def status_filter(self) -> str | None:
        return STATUS_FILTERS[self.filter_combo.currentIndex()][1]

    def set_thumbnail_size(self, size: int) -> None:
        self.model.thumbnail_size = int(size * self.devicePixelRatioF())
        self.view.setIconSize(QSize(size, size))

    def set_project(self, project: Project | None) -> None:
        self.project = project
        self._slot.abort()
        current = self._slot.current
        if current is not None:
            current.wait()  # it may be reading the project that is about to close
        if project is None:
            self.model.set_candidates([], None)
            self.total = 0
            self.count_changed.emit(0)
            self._show_empty()
            return
        self.refresh()

    def candidates_added(self, ids: list[int]) -> None:
        """New candidates exist (an augmentation is running): refresh soon, not per batch."""
        if ids and self.project is not None and not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh(self) -> None:
        self._refresh_timer.stop()
        project = self.project
        if project is None:
            return
        status = self.status_filter
        worker = JobWorker(lambda cancel: load_candidates(project, status, cancel), name="load-candidates")
        worker.returned.connect(self._on_loaded)
        self._slot.start(worker)

    def is_settled(self) -> bool:
        return not self._slot.is_busy() and not self._refresh_timer.isActive()

    def shutdown(self) -> None:
        self._refresh_timer.stop()
        self._slot.abort()
        current = self._slot.current
        if current is not None:
            current.wait()

    def _on_loaded(self, loaded: tuple[list[Candidate], dict[str, int]]) -> None:
        if self.project is None:
            return
        candidates, counts = loaded
        self.model.set_candidates(candidates, self.project.blob_file)
        self.total = sum(counts.values())
        parts = [plural(self.total, "candidate")]
        parts += [f"{counts[s]:,} {s}" for s in ("pending", "accepted", "rejected") if counts.get(s)]
        shown = len(candidates)
        if self.status_filter is not None or shown < self.total:
            parts.append(f"{shown:,} shown")
        self.count_label.setText(" · ".join(parts))
        self.count_changed.emit(self.total)
        if candidates:
            self.stack.setCurrentWidget(self.view)
        else:
            self._show_empty()

    def _show_empty(self) -> None:
        if self.project is None:
            self.count_label.setText("No project")
            self.empty_label.setText(
                "Candidates live in a project (a NAME.genaug folder beside the dataset).\n"
                "Build a policy in the editor and press Augment…: it offers to create one.")
        elif self.status_filter is not None and self.total:
            self.empty_label.setText(f"No {self.status_filter} candidates.")
        else:
            self.count_label.setText("No candidates")
            self.empty_label.setText("No candidates yet. Build a policy in the editor and press Augment…")
        self.stack.setCurrentWidget(self.empty_label)


def main(argv: list[str] | None = None) -> int:
    from genaug_desktop.gui.demo import run_project_panel

    cache = ThumbnailCache()

    def build(project: Project) -> CandidatesView:
        view = CandidatesView(cache)
        view.set_project(project)
        return view

    try:
        return run_project_panel("candidates", "Candidates of", (900, 600), build, argv)
    finally:
        cache.shutdown()

if __name__ == "__main__":
    raise SystemExit(main())
