"""The downstream evaluation: no leakage from held-out items, deterministic numbers on CPU,
cancel stores nothing, and unlabeled projects fall back to the generator loss (tested in
detail in test_evaluation_unlabeled.py). Tiny models and epochs."""

from __future__ import annotations

import io
import json
import random

import numpy as np
import pytest
from PIL import Image

from genaug_desktop.core.evaluation import EvaluationError, evaluate_job, holdout_split, stored_evaluations
from genaug_desktop.core.jobs import CancelToken, Cancelled, run_job
from genaug_desktop.core.store import Project, init_project_job


def _random_text_project(tmp_path, n: int = 100, labels: bool = True) -> Project:
    """Random strings with random labels: nothing to learn, so only leakage could score well."""
    rng = random.Random(7)
    rows = []
    for _ in range(n):
        text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(40))
        row = {"text": text}
        if labels:
            row["label"] = rng.choice(["a", "b"])
        rows.append(row)
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return run_job(init_project_job(str(tmp_path / "p.genaug"), str(data)))


def _run(project: Project, **kw) -> object:
    kw.setdefault("seeds", 2)
    kw.setdefault("epochs", 20)
    return run_job(evaluate_job(project, **kw))


def test_holdout_split_is_stratified_seeded_and_disjoint(tmp_path):
    with _random_text_project(tmp_path) as project:
        items = project.items()
        s1, s2 = holdout_split(items, 0.25, seed=3), holdout_split(list(reversed(items)), 0.25, seed=3)
        assert [i.key for i in s1.held_out] == [i.key for i in s2.held_out]
        assert not {i.key for i in s1.held_out} & {i.key for i in s1.train}
        assert len(s1.held_out) + len(s1.train) == len(items)
        for label in ("a", "b"):
            n = sum(1 for i in items if i.label == label)
            assert sum(1 for i in s1.held_out if i.label == label) == round(n * 0.25)


def test_copies_of_held_out_items_sourced_from_them_are_excluded(tmp_path):
    with _random_text_project(tmp_path) as project:
        clean = _run(project, store=False)
        held = [project.item(k) for k in clean.params["held_out_keys"]]
        # Exact copies of held-out items, with their labels, made "from" them: training on these
        # would score near 100% on a task with nothing to learn.
        leaked = project.add_candidates(
            [{"origin": "augmentation", "source": i.key, "label": i.label, "text": i.text} for i in held]
        )
        project.decide(leaked, "accepted")
        guarded = _run(project, store=False)
        assert guarded.excluded["source_held_out"] == len(held)
        assert guarded.candidate_ids["with_accepted"] == []
        assert guarded.candidate_ids["with_all"] == []
        for name in ("real_only", "with_accepted", "with_all"):
            assert guarded.conditions[name]["runs"] == clean.conditions["real_only"]["runs"]
        assert guarded.conditions["with_accepted"]["runs"] == guarded.conditions["real_only"]["runs"]

        # Control: the same copies with no source (as a generator could make) are trained on, and
        # they do inflate the score: so the test above would have seen leakage.
        unsourced = project.add_candidates(
            [{"origin": "generator", "source": None, "label": i.label, "text": i.text} for i in held]
        )
        project.decide(unsourced, "accepted")
        leaky = _run(project, store=False)
        assert leaky.candidate_ids["with_accepted"] == unsourced
        assert leaky.conditions["with_accepted"]["mean"] > clean.conditions["real_only"]["mean"] + 0.2
        assert leaky.conditions["with_accepted"]["mean"] >= 0.95


def test_same_seeds_give_the_same_numbers(tmp_path):
    with _random_text_project(tmp_path) as project:
        train_keys = [i for i in holdout_split(project.items(), 0.2).train][:20]
        ids = project.add_candidates(
            [{"origin": "augmentation", "source": i.key, "label": i.label, "text": i.text[::-1]} for i in train_keys]
        )
        project.decide(ids[:10], "accepted")
        first = _run(project, seeds=[4, 5])
        second = _run(project, seeds=[4, 5])
        assert first.to_json()["with_all"] == second.to_json()["with_all"]
        assert first.per_class == second.per_class
        assert first.candidate_ids == {"with_accepted": ids[:10], "with_all": ids}
        stored = stored_evaluations(project)
        assert [s["id"] for s in stored] == [first.id, second.id]
        assert stored[0]["params"]["seeds"] == [4, 5]
        assert stored[0]["candidate_ids"]["with_accepted"] == ids[:10]
        assert stored[0]["real_only"]["runs"] == first.conditions["real_only"]["runs"]


def test_cancel_leaves_no_stored_result(tmp_path):
    with _random_text_project(tmp_path) as project:
        token = CancelToken()
        job = evaluate_job(project, seeds=3, epochs=5, cancel=token)
        seen = 0
        with pytest.raises(Cancelled):
            for progress in job:
                seen += 1
                if progress.total and progress.done >= 2:
                    token.cancel()
        assert seen >= 3
        assert stored_evaluations(project) == []
        assert project.query("SELECT COUNT(*) FROM evaluations")[0][0] == 0


def test_unlabeled_project_falls_back_to_the_generator_loss(tmp_path):
    with _random_text_project(tmp_path, labels=False) as project:
        result = run_job(evaluate_job(project, seeds=1, epochs=1))
        assert result.metric == "held_out_loss" and result.per_class == {}
        assert [s["id"] for s in stored_evaluations(project)] == [result.id]


def test_bad_parameters_are_refused(tmp_path):
    with _random_text_project(tmp_path) as project:
        for kw in ({"holdout": 0.0}, {"holdout": 1.0}, {"seeds": 0}, {"epochs": 0}):
            with pytest.raises(EvaluationError):
                run_job(evaluate_job(project, **kw))


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def test_image_project_trains_a_cnn_and_uses_accepted_blobs(tmp_path):
    from genaug_desktop.core.store.blobs import write_blob

    rng = np.random.default_rng(0)
    root = tmp_path / "shapes"
    for label, value in (("dark", 40), ("light", 210)):
        (root / label).mkdir(parents=True)
        for i in range(8):
            arr = np.clip(rng.normal(value, 20, (12, 12)), 0, 255).astype(np.uint8)
            Image.fromarray(arr, "L").save(root / label / f"{i}.png")
    with run_job(init_project_job(str(tmp_path / "s.genaug"), str(root))) as project:
        train = holdout_split(project.items(), 0.25).train
        rows = []
        for item in train:
            arr = np.full((12, 12, 3), 40 if item.label == "dark" else 210, np.uint8)  # RGB blobs, grey data
            rows.append({"origin": "augmentation", "source": item.key, "label": item.label,
                         "blob": write_blob(project.blobs_dir, _png(arr), fsync=False)})
        ids = project.add_candidates(rows)
        project.decide(ids, "accepted")
        result = _run(project, holdout=0.25, seeds=2, epochs=3)
        data = result.to_json()
        assert data["params"]["channels"] == 1 and data["params"]["model"] == "cnn32"
        assert data["counts"] == {"train_real": 12, "held_out": 4, "accepted": 12, "all": 12, "candidates_total": 12}
        assert set(data["per_class"]) == {"dark", "light"}
        assert "delta_accuracy_accepted" in data["per_class"]["dark"]
        again = _run(project, holdout=0.25, seeds=2, epochs=3, store=False)
        assert again.conditions == result.conditions
