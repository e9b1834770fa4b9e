"""Export on Ray: the workers write the export's files into the staging folder themselves.

Two kinds of Ray task, both pure and idempotent (a retried task writes the same bytes again):

1. :func:`encode_chunk`, through Ray Data in plan order: read, check and convert a chunk of 64
   images (:func:`~genaug_desktop.core.export.job.prepare_image`, as the local engine does) and
   write the results into one *part* file, ``STAGING/.genaug-parts/NNNNNNNN``; return, per
   sample, where its bytes are (:class:`PartRef`) and their extension, or why it was skipped.
2. :func:`write_files`, a Ray task per tar/npz shard (or per group of imagefolder files): write
   each file of the export from its recipe (the driver's bytes, such as tar headers and rows
   with provenance, and the parts' bytes) and return only ``(name, SHA-256, size)``.

The driver runs the same writers as the local engine over those references
(:class:`DeferredRecorder` stands in for the :class:`~genaug_desktop.core.export.files.FileRecorder`):
names (``names.py``), keys, shard boundaries and rows are decided in plan order by the very code
the local engine runs, so the files and checksums are the same bytes. It writes the small
files itself (``metadata.jsonl``, npz rows), assembles ``manifest.json`` from the returned
checksums, removes the parts and publishes the staging folder atomically, as before.

Storage: the staging folder (a sibling of the destination) must be on a file system every Ray
node mounts at the same path, as the project's blobs must (docs/ray.md). Workers never create
folders: the driver makes them, so a worker still running after a cancel cannot recreate a
staging folder that was removed (:meth:`Staging.discard` renames it away first).
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genaug_desktop.core.engine import EngineError
from genaug_desktop.core.export import imaging
from genaug_desktop.core.export.files import FileRecorder, HashingFile, check_relpath
from genaug_desktop.core.export.plan import Sample
from genaug_desktop.core.export.writers import NpzShardSpec, Payload
from genaug_desktop.core.jobs import CancelToken

#: the parts' folder inside the staging folder: hidden, so never one of the export's own names
PARTS_DIR = ".genaug-parts"
#: imagefolder files per write task (one file each would be one Ray task per image)
GROUP_FILES = 256
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True, slots=True)
class PartRef:
    """Bytes a worker wrote into a part file: ``length`` bytes at ``offset`` of ``part``."""

    part: str
    offset: int
    length: int

    def __len__(self) -> int:
        return self.length


@dataclass(frozen=True, slots=True)
class ArrayRef:
    """An image array a worker wrote into a part file, for npz (its bytes, as in memory)."""

    ref: PartRef
    shape: tuple[int, ...]
    dtype: str


@dataclass(slots=True)
class NpzRecipe:
    spec: NpzShardSpec
    arrays: list[ArrayRef]
    labels: list[int]
    uids: list[str]


@dataclass(slots=True)
class Recipe:
    """One file for a worker to write: its pieces in order (bytes or :class:`PartRef`), or an npz shard."""

    rel: str
    pieces: list[Any] | None = None
    npz: NpzRecipe | None = None

    def part_refs(self) -> Iterator[PartRef]:
        if self.npz is not None:
            yield from (a.ref for a in self.npz.arrays)
        else:
            yield from (p for p in self.pieces or () if isinstance(p, PartRef))


# ---- worker side -------------------------------------------------------------------------------------
def encode_chunk(chunk: tuple[int, Sequence[Sample]], spec: imaging.ImageSpec, as_array: bool, root: str) -> list[Payload]:
    """Prepare a chunk of samples and write their bytes (or arrays) into one part file; return
    the payloads with references instead of bytes. Never creates a folder (see the module)."""
    from genaug_desktop.core.export.job import prepare_image

    index, samples = chunk
    name = f"{index:08d}"
    out: list[Payload] = []
    offset = 0
    fd = os.open(os.path.join(root, PARTS_DIR, name), _OPEN_FLAGS, 0o644)
    with os.fdopen(fd, "wb") as fh:
        for sample in samples:
            p = prepare_image(sample, spec, as_array)
            if p.error is not None:
                out.append(p)
                continue
            if p.array is not None:
                arr = np.ascontiguousarray(p.array)
                data: bytes | memoryview = memoryview(arr).cast("B")
                ref = PartRef(name, offset, arr.nbytes)
                out.append(Payload(array=ArrayRef(ref, tuple(arr.shape), arr.dtype.str)))
            else:
                assert p.data is not None
                data = p.data
                out.append(Payload(data=PartRef(name, offset, len(p.data)), ext=p.ext, sha256=p.sha256))
            fh.write(data)
            offset += len(data)
    return out


def pixel_moments(array: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-channel sums of pixel values / 255 and of their squares (float64), and the pixel count."""
    v = array.reshape(-1, array.shape[-1]).astype(np.float64) / 255.0
    return v.sum(axis=0), (v * v).sum(axis=0), v.shape[0]


