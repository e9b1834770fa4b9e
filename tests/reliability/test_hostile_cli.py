"""Every ``genaug`` command fed hostile input, in a subprocess with a timeout: a clear problem
each (exit 0 with the problem reported, or exit 2 with one line), never a traceback, never the
"internal error" of a bug, never a hang."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import LIGHT_IMAGE_POLICY
from .helpers import assert_clear, genaug
from .hostile import IMAGE_DATASETS, JSON_FILES, PROJECTS, TEXT_DATASETS, export_with_manifest

ALL_DATASETS = {**IMAGE_DATASETS, **TEXT_DATASETS}


@pytest.mark.parametrize("case", sorted(ALL_DATASETS))
def test_scan_hostile_dataset(tmp_path: Path, case: str) -> None:
    path = ALL_DATASETS[case](tmp_path)
    proc = genaug("scan", str(path), "--json")
    assert_clear(proc)
    if proc.returncode == 0:
        report = json.loads(proc.stdout)  # stays valid JSON whatever the file names are
        assert report["items"] >= 0
        if case not in ("png_named_jpg", "odd_names", "utf8_truncated_mid_char") and report["items"] == 0:
            assert report["problems"], report


@pytest.mark.parametrize("case", ["odd_names", "symlink_loops", "gigapixel_bomb", "cp1252_text", "csv_ragged_rows",
                                  "jsonl_broken", "odd_name_text"])
def test_scan_human_output_of_hostile_dataset(tmp_path: Path, case: str) -> None:
    proc = genaug("scan", str(ALL_DATASETS[case](tmp_path)))
    # A dataset of no usable item (cp1252 text read as UTF-8) is listed, then exits 2 saying so.
    assert_clear(proc, ok_codes=(0, 2) if case == "cp1252_text" else (0,))
    assert "problem" in proc.stdout


def test_odd_names_are_items_and_are_reported_exactly(tmp_path: Path) -> None:
    root = IMAGE_DATASETS["odd_names"](tmp_path)
    report = json.loads(genaug("scan", str(root), "--json").stdout)
    assert report["items"] == 2 + 9  # every odd name that is valid UTF-8 is a usable image
    bad = [p for p in report["problems"] if "not valid UTF-8" in p["reason"]]
    assert [p["path"] for p in bad] == ["bad\\xff\\xfename.png"]


def test_symlink_loops_are_reported_not_followed(tmp_path: Path) -> None:
    root = IMAGE_DATASETS["symlink_loops"](tmp_path)
    report = json.loads(genaug("scan", str(root), "--json").stdout)
    assert report["items"] == 2
    reasons = " ".join(p["reason"] for p in report["problems"])
    assert "loop" in reasons or "already in the dataset" in reasons
    assert "broken symbolic link" in reasons or "loop" in reasons


@pytest.mark.parametrize("case", sorted(ALL_DATASETS))
def test_init_hostile_dataset(tmp_path: Path, case: str) -> None:
    path = ALL_DATASETS[case](tmp_path)
    proc = genaug("init", str(tmp_path / "p.genaug"), str(path))
    assert_clear(proc)
    if proc.returncode == 0:
        assert_clear(genaug("status", str(tmp_path / "p.genaug"), "--json"), ok_codes=(0,))
    else:
        assert not (tmp_path / "p.genaug" / "project.sqlite").exists()


def test_unknown_encoding_option_is_a_clear_problem(tmp_path: Path) -> None:
    path = TEXT_DATASETS["cp1252_text"](tmp_path)
    proc = genaug("scan", str(path), "--encoding", "no-such-codec", "--json")
    assert_clear(proc)
    if proc.returncode == 0:
        assert "unknown encoding" in proc.stdout
    ok = genaug("scan", str(path), "--encoding", "cp1252", "--json")
    assert json.loads(ok.stdout)["items"] == 2


PROJECT_COMMANDS = {
    "status": ["status", "{p}", "--json"],
    "list": ["list", "{p}", "--json"],
    "decide": ["decide", "{p}", "--accept", "1"],
    "augment": ["augment", "{p}", "--policy", "{policy}"],
    "rules_list": ["rules", "{p}", "list"],
    "rules_propose": ["rules", "{p}", "propose"],
    "filter": ["filter", "{p}"],
    "export": ["export", "{p}", "--out", "{out}", "--format", "imagefolder"],
    "train": ["train", "{p}", "--generator", "char_gru"],
    "sample": ["sample", "{p}", "--generator", "char_gru", "--count", "1"],
    "evaluate": ["evaluate", "{p}", "--seeds", "1"],
}


@pytest.mark.parametrize("command", sorted(PROJECT_COMMANDS))
@pytest.mark.parametrize("case", sorted(PROJECTS))
def test_project_commands_on_a_broken_project(tmp_path: Path, command: str, case: str) -> None:
    project = PROJECTS[case](tmp_path)
    policy = tmp_path / "policy.json"
    policy.write_text(LIGHT_IMAGE_POLICY)
    args = [a.format(p=project, policy=policy, out=tmp_path / "out") for a in PROJECT_COMMANDS[command]]
    proc = genaug(*args)
    assert_clear(proc, ok_codes=(2,))
    assert not (tmp_path / "out").exists()


def test_a_damaged_project_never_gets_overwritten(tmp_path: Path) -> None:
    project = PROJECTS["text_as_db"](tmp_path)
    before = (project / "project.sqlite").read_bytes()
    assert_clear(genaug("status", str(project)), ok_codes=(2,))
    assert (project / "project.sqlite").read_bytes() == before


@pytest.mark.parametrize("case", sorted(JSON_FILES))
def test_policy_validate_hostile_file(tmp_path: Path, case: str) -> None:
    proc = genaug("policy", "validate", str(JSON_FILES[case](tmp_path)), timeout=60)
    assert_clear(proc, ok_codes=(2,))


@pytest.mark.parametrize("case", ["zero_byte", "class_keys", "pickle", "fifo", "deep_nesting", "self_loop"])
def test_augment_with_a_hostile_policy_file(tmp_path: Path, image_project: Path, case: str) -> None:
    proc = genaug("augment", str(image_project), "--policy", str(JSON_FILES[case](tmp_path)), timeout=60)
    assert_clear(proc, ok_codes=(2,))


@pytest.mark.parametrize("case", sorted(JSON_FILES))
def test_rules_import_hostile_file(tmp_path: Path, text_project: Path, case: str) -> None:
    proc = genaug("rules", str(text_project), "import", str(JSON_FILES[case](tmp_path)), timeout=60)
    assert_clear(proc, ok_codes=(2,))


@pytest.mark.parametrize("case", sorted(JSON_FILES))
def test_verify_hostile_manifest(tmp_path: Path, case: str) -> None:
    export = export_with_manifest(tmp_path, case)
    proc = genaug("verify", str(export), timeout=60)
    assert_clear(proc, ok_codes=(1, 2))


@pytest.mark.parametrize("entry", [
    {"path": "../../outside.txt", "sha256": "0" * 64, "size": 1},
    {"path": "/etc/hostname", "sha256": "0" * 64, "size": 1},
    {"path": "loop/x", "sha256": "0" * 64, "size": 1},
    {"path": 5, "sha256": None},
])
def test_verify_a_manifest_that_points_outside(tmp_path: Path, entry: dict[str, object]) -> None:
    export = tmp_path / "export"
    export.mkdir()
    os.symlink(export / "loop", export / "loop")
    (tmp_path / "outside.txt").write_text("x")
    (export / "manifest.json").write_text(json.dumps({"schema_version": 1, "files": [entry]}))
    proc = genaug("verify", str(export), timeout=60)
    assert_clear(proc, ok_codes=(1, 2))
    assert "outside.txt" not in proc.stdout or "outside" in proc.stdout + proc.stderr


@pytest.mark.parametrize("out", ["new\nline", "x" * 300, "-dash", "ünï 🐱", "file_not_dir", "loop/inside", "../escape"])
def test_export_to_odd_destinations(tmp_path: Path, image_project: Path, out: str) -> None:
    (tmp_path / "file_not_dir").write_text("x")
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    work = tmp_path / "work"
    work.mkdir()
    proc = genaug("export", str(image_project), "--out", out, "--format", "imagefolder", "--status", "pending",
                  "--include-originals", cwd=str(work))
    assert_clear(proc)
    if proc.returncode == 0:
        dest = (work / out).resolve()
        assert (dest / "manifest.json").is_file()
        shutil.rmtree(dest)


@pytest.mark.parametrize("args", [
    ["train", "{t}", "--generator", "char_gru", "--set", "epochs=-1"],
    ["train", "{t}", "--generator", "char_gru", "--set", "epochs=1e999"],
    ["train", "{t}", "--generator", "char_gru", "--set", "\u202e=1"],
    ["train", "{t}", "--generator", "../../etc/passwd"],
    ["sample", "{t}", "--generator", "char_gru", "--count", "-5"],
    ["sample", "{t}", "--generator", "char_gru", "--count", "1", "--checkpoint", "../../etc/passwd"],
    ["sample", "{t}", "--generator", "{zero}", "--count", "1", "--trust-code"],
    ["decide", "{t}", "--accept", "999999999999999999999"],
    ["decide", "{t}", "--reject", "-1"],
    ["rules", "{t}", "approve", "no-such-rule"],
    ["rules", "{t}", "set", "no-such-rule", "x=1"],
    ["evaluate", "{t}", "--holdout", "nan"],
    ["export", "{t}", "--out", "{tmp}/o", "--format", "jsonl", "--split", "train=nan"],
    ["export", "{t}", "--out", "{tmp}/o", "--format", "jsonl", "--split", "a=1,a=2"],
    ["rules", "{t}", "export", "{tmp}"],
    ["rules", "{t}", "export", "{tmp}/no/such/folder/rules.json"],
    ["rules", "{t}", "export", "{tmp}/pipe.json"],
    ["rules", "{t}", "dry-run", "no-such-rule"],
    ["rules", "{t}", "release", "no-such-rule"],
    ["rules", "{t}", "dismiss", "../../etc"],
    ["rules", "{t}", "add", "os.system"],
    ["rules", "{t}", "add", "text_length", "--id", "../../x"],
    ["rules", "{t}", "add", "text_length", "--set", "range=[5, 1]"],
    ["list", "{t}", "--status", "pending; DROP TABLE candidates"],
])
def test_hostile_values_on_a_good_project(tmp_path: Path, text_project: Path, args: list[str]) -> None:
    zero = tmp_path / "model.pt"
    zero.write_bytes(b"")
    os.mkfifo(tmp_path / "pipe.json")
    proc = genaug(*[a.format(t=text_project, tmp=tmp_path, zero=zero) for a in args], timeout=90)
    # writing a rule set creates missing folders, and replaces a pipe like any file: both fine
    assert_clear(proc, ok_codes=(0, 2) if args[2] == "export" else (2,))


@pytest.mark.parametrize("command", [["ops", "--json"], ["generators", "--json"]])
def test_commands_without_input_work_from_a_hostile_working_folder(tmp_path: Path, command: list[str]) -> None:
    """Commands that take no file still run from a folder with hostile names and a loop in it."""
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    (tmp_path / "-rf").write_text("x")
    (tmp_path / "genaug_desktop.py").write_text("raise SystemExit('shadowed')")  # must not be imported
    script = Path(sys.executable).parent / "genaug"  # the console script, as a user runs it
    proc = subprocess.run([str(script), *command], capture_output=True, text=True, cwd=str(tmp_path), timeout=120)
    assert_clear(proc, ok_codes=(0,))
    assert json.loads(proc.stdout)
