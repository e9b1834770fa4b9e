"""Export options: what goes into an export and how it is written, validated in one place.

The dialog builds an :class:`ExportOptions` from its form, the CLI from its flags; both call
:meth:`ExportOptions.validated` (through :func:`plan_export`), which returns a normalised copy
or raises :class:`ExportError` naming the field at fault.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Union

#: format -> the modalities it can hold
FORMATS: dict[str, tuple[str, ...]] = {
    "imagefolder": ("image",),
    "webdataset": ("image", "text"),
    "npz": ("image",),
    "jsonl": ("text",),
    "csv": ("text",),
    "txt": ("text",),
}
CANDIDATE_STATUSES = ("pending", "accepted", "rejected")
CANDIDATE_ORIGINS = ("augmentation", "generator")
#: "keep" copies PNG/JPEG/WebP bytes as they are and re-encodes anything else as PNG
IMAGE_FORMATS = ("keep", "png", "jpeg", "webp")
COLOR_MODES = ("keep", "rgb", "grey")
RESIZE_MODES = ("stretch", "pad", "crop")
NORMALIZATIONS = ("none", "0-1", "mean/std", "l1", "l2")
_NORMALIZATION_ALIASES = {
    "none": "none", "0-1": "0-1", "01": "0-1", "unit": "0-1", "minmax": "0-1",
    "mean/std": "mean/std", "meanstd": "mean/std", "mean-std": "mean/std", "standard": "mean/std",
    "standardize": "mean/std", "zscore": "mean/std", "l1": "l1", "l2": "l2",
}
DEFAULT_SHARD_SAMPLES = 10_000
#: per format; npz shards are held in memory while they fill, so they are smaller
DEFAULT_SHARD_BYTES = {"webdataset": 1 << 30, "npz": 512 << 20}
MAX_SIDE = 16384
_SPLIT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")

#: None (no balancing), "min" (every class down to the smallest), N (at most N per class),
#: or {label: N} (at most N for the labels named; others untouched)
Balance = Union[None, str, int, Mapping[str, int]]


def formats_for(modality: str) -> list[str]:
    """The export formats that can hold a project of *modality* (for a format picker)."""
    return [fmt for fmt, modalities in FORMATS.items() if modality in modalities]


class ExportError(Exception):
    """An export cannot be planned, written or verified; the message says why, for a person.

    ``field`` names the option at fault (so a form can point at it), or is None.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalize_name(value: str) -> str:
    """The canonical normalisation name for *value* (accepts "L2", "meanstd", "0-1", ...)."""
    key = str(value).strip().lower().replace("_", "-").replace(" ", "")
    if key in _NORMALIZATION_ALIASES:
        return _NORMALIZATION_ALIASES[key]
    raise ExportError(f"unknown normalisation {value!r}; use one of {', '.join(NORMALIZATIONS)}", "normalize")


