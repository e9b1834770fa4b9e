"""Hostile inputs, one builder each: ``builder(tmp_path) -> path`` of the thing to feed a reader
or a command. Kinds: zero-byte, truncated, mislabelled, oversized, bomb, wrong encoding,
broken CSV/JSONL, odd names and symlink loops."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .helpers import bomb_png, gigapixel_png, jpeg_bytes, noise_png

Builder = Callable[[Path], Path]


def _folder(tmp: Path, files: dict[str, bytes], good: int = 2) -> Path:
    """An image folder with *good* valid images plus *files* (so the dataset stays usable)."""
    root = tmp / "ds"
    root.mkdir(parents=True, exist_ok=True)
    for i in range(good):
        (root / f"ok{i}.png").write_bytes(noise_png(seed=i))
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _file(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _symlink_loop_dataset(tmp: Path) -> Path:
    root = _folder(tmp, {})
    os.symlink(root, root / "again")  # a folder that contains itself
    os.symlink(root / "b", root / "a")
    os.symlink(root / "a", root / "b")  # two links pointing at each other
    return root


def _self_loop_path(tmp: Path) -> Path:
    path = tmp / "loop"
    os.symlink(path, path)
    return path


def _odd_names(tmp: Path) -> Path:
    png = noise_png(seed=7)
    root = _folder(tmp, {
        "new\nline.png": png, "-rf.png": png, "--help.png": png, "ünïcødé 🐱.png": png,
        "e\u0301.png": png, "\u202egnp.exe.png": png, ("x" * 240) + ".png": png, "sp ace .png": png,
        "back\\slash.png": png,
    })
    # a name that is not valid UTF-8 (any bytes but '/' and NUL are allowed on Linux)
    with open(os.path.join(os.fsencode(root), b"bad\xff\xfename.png"), "wb") as fh:
        fh.write(png)
    return root


#: builders of image datasets (folders)
IMAGE_DATASETS: dict[str, Builder] = {
    "zero_byte_image": lambda t: _folder(t, {"empty.png": b""}),
    "truncated_png": lambda t: _folder(t, {"cut.png": noise_png(64, 64)[:300]}),
    "truncated_jpeg": lambda t: _folder(t, {"cut.jpg": jpeg_bytes(64, 64)[:200]}),
    "header_only_png": lambda t: _folder(t, {"head.png": noise_png()[:20]}),
    "png_named_jpg": lambda t: _folder(t, {"really_png.jpg": noise_png(seed=9)}),
    "text_named_png": lambda t: _folder(t, {"notes.png": b"hello, I am text\n"}),
    "html_named_jpg": lambda t: _folder(t, {"page.jpg": b"<!doctype html><html></html>"}),
    "gigapixel_bomb": lambda t: _folder(t, {"bomb.png": gigapixel_png()}),
    "wide_bomb": lambda t: _folder(t, {"wide.png": bomb_png(2**31 - 1, 1)}),
    "zero_size_header": lambda t: _folder(t, {"zero.png": bomb_png(0, 0)}),
    "random_bytes_as_image": lambda t: _folder(t, {"noise.png": os.urandom(0) + bytes(range(256)) * 8}),
    "odd_names": _odd_names,
    "symlink_loops": _symlink_loop_dataset,
    "only_broken_files": lambda t: _folder(t, {"a.png": b"", "b.jpg": b"\xff\xd8\xff"}, good=0),
    "fifo_in_dataset": lambda t: _with_fifo(_folder(t, {})),
}


def _with_fifo(root: Path) -> Path:
    os.mkfifo(root / "pipe.png")  # reading it would block forever
    return root


#: builders of text datasets (a single file, or a folder)
TEXT_DATASETS: dict[str, Builder] = {
    "zero_byte_txt": lambda t: _file(t, "empty.txt", b""),
    "zero_byte_csv": lambda t: _file(t, "empty.csv", b""),
    "zero_byte_jsonl": lambda t: _file(t, "empty.jsonl", b""),
    "utf16_without_bom": lambda t: _file(t, "u16.txt", "hello world\nsecond line\n".encode("utf-16-le")),
    "cp1252_text": lambda t: _file(t, "latin.txt", "caf\xe9 cr\xe8me\nna\xefve\n".encode("cp1252")),
    "utf8_truncated_mid_char": lambda t: _file(t, "cut.txt", "ok line\nlast \u20ac".encode()[:-1]),
    "png_named_txt": lambda t: _file(t, "image.txt", noise_png()),
    "csv_unterminated_quote": lambda t: _file(t, "q.csv", b'text,label\n"never closed,a\nok,b\n'),
    "csv_ragged_rows": lambda t: _file(t, "r.csv", b"text,label\na,b,c\nonly\nfine,x\n"),
    "csv_nul_bytes": lambda t: _file(t, "nul.csv", b"text,label\nab\x00cd,x\n"),
    "csv_header_only": lambda t: _file(t, "h.csv", b"text,label\n"),
    "csv_no_text_column": lambda t: _file(t, "n.csv", b"alpha,beta\n1,2\n"),
    "csv_huge_field": lambda t: _file(t, "big.csv", b"text,label\n" + b"a" * 2_000_000 + b",x\nok,y\n"),
    "csv_only_newlines": lambda t: _file(t, "nl.csv", b"\n\n\n\r\n"),
    "jsonl_broken": lambda t: _file(t, "b.jsonl", b'{"text": "ok"}\n{"text": \n[1,2]\n"str"\n{"text": 5}\n'),
    "jsonl_deep_nesting": lambda t: _file(t, "deep.jsonl", b"[" * 200_000 + b"\n" + b'{"text": "fine"}\n'),
    "jsonl_no_text_field": lambda t: _file(t, "nf.jsonl", b'{"a": 1}\n'),
    "jsonl_huge_number": lambda t: _file(t, "num.jsonl", b'{"text": "x", "label": 1e999}\n{"text": "y", "label": ' + b"9" * 5000 + b"}\n"),
    "long_single_line": lambda t: _file(t, "long.txt", b"w" * 3_000_000),
    "txt_only_blank": lambda t: _file(t, "blank.txt", b"   \n\t\n\n"),
    "odd_name_text": lambda t: _file(t, "-new\nline \u202e.txt", b"a line\n"),
}

#: builders of broken project folders
def _project_with_db(tmp: Path, data: bytes) -> Path:
    root = tmp / "broken.genaug"
    (root / "blobs").mkdir(parents=True)
    (root / "project.sqlite").write_bytes(data)
    return root


PROJECTS: dict[str, Builder] = {
    "missing": lambda t: t / "nope.genaug",
    "zero_byte_db": lambda t: _project_with_db(t, b""),
    "garbage_db": lambda t: _project_with_db(t, b"SQLite format 3\x00" + bytes(range(256)) * 20),
    "text_as_db": lambda t: _project_with_db(t, b"not a database at all\n" * 100),
    "plain_file": lambda t: _file(t, "file.genaug", b"x"),
    "self_loop": _self_loop_path,
    "dataset_not_project": lambda t: _folder(t, {}),
}

#: builders of hostile JSON documents (policy files, rule-set files, manifests)
JSON_FILES: dict[str, Builder] = {
    "missing": lambda t: t / "nope.json",
    "zero_byte": lambda t: _file(t, "empty.json", b""),
    "truncated": lambda t: _file(t, "cut.json", b'{"schema_version": 1, "modality": "im'),
    "binary": lambda t: _file(t, "bin.json", noise_png()),
    "utf16": lambda t: _file(t, "u16.json", '{"schema_version": 1}'.encode("utf-16")),
    "latin1": lambda t: _file(t, "l1.json", '{"name": "caf\xe9"}'.encode("latin-1")),
    "deep_nesting": lambda t: _file(t, "deep.json", b"[" * 200_000 + b"]" * 200_000),
    "array": lambda t: _file(t, "arr.json", b"[1, 2, 3]"),
    "class_keys": lambda t: _file(t, "cls.json", b'{"__class__": "os.system", "__reduce__": ["rm -rf /"], "py/object": "subprocess.Popen", "!!python/object/apply:os.system": ["id"]}'),
    "yaml_tag": lambda t: _file(t, "y.json", b"!!python/object/apply:os.system ['touch /tmp/pwned']\n"),
    "pickle": lambda t: _file(t, "p.json", b"\x80\x04\x95\x1f\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94."),
    "nan_and_huge": lambda t: _file(t, "nan.json", b'{"schema_version": NaN, "modality": "image", "steps": [{"op": "rotate", "p": 1e999}]}'),
    "string_version": lambda t: _file(t, "sv.json", b'{"schema_version": "1", "modality": "image", "steps": []}'),
    "folder": lambda t: _mkdir(t / "adir.json"),
    "self_loop": _self_loop_path,
    "fifo": lambda t: _fifo(t / "pipe.json"),
    "huge_string": lambda t: _file(t, "hs.json", b'{"schema_version": 1, "modality": "text", "name": "' + b"a" * 12_000_000 + b'"}'),
}


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def export_with_manifest(tmp: Path, case: str) -> Path:
    """An export folder whose ``manifest.json`` is the hostile JSON file *case* (copied, or the
    same kind of thing: a link, a folder, a pipe); returns the folder."""
    import shutil

    export = tmp / "export"
    export.mkdir()
    source = JSON_FILES[case](tmp)
    target = export / "manifest.json"
    if source.is_symlink():
        os.symlink(source, target)
    elif source.is_dir():
        target.mkdir()
    elif source.is_fifo():
        os.mkfifo(target)
    elif source.exists():
        shutil.copy(source, target)
    return export
