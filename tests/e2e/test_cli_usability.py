"""What a new user met on the command line: unusable input that exited 0, a moved dataset, flags
that conflict, outputs that said too little. Each test runs ``genaug`` in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from cli_helpers import assert_one_clear_line, genaug

ROOT = Path(__file__).resolve().parents[2]
LIGHT_POLICY = str(ROOT / "resources" / "presets" / "image_light.json")


@pytest.fixture()
def shapes(tmp_path: Path) -> Path:
    root = tmp_path / "imgs2"
    for label, n in (("circle", 3), ("square", 4)):
        (root / label).mkdir(parents=True)
        for i in range(n):
            Image.new("RGB", (16, 12), (40 * i, 200 if label == "circle" else 0, 90)).save(root / label / f"{i}.png")
    return root


@pytest.fixture()
def reviews(tmp_path: Path) -> Path:
    path = tmp_path / "txt" / "reviews.csv"
    path.parent.mkdir()
    path.write_text("text,label\ngreat value,pos\nbroke in a day,neg\nfine,pos\n", encoding="utf-8")
    return path


def init(project: Path, dataset: Path, *extra: str) -> None:
    proc = genaug("init", str(project), str(dataset), *extra)
    assert proc.returncode == 0, proc.stderr


# ---- unusable input: exit 2, one line, nothing left behind -----------------------------------------
def test_init_with_an_unknown_encoding_exits_2_and_creates_nothing(tmp_path: Path, reviews: Path) -> None:
    proc = genaug("init", str(tmp_path / "cp2.genaug"), str(reviews), "--encoding", "bogus")
    assert_one_clear_line(proc, "unknown text encoding 'bogus'", "cp1252")
    assert not (tmp_path / "cp2.genaug").exists()
    assert_one_clear_line(genaug("scan", str(reviews), "--encoding", "bogus"), "unknown text encoding 'bogus'")


def test_init_with_a_missing_column_exits_2_and_leaves_nothing(tmp_path: Path) -> None:
    data = tmp_path / "txt2.csv"
    data.write_text("body,stars\nhello world,5\nbad thing,1\n", encoding="utf-8")
    before = sorted(os.listdir(tmp_path))
    proc = genaug("init", str(tmp_path / "t3.genaug"), str(data), "--text-column", "nope")
    line = assert_one_clear_line(proc, "no text column 'nope'; columns are: body, stars", "no project was created")
    assert str(data) in line
    assert sorted(os.listdir(tmp_path)) == before


def test_scan_of_a_dataset_with_no_usable_item_lists_it_and_exits_2(tmp_path: Path) -> None:
    data = tmp_path / "f.csv"
    data.write_text("body,stars\nhello,5\n", encoding="utf-8")
    proc = genaug("scan", str(data), "--text-column", "nope")
    assert_one_clear_line(proc, "no usable text items")
    assert "0 items" in proc.stdout and "no text column 'nope'" in proc.stdout
    as_json = genaug("scan", str(data), "--text-column", "nope", "--json")
    assert_one_clear_line(as_json, "no usable text items")
    assert json.loads(as_json.stdout)["items"] == 0  # still valid JSON on stdout


def test_a_jsonl_text_field_no_line_has_is_one_problem_naming_the_fields(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text("".join(f'{{"text": "t{i}", "label": "a", "uid": {i}}}\n' for i in range(32)), encoding="utf-8")
    proc = genaug("scan", str(data), "--text-column", "review", "--json")
    assert proc.returncode == 2
    problems = json.loads(proc.stdout)["problems"]
    assert len(problems) == 1
    assert "no text field 'review' in any of its 32 JSON lines; fields are: text, label, uid" in problems[0]["reason"]


# ---- what the outputs say -----------------------------------------------------------------------
def test_scan_init_status_name_the_file_of_a_csv_dataset(tmp_path: Path, reviews: Path) -> None:
    scan = genaug("scan", str(reviews))
    assert scan.stdout.startswith(f"{reviews}: text dataset, 3 items")
    created = genaug("init", str(tmp_path / "t.genaug"), str(reviews))
    assert f"text dataset at {reviews}," in created.stdout
    status = genaug("status", str(tmp_path / "t.genaug"))
    assert f"text dataset at {reviews}\n" in status.stdout
    assert json.loads(genaug("status", str(tmp_path / "t.genaug"), "--json").stdout)["dataset"] == str(reviews)


def test_status_shows_counts_per_class(tmp_path: Path, shapes: Path) -> None:
    project = tmp_path / "p.genaug"
    init(project, shapes)
    assert genaug("augment", str(project), "--policy", LIGHT_POLICY, "--workers", "1").returncode == 0
    assert genaug("decide", str(project), "--accept", "1", "2").returncode == 0
    out = genaug("status", str(project)).stdout
    table = out[out.index("by class:"):].splitlines()
    assert table[1].split() == ["class", "items", "pending", "accepted", "rejected"]
    rows = {line.split()[0]: [int(n) for n in line.split()[1:]] for line in table[2:]}
    assert rows == {"circle": [3, 1, 2, 0], "square": [4, 4, 0, 0]}


def test_list_says_when_there_are_no_candidates(tmp_path: Path, reviews: Path) -> None:
    project = tmp_path / "t.genaug"
    init(project, reviews)
    plain = genaug("list", str(project))
    assert (plain.returncode, plain.stdout) == (0, "")
    assert "no candidates yet" in plain.stderr
    filtered = genaug("list", str(project), "--status", "accepted")
    assert "no accepted candidates" in filtered.stderr
    as_json = genaug("list", str(project), "--json")
    assert (as_json.returncode, json.loads(as_json.stdout), as_json.stderr) == (0, [], "")


# ---- augment flags ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--per-item", "2", "--balance"], "not allowed with argument"),
        (["--balance", "-5"], "--balance TARGET must be 1 or more"),
        (["--balance", "0"], "--balance TARGET must be 1 or more"),
        (["--per-item", "-3"], "--per-item must be 0 or more"),
    ],
)
def test_conflicting_or_negative_augment_counts_exit_2(tmp_path: Path, shapes: Path, args: list[str], needle: str) -> None:
    project = tmp_path / "p.genaug"
    init(project, shapes)
    assert_one_clear_line(genaug("augment", str(project), "--policy", LIGHT_POLICY, *args), needle)


def test_balance_says_why_nothing_was_made(tmp_path: Path, shapes: Path) -> None:
    (shapes / "square" / "3.png").unlink()  # 3 and 3
    project = tmp_path / "p.genaug"
    init(project, shapes)
    proc = genaug("augment", str(project), "--policy", LIGHT_POLICY, "--balance")
    assert proc.returncode == 0
    assert "the classes are already balanced at 3 items each" in proc.stdout
    smaller = genaug("augment", str(project), "--policy", LIGHT_POLICY, "--balance", "2")
    assert "every class already has 2 items or more (the smallest has 3)" in smaller.stdout
    grow = genaug("augment", str(project), "--policy", LIGHT_POLICY, "--balance", "5", "--workers", "1")
    assert grow.stdout.startswith("4 candidates made"), grow.stdout


def test_balance_without_classes_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "flat"
    root.mkdir()
    for i in range(2):
        Image.new("RGB", (8, 8), (i, 0, 0)).save(root / f"{i}.png")
    init(tmp_path / "f.genaug", root)
    proc = genaug("augment", str(tmp_path / "f.genaug"), "--policy", LIGHT_POLICY, "--balance")
    assert_one_clear_line(proc, "--balance needs labelled items")
    assert json.loads(genaug("status", str(tmp_path / "f.genaug"), "--json").stdout)["candidates"] == 0
    rows = genaug("status", str(tmp_path / "f.genaug")).stdout.split("by class:")[1].splitlines()[2:]
    assert [r.split() for r in rows] == [["(unlabeled)", "2", "0", "0", "0"]]


# ---- a moved dataset ----------------------------------------------------------------------------
def test_augment_after_the_dataset_moved_exits_1_and_relink_repairs_it(tmp_path: Path, shapes: Path) -> None:
    project = tmp_path / "p2.genaug"
    init(project, shapes)
    new = tmp_path / "imgs3"
    shapes.rename(new)
    failed = genaug("augment", str(project), "--policy", LIGHT_POLICY, "--workers", "1")
    assert failed.returncode == 1, failed.stderr
    last = failed.stderr.strip().splitlines()[-1]
    assert "7 of 7 source files are missing (did the dataset move?" in last
    assert f"genaug relink {project} NEW_DATASET_PATH" in last
    assert "Traceback" not in failed.stderr
    status = genaug("status", str(project))
    assert "genaug relink" in status.stderr

    wrong = tmp_path / "wrong"
    (wrong / "circle").mkdir(parents=True)
    assert_one_clear_line(genaug("relink", str(project), str(wrong)), "none of the project's 7 source files")

    dry = genaug("relink", str(project), str(new), "--dry-run")
    assert dry.returncode == 0 and "nothing was changed" in dry.stdout
    assert genaug("augment", str(project), "--policy", LIGHT_POLICY, "--workers", "1").returncode == 1

    done = genaug("relink", str(project), str(new))
    assert done.returncode == 0, done.stderr
    assert f"now uses {new} (was {shapes}): 7 of 7 source files match, 0 missing, 0 changed" in done.stdout
    again = genaug("augment", str(project), "--policy", LIGHT_POLICY, "--workers", "1")
    assert (again.returncode, again.stdout.split(";")[0].split(" in ")[0]) == (0, "7 candidates made")


def test_relink_json_lists_missing_files(tmp_path: Path, shapes: Path) -> None:
    project = tmp_path / "p.genaug"
    init(project, shapes)
    new = tmp_path / "moved"
    shutil.move(str(shapes), str(new))
    (new / "square" / "0.png").unlink()
    proc = genaug("relink", str(project), str(new), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["matched"], report["missing"], report["changed"], report["applied"]) == (6, ["square/0.png"], [], True)


# ---- Ctrl-C ------------------------------------------------------------------------------------
def test_ctrl_c_on_augment_says_what_was_kept_and_how_to_finish(tmp_path: Path) -> None:
    root = tmp_path / "many"
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for i in range(400):
            Image.new("RGB", (24, 24), (i % 256, 9, 0)).save(root / label / f"{i}.png")
    project = tmp_path / "m.genaug"
    init(project, root)
    proc = subprocess.Popen(
        [sys.executable, "-m", "genaug_desktop.cli", "augment", str(project), "--policy", LIGHT_POLICY,
         "--per-item", "8", "--seed", "3", "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    db = project / "project.sqlite"
    deadline = time.monotonic() + 120
    made = 0
    while made == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            made = con.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
    assert proc.poll() is None, "the augment ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    kept = json.loads(genaug("status", str(project), "--json").stdout)["candidates"]
    assert 0 < kept < 6400
    line = err.strip().splitlines()[-1]
    assert f"interrupted; the {kept:,} candidates made before that are kept" in line
    assert "run the same command again (same --policy and --seed 3)" in line
