"""The export job: read, convert and write every planned sample, write the manifest, and
publish the folder atomically. A core Job: yields :class:`Progress`, honours a cancel token,
and leaves nothing behind when it is cancelled, fails or is killed."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as _dt
import errno
import hashlib
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genaug_desktop import __version__
from genaug_desktop.core.engine import Engine, as_engine, require
from genaug_desktop.core.export import imaging
from genaug_desktop.core.formatting import human_bytes
from genaug_desktop.core.export.files import FileRecorder
from genaug_desktop.core.export.manifest import COLUMNS, SCHEMA_VERSION, dumps
from genaug_desktop.core.export.options import ExportError, ExportOptions
from genaug_desktop.core.export.plan import ORIGINS, ExportPlan, Sample, UNLABELED, forbidden_paths, plan_export
from genaug_desktop.core.export.provenance import ProvenanceStream, generator_info, rules_table
from genaug_desktop.core.export.publish import MANIFEST_KIND, MANIFEST_NAME, Staging, check_destination
from genaug_desktop.core.export.writers import Payload, make_writer
from genaug_desktop.core.jobs import CancelToken, Job, Progress, Throttle
from genaug_desktop.core.store.project import Project


@dataclass(slots=True)
class ExportResult:
    """What an export wrote, for the closing report."""

    destination: str
    format: str
    samples: int
    counts: dict[str, dict[str, dict[str, int]]]
    files: int  # the files listed in the manifest, as `genaug verify` counts them (not manifest.json)
    bytes: int  # their size
    seconds: float
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (uid, why)
    warnings: list[str] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)  # stale temporary folders removed
    replaced: bool = False

    @property
    def manifest_path(self) -> str:
        return os.path.join(self.destination, MANIFEST_NAME)

    def by_split(self) -> dict[str, int]:
        return {split: sum(sum(o.values()) for o in classes.values()) for split, classes in self.counts.items()}

    def summary(self) -> str:
        splits = ", ".join(f"{k} {v:,}" for k, v in self.by_split().items())
        text = (
            f"Exported {self.samples:,} samples ({splits}) as {self.format} to {self.destination}: "
            f"{self.files:,} files listed in {MANIFEST_NAME} ({human_bytes(self.bytes)}), in {self.seconds:.1f} s"
        )
        if self.replaced:
            text += " (replaced the earlier export)"
        if self.skipped:
            uid, why = self.skipped[0]
            text += f"; {len(self.skipped):,} skipped (e.g. {uid}: {why})"
        return text + "."

    def to_json(self) -> dict[str, Any]:
        return {
            "destination": self.destination, "format": self.format, "samples": self.samples, "by_split": self.by_split(),
            "counts": self.counts, "files": self.files, "bytes": self.bytes, "seconds": round(self.seconds, 3),
            "skipped": [{"uid": u, "reason": r} for u, r in self.skipped], "warnings": self.warnings,
            "cleaned": self.cleaned, "replaced": self.replaced, "manifest": self.manifest_path,
        }


# ---- per-sample preparation (worker threads) ----------------------------------------------------------
def _read(sample: Sample) -> tuple[bytes | None, str | None]:
    assert sample.path is not None
    try:
        with open(sample.path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        if sample.origin == "original":
            return None, "the source file is missing (if the dataset moved, relink the project to its new place)"
        return None, "the image blob is missing"
    except OSError as exc:
        return None, f"cannot read {sample.path}: {exc.strerror or exc}"
    if sample.sha256 and hashlib.sha256(data).hexdigest() != sample.sha256:
        if sample.origin == "original":
            return None, ("the source file changed since the project was made; restore the original file, "
                          "or make a new project for the changed dataset")
        return None, "the image blob is damaged (its checksum does not match)"
    return data, None


def _source_props(sample: Sample, data: bytes) -> tuple[str | None, str, tuple[int, int] | None]:
    fmt = imaging.sniff_format(data)
    color, size = sample.color, sample.size
    header = imaging.png_header(data) if fmt == "png" else None
    if header is not None:
        size, color = (header[0], header[1]), header[2]
    return fmt, color, size


def prepare_image(sample: Sample, spec: imaging.ImageSpec, as_array: bool) -> Payload:
    """Bytes to write (copied when nothing changes), or an array for npz; never raises."""
    data, error = _read(sample)
    if data is None:
        return Payload(error=error)
    try:
        fmt, color, size = _source_props(sample, data)
        if as_array:
            x = imaging.convert_color(imaging.decode(data), spec.color, keep_alpha=False)
            if spec.size is not None:
                x = imaging.resize(x, spec.size, spec.resize)
            return Payload(array=imaging.as_hwc(x))
        if spec.can_copy(fmt, color, size):
            assert fmt is not None
            return Payload(data=data, ext=imaging.EXTENSIONS[fmt], sha256=sample.sha256)
        target = spec.target_format(fmt)
        x = imaging.convert_color(imaging.decode(data), spec.color, keep_alpha=target != "jpeg")
        if spec.size is not None:
            x = imaging.resize(x, spec.size, spec.resize)
        return Payload(data=imaging.encode(x, target, spec.quality), ext=imaging.EXTENSIONS[target])
    except Exception as exc:  # one undecodable image must not stop the export
        return Payload(error=f"cannot convert the image: {exc}")


def _converts(sample: Sample, spec: imaging.ImageSpec) -> bool:
    """Whether *sample* will (probably) be decoded and re-encoded rather than copied."""
    fmt = sample.fmt
    if fmt is None and sample.path is not None:
        fmt = {".png": "png", ".jpg": "jpeg", ".webp": "webp"}.get(os.path.splitext(sample.path)[1].lower())
    return not spec.can_copy(fmt, sample.color, sample.size)


def _pipeline(samples: Sequence[Sample], fn: Callable[[Sample], Payload], workers: int, cancel: CancelToken) -> Iterator[tuple[Sample, Payload]]:
    """Prepare samples in worker threads, yielding results in order with a bounded look-ahead."""
    if workers <= 1:
        for s in samples:
            cancel.raise_if_cancelled()
            yield s, fn(s)
        return
    window: deque[tuple[Sample, cf.Future[Payload]]] = deque()
    it = iter(samples)
    with cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export") as pool:
        try:
            for s in it:
                window.append((s, pool.submit(fn, s)))
                if len(window) >= workers * 8:
                    break
            while window:
                cancel.raise_if_cancelled()
                s, fut = window.popleft()
                payload = fut.result()
                nxt = next(it, None)
                if nxt is not None:
                    window.append((nxt, pool.submit(fn, nxt)))
                yield s, payload
        finally:
            for _s, fut in window:
                fut.cancel()


#: image samples per Ray encoding task (and per part file). Ray Data costs a few milliseconds per
#: task in the driver: with 64 per task, a 20,000-image copy export on 2 cores took 19.4 s, with
#: 256 12.6-13.5 s, with 1,024 11.4 s; 256 keeps a task under a second of decoding and encoding.
RAY_CHUNK = 256


Pipeline = Callable[[Sequence[Sample]], Iterator[tuple[Sample, Payload]]]


# ---- rows and provenance ------------------------------------------------------------------------------
def _recorded(sample: Sample, index: ProvenanceStream) -> dict[str, Any]:
    """The sample's stored provenance: held by the sample, read from the project, or none."""
    if sample.recorded is not None:
        return sample.recorded
    if sample.candidate_id is None:
        return {}
    try:
        return index.recorded(sample.candidate_id)
    except LookupError:
        raise ExportError(f"{sample.uid} is no longer in the project (deleted after the export was planned); "
                          "plan the export again") from None


