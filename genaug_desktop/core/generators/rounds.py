"""Generators on a project: self-training rounds, recorded checkpoints, train and sample jobs.

Round 0 trains on the project's real items. Round k trains on the real items plus accepted
generator candidates of rounds below k, at most ``max_synthetic_share`` of the training set
(a seeded choice when there are more). A model trained in round k samples candidates of
round k. Unless told otherwise, training picks the round after the newest round that has
accepted candidates (0 when there are none).

Every checkpoint is written under ``PROJECT/checkpoints/`` and recorded in the project's
``checkpoints`` table with its SHA-256, round, seed, parameters, metrics and the data it saw.
Every sampled candidate carries the generator, checkpoint SHA-256, round, seeds and sampling
options in its provenance (and the round in the ``round`` column), so it can be rebuilt.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genaug_desktop import __version__
from genaug_desktop.core.generators.base import (
    CheckpointError,
    Example,
    FitResult,
    Generator,
    GeneratorError,
    TrainingData,
    derive_seed,
)
from genaug_desktop.core.jobs import CancelToken, Cancelled, Job, Progress
from genaug_desktop.core.params import Param, params
from genaug_desktop.core.store.project import Project

#: Parameters of the training data (not of the model); the GUI shows them beside the generator's.
DATA_PARAMS = params(
    Param("max_synthetic_share", "float", 0.5,
          "in rounds after the first, at most this share of the training set is accepted synthetic samples",
          low=0.0, high=0.95, step=0.05),
)
STATES = ("finished", "partial", "external")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


# ---- checkpoints in the project ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    """A checkpoint the project knows. ``path`` is absolute (under ``checkpoints/``, or the
    TorchScript file for an ``external`` one)."""

    sha256: str
    name: str
    path: str
    generator: str
    round: int | None
    state: str
    seed: int | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    data: dict[str, Any]
    parent: str | None
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256, "name": self.name, "generator": self.generator, "round": self.round,
            "state": self.state, "seed": self.seed, "params": self.params, "metrics": self.metrics,
            "data": self.data, "parent": self.parent, "created_at": self.created_at,
        }


_CKPT_COLUMNS = "sha256, name, generator, round, state, seed, params, metrics, data, parent, created_at"


def _record(project: Project, row: tuple[Any, ...]) -> CheckpointRecord:
    sha, name, generator, rnd, state, seed, p, m, d, parent, created = row
    path = name if os.path.isabs(name) else os.path.join(project.path, "checkpoints", name)
    return CheckpointRecord(sha, name, path, generator, rnd, state, seed, json.loads(p), json.loads(m), json.loads(d),
                            parent, created)


def list_checkpoints(project: Project, generator: str | None = None, state: str | None = None) -> list[CheckpointRecord]:
    """Checkpoints of the project, newest first."""
    where, args = [], []
    if generator is not None:
        where.append("generator = ?")
        args.append(generator)
    if state is not None:
        where.append("state = ?")
        args.append(state)
    sql = f"SELECT {_CKPT_COLUMNS} FROM checkpoints"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at DESC, rowid DESC"
    return [_record(project, r) for r in project.query(sql, args)]


def find_checkpoint(
    project: Project, ref: str | None = None, generator: str | None = None, states: tuple[str, ...] = ("finished",)
) -> CheckpointRecord:
    """A recorded checkpoint by SHA-256 (or a unique prefix of 6+ characters) or file name;
    with no *ref*, the newest of *generator* in one of *states*."""
    if ref is None:
        for rec in list_checkpoints(project, generator):
            if rec.state in states:
                return rec
        what = f"{generator} " if generator else ""
        raise GeneratorError(f"the project has no {' or '.join(states)} {what}checkpoint yet; train one first")
    candidates = [
        rec for rec in list_checkpoints(project, generator)
        if (len(ref) >= 6 and rec.sha256.startswith(ref.lower())) or ref in (rec.name, os.path.basename(rec.path))
        or os.path.abspath(ref) == rec.path
    ]
    if not candidates:
        raise GeneratorError(f"no checkpoint {ref!r}{f' of {generator}' if generator else ''} in this project")
    if len({c.sha256 for c in candidates}) > 1:
        raise GeneratorError(f"{ref!r} matches {len(candidates)} checkpoints; give more of the SHA-256")
    return candidates[0]


def record_checkpoint(
    project: Project, sha256: str, name: str, generator: str, round: int | None, state: str, seed: int | None = None,
    params: Mapping[str, Any] | None = None, metrics: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None, parent: str | None = None,
) -> CheckpointRecord:
    if state not in STATES:
        raise ValueError(f"unknown checkpoint state {state!r}")
    row = (sha256, name, generator, round, state, seed, json.dumps(dict(params or {}), sort_keys=True),
           json.dumps(dict(metrics or {}), sort_keys=True), json.dumps(dict(data or {}), sort_keys=True), parent, _now())
    with project.transaction() as db:
        db.execute(f"INSERT OR REPLACE INTO checkpoints({_CKPT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)
    return _record(project, row)


def save_checkpoint(
    project: Project, gen: Generator, round: int | None, state: str, parent: str | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> CheckpointRecord:
    """Write *gen* under ``checkpoints/`` and record it."""
    from genaug_desktop.core.generators.checkpoint import SUFFIX

    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", gen.name)
    name = f"{safe}-r{round if round is not None else 'x'}-{stamp}{'-partial' if state == 'partial' else ''}{SUFFIX}"
    folder = os.path.join(project.path, "checkpoints")
    sha = gen.save(os.path.join(folder, name))
    config = gen.require_trained()
    return record_checkpoint(
        project, sha, name, gen.name, round, state, seed=config.get("seed"), params=config.get("params", {}),
        metrics=metrics or {}, data=config.get("data", {}), parent=parent,
    )


# ---- training data and rounds ---------------------------------------------------------------------------
def next_round(project: Project) -> int:
    """The round a new training run belongs to: one after the newest round with accepted
    generator candidates, or 0."""
    row = project.query(
        "SELECT MAX(round) FROM candidates WHERE origin = 'generator' AND status = 'accepted' AND round IS NOT NULL"
    )
    return 0 if row[0][0] is None else int(row[0][0]) + 1


def training_data(project: Project, round: int = 0, max_synthetic_share: float = 0.5, seed: int = 0) -> TrainingData:
    """Real items, plus (round k > 0) accepted synthetic candidates of rounds below k, at most
    *max_synthetic_share* of the result."""
    share = DATA_PARAMS.validate({"max_synthetic_share": max_synthetic_share}, "$.data")["max_synthetic_share"]
    modality = project.modality
    real: list[Example] = []
    for item in project.iter_items():
        if modality == "text":
            if item.text is not None:
                real.append(Example(label=item.label, text=item.text, ref=item.key))
        else:
            real.append(Example(label=item.label, path=project.source_path(item), ref=item.key))
    pool: list[Example] = []
    pool_rounds: list[int] = []
    if round > 0:
        rows = project.query(
            "SELECT id, label, blob, text, round FROM candidates WHERE origin = 'generator' AND status = 'accepted'"
            " AND round IS NOT NULL AND round < ? ORDER BY id",
            (int(round),),
        )
        for cid, label, blob, text, rnd in rows:
            if modality == "text" and text is not None:
                pool.append(Example(label=label, text=text, synthetic=True, ref=f"candidate:{cid}"))
            elif modality == "image" and blob is not None:
                pool.append(Example(label=label, path=project.blob_file(blob), synthetic=True, ref=f"candidate:{cid}"))
            else:
                continue
            pool_rounds.append(int(rnd))
    allowed = len(pool) if share >= 1 else min(len(pool), int(math.floor(share / (1.0 - share) * len(real) + 1e-9)))
    if allowed < len(pool):
        chosen = np.sort(np.random.Generator(np.random.PCG64(derive_seed(seed, "synthetic", round))).permutation(len(pool))[:allowed])
    else:
        chosen = np.arange(len(pool))
    synthetic = [pool[i] for i in chosen]
    by_round = Counter(str(pool_rounds[i]) for i in chosen)
    info = {
        "round": int(round), "real": len(real), "synthetic": len(synthetic), "synthetic_pool": len(pool),
        "max_synthetic_share": share, "synthetic_by_round": dict(sorted(by_round.items())),
    }
    return TrainingData(modality, real + synthetic, info)  # type: ignore[arg-type]


def round_summary(project: Project) -> dict[str, dict[str, Any]]:
    """Per round: generator candidates by status, acceptance rate (accepted / decided) and the
    round's checkpoints; for the status view."""
    out: dict[str, dict[str, Any]] = {}
    for rnd, status, n in project.query(
        "SELECT round, status, COUNT(*) FROM candidates WHERE origin = 'generator' AND round IS NOT NULL"
        " GROUP BY round, status ORDER BY round"
    ):
        entry = out.setdefault(str(rnd), {"candidates": 0, "pending": 0, "accepted": 0, "rejected": 0, "checkpoints": []})
        entry[status] = n
        entry["candidates"] += n
    for rec in list_checkpoints(project):
        if rec.round is not None:
            entry = out.setdefault(str(rec.round), {"candidates": 0, "pending": 0, "accepted": 0, "rejected": 0, "checkpoints": []})
            entry["checkpoints"].append({"sha256": rec.sha256, "generator": rec.generator, "state": rec.state})
    for entry in out.values():
        decided = entry["accepted"] + entry["rejected"]
        entry["acceptance_rate"] = entry["accepted"] / decided if decided else None
    return dict(sorted(out.items(), key=lambda kv: int(kv[0])))


