"""Downstream evaluation on a small digits set: does the reviewed augmentation help a CNN?

    python benchmarks/bench_evaluation.py [--per-class 20] [--per-item 2] [--seeds 5] [--epochs 15]
                                          [--policy resources/presets/image_medium.json] [--json FILE]

The 8x8 digits shipped with scikit-learn (a benchmark-only dependency), cut to ``--per-class``
images per class and scaled to 32x32 grey PNGs, become a project; the policy makes
``--per-item`` augmented candidates per real item; review is by the approved rules only (every
proposed rule approved, the filter run, every candidate still pending accepted); then
``evaluate_job`` compares real-only, real + accepted and real + all over ``--seeds`` seeds on
the held-out real items (20% per class).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from genaug_desktop.core.augment import augment_job  # noqa: E402
from genaug_desktop.core.evaluation import evaluate_job  # noqa: E402
from genaug_desktop.core.jobs import run_job  # noqa: E402
from genaug_desktop.core.policy import Policy  # noqa: E402
from genaug_desktop.core.rules import approve_rules, list_rules, propose_rules, run_filter, save_proposals  # noqa: E402
from genaug_desktop.core.store import init_project_job  # noqa: E402


def write_digits(folder: str, per_class: int, seed: int = 0) -> int:
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    n = 0
    for label in range(10):
        idx = np.flatnonzero(digits.target == label)
        for k in rng.choice(idx, per_class, replace=False):
            img = (digits.images[k] * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
            os.makedirs(os.path.join(folder, str(label)), exist_ok=True)
            Image.fromarray(img, "L").resize((32, 32), Image.Resampling.BILINEAR).save(
                os.path.join(folder, str(label), f"{k}.png"))
            n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--per-item", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--holdout", type=float, default=0.2)
    ap.add_argument("--policy", default=os.path.join(ROOT, "resources", "presets", "image_medium.json"))
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="bench-eval-")
    try:
        data = os.path.join(work, "digits")
        n = write_digits(data, args.per_class)
        project = run_job(init_project_job(os.path.join(work, "digits.genaug"), data))
        policy = Policy.load(args.policy)
        t0 = time.perf_counter()
        aug = run_job(augment_job(project, policy, per_item=args.per_item, seed=0))
        t_aug = time.perf_counter() - t0
        save_proposals(project, propose_rules(project))
        rules = list_rules(project)
        approve_rules(project, [r.id for r in rules])
        filt = run_filter(project)
        pending = [c.id for c in project.candidates(status="pending")]
        project.decide(pending, "accepted", reason="passed the approved rules", decided_by="rule")
        t0 = time.perf_counter()
        result = run_job(evaluate_job(project, holdout=args.holdout, seeds=args.seeds, epochs=args.epochs))
        t_eval = time.perf_counter() - t0
        out = result.to_json()
        report = {
            "dataset": f"sklearn digits, {args.per_class} per class ({n} images), 32x32 grey",
            "policy": os.path.relpath(args.policy, ROOT),
            "augment": aug.summary(),
            "rules": [f"{r.id} ({r.kind})" for r in rules],
            "rejected_by_rules": filt.total_rejected,
            "accepted": len(pending),
            "epochs": args.epochs,
            "seconds": {"augment": round(t_aug, 1), "evaluate": round(t_eval, 1)},
            "evaluation": {k: out[k] for k in ("real_only", "with_accepted", "with_all", "per_class", "summary",
                                               "counts", "excluded", "seeds")},
        }
        print(f"{report['dataset']}; {report['augment']}")
        print(f"rules approved: {len(rules)}; rejected {filt.total_rejected}; accepted {len(pending)}")
        for name in ("real_only", "with_accepted", "with_all"):
            s = out[name]
            print(f"  {name:<14} accuracy {s['mean'] * 100:5.1f}% ± {s['std'] * 100:4.1f}   "
                  f"macro-F1 {s['macro_f1']['mean'] * 100:5.1f}% ± {s['macro_f1']['std'] * 100:4.1f}   "
                  f"runs {[round(r, 3) for r in s['runs']]}")
        deltas = {k: round(v.get("delta_accuracy_accepted", 0.0) * 100, 1) for k, v in out["per_class"].items()}
        print(f"  per-class accuracy delta (accepted - real, points): {deltas}")
        print(f"  {out['summary']}")
        print(f"  time: augment {t_aug:.1f} s, evaluate {t_eval:.1f} s ({len(out['seeds'])} seeds x 3 models)")
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(report, fh, indent=2)
        project.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
