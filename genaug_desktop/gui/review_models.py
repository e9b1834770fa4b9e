"""The review grid's data: candidate rows, filters, counters, and decisions with undo.

:func:`load_review_rows` reads every candidate of a project (in a job thread) as light
:class:`ReviewRow` objects; the provenance is read on demand (tooltips, the compare view), so
100,000 candidates stay a few tens of megabytes. :class:`ReviewModel` shows the rows that pass a
:class:`ReviewFilter`, with the item model's roles (so the grid's card delegate paints them) plus
the review roles (status, badge, rule, reason, a dry run's "would reject" hint).

A filter is applied when it changes, not when a row's status changes: a candidate accepted while
"Pending" is shown stays in view with its new badge, so the keyboard flow never loses its place
and undo shows what it restored.

:class:`Reviewer` is the one place decisions are made. Each one is committed by core
``Project.decide`` (one SQLite transaction, synchronous=FULL) before the model shows it, and
pushed on a ``QUndoStack`` as a :class:`DecisionCommand`. Undo puts each candidate back exactly
as it was: a person's earlier decision, pending, or a rule's rejection (core
``restore_rule_rejection`` brings back the rule id, reason and measured value).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from genaug_desktop.gui import roles
from genaug_desktop.core.formatting import first_lines, plural
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
from genaug_desktop.gui.thumbnails import ThumbnailCache

if TYPE_CHECKING:
    from genaug_desktop.core.jobs import CancelToken
    from genaug_desktop.core.store.project import Project

AnyIndex = QModelIndex | QPersistentModelIndex

# Review roles continue after the item model's (USER+1..10) and the candidates view's (USER+40).
CandidateIdRole = roles.USER + 50
ReviewRowRole = roles.USER + 51
StatusRole = roles.USER + 52  # "pending" | "accepted" | "rejected"
BadgeRole = roles.USER + 53  # "pending" | "accepted" | "rejected" (by a person) | "rule" (rejected by a rule)
RuleRole = roles.USER + 54  # the rule that rejected it, or None
ReasonRole = roles.USER + 55  # why it was rejected, or None
HintRole = roles.USER + 56  # what a dry run says a rule would do to it, or None

#: Status filter values: the three statuses, plus rejections split by who made them.
STATUS_FILTERS: tuple[tuple[str, str | None], ...] = (
    ("All statuses", None),
    ("Pending", "pending"),
    ("Accepted", "accepted"),
    ("Rejected", "rejected"),
    ("Rejected by a person", "rejected_person"),
    ("Rejected by a rule", "rejected_rule"),
)
NO_ROUND = -1  # the round filter value of candidates without a round (augmentation)

_SELECT = (
    "SELECT c.id, c.origin, i.key, c.label, c.status, c.reason, c.blob, c.text, c.round, c.rule_id,"
    " c.decided_by, c.measured FROM candidates c LEFT JOIN items i ON i.id = c.source_item"
)
_STATE = "SELECT id, status, reason, rule_id, decided_by, measured FROM candidates"


@dataclass(slots=True)
class ReviewRow:
    """One candidate as the review grid shows it (mutable: decisions update it in place)."""

    id: int
    origin: str
    source_key: str | None
    label: str | None
    status: str
    reason: str | None
    blob: str | None
    text: str | None
    round: int | None
    rule_id: str | None
    decided_by: str | None
    measured: float | None
    path: str | None = None  # the blob's file, for image candidates

    @property
    def is_image(self) -> bool:
        return self.blob is not None

    @property
    def badge(self) -> str:
        if self.status == "rejected" and self.decided_by == "rule":
            return "rule"
        return self.status

    def set_state(self, state: CandidateState) -> None:
        self.status, self.reason, self.rule_id = state.status, state.reason, state.rule_id
        self.decided_by, self.measured = state.decided_by, state.measured


@dataclass(frozen=True, slots=True)
class CandidateState:
    """What a decision changes on a candidate (read back from the database after each commit)."""

    id: int
    status: str
    reason: str | None
    rule_id: str | None
    decided_by: str | None
    measured: float | None

    @property
    def by_rule(self) -> bool:
        return self.status == "rejected" and self.decided_by == "rule"


@dataclass(slots=True)
class ReviewSnapshot:
    """Everything the review grid shows, read in one job."""

    rows: list[ReviewRow]
    items: int = 0
    modality: str = ""


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield [int(i) for i in ids[start : start + size]]


def load_review_rows(project: Project, cancel: CancelToken | None = None, after_id: int = 0) -> ReviewSnapshot:
    """Every candidate (or those newer than *after_id*), oldest first (runs in a job thread)."""
    blob_file = project.blob_file
    rows: list[ReviewRow] = []
    last = int(after_id)
    while True:  # in pages, so a cancel is honoured and the project lock is released between them
        if cancel is not None:
            cancel.raise_if_cancelled()
        page = project.query(_SELECT + " WHERE c.id > ? ORDER BY c.id LIMIT 20000", (last,))
        if not page:
            break
        for r in page:
            rows.append(ReviewRow(*r, path=blob_file(r[6]) if r[6] else None))
        last = page[-1][0]
    return ReviewSnapshot(rows, project.item_count(), project.modality)


def read_states(project: Project, ids: Sequence[int]) -> list[CandidateState]:
    """The decision fields of *ids* as the database holds them now."""
    out: list[CandidateState] = []
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        out.extend(CandidateState(*r) for r in project.query(f"{_STATE} WHERE id IN ({marks})", chunk))
    return out


def read_provenance(project: Project, candidate_id: int) -> dict[str, Any]:
    rows = project.query("SELECT provenance FROM candidates WHERE id = ?", (int(candidate_id),))
    if not rows:
        return {}
    try:
        value = json.loads(rows[0][0] or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def passed_rule_ids(project: Project) -> tuple[list[int], int]:
    """Pending candidates that the approved rules checked and passed, and how many rules there are.

    "Passed" means checked by the current approved rule set (its fingerprint is in
    ``rules_checked``); a candidate no filter run has seen yet has not passed anything.
    """
    from genaug_desktop.core.rules import approved_rules, fingerprint

    rules = approved_rules(project)
    if not rules:
        return [], 0
    fp = fingerprint(rules)
    rows = project.query(
        "SELECT id FROM candidates WHERE status = 'pending' AND rules_checked = ? ORDER BY id", (fp,)
    )
    return [r[0] for r in rows], len(rules)


# ---- filters and counters ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReviewFilter:
    """Which candidates the grid shows. ``ids`` (with ``ids_title``) narrows to a given set, such
    as the candidates a rule would reject in a dry run."""

    status: str | None = None
    origin: str | None = None
    label: str | None = None  # "" for unlabelled
    rule_id: str | None = None
    round: int | None = None  # NO_ROUND for candidates without a round
    ids: frozenset[int] | None = None
    ids_title: str = ""

    def accepts(self, row: ReviewRow) -> bool:
        s = self.status
        if s is not None:
            if s == "rejected_rule":
                if row.badge != "rule":
                    return False
            elif s == "rejected_person":
                if row.status != "rejected" or row.badge == "rule":
                    return False
            elif row.status != s:
                return False
        if self.origin is not None and row.origin != self.origin:
            return False
        if self.label is not None and (row.label or "") != self.label:
            return False
        if self.rule_id is not None and row.rule_id != self.rule_id:
            return False
        if self.round is not None and (row.round if row.round is not None else NO_ROUND) != self.round:
            return False
        return self.ids is None or row.id in self.ids

    @property
    def is_filtering(self) -> bool:
        return any(v is not None for v in (self.status, self.origin, self.label, self.rule_id, self.round, self.ids))


@dataclass(slots=True)
class ReviewCounts:
    """Counts by badge over all candidates (not only the shown ones)."""

    by_badge: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_badge.values())

    @property
    def pending(self) -> int:
        return self.by_badge["pending"]

    @property
    def accepted(self) -> int:
        return self.by_badge["accepted"]

    @property
    def rejected(self) -> int:
        return self.by_badge["rejected"] + self.by_badge["rule"]

    @property
    def by_rule(self) -> int:
        return self.by_badge["rule"]

    @property
    def reviewed(self) -> int:
        return self.total - self.pending

    def text(self, detail: int = 2) -> str:
        """``312 of 1,000 reviewed · 280 accepted · 32 rejected (12 by rules)``; *detail* 1 drops
        the part in brackets, 0 keeps only the first part (for narrow windows)."""
        if not self.total:
            return "No candidates"
        head = f"{self.reviewed:,} of {self.total:,} reviewed"
        if detail <= 0:
            return head
        rejected = f"{self.rejected:,} rejected"
        if self.by_rule and detail >= 2:
            rejected += f" ({self.by_rule:,} by rules)"
        return f"{head} · {self.accepted:,} accepted · {rejected}"


# ---- the model ---------------------------------------------------------------------------------------
class ReviewModel(QAbstractListModel):
    """The rows a :class:`ReviewFilter` lets through, with item roles and review roles.

    Signals: ``counts_changed()`` after loads and decisions, ``filter_changed()``.
    """

    counts_changed = Signal()
    filter_changed = Signal()

    def __init__(self, thumbnails: ThumbnailCache | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._all: list[ReviewRow] = []
        self._by_id: dict[int, ReviewRow] = {}
        self._visible: list[ReviewRow] = []
        self._row_of: dict[int, int] = {}
        self._rows_by_path: dict[str, list[int]] = {}
        self._filter = ReviewFilter()
        self._hints: dict[int, str] = {}
        self.counts = ReviewCounts()
        self.thumbnail_size = 128
        self.items_total = 0
        if thumbnails is not None:
            thumbnails.thumbnails_ready.connect(self._on_thumbnails_ready)

    # ---- content ---------------------------------------------------------------------------------
    def set_snapshot(self, snapshot: ReviewSnapshot | None) -> None:
        rows = snapshot.rows if snapshot is not None else []
        self.items_total = snapshot.items if snapshot is not None else 0
        self._all = rows
        self._by_id = {r.id: r for r in rows}
        self.counts = ReviewCounts(Counter(r.badge for r in rows))
        self._refilter()
        self.counts_changed.emit()

    @property
    def max_id(self) -> int:
        return self._all[-1].id if self._all else 0

    def append_rows(self, rows: Sequence[ReviewRow]) -> int:
        """Add rows newer than every row held (a job is storing candidates); the ones the filter
        lets through appear at the end of the grid. Returns how many were new."""
        fresh = [r for r in rows if r.id not in self._by_id and r.id > self.max_id]
        if not fresh:
            return 0
        self._all.extend(fresh)
        for r in fresh:
            self._by_id[r.id] = r
            self.counts.by_badge[r.badge] += 1
        f = self._filter
        shown = [r for r in fresh if f.accepts(r)] if f.is_filtering else fresh
        if shown:
            first = len(self._visible)
            self.beginInsertRows(QModelIndex(), first, first + len(shown) - 1)
            for i, r in enumerate(shown, first):
                self._visible.append(r)
                self._row_of[r.id] = i
                if r.path is not None:
                    self._rows_by_path.setdefault(r.path, []).append(i)
            self.endInsertRows()
        self.counts_changed.emit()
        return len(fresh)

    def set_filter(self, review_filter: ReviewFilter, hints: dict[int, str] | None = None) -> None:
        """Show the rows *review_filter* accepts; *hints* annotate rows (e.g. "would reject: …")."""
        self._filter = review_filter
        self._hints = dict(hints or {})
        self._refilter()
        self.filter_changed.emit()

    @property
    def review_filter(self) -> ReviewFilter:
        return self._filter

    def reapply_filter(self) -> None:
        """Apply the filter again (rows whose status changed may leave or enter the view)."""
        self._refilter()
        self.filter_changed.emit()

    def _refilter(self) -> None:
        self.beginResetModel()
        f = self._filter
        self._visible = [r for r in self._all if f.accepts(r)] if f.is_filtering else list(self._all)
        self._row_of = {r.id: i for i, r in enumerate(self._visible)}
        self._rows_by_path = {}
        for i, r in enumerate(self._visible):
            if r.path is not None:
                self._rows_by_path.setdefault(r.path, []).append(i)
        self.endResetModel()

    def all_rows(self) -> list[ReviewRow]:
        return self._all

    def row_by_id(self, candidate_id: int) -> ReviewRow | None:
        return self._by_id.get(candidate_id)

    def row_of_id(self, candidate_id: int) -> int | None:
        """The visible row showing *candidate_id*, or None."""
        return self._row_of.get(candidate_id)

    def review_row(self, row: int) -> ReviewRow:
        return self._visible[row]

    def visible_ids(self) -> list[int]:
        return [r.id for r in self._visible]

    def hint(self, candidate_id: int) -> str | None:
        return self._hints.get(candidate_id)

    def labels(self) -> list[str]:
        return sorted({r.label or "" for r in self._all})

    def rule_ids(self) -> list[str]:
        return sorted({r.rule_id for r in self._all if r.rule_id})

    def rounds(self) -> list[int]:
        return sorted({r.round for r in self._all if r.round is not None})

    def origins(self) -> list[str]:
        return sorted({r.origin for r in self._all})

    def apply_states(self, states: Iterable[CandidateState]) -> None:
        """Show committed decisions: update rows in place (the filter is not re-applied)."""
        changed: list[int] = []
        for state in states:
            row = self._by_id.get(state.id)
            if row is None:
                continue
            before = row.badge
            row.set_state(state)
            after = row.badge
            if before != after:
                self.counts.by_badge[before] -= 1
                self.counts.by_badge[after] += 1
            self._hints.pop(state.id, None)
            visible = self._row_of.get(state.id)
            if visible is not None:
                changed.append(visible)
        if changed:
            self.dataChanged.emit(self.index(min(changed)), self.index(max(changed)))
        self.counts_changed.emit()

    # ---- Qt model API ----------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._visible)

    def data(self, index: AnyIndex, role: int = roles.DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._visible):
            return None
        r = self._visible[index.row()]
        if role == ThumbnailRole:
            if r.path is None or self._thumbnails is None:
                return None
            found = self._thumbnails.lookup(r.path, self.thumbnail_size)
            return None if isinstance(found, str) else found
        if role == BrokenRole:
            return self._thumbnails.failure(r.path) if r.path is not None and self._thumbnails is not None else None
        if role == BadgeRole:
            return r.badge
        if role == StatusRole:
            return r.status
        if role == ReasonRole:
            return r.reason
        if role == RuleRole:
            return r.rule_id
        if role == HintRole:
            return self._hints.get(r.id)
        if role == CandidateIdRole:
            return r.id
        if role == ReviewRowRole:
            return r
        if role == ModalityRole:
            return "image" if r.is_image else "text"
        if role == NameRole:
            source = f" · {r.source_key.rsplit('/', 1)[-1]}" if r.source_key else ""
            return f"#{r.id}{source}"
        if role == roles.DISPLAY:
            return f"#{r.id}" if r.is_image else first_lines(r.text or "", 80)
        if role == LabelRole:
            return r.label
        if role == TextRole:
            return r.text
        if role == KeyRole:
            return f"candidate:{r.id}"
        if role == PathRole:
            return r.path
        if role == roles.TOOLTIP:
            return describe_row(r, self._hints.get(r.id))
        return None

    def _on_thumbnails_ready(self, paths: list[str]) -> None:
        rows = [row for p in paths for row in self._rows_by_path.get(p, ())]
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)), [int(ThumbnailRole), int(BrokenRole)])


BADGE_TEXT = {"pending": "Pending", "accepted": "Accepted", "rejected": "Rejected", "rule": "Rejected by rule"}


def describe_row(r: ReviewRow, hint: str | None = None) -> str:
    """The tooltip: what the candidate is, where it came from, and its verdict."""
    lines = [f"Candidate #{r.id} · {r.origin}" + (f" · round {r.round}" if r.round is not None else "")]
    if r.source_key:
        lines.append(f"from {r.source_key}")
    if r.label is not None:
        lines.append(f"class: {r.label}")
    if r.badge == "rule":
        lines.append(f"Rejected by rule {r.rule_id}: {r.reason or ''}".rstrip(": "))
    elif r.status == "rejected":
        lines.append("Rejected by a person" + (f": {r.reason}" if r.reason else ""))
    elif r.status == "accepted":
        lines.append("Accepted")
    else:
        lines.append("Pending review")
    if hint:
        lines.append(hint)
    if r.text:
        lines.append(first_lines(r.text, 300))
    return "\n".join(lines)


# ---- decisions and undo ------------------------------------------------------------------------------
def _group(states: Iterable[CandidateState], key: Callable[[CandidateState], Any]) -> dict[Any, list[int]]:
    out: dict[Any, list[int]] = {}
    for s in states:
        out.setdefault(key(s), []).append(s.id)
    return out


class DecisionCommand(QUndoCommand):
    """One decision on one or more candidates; undo restores each one's previous state."""

    def __init__(self, reviewer: Reviewer, ids: list[int], status: str, before: list[CandidateState]) -> None:
        n = len(ids)
        verb = {"accepted": "Accept", "rejected": "Reject", "pending": "Reset"}[status]
        super().__init__(f"{verb} #{ids[0]}" if n == 1 else f"{verb} {plural(n, 'candidate')}")
        self.reviewer = reviewer
        self.ids = ids
        self.status = status
        self.before = before
        self.done = True  # the first redo already happened: it was committed before the push

    def redo(self) -> None:
        if self.done:
            return
        self.done = self.reviewer.commit(self.ids, self.status)
        if not self.done:
            self.setObsolete(True)

    def undo(self) -> None:
        if not self.reviewer.restore(self.before):
            self.setObsolete(True)
            return
        self.done = False


