"""relink: point a project at its moved dataset, verified by content hash, in one transaction,
never touching the dataset; refused (nothing changed) where nothing matches."""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from genaug_desktop.core.jobs import CancelToken, Cancelled, run_job
from genaug_desktop.core.store import Project, ProjectError, init_project_job, relink, relink_job


def tree_hash(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture()
def images(tmp_path: Path) -> Path:
    root = tmp_path / "shapes"
    for label in ("circle", "square"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8 + i, 8), (i * 40, 90 if label == "circle" else 0, 0)).save(root / label / f"{i}.png")
    return root


@pytest.fixture()
def image_project(tmp_path: Path, images: Path) -> Project:
    project = run_job(init_project_job(str(tmp_path / "p.genaug"), str(images)))
    yield project
    project.close()


def moved(src: Path, dest: Path) -> Path:
    shutil.move(str(src), str(dest))
    return dest


def test_a_moved_image_folder_is_relinked_and_the_sources_are_found(tmp_path, images, image_project) -> None:
    new = moved(images, tmp_path / "elsewhere" / "shapes2")
    assert len(image_project.check_sources().missing) == 6
    before = tree_hash(new)
    report = relink(image_project, str(new))
    assert (len(report.matched), report.missing, report.changed) == (6, [], [])
    assert report.applied
    assert report.counts() == "6 of 6 source files match, 0 missing, 0 changed"
    assert image_project.dataset_root == str(new)
    assert image_project.check_sources().ok
    assert tree_hash(new) == before  # only read
    # Stored, not just in memory: a fresh open sees the new place.
    with Project.open(image_project.path) as again:
        assert again.dataset_root == str(new)
        assert again.check_sources(rehash=True).ok


def test_missing_and_changed_files_are_reported_and_the_rest_relinked(tmp_path, images, image_project) -> None:
    new = moved(images, tmp_path / "shapes2")
    (new / "circle" / "0.png").unlink()
    Image.new("RGB", (9, 8), (1, 2, 3)).save(new / "square" / "1.png")  # same name, other content
    report = relink(image_project, str(new))
    assert report.missing == ["circle/0.png"]
    assert report.changed == ["square/1.png"]
    assert len(report.matched) == 4
    assert report.applied and image_project.dataset_root == str(new)


def test_a_folder_where_nothing_matches_is_refused_and_nothing_changes(tmp_path, images, image_project) -> None:
    other = tmp_path / "other"
    (other / "circle").mkdir(parents=True)
    Image.new("RGB", (8, 8), (255, 255, 255)).save(other / "circle" / "0.png")  # a path that exists, other bytes
    with pytest.raises(ProjectError) as info:
        relink(image_project, str(other))
    message = str(info.value)
    assert "none of the project's 6 source files is there with the same content" in message
    assert "nothing was changed" in message
    assert image_project.dataset_root == str(images)
    with Project.open(image_project.path) as again:
        assert again.dataset_root == str(images)


@pytest.mark.parametrize("bad", ["missing", "file", "inside"])
def test_unusable_new_places_are_refused(tmp_path, images, image_project, bad) -> None:
    if bad == "missing":
        target, needle = tmp_path / "nope", "no such file or folder"
    elif bad == "file":
        target, needle = images / "circle" / "0.png", "is not a folder"
    else:
        target, needle = tmp_path, "is inside"  # the project lives in tmp_path
    with pytest.raises(ProjectError, match=needle):
        relink(image_project, str(target))
    assert image_project.dataset_root == str(images)


def test_dry_run_checks_but_changes_nothing(tmp_path, images, image_project) -> None:
    new = moved(images, tmp_path / "shapes2")
    report = relink(image_project, str(new), dry_run=True)
    assert len(report.matched) == 6 and not report.applied
    assert image_project.dataset_root == str(images)


def test_the_same_place_is_a_no_op(images, image_project) -> None:
    report = relink(image_project, str(images))
    assert report.unchanged_location and not report.applied
    assert len(report.matched) == 6


