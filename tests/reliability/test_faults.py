"""Faults: SIGKILL in the middle of batch augmentation, generator training, review decisions,
an export and a project migration; and a full disk during augmentation and export.

After each kill the project reopens, ``PRAGMA integrity_check`` is ok, everything the killed
process had acknowledged (printed after the call returned) is there, nothing is half-written,
and the source dataset's files are byte-for-byte unchanged.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from genaug_desktop.core.atomic import DiskFullError
from genaug_desktop.core.store import Project
from genaug_desktop.core.store.schema import SCHEMA_VERSION

from .conftest import LIGHT_IMAGE_POLICY
from .helpers import genaug, image_tree, text_csv, tree_hashes

GOLDEN_V1 = Path(__file__).resolve().parents[1] / "data" / "golden_v1.genaug"
TINY_TEXT = ["--set", "hidden=16", "--set", "embedding=8", "--set", "batch_size=8"]


def start(script: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def sigkill(proc: subprocess.Popen[str]) -> str:
    """SIGKILL *proc* (the main process, as a crash or the OOM killer would), then its worker
    processes (they hold the pipes open); return what it had printed and not yet been read."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: only processes this test started
    except ProcessLookupError:
        pass
    assert proc.stdout is not None
    rest = proc.stdout.read()
    proc.communicate(timeout=30)
    return rest