class Reviewer(QObject):
    """Makes decisions for the review panel: commit first, then show; every one undoable.

    Signals: ``decided(ids)`` after any committed change (decision, undo, redo);
    ``error_occurred(message)`` when the database refused one (nothing is shown as decided then).
    """

    decided = Signal(list)
    error_occurred = Signal(str)

    def __init__(self, model: ReviewModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.project: Project | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(10_000)

    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.undo_stack.clear()

    def decide(self, ids: Sequence[int], status: str) -> bool:
        """Commit *status* for *ids* as a person's decision and push it on the undo stack.

        Candidates already in that state (a person's decision) are skipped; returns True when
        something was committed.
        """
        project = self.project
        if project is None or not ids:
            return False
        try:
            before = read_states(project, ids)
        except Exception as exc:  # the database went away: say so, change nothing
            self.error_occurred.emit(f"Cannot read the candidates: {exc}")
            return False
        todo = [s for s in before if not (s.status == status and s.decided_by == "person")]
        if not todo:
            return False
        ids_todo = [s.id for s in todo]
        if not self.commit(ids_todo, status):
            return False
        self.undo_stack.push(DecisionCommand(self, ids_todo, status, todo))
        return True

    def commit(self, ids: list[int], status: str) -> bool:
        project = self.project
        if project is None:
            return False
        try:
            project.decide(ids, status, None, "person")
        except Exception as exc:
            self.error_occurred.emit(f"The decision was not saved: {exc}")
            return False
        self._show(ids)
        return True

    def restore(self, states: list[CandidateState]) -> bool:
        """Put candidates back as *states* describe them (undo)."""
        from genaug_desktop.core.rules import restore_rule_rejection

        project = self.project
        if project is None:
            return False
        try:
            by_rule = [s.id for s in states if s.by_rule]
            if by_rule:
                restore_rule_rejection(project, by_rule)
            person = [s for s in states if not s.by_rule]
            # A candidate nobody had decided goes back to undecided (decided_by NULL), so the
            # filter checks it again like any other pending candidate.
            for (status, reason, by), ids in _group(person, lambda s: (s.status, s.reason, s.decided_by)).items():
                project.decide(ids, status, reason, by)
        except Exception as exc:
            self.error_occurred.emit(f"Undo was not saved: {exc}")
            return False
        self._show([s.id for s in states])
        return True

    def _show(self, ids: list[int]) -> None:
        assert self.project is not None
        self.model.apply_states(read_states(self.project, ids))
        self.decided.emit(list(ids))
