"""The stable public Python API of genaug-desktop: use what was curated in the app from training code.

Nothing here imports Qt or torch (see :mod:`genaug_desktop.torch_data` for the PyTorch side)::

    from genaug_desktop.api import load_policy, apply_policy, open_export, accepted_candidates

    policy = load_policy("flips.json")                  # a path, or a policy dict
    out, chain = apply_policy(policy, pil_image, seed=7)  # PIL in -> PIL out; ndarray -> ndarray; str -> str
    out, chain = policy(array, seed=7)                  # the same for arrays and strings
    out, chain = policy(array, seed=7, label="6")       # steps with a "when" on the label see it

    export = open_export("exports/run1", split="train")  # any export format; verify=True re-checks checksums
    len(export); export.classes; export.format
    for sample in export:                                # dicts: image (PIL) or text, label, label_id,
        ...                                              # split, uid, origin, provenance (dict), row

    for cand in accepted_candidates("my.genaug"):      # dicts: id, image (PIL) or text, label, origin,
        ...                                              # source, round, provenance

Same item + same policy + same seed = the same output, in any process, on any run.
Keys of the sample dicts may be added in later versions, never renamed or removed.
"""

from __future__ import annotations

import csv
import json
import os
import tarfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from genaug_desktop.core.policy import Policy, PolicyError, derive_seed

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "ExportReader", "Policy", "PolicyError", "accepted_candidates", "apply_policy", "derive_seed",
    "load_policy", "open_export", "pil_to_array",
]


# ---- policies ------------------------------------------------------------------------------------
def load_policy(path_or_dict: str | os.PathLike[str] | Mapping[str, Any], check_available: bool = True) -> Policy:
    """A validated :class:`Policy` from a policy file path or an already parsed policy dict.

    Raises :class:`PolicyError` (with the JSON path of the bad field) for an invalid policy.
    Older schema versions are migrated on load.
    """
    if isinstance(path_or_dict, Mapping):
        return Policy.from_json(path_or_dict, check_available)
    return Policy.load(os.fspath(path_or_dict), check_available)