# ---- train ------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class TrainResult:
    checkpoint: CheckpointRecord
    fit: FitResult
    round: int
    data: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        f = self.fit
        what = "texts" if "bits_per_char" in f.metrics else "examples"
        parts = [
            f"trained {self.checkpoint.generator} round {self.round} on {self.data.get('real', 0):,} real + "
            f"{self.data.get('synthetic', 0):,} synthetic {what}: {f.epochs:,} epochs, {f.steps:,} steps in {f.seconds:.1f} s"
            + (" (time limit)" if f.stopped_by == "time limit" else ""),
        ]
        if f.val_loss is not None:
            extra = f" ({f.metrics['val_bits_per_char']:.3f} bits/char)" if "val_bits_per_char" in f.metrics else ""
            parts.append(f"validation loss {f.val_loss:.4f}{extra}")
        elif f.loss is not None:
            parts.append(f"training loss {f.loss:.4f}")
        parts.append(f"checkpoint {self.checkpoint.name} (sha256 {self.checkpoint.sha256[:12]})")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"round": self.round, "data": self.data, "fit": self.fit.to_json(), "checkpoint": self.checkpoint.to_json()}


def train_job(
    project: Project,
    generator: str,
    values: Mapping[str, Any] | None = None,
    seed: int = 0,
    round: int | None = None,
    max_synthetic_share: float = 0.5,
    resume: str | None = None,
    cancel: CancelToken | None = None,
) -> Job[TrainResult]:
    """Train *generator* (a registry name) on the project and record the checkpoint.

    Progress payloads are those of :meth:`Generator.fit_job` plus ``"round"``. On cancel
    (the token, or the job being closed) after at least one step, a resumable checkpoint is
    saved and recorded as ``partial`` before :class:`Cancelled` propagates; pass its SHA-256 as
    *resume* to continue (the checkpoint's parameters, seed, round and data share are used;
    *values* may change only ``epochs`` and ``max_seconds``).
    """
    from genaug_desktop.core.generators.checkpoint import read_checkpoint_config
    from genaug_desktop.core.generators.registry import get_generator

    cancel = cancel or CancelToken()
    cls = get_generator(generator)
    if not cls.trainable:
        raise GeneratorError(f"{generator} cannot be trained here")
    check_modality(project, generator, cls.modality)
    parent: str | None = None
    resume_path: str | None = None
    if resume is not None:
        rec = find_checkpoint(project, resume, generator, states=("partial", "finished"))
        config = read_checkpoint_config(rec.path)
        if "training" not in config:
            raise CheckpointError(f"checkpoint {rec.name} holds no training state to resume from")
        round = rec.round if rec.round is not None else 0
        seed = int(config.get("seed", seed))
        max_synthetic_share = float(config.get("data", {}).get("max_synthetic_share", max_synthetic_share))
        parent, resume_path = rec.sha256, rec.path
    elif round is None:
        round = next_round(project)
    if round < 0:
        raise GeneratorError("the round must be 0 or more")
    yield Progress(0, None, f"Collecting the training data for round {round}", payload=None)
    data = training_data(project, round, max_synthetic_share, seed)
    if len(data) == 0:
        raise GeneratorError("the project has no items to train on")
    gen = cls()
    job = gen.fit_job(data, values, seed, cancel, resume_from=resume_path)
    try:
        while True:
            try:
                progress = next(job)
            except StopIteration as stop:
                fit: FitResult = stop.value
                break
            if isinstance(progress.payload, dict):
                progress.payload["round"] = round
            yield progress
    except (Cancelled, GeneratorExit):
        if _has_steps(gen):
            save_checkpoint(project, gen, round, "partial", parent, metrics={"cancelled": True})
        raise
    finally:
        job.close()
    rec = save_checkpoint(project, gen, round, "finished", parent, metrics=fit.to_json())
    if parent is not None:
        remove_superseded_partials(project, parent)
    return TrainResult(rec, fit, round, dict(data.info))