@dataclass(slots=True)
class ExportOptions:
    """Everything that decides what an export holds and how it is laid out.

    Image options (``image_format``, ``quality``, ``size``, ``resize``, ``color``) apply to
    image projects; ``normalize`` and ``compress`` to npz; ``shard_*`` to webdataset and npz.
    ``quality`` applies only to images that are re-encoded: a PNG/JPEG/WebP file whose pixels
    and format do not change is copied byte for byte.
    """

    format: str = "imagefolder"
    statuses: tuple[str, ...] = ("accepted",)
    origins: tuple[str, ...] = CANDIDATE_ORIGINS
    include_originals: bool = False
    classes: tuple[str, ...] | None = None
    splits: dict[str, float] = field(default_factory=lambda: {"train": 1.0})
    seed: int = 0
    balance: Balance = None
    dedupe: bool = False
    image_format: str = "keep"
    quality: int = 95
    size: tuple[int, int] | None = None  # (width, height)
    resize: str = "stretch"
    color: str = "keep"
    normalize: str = "none"
    shard_samples: int = DEFAULT_SHARD_SAMPLES
    shard_bytes: int | None = None  # None: the format's default
    compress: bool = False
    strict: bool = False
    overwrite: bool = False

    # ---- validation --------------------------------------------------------------------------
    def validated(self, modality: str) -> ExportOptions:
        """A normalised copy for a project of *modality*; raises :class:`ExportError`."""
        fmt = str(self.format).strip().lower()
        if fmt not in FORMATS:
            raise ExportError(f"unknown format {self.format!r}; use one of {', '.join(FORMATS)}", "format")
        if modality not in FORMATS[fmt]:
            fitting = [f for f, mods in FORMATS.items() if modality in mods]
            raise ExportError(
                f"{fmt} holds {' or '.join(FORMATS[fmt])}, but this project holds {modality}; "
                f"use {', '.join(fitting)}", "format",
            )
        statuses = _unique(self.statuses, CANDIDATE_STATUSES, "status", "statuses")
        origins = _unique(self.origins, CANDIDATE_ORIGINS, "origin", "origins")
        if not (statuses and origins) and not self.include_originals:
            raise ExportError("nothing to export: choose at least one status and origin, or include the originals", "statuses")
        classes = None
        if self.classes is not None:
            if isinstance(self.classes, str) or not all(isinstance(c, str) for c in self.classes):
                raise ExportError("classes must be a list of labels", "classes")
            classes = tuple(sorted(set(self.classes)))
            if not classes:
                raise ExportError("the class filter is empty; leave it unset to export every class", "classes")
        splits = _splits(self.splits)
        seed = _int(self.seed, "seed", 0, 2**63 - 1)
        balance = _balance(self.balance)
        out = replace(
            self, format=fmt, statuses=statuses, origins=origins, classes=classes, splits=splits, seed=seed,
            balance=balance, include_originals=bool(self.include_originals), dedupe=bool(self.dedupe),
            compress=bool(self.compress), strict=bool(self.strict), overwrite=bool(self.overwrite),
        )
        image_fmt = str(self.image_format).strip().lower()
        image_fmt = {"jpg": "jpeg"}.get(image_fmt, image_fmt)
        if image_fmt not in IMAGE_FORMATS:
            raise ExportError(f"unknown image format {self.image_format!r}; use one of {', '.join(IMAGE_FORMATS)}", "image_format")
        quality = _int(self.quality, "quality", 1, 100)
        size = _size(self.size)
        resize_mode = str(self.resize).strip().lower()
        if resize_mode not in RESIZE_MODES:
            raise ExportError(f"unknown resize mode {self.resize!r}; use one of {', '.join(RESIZE_MODES)}", "resize")
        color = {"gray": "grey", "l": "grey", "greyscale": "grey", "grayscale": "grey"}.get(
            str(self.color).strip().lower(), str(self.color).strip().lower()
        )
        if color not in COLOR_MODES:
            raise ExportError(f"unknown colour mode {self.color!r}; use one of {', '.join(COLOR_MODES)}", "color")
        norm = normalize_name(self.normalize)
        if modality == "text":
            defaults = ExportOptions()
            for name, value in (("image_format", image_fmt), ("size", size), ("color", color), ("normalize", norm)):
                if value != getattr(defaults, name):
                    raise ExportError(f"{name.replace('_', ' ')} applies to images; this project holds text", name)
        if norm != "none" and fmt != "npz":
            raise ExportError("normalisation applies to npz arrays; choose the npz format or no normalisation", "normalize")
        if fmt == "npz":
            if size is None:
                raise ExportError(
                    "npz stacks images into arrays, so every image needs the same size: set a size (e.g. 64 or 64x48)",
                    "size",
                )
            if color == "keep":
                color = "rgb"
        shard_samples = _int(self.shard_samples, "shard_samples", 1, 10**9)
        shard_bytes = self.shard_bytes
        if shard_bytes is not None:
            shard_bytes = _int(shard_bytes, "shard_bytes", 1024, 2**50)
        return replace(
            out, image_format=image_fmt, quality=quality, size=size, resize=resize_mode, color=color,
            normalize=norm, shard_samples=shard_samples, shard_bytes=shard_bytes,
        )

    @property
    def effective_shard_bytes(self) -> int:
        if self.shard_bytes is not None:
            return self.shard_bytes
        return DEFAULT_SHARD_BYTES.get(self.format, 1 << 30)

    @property
    def train_split(self) -> str:
        """The split that statistics (mean/std) are computed over: "train", else the first."""
        return "train" if "train" in self.splits else next(iter(self.splits))

    # ---- (de)serialisation -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["statuses"] = list(self.statuses)
        out["origins"] = list(self.origins)
        out["classes"] = list(self.classes) if self.classes is not None else None
        out["size"] = list(self.size) if self.size is not None else None
        out["balance"] = dict(self.balance) if isinstance(self.balance, Mapping) else self.balance
        if self.format in DEFAULT_SHARD_BYTES:
            out["effective_shard_bytes"] = self.effective_shard_bytes
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExportOptions:
        """Options from :meth:`to_json` (unknown keys are ignored, so newer files still load)."""
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        for key in ("statuses", "origins", "classes", "size"):
            if isinstance(kwargs.get(key), list):
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)


