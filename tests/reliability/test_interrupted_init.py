"""kill -9 while a project is being made (``genaug init``, or the window's Create Project, which
runs the same core Job), and temporary files left by killed writes.

A project appears whole or not at all: it is built in a hidden, locked sibling folder and renamed
into place. After a kill at any point the project path holds nothing (or the empty folder the
person made), ``genaug init`` on it works, and it removes the killed run's hidden folder.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from genaug_desktop.core.store import Project, ProjectError
from genaug_desktop.core.store.schema import create_latest

from .helpers import assert_clear, genaug, image_tree, tree_hashes
from .test_faults import kill_after_lines, sigkill, start


def _staging_folders(parent: Path, name: str) -> list[Path]:
    return sorted(parent.glob(f".{name}.creating-*"))


def _assert_complete(project_path: Path, items: int) -> None:
    with Project.open(str(project_path)) as project:
        assert project.integrity_check() == "ok"
        assert project.item_count() == items
        assert project.dataset_root


@pytest.fixture()
def dataset(tmp_path: Path) -> Path:
    return image_tree(tmp_path / "data", {"a": 30, "b": 30})


# where the killed process stops: a patch, installed before init runs, that prints "here" and sleeps
KILL_POINTS = {
    "the staging folder made, nothing in it": """
        Project._build = classmethod(lambda cls, *args: stop())
    """,
    "schema and meta written, items being saved": """
        real = Project.add_items
        def add_items(self, items):
            real(self, items)
            stop()
        Project.add_items = add_items
    """,
    "everything saved, before the rename": """
        project_module._publish = lambda staged, path: stop()
    """,
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
@pytest.mark.parametrize("pre_made", [False, True], ids=["new-path", "empty-folder-made-first"])
def test_sigkill_during_init_leaves_no_project_and_init_again_works(
    tmp_path: Path, dataset: Path, point: str, pre_made: bool
) -> None:
    target = tmp_path / "p.genaug"
    if pre_made:
        target.mkdir()
    hashes = tree_hashes(dataset)
    patch = textwrap.indent(textwrap.dedent(KILL_POINTS[point]).strip(), " " * 8)
    script = f"""
        import sys, time
        from genaug_desktop.core.store import project as project_module
        from genaug_desktop.core.store.project import Project
        def stop():
            print("here", flush=True)
            time.sleep(120)
{patch}
        from genaug_desktop.cli import main
        sys.exit(main(["init", {str(target)!r}, {str(dataset)!r}]))
    """
    lines = kill_after_lines(start(script), 1)
    assert lines and lines[0] == "here", lines
    staged = _staging_folders(tmp_path, "p.genaug")
    assert len(staged) == 1, staged  # the killed run's work folder, hidden
    if pre_made:
        assert target.is_dir() and not any(target.iterdir())
    else:
        assert not target.exists()
    # Neither the path nor the hidden folder opens as a damaged project: each says what it is.
    with pytest.raises(ProjectError, match="not a genaug project"):
        Project.open(str(target))
    with pytest.raises(ProjectError, match="unfinished project"):
        Project.open(str(staged[0]))

    proc = genaug("init", str(target), str(dataset))
    assert_clear(proc, ok_codes=(0,))
    _assert_complete(target, 60)
    assert _staging_folders(tmp_path, "p.genaug") == []  # the killed run's folder is cleaned
    assert tree_hashes(dataset) == hashes


def test_real_init_killed_at_any_moment_leaves_nothing_or_a_whole_project(tmp_path: Path) -> None:
    """No patches: the real ``genaug init`` killed after a range of delays."""
    data = image_tree(tmp_path / "data", {"a": 150, "b": 150})
    outcomes = []
    for n, delay in enumerate((0.2, 0.5, 0.8, 1.1, 1.5, 2.5)):
        target = tmp_path / f"p{n}.genaug"
        proc = subprocess.Popen([sys.executable, "-m", "genaug_desktop.cli", "init", str(target), str(data)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        time.sleep(delay)
        sigkill(proc)
        if proc.returncode == 0:
            outcomes.append("finished")
            _assert_complete(target, 300)
            continue
        assert proc.returncode == -signal.SIGKILL
        if target.exists():  # renamed into place just before the kill: whole
            outcomes.append("whole")
            _assert_complete(target, 300)
        else:
            outcomes.append("absent")
            assert_clear(genaug("init", str(target), str(data)), ok_codes=(0,))
            _assert_complete(target, 300)
        assert _staging_folders(tmp_path, target.name) == []
    assert "absent" in outcomes, outcomes  # at least one kill landed mid-way


def test_a_live_creation_is_not_cleaned_by_another(tmp_path: Path, dataset: Path) -> None:
    """The hidden folder of a creation that is still running (its lock held) is left alone."""
    target = tmp_path / "p.genaug"
    script = f"""
        import sys, time
        from genaug_desktop.core.store import project as p
        real = p._publish
        def stop(*a):
            print("here", flush=True)
            time.sleep(120)
        p._publish = stop
        from genaug_desktop.cli import main
        sys.exit(main(["init", {str(target)!r}, {str(dataset)!r}]))
    """
    proc = start(script)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "here"
        live = _staging_folders(tmp_path, "p.genaug")
        assert len(live) == 1
        other = genaug("init", str(target), str(dataset))  # a second init of the same path meanwhile
        assert_clear(other, ok_codes=(0,))
        assert live[0].is_dir() and (live[0] / "project.sqlite").is_file()  # the live one's work kept
    finally:
        sigkill(proc)
    _assert_complete(target, 60)


def _legacy_unfinished(path: Path, meta: bool) -> None:
    """What an earlier version left when killed while making the project in place."""
    (path / "blobs").mkdir(parents=True)
    (path / "checkpoints").mkdir()
    db = sqlite3.connect(str(path / "project.sqlite"), isolation_level=None)
    if meta:
        create_latest(db)  # schema written, the dataset's meta not yet
    db.close()


@pytest.mark.parametrize("meta", [False, True], ids=["empty-database", "schema-without-meta"])
def test_a_folder_left_by_an_older_interrupted_init_says_what_to_do(tmp_path: Path, dataset: Path, meta: bool) -> None:
    target = tmp_path / "old.genaug"
    _legacy_unfinished(target, meta)
    for args in (("status", str(target)), ("init", str(target), str(dataset))):
        proc = genaug(*args)
        assert_clear(proc, ok_codes=(2,))
        assert "unfinished project" in proc.stderr and "delete that folder" in proc.stderr, proc.stderr
    assert (target / "project.sqlite").exists()  # we say what to do; the person's folder is not removed


# ---- temporary files of killed writes ---------------------------------------------------------------
def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t), follow_symlinks=False)


def test_stale_temp_files_of_a_killed_blob_write_are_removed_on_open(tmp_path: Path, dataset: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    target = tmp_path / "p.genaug"
    assert genaug("init", str(target), str(dataset)).returncode == 0
    # A real writer killed between writing its temporary file and renaming it into place.
    script = f"""
        import os, time
        from genaug_desktop.core.store.blobs import write_blob
        def stop(src, dst):
            print("written", flush=True)
            time.sleep(120)
        os.replace = stop
        write_blob({str(target / "blobs")!r}, b"x" * 1000)
    """
    lines = kill_after_lines(start(script), 1)
    assert lines == ["written"]
    killed = [p for p in (target / "blobs").rglob(".tmp-*")]
    assert len(killed) == 1
    fresh = target / "checkpoints" / ".tmp-live.safetensors"  # another writer's, a moment ago
    fresh.write_bytes(b"live")
    old_ckpt = target / "checkpoints" / ".tmp-old.safetensors"
    old_ckpt.write_bytes(b"old")
    ours_not_tmp = target / "blobs" / "ab" / "ab12.png"  # not a temporary file: never removed
    ours_not_tmp.parent.mkdir(exist_ok=True)
    ours_not_tmp.write_bytes(b"png")
    outside = tmp_path / ".tmp-outside"  # reached only through a link: never followed or removed
    outside.write_bytes(b"theirs")
    link_dir = target / "blobs" / "zz"
    link_dir.symlink_to(tmp_path, target_is_directory=True)
    link = target / "blobs" / ".tmp-link"
    link.symlink_to(outside)
    for path in (killed[0], old_ckpt, ours_not_tmp, outside, link):
        _age(path, 3600)

    with caplog.at_level(logging.INFO, logger="genaug_desktop.core.store.project"):
        with Project.open(str(target)):
            pass
    assert not killed[0].exists() and not old_ckpt.exists()
    assert fresh.exists() and ours_not_tmp.exists() and outside.exists() and link.is_symlink()
    assert "removed 2 temporary file(s) left by an interrupted write" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