def remove_superseded_partials(project: Project, sha256: str) -> list[str]:
    """Delete the partial checkpoint *sha256* and the partial ones it was resumed from, once a
    finished checkpoint resumed from them is written; returns the file names removed.

    The finished file was written atomically (temporary file, fsync, rename); the folder is
    synced as well before anything is deleted, so a crash leaves one or the other. A partial that
    candidates were sampled from is kept (their provenance names it, and it can still be loaded).
    The finished checkpoint's ``parent`` keeps the partial's SHA-256 as lineage.
    """
    from genaug_desktop.core.export.files import fsync_dir

    folder = os.path.join(project.path, "checkpoints")
    fsync_dir(folder)
    removed: list[str] = []
    by_sha = {r.sha256: r for r in list_checkpoints(project)}
    seen: set[str] = set()
    rec = by_sha.get(sha256)
    while rec is not None and rec.state == "partial" and rec.sha256 not in seen:
        seen.add(rec.sha256)
        used = project.query(
            "SELECT 1 FROM candidates WHERE origin = 'generator'"
            " AND json_extract(provenance, '$.checkpoint_sha256') = ? LIMIT 1", (rec.sha256,),
        )
        if not used:
            with project.transaction() as db:  # the record first: a crash then leaves a stray file, not a dead record
                db.execute("DELETE FROM checkpoints WHERE sha256 = ? AND state = 'partial'", (rec.sha256,))
            if os.path.dirname(os.path.abspath(rec.path)) == os.path.abspath(folder):
                try:
                    os.unlink(rec.path)
                    removed.append(rec.name)
                except FileNotFoundError:
                    pass
        rec = by_sha.get(rec.parent) if rec.parent else None
    if removed:
        fsync_dir(folder)
    return removed


