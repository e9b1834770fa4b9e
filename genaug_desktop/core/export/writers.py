"""One writer per format. Each receives samples in plan order (split, class, origin, id),
writes through the :class:`FileRecorder` (so every file is hashed as it is written), and
describes its layout for the manifest.

Layouts::

    imagefolder  SPLIT/CLASS/NAME.EXT + SPLIT/metadata.jsonl   (Hugging Face imagefolder)
    webdataset   SPLIT-000000.tar: KEY.png|.jpg|.webp|.txt, KEY.json, KEY.cls   (WebDataset)
    npz          SPLIT-000000.npz (images, labels, uids) + SPLIT-000000.jsonl (rows, same order)
    jsonl / csv  SPLIT.jsonl / SPLIT.csv   (text, row fields, provenance as JSON text)
    txt          SPLIT/CLASS.txt (one sample per line) + SPLIT/metadata.jsonl
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
from typing import Any

import numpy as np

from genaug_desktop.core.export.files import FileRecorder, HashingFile
from genaug_desktop.core.export.names import NameAllocator
from genaug_desktop.core.export.options import ExportOptions
from genaug_desktop.core.export.plan import ExportPlan, Sample

_TAR_BLOCK = 512
_TAR_RECORD = 20 * 512
_TAR_MTIME = 946684800  # 2000-01-01: fixed, so the same export gives the same bytes
_ZEROS = bytes(_TAR_BLOCK)
METADATA_NAME = "metadata.jsonl"
UNLABELED_NAME = "unlabeled"


def _json_line(obj: dict[str, Any]) -> bytes:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (from an undecodable name or a JSON escape): keep it escaped
        return (json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False) + "\n").encode("ascii")


def utf8(text: str) -> bytes:
    """UTF-8 for plain text files; a lone surrogate (which UTF-8 cannot hold) becomes '?'."""
    return text.encode("utf-8", "replace")


def _json_text(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)


class Payload:
    """What a worker prepared for one sample: encoded bytes, an array, text, or why not."""

    __slots__ = ("data", "ext", "sha256", "array", "text", "error")

    def __init__(self, data: bytes | None = None, ext: str | None = None, sha256: str | None = None,
                 array: np.ndarray | None = None, text: str | None = None, error: str | None = None) -> None:
        self.data = data
        self.ext = ext
        self.sha256 = sha256  # of ``data`` when it is known already (copied bytes)
        self.array = array
        self.text = text
        self.error = error


class Writer:
    """Base class: ``add`` each sample in order, then ``finish``; ``layout`` for the manifest."""

    def __init__(self, recorder: FileRecorder, plan: ExportPlan) -> None:
        self.recorder = recorder
        self.plan = plan
        self.options: ExportOptions = plan.options
        self.notes: dict[str, Any] = {}

    def add(self, sample: Sample, payload: Payload, row: dict[str, Any], provenance: dict[str, Any]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Close every open file."""

    def layout(self) -> dict[str, Any]:
        raise NotImplementedError


def class_names(plan: ExportPlan, ext: str = "", reserved: tuple[str, ...] = (METADATA_NAME,)) -> dict[str | None, str]:
    """label -> safe folder (or file) name, the same in every split; collisions resolved in
    class order, the unlabeled last."""
    alloc = NameAllocator(reserved)
    out: dict[str | None, str] = {label: alloc.allocate(label, ext, fallback="class") for label in plan.classes}
    labels = {s.label for s in plan.samples}
    for label in sorted((lab for lab in labels if lab is not None and lab not in out)):
        out[label] = alloc.allocate(label, ext, fallback="class")
    out[None] = alloc.allocate(UNLABELED_NAME, ext)
    return out


class _PerSplitFile:
    """One open file per split (samples arrive split by split)."""

    def __init__(self, recorder: FileRecorder) -> None:
        self.recorder = recorder
        self.rel: str | None = None
        self.fh: HashingFile | None = None

    def get(self, rel: str, header: bytes = b"") -> HashingFile:
        if rel != self.rel:
            self.close()
            self.fh = self.recorder.create(rel)
            self.rel = rel
            if header:
                self.fh.write(header)
        assert self.fh is not None
        return self.fh

    def close(self) -> None:
        if self.rel is not None:
            self.recorder.close(self.rel)
            self.rel, self.fh = None, None


