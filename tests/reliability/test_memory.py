"""A 10 MB single-line text file and a 1.6-gigapixel image header never make the process
allocate more than 200 MB. Measured in a fresh subprocess: the tracemalloc peak of the read,
and the growth of the peak resident set size (ru_maxrss) across it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .helpers import gigapixel_png, noise_png

LIMIT = 200 * 1024 * 1024
TEN_MB = 10 * 1024 * 1024

_MEASURE = textwrap.dedent('''
    import gc, json, resource, sys, tracemalloc
    from genaug_desktop.core.datasets import ScanOptions, scan
    from genaug_desktop.core.datasets.images import ImageProblem, load_image, make_thumbnail, probe_image
    from genaug_desktop.core.datasets.text import read_text_file

    def run(what, path, chars):
        opts = ScanOptions(workers=1, max_text_chars=chars) if chars else ScanOptions(workers=1)
        if what == "text":
            ext = path.rsplit(".", 1)[-1]
            return [type(e).__name__ + ":" + getattr(e, "reason", "") for e in read_text_file(path, "f." + ext, None, opts)]
        if what == "scan":
            r = scan(path, opts)
            return [len(r.items)] + [p.reason for p in r.problems]
        out = []
        for fn in (probe_image, load_image, lambda p: make_thumbnail(p, 128)):
            try:
                fn(path)
                out.append("read")
            except ImageProblem as exc:
                out.append(str(exc))
        return out

    what, path, chars = sys.argv[1], sys.argv[2], int(sys.argv[3])
    gc.collect()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    result = run(what, path, chars)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"peak": peak, "rss_growth": rss1 - rss0, "result": result}))
''')


def measure(what: str, path: Path, max_chars: int = 0) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", _MEASURE, what, str(path), str(max_chars)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["peak"] < LIMIT, report
    assert report["rss_growth"] < LIMIT, report
    return report


@pytest.fixture(scope="module")
def long_lines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("long")
    body = b"word " * (TEN_MB // 5)
    files = {
        "txt": body,
        "csv": b"text,label\n\"" + body + b"\",x\n",
        "jsonl": b'{"text": "' + body + b'"}',
    }
    out = {}
    for ext, data in files.items():
        (base / ext).mkdir()
        out[ext] = base / ext / f"long.{ext}"
        out[ext].write_bytes(data)
    return out


@pytest.mark.parametrize("ext", ["txt", "csv", "jsonl"])
def test_ten_megabyte_single_line_is_a_problem_in_bounded_memory(long_lines: dict[str, Path], ext: str) -> None:
    report = measure("text", long_lines[ext])
    assert any("longer than the limit" in r for r in report["result"]), report["result"]  # type: ignore[union-attr]


@pytest.mark.parametrize("ext", ["txt", "jsonl"])
def test_ten_megabyte_single_line_within_a_raised_limit_stays_bounded(long_lines: dict[str, Path], ext: str) -> None:
    report = measure("text", long_lines[ext], max_chars=2 * TEN_MB)
    assert report["result"][0].startswith("Item"), report["result"]  # type: ignore[index]


def test_scanning_a_folder_with_a_ten_megabyte_line(long_lines: dict[str, Path]) -> None:
    report = measure("scan", long_lines["txt"].parent)
    assert report["result"][0] == 0  # type: ignore[index]


@pytest.fixture(scope="module")
def bomb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("bomb")
    (base / "bomb.png").write_bytes(gigapixel_png())
    (base / "ok.png").write_bytes(noise_png())
    return base


def test_gigapixel_header_is_refused_before_any_pixel(bomb_dir: Path) -> None:
    report = measure("image", bomb_dir / "bomb.png")
    assert report["result"] == ["image of 1.6 gigapixels (40000x40000) is over the limit of 0.2 gigapixels"] * 3 or all(
        "1.6 gigapixels" in r for r in report["result"]), report  # type: ignore[union-attr]
    assert report["peak"] < 20 * 1024 * 1024, report


def test_scanning_a_folder_with_a_gigapixel_header(bomb_dir: Path) -> None:
    report = measure("scan", bomb_dir)
    assert report["result"][0] == 1 and any("gigapixels" in r for r in report["result"][1:]), report  # type: ignore[index]
