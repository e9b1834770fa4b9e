"""Every reader, in-process, fed the hostile files of :mod:`hostile`: the exact problem a person
reads for each (not just "no traceback", which test_hostile_cli checks end to end)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from genaug_desktop.core.datasets import DatasetError, ScanOptions, scan
from genaug_desktop.core.datasets.images import ImageProblem, load_image, make_thumbnail, probe_image, thumbnail_batch

from .helpers import noise_png
from .hostile import IMAGE_DATASETS, JSON_FILES, TEXT_DATASETS, export_with_manifest

#: hostile image file -> what the scan must say about it
IMAGE_REASONS = {
    "zero_byte_image": ("empty.png", "empty file"),
    "truncated_png": ("cut.png", "truncated PNG"),
    "truncated_jpeg": ("cut.jpg", "truncated JPEG"),
    "header_only_png": ("head.png", "truncated PNG"),
    "text_named_png": ("notes.png", "not an image Pillow can read"),
    "html_named_jpg": ("page.jpg", "not an image Pillow can read"),
    "gigapixel_bomb": ("bomb.png", "1.6 gigapixels"),
    "wide_bomb": ("wide.png", "over the limit"),
    "zero_size_header": ("zero.png", "not an image Pillow can read"),
    "random_bytes_as_image": ("noise.png", "not an image Pillow can read"),
    "fifo_in_dataset": ("pipe.png", "not a regular file"),
}


def _problems(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {p.path: p.reason for p in result.problems}


@pytest.mark.parametrize("case", sorted(IMAGE_REASONS))
def test_image_scan_names_the_problem(tmp_path: Path, case: str) -> None:
    root = IMAGE_DATASETS[case](tmp_path)
    result = scan(str(root), ScanOptions(workers=1))
    name, needle = IMAGE_REASONS[case]
    assert len(result.items) == 2  # the good files still load
    assert needle in _problems(result)[name], _problems(result)


@pytest.mark.parametrize("case", sorted(k for k in IMAGE_REASONS if k != "fifo_in_dataset"))
def test_image_decoders_raise_the_same_kind_of_reason(tmp_path: Path, case: str) -> None:
    root = IMAGE_DATASETS[case](tmp_path)
    path = str(root / IMAGE_REASONS[case][0])
    for read in (probe_image, load_image, lambda p: make_thumbnail(p, 64)):
        with pytest.raises(ImageProblem) as caught:
            read(path)
        assert str(caught.value) and "Traceback" not in str(caught.value)
    (reason,) = thumbnail_batch([path], 64)
    assert isinstance(reason, str) and reason


def test_a_png_named_jpg_is_read_by_its_content(tmp_path: Path) -> None:
    result = scan(str(IMAGE_DATASETS["png_named_jpg"](tmp_path)), ScanOptions(workers=1))
    assert {i.key: i.format for i in result.items}["really_png.jpg"] == "PNG" and not result.problems


#: hostile text file -> (problem path, line or None, what the problem must say), or None when the
#: file is usable (some lines may still be problems)
TEXT_REASONS = {
    "zero_byte_txt": (None, "empty file"),
    "zero_byte_csv": (None, "empty file"),
    "zero_byte_jsonl": (None, "empty file"),
    "utf16_without_bom": (None, "NUL bytes"),
    "cp1252_text": (1, "not valid UTF-8"),
    "utf8_truncated_mid_char": (2, "not valid UTF-8"),
    "png_named_txt": (None, "this is a PNG image, not a text file"),
    "csv_unterminated_quote": (2, "unterminated quoted field"),
    "csv_ragged_rows": (2, "expected 2 fields, found 3"),
    "csv_nul_bytes": (None, "NUL bytes"),
    "csv_no_text_column": (None, "no text column found"),
    "csv_huge_field": (2, "longer than the limit"),
    "jsonl_broken": (2, "not valid JSON"),
    "jsonl_deep_nesting": (1, "nested too deeply"),
    "jsonl_no_text_field": (None, "no text field found"),
    "jsonl_huge_number": (2, "not valid JSON"),
    "long_single_line": (1, "longer than the limit"),
}


@pytest.mark.parametrize("case", sorted(TEXT_REASONS))
def test_text_scan_names_the_problem_and_the_line(tmp_path: Path, case: str) -> None:
    path = TEXT_DATASETS[case](tmp_path)
    line, needle = TEXT_REASONS[case]
    result = scan(str(path), ScanOptions(workers=1))
    matching = [p for p in result.problems if needle in p.reason]
    assert matching, [p.describe() for p in result.problems]
    assert matching[0].line == line, matching[0].describe()


def test_text_datasets_keep_their_good_lines(tmp_path: Path) -> None:
    expected = {"csv_unterminated_quote": 0, "csv_ragged_rows": 1, "jsonl_broken": 1, "jsonl_deep_nesting": 1,
                "csv_huge_field": 1, "utf8_truncated_mid_char": 1}
    for case, n in expected.items():
        sub = tmp_path / case
        sub.mkdir()
        result = scan(str(TEXT_DATASETS[case](sub)), ScanOptions(workers=1))
        assert len(result.items) == n, (case, [i.text for i in result.items], [p.describe() for p in result.problems])


def test_a_named_encoding_reads_what_utf8_could_not(tmp_path: Path) -> None:
    result = scan(str(TEXT_DATASETS["cp1252_text"](tmp_path)), ScanOptions(workers=1, encoding="cp1252"))
    assert [i.text for i in result.items] == ["caf\xe9 cr\xe8me", "na\xefve"]
    u16 = scan(str(TEXT_DATASETS["utf16_without_bom"](tmp_path)), ScanOptions(workers=1, encoding="utf-16-le"))
    assert [i.text for i in u16.items] == ["hello world", "second line"]


@pytest.mark.parametrize("case", ["missing", "self_loop", "folder"])
def test_unusable_dataset_paths_are_a_dataset_error(tmp_path: Path, case: str) -> None:
    path = JSON_FILES[case](tmp_path)
    if case == "folder":
        path = path / "empty"
        path.mkdir()
    with pytest.raises(DatasetError) as caught:
        scan(str(path))
    assert str(path) in str(caught.value)


def test_a_pipe_as_a_single_file_dataset_is_refused_without_blocking(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    with pytest.raises(DatasetError, match="not a file or folder"):
        scan(str(pipe))


@pytest.mark.parametrize("case", sorted(JSON_FILES))
def test_open_export_on_a_hostile_manifest(tmp_path: Path, case: str) -> None:
    """The export reader (genaug_desktop.api) refuses a damaged export with ExportError."""
    from genaug_desktop.api import open_export
    from genaug_desktop.core.export import ExportError

    export = export_with_manifest(tmp_path, case)
    (export / "images").mkdir()
    (export / "images" / "a.png").write_bytes(noise_png())
    with pytest.raises(ExportError):
        open_export(export)


def test_open_export_on_a_manifest_pointing_outside(tmp_path: Path) -> None:
    """A real export whose manifest was edited to name a split file outside the export."""
    from genaug_desktop.api import open_export
    from genaug_desktop.core.export import ExportError

    from .helpers import genaug, text_csv

    data = text_csv(tmp_path / "d.csv", 4)
    assert genaug("init", str(tmp_path / "p.genaug"), str(data)).returncode == 0
    export = tmp_path / "export"
    assert genaug("export", str(tmp_path / "p.genaug"), "--out", str(export), "--format", "jsonl",
                  "--include-originals", "--status", "pending").returncode == 0
    (tmp_path / "outside.jsonl").write_text(json.dumps({"text": "SECRET", "label": "x"}) + "\n")
    manifest = json.loads((export / "manifest.json").read_text())
    manifest["splits"] = {"../outside": {"ratio": 1.0, "samples": 1}}
    manifest["files"]["../outside.jsonl"] = {"sha256": "0" * 64, "size": 1}
    (export / "manifest.json").write_text(json.dumps(manifest))
    try:
        reader = open_export(export)
        samples = list(reader)
    except (ExportError, KeyError, ValueError, OSError) as exc:
        assert str(exc)
        return
    assert all("SECRET" not in json.dumps(s.get("text")) for s in samples), "read a file outside the export"
