"""Batch augmentation: K variants per item as pending candidates with full provenance.

Per-item work is a pure function of (item, policy, seed, variant) that runs in worker
processes; the project store stays the single writer and inserts each finished batch in one
transaction, so a cancel or a kill leaves a consistent project. Re-running the same policy
and seed makes no duplicates: variants already in the project are skipped.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
import os
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from genaug_desktop import __version__
from genaug_desktop.core.engine import Engine, as_engine, require
from genaug_desktop.core.jobs import CancelToken, Job, Progress
from genaug_desktop.core.store.project import Project

_BATCH_IMAGES = 16
_BATCH_TEXTS = 256
# Ray tasks cost a few milliseconds each to schedule: give each one more work.
_RAY_BATCH_IMAGES = 64
_RAY_BATCH_TEXTS = 1024


@dataclass(frozen=True, slots=True)
class WorkUnit:
    key: str
    label: str | None
    sha256: str
    path: str | None  # absolute path of an image item
    text: str | None
    variants: tuple[int, ...]


@dataclass(slots=True)
class AugmentResult:
    created: int = 0
    skipped_existing: int = 0
    dropped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (item key, reason)
    cancelled: bool = False
    seconds: float = 0.0
    candidate_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.created:,} candidates made"]
        if self.skipped_existing:
            parts.append(f"{self.skipped_existing:,} already in the project")
        if self.dropped:
            parts.append(f"{self.dropped:,} items dropped by pre-processing")
        if self.failures:
            parts.append(f"{len(self.failures):,} items failed (e.g. {self.failures[0][0]}: {self.failures[0][1]})")
        if self.cancelled:
            parts.append("cancelled")
        return "; ".join(parts) + f" in {self.seconds:.1f} s"


def plan_variants(
    counts: dict[str | None, list[str]], per_item: int | None = None, targets: dict[str, int] | None = None,
) -> dict[str, int]:
    """How many variants each item gets: ``per_item`` each, or enough to bring every class of
    ``targets`` up to its target count (spread evenly over the class's items)."""
    plan: dict[str, int] = {}
    if targets:
        for label, keys in counts.items():
            if label is None or label not in targets or not keys:
                continue
            need = max(0, targets[label] - len(keys))
            base, extra = divmod(need, len(keys))
            for i, key in enumerate(keys):
                plan[key] = base + (1 if i < extra else 0)
        return plan
    for keys in counts.values():
        for key in keys:
            plan[key] = per_item or 0
    return plan


# ---- worker side (pure functions, run in other processes) -----------------------------------------
_WORKER_POLICY: dict[str, Any] = {}


def _worker_init() -> None:
    # One process per core: make OpenCV/BLAS single-threaded so processes don't fight.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        pass


def _policy_for(policy_json: dict[str, Any], sha: str) -> Any:
    from genaug_desktop.core.policy import Policy

    cached = _WORKER_POLICY.get(sha)
    if cached is None:
        cached = Policy.from_json(policy_json)
        _WORKER_POLICY.clear()
        _WORKER_POLICY[sha] = cached
    return cached


def augment_units(
    policy_json: dict[str, Any], policy_sha: str, units: Sequence[WorkUnit], base_seed: int, blobs_dir: str | None,
) -> list[dict[str, Any]]:
    """Make every variant of every unit. Returns candidate rows, or {"error": reason, "key": key}."""
    from genaug_desktop.core.atomic import DiskFullError
    from genaug_desktop.core.datasets.images import ImageProblem, check_source
    from genaug_desktop.core.policy import derive_seed, encode_png, load_image_array
    from genaug_desktop.core.store.blobs import write_blob

    policy = _policy_for(policy_json, policy_sha)
    rows: list[dict[str, Any]] = []
    for unit in units:
        label = unit.label
        try:
            if policy.modality == "image":
                assert unit.path is not None
                check_source(unit.path, unit.sha256)  # never a file swapped in (or linked in) since the scan
                x = policy.run_preprocess(load_image_array(unit.path))
            else:
                text = unit.text or ""
                missing = next((op for op in policy.preprocess if op.name == "missing_values"), None)
                if missing is not None:
                    pair = missing.apply_item(text, label)
                    if pair is None:
                        rows.append({"dropped": unit.key})
                        continue
                    text, label = pair
                x = policy.run_preprocess(text)
        except ImageProblem as exc:
            rows.append({"error": str(exc), "key": unit.key})
            continue
        except Exception as exc:  # one bad item must not stop the batch
            rows.append({"error": f"{type(exc).__name__}: {exc}", "key": unit.key})
            continue
        for k in unit.variants:
            seed = derive_seed(base_seed, unit.sha256, k)
            try:
                out, chain = policy.apply(x, seed, preprocessed=True, label=label)
                row: dict[str, Any] = {"origin": "augmentation", "source": unit.key, "label": label}
                if policy.modality == "image":
                    assert blobs_dir is not None
                    row["blob"] = write_blob(blobs_dir, encode_png(out))
                    row["width"], row["height"] = int(out.shape[1]), int(out.shape[0])
                else:
                    row["text"] = out
            except DiskFullError:
                raise  # not this item's fault: every later write would fail too; stop with the reason
            except Exception as exc:
                rows.append({"error": f"variant {k}: {type(exc).__name__}: {exc}", "key": unit.key})
                continue
            row["provenance"] = {
                "origin": "augmentation", "source": unit.key, "source_sha256": unit.sha256,
                "policy_sha256": policy_sha, "policy_name": policy.name, "base_seed": base_seed, "variant": k,
                "seed": seed, "ops": chain, "preprocess": [{"op": op.name, "params": op.values} for op in policy.preprocess],
                "app_version": __version__,
            }
            rows.append(row)
    return rows


def augment_batch(
    units: Sequence[WorkUnit], policy_json: dict[str, Any], policy_sha: str, base_seed: int, blobs_dir: str | None,
) -> list[dict[str, Any]]:
    """:func:`augment_units` as a Ray task (one batch of units in, candidate rows out)."""
    global _WORKER_READY
    if not _WORKER_READY:
        _worker_init()
        _WORKER_READY = True
    return augment_units(policy_json, policy_sha, units, base_seed, blobs_dir)


_WORKER_READY = False


# ---- the job ---------------------------------------------------------------------------------------
def _units(project: Project, plan: dict[str, int], existing: dict[str, set[int]], batch: int) -> tuple[list[list[WorkUnit]], int]:
    skipped = 0
    units: list[WorkUnit] = []
    wanted = set(k for k, n in plan.items() if n > 0)
    for item in project.iter_items():
        if item.key not in wanted:
            continue
        have = existing.get(item.key, set())
        variants = tuple(k for k in range(plan[item.key]) if k not in have)
        skipped += plan[item.key] - len(variants)
        if not variants:
            continue
        path = project.source_path(item) if item.modality == "image" else None
        units.append(WorkUnit(item.key, item.label, item.sha256, path, item.text, variants))
    # Group so that each batch has about `batch` variants.
    batches: list[list[WorkUnit]] = []
    current: list[WorkUnit] = []
    size = 0
    for u in units:
        current.append(u)
        size += len(u.variants)
        if size >= batch:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    return batches, skipped


def augment_job(
    project: Project,
    policy: Any,
    per_item: int | None = 1,
    seed: int = 0,
    item_keys: Iterable[str] | None = None,
    targets: dict[str, int] | None = None,
    workers: int | None = None,
    cancel: CancelToken | None = None,
    engine: Engine | str | None = None,
) -> Job[AugmentResult]:
    """Augment the project's items with *policy* (a :class:`Policy`) and store pending candidates.

    *engine* ``"ray"`` (or an :class:`~genaug_desktop.core.engine.Engine`) maps
    :func:`augment_units` over the batches with Ray Data instead of local processes; the
    candidates are the same, stored in the same order.
    """
    cancel = cancel or CancelToken()
    eng = as_engine(engine, workers)
    require(eng)
    if policy.modality != project.modality:
        raise ValueError(f"this policy is for {policy.modality}, but the project holds {project.modality}")
    started = time.monotonic()
    keys_filter = set(item_keys) if item_keys is not None else None
    by_label: dict[str | None, list[str]] = defaultdict(list)
    for item in project.iter_items():
        if keys_filter is None or item.key in keys_filter:
            by_label[item.label].append(item.key)
    plan = plan_variants(by_label, per_item, targets)
    policy_json = policy.to_json()
    policy_sha = policy.sha256
    existing = project.existing_variants(policy_sha, seed)
    if eng.is_ray:
        batch_size = _RAY_BATCH_IMAGES if policy.modality == "image" else _RAY_BATCH_TEXTS
    else:
        batch_size = _BATCH_IMAGES if policy.modality == "image" else _BATCH_TEXTS
    batches, skipped = _units(project, plan, existing, batch_size)
    total = sum(len(u.variants) for b in batches for u in b)
    result = AugmentResult(skipped_existing=skipped)
    blobs_dir = project.blobs_dir if policy.modality == "image" else None
    project.record_policy(policy_sha, policy_json)
    yield Progress(0, total, f"Augmenting {total:,} variants")
    if workers is None:
        workers = os.cpu_count() or 1
    workers = max(1, min(workers, len(batches) or 1))
    done = 0

    def store(rows: list[dict[str, Any]]) -> None:
        good = [r for r in rows if "error" not in r and "dropped" not in r]
        for r in rows:
            if "error" in r:
                result.failures.append((r["key"], r["error"]))
            elif "dropped" in r:
                result.dropped += 1
        ids = project.add_candidates(good)
        result.candidate_ids.extend(ids)
        result.created += len(ids)

    def progress_message() -> str:
        elapsed = time.monotonic() - started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else math.nan
        eta_text = f", about {eta:,.0f} s left" if math.isfinite(eta) else ""
        return f"Augmented {done:,} of {total:,} ({rate:,.0f}/s{eta_text})"

    if eng.is_ray:
        from genaug_desktop.core.engine.ray_data import RaySession, ordered_map

        yield Progress(0, total, "Starting Ray")
        kwargs = {"policy_json": policy_json, "policy_sha": policy_sha, "base_seed": seed, "blobs_dir": blobs_dir}
        with RaySession(eng, cancel):
            for i, rows in ordered_map(augment_batch, batches, kwargs, cancel):
                before = len(result.candidate_ids)
                store(rows)
                done += sum(len(u.variants) for u in batches[i])
                yield Progress(done, total, progress_message(), payload=result.candidate_ids[before:])
    elif workers == 1:
        for batch in batches:
            cancel.raise_if_cancelled()
            rows = augment_units(policy_json, policy_sha, batch, seed, blobs_dir)
            before = len(result.candidate_ids)
            store(rows)
            done += sum(len(u.variants) for u in batch)
            yield Progress(done, total, progress_message(), payload=result.candidate_ids[before:])
    else:
        ctx = multiprocessing.get_context("forkserver")
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init) as pool:
            # Batches are stored in submission order (not as they finish), so the candidates get
            # the same ids whatever the number of workers or the engine.
            pending: deque[tuple[cf.Future[list[dict[str, Any]]], list[WorkUnit]]] = deque()
            queue = deque(batches)
            try:
                while queue or pending:
                    while queue and len(pending) < workers * 2:
                        b = queue.popleft()
                        pending.append((pool.submit(augment_units, policy_json, policy_sha, b, seed, blobs_dir), b))
                    fut, b = pending[0]
                    try:
                        rows = fut.result(timeout=0.2)
                    except cf.TimeoutError:
                        cancel.raise_if_cancelled()
                        continue
                    cancel.raise_if_cancelled()
                    pending.popleft()
                    before = len(result.candidate_ids)
                    store(rows)
                    done += sum(len(u.variants) for u in b)
                    yield Progress(done, total, progress_message(), payload=result.candidate_ids[before:])
            finally:
                # On cancel: drop queued batches; the ones running finish into orphan blobs only.
                pool.shutdown(wait=True, cancel_futures=True)
    result.seconds = time.monotonic() - started
    return result


def class_balance_targets(project: Project, target: int | None = None) -> dict[str, int]:
    """Targets that bring every class up to the largest one (or to *target*)."""
    counts = Counter(project.class_counts())
    if not counts:
        return {}
    goal = target if target is not None else max(counts.values())
    return {label: max(goal, n) for label, n in counts.items()}