def kill_after_lines(proc: subprocess.Popen[str], n_lines: int, timeout: float = 120) -> list[str]:
    """Read *n_lines* acknowledged lines from *proc*, SIGKILL it, and return every line it printed."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while len(lines) < n_lines and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
    rest = sigkill(proc)
    lines += [x for x in rest.splitlines() if x.strip()]  # printed before the kill landed: acknowledged too
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, lines)
    return lines


def reopen_checks(project_path: Path) -> Project:
    project = Project.open(str(project_path))
    assert project.integrity_check() == "ok"
    return project


def blob_ok(project: Project, sha: str) -> bool:
    path = project.blob_file(sha)
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest() == sha


@pytest.fixture()
def image_setup(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    data = image_tree(tmp_path / "data", {"a": 20, "b": 20}, size=(48, 48))
    project = tmp_path / "p.genaug"
    assert genaug("init", str(project), str(data)).returncode == 0
    return data, project, tree_hashes(data)


# ---- SIGKILL -----------------------------------------------------------------------------------------
def test_sigkill_during_batch_augmentation(tmp_path: Path, image_setup: tuple[Path, Path, dict[str, str]]) -> None:
    data, project_path, hashes = image_setup
    script = f"""
        import json
        from genaug_desktop.core.augment import augment_job
        from genaug_desktop.core.policy import Policy
        from genaug_desktop.core.store import Project
        p = Project.open({str(project_path)!r})
        job = augment_job(p, Policy.loads({LIGHT_IMAGE_POLICY!r}), per_item=10, seed=1, workers=2)
        for progress in job:
            if progress.payload:  # ids are committed before they are reported
                print(json.dumps(progress.payload), flush=True)
    """
    lines = kill_after_lines(start(script), 3)
    acknowledged = [i for line in lines for i in json.loads(line)]
    assert acknowledged, "the kill landed before any batch was stored"
    with reopen_checks(project_path) as project:
        stored = {c.id: c for c in project.candidates()}
        assert set(acknowledged) <= set(stored)
        assert len(stored) < 400, "the kill landed after the whole job"
        assert all(blob_ok(project, c.blob) for c in stored.values() if c.blob)  # no half blob
    assert tree_hashes(data) == hashes
    # the same command finishes the job: no duplicate, nothing missing
    proc = genaug("augment", str(project_path), "--policy", str(_policy_file(tmp_path)), "--per-item", "10",
                  "--seed", "1", "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    with reopen_checks(project_path) as project:
        keys = [(c.source_item, c.provenance["variant"]) for c in project.candidates()]
        assert len(keys) == len(set(keys)) == 400
    assert tree_hashes(data) == hashes


def _policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(LIGHT_IMAGE_POLICY)
    return path


def test_sigkill_during_review_decisions_from_two_threads(image_setup: tuple[Path, Path, dict[str, str]]) -> None:
    data, project_path, hashes = image_setup
    with Project.open(str(project_path)) as project:
        keys = [i.key for i in project.items()]
        project.add_candidates([{"origin": "augmentation", "source": keys[i % len(keys)], "label": None}
                                for i in range(400)])
    script = f"""
        import threading
        from genaug_desktop.core.store import Project
        p = Project.open({str(project_path)!r})
        out = threading.Lock()  # one whole line per acknowledgement, never two threads' halves
        def review(ids, status):
            for i in ids:
                p.decide([i], status)
                with out:
                    print(f"{{status[0]}} {{i}}", flush=True)
        threads = [threading.Thread(target=review, args=(range(1, 401, 2), "accepted")),
                   threading.Thread(target=review, args=(range(2, 401, 2), "rejected"))]
        for t in threads: t.start()
        for t in threads: t.join()
    """
    lines = kill_after_lines(start(script), 60)
    with reopen_checks(project_path) as project:
        status = {c.id: c.status for c in project.candidates()}
        for line in lines:
            kind, cid = line.split()
            assert status[int(cid)] == ("accepted" if kind == "a" else "rejected")
        logged = project.query("SELECT COUNT(*) FROM decisions")[0][0]
        assert logged == sum(1 for s in status.values() if s != "pending")  # the log matches the state
    assert tree_hashes(data) == hashes


def test_sigkill_during_generator_training(tmp_path: Path) -> None:
    data = text_csv(tmp_path / "data" / "reviews.csv", 60)
    hashes = tree_hashes(data.parent)
    project_path = tmp_path / "t.genaug"
    assert genaug("init", str(project_path), str(data)).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "genaug_desktop.cli", "train", str(project_path), "--generator",
                             "char_gru", *TINY_TEXT, "--set", "epochs=400"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    while "Epoch 3/" not in seen and time.monotonic() < deadline:  # epoch lines go to stderr
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    sigkill(proc)
    assert proc.returncode == -signal.SIGKILL, seen
    with reopen_checks(project_path):
        pass
    from genaug_desktop.core.generators.checkpoint import read_checkpoint

    for path in (project_path / "checkpoints").iterdir():
        if path.name.endswith(".safetensors") and not path.name.startswith("."):
            read_checkpoint(str(path))  # every checkpoint that is there is whole
    assert tree_hashes(data.parent) == hashes
    again = genaug("train", str(project_path), "--generator", "char_gru", *TINY_TEXT, "--set", "epochs=1", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["checkpoint"]["state"] == "finished"


def test_sigkill_during_export_keeps_the_project_and_sources(image_setup: tuple[Path, Path, dict[str, str]],
                                                             tmp_path: Path) -> None:
    data, project_path, hashes = image_setup
    with Project.open(str(project_path)) as project:
        before = project.status()
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "genaug_desktop.cli", "export", str(project_path), "--out", str(out),
                             "--format", "imagefolder", "--include-originals", "--status", "pending",
                             "--image-format", "png", "--size", "256", "--workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if any(n.startswith(".out.") for n in os.listdir(tmp_path)):
            time.sleep(0.3)
            break
        time.sleep(0.01)
    sigkill(proc)
    with reopen_checks(project_path) as project:
        assert project.status() == before
    assert not out.exists() or (out / "manifest.json").is_file()  # all of the export or none
    assert tree_hashes(data) == hashes


def _v1_copy(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    data = image_tree(tmp_path / "shapes", {"circle": 2})
    copy = tmp_path / "old.genaug"
    shutil.copytree(GOLDEN_V1, copy)
    db = sqlite3.connect(str(copy / "project.sqlite"), isolation_level=None)
    db.execute("UPDATE meta SET value = ? WHERE key = 'dataset_root'", (str(data),))
    db.close()
    return copy, data, tree_hashes(data)


@pytest.mark.parametrize("when", ["inside the migration transaction", "right after it committed"])
def test_sigkill_during_project_migration(tmp_path: Path, when: str) -> None:
    copy, data, hashes = _v1_copy(tmp_path)
    before = sqlite3.connect(str(copy / "project.sqlite")).execute(
        "SELECT id, status, reason, provenance FROM candidates ORDER BY id").fetchall()
    script = f"""
        import time
        from genaug_desktop.core.store import Project, schema
        real = schema._run_step
        def slow(db, step):
            real(db, step)
            if {when!r}.startswith("inside"):
                print("migrating", flush=True)
                time.sleep(60)
        schema._run_step = slow
        Project.open({str(copy)!r})
        print("migrated", flush=True)
        time.sleep(60)
    """
    lines = kill_after_lines(start(script), 1)
    assert lines[0] == ("migrating" if when.startswith("inside") else "migrated")
    raw = sqlite3.connect(str(copy / "project.sqlite"))
    version = int(raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    raw.close()
    assert version == (1 if when.startswith("inside") else SCHEMA_VERSION)  # all of the step or none
    with reopen_checks(copy) as project:
        assert project.schema_version == SCHEMA_VERSION
        after = project.query("SELECT id, status, reason, provenance FROM candidates ORDER BY id")
        assert [tuple(r) for r in after] == before
    assert tree_hashes(data) == hashes


# ---- full disk -------------------------------------------------------------------------------------------
@pytest.fixture()
def small_disk(tmp_path: Path):
    """A real 3 MB file system (tmpfs); skipped where the sandbox does not allow mounting."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here ({proc.stderr.strip() or 'mount failed'}); "
                    "the simulated ENOSPC tests cover the same guarantee")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _no_partial_files(root: Path) -> None:
    leftovers = [p for p in root.rglob("*") if p.name.startswith((".tmp-", ".rules-")) or ".tmp-" in p.name]
    assert not leftovers, leftovers


