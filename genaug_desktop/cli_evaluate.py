"""``genaug evaluate``: did the curation help? Headless downstream evaluation.

::

    genaug evaluate PROJECT [--seeds N] [--holdout 0.2] [--epochs E] [--no-all] [--json]

Trains the same small model (images: a CNN at 32x32; text: hashed character n-grams + a linear
classifier) on real items only, real + accepted and real + all candidates, for N seeds, and
reports accuracy and macro-F1 on held-out real items. Data without labels is compared by the
held-out loss of the built-in generator (char_gru for text, conv_vae for images; lower is
better) instead; ``per_class`` is then empty. The result is stored in the project.
Nothing heavy is imported at module level.
"""

from __future__ import annotations

import json
import sys
from typing import Any

_COMMON: Any = None


def register(sub: Any, common: Any) -> None:
    global _COMMON
    _COMMON = common
    p = sub.add_parser("evaluate", help="does training on accepted candidates help a small model on held-out real items?")
    p.add_argument("project")
    p.add_argument("--seeds", type=int, default=5, metavar="N", help="training seeds (default 5)")
    p.add_argument("--holdout", type=float, default=0.2, metavar="SHARE",
                   help="share of real items held out per class (default 0.2)")
    p.add_argument("--epochs", type=int, metavar="E", help="training epochs (default: 40 for images, 30 for text; without labels, generator epochs: "
                        "15 for images, 10 for text; each model takes E passes worth of steps over the real training items)")
    p.add_argument("--split-seed", type=int, default=0, metavar="S", help="seed of the held-out split (default 0)")
    p.add_argument("--no-all", dest="include_all", action="store_false",
                   help="skip the real + all candidates comparison")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_evaluate)


def _fmt(stats: dict[str, Any]) -> str:
    return f"{stats['mean'] * 100:5.1f}% ± {stats['std'] * 100:4.1f}"


def _line(name: str, stats: dict[str, Any], data: dict[str, Any]) -> str:
    if data["metric"] == "accuracy":
        return f"  {name:<14} accuracy {_fmt(stats)}   macro-F1 {_fmt(stats['macro_f1'])}"
    return (f"  {name:<14} {data['params']['model']} held-out loss {stats['mean']:.4g} ± {stats['std']:.2g} "
            f"{data['unit']} (lower is better)")


def cmd_evaluate(args: Any) -> int:
    usage = _COMMON.UsageError
    if args.seeds < 1:
        raise usage("--seeds must be 1 or more")
    if not 0.0 < args.holdout < 1.0:
        raise usage("--holdout must be between 0 and 1 (e.g. 0.2)")
    if args.epochs is not None and args.epochs < 1:
        raise usage("--epochs must be 1 or more")
    from genaug_desktop.core.evaluation import EvaluationError, evaluate_job

    with _COMMON.open_project(args.project) as project:
        try:
            result = _COMMON.run(
                evaluate_job(project, holdout=args.holdout, seeds=args.seeds, epochs=args.epochs,
                             include_all=args.include_all, split_seed=args.split_seed),
                quiet=args.json,
            )
        except EvaluationError as exc:
            raise usage(str(exc)) from None
    data = result.to_json()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    counts = data["counts"]
    print(f"held out {counts['held_out']:,} real items; trained on {counts['train_real']:,} real items "
          f"(+{counts['accepted']:,} accepted, +{counts['all']:,} all candidates); seeds {data['seeds']}")
    if data["metric"] != "accuracy":
        print("no labels: comparing the built-in generator's loss on the held-out items instead of a classifier")
    for name in ("real_only", "with_accepted", "with_all"):
        stats = data[name]
        if stats:
            print(_line(name, stats, data))
    if data["excluded"]["source_held_out"]:
        print(f"  ({_COMMON.plural(data['excluded']['source_held_out'], 'candidate')} made from held-out items "
              "were left out to avoid leakage)")
    print(data["summary"][:1].upper() + data["summary"][1:] + ".")
    print(f"stored as evaluation {data['id']}", file=sys.stderr)
    return 0
