"""What an export will hold, decided before anything is written.

:func:`plan_export` selects the samples (candidates by status and origin, optionally the
originals), puts each in a split, drops duplicates and balances classes if asked, and returns
an :class:`ExportPlan` whose counts a dialog can show per split, class and origin.

Splits never leak: the split is decided per *source item*, stratified by class and seeded, and
a synthetic sample always lands in its source item's split. Items with identical content
(same SHA-256) share a split. Candidates without a source item (generator samples) are split
by a seeded hash, stratified by class.
"""

from __future__ import annotations

import hashlib
import math
import os
import posixpath
import shutil
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from genaug_desktop.core.datasets.model import Item
from genaug_desktop.core.formatting import plural
from genaug_desktop.core.export.imaging import pillow_color, pillow_format
from genaug_desktop.core.export.options import ExportError, ExportOptions
from genaug_desktop.core.export.publish import check_destination
from genaug_desktop.core.jobs import CancelToken, Job, Progress
from genaug_desktop.core.store.project import Candidate, Project

ORIGINS = ("original", "augmentation", "generator")
_ORIGIN_RANK = {o: i for i, o in enumerate(ORIGINS)}
_BLOB_EXTENSIONS = (".png", ".jpg", ".webp")
UNLABELED = ""  # the key of unlabeled samples in count tables (as in ``genaug status``)


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample of the export, before it is read or written."""

    uid: str  # "item:KEY" for an original, "cand:ID" for a candidate
    origin: str  # "original" | "augmentation" | "generator"
    label: str | None
    split: str
    source: str | None  # the source item's key
    candidate_id: int | None = None
    status: str | None = None  # the candidate's status; None for originals
    path: str | None = None  # the file to read: the source image or the blob
    sha256: str | None = None  # expected SHA-256 of that file (or of the text)
    text: str | None = None
    fmt: str | None = None  # "png", "jpeg", ... when known from the scan
    color: str = "unknown"  # "rgb", "grey", "rgba", ... when known from the scan
    size: tuple[int, int] | None = None  # (width, height) when known
    name: str = ""  # readable base name for files (not yet sanitised)
    round: int | None = None
    rule_id: str | None = None
    reason: str | None = None
    # The candidate's stored provenance. None: not held here (a plan of a million samples would
    # hold a million dicts); the export reads it from the project a chunk at a time, in plan
    # order (see ProvenanceStream). Originals have none: {} in the export.
    recorded: dict[str, Any] | None = None
    nbytes: int = 0  # size of the file to read


@dataclass(slots=True)
class ExportPlan:
    """The samples an export will write, in order, and their counts."""

    options: ExportOptions
    modality: str
    project_path: str
    dataset_root: str
    destination: str | None
    classes: list[str]
    samples: list[Sample]
    dropped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.samples)

    @property
    def splits(self) -> list[str]:
        return list(self.options.splits)

    def counts(self) -> dict[str, dict[str, dict[str, int]]]:
        """split -> class ("" for unlabeled) -> origin -> count (every split present)."""
        return count_samples(self.samples, self.splits)

    def by_split(self) -> dict[str, int]:
        out = {s: 0 for s in self.splits}
        for s in self.samples:
            out[s.split] += 1
        return out

    def by_class(self) -> dict[str, int]:
        return dict(sorted(Counter(s.label if s.label is not None else UNLABELED for s in self.samples).items()))

    def by_origin(self) -> dict[str, int]:
        counts = Counter(s.origin for s in self.samples)
        return {o: counts.get(o, 0) for o in ORIGINS}

    def table(self) -> list[dict[str, Any]]:
        """Rows for a counts table: split, class, one column per origin, total."""
        rows = []
        for split, classes in self.counts().items():
            for label, origins in classes.items():
                rows.append({"split": split, "class": label, **origins, "total": sum(origins.values())})
        return rows

    @property
    def estimated_bytes(self) -> int:
        """A rough size of the export (exact for copied files; re-encoding changes it)."""
        opts = self.options
        if opts.format == "npz" and opts.size is not None:
            channels = 1 if opts.color == "grey" else 3
            per = opts.size[0] * opts.size[1] * channels * (1 if opts.normalize == "none" else 4)
            return per * self.total
        if self.modality == "text":
            return sum(len((s.text or "").encode("utf-8")) + 600 for s in self.samples)
        return sum(s.nbytes + 1200 for s in self.samples)

    def summary(self) -> str:
        splits = ", ".join(f"{k} {v:,}" for k, v in self.by_split().items())
        origins = ", ".join(f"{k} {v:,}" for k, v in self.by_origin().items() if v)
        text = f"{self.total:,} samples ({splits}; {origins or 'none'}) in {plural(len(self.by_class()), 'class')} as {self.options.format}"
        if self.dropped:
            text += "; left out: " + ", ".join(f"{n:,} {why}" for why, n in sorted(self.dropped.items()))
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.options.format, "total": self.total, "destination": self.destination,
            "by_split": self.by_split(), "by_class": self.by_class(), "by_origin": self.by_origin(),
            "counts": self.counts(), "dropped": dict(self.dropped), "warnings": list(self.warnings),
            "classes": list(self.classes), "estimated_bytes": self.estimated_bytes,
        }


def count_samples(samples: Iterable[Any], splits: Sequence[str]) -> dict[str, dict[str, dict[str, int]]]:
    out: dict[str, dict[str, dict[str, int]]] = {s: {} for s in splits}
    for s in samples:
        label = s.label if s.label is not None else UNLABELED
        row = out.setdefault(s.split, {}).setdefault(label, {o: 0 for o in ORIGINS})
        row[s.origin] += 1
    return {split: dict(sorted(classes.items())) for split, classes in out.items()}


# ---- splitting ---------------------------------------------------------------------------------
def rank(seed: int, kind: str, key: str) -> bytes:
    """A seeded pseudo-random sort key, stable across processes, platforms and Python versions."""
    return hashlib.sha256(f"{int(seed)}\x00{kind}\x00{key}".encode("utf-8", "surrogatepass")).digest()[:12]


def apportion(n: int, weights: Sequence[float], tie: Sequence[Any] | None = None) -> list[int]:
    """Split *n* into whole parts proportional to *weights* (largest remainder). Equal
    remainders go by *tie* (one sort key per part), else to the first part."""
    total = float(sum(weights))
    if n <= 0 or total <= 0:
        return [0] * len(weights)
    exact = [n * w / total for w in weights]
    parts = [int(math.floor(e + 1e-9)) for e in exact]
    left = n - sum(parts)
    ties = list(tie) if tie is not None else list(range(len(weights)))
    order = sorted(range(len(weights)), key=lambda i: (-round(exact[i] - parts[i], 9), ties[i], i))
    for i in order[: max(0, left)]:
        parts[i] += 1
    return parts


def _stratified(units: dict[str | None, list[str]], splits: Sequence[str], ratios: Sequence[float], seed: int, kind: str) -> dict[str, str]:
    """unit -> split, per stratum: seeded order, cut by the ratios (largest remainder)."""
    out: dict[str, str] = {}
    for label in sorted(units, key=lambda x: (x is None, x or "")):
        ordered = sorted(units[label], key=lambda u: rank(seed, kind, u))
        # Seeded tie-breaks: many small classes must not all round toward the first split.
        tie = [rank(seed, f"tie\x00{kind}\x00{label}", split) for split in splits]
        start = 0
        for split, n in zip(splits, apportion(len(ordered), ratios, tie)):
            for unit in ordered[start : start + n]:
                out[unit] = split
            start += n
    return out


@dataclass(frozen=True, slots=True)
class ItemRef:
    """What a plan keeps of an item: its key, content hash, label and path."""

    key: str
    sha256: str
    label: str | None
    path: str


def assign_item_splits(items: Iterable[Item | ItemRef], splits: Sequence[str], ratios: Sequence[float], seed: int) -> dict[str, str]:
    """item key -> split, stratified by class and seeded; identical content shares a split."""
    groups: dict[str, list[Item | ItemRef]] = defaultdict(list)
    for item in items:
        groups[item.sha256].append(item)
    strata: dict[str | None, list[str]] = defaultdict(list)
    for sha, members in groups.items():
        labels = Counter(m.label for m in members)
        label = min(labels, key=lambda lab: (-labels[lab], lab is None, lab or ""))
        strata[label].append(sha)
    by_sha = _stratified(strata, splits, ratios, seed, "item")
    return {m.key: by_sha[sha] for sha, members in groups.items() for m in members}


def assign_free_splits(samples: Sequence[Sample], splits: Sequence[str], ratios: Sequence[float], seed: int) -> list[Sample]:
    """Splits for samples with no source item: seeded hash of their content, stratified by class."""
    strata: dict[str | None, list[str]] = defaultdict(list)
    unit_of: dict[str, str] = {}
    seen: set[str] = set()
    for s in samples:
        unit = s.sha256 or s.uid  # identical content shares a split
        if unit not in seen:
            seen.add(unit)
            strata[s.label].append(unit)
        unit_of[s.uid] = unit
    by_unit = _stratified(strata, splits, ratios, seed, "free")
    return [replace(s, split=by_unit[unit_of[s.uid]]) for s in samples]


# ---- selection ---------------------------------------------------------------------------------
def forbidden_paths(project: Project) -> list[tuple[str, str]]:
    dataset = project.dataset_path
    return [(dataset, "source dataset"), (project.path, "project")]


def _stem(path: str) -> str:
    return posixpath.splitext(posixpath.basename(path.replace("\\", "/")))[0] or "item"


def _blob(project: Project, sha: str) -> tuple[str, int] | None:
    for ext in _BLOB_EXTENSIONS:
        path = project.blob_file(sha, ext)
        try:
            return path, os.stat(path).st_size
        except OSError:
            continue
    return None


def _original(project: Project, item: Item) -> Sample | str:
    base = dict(uid=f"item:{item.key}", origin="original", label=item.label, split="", source=item.key, sha256=item.sha256)
    if item.modality == "text":
        line = f"-{item.line}" if item.line is not None else ""
        return Sample(**base, text=item.text or "", name=f"{_stem(item.path)}{line}")
    path = project.source_path(item)
    try:
        nbytes = os.stat(path).st_size
    except OSError:
        return "originals whose source file is missing"
    size = (item.width, item.height) if item.width and item.height else None
    return Sample(
        **base, path=path, fmt=pillow_format(item.format), color=pillow_color(item.mode), size=size,
        name=_stem(item.path), nbytes=nbytes,
    )


#: candidates read per query while planning (keyset pages: the plan never holds every row twice)
CANDIDATE_BATCH = 5000


def iter_candidate_rows(project: Project, status: str, origin: str, batch: int = CANDIDATE_BATCH) -> Iterator[Candidate]:
    """Candidates with *status* and *origin*, by id, read *batch* rows at a time, without their
    provenance (``provenance`` is left empty: the export reads it when it writes the sample).
    Repeated strings (status, origin, label) are shared, not one copy per row."""
    last = 0
    intern = sys.intern
    while True:
        rows = project.query(
            "SELECT c.id, c.origin, i.key, c.label, c.status, c.reason, c.blob, c.text, c.round, c.rule_id"
            " FROM candidates c LEFT JOIN items i ON i.id = c.source_item"
            " WHERE c.status = ? AND c.origin = ? AND c.id > ? ORDER BY c.id LIMIT ?",
            (status, origin, last, int(batch)),
        )
        if not rows:
            return
        for r in rows:
            label = intern(r[3]) if isinstance(r[3], str) else r[3]
            yield Candidate(r[0], intern(r[1]), r[2], label, intern(r[4]), r[5], r[6], r[7], {}, r[8], r[9])
        last = rows[-1][0]


def _candidate(project: Project, c: Candidate, modality: str, items: dict[str, ItemRef]) -> Sample | str:
    source_item = items.get(c.source_item) if c.source_item else None
    if c.origin == "generator":
        name = f"gen_r{c.round}_{c.id}" if c.round is not None else f"gen_{c.id}"
    else:
        name = f"{_stem(source_item.path) if source_item else 'aug'}_aug{c.id}"
    base = dict(
        uid=f"cand:{c.id}", origin=c.origin, label=c.label, split="", source=c.source_item, candidate_id=c.id,
        status=c.status, name=name, round=c.round, rule_id=c.rule_id, reason=c.reason,
    )
    if modality == "text":
        if c.text is None:
            return "candidates without text"
        digest = hashlib.sha256(c.text.encode("utf-8", "surrogatepass")).hexdigest()
        return Sample(**base, text=c.text, sha256=digest)
    if not c.blob:
        return "candidates without an image"
    found = _blob(project, c.blob)
    if found is None:
        return "candidates whose image blob is missing"
    return Sample(**base, path=found[0], sha256=c.blob, nbytes=found[1])


def normalized_text(text: str) -> str:
    """What text de-duplication compares: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _order_key(s: Sample) -> tuple[Any, ...]:
    return (_ORIGIN_RANK[s.origin], s.candidate_id if s.candidate_id is not None else -1, s.uid)


