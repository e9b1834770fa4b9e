"""Scanning datasets: folders and class trees, single text files, links, problems, the scan job."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from genaug_desktop.core.datasets import DatasetError, Item, ScanBatch, ScanOptions, ScanResult, scan, scan_job
from genaug_desktop.core.jobs import CancelToken, Cancelled, Progress, run_job

RED = (255, 0, 0)


def keys(result: ScanResult) -> list[str]:
    return [i.key for i in result.items]


def problems_by_path(result: ScanResult) -> dict[str, str]:
    return {p.path: p.reason for p in result.problems}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """The folder the factories write into (``make_image("x.png")`` lands here)."""
    path = tmp_path / "data"
    path.mkdir()
    return path


# ---------------------------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------------------------


def test_flat_folder_has_no_labels(data, make_image) -> None:
    for name in ("b.png", "a.jpg", "c.webp"):
        make_image(name)
    result = scan(str(data))
    assert result.modality == "image"
    assert result.root == str(data)
    assert keys(result) == ["a.jpg", "b.png", "c.webp"]  # sorted, stable
    assert [i.label for i in result.items] == [None, None, None]
    assert result.problems == []
    assert result.class_counts() == {}


def test_class_subfolders_are_labels(data, make_image) -> None:
    make_image("dogs/d1.png")
    make_image("cats/c1.png")
    make_image("cats/c2.jpg")
    make_image("cats/indoor/sofa/c3.png")  # nested deeper: still a cat
    make_image("dogs/puppies/p1.png")
    result = scan(str(data))
    assert keys(result) == ["cats/c1.png", "cats/c2.jpg", "cats/indoor/sofa/c3.png", "dogs/d1.png", "dogs/puppies/p1.png"]
    assert [i.label for i in result.items] == ["cats", "cats", "cats", "dogs", "dogs"]
    assert [i.path for i in result.items] == keys(result)
    assert result.class_counts() == {"cats": 3, "dogs": 2}


def test_files_at_the_top_of_a_class_tree_are_unlabeled(data, make_image) -> None:
    make_image("cats/c.png")
    make_image("loose.png")
    result = scan(str(data))
    assert {i.key: i.label for i in result.items} == {"cats/c.png": "cats", "loose.png": None}
    assert result.to_json()["unlabeled"] == 1


def test_text_class_tree(data, write_file) -> None:
    write_file("pos/a.txt", "good\ngreat\n")
    write_file("neg/b.txt", "bad\n")
    write_file("neg/more/c.jsonl", '{"text": "awful"}\n')
    result = scan(str(data))
    assert result.modality == "text"
    assert [(i.key, i.label, i.text) for i in result.items] == [
        ("neg/b.txt:1", "neg", "bad"),
        ("neg/more/c.jsonl:1", "neg", "awful"),
        ("pos/a.txt:1", "pos", "good"),
        ("pos/a.txt:2", "pos", "great"),
    ]


def test_single_csv_file(tmp_path, write_file) -> None:
    path = write_file("reviews.csv", 'text,label\ngreat,pos\n"meh, really",neg\nbroken,row,here\n')
    result = scan(str(path))
    assert result.modality == "text"
    assert result.root == str(path.parent)
    assert [(i.key, i.path, i.text, i.label, i.line) for i in result.items] == [
        ("reviews.csv:2", "reviews.csv", "great", "pos", 2),
        ("reviews.csv:3", "reviews.csv", "meh, really", "neg", 3),
    ]
    assert [(p.path, p.line) for p in result.problems] == [("reviews.csv", 4)]
    assert result.class_counts() == {"neg": 1, "pos": 1}


def test_single_file_in_a_subfolder_gets_no_folder_label(write_file) -> None:
    path = write_file("pos/only.txt", "x\n")
    (item,) = scan(str(path)).items
    assert (item.key, item.label) == ("only.txt:1", None)


def test_single_image_file_is_refused(make_image) -> None:
    path = make_image("one.png")
    with pytest.raises(DatasetError, match="open the folder"):
        scan(str(path))


# ---------------------------------------------------------------------------------------------
# What is skipped, what is reported
# ---------------------------------------------------------------------------------------------


def test_hidden_files_and_os_clutter_are_ignored(data, make_image, write_file) -> None:
    make_image("a.png")
    make_image(".hidden.png")
    make_image(".cache/b.png")
    make_image("cats/.thumb.png")
    for name in ("Thumbs.db", "thumbs.db", ".DS_Store", "desktop.ini", "cats/Thumbs.db", ".directory"):
        write_file(name, b"\x00junk\x00")
    result = scan(str(data))
    assert keys(result) == ["a.png"]
    assert result.problems == []


def test_text_file_in_an_image_dataset_is_reported_as_skipped(data, make_image, write_file) -> None:
    make_image("a.png")
    make_image("b.png")
    write_file("notes.txt", "remember the milk\n")
    result = scan(str(data))
    assert keys(result) == ["a.png", "b.png"]
    assert problems_by_path(result) == {"notes.txt": "text file in an image dataset; skipped"}


def test_image_in_a_text_dataset_is_reported_as_skipped(data, make_image, write_file) -> None:
    write_file("a.txt", "one\n")
    write_file("b.txt", "two\n")
    make_image("pic.png")
    result = scan(str(data))
    assert result.modality == "text"
    assert [i.text for i in result.items] == ["one", "two"]
    assert problems_by_path(result) == {"pic.png": "image file in a text dataset; skipped"}


def test_unknown_extensions_are_sniffed_in_an_image_dataset(data, make_image, write_file) -> None:
    make_image("a.png")
    make_image("photo.dat", fmt="PNG")
    write_file("README", "just words\n")
    result = scan(str(data))
    assert keys(result) == ["a.png", "photo.dat"]
    assert result.items[1].format == "PNG"
    assert problems_by_path(result) == {"README": "not an image or a supported text file"}


def test_unknown_extension_in_a_text_dataset(data, write_file) -> None:
    write_file("a.txt", "one\n")
    write_file("data.bin", b"\x01\x02")
    result = scan(str(data))
    assert problems_by_path(result) == {"data.bin": "not a supported text file (.txt, .csv, .tsv, .jsonl)"}


def test_broken_files_are_problems_and_the_rest_loads(data, make_image, write_file, bomb_png) -> None:
    make_image("cats/ok.png")
    write_file("cats/empty.jpg", b"")
    write_file("dogs/bomb.png", bomb_png())
    write_file("dogs/junk.gif", b"GIF89a but not really")
    make_image("dogs/ok.jpg")
    result = scan(str(data))
    assert keys(result) == ["cats/ok.png", "dogs/ok.jpg"]
    reasons = problems_by_path(result)
    assert sorted(reasons) == ["cats/empty.jpg", "dogs/bomb.png", "dogs/junk.gif"]
    assert reasons["cats/empty.jpg"] == "empty file"
    assert "over the limit" in reasons["dogs/bomb.png"]
    assert result.class_counts() == {"cats": 1, "dogs": 1}


# ---------------------------------------------------------------------------------------------
# Symbolic links
# ---------------------------------------------------------------------------------------------


def test_symlink_out_of_the_root_is_reported_and_not_followed(tmp_path, data, make_image) -> None:
    make_image("inside.png")
    outside = tmp_path / "outside"
    make_image(str(outside / "secret.png"))
    make_image(str(outside / "more" / "deep.png"))
    os.symlink(outside, data / "linked_dir")
    os.symlink(outside / "secret.png", data / "linked_file.png")
    result = scan(str(data))
    assert keys(result) == ["inside.png"]
    reasons = problems_by_path(result)
    assert sorted(reasons) == ["linked_dir", "linked_file.png"]
    assert all("outside the dataset folder" in r and "not followed" in r for r in reasons.values())


def test_folder_linked_inside_the_root_is_scanned_once_under_its_real_name(data, make_image) -> None:
    make_image("cats/a.png")
    make_image("dogs/b.png")
    os.symlink(data / "cats", data / "animals")  # sorts before "cats"
    os.symlink(data / "dogs", data / "cats" / "friends")  # reached before "dogs"
    result = scan(str(data))
    assert [(i.key, i.label) for i in result.items] == [("cats/a.png", "cats"), ("dogs/b.png", "dogs")]
    assert problems_by_path(result) == {
        "animals": "symbolic link to a folder already in the dataset (cats); not followed",
        "cats/friends": "symbolic link to a folder already in the dataset (dogs); not followed",
    }


def test_link_to_a_hidden_folder_is_followed(data, make_image) -> None:
    make_image(".store/cats/a.png")
    os.symlink(data / ".store" / "cats", data / "cats")
    result = scan(str(data))
    assert [(i.key, i.label) for i in result.items] == [("cats/a.png", "cats")]
    assert result.problems == []


def test_file_linked_inside_the_root_is_followed(data, make_image) -> None:
    make_image("real.png")
    os.symlink(data / "real.png", data / "alias.png")
    result = scan(str(data))
    assert keys(result) == ["alias.png", "real.png"]
    assert result.items[0].sha256 == result.items[1].sha256


@pytest.mark.timeout(10)
def test_symlink_loop_does_not_hang(data, make_image) -> None:
    make_image("cats/a.png")
    os.symlink(data, data / "cats" / "back_to_root")
    os.symlink(data / "cats", data / "cats" / "self")
    result = scan(str(data))
    assert keys(result) == ["cats/a.png"]
    reasons = problems_by_path(result)
    assert sorted(reasons) == ["cats/back_to_root", "cats/self"]
    assert all("loop" in r for r in reasons.values())


@pytest.mark.timeout(10)
def test_symlinks_pointing_at_each_other_do_not_hang(data, make_image) -> None:
    make_image("a.png")
    os.symlink(data / "ping", data / "pong")
    os.symlink(data / "pong", data / "ping")
    result = scan(str(data))
    assert keys(result) == ["a.png"]
    assert sorted(problems_by_path(result)) == ["ping", "pong"]


def test_broken_symlink_is_reported(data, make_image) -> None:
    make_image("a.png")
    os.symlink(data / "gone.png", data / "dangling.png")
    result = scan(str(data))
    assert keys(result) == ["a.png"]
    assert problems_by_path(result) == {"dangling.png": "broken symbolic link"}


def test_scanning_through_a_symlinked_root(tmp_path, data, make_image) -> None:
    make_image("cats/a.png")
    os.symlink(data, tmp_path / "alias")
    result = scan(str(tmp_path / "alias"))
    assert keys(result) == ["cats/a.png"]
    assert result.problems == []


# ---------------------------------------------------------------------------------------------
# Unusable datasets
# ---------------------------------------------------------------------------------------------


def test_missing_path_raises(tmp_path) -> None:
    with pytest.raises(DatasetError, match="no such file or folder"):
        scan(str(tmp_path / "nowhere"))


def test_empty_folder_raises(data) -> None:
    with pytest.raises(DatasetError, match="no images or text files found"):
        scan(str(data))


def test_folder_of_only_hidden_files_raises(data, write_file) -> None:
    write_file(".DS_Store", b"x")
    write_file("Thumbs.db", b"x")
    with pytest.raises(DatasetError):
        scan(str(data))


def test_folder_of_only_broken_files_is_a_result_with_problems(data, write_file) -> None:
    write_file("a.png", b"")
    result = scan(str(data))
    assert result.items == []
    assert problems_by_path(result) == {"a.png": "empty file"}


# ---------------------------------------------------------------------------------------------
# The scan job
# ---------------------------------------------------------------------------------------------


def _make_many_images(make_image, count: int, broken_every: int = 0, write_file=None) -> None:
    for i in range(count):
        name = f"c{i % 3}/img{i:04d}.png"
        if broken_every and write_file is not None and i % broken_every == 0:
            write_file(name, b"")
        else:
            make_image(name, size=(4 + i % 5, 3), color=(i % 256, 0, 0))


def test_scan_job_payloads_contain_every_item_and_problem(data, make_image, write_file) -> None:
    _make_many_images(make_image, 600, broken_every=97, write_file=write_file)
    write_file("notes.txt", "x\n")
    job = scan_job(str(data), ScanOptions(workers=1))
    progress: list[Progress] = []
    result = run_job(job, progress.append)

    assert len(result.items) == 600 - 7
    assert len(result.problems) == 7 + 1
    assert all(isinstance(p.payload, ScanBatch) for p in progress)
    assert [i for p in progress for i in p.payload.items] == result.items
    assert [q for p in progress for q in p.payload.problems] == result.problems
    assert progress[0].done == 0
    assert progress[0].payload.problems == [q for q in result.problems if q.path == "notes.txt"]
    assert [p.done for p in progress] == sorted(p.done for p in progress)
    assert progress[-1].done == progress[-1].total == 600
    assert progress[-1].fraction == 1.0
    assert len(progress) >= 3  # 600 files in batches: the view fills while the scan goes on


def test_text_scan_job_payloads_contain_every_item(data, write_file) -> None:
    write_file("a.txt", "".join(f"line {i}\n" for i in range(5000)))
    write_file("b.jsonl", '{"text": "ok"}\nnot json\n')
    progress: list[Progress] = []
    result = run_job(scan_job(str(data)), progress.append)
    assert len(result.items) == 5001
    assert [i for p in progress for i in p.payload.items] == result.items
    assert [q for p in progress for q in p.payload.problems] == result.problems
    assert progress[-1].done == progress[-1].total == 2


def test_scan_job_cancelled_before_it_starts(data, make_image, write_file) -> None:
    make_image("a.png")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        scan(str(data), cancel=token)

    text_root = data / "texts"
    write_file("texts/a.txt", "x\n")
    with pytest.raises(Cancelled):
        scan(str(text_root), cancel=token)


def test_scan_job_cancelled_midway(data, make_image) -> None:
    _make_many_images(make_image, 600)
    token = CancelToken()
    job = scan_job(str(data), ScanOptions(workers=1), token)
    first = next(job)
    assert first.done == 0
    second = next(job)
    assert second.done == 256
    token.cancel()
    with pytest.raises(Cancelled):
        next(job)


def test_parallel_scan_matches_serial(data, make_image, write_file) -> None:
    _make_many_images(make_image, 300, broken_every=50, write_file=write_file)
    serial = scan(str(data), ScanOptions(workers=1))
    parallel = scan(str(data), ScanOptions(workers=2))
    assert len(serial.items) == 294
    assert parallel.items == serial.items
    assert parallel.problems == serial.problems
    assert parallel.to_json() == serial.to_json()


def test_parallel_scan_can_be_cancelled(data, make_image) -> None:
    _make_many_images(make_image, 600)
    token = CancelToken()
    job = scan_job(str(data), ScanOptions(workers=2), token)
    next(job)
    first = next(job)
    # The first screenful is read in the scanning thread while the worker processes start.
    assert first.done == 64 and [i.key for i in first.payload.items][:2] == ["c0/img0000.png", "c0/img0003.png"]
    assert next(job).done == 64 + 256
    token.cancel()
    with pytest.raises(Cancelled):
        next(job)


def test_scan_never_modifies_the_source(tmp_path, data, make_image, write_file, noise, bomb_png, digest_tree) -> None:
    make_image("cats/a.jpg", image=noise(64, 48), exif=_exif_orientation_6())
    make_image("cats/b.png")
    make_image("dogs/c.gif")
    cut = make_image("dogs/cut.jpg", image=noise(64, 64))
    cut.write_bytes(cut.read_bytes()[:500])
    write_file("dogs/bomb.png", bomb_png())
    write_file("dogs/empty.png", b"")
    write_file("notes.txt", "hello\n")
    write_file("Thumbs.db", b"\x00")
    os.symlink(data / "cats" / "b.png", data / "dogs" / "link.png")
    os.symlink(tmp_path, data / "escape")
    before = digest_tree(data)
    stat_before = os.stat(data)

    result = scan(str(data))
    scan(str(data), ScanOptions(workers=2))
    text_result = scan(str(data / "notes.txt"))

    assert digest_tree(data) == before
    assert os.stat(data).st_mtime_ns == stat_before.st_mtime_ns
    assert len(result.items) == 4  # a, b, c and the link to b
    assert len(text_result.items) == 1


def _exif_orientation_6():
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6
    return exif


# ---------------------------------------------------------------------------------------------
# JSON shape (a contract: keys may be added, never renamed)
# ---------------------------------------------------------------------------------------------


def test_to_json_has_the_design_shape(data, make_image, write_file) -> None:
    make_image("cats/a.png")
    make_image("cats/b.png")
    make_image("dogs/c.png")
    make_image("d.png")
    write_file("dogs/empty.png", b"")
    out = scan(str(data)).to_json()

    assert json.loads(json.dumps(out)) == out
    assert {"modality", "items", "classes", "problems"} <= set(out)
    assert out["modality"] == "image"
    assert out["items"] == 4
    assert out["classes"] == {"cats": 2, "dogs": 1}
    assert out["problems"] == [{"path": "dogs/empty.png", "reason": "empty file"}]


def test_to_json_of_a_text_dataset(data, write_file) -> None:
    write_file("pos/a.jsonl", '{"text": "ok"}\n{oops\n')
    write_file("neg/b.txt", "fine\n")
    out = scan(str(data)).to_json()
    assert out["modality"] == "text"
    assert out["items"] == 2
    assert out["classes"] == {"neg": 1, "pos": 1}
    (problem,) = out["problems"]
    assert problem["path"] == "pos/a.jsonl"
    assert problem["reason"].startswith("not valid JSON")
    assert problem.get("line") == 2
    assert all(isinstance(p["path"], str) and isinstance(p["reason"], str) for p in out["problems"])


def test_scan_options_round_trip() -> None:
    options = ScanOptions(text_column="t", label_column="l", encoding="cp1252", max_pixels=10, max_text_chars=5)
    back = ScanOptions.from_json(json.loads(json.dumps(options.to_json())) | {"future_key": 1})
    assert back.to_json() == options.to_json()


def test_item_is_immutable(data, make_image) -> None:
    make_image("a.png")
    (item,) = scan(str(data)).items
    assert isinstance(item, Item)
    with pytest.raises(AttributeError):
        item.label = "x"  # type: ignore[misc]
