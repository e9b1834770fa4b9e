"""The project store: creation, items, candidates, decisions, migrations, source checks."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest
from PIL import Image

from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store import Project, ProjectError, init_project_job
from genaug_desktop.core.store import schema

GOLDEN_V1 = os.path.join(os.path.dirname(__file__), os.pardir, "data", "golden_v1.genaug")


@pytest.fixture()
def dataset(tmp_path):
    root = tmp_path / "shapes"
    for label in ("circle", "square"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8 + i, 8), (i * 40, 0, 0)).save(root / label / f"{i}.png")
    (root / "square" / "bad.png").write_bytes(b"")
    return root


@pytest.fixture()
def project(tmp_path, dataset):
    p = run_job(init_project_job(str(tmp_path / "p.genaug"), str(dataset)))
    yield p
    p.close()


def test_init_creates_layout_and_items(project, dataset):
    assert os.path.isfile(os.path.join(project.path, "project.sqlite"))
    assert os.path.isdir(os.path.join(project.path, "blobs"))
    assert os.path.isdir(os.path.join(project.path, "checkpoints"))
    assert project.item_count() == 6
    assert project.class_counts() == {"circle": 3, "square": 3}
    assert [p.path for p in project.problems()] == ["square/bad.png"]
    assert project.modality == "image"
    assert project.dataset_root == str(dataset)
    assert project.schema_version == schema.SCHEMA_VERSION
    journal = project._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


def test_project_inside_dataset_is_refused(tmp_path, dataset):
    with pytest.raises(ProjectError, match="inside the dataset"):
        run_job(init_project_job(str(dataset / "p.genaug"), str(dataset)))
    assert not (dataset / "p.genaug").exists()


def test_existing_nonempty_folder_is_refused(tmp_path, dataset):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "x").write_text("x")
    with pytest.raises(ProjectError, match="not empty"):
        Project.create(str(target), str(dataset), "image")


def test_open_non_project_and_damaged(tmp_path):
    with pytest.raises(ProjectError, match="not a genaug project"):
        Project.open(str(tmp_path))
    bad = tmp_path / "bad.genaug"
    bad.mkdir()
    (bad / "project.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(ProjectError, match="damaged"):
        Project.open(str(bad))


def test_newer_schema_is_refused_with_a_clear_message(project):
    path = project.path
    project._db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    project.close()
    with pytest.raises(ProjectError, match="newer genaug-desktop"):
        Project.open(path)


def test_candidates_decisions_and_status(project):
    ids = project.add_candidates([
        {"origin": "augmentation", "source": "circle/0.png", "label": "circle", "blob": "ab" * 32,
         "provenance": {"ops": [["hflip", {}]], "seed": 1}},
        {"origin": "generator", "source": None, "label": "square", "blob": "cd" * 32, "round": 0},
        {"origin": "augmentation", "source": "square/1.png", "label": "square", "blob": "ef" * 32},
    ])
    assert ids == [1, 2, 3]
    assert project.decide([1], "accepted") == 1
    assert project.decide([2], "rejected", reason="looks wrong") == 1
    status = project.status()
    assert status["by_status"] == {"pending": 1, "accepted": 1, "rejected": 1}
    assert status["by_origin"] == {"augmentation": 2, "generator": 1}
    assert status["by_round"] == {"0": 1}
    listed = {c.id: c for c in project.candidates()}
    assert listed[1].source_item == "circle/0.png"
    assert listed[1].provenance == {"ops": [["hflip", {}]], "seed": 1}
    assert listed[2].reason == "looks wrong"
    assert [c.id for c in project.candidates(status="pending")] == [3]
    assert [c.id for c in project.candidates(origin="generator")] == [2]
    log = project._db.execute("SELECT candidate_id, status, previous FROM decisions ORDER BY id").fetchall()
    assert log == [(1, "accepted", "pending"), (2, "rejected", "pending")]


def test_decide_unknown_id_changes_nothing(project):
    ids = project.add_candidates([{"origin": "augmentation", "source": "circle/0.png", "label": "circle"}])
    with pytest.raises(KeyError):
        project.decide([ids[0], 999], "accepted")
    assert project.candidates()[0].status == "pending"


def test_bad_candidate_rows_are_refused(project):
    with pytest.raises(ValueError, match="origin"):
        project.add_candidates([{"origin": "magic"}])
    with pytest.raises(ValueError, match="no item"):
        project.add_candidates([{"origin": "augmentation", "source": "nope.png"}])
    with pytest.raises(ValueError, match="status"):
        project.candidates(status="maybe")


def test_decision_is_visible_to_another_connection_at_once(project):
    ids = project.add_candidates([{"origin": "augmentation", "source": "circle/0.png", "label": "circle"}])
    project.decide(ids, "accepted")
    other = sqlite3.connect(os.path.join(project.path, "project.sqlite"))
    try:
        assert other.execute("SELECT status FROM candidates").fetchone()[0] == "accepted"
    finally:
        other.close()


def test_decisions_survive_sigkill(tmp_path, dataset):
    project = run_job(init_project_job(str(tmp_path / "k.genaug"), str(dataset)))
    project.add_candidates([{"origin": "augmentation", "source": "circle/0.png", "label": "circle"}] * 50)
    project.close()
    script = f"""