def _dedupe(samples: list[Sample], modality: str, splits: Sequence[str]) -> tuple[list[Sample], int]:
    """Keep the first of each duplicate: originals before augmentations before generator
    samples, then by split order, then oldest first."""
    split_index = {s: i for i, s in enumerate(splits)}
    seen: set[str] = set()
    keep: set[str] = set()
    for s in sorted(samples, key=lambda s: (_ORIGIN_RANK[s.origin], split_index[s.split], _order_key(s))):
        key = normalized_text(s.text or "") if modality == "text" else (s.sha256 or s.uid)
        if key in seen:
            continue
        seen.add(key)
        keep.add(s.uid)
    kept = [s for s in samples if s.uid in keep]
    return kept, len(samples) - len(kept)


def _balance(samples: list[Sample], balance: Any, splits: Sequence[str], seed: int) -> tuple[list[Sample], int]:
    """At most a target number per class (capped by what exists); originals are kept first,
    then augmentations, then generator samples; each split keeps its share."""
    by_class: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        if s.label is not None:
            by_class[s.label].append(s)
    if not by_class:
        return samples, 0
    if balance == "min":
        smallest = min(len(v) for v in by_class.values())
        targets: dict[str, int | None] = {label: smallest for label in by_class}
    elif isinstance(balance, int):
        targets = {label: balance for label in by_class}
    else:
        targets = {label: balance.get(label) for label in by_class}
    drop: set[str] = set()
    for label, group in by_class.items():
        target = targets[label]
        if target is None or target >= len(group):
            continue
        per_split = {sp: sorted((s for s in group if s.split == sp), key=lambda s: (_ORIGIN_RANK[s.origin], rank(seed, "balance", s.uid))) for sp in splits}
        quotas = apportion(target, [len(per_split[sp]) for sp in splits])
        for sp, quota in zip(splits, quotas):
            drop.update(s.uid for s in per_split[sp][quota:])
    return [s for s in samples if s.uid not in drop], len(drop)


