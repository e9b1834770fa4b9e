"""The evaluation without labels (the built-in generator's held-out loss, lower is better) and the
latest evaluation in the export manifest. Tiny models and few epochs: seconds per test."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from PIL import Image

from genaug_desktop.core.evaluation import (
    EvaluationError,
    evaluate_job,
    evaluation_for_manifest,
    holdout_split,
    stored_evaluations,
)
from genaug_desktop.core.export import ExportOptions, export_job
from genaug_desktop.core.jobs import CancelToken, Cancelled, run_job
from genaug_desktop.core.store import Project, init_project_job

WORDS = "the a good bad product works well broke day love it cheap fast slow really happy".split()


def _text_project(tmp_path, n: int = 60, labels: bool = False) -> Project:
    """Short sentences over a small vocabulary: easy for a character model to learn a little of."""
    rng = random.Random(3)
    rows = []
    for i in range(n):
        row = {"text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9)))}
        if labels:
            row["label"] = "pos" if i % 2 else "neg"
        rows.append(row)
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return run_job(init_project_job(str(tmp_path / "p.genaug"), str(data)))


def _garbage(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice("qxzjkv#@!%") for _ in range(40)) for _ in range(n)]


def test_unlabeled_text_compares_generator_loss_and_sees_garbage(tmp_path):
    rng = random.Random(1)
    with _text_project(tmp_path) as project:
        good = project.add_candidates([{"origin": "generator", "source": None, "label": None,
                                        "text": " ".join(rng.choice(WORDS) for _ in range(6))} for _ in range(30)])
        bad = project.add_candidates([{"origin": "generator", "source": None, "label": None, "text": t}
                                      for t in _garbage(rng, 90)])
        project.decide(good, "accepted")
        project.decide(bad, "rejected")
        result = run_job(evaluate_job(project, seeds=2, epochs=6))
        data = result.to_json()
        assert list(data)[:5] == ["metric", "real_only", "with_accepted", "with_all", "per_class"]
        assert data["metric"] == "held_out_loss" and data["higher_is_better"] is False
        assert data["unit"] == "nats/char" and data["params"]["model"] == "char_gru"
        assert data["per_class"] == {} and data["classes"] == []
        assert data["candidate_ids"] == {"with_accepted": good, "with_all": good + bad}
        for name in ("real_only", "with_accepted", "with_all"):
            assert len(data[name]["runs"]) == 2 and data[name]["mean"] > 0 and data[name]["std"] >= 0
        # Every condition trains for about the same number of steps (same compute).
        steps = [data[n]["steps"][0] for n in ("real_only", "with_accepted", "with_all")]
        assert max(steps) <= 1.5 * min(steps)
        # Three garbage strings for every good one: the rejected pool visibly hurts the model
        # of real text; this is what "what the review was worth" shows.
        assert data["with_all"]["mean"] > data["with_accepted"]["mean"] + 0.1
        assert data["with_all"]["mean"] > data["real_only"]["mean"] + 0.1
        assert "char_gru generator's held-out loss (lower is better)" in data["summary"]
        assert "nats/char over 2 seeds" in data["summary"]
        stored = stored_evaluations(project)
        assert [s["id"] for s in stored] == [result.id]
        assert stored[0]["metric"] == "held_out_loss" and stored[0]["candidate_ids"]["with_accepted"] == good


def test_unlabeled_is_deterministic_and_excludes_held_out_sources(tmp_path):
    with _text_project(tmp_path) as project:
        held = holdout_split(project.items(), 0.2, 0, by_label=False).held_out
        leaked = project.add_candidates([{"origin": "augmentation", "source": i.key, "label": None, "text": i.text}
                                         for i in held])
        project.decide(leaked, "accepted")
        a = run_job(evaluate_job(project, seeds=[3], epochs=2, include_all=False, store=False))
        b = run_job(evaluate_job(project, seeds=[3], epochs=2, include_all=False, store=False))
        assert a.excluded["source_held_out"] == len(held) > 0
        assert a.candidate_ids == {"with_accepted": []}
        assert a.conditions == b.conditions
        assert a.conditions["with_accepted"]["runs"] == a.conditions["real_only"]["runs"]
        assert "no accepted synthetic samples" in a.summary
        assert stored_evaluations(project) == []


def test_unlabeled_cancel_during_training_stores_nothing(tmp_path):
    with _text_project(tmp_path) as project:
        token = CancelToken()
        messages = []
        with pytest.raises(Cancelled):
            for progress in evaluate_job(project, seeds=3, epochs=50, cancel=token):
                messages.append(progress.message)
                if "Epoch" in progress.message:  # inside the first generator's training
                    token.cancel()
        assert any("char_gru" in m for m in messages)
        assert stored_evaluations(project) == []


def test_unlabeled_images_use_the_vae(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "flat"
    root.mkdir()
    for i in range(10):
        arr = np.zeros((16, 16), np.uint8)
        arr[4:12, 4 + i % 3:8 + i % 3] = 200 + rng.integers(0, 50)
        Image.fromarray(arr, "L").save(root / f"{i}.png")
    with run_job(init_project_job(str(tmp_path / "f.genaug"), str(root))) as project:
        assert all(i.label is None for i in project.items())
        result = run_job(evaluate_job(project, seeds=1, epochs=1, holdout=0.3))
        assert result.metric == "held_out_loss" and result.unit == "nats/image"
        assert result.params["model"] == "conv_vae" and result.params["channels"] == 1
        assert result.counts["held_out"] == 3 and result.counts["train_real"] == 7


def test_too_few_unlabeled_items_are_refused(tmp_path):
    with _text_project(tmp_path, n=1) as project:
        with pytest.raises(EvaluationError, match="too few items"):
            run_job(evaluate_job(project, seeds=1, epochs=1))


def test_latest_evaluation_goes_into_the_export_manifest(tmp_path):
    with _text_project(tmp_path, n=40, labels=True) as project:
        train = holdout_split(project.items(), 0.2).train
        ids = project.add_candidates([{"origin": "augmentation", "source": i.key, "label": i.label,
                                       "text": i.text + " again"} for i in train[:10]])
        project.decide(ids, "accepted")
        assert evaluation_for_manifest(project) is None

        def manifest(dest: str) -> dict:
            run_job(export_job(project, ExportOptions(format="jsonl"), str(tmp_path / dest)))
            return json.loads((tmp_path / dest / "manifest.json").read_text(encoding="utf-8"))

        assert manifest("before")["evaluation"] is None
        run_job(evaluate_job(project, seeds=1, epochs=2, include_all=False))
        last = run_job(evaluate_job(project, seeds=2, epochs=2))
        entry = manifest("after")["evaluation"]
        assert entry["id"] == last.id and entry["metric"] == "accuracy" and entry["higher_is_better"] is True
        assert entry["with_accepted"]["mean"] == last.conditions["with_accepted"]["mean"]
        assert entry["with_all"]["candidates"] == len(last.candidate_ids["with_all"])
        assert entry["summary"] == last.summary and entry["seeds"] == [0, 1]
        assert "held_out_keys" not in entry["params"] and entry["params"]["holdout"] == 0.2
        assert entry["changed_since"] == {"decisions": 0, "candidates_added": 0}
        project.decide(ids[:2], "rejected")
        assert manifest("later")["evaluation"]["changed_since"]["decisions"] == 2
