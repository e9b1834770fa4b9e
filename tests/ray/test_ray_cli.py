"""``genaug augment|filter|export --engine ray`` end to end (in this process, on the session's
local Ray): the same candidates, verdicts and export as ``--engine local``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genaug_desktop.cli import main
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store import init_project_job

pytest.importorskip("ray.data", reason='Ray Data is not installed (pip install "genaug-desktop[ray]")')

POLICY = str(Path(__file__).resolve().parents[1] / "data" / "policies" / "image_light_v1.json")


def test_cli_engine_ray_matches_local(ray_session, image_project, tmp_path, capsys):
    other = run_job(init_project_job(str(tmp_path / "q.genaug"), image_project.dataset_root))
    other.close()
    runs = {"local": image_project.path, "ray": other.path}
    for engine, path in runs.items():
        assert main(["augment", path, "--policy", POLICY, "--per-item", "2", "--seed", "4", "--engine", engine]) == 0
        assert main(["rules", path, "propose"]) == 0
        ids = [r["id"] for r in _json(capsys, ["rules", path, "list", "--json"])]
        assert main(["rules", path, "approve", *ids]) == 0
        capsys.readouterr()
        report = _json(capsys, ["filter", path, "--engine", engine, "--json"])
        assert report["checked"] == 40 and report["total_rejected"] > 0
        runs[engine] = (report | {"seconds": 0}, _json(capsys, ["list", path, "--json"]))
    for a, b in zip(runs["local"][1], runs["ray"][1]):
        assert a == b
    assert runs["local"] == runs["ray"]
    # One project exported by both engines gives the same files.
    manifests = []
    for engine in ("local", "ray"):
        out = tmp_path / f"export-{engine}"
        result = _json(capsys, ["export", image_project.path, "--out", str(out), "--format", "webdataset",
                                "--include-originals", "--status", "pending,rejected", "--engine", engine, "--json"])
        assert result["samples"] == 60
        manifests.append(json.loads((out / "manifest.json").read_text())["files"])
    assert manifests[0] == manifests[1]


def _json(capsys, argv):
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_ctrl_c_stops_a_ray_augmentation_and_keeps_whole_batches(tmp_path, interrupt):
    """A real `genaug augment --engine ray` (its own local Ray), interrupted once the first batch
    is stored: exit 130 with one line, every stored candidate has its blob, Ray is shut down."""
    import sqlite3
    import subprocess
    import sys
    import time

    import numpy as np
    from PIL import Image

    data = tmp_path / "data" / "a"
    data.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(300):
        Image.fromarray((rng.random((20, 24, 3)) * 255).astype(np.uint8)).save(data / f"{i}.png")
    project = tmp_path / "p.genaug"
    assert main(["init", str(project), str(data.parent)]) == 0
    raylets = _raylets()
    proc = subprocess.Popen(
        [sys.executable, "-m", "genaug_desktop.cli", "augment", str(project), "--policy", POLICY, "--per-item", "6",
         "--engine", "ray", "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    db = f"file:{project / 'project.sqlite'}?mode=ro"

    def stored() -> int:
        with sqlite3.connect(db, uri=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]

    out, err = interrupt(proc, lambda: stored() > 0)
    assert proc.returncode == 130, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    with sqlite3.connect(db, uri=True) as conn:
        blobs = [r[0] for r in conn.execute("SELECT blob FROM candidates")]
    assert 0 < len(blobs) < 1800
    assert lines == [f"genaug augment: interrupted; the {len(blobs):,} candidates made before that are kept; "
                     "run the same command again (same --policy and --seed 0) to make the rest"], lines
    assert all((project / "blobs" / b[:2] / f"{b}.png").is_file() for b in blobs)
    deadline = time.monotonic() + 20
    while _raylets() - raylets and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _raylets() - raylets, "the Ray started for the command is still running"


def _raylets() -> set[int]:
    import psutil

    found = set()
    for p in psutil.process_iter(["name"]):
        if p.info["name"] == "raylet":
            found.add(p.pid)
    return found
