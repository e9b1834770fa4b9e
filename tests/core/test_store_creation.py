"""Making a project is all or nothing: cancelled, failed or raced creations leave the path as it
was; temporary files of killed writes are swept when a project is opened (SIGKILL tests:
tests/reliability/test_interrupted_init.py)."""

from __future__ import annotations

import importlib
import os
import stat
import time
from pathlib import Path

import pytest
from PIL import Image

from genaug_desktop.core.atomic import remove_stale_temp_files
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store import Project, ProjectError, init_project_job
from genaug_desktop.core.store import project as project_module


@pytest.fixture()
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "shapes"
    for label in ("circle", "square"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8 + i, 8), (i * 40, 0, 0)).save(root / label / f"{i}.png")
    return root


def _leftovers(parent: Path) -> list[str]:
    return sorted(n for n in os.listdir(parent) if ".creating-" in n)


def test_cancel_while_saving_items_leaves_nothing(tmp_path: Path, dataset: Path) -> None:
    target = tmp_path / "p.genaug"
    job = init_project_job(str(target), str(dataset))
    for progress in job:
        if progress.message == "Saving items":
            break
    assert _leftovers(tmp_path)  # being built, hidden
    job.close()  # what the window's Cancel and the CLI's Ctrl+C do
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_a_path_filled_meanwhile_is_not_replaced(tmp_path: Path, dataset: Path) -> None:
    target = tmp_path / "p.genaug"
    job = init_project_job(str(target), str(dataset))
    for progress in job:
        if progress.message == "Saving items":
            break
    target.mkdir()
    (target / "theirs.txt").write_text("someone else's")
    with pytest.raises(ProjectError, match="filled by something else"):
        for _ in job:
            pass
    assert os.listdir(target) == ["theirs.txt"]
    assert _leftovers(tmp_path) == []


def test_created_project_has_the_usual_permissions_and_no_leftovers(tmp_path: Path, dataset: Path) -> None:
    (tmp_path / "made.genaug").mkdir()  # an empty folder the person made first is used
    for name in ("p.genaug", "made.genaug"):
        with run_job(init_project_job(str(tmp_path / name), str(dataset))) as project:
            assert project.item_count() == 6
        mode = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
        umask = os.umask(0)
        os.umask(umask)
        assert mode == 0o777 & ~umask  # not mkdtemp's 0700
    assert _leftovers(tmp_path) == []


def test_a_taken_path_is_refused_before_the_scan(tmp_path: Path, dataset: Path, monkeypatch) -> None:
    target = tmp_path / "p.genaug"
    target.mkdir()
    (target / "x").write_text("x")

    def no_scan(*args, **kwargs):
        raise AssertionError("scanned although the project folder was taken")

    # The module object, not the dotted name: once `from genaug_desktop.core.datasets import scan`
    # ran (another test file), the package attribute `scan` is the function, not the module.
    monkeypatch.setattr(importlib.import_module("genaug_desktop.core.datasets.scan"), "scan_job", no_scan)
    with pytest.raises(ProjectError, match="already exists and is not empty"):
        run_job(init_project_job(str(target), str(dataset)))


def test_a_staging_folder_never_opens_as_a_project(tmp_path: Path, dataset: Path, monkeypatch) -> None:
    seen: list[str] = []

    def publish(staged: str, path: str) -> None:
        seen.append(staged)
        with pytest.raises(ProjectError, match="unfinished project"):
            Project.open(staged)
        real_publish(staged, path)

    real_publish = project_module._publish
    monkeypatch.setattr(project_module, "_publish", publish)
    with run_job(init_project_job(str(tmp_path / "p.genaug"), str(dataset))):
        pass
    assert len(seen) == 1 and os.path.basename(seen[0]).startswith(".p.genaug.creating-")


def _aged(path: Path, seconds: float, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    t = time.time() - seconds
    os.utime(path, (t, t))
    return path


def test_remove_stale_temp_files_removes_only_old_temporary_files(tmp_path: Path) -> None:
    old = _aged(tmp_path / "ab" / ".tmp-old.png", 3600)
    young = _aged(tmp_path / "ab" / ".tmp-young.png", 10)
    not_tmp = _aged(tmp_path / "ab" / "abcdef.png", 3600)
    other_prefix = _aged(tmp_path / ".rules-x.json", 3600)
    deep = _aged(tmp_path / "ab" / "cd" / ".tmp-deep", 3600)  # below the depth asked for
    folder_named_tmp = tmp_path / ".tmp-folder"
    folder_named_tmp.mkdir()
    assert remove_stale_temp_files(str(tmp_path), older_than_s=600, depth=1) == 1
    assert not old.exists()
    assert young.exists() and not_tmp.exists() and other_prefix.exists() and deep.exists()
    assert folder_named_tmp.is_dir()
    assert remove_stale_temp_files(str(tmp_path / "missing")) == 0
