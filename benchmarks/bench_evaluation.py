"""Downstream evaluation: does the reviewed augmentation help a small model on held-out real items?

    python benchmarks/bench_evaluation.py [--set digits|texts|all] [--seeds 5] [--per-item 2]
                                          [--image-policy ...] [--text-policy ...] [--json FILE]

Images (``digits``): the 8x8 digits shipped with scikit-learn (a benchmark-only dependency), cut
to ``--per-class`` images per class and scaled to 32x32 grey PNGs; policy ``image_medium.json``.

Texts (``texts``): a templated, labelled set of short product reviews (positive / negative /
neutral), ``--text-per-class`` per class, made here with a fixed seed (no text set with labels
ships offline: scikit-learn's are downloads). The phrases of the classes share words ("not bad"
/ "not good", "could be better" / "could not be better") and every review carries filler
sentences, so a small model does not reach the ceiling. Each text policy given (default: the
typos and word-dropout presets) is one row. The same texts without labels are evaluated too,
by the char_gru generator's held-out loss (the unlabeled fallback).

Each case: a project; the policy makes ``--per-item`` candidates per real item; review by the
approved rules only (every proposed rule approved, the filter run, every candidate still
pending accepted); then ``evaluate_job`` compares real-only, real + accepted and real + all over
``--seeds`` seeds on the held-out real items.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import csv
import random

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


TEXT_PHRASES = {
    "positive": ["works really well", "is better than I expected", "is not bad at all", "could not be better",
                 "does exactly what it should", "feels solid and well made", "was worth every penny",
                 "made me really happy", "keeps going all day", "is a great buy", "beats the old one easily",
                 "is just right for me"],
    "negative": ["stopped working after a week", "is worse than I expected", "is not good at all",
                 "could not be worse", "does not do what it should", "feels cheap and flimsy",
                 "was a waste of money", "made me really angry", "dies before lunch", "is a poor buy",
                 "is beaten by the old one easily", "is just wrong for me"],
    "neutral": ["works as described", "is about what I expected", "is neither good nor bad", "could be better",
                "does the job", "feels fine for the price", "was an average buy", "is okay I guess",
                "lasts about a day", "is similar to the old one", "is nothing special", "is fine for now"],
}
TEXT_SUBJECTS = ["The battery", "The screen", "This kettle", "The charger", "This lamp", "The case", "The speaker",
                 "This blender", "The keyboard", "The headset"]
TEXT_FILLER = ["I bought it last month.", "Delivery took three days.", "My sister has the same one.",
               "It came in a blue box.", "I use it every morning.", "The manual is short.",
               "I got it on sale.", "It replaced an older model.", ""]


def write_texts(path: str, per_class: int, labelled: bool = True, seed: int = 0) -> int:
    """A templated, labelled set of short reviews; the same *seed* gives the same file."""
    rng = random.Random(seed)
    rows = []
    for label, phrases in TEXT_PHRASES.items():
        for _ in range(per_class):
            parts = [rng.choice(TEXT_FILLER), f"{rng.choice(TEXT_SUBJECTS)} {rng.choice(phrases)}.",
                     rng.choice(TEXT_FILLER)]
            rows.append((" ".join(p for p in parts if p), label))
    rng.shuffle(rows)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"] if labelled else ["text"])
        writer.writerows(rows if labelled else [(t,) for t, _ in rows])
    return len(rows)


def review_by_rules(project) -> tuple[list, int, int]:
    """Approve every proposed rule, run the filter, accept what is still pending."""
    save_proposals(project, propose_rules(project))
    rules = list_rules(project)
    approve_rules(project, [r.id for r in rules])
    filt = run_filter(project)
    pending = [c.id for c in project.candidates(status="pending")]
    project.decide(pending, "accepted", reason="passed the approved rules", decided_by="rule")
    return rules, filt.total_rejected, len(pending)


def run_case(work: str, name: str, data: str, policy_path: str, per_item: int, seeds: int, epochs: int | None,
             holdout: float, described: str) -> dict:
    project = run_job(init_project_job(os.path.join(work, f"{name}.genaug"), data))
    policy = Policy.load(policy_path)
    t0 = time.perf_counter()
    aug = run_job(augment_job(project, policy, per_item=per_item, seed=0))
    t_aug = time.perf_counter() - t0
    rules, rejected, accepted = review_by_rules(project)
    t0 = time.perf_counter()
    result = run_job(evaluate_job(project, holdout=holdout, seeds=seeds, epochs=epochs))
    t_eval = time.perf_counter() - t0
    out = result.to_json()
    project.close()
    report = {
        "case": name, "dataset": described, "policy": os.path.relpath(policy_path, ROOT), "augment": aug.summary(),
        "rules": [f"{r.id} ({r.kind})" for r in rules], "rejected_by_rules": rejected, "accepted": accepted,
        "epochs": out["params"]["epochs"], "seconds": {"augment": round(t_aug, 1), "evaluate": round(t_eval, 1)},
        "evaluation": {k: out[k] for k in ("metric", "unit", "real_only", "with_accepted", "with_all", "per_class",
                                           "summary", "counts", "excluded", "seeds", "params")},
    }
    print(f"\n[{name}] {described}; {report['policy']}; {report['augment']}")
    print(f"  rules approved: {len(rules)}; rejected {rejected}; accepted {accepted}; held out "
          f"{out['counts']['held_out']}; {out['params']['model']}, {out['params']['epochs']} epochs")
    for cond in ("real_only", "with_accepted", "with_all"):
        s = out[cond]
        if out["metric"] == "accuracy":
            print(f"  {cond:<14} accuracy {s['mean'] * 100:5.1f}% ± {s['std'] * 100:4.1f}   "
                  f"macro-F1 {s['macro_f1']['mean'] * 100:5.1f}% ± {s['macro_f1']['std'] * 100:4.1f}   "
                  f"runs {[round(r, 3) for r in s['runs']]}")
        else:
            print(f"  {cond:<14} held-out loss {s['mean']:.4f} ± {s['std']:.4f} {out['unit']}   "
                  f"runs {[round(r, 4) for r in s['runs']]}   steps {s['steps']}")
    if out["per_class"]:
        deltas = {k: round(v.get("delta_accuracy_accepted", 0.0) * 100, 1) for k, v in out["per_class"].items()}
        print(f"  per-class accuracy delta (accepted - real, points): {deltas}")
    print(f"  {out['summary']}")
    print(f"  time: augment {t_aug:.1f} s, evaluate {t_eval:.1f} s ({len(out['seeds'])} seeds)")
    return report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", choices=("digits", "texts", "all"), default="all")
    ap.add_argument("--per-class", type=int, default=20, help="digits per class")
    ap.add_argument("--text-per-class", type=int, default=40, help="texts per class")
    ap.add_argument("--per-item", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=None, help="default: the evaluation's own (40 images, 30 texts)")
    ap.add_argument("--holdout", type=float, default=0.2)
    ap.add_argument("--image-policy", action="append",
                    help="default: resources/presets/image_medium.json (repeat for more rows)")
    ap.add_argument("--text-policy", action="append",
                    help="default: text_typos.json and text_word_dropout.json (repeat for more rows)")
    ap.add_argument("--no-unlabeled", action="store_true", help="skip the texts-without-labels case")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    presets = os.path.join(ROOT, "resources", "presets")
    image_policies = args.image_policy or [os.path.join(presets, "image_medium.json")]
    text_policies = args.text_policy or [os.path.join(presets, "text_typos.json"),
                                         os.path.join(presets, "text_word_dropout.json")]

    work = tempfile.mkdtemp(prefix="bench-eval-")
    reports = []
    try:
        if args.set in ("digits", "all"):
            data = os.path.join(work, "digits")
            n = write_digits(data, args.per_class)
            for k, policy in enumerate(image_policies):
                reports.append(run_case(work, f"digits{k}", data, policy, args.per_item, args.seeds, args.epochs,
                                        args.holdout, f"sklearn digits, {args.per_class} per class ({n} images), 32x32 grey"))
        if args.set in ("texts", "all"):
            data = os.path.join(work, "reviews.csv")
            n = write_texts(data, args.text_per_class)
            described = f"templated reviews, {args.text_per_class} per class ({n} texts, 3 classes)"
            for k, policy in enumerate(text_policies):
                reports.append(run_case(work, f"texts{k}", data, policy, args.per_item, args.seeds, args.epochs,
                                        args.holdout, described))
            if not args.no_unlabeled:
                plain = os.path.join(work, "reviews_unlabelled.csv")
                write_texts(plain, args.text_per_class, labelled=False)
                for k, policy in enumerate(text_policies):
                    reports.append(run_case(work, f"texts_unlabelled{k}", plain, policy, args.per_item, args.seeds,
                                            None, args.holdout, described + ", labels dropped"))
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(reports, fh, indent=2)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