# ---- images ------------------------------------------------------------------------------------
class ImageFolderWriter(Writer):
    """Hugging Face imagefolder: ``SPLIT/CLASS/NAME.EXT`` and ``SPLIT/metadata.jsonl`` whose
    ``file_name`` is relative to the split folder. With a metadata file, ``datasets`` takes
    columns from it (not labels from folder names), so ``label`` is a column too."""

    def __init__(self, recorder: FileRecorder, plan: ExportPlan) -> None:
        super().__init__(recorder, plan)
        self.dirs = class_names(plan)
        self.names: dict[tuple[str, str], NameAllocator] = {}
        self.meta = _PerSplitFile(recorder)
        self.metadata_files: dict[str, str] = {}

    def add(self, sample: Sample, payload: Payload, row: dict[str, Any], provenance: dict[str, Any]) -> None:
        assert payload.data is not None and payload.ext is not None
        folder = self.dirs[sample.label]
        alloc = self.names.setdefault((sample.split, folder), NameAllocator())
        name = alloc.allocate(sample.name, payload.ext, fallback="image")
        self.recorder.write_bytes(f"{sample.split}/{folder}/{name}", payload.data, payload.sha256)
        rel_meta = f"{sample.split}/{METADATA_NAME}"
        self.metadata_files[sample.split] = rel_meta
        line = {"file_name": f"{folder}/{name}", **row, "provenance": _json_text(provenance)}
        self.meta.get(rel_meta).write(_json_line(line))

    def finish(self) -> None:
        self.meta.close()

    def layout(self) -> dict[str, Any]:
        return {
            "kind": "imagefolder",
            "splits": {s: {"folder": s, "metadata": self.metadata_files.get(s)} for s in self.plan.splits},
            "class_folders": {("" if k is None else k): v for k, v in self.dirs.items()},
            "load_with": "datasets.load_dataset('imagefolder', data_dir=EXPORT_DIR)",
        }


class _TarShard:
    def __init__(self, recorder: FileRecorder, rel: str) -> None:
        self.rel = rel
        self.fh = recorder.create_data_file(rel)
        self.samples = 0

    def add_sample(self, members: list[tuple[str, Any]]) -> None:
        """Write one sample's members in a single write (one hash update, one system call)."""
        self.fh.write_pieces(tar_member_pieces(members))
        self.samples += 1

    def close(self, recorder: FileRecorder) -> None:
        self.fh.write(tar_end(self.fh.size))
        recorder.close(self.rel)


def tar_member_pieces(members: list[tuple[str, Any]]) -> list[Any]:
    """The tar bytes of one sample's members: header, data, padding for each. A member's data is
    bytes, or anything with a length standing for bytes written elsewhere (a Ray worker's part)."""
    parts: list[Any] = []
    for name, data in members:
        n = len(data)
        parts.append(ustar_header(name, n))
        parts.append(data)
        pad = -n % _TAR_BLOCK
        if pad:
            parts.append(_ZEROS[:pad])
    return parts


def tar_end(size: int) -> bytes:
    """The end of a tar archive of *size* bytes so far: two zero blocks, then padding to a whole
    record (as ``tarfile`` does)."""
    end = 2 * _TAR_BLOCK
    rest = (size + end) % _TAR_RECORD
    return b"\0" * (end + (_TAR_RECORD - rest if rest else 0))


def ustar_header(name: str, size: int) -> bytes:
    """A POSIX ustar header for a regular file (mode 0644, uid/gid 0, fixed mtime): the bytes
    ``tarfile`` writes for such a member, made without its per-call overhead."""
    raw = name.encode("ascii")
    if len(raw) > 100 or size >= 8**11:
        info = tarfile.TarInfo(name)  # long names or huge files: let tarfile write PAX records
        info.size, info.mtime, info.mode, info.uname, info.gname = size, _TAR_MTIME, 0o644, "", ""
        return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    header = bytearray(_TAR_BLOCK)
    header[0 : len(raw)] = raw
    header[100:108] = b"0000644\0"
    header[108:116] = b"0000000\0"
    header[116:124] = b"0000000\0"
    header[124:136] = b"%011o\0" % size
    header[136:148] = b"%011o\0" % _TAR_MTIME
    header[148:156] = b" " * 8
    header[156:157] = b"0"
    header[257:265] = b"ustar\x0000"
    header[148:155] = b"%06o\0" % sum(header)
    return bytes(header)


def _member_bytes(n: int) -> int:
    return _TAR_BLOCK + n + (-n % _TAR_BLOCK)


