"""Plain data types for datasets: items, problems, scan options and results."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

Modality = Literal["image", "text"]

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".bmp", ".dib", ".gif", ".tif", ".tiff"}
)
TEXT_EXTENSIONS = frozenset({".txt", ".csv", ".tsv", ".jsonl", ".ndjson"})
#: Files that operating systems and tools drop into folders; never samples, never problems.
IGNORED_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini", ".directory"})

DEFAULT_MAX_PIXELS = 178_956_970  # Pillow's own bomb threshold (2 x MAX_IMAGE_PIXELS)
DEFAULT_MAX_TEXT_CHARS = 1_000_000
DEFAULT_MAX_FILE_BYTES = 2 * 1024**3


def is_utf8(name: str) -> bool:
    """False for a path whose bytes are not UTF-8 (the OS hands them over as lone surrogates);
    the project keeps paths as UTF-8 text, so such a path cannot be stored."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_path(name: str) -> str:
    """*name* with undecodable bytes shown as ``\\xNN``: safe to store, print, show and send as JSON."""
    return name if is_utf8(name) else os.fsencode(name).decode("utf-8", "backslashreplace")


@dataclass(frozen=True, slots=True)
class Item:
    """One sample of a dataset, referenced (never copied) by path and content hash.

    ``key`` is stable and unique within a dataset: the relative POSIX path for images and
    ``"relpath:LINE"`` for a text sample read from a line (or CSV row) of a file.
    """

    key: str
    path: str
    modality: Modality
    label: str | None
    sha256: str
    size: int
    width: int | None = None
    height: int | None = None
    format: str | None = None
    mode: str | None = None
    line: int | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a file (or one line of a file) could not be used."""

    path: str
    reason: str
    line: int | None = None

    def describe(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"path": self.path, "reason": self.reason}
        if self.line is not None:
            out["line"] = self.line
        return out


@dataclass(slots=True)
class ScanOptions:
    """How to read a dataset. Defaults suit most datasets; every field has a CLI flag."""

    text_column: str | None = None
    label_column: str | None = None
    encoding: str | None = None
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    workers: int | None = None  # None: pick from the machine and the dataset size

    def to_json(self) -> dict[str, object]:
        return {
            "text_column": self.text_column,
            "label_column": self.label_column,
            "encoding": self.encoding,
            "max_pixels": self.max_pixels,
            "max_text_chars": self.max_text_chars,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ScanOptions:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)  # type: ignore[arg-type]


@dataclass(slots=True)
class ScanBatch:
    """Partial scan results, delivered as a job's progress payload."""

    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class ScanResult:
    root: str
    modality: Modality
    items: list[Item]
    problems: list[Problem]

    def class_counts(self) -> dict[str, int]:
        counts = Counter(i.label for i in self.items if i.label is not None)
        return dict(sorted(counts.items()))

    def unusable_reason(self, shown: str | None = None) -> str | None:
        """Why this dataset cannot be used (no item could be read), for one line; None when it can.

        *shown* is what the user named (the folder or the single file); the root by default.
        """
        if self.items:
            return None
        where = printable_path(shown or self.root)
        if not self.problems:
            return f"{where}: no images or text files found"
        # The telling example is a problem of a file of the dataset's kind (an unreadable image, a
        # CSV without the named column), not a stray file that was skipped.
        kind = IMAGE_EXTENSIONS if self.modality == "image" else TEXT_EXTENSIONS
        first = next(
            (p for p in self.problems if os.path.splitext(p.path)[1].lower() in kind), self.problems[0]
        )
        if len(self.problems) == 1:
            single_file = os.path.basename(where) == first.path and first.line is None
            detail = first.reason if single_file else first.describe()
            return f"{where}: no usable {self.modality} items: {detail}"
        files = len({p.path for p in self.problems})
        in_files = f" in {files:,} files" if files > 1 else ""
        return (
            f"{where}: no usable {self.modality} items: {len(self.problems):,} problems{in_files} "
            f"(e.g. {first.describe()})"
        )

    def to_json(self) -> dict[str, object]:
        unlabeled = sum(1 for i in self.items if i.label is None)
        return {
            "modality": self.modality,
            "items": len(self.items),
            "classes": self.class_counts(),
            "unlabeled": unlabeled,
            "problems": [p.to_json() for p in self.problems],
            "root": printable_path(self.root),  # JSON output is valid UTF-8 whatever the path
        }


class DatasetError(Exception):
    """The dataset as a whole cannot be used (missing path, not a dataset, unreadable)."""


def check_encoding(name: str | None) -> None:
    """Raise :class:`DatasetError` for an encoding name Python does not know as a text codec."""
    if not name:
        return
    import codecs

    try:
        info = codecs.lookup(name)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise DatasetError(
            f"unknown text encoding '{name}'; name one Python knows, e.g. utf-8, cp1252, latin-1, utf-16"
        )