def _has_steps(gen: Generator) -> bool:
    config = gen.config or {}
    return bool(config.get("training", {}).get("step")) and getattr(gen, "_model", None) is not None


# ---- sample -----------------------------------------------------------------------------------------------
@dataclass(slots=True)
class SampleResult:
    created: int = 0
    skipped_existing: int = 0
    candidate_ids: list[int] = field(default_factory=list)
    checkpoint_sha256: str = ""
    round: int | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{self.created:,} candidates sampled (round {self.round}, checkpoint {self.checkpoint_sha256[:12]})"]
        if self.skipped_existing:
            parts.append(
                f"{self.skipped_existing:,} already in the project (same checkpoint, seed and options; "
                "use another seed for new samples)"
            )
        return "; ".join(parts) + f" in {self.seconds:.1f} s"

    def to_json(self) -> dict[str, Any]:
        return {"created": self.created, "skipped_existing": self.skipped_existing, "ids": self.candidate_ids,
                "checkpoint_sha256": self.checkpoint_sha256, "round": self.round, "seconds": round(self.seconds, 3)}


def load_for_project(project: Project, generator: str | Generator, checkpoint: str | None = None) -> tuple[Generator, CheckpointRecord]:
    """The generator to sample with and its recorded checkpoint. *generator* is a registry
    name (then *checkpoint* picks a recorded one; default: the newest finished one) or an
    instance that is already loaded (e.g. from :func:`load_torchscript`); an instance whose
    checkpoint the project does not know yet is recorded (TorchScript files as ``external``)."""
    from genaug_desktop.core.generators.registry import get_generator

    if isinstance(generator, Generator):
        gen = generator
        config = gen.require_trained()
        known = [r for r in list_checkpoints(project) if r.sha256 == gen.checkpoint_sha256]
        if known:
            return gen, known[0]
        if not gen.trainable:  # a TorchScript file: cite it where it is
            if gen.checkpoint_sha256 is None or gen.checkpoint_path is None:
                raise GeneratorError(f"{gen.name} has no file to cite")
            rec = record_checkpoint(project, gen.checkpoint_sha256, gen.checkpoint_path, gen.name, None, "external",
                                    data={"labels": gen.labels})
            return gen, rec
        # a model trained or loaded elsewhere: keep a copy in the project, so candidates can cite it
        return gen, save_checkpoint(project, gen, config.get("data", {}).get("round"), "finished")
    rec = find_checkpoint(project, checkpoint, generator, states=("finished",) if checkpoint is None else STATES)
    gen = get_generator(generator).load(rec.path)
    if gen.checkpoint_sha256 != rec.sha256:
        raise CheckpointError(f"checkpoint {rec.name} changed on disk since it was recorded (SHA-256 differs)")
    return gen, rec


def _existing_indexes(project: Project, sha: str, seed: int, label: str | None, sampling: dict[str, Any]) -> set[int]:
    rows = project.query(
        "SELECT provenance FROM candidates WHERE origin = 'generator'"
        " AND json_extract(provenance, '$.checkpoint_sha256') = ? AND json_extract(provenance, '$.base_seed') = ?",
        (sha, int(seed)),
    )
    out = set()
    for (raw,) in rows:
        prov = json.loads(raw)
        if prov.get("label_requested") == label and prov.get("sampling") == sampling and isinstance(prov.get("index"), int):
            out.add(prov["index"])
    return out


