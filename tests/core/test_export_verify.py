"""Verification: every checksum in the manifest re-checked; missing, extra and changed files
named; manifest versions (golden v1) and damaged manifests."""

from __future__ import annotations

import json
import os

import pytest

from genaug_desktop.core.export import ExportUnusable, load_manifest, verify_export
from genaug_desktop.core.export.manifest import SCHEMA_VERSION

from .test_export_support import do_export, make_image_project, read_manifest


@pytest.fixture()
def exported(tmp_path):
    p = make_image_project(tmp_path, {"cat": 3, "dog": 2})
    dest = tmp_path / "out"
    do_export(p, dest, format="imagefolder", include_originals=True)
    p.close()
    return dest


def test_a_fresh_export_verifies(exported):
    report = verify_export(str(exported))
    assert report.ok and report.problems() == []
    assert report.checked == len(read_manifest(exported)["files"]) == 11
    assert "all 11 files listed in manifest.json match" in report.summary()


def test_a_flipped_byte_is_found_and_named(exported):
    rel = next(r for r in read_manifest(exported)["files"] if r.endswith(".png"))
    path = exported / rel
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify_export(str(exported))
    assert not report.ok
    assert report.mismatched == [(rel, "SHA-256 differs from the manifest (the content changed)")]
    assert report.problems() == [f"mismatch: {rel}: SHA-256 differs from the manifest (the content changed)"]


def test_a_deleted_a_truncated_and_an_extra_file_are_named(exported):
    files = sorted(read_manifest(exported)["files"])
    (exported / files[0]).unlink()
    with open(exported / files[1], "r+b") as fh:
        fh.truncate(10)
    (exported / "train" / "cat" / "intruder.png").write_bytes(b"x")
    os.symlink("/etc/passwd", exported / "train" / "link")
    report = verify_export(str(exported))
    assert report.missing == [files[0]]
    assert report.mismatched[0][0] == files[1] and "size 10 bytes" in report.mismatched[0][1]
    assert report.extra == ["train/cat/intruder.png", "train/link"]
    assert len(report.problems()) == 4
    assert report.to_json()["ok"] is False


def test_a_changed_metadata_file_is_found(exported):
    meta = exported / "train" / "metadata.jsonl"
    meta.write_text(meta.read_text("utf-8").replace('"cat"', '"dog"', 1), "utf-8")
    assert [m[0] for m in verify_export(str(exported)).mismatched] == ["train/metadata.jsonl"]


def test_a_damaged_manifest_fails_verification(exported):
    (exported / "manifest.json").write_bytes(b'{"schema_version": 1, "kind": "genaug-exp')
    report = verify_export(str(exported))
    assert not report.ok and report.damaged_manifest and "not valid JSON" in report.damaged_manifest
    assert report.problems()[0].startswith("damaged: manifest.json")


def test_manifest_paths_that_escape_are_not_followed(exported):
    manifest = read_manifest(exported)
    manifest["files"]["../outside.txt"] = {"sha256": "0" * 64, "size": 1}
    (exported / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    report = verify_export(str(exported))
    assert ("../outside.txt", "unsafe path in the manifest (not checked)") in report.mismatched


def test_unusable_paths_raise(tmp_path, exported):
    with pytest.raises(ExportUnusable, match="does not exist"):
        verify_export(str(tmp_path / "nope"))
    (tmp_path / "plain").mkdir()
    with pytest.raises(ExportUnusable, match="no manifest.json"):
        verify_export(str(tmp_path / "plain"))
    manifest = read_manifest(exported)
    manifest["schema_version"] = SCHEMA_VERSION + 1
    (exported / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(ExportUnusable, match="newer genaug-desktop"):
        verify_export(str(exported))


#: A manifest as version 1 writes it (trimmed): must keep loading in every later version.
GOLDEN_V1 = {
    "schema_version": 1, "kind": "genaug-export", "app": {"name": "genaug-desktop", "version": "0.1.0"},
    "created_at": "2026-01-01T00:00:00.000+00:00", "format": "webdataset", "modality": "image",
    "options": {"format": "webdataset", "statuses": ["accepted"], "splits": {"train": 1.0}, "seed": 0},
    "classes": ["cat"], "splits": {"train": {"ratio": 1.0, "samples": 1}},
    "counts": {"total": 1, "by_split": {"train": 1}, "by_class": {"cat": 1},
               "by_origin": {"original": 0, "augmentation": 1, "generator": 0}},
    "layout": {"kind": "webdataset", "shards": {"train": [{"file": "train-000000.tar", "samples": 1}]}},
    "files": {"train-000000.tar": {"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "size": 0}},
}


def test_golden_v1_manifest_loads_and_verifies(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps(GOLDEN_V1), "utf-8")
    (tmp_path / "train-000000.tar").write_bytes(b"")
    loaded = load_manifest(str(tmp_path))
    assert loaded["schema_version"] == SCHEMA_VERSION
    assert loaded["classes"] == ["cat"]
    assert verify_export(str(tmp_path)).ok
