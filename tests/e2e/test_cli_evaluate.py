"""``genaug evaluate`` in a subprocess on a small labelled text project: the JSON shape, the
stored result, exit 2 with one clear stderr line for bad usage, and the generator-loss comparison
for unlabeled data."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from cli_helpers import assert_one_clear_line
from cli_helpers import genaug as _genaug

ROOT = Path(__file__).resolve().parents[2]


def genaug(*args: str) -> subprocess.CompletedProcess[str]:
    return _genaug(*args, cwd=ROOT)


def _project(tmp_path: Path, labelled: bool = True) -> str:
    data = tmp_path / "reviews.jsonl"
    rows = [("great value, works well", "pos"), ("broke in a day", "neg"), ("love it so much", "pos"),
            ("awful, sent it back", "neg"), ("really happy with it", "pos"), ("cheap and useless", "neg")] * 5
    data.write_text(
        "\n".join(json.dumps({"text": f"{t} {i}", **({"label": lab} if labelled else {})})
                  for i, (t, lab) in enumerate(rows)) + "\n",
        encoding="utf-8",
    )
    proc = genaug("init", str(tmp_path / "reviews"), str(data))
    assert proc.returncode == 0, proc.stderr
    return str(tmp_path / "reviews.genaug")


def test_evaluate_json_shape_and_stored_result(tmp_path):
    project = _project(tmp_path)
    db = sqlite3.connect(os.path.join(project, "project.sqlite"))
    with db:
        db.execute(
            "INSERT INTO candidates(origin, source_item, label, text, status, created_at)"
            " SELECT 'augmentation', id, label, text || ' again', 'accepted', 'now' FROM items WHERE id <= 10"
        )
    db.close()
    proc = genaug("evaluate", project, "--seeds", "2", "--epochs", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert list(data)[:5] == ["metric", "real_only", "with_accepted", "with_all", "per_class"]
    assert data["metric"] == "accuracy"
    for name in ("real_only", "with_accepted", "with_all"):
        assert {"mean", "std", "macro_f1"} <= set(data[name])
        assert 0.0 <= data[name]["mean"] <= 1.0 and data[name]["std"] >= 0.0
        assert set(data[name]["macro_f1"]) == {"mean", "std"}
    assert set(data["per_class"]) == {"pos", "neg"}
    assert data["seeds"] == [0, 1]
    assert isinstance(data["summary"], str) and "held-out accuracy" in data["summary"]
    n_accepted = data["counts"]["accepted"]
    assert n_accepted + data["excluded"]["source_held_out"] == 10
    db = sqlite3.connect(os.path.join(project, "project.sqlite"))
    rows = db.execute("SELECT id, params, candidate_ids FROM evaluations").fetchall()
    db.close()
    assert [r[0] for r in rows] == [data["id"]]
    assert json.loads(rows[0][1])["seeds"] == [0, 1]
    assert json.loads(rows[0][2])["with_accepted"] == data["candidate_ids"]["with_accepted"]
    assert len(data["candidate_ids"]["with_accepted"]) == n_accepted

    text = genaug("evaluate", project, "--seeds", "1", "--epochs", "1", "--no-all")
    assert text.returncode == 0, text.stderr
    assert "real_only" in text.stdout and "with_all" not in text.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--seeds", "0"], "--seeds"),
        (["--holdout", "1.5"], "--holdout"),
        (["--epochs", "0"], "--epochs"),
        (["--seeds", "x"], "invalid int"),
    ],
)
def test_bad_usage_exits_2_with_one_line(tmp_path, args, needle):
    project = _project(tmp_path)
    assert_one_clear_line(genaug("evaluate", project, *args), needle)


def test_missing_project_exits_2(tmp_path):
    assert_one_clear_line(genaug("evaluate", str(tmp_path / "nope.genaug")), "not a genaug project")


def test_unlabeled_data_compares_the_generator_loss(tmp_path):
    project = _project(tmp_path, labelled=False)
    proc = genaug("evaluate", project, "--seeds", "1", "--epochs", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert list(data)[:5] == ["metric", "real_only", "with_accepted", "with_all", "per_class"]
    assert data["metric"] == "held_out_loss" and data["higher_is_better"] is False
    assert data["per_class"] == {} and data["unit"] == "nats/char"
    assert set(data["real_only"]) >= {"mean", "std"} and data["real_only"]["mean"] > 0
    assert "held-out loss (lower is better)" in data["summary"]

    text = genaug("evaluate", project, "--seeds", "1", "--epochs", "1")
    assert text.returncode == 0, text.stderr
    assert "no labels" in text.stdout and "char_gru held-out loss" in text.stdout
    assert "(lower is better)" in text.stdout