def check_modality(project: Project, generator: str, modality: str) -> None:
    """Refuse a generator of the other modality, naming both (the same words for train and sample)."""
    if modality != project.modality:
        raise GeneratorError(f"{generator} makes {modality}s, but this project holds {project.modality}s")


def sample_job(
    project: Project,
    generator: str | Generator,
    checkpoint: str | None = None,
    n: int = 16,
    seed: int = 0,
    label: str | None = None,
    temperature: float = 1.0,
    options: Mapping[str, Any] | None = None,
    round: int | None = None,
    batch_size: int | None = None,
    cancel: CancelToken | None = None,
) -> Job[SampleResult]:
    """Sample *n* candidates into the project as pending, in batches.

    Each batch is inserted in one transaction and reported with ``payload`` = the new
    candidate ids (so a grid can show them while the job goes on); cancel stops between
    batches and keeps what was stored. Sample ``i`` is drawn from ``(seed, i)`` alone, so a
    re-run with the same checkpoint, seed, label and options skips the samples it already
    made. The round is the checkpoint's (override with *round*).
    """
    from genaug_desktop.core.policy import encode_png
    from genaug_desktop.core.store.blobs import write_blob

    cancel = cancel or CancelToken()
    started = time.monotonic()
    if n < 0:
        raise GeneratorError("the number of samples must be 0 or more")
    if isinstance(generator, str):
        # Before looking for checkpoints: an image generator on a text project has none, and
        # "train one first" would send the user to a training run that cannot work either.
        from genaug_desktop.core.generators.registry import get_generator

        check_modality(project, generator, get_generator(generator).modality)
    yield Progress(0, n, "Loading the generator")
    gen, rec = load_for_project(project, generator, checkpoint)
    check_modality(project, gen.name, gen.modality)
    sampling = gen.sample_options(temperature, **dict(options or {}))
    gen.pick_labels(1, seed, label)  # an unknown label fails here, before anything is written
    rnd = round if round is not None else (rec.round if rec.round is not None else 0)
    result = SampleResult(checkpoint_sha256=rec.sha256, round=rnd)
    existing = _existing_indexes(project, rec.sha256, seed, label, sampling)
    todo = [i for i in range(n) if i not in existing]
    result.skipped_existing = n - len(todo)
    batch = batch_size or (32 if gen.modality == "image" else 128)
    runs: list[tuple[int, int]] = []  # contiguous [start, stop) runs of missing indexes, at most `batch` long
    for i in todo:
        if runs and runs[-1][1] == i and i - runs[-1][0] < batch:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    opts = {k: v for k, v in sampling.items() if k != "temperature"}
    temp = float(sampling.get("temperature", temperature))
    source = gen.source
    if isinstance(generator, str):
        from genaug_desktop.core.generators.registry import registry

        entry = registry().get(generator)
        source = entry.source if entry is not None else source
    done = result.skipped_existing
    yield Progress(done, n, f"Sampling {len(todo):,} candidates with {gen.name}")
    for lo, hi in runs:
        cancel.raise_if_cancelled()
        samples = gen.sample(hi - lo, seed, label, temperature=temp, start=lo, **opts)
        rows = []
        for s in samples:
            row: dict[str, Any] = {"origin": "generator", "source": None, "label": s.label, "round": rnd}
            if gen.modality == "image":
                row["blob"] = write_blob(project.blobs_dir, encode_png(s.value))
            else:
                row["text"] = s.value
            row["provenance"] = {
                "origin": "generator", "generator": gen.name, "generator_source": source,
                "checkpoint_sha256": rec.sha256, "checkpoint": rec.name, "round": rnd, "base_seed": int(seed),
                "index": s.index, "seed": s.seed, "label": s.label, "label_requested": label, "sampling": sampling,
                "app_version": __version__,
            }
            rows.append(row)
        ids = project.add_candidates(rows)
        result.candidate_ids.extend(ids)
        result.created += len(ids)
        done += len(ids)
        elapsed = time.monotonic() - started
        rate = result.created / elapsed if elapsed > 0 else 0.0
        left = (n - done) / rate if rate > 0 else None
        eta = f", about {left:,.0f} s left" if left is not None and done < n else ""
        yield Progress(done, n, f"Sampled {done:,} of {n:,} ({rate:,.1f}/s{eta})", payload=ids)
    result.seconds = time.monotonic() - started
    return result