def pil_to_array(img: Image.Image) -> np.ndarray:
    """Pixels of a PIL image as the policies see a decoded file (like ``load_image_array``):
    (H, W) uint8 for greyscale modes, (H, W, 4) when it has alpha, else (H, W, 3) RGB."""
    from genaug_desktop.core.datasets.images import to_display

    mode = img.mode
    if mode in ("1", "L"):
        return np.asarray(img.convert("L")).copy()
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return np.asarray(to_display(img).convert("L")).copy()
    if mode in ("LA", "PA", "RGBA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        return np.asarray(img.convert("RGBA")).copy()
    return np.asarray(img.convert("RGB")).copy()


def _is_pil(x: Any) -> bool:
    mod = type(x).__module__
    if not mod.startswith("PIL."):
        return False
    from PIL import Image

    return isinstance(x, Image.Image)


@overload
def apply_policy(policy: Policy, x: str, seed: int, label: str | None = None) -> tuple[str, list[dict[str, Any]]]: ...
@overload
def apply_policy(
    policy: Policy, x: np.ndarray, seed: int, label: str | None = None,
) -> tuple[np.ndarray, list[dict[str, Any]]]: ...
@overload
def apply_policy(
    policy: Policy, x: Image.Image, seed: int, label: str | None = None,
) -> tuple[Image.Image, list[dict[str, Any]]]: ...
def apply_policy(policy: Policy, x: Any, seed: int, label: str | None = None) -> tuple[Any, list[dict[str, Any]]]:
    """Apply *policy* to one image or text with *seed*; returns ``(output, chain)``.

    ``chain`` lists the ops that fired with their drawn parameters (what goes into provenance),
    and ``{"op": ..., "skipped": "when: ..."}`` for a step whose condition did not hold.
    *label* is the item's label for conditions on it (None: unlabeled; numbers are compared as text).
    A PIL image comes back as a PIL image (mode ``L`` or ``RGB``: alpha is flattened on white,
    as for files), a numpy array as a numpy array (uint8 (H, W) or (H, W, 3)), a string as a string.
    """
    if _is_pil(x):
        from PIL import Image

        out, chain = policy.apply(pil_to_array(x), int(seed), label=label)
        return Image.fromarray(np.ascontiguousarray(out)), chain
    if isinstance(x, np.ndarray) and policy.modality == "image":
        if x.dtype != np.uint8:
            raise TypeError(f"image arrays must be uint8 (H, W) or (H, W, 3), not {x.dtype}")
        return policy.apply(x, int(seed), label=label)
    if isinstance(x, str) and policy.modality == "text":
        return policy.apply(x, int(seed), label=label)
    raise TypeError(f"a {policy.modality} policy cannot apply to {type(x).__name__}")


# ---- exports -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Entry:
    """Where one sample lives: its row (with the provenance parsed) and how to load its content."""

    row: dict[str, Any]
    kind: str  # "file" | "tar" | "npz" | "text"
    ref: Any  # file path | (tar path, offset, size, ext) | (npz path, index) | the text


_CSV_INT_COLUMNS = ("label_id", "candidate_id", "round", "seed")


def _read_jsonl(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _prov(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        return json.loads(value)
    return {}


class ExportReader:
    """Random access and iteration over the samples of an export (every format).

    ``reader[i]`` / ``iter(reader)`` give sample dicts: ``image`` (PIL; a float32 (H, W, C) array
    for npz exports made with normalisation) or ``text``, ``label``, ``label_id`` (None when
    unlabeled), ``split``, ``uid``, ``origin``, ``provenance`` (dict) and ``row`` (every row field).
    ``reader.load_array(i)`` gives the pixels as a uint8 numpy array (H, W) / (H, W, 3) without PIL.
    Only the manifest and the per-sample rows are read when opening; content is read on access.
    A reader can be pickled (e.g. into DataLoader workers); open files are per process.
    """

    def __init__(self, path: str | os.PathLike[str], split: str | None = None, verify: bool = False) -> None:
        from genaug_desktop.core.export import load_manifest

        self.path = os.path.abspath(os.fspath(path))
        if verify:
            from genaug_desktop.core.export import ExportError, verify_export

            report = verify_export(self.path)
            if not report.ok:
                raise ExportError(f"{self.path} failed verification: {report.summary()}")
        self.manifest: dict[str, Any] = load_manifest(self.path)
        self.format: str = self.manifest["format"]
        self.modality: str = self.manifest["modality"]
        self.classes: list[str] = list(self.manifest.get("classes") or [])
        all_splits = list((self.manifest.get("splits") or {}).keys())
        if split is not None and split not in all_splits:
            raise KeyError(f"this export has no split {split!r}; it has {', '.join(all_splits) or 'none'}")
        self.split = split
        self.splits: list[str] = [split] if split is not None else all_splits
        self._entries: list[_Entry] = []
        for s in self.splits:
            self._entries.extend(getattr(self, f"_index_{self.format}")(s))
        self._local = threading.local()

    # -- indexing, one method per format ---------------------------------------------------------
    def _file(self, rel: str) -> str:
        return os.path.join(self.path, *rel.split("/"))

    def _index_imagefolder(self, split: str) -> list[_Entry]:
        meta = ((self.manifest["layout"].get("splits") or {}).get(split) or {}).get("metadata")
        if not meta:
            return []
        out = []
        for row in _read_jsonl(self._file(meta)):
            out.append(_Entry(row, "file", self._file(f"{split}/{row['file_name']}")))
        return out

    def _index_webdataset(self, split: str) -> list[_Entry]:
        out = []
        for shard in (self.manifest["layout"].get("shards") or {}).get(split, []):
            tar_path = self._file(shard["file"])
            members: dict[str, dict[str, Any]] = {}
            order: list[str] = []
            with tarfile.open(tar_path, "r:") as tf:
                for info in tf:
                    if not info.isfile():
                        continue
                    key, _, ext = info.name.partition(".")
                    if key not in members:
                        members[key] = {}
                        order.append(key)
                    if ext == "json":
                        fh = tf.extractfile(info)
                        assert fh is not None
                        members[key]["row"] = json.loads(fh.read().decode("utf-8"))
                    elif ext != "cls":
                        members[key]["data"] = (tar_path, info.offset_data, info.size, "." + ext)
            for key in order:
                m = members[key]
                row = dict(m["row"])
                row.pop("__key__", None)
                row["__key__"] = key
                data = m["data"]
                if self.modality == "text":
                    with open(tar_path, "rb") as fh:
                        fh.seek(data[1])
                        out.append(_Entry(row, "text", fh.read(data[2]).decode("utf-8")))
                else:
                    out.append(_Entry(row, "tar", data))
        return out

    def _index_npz(self, split: str) -> list[_Entry]:
        out = []
        for shard in (self.manifest["layout"].get("shards") or {}).get(split, []):
            arrays = self._file(shard["arrays"])
            for row in _read_jsonl(self._file(shard["rows"])):
                out.append(_Entry(row, "npz", (arrays, int(row["index"]))))
        return out

    def _index_jsonl(self, split: str) -> list[_Entry]:
        rel = (self.manifest["layout"].get("files") or {}).get(split)
        if not rel:
            return []
        return [_Entry(row, "text", row.pop("text")) for row in _read_jsonl(self._file(rel))]

    def _index_csv(self, split: str) -> list[_Entry]:
        rel = (self.manifest["layout"].get("files") or {}).get(split)
        if not rel:
            return []
        out = []
        with open(self._file(rel), encoding="utf-8", newline="") as fh:
            for raw in csv.DictReader(fh):
                row: dict[str, Any] = {k: (None if v == "" else v) for k, v in raw.items()}
                for col in _CSV_INT_COLUMNS:
                    if row.get(col) is not None:
                        row[col] = int(row[col])
                text = row.pop("text")
                out.append(_Entry(row, "text", "" if text is None else text))
        return out

    def _index_txt(self, split: str) -> list[_Entry]:
        meta = (self.manifest["layout"].get("metadata") or {}).get(split)
        if not meta:
            return []
        lines: dict[str, list[str]] = {}
        out = []
        for row in _read_jsonl(self._file(meta)):
            name = row["file_name"]
            if name not in lines:
                with open(self._file(f"{split}/{name}"), encoding="utf-8", newline="") as fh:
                    lines[name] = fh.read().split("\n")
            out.append(_Entry(row, "text", lines[name][int(row["line"]) - 1]))
        return out

    # -- access ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for i in range(len(self._entries)):
            yield self[i]

    def __getitem__(self, i: int) -> dict[str, Any]:
        entry = self._entries[i]
        sample = self.info(i)
        if entry.kind == "text":
            sample["text"] = entry.ref
        else:
            arr = self._pixels(entry)
            if arr.dtype == np.uint8:
                from PIL import Image

                sample["image"] = Image.fromarray(arr[..., 0] if arr.ndim == 3 and arr.shape[2] == 1 else arr)
            else:
                sample["image"] = arr
        return sample

    def info(self, i: int) -> dict[str, Any]:
        """The sample dict of ``reader[i]`` without its content (no file is read)."""
        row = self._entries[i].row
        return {
            "label": row.get("label"), "label_id": row.get("label_id"), "split": row.get("split"),
            "uid": row.get("uid"), "origin": row.get("origin"), "provenance": _prov(row.get("provenance")),
            "row": dict(row),
        }

    def label(self, i: int) -> str | None:
        """The label of sample *i* (None when unlabeled); no file is read."""
        value = self._entries[i].row.get("label")
        return None if value is None or value == "" else str(value)

    def label_id(self, i: int) -> int | None:
        value = self._entries[i].row.get("label_id")
        return None if value is None else int(value)

    def text(self, i: int) -> str:
        entry = self._entries[i]
        if entry.kind != "text":
            raise TypeError(f"this is an {self.modality} export")
        return str(entry.ref)

    def load_array(self, i: int) -> np.ndarray:
        """Pixels of sample *i*: uint8 (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA as stored
        (npz: (H, W, C) as stored, float32 when the export was normalised)."""
        entry = self._entries[i]
        if entry.kind == "text":
            raise TypeError(f"this is a {self.modality} export")
        return self._pixels(entry)

    def _pixels(self, entry: _Entry) -> np.ndarray:
        from genaug_desktop.core.export.imaging import decode

        if entry.kind == "file":
            with open(entry.ref, "rb") as fh:
                return decode(fh.read())
        if entry.kind == "tar":
            path, offset, size, _ext = entry.ref
            with open(path, "rb") as fh:
                fh.seek(offset)
                return decode(fh.read(size))
        path, index = entry.ref
        cache = getattr(self._local, "npz", None)
        if cache is None or cache[0] != path:
            with np.load(path, allow_pickle=False) as data:
                cache = (path, data["images"])
            self._local.npz = cache
        return np.array(cache[1][index])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_local"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"ExportReader({self.path!r}, format={self.format!r}, splits={self.splits}, samples={len(self)})"


def open_export(path: str | os.PathLike[str], split: str | None = None, verify: bool = False) -> ExportReader:
    """Open an export made by genaug-desktop (any format) for reading.

    *split* keeps one split. Nothing is verified unless ``verify=True``, which re-checks every
    checksum in the manifest first (:func:`genaug_desktop.core.export.verify_export`) and raises
    :class:`~genaug_desktop.core.export.ExportError` on a mismatch.
    """
    return ExportReader(path, split=split, verify=verify)


# ---- projects ------------------------------------------------------------------------------------
def accepted_candidates(project_path: str | os.PathLike[str], load: bool = True) -> Iterator[dict[str, Any]]:
    """Iterate a project's accepted candidates in id order.

    Each is a dict: ``id``, ``origin``, ``source`` (item key or None), ``label``, ``round``,
    ``provenance`` (the recorded dict), and ``image`` (PIL; from the blob store) or ``text``.
    ``load=False`` skips reading images (``image`` is then None; ``image_path`` is always there).
    The project is opened for the iteration and closed at its end.
    """
    from genaug_desktop.core.store.project import Project

    project = Project.open(os.fspath(project_path))
    try:
        for c in project.candidates(status="accepted"):
            out: dict[str, Any] = {
                "id": c.id, "origin": c.origin, "source": c.source_item, "label": c.label, "round": c.round,
                "provenance": c.provenance,
            }
            if c.text is not None or project.modality == "text":
                out["text"] = c.text or ""
            else:
                path = project.blob_file(c.blob) if c.blob else None
                out["image_path"] = path
                out["image"] = None
                if load and path is not None:
                    from PIL import Image

                    from genaug_desktop.core.policy import load_image_array

                    out["image"] = Image.fromarray(load_image_array(path))
            yield out
    finally:
        project.close()

