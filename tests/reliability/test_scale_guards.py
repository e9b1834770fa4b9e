"""Guards against quadratic steps and half-done batch writes found while measuring scale
(benchmarks/bench_scale.py covers whole datasets; these are the small, fast regressions)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from genaug_desktop.core.datasets import ScanOptions, scan
from genaug_desktop.core.store import Project

from .helpers import genaug, image_tree


def _best_cpu_time(fn: Callable[[], object], repeat: int = 3) -> float:
    """CPU time, not wall time: other work on a shared machine then barely moves it."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


@pytest.mark.parametrize(("ext", "bad_line"), [(".csv", b"caf\xe9,x\n"), (".jsonl", b'{"text": "caf\xe9"}\n'),
                                               (".txt", b"caf\xe9\n")])
def test_many_bad_lines_cost_linear_time(tmp_path: Path, ext: str, bad_line: bytes) -> None:
    """A file of undecodable lines: 4x the lines may take about 4x the time, not 16x (a list
    popped from the front made the CSV reader quadratic: 80k bad lines took 21x 20k's time)."""
    sizes = (25_000, 100_000)
    times = []
    for n in sizes:
        path = tmp_path / f"bad{n}{ext}"
        path.write_bytes((b"text,label\n" if ext == ".csv" else b"") + bad_line * n)
        result = scan(str(path), ScanOptions(workers=1))
        assert len(result.problems) == n and not result.items
        times.append(_best_cpu_time(lambda: scan(str(path), ScanOptions(workers=1))))
    per_line_ratio = (times[1] / sizes[1]) / (times[0] / sizes[0])
    assert per_line_ratio < 2.5, f"per-line time grew {per_line_ratio:.1f}x from {sizes[0]:,} to {sizes[1]:,} lines"


def test_a_candidate_batch_is_stored_whole_or_not_at_all(tmp_path: Path) -> None:
    """add_candidates is one transaction: a bad row leaves none of the batch behind (with
    isolation_level=None, ``with db:`` used to commit row by row)."""
    data = image_tree(tmp_path / "data", {"a": 2})
    assert genaug("init", str(tmp_path / "p.genaug"), str(data)).returncode == 0
    with Project.open(str(tmp_path / "p.genaug")) as project:
        key = project.items()[0].key
        rows = [{"origin": "augmentation", "source": key}] * 5 + [{"origin": "augmentation", "source": "nope"}]
        with pytest.raises(ValueError, match="no item 'nope'"):
            project.add_candidates(rows)
        assert project.candidates() == []
        assert len(project.add_candidates(rows[:5])) == 5
