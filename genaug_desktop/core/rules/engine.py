"""Applying rules: one evaluation engine behind both the dry run and the filter job.

The engine runs rules in a fixed order (cheap rules first, duplicate rules last); each rule sees
only the candidates every earlier rule passed, and a candidate's rejection is credited to the
first rule that fails it. Because :func:`dry_run_job` and :func:`filter_job` share this engine
and the same choice of candidates, a dry run of the approved rules predicts the filter exactly.

Which candidates are checked: pending ones that no person decided (a person's decision always
wins, even a person's "undo" back to pending). The filter also skips candidates the same
approved rule set (same :func:`~genaug_desktop.core.rules.store.fingerprint`) already passed,
so running it after every augmentation job only checks the new candidates, and running it twice
changes nothing the second time.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from genaug_desktop.core.engine import Engine, as_engine, require
from genaug_desktop.core.jobs import CancelToken, Job, Progress, Throttle
from genaug_desktop.core.rules.base import Rule, RuleContext, Subject, Verdict
from genaug_desktop.core.rules.store import RuleStoreError, approved_rules, fingerprint, get_rule
from genaug_desktop.core.store.project import Project

TEXT_BATCH = 1000
IMAGE_BATCH = 128
_ELIGIBLE = "status = 'pending' AND (decided_by IS NULL OR decided_by = 'rule')"


@dataclass(frozen=True, slots=True)
class Rejection:
    """One candidate a rule rejects (or would reject, in a dry run)."""

    candidate_id: int
    rule_id: str
    reason: str
    value: float | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.candidate_id, "rule": self.rule_id, "reason": self.reason, "measured": self.value}


def order_rules(rules: Sequence[Rule]) -> list[Rule]:
    """Evaluation order: stateless before stateful (duplicates), then by cost; stable otherwise."""
    return sorted(rules, key=lambda r: (r.stateful, r.cost))


class RuleRun:
    """One evaluation run over fresh copies of *rules* (their indexes live here, not on the
    caller's rule objects). Call :meth:`prepare` once, then :meth:`evaluate` per batch, oldest
    candidates first."""

    def __init__(self, rules: Sequence[Rule], ctx: RuleContext, measure: bool = False) -> None:
        for r in rules:
            if r.modality != ctx.modality:
                raise RuleStoreError(f"rule {r.id!r} ({r.kind}) is for {r.modality}, but the candidates are {ctx.modality}")
        ids = [r.id for r in rules]
        if len(set(ids)) != len(ids):
            raise RuleStoreError("two rules have the same id")
        self.rules = [r.copy() for r in order_rules(rules)]
        self.ctx = ctx
        self.measure = measure
        #: rule id -> (candidate ids, measured values), filled when ``measure``
        self.measured: dict[str, tuple[list[int], list[float | None]]] = {r.id: ([], []) for r in self.rules}

    def prepare(self) -> None:
        for rule in self.rules:
            rule.prepare(self.ctx)

    def evaluate(self, subjects: Sequence[Subject]) -> list[tuple[Rule, Verdict] | None]:
        """For each subject: None when every rule passed it, else (the rule that failed it, its verdict).

        Stateless rules see the batch at once; stateful ones (duplicates) then see the survivors
        one at a time, oldest first, so "kept before it" means the same whatever the batch size,
        and a candidate a later rule rejects is forgotten by the earlier stateful rules.
        """
        outcome, alive = self.evaluate_stateless(subjects)
        self.evaluate_stateful(subjects, outcome, alive)
        return outcome

    def evaluate_stateless(self, subjects: Sequence[Subject]) -> tuple[list[tuple[Rule, Verdict] | None], list[int]]:
        """The first half of :meth:`evaluate`: the stateless rules over the whole batch. Returns
        the outcome so far and the indexes of the subjects every stateless rule passed. A pure
        function of (subjects, rules), so the ray engine runs it in workers."""
        outcome: list[tuple[Rule, Verdict] | None] = [None] * len(subjects)
        alive = list(range(len(subjects)))
        if self.ctx.modality == "image":
            self.ctx.prefetch(subjects)
        for rule in self.rules:
            if rule.stateful:
                continue
            if not alive:
                break
            verdicts = rule.evaluate([subjects[i] for i in alive])
            if len(verdicts) != len(alive):
                raise RuntimeError(f"rule {rule.id!r} gave {len(verdicts)} verdicts for {len(alive)} candidates")
            survivors = []
            for i, v in zip(alive, verdicts):
                self._record(rule, subjects[i], v)
                if v.passed:
                    survivors.append(i)
                else:
                    outcome[i] = (rule, v)
            alive = survivors
        return outcome, alive

    def evaluate_stateful(
        self, subjects: Sequence[Subject], outcome: list[tuple[Rule, Verdict] | None], alive: Sequence[int],
    ) -> None:
        """The second half of :meth:`evaluate`: the stateful rules over the survivors *alive*,
        one at a time, oldest first (always in the driver: they remember what they passed)."""
        stateful = [r for r in self.rules if r.stateful]
        if stateful and alive:
            batch = [subjects[i] for i in alive]
            for rule in stateful:
                rule.precompute(batch)
            for i in alive:
                s = subjects[i]
                passed: list[Rule] = []
                for rule in stateful:
                    verdicts = rule.evaluate([s])
                    if len(verdicts) != 1:
                        raise RuntimeError(f"rule {rule.id!r} gave {len(verdicts)} verdicts for 1 candidate")
                    v = verdicts[0]
                    self._record(rule, s, v)
                    if v.passed:
                        passed.append(rule)
                        continue
                    outcome[i] = (rule, v)
                    for earlier in passed:
                        earlier.discard([s])
                    break

    def _record(self, rule: Rule, s: Subject, v: Verdict) -> None:
        if self.measure:
            ids, values = self.measured[rule.id]
            ids.append(s.id)
            values.append(v.value)


# ---- choosing and loading candidates -------------------------------------------------------------
def eligible_ids(
    project: Project, skip_fingerprint: str | None = None, candidate_ids: Sequence[int] | None = None,
) -> list[int]:
    """Pending candidates no person decided, oldest first; optionally not yet passed by a rule set."""
    sql = f"SELECT id FROM candidates WHERE {_ELIGIBLE}"
    args: list[Any] = []
    if skip_fingerprint is not None:
        sql += " AND (rules_checked IS NULL OR rules_checked != ?)"
        args.append(skip_fingerprint)
    ids = [r[0] for r in project.query(sql + " ORDER BY id", args)]
    if candidate_ids is not None:
        wanted = {int(i) for i in candidate_ids}
        ids = [i for i in ids if i in wanted]
    return ids


def _subject_rows(project: Project, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """(id, origin, source key, label, blob, text) of each candidate, by id."""
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        out.extend(project.query(
            "SELECT c.id, c.origin, i.key, c.label, c.blob, c.text FROM candidates c"
            f" LEFT JOIN items i ON i.id = c.source_item WHERE c.id IN ({marks}) ORDER BY c.id",
            chunk,
        ))
    return out


def _subjects(ctx: RuleContext, rows: Sequence[tuple[Any, ...]]) -> list[Subject]:
    return [Subject(ctx, r[0], origin=r[1], source_key=r[2], label=r[3], blob=r[4], text=r[5]) for r in rows]


def _load_subjects(project: Project, ctx: RuleContext, ids: Sequence[int]) -> list[Subject]:
    return _subjects(ctx, _subject_rows(project, ids))


def _batches(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _batch_size(project: Project, batch_size: int | None) -> int:
    if batch_size is not None:
        return max(1, int(batch_size))
    return IMAGE_BATCH if project.modality == "image" else TEXT_BATCH


def _resolve(project: Project, rules: Sequence[Rule | str]) -> list[Rule]:
    return [get_rule(project, r) if isinstance(r, str) else r for r in rules]


# ---- dry run -----------------------------------------------------------------------------------
@dataclass
class DryRunResult:
    """What rules would do to the current pending candidates; nothing was written.

    ``measured`` holds, per rule, the ids it looked at and the values it measured (for a chart
    of the measure with :meth:`Rule.bounds` drawn on it).
    """

    rule_ids: list[str]
    checked: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    measured: dict[str, tuple[list[int], list[float | None]]] = field(default_factory=dict)
    seconds: float = 0.0

    def rejected_ids(self, rule_id: str | None = None) -> list[int]:
        return [r.candidate_id for r in self.rejections if rule_id is None or r.rule_id == rule_id]

    def counts(self) -> dict[str, int]:
        out = {rid: 0 for rid in self.rule_ids}
        for r in self.rejections:
            out[r.rule_id] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked, "rules": self.rule_ids, "counts": self.counts(),
            "rejected": [r.to_json() for r in self.rejections],
        }

    def summary(self) -> str:
        n = len(self.rejections)
        return f"would reject {n:,} of {self.checked:,} pending candidates"


def dry_run_job(
    project: Project,
    rules: Sequence[Rule | str],
    candidate_ids: Sequence[int] | None = None,
    ctx: RuleContext | None = None,
    cancel: CancelToken | None = None,
    batch_size: int | None = None,
    all_candidates: bool = False,
) -> Job[DryRunResult]:
    """Evaluate *rules* (objects, e.g. an edited proposal, or ids of saved rules) on the pending
    candidates a filter would check; writes nothing. Progress payloads carry each batch's
    :class:`Rejection` list so a view can fill in while it runs. Pass the same *ctx* to
    repeated dry runs (a person moving a threshold) to reuse decoded sources and vocabularies.

    ``all_candidates`` measures every candidate whatever its status (for a chart of a rule's
    measure over the whole project); the result then no longer predicts the filter.
    """
    cancel = cancel or CancelToken()
    started = time.monotonic()
    resolved = _resolve(project, rules)
    ctx = ctx or RuleContext(project)
    if all_candidates:
        ids = [r[0] for r in project.query("SELECT id FROM candidates ORDER BY id")]
        if candidate_ids is not None:
            wanted = {int(i) for i in candidate_ids}
            ids = [i for i in ids if i in wanted]
    else:
        ids = eligible_ids(project, None, candidate_ids)
    ctx.checking = set(ids)
    run = RuleRun(resolved, ctx, measure=True)
    result = DryRunResult([r.id for r in run.rules])
    yield Progress(0, len(ids), "Preparing rules")
    run.prepare()
    cancel.raise_if_cancelled()
    throttle = Throttle(0.1)
    for chunk in _batches(ids, _batch_size(project, batch_size)):
        cancel.raise_if_cancelled()
        subjects = _load_subjects(project, ctx, chunk)
        new = [
            Rejection(s.id, rule.id, v.reason, v.value)
            for s, o in zip(subjects, run.evaluate(subjects)) if o is not None for rule, v in [o]
        ]
        result.rejections.extend(new)
        result.checked += len(subjects)
        if throttle() or result.checked == len(ids):
            yield Progress(result.checked, len(ids), f"Checked {result.checked:,} of {len(ids):,}", payload=new)
    ctx.take_new_hashes()  # a dry run writes nothing; the hashes stay cached in ctx
    result.measured = run.measured
    result.seconds = time.monotonic() - started
    return result


def dry_run(project: Project, rules: Sequence[Rule | str], **kwargs: Any) -> DryRunResult:
    """:func:`dry_run_job` run to completion in this thread."""
    from genaug_desktop.core.jobs import run_job

    return run_job(dry_run_job(project, rules, **kwargs))


# ---- filtering ---------------------------------------------------------------------------------
@dataclass
class FilterResult:
    """What a filter run did."""

    rules: list[str] = field(default_factory=list)
    fingerprint: str = ""
    checked: int = 0
    skipped: int = 0  # pending candidates this rule set had already passed
    rejected: dict[str, int] = field(default_factory=dict)
    rejected_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": self.rules, "checked": self.checked, "skipped": self.skipped,
            "rejected": self.rejected, "total_rejected": self.total_rejected, "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        if not self.rules:
            return "no approved rules; nothing was filtered"
        text = (
            f"checked {self.checked:,} pending candidates with {len(self.rules)} approved rules: "
            f"rejected {self.total_rejected:,}"
        )
        if self.skipped:
            text += f" ({self.skipped:,} already checked by these rules)"
        return text


def _signed(h: int) -> int:
    return h - (1 << 64) if h >= 1 << 63 else h


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def filter_job(
    project: Project,
    cancel: CancelToken | None = None,
    candidate_ids: Sequence[int] | None = None,
    recheck: bool = False,
    batch_size: int | None = None,
    engine: Engine | str | None = None,
) -> Job[FilterResult]:
    """Apply the approved rules to pending candidates no person decided.

    A rejection sets the candidate to 'rejected' with ``decided_by='rule'``, the rule id, its
    reason and measured value, and adds a row to the decision log; a pass records the rule-set
    fingerprint in ``rules_checked``. Each batch is one transaction, so a cancel (raised as
    :class:`~genaug_desktop.core.jobs.Cancelled` between batches) or a kill keeps every
    finished batch, and the next run goes on from there. A person deciding a candidate while
    this runs wins: rows are only changed while still pending and undecided by a person.
    ``recheck`` re-checks candidates this rule set already passed.

    *engine* ``"ray"`` evaluates the stateless rules of each batch in Ray workers (see
    :mod:`genaug_desktop.core.engine.rules_worker`); the stateful ones and every write stay
    here, so the verdicts are the same as with the local engine.
    """
    cancel = cancel or CancelToken()
    eng = as_engine(engine)
    require(eng)
    started = time.monotonic()
    rules = approved_rules(project)
    fp = fingerprint(rules)
    result = FilterResult([r.id for r in rules], fp)
    for r in rules:
        result.rejected[r.id] = 0
    if not rules:
        return result
    all_ids = eligible_ids(project, None, candidate_ids)
    ids = all_ids if recheck else eligible_ids(project, fp, candidate_ids)
    result.skipped = len(all_ids) - len(ids)
    if not ids:  # nothing new: skip building vocabularies and indexes
        result.seconds = time.monotonic() - started
        return result
    ctx = RuleContext(project)
    ctx.checking = set(ids)
    run = RuleRun(rules, ctx)
    yield Progress(0, len(ids), f"Preparing {len(rules)} rules")
    run.prepare()
    _persist_hashes(project, ctx)
    cancel.raise_if_cancelled()
    chunks = list(_batches(ids, _batch_size(project, batch_size)))
    if eng.is_ray and any(not r.stateful for r in run.rules):
        yield from _filter_on_ray(project, eng, run, ctx, chunks, fp, result, cancel, len(ids))
    else:
        for chunk in chunks:
            cancel.raise_if_cancelled()
            subjects = _load_subjects(project, ctx, chunk)
            yield _store_outcome(project, ctx, subjects, run.evaluate(subjects), fp, result, len(ids))
    result.seconds = time.monotonic() - started
    return result


def _store_outcome(
    project: Project, ctx: RuleContext, subjects: Sequence[Subject], outcome: Sequence[tuple[Rule, Verdict] | None],
    fp: str, result: FilterResult, total: int,
) -> Progress:
    """Write one batch's verdicts in one transaction; the progress report for it."""
    now = _now()
    new_rejections: list[int] = []
    with project.transaction() as db:
        passed = [(fp, s.id) for s, o in zip(subjects, outcome) if o is None]
        db.executemany(f"UPDATE candidates SET rules_checked = ? WHERE id = ? AND {_ELIGIBLE}", passed)
        for s, o in zip(subjects, outcome):
            if o is None:
                continue
            rule, v = o
            cur = db.execute(
                "UPDATE candidates SET status = 'rejected', reason = ?, rule_id = ?, measured = ?,"
                f" decided_by = 'rule', decided_at = ?, rules_checked = ? WHERE id = ? AND {_ELIGIBLE}",
                (v.reason, rule.id, v.value, now, fp, s.id),
            )
            if cur.rowcount:
                db.execute(
                    "INSERT INTO decisions(candidate_id, status, previous, reason, at, decided_by, rule_id, measured)"
                    " VALUES (?, 'rejected', 'pending', ?, ?, 'rule', ?, ?)",
                    (s.id, v.reason, now, rule.id, v.value),
                )
                result.rejected[rule.id] += 1
                new_rejections.append(s.id)
        _write_hashes(db, ctx)
    result.rejected_ids.extend(new_rejections)
    result.checked += len(subjects)
    return Progress(
        result.checked, total, f"Checked {result.checked:,} of {total:,}; rejected {result.total_rejected:,}",
        payload=new_rejections,
    )


def _filter_on_ray(
    project: Project, eng: Engine, run: RuleRun, ctx: RuleContext, chunks: Sequence[Sequence[int]], fp: str,
    result: FilterResult, cancel: CancelToken, total: int,
) -> Iterator[Progress]:
    """The filter's batches with the stateless rules evaluated by Ray workers."""
    import uuid

    from genaug_desktop.core.engine.ray_data import RaySession, ordered_map
    from genaug_desktop.core.engine.rules_worker import RuleWorkerState, evaluate_batch

    yield Progress(0, total, "Starting Ray")
    by_id = {r.id: r for r in run.rules}
    payloads = [_subject_rows(project, chunk) for chunk in chunks]
    with RaySession(eng, cancel):
        import ray

        state = ray.put(RuleWorkerState.of(project, [r for r in run.rules if not r.stateful]))
        kwargs = {"state": state, "token": uuid.uuid4().hex}
        for i, (verdicts, hashes) in ordered_map(evaluate_batch, payloads, kwargs, cancel):
            for sha, algo, h in hashes:
                if ctx.cached_hash(sha, algo) is None:
                    ctx.remember_hash(sha, algo, h)
            subjects = _subjects(ctx, payloads[i])
            outcome: list[tuple[Rule, Verdict] | None] = [
                None if v is None else (by_id[v[0]], Verdict(False, v[1], v[2])) for v in verdicts
            ]
            run.evaluate_stateful(subjects, outcome, [j for j, o in enumerate(outcome) if o is None])
            yield _store_outcome(project, ctx, subjects, outcome, fp, result, total)


def run_filter(project: Project, **kwargs: Any) -> FilterResult:
    """:func:`filter_job` run to completion in this thread."""
    from genaug_desktop.core.jobs import run_job

    return run_job(filter_job(project, **kwargs))


def _write_hashes(db: Any, ctx: RuleContext) -> None:
    new = ctx.take_new_hashes()
    if new:
        db.executemany(
            "INSERT OR IGNORE INTO image_hashes(sha256, algo, hash) VALUES (?, ?, ?)",
            [(sha, algo, _signed(h)) for sha, algo, h in new],
        )


def _persist_hashes(project: Project, ctx: RuleContext) -> None:
    """Keep perceptual hashes computed so far (sources, kept candidates) for later runs."""
    if ctx.has_new_hashes:
        with project.transaction() as db:
            _write_hashes(db, ctx)