# ---- helpers ---------------------------------------------------------------------------------------
def _unique(values: Any, allowed: tuple[str, ...], what: str, field_name: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    out = []
    for v in values:
        v = str(v).strip().lower()
        if v not in allowed:
            raise ExportError(f"unknown {what} {v!r}; use {', '.join(allowed)}", field_name)
        if v not in out:
            out.append(v)
    return tuple(v for v in allowed if v in out)


def _int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ExportError(f"{name.replace('_', ' ')} must be a whole number, not {value!r}", name)
    if not lo <= value <= hi:
        raise ExportError(f"{name.replace('_', ' ')} must be between {lo:,} and {hi:,}, not {value:,}", name)
    return int(value)


def _size(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ExportError(f"size must be a side length or (width, height), not {value!r}", "size")
    w, h = (_int(v, "size", 1, MAX_SIDE) for v in value)
    return (w, h)


def _splits(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value:
        raise ExportError("splits must name at least one split with its share, e.g. train=0.8,val=0.2", "splits")
    out: dict[str, float] = {}
    seen: set[str] = set()
    for name, ratio in value.items():
        if not isinstance(name, str) or not _SPLIT_NAME.match(name):
            raise ExportError(
                f"split name {name!r} must start with a letter and hold only letters, digits and _ (at most 32)", "splits"
            )
        if name.lower() in seen:
            raise ExportError(f"split {name!r} is named twice (names are compared ignoring case)", "splits")
        seen.add(name.lower())
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not math.isfinite(ratio) or ratio <= 0:
            raise ExportError(f"the share of split {name!r} must be a number above 0, not {ratio!r}", "splits")
        out[name] = float(ratio)
    total = sum(out.values())
    if abs(total - 100.0) < 1e-6:  # percentages (also a single train=100)
        out = {k: v / 100.0 for k, v in out.items()}
        total = 1.0
    if abs(total - 1.0) > 1e-6:
        raise ExportError(f"the split shares add up to {total:g}; they must add up to 1 (or 100)", "splits")
    return {k: v / total for k, v in out.items()}


def _balance(value: Any) -> Balance:
    if value is None or value is False:
        return None
    if isinstance(value, str):
        if value.strip().lower() == "min":
            return "min"
        raise ExportError(f"balance must be 'min', a count per class, or label=count pairs, not {value!r}", "balance")
    if isinstance(value, int) and not isinstance(value, bool):
        return _int(value, "balance", 1, 2**62)
    if isinstance(value, Mapping):
        if not value:
            raise ExportError("the balance targets are empty", "balance")
        out = {}
        for label, n in value.items():
            if not isinstance(label, str):
                raise ExportError(f"balance targets are label=count pairs; {label!r} is not a label", "balance")
            out[label] = _int(n, "balance", 0, 2**62)
        return dict(sorted(out.items()))
    raise ExportError(f"balance must be 'min', a count per class, or label=count pairs, not {value!r}", "balance")