def _row_and_provenance(sample: Sample, label_id: int | None, index: ProvenanceStream,
                        rec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    gen = generator_info(rec) if sample.origin == "generator" or "generator" in rec else None
    if sample.candidate_id is None:
        decision, history, rules = None, [], None
    else:
        decision, history = index.decision(sample.candidate_id, sample.status)
        rules = index.rule_outcome(sample.candidate_id, sample.rule_id, sample.reason, sample.status, rec)
    round_ = sample.round if sample.round is not None else rec.get("round")
    row = {
        "uid": sample.uid, "label": sample.label, "label_id": label_id, "split": sample.split, "origin": sample.origin,
        "source": sample.source, "candidate_id": sample.candidate_id, "round": round_, "seed": rec.get("seed"),
        "generator": gen["name"] if gen else None, "checkpoint_sha256": gen["checkpoint_sha256"] if gen else None,
        "policy_sha256": rec.get("policy_sha256"),
        "decision": decision["status"] if decision else None, "decided_at": decision["at"] if decision else None,
    }
    provenance = {
        "origin": sample.origin,
        "source": sample.source,
        "source_sha256": sample.sha256 if sample.origin == "original" else rec.get("source_sha256"),
        "content_sha256": sample.sha256,
        "candidate_id": sample.candidate_id,
        "seed": rec.get("seed"),
        "round": round_,
        "policy_sha256": rec.get("policy_sha256"),
        "ops": rec.get("ops"),
        "preprocess": rec.get("preprocess"),
        "generator": gen,
        "rules": rules,
        "decision": decision,
        "decision_history": history,
        "recorded": rec,
    }
    return row, provenance


# ---- manifest pieces --------------------------------------------------------------------------------
def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


class Written:
    """What the manifest needs of the samples written, tallied as they are written (no list of
    them is kept): counts by split, class and origin, the generators and the policies cited."""

    def __init__(self) -> None:
        self.total = 0
        self.cells: Counter[tuple[str, str | None, str]] = Counter()  # (split, label, origin), first seen first
        self.generators: dict[tuple[Any, Any], dict[str, Any]] = {}
        self.policy_shas: set[str] = set()

    def __len__(self) -> int:
        return self.total

    def add(self, sample: Sample, recorded: dict[str, Any]) -> None:
        self.total += 1
        self.cells[(sample.split, sample.label, sample.origin)] += 1
        if recorded.get("policy_sha256"):
            self.policy_shas.add(str(recorded["policy_sha256"]))
        if sample.origin == "generator":
            gen = generator_info(recorded) or {"name": None, "checkpoint_sha256": None}
            key = (gen["name"], gen["checkpoint_sha256"])
            entry = self.generators.setdefault(key, {"name": key[0], "checkpoint_sha256": key[1], "rounds": set(), "samples": 0})
            entry["samples"] += 1
            if sample.round is not None:
                entry["rounds"].add(sample.round)

    def count_table(self, splits: Sequence[str]) -> dict[str, dict[str, dict[str, int]]]:
        """As :func:`count_samples` over the written samples."""
        out: dict[str, dict[str, dict[str, int]]] = {s: {} for s in splits}
        for (split, label, origin), n in self.cells.items():
            row = out.setdefault(split, {}).setdefault(label if label is not None else UNLABELED, {o: 0 for o in ORIGINS})
            row[origin] += n
        return {split: dict(sorted(classes.items())) for split, classes in out.items()}


def _generators(written: Written) -> list[dict[str, Any]]:
    return [
        {**e, "rounds": sorted(e["rounds"])}
        for e in sorted(written.generators.values(), key=lambda e: (str(e["name"]), str(e["checkpoint_sha256"])))
    ]


def _policies(project: Project, written: Written) -> dict[str, Any]:
    return {sha: project.policy_json(sha) for sha in sorted(written.policy_shas)}


def _counts(written: Written, plan: ExportPlan) -> dict[str, Any]:
    table = written.count_table(plan.splits)
    by_class: Counter[str] = Counter()
    by_origin: Counter[str] = Counter()
    for (_split, label, origin), n in written.cells.items():
        by_class[label if label is not None else UNLABELED] += n
        by_origin[origin] += n
    return {
        "total": written.total,
        "by_split": {split: sum(sum(o.values()) for o in classes.values()) for split, classes in table.items()},
        "by_class": dict(sorted(by_class.items())),
        "by_origin": {o: by_origin.get(o, 0) for o in ORIGINS},
        "by_split_class_origin": table,
    }


def _channel_stats(moments: Iterator[tuple[np.ndarray, np.ndarray, int] | None], count: int,
                   total: int, throttle: Throttle) -> Job[tuple[list[float], list[float]]]:
    """Per-channel mean and std of pixel values scaled to 0-1, from each training image's
    :func:`~genaug_desktop.core.export.ray_export.pixel_moments` (None: unreadable), summed in
    plan order in float64."""
    sums: np.ndarray | None = None
    squares: np.ndarray | None = None
    pixels = 0
    for done, m in enumerate(moments, 1):
        if m is not None:
            s, sq, n = m
            sums = s if sums is None else sums + s
            squares = sq if squares is None else squares + sq
            pixels += n
        if throttle():
            yield Progress(done, total, f"Measuring mean and std over {done:,} of {count:,} training images")
    if sums is None or squares is None or pixels == 0:
        raise ExportError("mean/std normalisation needs at least one readable training image", "normalize")
    mean = sums / pixels
    std = np.sqrt(np.maximum(squares / pixels - mean * mean, 0.0))
    return [float(m) for m in mean], [float(d) if d > 1e-12 else 1.0 for d in std]


def describe_os_error(exc: OSError, dest: str) -> str:
    where = exc.filename or dest
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"the disk is full (or over quota) while writing the export to {dest}; nothing was written: free some space and try again"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied writing {where}; nothing was written: choose a folder you can write to"
    if exc.errno == errno.EROFS:
        return f"{dest} is on a read-only file system; nothing was written"
    return f"cannot write the export to {dest}: {exc.strerror or exc} ({where}); nothing was written"


# ---- the job ----------------------------------------------------------------------------------------
def export_job(
    project: Project,
    options: ExportOptions,
    destination: str,
    cancel: CancelToken | None = None,
    plan: ExportPlan | None = None,
    workers: int | None = None,
    engine: Engine | str | None = None,
) -> Job[ExportResult]:
    """Export *project* to *destination* with *options*, atomically; returns an :class:`ExportResult`.

    Pass the *plan* a dialog showed (from :func:`plan_export`) to write exactly that; otherwise
    it is made here. Raises :class:`ExportError` (with a message for people) when the export
    cannot be made, and ``Cancelled`` when *cancel* is set; either way DEST is left as it was.

    *engine* ``"ray"`` reads, checks and encodes the images in Ray Data tasks, and Ray workers
    write the image files and shards into the staging folder (which must be on storage every
    node reaches); this process lays them out with the same writers (names, keys, shard
    boundaries, rows), writes the small files, assembles the manifest from the checksums the
    workers return and publishes atomically, so the files are the same bytes as with the local
    engine (see :mod:`~genaug_desktop.core.export.ray_export`). Text samples need no per-sample
    work and are written here either way.
    """
    cancel = cancel or CancelToken()
    eng = as_engine(engine)
    require(eng)
    started = time.monotonic()
    yield Progress(0, None, "Planning the export")
    if plan is None:
        plan = plan_export(project, options, destination)
    dest = check_destination(destination, forbidden_paths(project), plan.options.overwrite)
    opts = plan.options
    if plan.total == 0:
        raise ExportError(
            "nothing to export: no samples match these options (statuses "
            f"{', '.join(opts.statuses) or 'none'}; include the originals or choose other statuses)", "statuses",
        )
    spec = imaging.ImageSpec(opts.image_format, opts.quality, opts.size, opts.resize, opts.color)
    as_array = opts.format == "npz"
    if workers is None:
        # Copying bytes is I/O plus one hash: worker threads only add GIL hand-offs to every
        # system call of the writer (measured slower). Decoding and encoding use the cores.
        converting = plan.modality == "image" and (as_array or any(_converts(s, spec) for s in plan.samples))
        workers = min(4, os.cpu_count() or 1) if converting else 1
    if plan.modality == "image":
        def prepare(s: Sample) -> Payload:
            return prepare_image(s, spec, as_array)
    else:
        def prepare(s: Sample) -> Payload:
            return Payload(text=s.text or "")
    # Decisions and stored provenance are read a chunk at a time, in the order samples are written.
    index = ProvenanceStream(project, [s.candidate_id for s in plan.samples if s.candidate_id is not None])
    label_ids = {label: i for i, label in enumerate(plan.classes)}
    train = [s for s in plan.samples if s.split == opts.train_split] if opts.normalize == "mean/std" else []
    total = len(plan.samples) + len(train)
    throttle = Throttle(0.1)
    staging = Staging(dest, opts.overwrite)
    skipped: list[tuple[str, str]] = []
    written = Written()
    recorder: FileRecorder | None = None
    on_ray = eng.is_ray and plan.modality == "image"
    writes: Any = None  # RayFileWrites: Ray workers write the files (ray_export.py)

    def pipeline(samples: Sequence[Sample]) -> Iterator[tuple[Sample, Payload]]:
        if on_ray:
            from genaug_desktop.core.export.ray_export import ray_pipeline

            return ray_pipeline(samples, spec, as_array, cancel, writes, RAY_CHUNK)
        return _pipeline(samples, prepare, workers, cancel)

    def moments(samples: Sequence[Sample]) -> Iterator[tuple[np.ndarray, np.ndarray, int] | None]:
        from genaug_desktop.core.export.ray_export import pixel_moments, ray_moments

        if on_ray:
            return ray_moments(samples, spec, cancel, RAY_CHUNK)
        return (pixel_moments(p.array) if p.array is not None else None for _s, p in _pipeline(samples, prepare, workers, cancel))

    engine_scope: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if on_ray:
        from genaug_desktop.core.engine.ray_data import RaySession

        yield Progress(0, total, "Starting Ray")
        engine_scope = RaySession(eng, cancel)
    try:
        engine_scope.__enter__()
        staging.open()
        assert staging.path is not None
        if on_ray:
            from genaug_desktop.core.engine.ray_data import RaySession
            from genaug_desktop.core.export.ray_export import DeferredRecorder, RayFileWrites

            writes = RayFileWrites(staging.path, 2 * RaySession.cpus())
            recorder = writes.recorder = DeferredRecorder(staging.path, writes)
        else:
            recorder = FileRecorder(staging.path)
        normalization: dict[str, Any] | None = None
        if as_array:
            normalization = {"method": opts.normalize, "scale": "pixel values / 255" if opts.normalize != "none" else None}
        if train:
            mean, std = yield from _channel_stats(moments(train), len(train), total, throttle)
            assert normalization is not None
            normalization.update(mean=mean, std=std, computed_over=opts.train_split, images=len(train),
                                 formula="(x / 255 - mean[c]) / std[c] (a channel with std 0 keeps std 1)")
        elif as_array and opts.normalize in ("l1", "l2"):
            assert normalization is not None
            normalization["formula"] = f"v / ||v||_{opts.normalize[1]} with v = x / 255 over the whole sample (left as is when 0)"
        elif as_array and opts.normalize == "0-1":
            assert normalization is not None
            normalization["formula"] = "x / 255"
        writer = make_writer(recorder, plan, normalization)
        done = len(train)
        for sample, payload in pipeline(plan.samples):
            done += 1
            if payload.error is not None:
                if opts.strict:
                    raise ExportError(f"{sample.uid}: {payload.error} (strict mode stops at the first unreadable sample)")
                skipped.append((sample.uid, payload.error))
                if hasattr(writer, "skip"):
                    writer.skip(sample)  # type: ignore[attr-defined]
            else:
                rec = _recorded(sample, index)
                row, provenance = _row_and_provenance(sample, label_ids.get(sample.label) if sample.label is not None else None, index, rec)
                writer.add(sample, payload, row, provenance)
                written.add(sample, rec)
            if throttle():
                elapsed = time.monotonic() - started
                rate = (done - len(train)) / elapsed if elapsed > 0 else 0.0
                left = f", about {(total - done) / rate:,.0f} s left" if rate > 0 else ""
                yield Progress(done, total, f"Wrote {done - len(train):,} of {len(plan.samples):,} samples ({rate:,.0f}/s{left})")
        writer.finish()
        if writes is not None:
            recorder.flush()  # type: ignore[attr-defined]
            yield Progress(total, total, "Waiting for the Ray workers to finish writing")
            writes.finish(cancel)
        cancel.raise_if_cancelled()
        if not written:
            raise ExportError("nothing could be exported: every planned sample was unreadable "
                              f"(e.g. {skipped[0][0]}: {skipped[0][1]})" if skipped else "nothing could be exported")
        manifest = _manifest(project, plan, written, skipped, writer.layout(), writer.notes, normalization, recorder)
        listed = (len(recorder.files), recorder.total_bytes)  # what the manifest lists (and verify checks)
        recorder.write_bytes(MANIFEST_NAME, dumps(manifest))
        yield Progress(total, total, "Making the export durable")
        files = sorted(recorder.files)
        staging.publish(files)
    except OSError as exc:
        raise ExportError(describe_os_error(exc, dest)) from None
    finally:
        if writes is not None:
            writes.abort()  # nothing left after a finished export
        if recorder is not None:
            recorder.close_all()
        staging.discard()
        engine_scope.__exit__(None, None, None)
    assert recorder is not None
    result = ExportResult(
        destination=dest, format=opts.format, samples=len(written), counts=written.count_table(plan.splits),
        files=listed[0], bytes=listed[1], seconds=time.monotonic() - started, skipped=skipped,
        warnings=list(plan.warnings), cleaned=staging.cleaned, replaced=staging.replaced,
    )
    yield Progress(total, total, result.summary())
    return result


def _manifest(project: Project, plan: ExportPlan, written: Written, skipped: list[tuple[str, str]],
              layout: dict[str, Any], notes: dict[str, Any], normalization: dict[str, Any] | None,
              recorder: FileRecorder) -> dict[str, Any]:
    from genaug_desktop.core.evaluation import evaluation_for_manifest

    opts = plan.options
    counts = _counts(written, plan)
    image = None
    if plan.modality == "image":
        image = {"format": opts.image_format, "quality": opts.quality, "size": list(opts.size) if opts.size else None,
                 "resize": opts.resize, "color": opts.color,
                 "copied_unchanged": "PNG/JPEG/WebP files whose format and pixels do not change are copied byte for byte"}
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": MANIFEST_KIND,
        "app": {"name": "genaug-desktop", "version": __version__},
        "created_at": _now(),
        "format": opts.format,
        "modality": plan.modality,
        "options": opts.to_json(),
        "project": {"path": project.path, "name": project.name, "schema_version": project.schema_version},
        "source_dataset": {"root": project.dataset_root, "path": project.dataset_path},
        "classes": list(plan.classes),
        "splits": {s: {"ratio": opts.splits[s], "samples": counts["by_split"].get(s, 0)} for s in plan.splits},
        "counts": counts,
        "layout": layout,
        "columns": COLUMNS,
        "image": image,
        "normalization": normalization,
        "policies": _policies(project, written),
        "rules": rules_table(project),
        "generators": _generators(written),
        "dropped": dict(plan.dropped),
        "skipped": [{"uid": u, "reason": r} for u, r in skipped],
        "warnings": list(plan.warnings),
        "notes": notes,
        "evaluation": evaluation_for_manifest(project),
        "files": {rel: {"sha256": sha, "size": size} for rel, (sha, size) in sorted(recorder.files.items())},
    }


def export(project: Project, options: ExportOptions, destination: str) -> ExportResult:
    """Run :func:`export_job` to completion (for scripts and tests)."""
    from genaug_desktop.core.jobs import run_job

    return run_job(export_job(project, options, destination))
