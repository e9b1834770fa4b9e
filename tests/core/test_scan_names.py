"""Names that are not valid UTF-8 (Linux allows any bytes but '/' and NUL): never skipped
silently, never a traceback, and every message, stored path and JSON output stays valid UTF-8."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from PIL import Image

from genaug_desktop.core.datasets import DatasetError
from genaug_desktop.core.datasets.model import printable_path
from genaug_desktop.core.datasets.scan import scan_job
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store import ProjectError, init_project_job

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="names of arbitrary bytes are a Linux thing")


def _png(path: bytes) -> None:
    Image.new("RGB", (8, 8), (200, 10, 10)).save(path, "PNG")


def _valid_json(obj: object) -> str:
    text = json.dumps(obj, ensure_ascii=False)
    text.encode("utf-8")  # raises on a lone surrogate: what a consumer would choke on
    return text


@pytest.fixture()
def odd_tree(tmp_path: Path) -> Path:
    root = os.fsencode(tmp_path / "data")
    os.makedirs(root + b"/cat")
    os.makedirs(root + b"/d\xffog")
    _png(root + b"/cat/ok.png")
    _png(root + b"/cat/b\xe9d.png")  # Latin-1 'bad'
    _png(root + b"/d\xffog/one.png")
    _png(root + b"/d\xffog/two.png")
    return tmp_path / "data"


def test_odd_file_and_folder_names_are_problems_with_escaped_paths(odd_tree: Path) -> None:
    result = run_job(scan_job(str(odd_tree)))
    assert [i.path for i in result.items] == ["cat/ok.png"]
    problems = {p.path: p.reason for p in result.problems}
    assert problems == {
        "cat/b\\xe9d.png": "file name is not valid UTF-8; rename it to use it",
        "d\\xffog": "folder name is not valid UTF-8; rename it to use the files in it",
    }
    _valid_json(result.to_json())


def test_odd_name_in_a_text_folder_is_a_problem(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path / "texts")
    os.makedirs(root)
    with open(root + b"/good.txt", "w", encoding="utf-8") as fh:
        fh.write("one line\nanother line\n")
    with open(root + b"/r\xe9sum\xe9.txt", "w", encoding="utf-8") as fh:
        fh.write("hidden line\n")
    result = run_job(scan_job(os.fsdecode(root)))
    assert len(result.items) == 2 and all(i.path == "good.txt" for i in result.items)
    assert [(p.path, "not valid UTF-8" in p.reason) for p in result.problems] == [("r\\xe9sum\\xe9.txt", True)]


def test_a_dataset_folder_with_an_odd_path_scans_and_reports_a_valid_root(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path) + b"/r\xffoot"
    os.makedirs(root + b"/cat")
    _png(root + b"/cat/a.png")
    result = run_job(scan_job(os.fsdecode(root)))
    assert len(result.items) == 1
    report = _valid_json(result.to_json())
    assert json.loads(report)["root"] == printable_path(os.fsdecode(root)) == str(tmp_path) + "/r\\xffoot"


def test_a_single_text_file_with_an_odd_name_is_a_clear_error(tmp_path: Path) -> None:
    path = os.fsencode(tmp_path) + b"/t\xff.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label\nhello,a\n")
    with pytest.raises(DatasetError) as err:
        run_job(scan_job(os.fsdecode(path)))
    message = str(err.value)
    message.encode("utf-8")
    assert message == f"{tmp_path}/t\\xff.csv: the file name is not valid UTF-8; rename it to use it as a dataset"


def test_a_project_refuses_a_dataset_path_it_cannot_keep_and_leaves_nothing(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path) + b"/r\xffoot"
    os.makedirs(root + b"/cat")
    _png(root + b"/cat/a.png")
    with pytest.raises(ProjectError, match=r"dataset's path is not valid UTF-8 \(.*r\\xffoot\)") as err:
        run_job(init_project_job(str(tmp_path / "p.genaug"), os.fsdecode(root)))
    str(err.value).encode("utf-8")
    assert sorted(os.listdir(tmp_path)) == [b"r\xffoot".decode("utf-8", "surrogateescape")]


def test_a_project_of_a_dataset_with_odd_names_stores_them_as_problems(tmp_path: Path, odd_tree: Path) -> None:
    with run_job(init_project_job(str(tmp_path / "p.genaug"), str(odd_tree))) as project:
        assert [i.path for i in project.items()] == ["cat/ok.png"]
        assert sorted(p.path for p in project.problems()) == ["cat/b\\xe9d.png", "d\\xffog"]
        _valid_json(project.status())
