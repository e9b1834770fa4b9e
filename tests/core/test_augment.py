"""Batch augmentation: candidates with provenance, reproducible, resumable, cancellable."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from genaug_desktop.core.augment import augment_job, class_balance_targets, plan_variants
from genaug_desktop.core.jobs import CancelToken, Cancelled, run_job
from genaug_desktop.core.policy import Policy, decode_png, load_image_array
from genaug_desktop.core.store import init_project_job
from genaug_desktop.core.store.blobs import read_blob

POLICY = {
    "schema_version": 1,
    "modality": "image",
    "name": "test",
    "preprocess": [{"op": "resize_to", "params": {"width": 32, "height": 32, "method": "fit"}}],
    "steps": [
        {"op": "hflip", "p": 0.5},
        {"op": "rotate", "p": 1.0, "params": {"angle": [-20, 20]}},
        {"one_of": [{"op": "gaussian_blur"}, {"op": "gaussian_noise"}], "p": 0.8},
    ],
}


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "shapes"
    rng = np.random.default_rng(0)
    counts = {"circle": 4, "square": 2}
    for label, n in counts.items():
        (root / label).mkdir(parents=True)
        for i in range(n):
            arr = (rng.random((40, 30, 3)) * 255).astype(np.uint8)
            Image.fromarray(arr).save(root / label / f"{i}.png")
    Image.new("RGBA", (20, 20), (255, 0, 0, 128)).save(root / "square" / "alpha.png")
    (root / "square" / "gone.png").write_bytes((root / "square" / "0.png").read_bytes())
    p = run_job(init_project_job(str(tmp_path / "p.genaug"), str(root)))
    os.remove(root / "square" / "gone.png")  # vanishes after the scan: a failure, not a crash
    yield p
    p.close()


def test_plan_variants_per_item_and_targets():
    counts = {"a": ["a1", "a2", "a3"], "b": ["b1"], None: ["x"]}
    assert plan_variants(counts, per_item=2) == {"a1": 2, "a2": 2, "a3": 2, "b1": 2, "x": 2}
    plan = plan_variants(counts, targets={"a": 4, "b": 4})
    assert plan == {"a1": 1, "a2": 0, "a3": 0, "b1": 3}


@pytest.fixture()
def small_batches(monkeypatch):
    # Several batches even for a tiny dataset, so the worker-process path really runs.
    import genaug_desktop.core.augment as augment

    monkeypatch.setattr(augment, "_BATCH_IMAGES", 2)


@pytest.mark.parametrize("workers", [1, 2])
def test_augment_makes_candidates_with_provenance(project, workers, small_batches):
    policy = Policy.from_json(POLICY)
    result = run_job(augment_job(project, policy, per_item=2, seed=7, workers=workers))
    assert result.created == 2 * 7
    assert [k for k, _ in result.failures] == ["square/gone.png"]
    cands = project.candidates()
    assert len(cands) == 14 and all(c.status == "pending" and c.origin == "augmentation" for c in cands)
    c = cands[0]
    prov = c.provenance
    assert prov["policy_sha256"] == policy.sha256 and prov["base_seed"] == 7
    assert prov["source"] == c.source_item and prov["variant"] in (0, 1)
    assert isinstance(prov["ops"], list) and all("op" in link and "params" in link for link in prov["ops"])
    json.dumps(prov)
    # The blob is the policy output, and can be rebuilt from the provenance alone.
    out = decode_png(read_blob(project.blobs_dir, c.blob))
    assert out.shape[:2] == (32, 32)
    item = project.item(c.source_item)
    src = load_image_array(project.source_path(item))
    rebuilt = policy.replay(src, prov["ops"])
    assert np.array_equal(rebuilt, out)
    again, _ = policy.apply(src, prov["seed"])
    assert np.array_equal(again, out)
    assert project.policy_json(policy.sha256) == json.loads(json.dumps(policy.to_json(), sort_keys=True))


def test_same_seed_same_blobs_across_worker_counts(tmp_path, project, small_batches):
    policy = Policy.from_json(POLICY)
    run_job(augment_job(project, policy, per_item=2, seed=3, workers=1))
    one = sorted((c.source_item, c.provenance["variant"], c.blob) for c in project.candidates())
    project._db.execute("DELETE FROM candidates")
    run_job(augment_job(project, policy, per_item=2, seed=3, workers=2))
    two = sorted((c.source_item, c.provenance["variant"], c.blob) for c in project.candidates())
    assert one == two


def test_rerun_skips_existing_variants(project):
    policy = Policy.from_json(POLICY)
    first = run_job(augment_job(project, policy, per_item=1, seed=1, workers=1))
    second = run_job(augment_job(project, policy, per_item=2, seed=1, workers=1))
    assert first.created == 7
    assert second.skipped_existing == 7 and second.created == 7
    assert len(project.candidates()) == 14


def test_balance_targets(project):
    targets = class_balance_targets(project)
    assert targets == {"circle": 4, "square": 4}
    result = run_job(augment_job(project, Policy.from_json(POLICY), per_item=None, targets=targets, workers=1))
    labels = [c.label for c in project.candidates()]
    assert labels.count("circle") == 0
    # square had 4 items (one vanished), so it needs nothing more to reach 4
    assert result.created == 0
    targets = class_balance_targets(project, 6)
    run_job(augment_job(project, Policy.from_json(POLICY), per_item=None, targets=targets, seed=2, workers=1))
    labels = [c.label for c in project.candidates()]
    assert labels.count("circle") == 2 and labels.count("square") >= 1


def test_cancel_leaves_consistent_project(project):
    policy = Policy.from_json(POLICY)
    cancel = CancelToken()
    job = augment_job(project, policy, per_item=30, seed=0, workers=1, cancel=cancel)
    next(job)  # the start
    next(job)  # one batch stored
    cancel.cancel()
    with pytest.raises(Cancelled):
        for _ in job:
            pass
    n = len(project.candidates())
    assert 0 < n < 30 * 7
    assert project.integrity_check() == "ok"
    for c in project.candidates():
        assert os.path.exists(project.blob_file(c.blob))


def test_policy_for_wrong_modality_is_refused(project):
    text_policy = Policy.from_json({"schema_version": 1, "modality": "text", "steps": []})
    with pytest.raises(ValueError, match="for text"):
        run_job(augment_job(project, text_policy))


def test_text_augmentation(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,label\nThe quick brown fox,a\n   ,b\nJumps over the lazy dog,b\n", encoding="utf-8")
    with run_job(init_project_job(str(tmp_path / "t.genaug"), str(path))) as project:
        policy = Policy.from_json({
            "schema_version": 1, "modality": "text",
            "preprocess": [{"op": "missing_values"}, {"op": "lowercase"}, {"op": "fold_whitespace"}],
            "steps": [],
        })
        result = run_job(augment_job(project, policy, per_item=1, seed=0))
        assert result.created == 2 and result.dropped == 1
        assert sorted(c.text for c in project.candidates()) == ["jumps over the lazy dog", "the quick brown fox"]