def project_classes(project: Project) -> list[str]:
    rows = project.query(
        "SELECT label FROM items WHERE label IS NOT NULL UNION SELECT label FROM candidates WHERE label IS NOT NULL"
    )
    return sorted({str(r[0]) for r in rows})


def plan_export(project: Project, options: ExportOptions, destination: str | None = None) -> ExportPlan:
    """Decide what an export of *project* with *options* holds; nothing is written.

    With *destination*, also check that the export may go there (raises :class:`ExportError`).
    """
    opts = options.validated(project.modality)
    dest = check_destination(destination, forbidden_paths(project), opts.overwrite) if destination is not None else None
    modality = project.modality
    splits = list(opts.splits)
    ratios = [opts.splits[s] for s in splits]
    # What splitting and naming need of every item (not its text): the items are read again,
    # one batch at a time, only when the originals are exported.
    items = [ItemRef(i.key, i.sha256, sys.intern(i.label) if i.label is not None else None, sys.intern(i.path))
             for i in project.iter_items()]
    item_by_key = {i.key: i for i in items}
    item_split = assign_item_splits(items, splits, ratios, opts.seed)
    del items
    wanted = set(opts.classes) if opts.classes is not None else None
    dropped: Counter[str] = Counter()
    samples: list[Sample] = []
    if opts.include_originals:
        for item in project.iter_items():
            if wanted is not None and item.label not in wanted:
                continue
            if item.key not in item_split:  # added by a scan while this plan was made
                dropped["originals added while planning"] += 1
                continue
            made = _original(project, item)
            if isinstance(made, str):
                dropped[made] += 1
            else:
                samples.append(replace(made, split=item_split[item.key]))
    free: list[Sample] = []
    for status in opts.statuses:
        for origin in opts.origins:
            for c in iter_candidate_rows(project, status, origin):
                if wanted is not None and c.label not in wanted:
                    continue
                made = _candidate(project, c, modality, item_by_key)
                if isinstance(made, str):
                    dropped[made] += 1
                elif c.source_item is not None and c.source_item in item_split:
                    samples.append(replace(made, split=item_split[c.source_item]))
                else:
                    free.append(made)
    samples.extend(assign_free_splits(free, splits, ratios, opts.seed))
    if opts.dedupe:
        samples, n = _dedupe(samples, modality, splits)
        if n:
            dropped["duplicates"] += n
    if opts.balance is not None:
        samples, n = _balance(samples, opts.balance, splits, opts.seed)
        if n:
            dropped["over the class target"] += n
    classes = list(opts.classes) if opts.classes is not None else project_classes(project)
    class_rank = {c: i for i, c in enumerate(classes)}
    split_rank = {s: i for i, s in enumerate(splits)}
    samples.sort(key=lambda s: (split_rank[s.split], s.label is None, class_rank.get(s.label or "", len(classes)), s.label or "", _order_key(s)))
    plan = ExportPlan(opts, modality, project.path, project.dataset_root, dest, classes, samples, dict(sorted(dropped.items())))
    plan.warnings.extend(_warnings(plan, free))
    return plan


