"""Rule evaluation in Ray workers: the stateless rules of a filter run, batch by batch.

The driver keeps everything that is order-dependent or writes: the stateful (duplicate)
rules, which remember what they passed, run there on each batch's survivors, oldest first;
the project store is written only there. Workers get, once per job (``ray.put``), what the
stateless rules may read: the rules' JSON, the real items, the stored perceptual hashes, and
the paths of the dataset and of the project's blobs (a shared file system on a cluster).
They never open the project's SQLite database (SQLite must not be shared over a network file
system), so a worker's :class:`RuleContext` reads a :class:`ProjectFiles` instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from genaug_desktop.core.datasets.model import Item

if TYPE_CHECKING:
    from genaug_desktop.core.rules.engine import RuleRun
    from genaug_desktop.core.store.project import Project

#: one candidate as the driver sends it: (id, origin, source item key, label, blob, text)
SubjectRow = tuple[int, str, "str | None", "str | None", "str | None", "str | None"]
#: a worker's answer for one candidate: None (every stateless rule passed) or (rule id, reason, value)
WorkerVerdict = "tuple[str, str, float | None] | None"


@dataclass(frozen=True, slots=True)
class RuleWorkerState:
    """What workers need to evaluate the stateless rules of one filter run."""

    modality: str
    dataset_root: str
    blobs_dir: str
    items: tuple[Item, ...]
    rules: tuple[dict[str, Any], ...]
    hashes: tuple[tuple[str, str, int], ...]  # (content sha256, algo, signed 64-bit hash)

    @classmethod
    def of(cls, project: Project, rules: Sequence[Any]) -> RuleWorkerState:
        return cls(
            modality=project.modality, dataset_root=project.dataset_root, blobs_dir=project.blobs_dir,
            items=tuple(project.iter_items()), rules=tuple(r.to_json() for r in rules),
            hashes=tuple((str(a), str(b), int(c)) for a, b, c in project.query("SELECT sha256, algo, hash FROM image_hashes")),
        )


class ProjectFiles:
    """The part of a :class:`~genaug_desktop.core.store.project.Project` that a
    :class:`~genaug_desktop.core.rules.base.RuleContext` reads, served from a
    :class:`RuleWorkerState` and the file system: items, source and blob paths, stored hashes."""

    def __init__(self, state: RuleWorkerState) -> None:
        self.modality = state.modality
        self.dataset_root = state.dataset_root
        self.blobs_dir = state.blobs_dir
        self._items = list(state.items)
        self._hashes: dict[str, list[tuple[str, int]]] = {}
        for sha, algo, h in state.hashes:
            self._hashes.setdefault(algo, []).append((sha, h))

    def items(self) -> list[Item]:
        return self._items

    def source_path(self, item: Item) -> str:
        return os.path.join(self.dataset_root, *item.path.split("/"))

    def blob_file(self, sha256: str, ext: str = ".png") -> str:
        from genaug_desktop.core.store.blobs import blob_path

        return blob_path(self.blobs_dir, sha256, ext)

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # RuleContext reads one table: the stored perceptual hashes of one algorithm.
        if sql.startswith("SELECT sha256, hash FROM image_hashes WHERE algo = ?"):
            return list(self._hashes.get(str(args[0]), []))
        raise RuntimeError("a Ray worker does not read the project database")


_RUNS: dict[str, RuleRun] = {}


def _run_for(state_ref: Any, token: str) -> RuleRun:
    """The prepared stateless rules of job *token*, built once per worker process."""
    run = _RUNS.get(token)
    if run is None:
        import ray

        from genaug_desktop.core.rules.base import RuleContext, build_rule
        from genaug_desktop.core.rules.engine import RuleRun

        state: RuleWorkerState = ray.get(state_ref)
        ctx = RuleContext(ProjectFiles(state), modality=state.modality)  # type: ignore[arg-type]
        rules = [build_rule(r["kind"], r["params"], id=r["id"], state=r["state"]) for r in state.rules]
        run = RuleRun(rules, ctx)
        run.prepare()
        _RUNS.clear()  # one job at a time per worker: drop the previous job's indexes
        _RUNS[token] = run
    return run


def evaluate_batch(rows: Sequence[SubjectRow], state: Any, token: str) -> tuple[list[Any], list[tuple[str, str, int]]]:
    """Ray task: the stateless rules over one batch. Returns one :data:`WorkerVerdict` per row
    and the perceptual hashes computed on the way (the driver stores them)."""
    from genaug_desktop.core.rules.base import Subject

    run = _run_for(state, token)
    subjects = [
        Subject(run.ctx, r[0], origin=r[1], source_key=r[2], label=r[3], blob=r[4], text=r[5]) for r in rows
    ]
    outcome, _alive = run.evaluate_stateless(subjects)
    verdicts = [None if o is None else (o[0].id, o[1].reason, o[1].value) for o in outcome]
    return verdicts, run.ctx.take_new_hashes()