def test_a_real_full_disk_during_augmentation(tmp_path: Path, small_disk: Path) -> None:
    data = image_tree(tmp_path / "data", {"a": 30, "b": 30}, size=(64, 64))  # noise: ~12 kB per PNG
    hashes = tree_hashes(data)
    project_path = small_disk / "p.genaug"
    assert genaug("init", str(project_path), str(data)).returncode == 0
    proc = genaug("augment", str(project_path), "--policy", str(_policy_file(tmp_path)), "--per-item", "10",
                  "--workers", "1")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "disk is full" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    _no_partial_files(small_disk)
    with reopen_checks(project_path) as project:
        cands = project.candidates()
        assert cands and all(blob_ok(project, c.blob) for c in cands if c.blob)
    assert tree_hashes(data) == hashes


def test_a_real_full_disk_during_export_from_the_cli(tmp_path: Path, small_disk: Path,
                                                     image_setup: tuple[Path, Path, dict[str, str]]) -> None:
    data, project_path, hashes = image_setup
    out = small_disk / "export"
    proc = genaug("export", str(project_path), "--out", str(out), "--format", "imagefolder", "--include-originals",
                  "--status", "pending", "--image-format", "png", "--size", "400")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "full" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert os.listdir(small_disk) == []  # nothing half-written, not even a temporary folder
    assert tree_hashes(data) == hashes


def test_simulated_enospc_in_blob_writes_stops_augmentation_cleanly(
        tmp_path: Path, image_setup: tuple[Path, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The same guarantee where mounting is not allowed: the write path raises ENOSPC."""
    from genaug_desktop.core import atomic
    from genaug_desktop.core.augment import augment_job
    from genaug_desktop.core.jobs import run_job
    from genaug_desktop.core.policy import Policy

    data, project_path, hashes = image_setup
    real_fdopen = os.fdopen
    writes = {"n": 0}

    class FullAfter:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, b):
            writes["n"] += 1
            if writes["n"] > 25:
                self.fh.write(b[: len(b) // 2])  # half a file reaches the disk, then it is full
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.fh.write(b)

        def __getattr__(self, name):
            return getattr(self.fh, name)

    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode="r", *a, **k: FullAfter(real_fdopen(fd, mode, *a, **k)))
    with Project.open(str(project_path)) as project:
        with pytest.raises(DiskFullError, match="disk is full") as caught:
            run_job(augment_job(project, Policy.loads(LIGHT_IMAGE_POLICY), per_item=3, workers=1))
        assert caught.value.errno == errno.ENOSPC and caught.value.filename
        _no_partial_files(project_path)
        stored = project.candidates()
        assert all(blob_ok(project, c.blob) for c in stored if c.blob)
        blobs = {p.stem for p in (project_path / "blobs").rglob("*.png")}
        assert blobs >= {c.blob for c in stored}
        assert project.integrity_check() == "ok"
    assert tree_hashes(data) == hashes


def test_simulated_full_database_is_a_clear_error_and_keeps_what_was_saved(
        image_setup: tuple[Path, Path, dict[str, str]]) -> None:
    from genaug_desktop.core.store import ProjectError

    _data, project_path, _hashes = image_setup
    with Project.open(str(project_path)) as project:
        key = project.items()[0].key
        project.add_candidates([{"origin": "augmentation", "source": key}])
        pages = project.query("PRAGMA page_count")[0][0]
        project._db.execute(f"PRAGMA max_page_count = {pages}")  # the file cannot grow: as good as a full disk
        with pytest.raises(ProjectError, match="disk holding the project is full"):
            project.add_candidates([{"origin": "augmentation", "source": key, "text": "x" * 200_000}] * 20)
        assert len(project.candidates()) == 1  # the whole batch or nothing
        assert project.integrity_check() == "ok"