def chunk_moments(samples: Sequence[Sample], spec: imaging.ImageSpec) -> list[tuple[np.ndarray, np.ndarray, int] | None]:
    """:func:`pixel_moments` of each sample's array (None when unreadable), for mean/std."""
    from genaug_desktop.core.export.job import prepare_image

    out: list[tuple[np.ndarray, np.ndarray, int] | None] = []
    for sample in samples:
        p = prepare_image(sample, spec, True)
        out.append(pixel_moments(p.array) if p.array is not None else None)
    return out


class _Parts:
    """Part files open for reading in one task."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.fds: dict[str, int] = {}

    def read(self, ref: PartRef) -> bytes:
        fd = self.fds.get(ref.part)
        if fd is None:
            check_relpath(ref.part)
            fd = self.fds[ref.part] = os.open(os.path.join(self.root, PARTS_DIR, ref.part), os.O_RDONLY | getattr(os, "O_BINARY", 0))
        data = os.pread(fd, ref.length, ref.offset)
        if len(data) != ref.length:
            raise OSError(f"part {ref.part} is shorter than expected (a worker's output was lost)")
        return data

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


def _write_npz(root: str, rel: str, recipe: NpzRecipe, parts: _Parts) -> tuple[str, int]:
    spec = recipe.spec
    images = spec.empty(len(recipe.arrays))
    for i, a in enumerate(recipe.arrays):
        images[i] = spec.normalize(np.frombuffer(parts.read(a.ref), np.dtype(a.dtype)).reshape(a.shape))
    path = os.path.join(root, *check_relpath(rel))
    spec.save(path, images, recipe.labels, recipe.uids)
    recorder = FileRecorder(root)
    recorder.record(rel)
    return recorder.files[rel]


def write_files(root: str, recipes: list[Recipe]) -> list[tuple[str, str, int]]:
    """Write each recipe's file under *root* (the staging folder); ``(rel, sha256, size)`` each.

    Names are checked again here (safe relative paths only); existing files are replaced, so a
    retried task rewrites what a dead worker began. Folders must exist already."""
    out: list[tuple[str, str, int]] = []
    parts = _Parts(root)
    try:
        for recipe in recipes:
            if recipe.npz is not None:
                sha, size = _write_npz(root, recipe.rel, recipe.npz, parts)
                out.append((recipe.rel, sha, size))
                continue
            with HashingFile(os.path.join(root, *check_relpath(recipe.rel)), replace=True) as fh:
                for piece in recipe.pieces or ():
                    fh.write(parts.read(piece) if isinstance(piece, PartRef) else piece)
            out.append((recipe.rel, fh.hexdigest(), fh.size))
    finally:
        parts.close()
    return out


#: the functions the Ray tasks run (module attributes, so a test can wrap them with a failure)
ENCODE_CHUNK = encode_chunk
WRITE_FILES = write_files


# ---- driver side -------------------------------------------------------------------------------------
class DeferredFile:
    """A data file (tar shard) the driver lays out and a worker writes: its pieces and size."""

    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.pieces: list[Any] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.write_pieces([data])
        return len(data)

    def write_pieces(self, pieces: list[Any]) -> None:
        run: list[bytes] = []
        for piece in pieces:
            self.size += len(piece)
            if isinstance(piece, PartRef):
                if run:
                    self.pieces.append(b"".join(run))
                    run = []
                self.pieces.append(piece)
            else:
                run.append(bytes(piece))
        if run:
            self.pieces.append(b"".join(run))

    def close(self) -> None:
        """Nothing to close: :meth:`DeferredRecorder.close` hands the file to a worker."""


class DeferredRecorder(FileRecorder):
    """A :class:`FileRecorder` whose sample data files are written by Ray workers.

    Files holding samples' bytes (tar shards, npz shards, imagefolder images) become recipes for
    :class:`RayFileWrites`; everything else (``metadata.jsonl``, npz rows, the manifest) is
    written here as with the local engine. Names are checked and folders made here, once."""

    def __init__(self, root: str, writes: RayFileWrites) -> None:
        super().__init__(root)
        self.writes = writes
        self._deferred: set[str] = set()
        self._data_files: dict[str, DeferredFile] = {}
        self._group: list[Recipe] = []

    def _path(self, rel: str) -> str:
        if rel in self._deferred:
            raise ValueError(f"{rel} is written twice")
        return super()._path(rel)

    def _defer(self, recipe: Recipe, alone: bool) -> None:
        self._path(recipe.rel)
        self._deferred.add(recipe.rel)
        if alone:
            self.writes.submit([recipe])
            return
        self._group.append(recipe)
        if len(self._group) >= GROUP_FILES:
            self.flush()

    def write_bytes(self, rel: str, data: Any, sha256: str | None = None) -> str:
        if isinstance(data, PartRef):
            self._defer(Recipe(rel, [data]), alone=False)
            return sha256 or ""
        return super().write_bytes(rel, data, sha256)

    def create_data_file(self, rel: str) -> Any:
        self._path(rel)
        self._deferred.add(rel)
        fh = self._data_files[rel] = DeferredFile(rel)
        return fh

    def close(self, rel: str) -> None:
        fh = self._data_files.pop(rel, None)
        if fh is None:
            super().close(rel)
            return
        self.writes.submit([Recipe(rel, fh.pieces)])

    def defer_npz(self, rel: str, spec: object, refs: list[object], labels: list[int], uids: list[str]) -> None:
        assert isinstance(spec, NpzShardSpec)
        self._defer(Recipe(rel, npz=NpzRecipe(spec, list(refs), list(labels), list(uids))), alone=True)  # type: ignore[arg-type]

    def flush(self) -> None:
        """Hand the files grouped so far to a worker."""
        if self._group:
            group, self._group = self._group, []
            self.writes.submit(group)

    def close_all(self) -> None:
        self._data_files.clear()
        super().close_all()


class RayFileWrites:
    """The driver's side of the write tasks: submits them (at most *max_inflight* at once),
    records the checksums they return into the recorder, and removes each part file once every
    file made from it is written."""

    def __init__(self, root: str, max_inflight: int) -> None:
        import ray

        self.ray = ray
        self.root = root
        self.max_inflight = max(2, max_inflight)
        # Ray retries a task whose worker process or node died (max_retries); an exception raised
        # by the task itself (a full disk) would fail again and is reported at once.
        self.remote = ray.remote(max_retries=3, retry_exceptions=False)(WRITE_FILES)
        self.inflight: dict[Any, tuple[str, Counter[str]]] = {}
        self.refs: Counter[str] = Counter()  # part -> pieces not yet written
        self.consumed: list[str] = []  # parts whose samples the writers have all seen
        self.recorder: DeferredRecorder | None = None
        self.written = 0

    def hold(self, payload: Payload) -> None:
        """A payload's bytes are in a part until the file made from them is written (each
        payload goes into exactly one file)."""
        ref = payload.array.ref if isinstance(payload.array, ArrayRef) else payload.data
        if isinstance(ref, PartRef):
            self.refs[ref.part] += 1

    def submit(self, recipes: list[Recipe]) -> None:
        uses: Counter[str] = Counter(ref.part for r in recipes for ref in r.part_refs())
        self.inflight[self.remote.remote(self.root, recipes)] = (recipes[0].rel, uses)
        while len(self.inflight) > self.max_inflight:
            self.collect(block=True)

    def part_consumed(self, part: str) -> None:
        self.consumed.append(part)
        self._remove_parts()

    def collect(self, block: bool = False, everything: bool = False) -> None:
        """Record the results of finished tasks (wait for one with *block*, for all with *everything*)."""
        if not self.inflight:
            return
        refs = list(self.inflight)
        n = len(refs) if everything else 1
        ready, _ = self.ray.wait(refs, num_returns=n, timeout=None if (block or everything) else 0)
        assert self.recorder is not None
        for ref in ready:
            first, uses = self.inflight.pop(ref)
            try:
                results = self.ray.get(ref)
            except Exception as exc:  # RayTaskError wrapping the worker's exception, WorkerCrashedError...
                from genaug_desktop.core.engine.ray_data import _task_error

                raise EngineError(f"a Ray worker could not write the export ({first}: {_task_error(exc)}); "
                                  "nothing was published") from None
            for rel, sha, size in results:
                self.recorder.files[rel] = (sha, size)
                self.written += 1
            self.refs.subtract(uses)
        self._remove_parts()

    def _remove_parts(self) -> None:
        keep = []
        for part in self.consumed:
            if self.refs[part] > 0:
                keep.append(part)
                continue
            del self.refs[part]
            try:
                os.unlink(os.path.join(self.root, PARTS_DIR, part))
            except FileNotFoundError:
                pass
        self.consumed = keep

    def finish(self, cancel: CancelToken) -> None:
        """Wait for every write (a cancel is honoured between them), then remove the parts' folder."""
        while self.inflight:
            cancel.raise_if_cancelled()
            self.collect(block=True)
        shutil.rmtree(os.path.join(self.root, PARTS_DIR), ignore_errors=True)

    def abort(self) -> None:
        """Stop the writes still running (after a cancel or an error); never raises."""
        for ref in list(self.inflight):
            try:
                self.ray.cancel(ref, force=False)
            except Exception:  # noqa: BLE001 - a task that finished meanwhile, a Ray going down
                pass
        self.inflight.clear()


