"""Memory of an export per sample (issue 8: a jsonl export of 1M texts peaked at 4.7 GB).

The plan holds one small record per sample; decisions and stored provenance are read from the
project a chunk at a time while writing, and the manifest's counts are tallied, not kept as a
list. The bound is on the growth of the tracemalloc peak between two project sizes (bytes per
sample), so fixed costs (imports, the manifest's tables) do not count, and tracemalloc counts
allocations, not the machine's load: the figure is the same on a busy machine.
"""

from __future__ import annotations

import json
import shutil
import tracemalloc
from pathlib import Path

import pytest

from genaug_desktop.core.export import ExportError, ExportOptions, export_job, plan_export
from genaug_desktop.core.export.provenance import ProvenanceIndex, ProvenanceStream
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store import Project

from .test_export_support import POLICY, POLICY_SHA, make_text_project

#: bytes of tracemalloc peak per exported text: about 5,000 before issue 8's fix, about 700 after
PER_SAMPLE_BOUND = 2000


def word(i: int) -> str:
    return "".join("abcdefghijklmnopqrstuvwxyz"[(i * 7 + k * 3) % 26] for k in range(3 + i % 6))


def text_project(tmp_path: Path, n: int) -> Project:
    """*n* texts of 6-19 words and one accepted augmentation of each, with the provenance the
    augment job records (op chain with drawn params, seeds, policy) and a decision log entry."""
    texts = [(" ".join(word(i * 31 + j) for j in range(6 + i % 14)), f"c{i % 5}") for i in range(n)]
    project = make_text_project(tmp_path, texts, name=f"t{n}.genaug")
    project.record_policy(POLICY_SHA, POLICY)
    rows = []
    for k, item in enumerate(project.iter_items()):
        words = (item.text or "").split()
        rows.append({
            "origin": "augmentation", "source": item.key, "label": item.label, "text": " ".join(words[1:]),
            "provenance": {
                "app_version": "0.1.0", "base_seed": 0, "origin": "augmentation", "policy_name": "scale: word dropout",
                "policy_sha256": POLICY_SHA, "preprocess": [], "seed": 6627064925565398168 + k, "source": item.key,
                "source_sha256": item.sha256, "variant": 0,
                "ops": [{"op": "random_word_delete", "params": {"seed": 1817939759 + k},
                         "values": {"aug_word_count": [1, 10], "aug_word_p": 0.3, "stopwords": []}}],
            },
        })
    ids = project.add_candidates(rows)
    project.decide(ids, "accepted")
    return project


def export_peak(project: Project, dest: Path) -> int:
    shutil.rmtree(dest, ignore_errors=True)
    tracemalloc.start()
    try:
        result = run_job(export_job(project, ExportOptions(format="jsonl"), str(dest)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.samples == project.query("SELECT COUNT(*) FROM candidates")[0][0]
    return peak


def test_export_memory_per_sample_is_bounded(tmp_path):
    small, big = 2500, 8500  # both above the provenance chunk (1,000), whose cost is fixed
    p_small = text_project(tmp_path, small)
    p_big = text_project(tmp_path, big)
    try:
        run_job(export_job(p_small, ExportOptions(format="jsonl"), str(tmp_path / "warm")))  # imports, caches
        peaks = {n: export_peak(p, tmp_path / f"out{n}") for n, p in ((small, p_small), (big, p_big))}
        per_sample = (peaks[big] - peaks[small]) / (big - small)
        assert per_sample < PER_SAMPLE_BOUND, (
            f"the export's tracemalloc peak grows by {per_sample:,.0f} bytes per text "
            f"({peaks[small] / 2**20:.1f} MB at {small:,}, {peaks[big] / 2**20:.1f} MB at {big:,})"
        )
        # and what was written is complete: every line has its text and its recorded provenance
        with open(tmp_path / f"out{big}" / "train.jsonl", encoding="utf-8") as fh:
            lines = [json.loads(line) for line in fh]
        assert len(lines) == big
        recorded = {cid: json.loads(raw) for cid, raw in p_big.query("SELECT id, provenance FROM candidates")}
        for line in lines[:: big // 50]:
            assert json.loads(line["provenance"])["recorded"] == recorded[line["candidate_id"]]
    finally:
        p_small.close()
        p_big.close()


def test_provenance_stream_reads_chunks_in_order_and_answers_out_of_order(tmp_path):
    project = text_project(tmp_path, 60)
    try:
        ids = [r[0] for r in project.query("SELECT id FROM candidates ORDER BY id DESC")]
        full = ProvenanceIndex.load(project, ids)
        stream = ProvenanceStream(project, ids, chunk=16)
        for cid in ids:
            assert stream.recorded(cid) == full.recorded(cid)
            assert stream.decision(cid, "accepted") == full.decision(cid, "accepted")
        assert stream.loads == 4  # 60 ids in chunks of 16
        assert len(stream.index.provenance) <= 16  # only the last chunk is held
        assert stream.recorded(ids[0]) == full.recorded(ids[0])  # asked again, out of order
        with pytest.raises(LookupError):
            stream.recorded(10**9)
    finally:
        project.close()


def test_a_candidate_deleted_after_planning_stops_the_export_with_a_clear_message(tmp_path):
    project = text_project(tmp_path, 20)
    try:
        plan = plan_export(project, ExportOptions(format="jsonl"))
        gone = plan.samples[5].candidate_id
        with project.transaction() as db:
            db.execute("DELETE FROM decisions WHERE candidate_id = ?", (gone,))
            db.execute("DELETE FROM candidates WHERE id = ?", (gone,))
        with pytest.raises(ExportError, match=f"cand:{gone} is no longer in the project.*plan the export again"):
            run_job(export_job(project, plan.options, str(tmp_path / "out"), plan=plan))
        assert not (tmp_path / "out").exists()
    finally:
        project.close()