class WebDatasetWriter(Writer):
    """WebDataset tar shards ``SPLIT-000000.tar``: per sample ``KEY.EXT`` (image, or ``.txt``),
    ``KEY.json`` (row + provenance) and ``KEY.cls`` (label index, when labelled). A sample is
    never split across shards; a shard closes at ``shard_samples`` samples or before it would
    pass ``shard_bytes``."""

    def __init__(self, recorder: FileRecorder, plan: ExportPlan) -> None:
        super().__init__(recorder, plan)
        self.shard: _TarShard | None = None
        self.shard_split: str | None = None
        self.shards: dict[str, list[dict[str, Any]]] = {s: [] for s in plan.splits}
        self.seq: dict[str, int] = {s: 0 for s in plan.splits}
        self.max_samples = plan.options.shard_samples
        self.max_bytes = plan.options.effective_shard_bytes

    def _rotate(self, split: str) -> _TarShard:
        self._close()
        rel = f"{split}-{len(self.shards[split]):06d}.tar"
        self.shard = _TarShard(self.recorder, rel)
        self.shard_split = split
        self.shards[split].append({"file": rel, "samples": 0})
        return self.shard

    def _close(self) -> None:
        if self.shard is not None:
            self.shard.close(self.recorder)
            self.shards[self.shard_split or ""][-1]["samples"] = self.shard.samples
            self.shard = None

    def add(self, sample: Sample, payload: Payload, row: dict[str, Any], provenance: dict[str, Any]) -> None:
        split = sample.split
        key = f"{split}_{self.seq[split]:08d}"
        self.seq[split] += 1
        if payload.text is not None:
            members = [(f"{key}.txt", utf8(payload.text))]
        else:
            assert payload.data is not None and payload.ext is not None
            members = [(f"{key}{payload.ext}", payload.data)]
        members.append((f"{key}.json", _json_line({"__key__": key, **row, "provenance": provenance})))
        if row.get("label_id") is not None:
            members.append((f"{key}.cls", str(row["label_id"]).encode("ascii")))
        size = sum(_member_bytes(len(d)) for _n, d in members)
        shard = self.shard
        if (
            shard is None or self.shard_split != split or shard.samples >= self.max_samples
            or (shard.samples and shard.fh.size + size + 2 * _TAR_BLOCK > self.max_bytes)
        ):
            shard = self._rotate(split)
        shard.add_sample(members)

    def finish(self) -> None:
        self._close()

    def layout(self) -> dict[str, Any]:
        return {
            "kind": "webdataset",
            "shards": self.shards,
            "members": {"image": ".png|.jpg|.webp", "text": ".txt", "row": ".json", "label_id": ".cls"},
            "load_with": "webdataset.WebDataset(['EXPORT_DIR/train-000000.tar', ...]).decode('pil')",
        }


class NpzShardSpec:
    """What every npz shard of an export shares: the array shape and type, the normalisation,
    the class names and the compression. :meth:`normalize` and :meth:`save` are pure, so the
    local writer and a Ray worker writing a shard make the same bytes."""

    __slots__ = ("height", "width", "channels", "method", "dtype", "mean", "std", "classes", "compress")

    def __init__(self, plan: ExportPlan, normalization: dict[str, Any]) -> None:
        opts = plan.options
        assert opts.size is not None
        self.width, self.height = opts.size
        self.channels = 1 if opts.color == "grey" else 3
        self.method = opts.normalize
        self.dtype = np.uint8 if self.method == "none" else np.float32
        self.mean = self.std = None
        if self.method == "mean/std":
            self.mean = np.asarray(normalization["mean"], np.float32)
            self.std = np.asarray(normalization["std"], np.float32)
        self.classes = list(plan.classes)
        self.compress = opts.compress

    def empty(self, n: int) -> np.ndarray:
        return np.empty((n, self.height, self.width, self.channels), self.dtype)

    def normalize(self, x: np.ndarray) -> np.ndarray:
        if self.method == "none":
            return x
        v = x.astype(np.float32) / np.float32(255.0)
        if self.method == "mean/std":
            return (v - self.mean) / self.std
        if self.method == "l1":
            norm = float(np.abs(v).sum(dtype=np.float64))
        elif self.method == "l2":
            norm = float(np.sqrt(np.square(v, dtype=np.float64).sum()))
        else:  # 0-1
            return v
        return v / np.float32(norm) if norm > 0 else v

    def save(self, path: str, images: np.ndarray, labels: list[int], uids: list[str]) -> None:
        save = np.savez_compressed if self.compress else np.savez
        save(
            path, images=images, labels=np.asarray(labels, np.int64),
            uids=np.asarray(uids, dtype=str), classes=np.asarray(self.classes, dtype=str),
        )


