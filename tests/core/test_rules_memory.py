"""Memory per text of the duplicate rules, which remember every text they kept.

At a million candidates a few kilobytes per text is several gigabytes (benchmarks/RESULTS.md,
issue 8): these tests guard the bytes a kept text costs. They count Python allocations with
tracemalloc (deterministic, unlike the resident set size of a shared machine) and take the
growth between two sizes, so fixed costs (imports, caches, the first dict sizes) cancel out.
Before the flat-array index a text cost about 2,270 bytes in the index and 3,180 of filter peak
(now about 250 and 860).
"""

from __future__ import annotations

import csv
import gc
import tracemalloc

import numpy as np
import pytest

from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.rules import add_rule, run_filter
from genaug_desktop.core.rules.minhash import NearDuplicateIndex, normalize_text
from genaug_desktop.core.store import init_project_job

LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


def texts(n: int, seed: int) -> list[str]:
    """Texts like benchmarks/bench_scale.py makes: 6-19 words of 3-8 random letters."""
    rng = np.random.default_rng(seed)
    vocab = ["".join(rng.choice(LETTERS, int(rng.integers(3, 9)))) for _ in range(5000)]
    return [" ".join(rng.choice(vocab, int(rng.integers(6, 20)))) for _ in range(n)]


def _index_bytes(corpus: list[str]) -> tuple[int, NearDuplicateIndex]:
    gc.collect()
    tracemalloc.start()
    try:
        index = NearDuplicateIndex(0.9)
        for start in range(0, len(corpus), 1000):
            for k, p in enumerate(index.prepare(corpus[start : start + 1000])):
                index.add(start + k, p)
        gc.collect()
        return tracemalloc.get_traced_memory()[0], index
    finally:
        tracemalloc.stop()


def test_near_duplicate_index_keeps_a_text_in_a_few_hundred_bytes():
    corpus = texts(40_000, 0)
    small, _ = _index_bytes(corpus[:10_000])
    big, index = _index_bytes(corpus)
    per_text = (big - small) / 30_000
    assert per_text < 700, f"{per_text:.0f} bytes per indexed text"
    # and it still answers: a stored text (one from the dicts, one from the merged arrays) is
    # found with similarity 1, a new one is not
    assert len(index) == 40_000
    for key in (12_345, 39_999):
        assert index.query(index.prepare([corpus[key]])[0])[0] == (key, 1.0)
    assert index.query(index.prepare([normalize_text(texts(1, 9)[0])])[0]) == []


@pytest.fixture()
def project_with(tmp_path):
    opened = []

    def make(n: int, name: str):
        path = tmp_path / f"{name}.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label"])
            for t in texts(n, 1):
                w.writerow([t, "a"])
        project = run_job(init_project_job(str(tmp_path / f"{name}.genaug"), str(path)))
        opened.append(project)
        items = project.items()
        project.add_candidates([
            {"origin": "augmentation", "source": items[k].key, "label": None, "text": t, "provenance": {}}
            for k, t in enumerate(texts(n, 2))
        ])
        add_rule(project, "text_exact_duplicate", state="approved")
        add_rule(project, "text_near_duplicate", state="approved")
        return project

    yield make
    for p in opened:
        p.close()


def _filter_peak(project) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        result = run_filter(project)
        assert result.checked > 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_duplicate_filter_peak_grows_by_under_1500_bytes_per_text(project_with):
    """Items and candidates both go into the duplicate rules' indexes: 2n texts per size n."""
    small = _filter_peak(project_with(2_000, "small"))
    big = _filter_peak(project_with(8_000, "big"))
    per_text = (big - small) / (2 * 6_000)
    assert per_text < 1_500, f"{per_text:.0f} bytes of peak per text"
