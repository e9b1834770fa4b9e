"""Builders shared by the export tests: real projects on disk, made through the store's own API.

(No tests here; pytest collects the module and finds none.)
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from genaug_desktop.core.export import ExportOptions, export_job, plan_export
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.policy import encode_png
from genaug_desktop.core.store import Project, init_project_job
from genaug_desktop.core.store.blobs import write_blob

CHECKPOINT = "c" * 64
POLICY = {"schema_version": 1, "modality": "image", "name": "flips", "preprocess": [], "steps": [{"op": "hflip", "p": 0.5, "params": {}}]}
POLICY_SHA = hashlib.sha256(json.dumps(POLICY, sort_keys=True).encode()).hexdigest()


def noise(h: int, w: int, seed: int, channels: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels == 1 else (h, w, channels)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def image_dataset(root: Path, classes: dict[str, int], size: tuple[int, int] = (24, 16), seed: int = 0) -> Path:
    """A class-tree dataset: ``root/LABEL/LABELi.png`` with noise pixels (every file distinct)."""
    n = 0
    for label, count in classes.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            Image.fromarray(noise(size[1], size[0], seed * 100_000 + n)).save(root / label / f"{label}{i}.png")
            n += 1
    return root


def aug_provenance(key: str, sha: str, seed: int) -> dict[str, Any]:
    return {
        "origin": "augmentation", "source": key, "source_sha256": sha, "policy_sha256": POLICY_SHA,
        "policy_name": "flips", "base_seed": 0, "variant": 0, "seed": seed,
        "ops": [{"op": "hflip", "params": {}}, {"op": "rotate", "params": {"angle": 3.25}}], "preprocess": [],
    }


def gen_provenance(seed: int, round_: int) -> dict[str, Any]:
    return {"generator": "tiny_vae", "checkpoint_sha256": CHECKPOINT, "round": round_, "seed": seed,
            "sampling": {"temperature": 0.8}}


def make_image_project(
    tmp_path: Path, classes: dict[str, int] | None = None, aug_per_item: int = 1, generated: dict[str, int] | None = None,
    size: tuple[int, int] = (24, 16), name: str = "p.genaug",
) -> Project:
    """A project over a fresh class-tree dataset with accepted augmentation candidates (one
    blob each) and accepted generator candidates (no source). Policy and a rule are recorded."""
    classes = classes if classes is not None else {"cat": 6, "dog": 4}
    data = image_dataset(tmp_path / "data", classes, size)
    project = run_job(init_project_job(str(tmp_path / name), str(data)))
    project.record_policy(POLICY_SHA, POLICY)
    rows: list[dict[str, Any]] = []
    n = 0
    for item in project.items():
        for _ in range(aug_per_item):
            n += 1
            sha = write_blob(project.blobs_dir, encode_png(noise(size[1], size[0], 10_000 + n)), fsync=False)
            rows.append({"origin": "augmentation", "source": item.key, "label": item.label, "blob": sha,
                         "provenance": aug_provenance(item.key, item.sha256, 1000 + n)})
    for label, count in (generated or {}).items():
        for _ in range(count):
            n += 1
            sha = write_blob(project.blobs_dir, encode_png(noise(size[1], size[0], 10_000 + n)), fsync=False)
            rows.append({"origin": "generator", "source": None, "label": label, "blob": sha, "round": 1,
                         "provenance": gen_provenance(n, 1)})
    ids = project.add_candidates(rows)
    if ids:
        project.decide(ids, "accepted")
    with project.transaction() as db:
        db.execute("INSERT INTO rules(id, kind, state, params, explanation) VALUES ('dark', 'image.exposure', 'approved', ?, 'too dark')",
                   (json.dumps({"min_mean": 10}),))
    return project


def make_text_project(tmp_path: Path, texts: Sequence[tuple[str, str]], name: str = "t.genaug") -> Project:
    """A project over a JSONL dataset of (text, label)."""
    path = tmp_path / "texts.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for text, label in texts:
            fh.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")
    return run_job(init_project_job(str(tmp_path / name), str(path)))


def add_text_candidates(project: Project, rows: Sequence[tuple[str, str | None, str, str]], status: str = "accepted") -> list[int]:
    """rows: (origin, source item key or None, label, text)."""
    made = []
    for i, (origin, source, label, text) in enumerate(rows):
        prov = (aug_provenance(source, "0" * 64, 7 + i) if origin == "augmentation" else gen_provenance(7 + i, 2))
        made.append({"origin": origin, "source": source, "label": label, "text": text, "provenance": prov,
                     "round": None if origin == "augmentation" else 2})
    ids = project.add_candidates(made)
    project.decide(ids, status)
    return ids


def do_export(project: Project, dest: Path | str, **options: Any):
    opts = ExportOptions(**options)
    return run_job(export_job(project, opts, str(dest)))


def plan(project: Project, **options: Any):
    return plan_export(project, ExportOptions(**options))


def read_manifest(dest: Path | str) -> dict[str, Any]:
    with open(os.path.join(dest, "manifest.json"), encoding="utf-8") as fh:
        return json.load(fh)


def tree(root: Path | str) -> list[str]:
    """Every file below *root*, POSIX relative paths."""
    out = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            out.append(os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/"))
    return sorted(out)


def sha256_file(path: Path | str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def assert_manifest_matches_tree(dest: Path | str) -> dict[str, Any]:
    """Independent check: every file on disk is listed with the right hash and size, and vice versa."""
    manifest = read_manifest(dest)
    files = tree(dest)
    assert set(files) - {"manifest.json"} == set(manifest["files"])
    for rel, entry in manifest["files"].items():
        full = os.path.join(dest, *rel.split("/"))
        assert os.path.getsize(full) == entry["size"], rel
        assert sha256_file(full) == entry["sha256"], rel
    return manifest