def ray_pipeline(samples: Sequence[Sample], spec: imaging.ImageSpec, as_array: bool, cancel: CancelToken,
                 writes: RayFileWrites, chunk_size: int) -> Iterator[tuple[Sample, Payload]]:
    """The samples with their payloads (references to parts), in plan order; after each chunk
    the writers have seen, its part may go once its files are written."""
    from genaug_desktop.core.engine.ray_data import ordered_map

    os.makedirs(os.path.join(writes.root, PARTS_DIR), exist_ok=True)
    chunks = [(i // chunk_size, samples[i : i + chunk_size]) for i in range(0, len(samples), chunk_size)]
    kwargs = {"spec": spec, "as_array": as_array, "root": writes.root}
    for i, payloads in ordered_map(ENCODE_CHUNK, chunks, kwargs, cancel):
        for payload in payloads:
            writes.hold(payload)
        yield from zip(chunks[i][1], payloads)
        writes.part_consumed(f"{i:08d}")
        writes.collect()


def ray_moments(samples: Sequence[Sample], spec: imaging.ImageSpec, cancel: CancelToken,
                chunk_size: int) -> Iterator[tuple[np.ndarray, np.ndarray, int] | None]:
    """:func:`pixel_moments` of every sample in order, computed by Ray Data tasks."""
    from genaug_desktop.core.engine.ray_data import ordered_map

    chunks = [samples[i : i + chunk_size] for i in range(0, len(samples), chunk_size)]
    for _i, moments in ordered_map(chunk_moments, chunks, {"spec": spec}, cancel):
        yield from moments
