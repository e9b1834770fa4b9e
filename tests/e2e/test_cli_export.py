"""``genaug export`` and ``genaug verify`` in a subprocess, on real files: the DESIGN.md contract."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.policy import encode_png
from genaug_desktop.core.store import init_project_job
from genaug_desktop.core.store.blobs import write_blob
from cli_helpers import assert_one_clear_line, genaug


@pytest.fixture()
def project(tmp_path):
    """A class tree of 6 images, and one accepted augmented candidate per image."""
    rng = np.random.default_rng(0)
    for label in ("cat", "dog"):
        (tmp_path / "pets" / label).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).save(tmp_path / "pets" / label / f"{label}{i}.png")
    path = str(tmp_path / "p.genaug")
    with run_job(init_project_job(path, str(tmp_path / "pets"))) as p:
        rows = []
        for item in p.items():
            sha = write_blob(p.blobs_dir, encode_png(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)))
            rows.append({"origin": "augmentation", "source": item.key, "label": item.label, "blob": sha,
                         "provenance": {"origin": "augmentation", "source": item.key, "seed": 1, "ops": []}})
        p.decide(p.add_candidates(rows), "accepted")
    return path


def test_export_then_verify_the_design_md_command_line(tmp_path, project):
    out = tmp_path / "out"
    proc = genaug("export", project, "--out", str(out), "--format", "imagefolder", "--include-originals",
                  "--split", "train=0.5,val=0.5", "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    exported = proc.stdout
    assert proc.stdout.startswith("Exported 12 samples (train ")
    assert " as imagefolder to " in proc.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["seed"] == 7 and manifest["options"]["splits"] == {"train": 0.5, "val": 0.5}
    listed = len(manifest["files"])
    assert f": {listed} files listed in manifest.json (" in exported  # as verify counts them
    proc = genaug("verify", str(out))
    assert proc.returncode == 0 and f"all {listed} files listed in manifest.json match" in proc.stdout
    assert listed == 14
    again = genaug("export", project, "--out", str(out), "--format", "webdataset")
    assert "not empty" in assert_one_clear_line(again)
    proc = genaug("export", project, "--out", str(out), "--format", "webdataset", "--overwrite", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["replaced"] is True and report["format"] == "webdataset" and report["samples"] == 6
    assert genaug("verify", str(out)).returncode == 0


def test_verify_exit_codes_name_the_file(tmp_path, project):
    out = tmp_path / "out"
    assert genaug("export", project, "--out", str(out), "--format", "webdataset", "--shard-size", "2").returncode == 0
    shard = out / "train-000001.tar"
    data = bytearray(shard.read_bytes())
    data[700] ^= 0xFF
    shard.write_bytes(bytes(data))
    (out / "train-000002.tar").unlink()
    proc = genaug("verify", str(out))
    assert proc.returncode == 1
    assert "mismatch: train-000001.tar" in proc.stdout and "missing: train-000002.tar" in proc.stdout
    proc = genaug("verify", str(out), "--json")
    assert proc.returncode == 1 and json.loads(proc.stdout)["missing"] == ["train-000002.tar"]
    assert "does not exist" in assert_one_clear_line(genaug("verify", str(tmp_path / "missing")))
    assert "no manifest.json" in assert_one_clear_line(genaug("verify", str(tmp_path)))


def test_all_options_on_the_command_line(tmp_path, project):
    out = tmp_path / "npz"
    proc = genaug("export", project, "--out", str(out), "--format", "npz", "--size", "8x6", "--normalize", "mean/std",
                  "--include-originals", "--split", "train=0.5,val=0.5", "--shard-size", "1MB", "--balance", "min",
                  "--status", "accepted,pending", "--origin", "augmentation", "--class", "cat,dog", "--color", "grey",
                  "--compress", "--dedupe")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["size"] == [8, 6] and manifest["options"]["shard_bytes"] == 10**6
    assert manifest["normalization"]["computed_over"] == "train" and len(manifest["normalization"]["mean"]) == 1
    with np.load(out / "train-000000.npz", allow_pickle=False) as z:
        assert z["images"].shape[1:] == (6, 8, 1) and z["images"].dtype == np.float32
    proc = genaug("export", project, "--out", str(tmp_path / "dry"), "--format", "imagefolder", "--dry-run", "--json",
                  "--include-originals", "--balance", "cat=2")
    assert proc.returncode == 0 and not (tmp_path / "dry").exists()
    assert json.loads(proc.stdout)["by_class"] == {"cat": 2, "dog": 6}


@pytest.mark.parametrize(("args", "fragment"), [
    (["--format", "imagefolder", "--split", "train=0.5,val=0.4"], "add up to 0.9"),
    (["--format", "imagefolder", "--split", "train:1"], "name=share"),
    (["--format", "npz"], "set a size"),
    (["--format", "npz", "--size", "big"], "--size takes"),
    (["--format", "imagefolder", "--shard-size", "3 parsecs"], "--shard-size"),
    (["--format", "imagefolder", "--balance", "lots"], "--balance takes"),
    (["--format", "imagefolder", "--status", "maybe"], "unknown status"),
    (["--format", "csv"], "this project holds image"),
    (["--format", "zip"], "invalid choice"),
    (["--format", "imagefolder", "--quality", "0"], "quality must be between 1"),
])
def test_bad_usage_exits_2_with_one_line(tmp_path, project, args, fragment):
    proc = genaug("export", project, "--out", str(tmp_path / "o"), *args)
    assert fragment in assert_one_clear_line(proc)
    assert not (tmp_path / "o").exists()


def test_unusable_project_and_destinations(tmp_path, project):
    assert "not a genaug project" in assert_one_clear_line(genaug("export", str(tmp_path), "--out", str(tmp_path / "o"), "--format", "imagefolder"))
    line = assert_one_clear_line(genaug("export", project, "--out", str(tmp_path / "pets" / "x"), "--format", "imagefolder"))
    assert "inside the source dataset" in line
    proc = genaug("export", project, "--format", "imagefolder")
    assert proc.returncode == 2 and "--out" in proc.stderr


def test_text_export_as_csv(tmp_path):
    data = tmp_path / "reviews.jsonl"
    data.write_text('{"text": "great, value", "label": "pos"}\n{"text": "broke", "label": "neg"}\n', encoding="utf-8")
    assert genaug("init", str(tmp_path / "t"), str(data)).returncode == 0
    out = tmp_path / "csv"
    proc = genaug("export", str(tmp_path / "t.genaug"), "--out", str(out), "--format", "csv", "--include-originals")
    assert proc.returncode == 0, proc.stderr
    import csv

    with open(out / "train.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted((r["text"], r["label"]) for r in rows) == [("broke", "neg"), ("great, value", "pos")]
    assert genaug("verify", str(out)).returncode == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--split", "train=0.8,train=0.2"], "--split: train given twice"),
        (["--class", "nope"], "no class 'nope' in this project; classes are: cat, dog"),
        (["--class", "cat", "--class", "nope,x"], "no classes 'nope', 'x' in this project; classes are: cat, dog"),
    ],
)
def test_odd_export_options_say_what_is_wrong(tmp_path, project, args, needle):
    out = tmp_path / "out"
    assert_one_clear_line(genaug("export", project, "--out", str(out), "--format", "imagefolder", *args), needle)
    assert not out.exists()
