"""``manifest.json``: what an export holds and how to check it.

Schema (version 1; keys may be added, never renamed)::

    {"schema_version": 1, "kind": "genaug-export", "app": {"name", "version"}, "created_at",
     "format", "modality", "options": {...}, "project": {...}, "source_dataset": {...},
     "classes": [LABEL, ...]            # label_id = position
     "splits": {SPLIT: {"ratio", "samples"}},
     "counts": {"total", "by_split", "by_class", "by_origin", "by_split_class_origin"},
     "layout": {...},                   # where each split's files are, per format
     "columns": {...},                  # what the per-sample row fields mean
     "image": {...} | null, "normalization": {...} | null,
     "policies": {SHA256: POLICY_JSON | null}, "rules": [RULE_ROW, ...],
     "generators": [{"name", "checkpoint_sha256", "rounds", "samples"}],
     "dropped": {WHY: N}, "skipped": [{"uid", "reason"}], "warnings": [...],
     "files": {RELATIVE_PATH: {"sha256", "size"}}}   # every file except manifest.json
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from genaug_desktop.core.export.options import ExportError
from genaug_desktop.core.export.publish import MANIFEST_KIND, MANIFEST_NAME

SCHEMA_VERSION = 1
#: schema_version N -> function turning a version-N manifest into version N+1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
_MAX_MANIFEST_BYTES = 1 << 30

#: what each per-sample row field means (in metadata.jsonl, jsonl, csv, and .json in tar shards)
COLUMNS = {
    "uid": "stable sample id: item:KEY for an original, cand:ID for a candidate",
    "label": "class label (null when unlabeled)",
    "label_id": "position of the label in the manifest's classes (null when unlabeled)",
    "split": "the split the sample is in",
    "origin": "original | augmentation | generator",
    "source": "key of the source item (null for generator samples made from no item)",
    "candidate_id": "candidate id in the project (null for originals)",
    "round": "self-training round (generator samples)",
    "seed": "the seed that made the sample",
    "generator": "generator name (generator samples)",
    "checkpoint_sha256": "SHA-256 of the generator checkpoint (generator samples)",
    "policy_sha256": "SHA-256 of the augmentation policy (augmentation samples; policy in the manifest)",
    "decision": "the candidate's status when exported (accepted, pending, rejected)",
    "decided_at": "when that decision was made (UTC, ISO 8601)",
    "provenance": "everything else: op chain with drawn params, rule verdicts, decision history, "
                  "the recorded provenance (a JSON object in .json shard members; JSON text elsewhere)",
}


class ExportUnusable(ExportError):
    """The path is not an export this version can check (missing, no manifest, newer schema)."""


class ManifestDamaged(ExportError):
    """The manifest is there but cannot be read: the export fails verification."""


def dumps(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=False, allow_nan=False) + "\n").encode("utf-8")


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ManifestDamaged(f"{MANIFEST_NAME} has no valid schema_version")
    if version > SCHEMA_VERSION:
        raise ExportUnusable(
            f"this export was made by a newer genaug-desktop (manifest schema {version}; this version reads up to "
            f"{SCHEMA_VERSION}); please upgrade"
        )
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
        data["schema_version"] = version
    return data


def load_manifest(export_dir: str) -> dict[str, Any]:
    """The manifest of *export_dir*, migrated to the current schema.

    Raises :class:`ExportUnusable` when *export_dir* is not an export, and
    :class:`ManifestDamaged` when its manifest cannot be read.
    """
    if not os.path.exists(export_dir):
        raise ExportUnusable(f"{export_dir} does not exist")
    if not os.path.isdir(export_dir):
        raise ExportUnusable(f"{export_dir} is not a folder")
    path = os.path.join(export_dir, MANIFEST_NAME)
    if not os.path.isfile(path):
        raise ExportUnusable(f"{export_dir} has no {MANIFEST_NAME}; it is not an export made by genaug-desktop")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise ExportUnusable(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > _MAX_MANIFEST_BYTES:
        raise ManifestDamaged(f"{MANIFEST_NAME} is over 1 GB; that is not a manifest")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ManifestDamaged(f"{MANIFEST_NAME} is damaged: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != MANIFEST_KIND:
        raise ManifestDamaged(f"{MANIFEST_NAME} is damaged or not a genaug-desktop export manifest")
    data = migrate(data)
    files = data.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("sha256"), str) and isinstance(v.get("size"), int) for v in files.values()
    ):
        raise ManifestDamaged(f"{MANIFEST_NAME} is damaged: its file list is malformed")
    return data