def test_relink_can_be_cancelled_before_changing_anything(tmp_path, images, image_project) -> None:
    new = moved(images, tmp_path / "shapes2")
    token = CancelToken()
    job = relink_job(image_project, str(new), token)
    next(job)
    token.cancel()
    with pytest.raises(Cancelled):
        run_job(job)
    assert image_project.dataset_root == str(images)


# ---- text datasets -------------------------------------------------------------------------------
@pytest.fixture()
def csv_project(tmp_path: Path) -> tuple[Project, Path]:
    data = tmp_path / "txt" / "reviews.csv"
    data.parent.mkdir()
    data.write_text("text,label\ngreat,pos\nawful,neg\nfine,pos\n", encoding="utf-8")
    project = run_job(init_project_job(str(tmp_path / "t.genaug"), str(data)))
    yield project, data
    project.close()


@pytest.mark.parametrize("give", ["file", "folder"])
def test_a_moved_csv_file_is_relinked_by_its_rows(tmp_path, csv_project, give) -> None:
    project, data = csv_project
    new_dir = tmp_path / "moved"
    new_dir.mkdir()
    new = moved(data, new_dir / "reviews.csv")
    report = relink(project, str(new if give == "file" else new_dir))
    assert len(report.matched) == 1 and report.applied
    assert project.dataset_path == str(new)
    assert project.status()["dataset"] == str(new)
    assert project.check_sources().missing == []


def test_an_edited_csv_counts_as_changed_and_alone_is_refused(tmp_path, csv_project) -> None:
    project, data = csv_project
    data.write_text("text,label\ngreat,pos\nAWFUL,neg\nfine,pos\n", encoding="utf-8")
    new = moved(data.parent, tmp_path / "txt2") / "reviews.csv"
    with pytest.raises(ProjectError, match="is different"):
        relink(project, str(new))


def test_a_renamed_single_file_is_refused_with_the_name_to_use(tmp_path, csv_project) -> None:
    project, data = csv_project
    new = moved(data, tmp_path / "renamed.csv")
    with pytest.raises(ProjectError, match="a file named reviews.csv; rename the moved file back"):
        relink(project, str(new))
    with pytest.raises(ProjectError, match="holds no file named reviews.csv"):
        relink(project, str(tmp_path / "txt"))
    assert project.dataset_path == str(data)


def test_a_text_folder_dataset_is_checked_file_by_file(tmp_path) -> None:
    root = tmp_path / "docs"
    (root / "pos").mkdir(parents=True)
    (root / "neg").mkdir()
    (root / "pos" / "a.txt").write_text("good\nnice\n", encoding="utf-8")
    (root / "neg" / "b.txt").write_text("bad\n", encoding="utf-8")
    with run_job(init_project_job(str(tmp_path / "d.genaug"), str(root))) as project:
        new = moved(root, tmp_path / "docs2")
        (new / "neg" / "b.txt").write_text("worse\n", encoding="utf-8")
        report = relink(project, str(new))
        assert report.matched == ["pos/a.txt"] and report.changed == ["neg/b.txt"]
        assert os.path.realpath(project.dataset_root) == os.path.realpath(new)


def test_a_copied_text_dataset_with_new_mtimes_is_not_reported_changed_after_relink(tmp_path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.txt").write_text("good\nnice\n", encoding="utf-8")
    (root / "b.txt").write_text("bad\n", encoding="utf-8")
    with run_job(init_project_job(str(tmp_path / "d.genaug"), str(root))) as project:
        hour_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        project.set_meta("created_at", hour_ago.isoformat())  # the project is an hour old
        copy = tmp_path / "copy"
        shutil.copytree(root, copy)  # a copy made since: every mtime is newer than the project
        (copy / "b.txt").write_text("worse\n", encoding="utf-8")
        assert sorted(project.check_sources().changed) == ["a.txt", "b.txt"]  # newer than the project: flagged
        report = relink(project, str(copy))
        assert report.matched == ["a.txt"] and report.changed == ["b.txt"]
        with Project.open(project.path) as again:
            check = again.check_sources()
            assert check.missing == [] and check.changed == ["b.txt"]  # what relink found, not every newer file