class NpzWriter(Writer):
    """Array shards ``SPLIT-000000.npz`` holding ``images`` (N, H, W, C; uint8, or float32 when
    normalised), ``labels`` (int64, -1 when unlabeled), ``uids`` and ``classes``; the rows with
    provenance are in ``SPLIT-000000.jsonl`` in the same order. Loads with ``allow_pickle=False``.

    A payload's ``array`` is an array, or (on Ray) a reference to one a worker wrote: the shard
    is then handed to :meth:`FileRecorder.defer_npz` and a worker writes it."""

    def __init__(self, recorder: FileRecorder, plan: ExportPlan, normalization: dict[str, Any]) -> None:
        super().__init__(recorder, plan)
        opts = plan.options
        self.spec = NpzShardSpec(plan, normalization)
        self.width, self.height, self.channels = self.spec.width, self.spec.height, self.spec.channels
        self.dtype = self.spec.dtype
        self.normalization = normalization
        per = self.width * self.height * self.channels * np.dtype(self.dtype).itemsize
        self.per_shard = max(1, min(opts.shard_samples, opts.effective_shard_bytes // per))
        self.remaining = plan.by_split()
        self.split: str | None = None
        self.size = 0  # the open shard's capacity
        self.buffer: np.ndarray | None = None
        self.refs: list[Any] = []
        self.labels: list[int] = []
        self.uids: list[str] = []
        self.rows: list[bytes] = []
        self.shards: dict[str, list[dict[str, Any]]] = {s: [] for s in plan.splits}

    def add(self, sample: Sample, payload: Payload, row: dict[str, Any], provenance: dict[str, Any]) -> None:
        assert payload.array is not None
        if self.split != sample.split or (self.size and len(self.labels) >= self.size):
            self._flush()
            self.split = sample.split
        if not self.size:
            self.size = max(1, min(self.per_shard, self.remaining[sample.split]))
        i = len(self.labels)
        if isinstance(payload.array, np.ndarray):
            if self.buffer is None:
                self.buffer = self.spec.empty(self.size)
            self.buffer[i] = self.spec.normalize(payload.array)
        else:
            self.refs.append(payload.array)
        self.labels.append(-1 if row.get("label_id") is None else int(row["label_id"]))
        self.uids.append(sample.uid)
        shard_index = len(self.shards[sample.split])
        self.rows.append(_json_line({**row, "shard": f"{sample.split}-{shard_index:06d}.npz", "index": i,
                                     "provenance": _json_text(provenance)}))
        self.remaining[sample.split] -= 1

    def skip(self, sample: Sample) -> None:
        """A planned sample that could not be read: the shard sizes shrink accordingly."""
        self.remaining[sample.split] -= 1

    def _flush(self) -> None:
        if not self.size or self.split is None:
            return
        n = len(self.labels)
        if n:
            base = f"{self.split}-{len(self.shards[self.split]):06d}"
            if self.refs:
                self.recorder.defer_npz(f"{base}.npz", self.spec, self.refs, self.labels, self.uids)
            else:
                assert self.buffer is not None
                self.spec.save(self.recorder.reserve_path(f"{base}.npz"), self.buffer[:n], self.labels, self.uids)
                self.recorder.record(f"{base}.npz")
            self.recorder.write_bytes(f"{base}.jsonl", b"".join(self.rows))
            self.shards[self.split].append({"arrays": f"{base}.npz", "rows": f"{base}.jsonl", "samples": n})
        self.size, self.buffer, self.refs, self.labels, self.uids, self.rows = 0, None, [], [], [], []

    def finish(self) -> None:
        self._flush()

    def layout(self) -> dict[str, Any]:
        return {
            "kind": "npz",
            "shards": self.shards,
            "arrays": {"images": f"(N, {self.height}, {self.width}, {self.channels}) {np.dtype(self.dtype).name}",
                       "labels": "(N,) int64, -1 when unlabeled", "uids": "(N,) str", "classes": "(K,) str"},
            "load_with": "numpy.load('EXPORT_DIR/train-000000.npz', allow_pickle=False)",
        }


# ---- text --------------------------------------------------------------------------------------
class JsonlWriter(Writer):
    """``SPLIT.jsonl``: one object per sample with ``text``, the row fields and ``provenance``
    (JSON text, so that every line has the same flat schema for Arrow-based loaders)."""

    def __init__(self, recorder: FileRecorder, plan: ExportPlan) -> None:
        super().__init__(recorder, plan)
        self.out = _PerSplitFile(recorder)
        self.files: dict[str, str] = {}

    def add(self, sample: Sample, payload: Payload, row: dict[str, Any], provenance: dict[str, Any]) -> None:
        rel = f"{sample.split}.jsonl"
        self.files[sample.split] = rel
        self.out.get(rel).write(_json_line({"text": payload.text, **row, "provenance": _json_text(provenance)}))

    def finish(self) -> None:
        self.out.close()

    def layout(self) -> dict[str, Any]:
        return {"kind": "jsonl", "files": self.files, "load_with": "datasets.load_dataset('json', data_files={'train': 'EXPORT_DIR/train.jsonl'})"}


class CsvWriter(Writer):
    """``SPLIT.csv`` (UTF-8, RFC 4180 quoting, header row): ``text``, the row fields, ``provenance``."""

    def __init__(self, recorder: FileRecorder, plan: ExportPlan) -> None:
        super().__init__(recorder, plan)
        self.out = _PerSplitFile(recorder)
        self.files: dict[str, str] = {}
        self.columns: list[str] | None = None

    def _line(self, values: list[Any]) -> bytes:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(["" if v is None else v for v in values])
        return utf8(buf.getvalue())

    def add(self, sample: Sample, payload: Payload, row: dict[str, Any], provenance: dict[str, Any]) -> None:
        if self.columns is None:
            self.columns = ["text", *row, "provenance"]
        rel = f"{sample.split}.csv"
        self.files[sample.split] = rel
        fh = self.out.get(rel, header=self._line(list(self.columns)))
        fh.write(self._line([payload.text, *row.values(), _json_text(provenance)]))

    def finish(self) -> None:
        self.out.close()

    def layout(self) -> dict[str, Any]:
        return {"kind": "csv", "files": self.files, "columns": self.columns, "empty_means": "null"}


class TxtWriter(Writer):
    """``SPLIT/CLASS.txt``: one sample per line (line breaks inside a text become spaces), and
    ``SPLIT/metadata.jsonl`` with each line's ``file_name``, ``line`` (1-based) and provenance."""

    def __init__(self, recorder: FileRecorder, plan: ExportPlan) -> None:
        super().__init__(recorder, plan)
        self.files_of = class_names(plan, ".txt")
        self.out = _PerSplitFile(recorder)
        self.meta = _PerSplitFile(recorder)
        self.lines: dict[str, int] = {}
        self.files: dict[str, dict[str, str]] = {s: {} for s in plan.splits}
        self.notes["texts_with_line_breaks_joined"] = 0

    def add(self, sample: Sample, payload: Payload, row: dict[str, Any], provenance: dict[str, Any]) -> None:
        text = payload.text or ""
        one_line = " ".join(text.splitlines())
        if one_line != text:
            self.notes["texts_with_line_breaks_joined"] += 1
        name = self.files_of[sample.label]
        rel = f"{sample.split}/{name}"
        self.files[sample.split]["" if sample.label is None else sample.label] = rel
        self.out.get(rel).write(utf8(one_line + "\n"))
        self.lines[rel] = self.lines.get(rel, 0) + 1
        line = {"file_name": name, "line": self.lines[rel], **row, "provenance": _json_text(provenance)}
        self.meta.get(f"{sample.split}/{METADATA_NAME}").write(_json_line(line))

    def finish(self) -> None:
        self.out.close()
        self.meta.close()

    def layout(self) -> dict[str, Any]:
        return {"kind": "txt", "class_files": self.files, "metadata": {s: f"{s}/{METADATA_NAME}" for s in self.plan.splits if self.files[s]}}


def make_writer(recorder: FileRecorder, plan: ExportPlan, normalization: dict[str, Any] | None) -> Writer:
    fmt = plan.options.format
    if fmt == "imagefolder":
        return ImageFolderWriter(recorder, plan)
    if fmt == "webdataset":
        return WebDatasetWriter(recorder, plan)
    if fmt == "npz":
        return NpzWriter(recorder, plan, normalization or {"method": "none"})
    if fmt == "jsonl":
        return JsonlWriter(recorder, plan)
    if fmt == "csv":
        return CsvWriter(recorder, plan)
    if fmt == "txt":
        return TxtWriter(recorder, plan)
    raise ValueError(f"no writer for {fmt!r}")