def plan_job(
    project: Project, options: ExportOptions, destination: str | None = None, cancel: CancelToken | None = None,
) -> Job[ExportPlan]:
    """:func:`plan_export` as a Job, for a dialog that plans a large project off the GUI thread."""
    yield Progress(0, None, "Counting what the export will hold")
    if cancel is not None:
        cancel.raise_if_cancelled()
    plan = plan_export(project, options, destination)
    yield Progress(1, 1, plan.summary())
    return plan


def _warnings(plan: ExportPlan, free: list[Sample]) -> list[str]:
    out = []
    for why, n in plan.dropped.items():
        if why not in ("duplicates", "over the class target"):
            out.append(f"{n:,} {why} are left out")
    gen_free = sum(1 for s in free if s.origin == "generator")
    if gen_free and len(plan.splits) > 1:
        out.append(
            f"{gen_free:,} generator samples have no source item and were split by a seeded hash; a generator trained "
            "on items of every split can leak evaluation data into them (evaluate on originals only if that matters)"
        )
    if plan.total == 0:
        out.append("nothing to export with these options")
    if plan.destination is not None:
        try:
            free_bytes = shutil.disk_usage(os.path.dirname(plan.destination)).free
        except OSError:
            free_bytes = None
        if free_bytes is not None and plan.estimated_bytes > free_bytes:
            out.append(f"the export needs about {plan.estimated_bytes / 1e6:,.0f} MB, but only {free_bytes / 1e6:,.0f} MB are free")
    return out


def check_plan_destination(project: Project, destination: str, overwrite: bool) -> str:
    """The real path *destination* resolves to, or :class:`ExportError` saying why it is refused
    (for a dialog to validate the folder field as the user types)."""
    return check_destination(destination, forbidden_paths(project), overwrite)


__all__ = [
    "ExportError", "ExportPlan", "Sample", "apportion", "assign_item_splits", "check_plan_destination",
    "normalized_text", "plan_export", "plan_job",
]
