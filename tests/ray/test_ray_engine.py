"""The ray engine gives the same candidates, verdicts and export checksums as the local
engine on the same inputs and seed; failures are retried or reported, cancel stops the
pipeline, and nothing half-written is stored."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from genaug_desktop.core.augment import augment_job
from genaug_desktop.core.engine import Engine, EngineError
from genaug_desktop.core.engine.ray_data import ordered_map
from genaug_desktop.core.export import ExportOptions, export_job, verify_export
from genaug_desktop.core.jobs import CancelToken, Cancelled, run_job
from genaug_desktop.core.policy import Policy, encode_png
from genaug_desktop.core.rules import approve_rules, filter_job, list_rules, propose_rules, save_proposals
from genaug_desktop.core.store import init_project_job
from genaug_desktop.core.store.blobs import write_blob

pytest.importorskip("ray.data", reason='Ray Data is not installed (pip install "genaug-desktop[ray]")')

POLICIES = Path(__file__).resolve().parents[1] / "data" / "policies"


def image_policy() -> Policy:
    return Policy.from_json(json.loads((POLICIES / "image_light_v1.json").read_text(encoding="utf-8")))


def candidate_rows(project) -> list[tuple]:
    return project.query(
        "SELECT c.id, i.key, c.origin, c.label, c.blob, c.text, c.provenance, c.status, c.reason, c.rule_id,"
        " c.measured, c.rules_checked FROM candidates c LEFT JOIN items i ON i.id = c.source_item ORDER BY c.id"
    )


@pytest.fixture()
def twin_projects(tmp_path, image_project):
    """A second project over the same dataset, for the other engine."""
    other = run_job(init_project_job(str(tmp_path / "q.genaug"), image_project.dataset_root))
    yield image_project, other
    other.close()


def test_augment_on_ray_makes_the_same_candidates_as_local(ray_session, twin_projects):
    local, remote = twin_projects
    policy = image_policy()
    os.remove(local.source_path(local.items()[5]))  # one item vanished: a failure on both engines, not a crash
    # Two local processes: batches are stored in order, so even the candidate ids are the same.
    a = run_job(augment_job(local, policy, per_item=3, seed=7, workers=2))
    progress = []
    job = augment_job(remote, policy, per_item=3, seed=7, engine="ray")
    b = run_job(job, progress.append)
    assert a.created == b.created == 57 and a.failures == b.failures and len(a.failures) == 1
    assert candidate_rows(local) == candidate_rows(remote)
    # The blobs are the same files, written by Ray workers into the project's blobs folder.
    for row in candidate_rows(remote):
        assert Path(remote.blob_file(row[4])).read_bytes() == Path(local.blob_file(row[4])).read_bytes()
    assert progress[-1].done == progress[-1].total == 60
    assert any(p.payload for p in progress)
    # Re-running makes no duplicates, on either engine.
    again = run_job(augment_job(remote, policy, per_item=3, seed=7, engine=Engine("ray")))
    assert again.created == 0 and again.skipped_existing == 57



def test_text_augment_on_ray_matches_local(ray_session, tmp_path):
    """nlpaug ops in Ray workers: the same texts, labels and provenance as local processes."""
    src = tmp_path / "reviews.csv"
    lines = ["text,label"] + [f"review number {i} says the product works well,{'pos' if i % 2 else 'neg'}" for i in range(30)]
    lines += [",neg"]  # an empty text: the pre-processing drops it, on both engines
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    presets = Path(__file__).resolve().parents[2] / "resources" / "presets"
    policy = Policy.from_json(json.loads((presets / "text_typos.json").read_text(encoding="utf-8")))
    projects = [run_job(init_project_job(str(tmp_path / f"{n}.genaug"), str(src))) for n in "ab"]
    try:
        a = run_job(augment_job(projects[0], policy, per_item=3, seed=11, workers=2))
        b = run_job(augment_job(projects[1], policy, per_item=3, seed=11, engine="ray"))
        assert a.created == b.created == 90 and a.dropped == b.dropped == 1 and a.failures == b.failures == []
        assert candidate_rows(projects[0]) == candidate_rows(projects[1])
    finally:
        for p in projects:
            p.close()

def _crafted(project, blobs_from=None):
    """Candidates with known fates: a blank image, a copy of its source, a duplicate."""
    items = project.items()
    blank = write_blob(project.blobs_dir, encode_png(np.zeros((32, 32, 3), np.uint8)))
    copy = write_blob(project.blobs_dir, Path(project.source_path(items[0])).read_bytes())
    first = project.query("SELECT blob FROM candidates ORDER BY id LIMIT 1")[0][0]
    rows = [{"origin": "augmentation", "source": items[k].key, "label": items[k].label, "blob": b, "provenance": {}}
            for k, b in ((1, blank), (0, copy), (2, first))]
    rows.append({"origin": "generator", "source": None, "label": None, "blob": blank, "provenance": {}})
    return project.add_candidates(rows)


def _approve_all(project):
    save_proposals(project, propose_rules(project))
    approve_rules(project, [r.id for r in list_rules(project)])


def verdict_rows(project):
    return (
        candidate_rows(project),
        project.query("SELECT candidate_id, status, previous, reason, decided_by, rule_id, measured FROM decisions ORDER BY id"),
        sorted(project.query("SELECT sha256, algo, hash FROM image_hashes")),
    )


def test_filter_on_ray_gives_the_same_verdicts_as_local(ray_session, twin_projects):
    local, remote = twin_projects
    policy = image_policy()
    for p in (local, remote):
        run_job(augment_job(p, policy, per_item=2, seed=3, workers=1))
        _crafted(p)
        _approve_all(p)
    a = run_job(filter_job(local, batch_size=10))
    progress = []
    b = run_job(filter_job(remote, batch_size=10, engine="ray"), progress.append)
    assert a.to_json() | {"seconds": 0} == b.to_json() | {"seconds": 0}
    assert a.total_rejected >= 3 and a.rejected_ids == b.rejected_ids
    assert verdict_rows(local) == verdict_rows(remote)
    assert progress[-1].done == progress[-1].total == a.checked
    # A second run checks nothing new, on either engine.
    assert run_job(filter_job(remote, engine="ray")).checked == 0


def test_text_filter_on_ray_gives_the_same_verdicts_as_local(ray_session, tmp_path):
    texts = ["the price was fair and it works well", "it broke after a week and the seller never answered",
             "fast delivery and a sturdy box", "very quiet and the battery lasts all day"] * 5
    src = tmp_path / "reviews.txt"
    src.write_text("\n".join(texts) + "\n", encoding="utf-8")
    projects = [run_job(init_project_job(str(tmp_path / f"{n}.genaug"), str(src))) for n in "ab"]
    try:
        for p in projects:
            items = p.items()
            made = [items[k % len(items)].text.replace("the", "a") for k in range(30)]
            made += ["", "ok", "zzzz qqqq xxxx wwww", "Этот товар очень хороший", made[0], made[1]]
            p.add_candidates([{"origin": "augmentation", "source": items[k % len(items)].key, "text": t,
                               "provenance": {}} for k, t in enumerate(made)])
            _approve_all(p)
        a = run_job(filter_job(projects[0], batch_size=7))
        b = run_job(filter_job(projects[1], batch_size=7, engine="ray"))
        assert a.total_rejected >= 4 and a.rejected == b.rejected
        assert verdict_rows(projects[0]) == verdict_rows(projects[1])
    finally:
        for p in projects:
            p.close()


def test_cancel_stops_the_pipeline_and_stores_only_whole_batches(ray_session, twin_projects, monkeypatch):
    import genaug_desktop.core.augment as augment

    monkeypatch.setattr(augment, "_RAY_BATCH_IMAGES", 4)  # 10 batches of 4 variants
    local, remote = twin_projects
    policy = image_policy()
    cancel = CancelToken()
    job = augment_job(remote, policy, per_item=2, seed=1, engine="ray", cancel=cancel)
    reported: list[int] = []
    with pytest.raises(Cancelled):
        for p in job:
            reported.extend(p.payload or [])
            if reported:
                cancel.cancel()
    rows = candidate_rows(remote)
    assert 0 < len(rows) < 40 and [r[0] for r in rows] == reported
    assert all(Path(remote.blob_file(r[4])).is_file() for r in rows)
    # The next run goes on from there and ends where an uninterrupted local run ends.
    run_job(augment_job(remote, policy, per_item=2, seed=1, engine="ray"))
    run_job(augment_job(local, policy, per_item=2, seed=1, workers=1))
    assert [r[1:] for r in candidate_rows(remote)] == [r[1:] for r in candidate_rows(local)]


def test_a_dead_worker_is_retried(ray_session, tmp_path):
    marker = str(tmp_path / "crashed-once")

    def crash_once(x: int) -> int:
        import os

        if x == 2 and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # the worker process dies in the middle of a task
        return x * 10

    assert list(ordered_map(crash_once, list(range(5)))) == [(i, i * 10) for i in range(5)]
    assert os.path.exists(marker)


def test_a_failing_task_is_reported_and_earlier_results_are_kept(ray_session):
    def fail_on_three(x: int) -> int:
        if x == 3:
            raise ValueError("cannot write blobs/ab: disk full")
        return x

    got: list[int] = []
    with pytest.raises(EngineError, match=r"a Ray task failed \(ValueError: cannot write blobs/ab: disk full\)"):
        for i, value in ordered_map(fail_on_three, list(range(6))):
            got.append(value)
    assert got == list(range(len(got))) and len(got) <= 3


EXPORTS = [
    {"format": "imagefolder", "include_originals": True, "splits": {"train": 0.75, "val": 0.25}, "image_format": "webp"},
    {"format": "webdataset", "include_originals": True, "shard_samples": 16},
    {"format": "npz", "size": (16, 16), "normalize": "mean/std", "splits": {"train": 0.5, "val": 0.5}},
]


@pytest.mark.parametrize("options", EXPORTS, ids=[o["format"] for o in EXPORTS])
def test_export_on_ray_writes_the_same_files_as_local(ray_session, image_project, tmp_path, options):
    # One project exported by both engines (two projects would differ in the decision times).
    project = image_project
    run_job(augment_job(project, image_policy(), per_item=2, seed=5, workers=1))
    project.decide([r[0] for r in candidate_rows(project)], "accepted")
    a = run_job(export_job(project, ExportOptions(**options), str(tmp_path / "a")))
    progress = []
    b = run_job(export_job(project, ExportOptions(**options), str(tmp_path / "b"), engine="ray"), progress.append)
    assert a.samples == b.samples >= 40 and a.files == b.files
    ma = json.loads((tmp_path / "a" / "manifest.json").read_text())
    mb = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert ma["files"] == mb["files"]  # every file's SHA-256 and size
    assert ma["normalization"] == mb["normalization"] and ma["counts"] == mb["counts"]
    assert verify_export(str(tmp_path / "b")).ok
    assert "Starting Ray" in [p.message for p in progress]