import sys
from genaug_desktop.core.store import Project
p = Project.open({str(tmp_path / 'k.genaug')!r})
for i in range(1, 51):
    p.decide([i], 'accepted' if i % 2 else 'rejected')
    print(i, flush=True)
    if i == 30:
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    acknowledged = [int(x) for x in proc.stdout.split()]
    assert proc.returncode == -9 and acknowledged[-1] == 30
    with Project.open(str(tmp_path / "k.genaug")) as reopened:
        assert reopened.integrity_check() == "ok"
        decided = {c.id: c.status for c in reopened.candidates() if c.status != "pending"}
        for i in acknowledged:
            assert decided[i] == ("accepted" if i % 2 else "rejected")


def test_golden_v1_project_migrates(tmp_path):
    copy = tmp_path / "old.genaug"
    shutil.copytree(GOLDEN_V1, copy)
    with Project.open(str(copy)) as project:
        assert project.schema_version == schema.SCHEMA_VERSION
        assert project.item_count() == 2
        cands = {c.id: c for c in project.candidates()}
        assert cands[1].status == "accepted" and cands[1].provenance["seed"] == 7
        assert cands[2].reason == "blurry"
        assert cands[3].origin == "generator" and cands[3].source_item is None
        assert project.status()["by_status"] == {"pending": 1, "accepted": 1, "rejected": 1}
        # new v2 features work on the migrated project
        project.decide([3], "accepted")
        assert project.problems() == []
        assert project.integrity_check() == "ok"


def test_migration_is_atomic(tmp_path, monkeypatch):
    copy = tmp_path / "old.genaug"
    shutil.copytree(GOLDEN_V1, copy)

    def broken(db):
        db.execute("ALTER TABLE candidates ADD COLUMN round INTEGER")
        raise RuntimeError("power cut")

    monkeypatch.setitem(schema.MIGRATIONS, 1, broken)
    with pytest.raises(RuntimeError):
        Project.open(str(copy))
    db = sqlite3.connect(str(copy / "project.sqlite"))
    try:
        assert schema.schema_version(db) == 1
        columns = [r[1] for r in db.execute("PRAGMA table_info(candidates)")]
        assert "round" not in columns
    finally:
        db.close()


def test_new_and_migrated_schemas_match(tmp_path):
    copy = tmp_path / "old.genaug"
    shutil.copytree(GOLDEN_V1, copy)
    Project.open(str(copy)).close()
    fresh = sqlite3.connect(":memory:", isolation_level=None)
    schema.create_latest(fresh)
    old = sqlite3.connect(str(copy / "project.sqlite"))

    def tables(db):
        return {
            name: [tuple(c[1:3]) for c in db.execute(f"PRAGMA table_info({name})")]
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }

    try:
        assert tables(fresh) == tables(old)
    finally:
        old.close()
        fresh.close()


def test_source_check_reports_missing_and_changed(project, dataset):
    assert project.check_sources().ok
    os.remove(dataset / "circle" / "0.png")
    Image.new("RGB", (30, 30)).save(dataset / "circle" / "1.png")
    check = project.check_sources()
    assert check.missing == ["circle/0.png"]
    assert check.changed == ["circle/1.png"]
    assert "missing" in check.summary() and "changed" in check.summary()


def test_source_check_rehash_catches_same_size_edit(project, dataset):
    path = dataset / "circle" / "2.png"
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    assert project.check_sources().ok  # size unchanged: the cheap check cannot tell
    assert project.check_sources(rehash=True).changed == ["circle/2.png"]


def test_text_project_from_single_file(tmp_path):
    csv_path = tmp_path / "reviews.csv"
    csv_path.write_text("text,label\nhello there,pos\nawful,neg\n", encoding="utf-8")
    with run_job(init_project_job(str(tmp_path / "t.genaug"), str(csv_path))) as project:
        assert project.modality == "text"
        assert project.class_counts() == {"neg": 1, "pos": 1}
        item = project.item("reviews.csv:2")
        assert item is not None and item.text == "hello there"
        assert project.check_sources().ok
