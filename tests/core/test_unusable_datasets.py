"""A dataset nothing can be read from never becomes a project; a misspelt encoding is a usage
error; a JSONL field the user named that no line has is one problem naming the fields there are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genaug_desktop.core.datasets.model import DatasetError, ScanOptions, check_encoding
from genaug_desktop.core.datasets.scan import scan
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store import init_project_job

from .test_text_readers import read


def jsonl(write_file, name: str, rows: list[str]) -> Path:
    return write_file(name, "\n".join(rows) + "\n")


# ---- JSONL: a named field no line has ------------------------------------------------------------
def test_named_text_field_missing_everywhere_is_one_problem_naming_the_fields(write_file) -> None:
    path = jsonl(write_file, "r.jsonl", [f'{{"text": "t{i}", "label": "a", "uid": {i}}}' for i in range(32)])
    items, problems = read(path, text_column="review")
    assert items == []
    assert len(problems) == 1
    reason = problems[0].reason
    assert problems[0].line is None
    assert "no text field 'review' in any of its 32 JSON lines" in reason
    assert "fields are: text, label, uid" in reason
    assert "--text-column" in reason


def test_named_text_field_missing_on_some_lines_is_a_problem_per_line_in_order(write_file) -> None:
    path = jsonl(write_file, "r.jsonl", [
        '{"body": "no review here"}',   # 1
        '{"body": "nor here"}',         # 2
        "{broken",                      # 3
        '{"review": "first"}',          # 4
        '{"body": "again none"}',       # 5
        '{"review": "second"}',         # 6
    ])
    items, problems = read(path, text_column="review")
    assert [i.text for i in items] == ["first", "second"]
    missing = sorted(p.line for p in problems if p.reason == "no field 'review'")
    assert missing == [1, 2, 5]
    assert [p.line for p in problems if p.reason.startswith("not valid JSON")] == [3]


def test_named_label_field_missing_everywhere_is_one_problem_and_the_texts_load(write_file) -> None:
    path = jsonl(write_file, "r.jsonl", ['{"text": "a", "class": "x"}', '{"text": "b", "class": "y"}'])
    items, problems = read(path, label_column="stars")
    assert [i.text for i in items] == ["a", "b"]
    assert [i.label for i in items] == [None, None]
    assert len(problems) == 1
    assert "no label field 'stars' in any line" in problems[0].reason
    assert "fields are: text, class" in problems[0].reason


def test_named_label_field_on_a_later_line_is_no_problem(write_file) -> None:
    path = jsonl(write_file, "r.jsonl", ['{"text": "a"}', '{"text": "b", "stars": 5}'])
    items, problems = read(path, label_column="stars")
    assert [i.label for i in items] == [None, "5"]
    assert problems == []


def test_many_field_names_are_capped(write_file) -> None:
    row = "{" + ", ".join(f'"f{i}": {i}' for i in range(60)) + "}"
    items, problems = read(jsonl(write_file, "wide.jsonl", [row]), text_column="nope")
    assert items == []
    assert "f0, f1" in problems[0].reason and "more" in problems[0].reason
    assert "f59" not in problems[0].reason


# ---- encodings -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["bogus", "klingon-8", "base64", "rot13"])
def test_unknown_or_non_text_encoding_is_refused_before_reading(write_file, name: str) -> None:
    path = write_file("a.csv", "text\nhello\n")
    with pytest.raises(DatasetError, match=f"unknown text encoding '{name}'"):
        scan(str(path), ScanOptions(encoding=name))


@pytest.mark.parametrize("name", [None, "", "utf-8", "cp1252", "latin-1", "UTF-16"])
def test_known_encodings_pass(name: str | None) -> None:
    check_encoding(name)


# ---- init: nothing usable, no project ------------------------------------------------------------
def _siblings(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_init_with_a_missing_csv_column_creates_nothing(tmp_path: Path, write_file) -> None:
    data = write_file("stars.csv", "body,stars\nhello world,5\nbad thing,1\n")
    before = _siblings(tmp_path)
    with pytest.raises(DatasetError) as info:
        run_job(init_project_job(str(tmp_path / "t.genaug"), str(data), ScanOptions(text_column="nope")))
    message = str(info.value)
    assert message.startswith(f"{data}: no usable text items: no text column 'nope'; columns are: body, stars")
    assert "no project was created" in message
    assert _siblings(tmp_path) == before  # no project, no hidden staging folder


def test_init_of_a_folder_of_broken_images_creates_nothing(tmp_path: Path, write_file) -> None:
    write_file("imgs/a.png", b"not a png")
    write_file("imgs/b.png", b"")
    write_file("imgs/notes.doc", b"x")
    before = _siblings(tmp_path)
    with pytest.raises(DatasetError) as info:
        run_job(init_project_job(str(tmp_path / "p.genaug"), str(tmp_path / "data" / "imgs"), None))
    message = str(info.value)
    assert "no usable image items: 3 problems in 3 files (e.g. a.png:" in message
    assert _siblings(tmp_path) == before


def test_init_with_an_unknown_encoding_creates_nothing(tmp_path: Path, write_file) -> None:
    data = write_file("cp.csv", "text,label\ncafé,a\n".encode("cp1252"))
    with pytest.raises(DatasetError, match="unknown text encoding 'bogus'"):
        run_job(init_project_job(str(tmp_path / "c.genaug"), str(data), ScanOptions(encoding="bogus")))
    assert not (tmp_path / "c.genaug").exists()


def test_init_with_some_bad_items_still_works(tmp_path: Path, write_file) -> None:
    data = write_file("ok.csv", 'text,label\nfine,a\n"unterminated,b\n')
    project = run_job(init_project_job(str(tmp_path / "ok.genaug"), str(data), None))
    with project:
        status = project.status()
        assert status["items"] == 1
        assert status["dataset"] == str(data)  # the file the user named, not its folder
        assert status["dataset_root"] == str(data.parent)
