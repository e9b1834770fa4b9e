"""Text-op benchmark: the genaug adapter against calling nlpaug directly, single thread.

    python benchmarks/bench_text_ops.py [--texts 2000] [--rounds 5] [--json]

For every nlpaug-backed text op, over the same generated sentences:
- ``direct``: a second nlpaug augmenter built with the very same arguments, ``aug.augment(text)``
  (nlpaug's own randomness: the global generators, seeded once);
- ``apply``: ``op.apply(text, seed=s)`` with seeds drawn beforehand (what rebuilding a candidate costs);
- ``op``: ``op(text, rng)``, i.e. ``sample_params`` (one draw from a numpy Generator) plus ``apply``,
  which is what a policy step costs;
- ``stock``: the same augmenter with nlpaug's own tokenizer (what ``naw.RandomWordAug(...)`` with
  default arguments costs; the adapters' tokenizer keeps "don't" and "3.50" whole).
Times are CPU time (time scheduled out on a busy machine does not count), the best of ``--rounds``
rounds, in microseconds per text; ratios are medians over the rounds of adapter time / direct time
(target: apply/direct at most 1.10). ``adapter`` is the fixed cost apply() adds around nlpaug's
action method (measured with the action replaced by an identity: seeding, lock, normalising), and
``adapter/direct`` that cost as a share of nlpaug's time. apply() calls the action method directly
instead of ``augment()`` (the same result, see ``_action_of`` in core/ops/text.py) and draws through
its own ``sample``, so ``apply - direct`` is the adapter cost minus what those save. WordNet ops
are included when nltk and the WordNet data are available (see docs/wordnet.md), otherwise listed
as skipped.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from typing import Any

import numpy as np

WORDS = (
    "the a quick brown fox jumps over lazy dog cat watches from warm windowsill while people walk "
    "home after work and children play in park near river because weather is good today but tomorrow "
    "might rain so everyone enjoys sunshine bright morning evening city quiet street old house small "
    "garden green tree tall building friendly neighbour happy student reads interesting book about "
    "history science music travel don't it's well-known really quickly slowly carefully"
).split()


def make_texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        words = [WORDS[i] for i in rng.integers(0, len(WORDS), int(rng.integers(8, 25)))]
        words[0] = words[0].capitalize()
        out.append(" ".join(words) + rng.choice([".", "!", "?"]))
    return out


def _clock() -> float:
    """CPU time of this process: time spent scheduled out (other jobs on a shared machine) is not counted."""
    return time.process_time()


def _identity(text: str) -> str:
    """Stands in for the augmenter's action to time what the adapter adds around it."""
    return text


def adapter_cost_us(op: Any, texts: list[str], seeds: list[int], repeat: int = 5) -> float:
    """Microseconds per call that apply() spends outside nlpaug (seeding, lock, normalising)."""
    real = op.__dict__.get("_act") or op._action()
    op._act = _identity
    try:
        best = float("inf")
        for _ in range(repeat):
            t0 = _clock()
            for t, s in zip(texts, seeds):
                op.apply(t, seed=s)
            best = min(best, _clock() - t0)
    finally:
        op._act = real
    return best / len(texts) * 1e6


def _plain(op: Any) -> Any:
    """The adapter's augmenter as nlpaug runs it: the same arguments, nlpaug's own sampling (and, for
    random_word_crop, nlpaug's own crop, which the adapter replaces because it is broken)."""
    from genaug_desktop.core.ops.text import RandomWordCrop

    if isinstance(op, RandomWordCrop):
        return super(RandomWordCrop, op)._build()
    return op._build()


def _stock(op: Any) -> Any:
    """The same augmenter as nlpaug builds it by default: its own tokenizer and global-RNG sampling."""
    from nlpaug.util.text.tokenizer import Tokenizer

    aug = _plain(op)
    aug.tokenizer, aug.reverse_tokenizer = Tokenizer.tokenizer, Tokenizer.reverse_tokenizer
    return aug


def bench(texts: list[str], rounds: int, chunk: int = 50) -> tuple[list[dict[str, object]], list[dict[str, str]]]:
    """Paired timing: the variants run alternately on the same chunk of texts (ABCD, then DCBA), so
    load from other processes on the machine hits all of them alike; each round's totals give one
    ratio, and the median ratio over the rounds is reported."""
    from genaug_desktop.core.ops.base import registry
    from genaug_desktop.core.ops.text import NlpaugOp

    rows, skipped = [], []
    for name, cls in sorted(registry().items()):
        if cls.modality != "text" or cls.preprocess or not issubclass(cls, NlpaugOp):
            continue
        ok, why = cls.availability()
        if not ok:
            skipped.append({"op": name, "why": why or ""})
            continue
        op = cls()
        op._action()  # build (and cache) outside the timing
        direct = _plain(op)  # the very same constructor arguments, nlpaug's own sampling
        stock = _stock(op)
        stripped = [t.strip() for t in texts]
        seeds = [int(s) for s in np.random.default_rng(1).integers(0, 2**31 - 1, len(texts))]
        rng = np.random.default_rng(2)

        def run_direct(lo: int, hi: int) -> None:
            for t in stripped[lo:hi]:
                direct.augment(t)

        def run_stock(lo: int, hi: int) -> None:
            for t in stripped[lo:hi]:
                stock.augment(t)

        def run_apply(lo: int, hi: int) -> None:
            for t, s in zip(texts[lo:hi], seeds[lo:hi]):
                op.apply(t, seed=s)

        def run_op(lo: int, hi: int) -> None:
            for t in texts[lo:hi]:
                op(t, rng)

        variants = {"direct": run_direct, "apply": run_apply, "op": run_op, "stock": run_stock}
        per_round: list[dict[str, float]] = []
        gc.collect()
        gc.disable()
        try:
            for _ in range(rounds):
                random.seed(0)
                np.random.seed(0)
                total = dict.fromkeys(variants, 0.0)
                for i, lo in enumerate(range(0, len(texts), chunk)):
                    order = list(variants) if i % 2 == 0 else list(reversed(variants))
                    for key in order:
                        t0 = _clock()
                        variants[key](lo, lo + chunk)
                        total[key] += _clock() - t0
                per_round.append(total)
        finally:
            gc.enable()
        best = {k: min(r[k] for r in per_round) / len(texts) * 1e6 for k in variants}
        fixed = adapter_cost_us(op, texts, seeds)
        ratio = {k: statistics.median(r[k] / r["direct"] for r in per_round) for k in ("apply", "op", "stock")}
        rows.append({
            "op": name, "direct_us": round(best["direct"], 1), "apply_us": round(best["apply"], 1),
            "op_us": round(best["op"], 1), "stock_us": round(best["stock"], 1),
            "apply_ratio": round(ratio["apply"], 3), "op_ratio": round(ratio["op"], 3),
            "apply_vs_stock": round(statistics.median(r["apply"] / r["stock"] for r in per_round), 3),
            "adapter_us": round(fixed, 2), "adapter_share": round(fixed / best["direct"], 3),
        })
    return rows, skipped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)
    texts = make_texts(args.texts)
    rows, skipped = bench(texts, args.rounds)
    if args.json:
        print(json.dumps({"texts": len(texts), "rounds": args.rounds, "ops": rows, "skipped": skipped}, indent=2))
        return 0
    print(f"{len(texts)} texts, {args.rounds} rounds: best microseconds per text, median ratios")
    print(f"{'op':24} {'direct':>8} {'apply':>8} {'op()':>8} {'stock':>8} {'apply/direct':>13} "
          f"{'op()/direct':>12} {'apply/stock':>12} {'adapter':>8} {'adapter/direct':>15}")
    for r in rows:
        print(f"{r['op']:24} {r['direct_us']:8.1f} {r['apply_us']:8.1f} {r['op_us']:8.1f} {r['stock_us']:8.1f} "
              f"{r['apply_ratio']:13.3f} {r['op_ratio']:12.3f} {r['apply_vs_stock']:12.3f} {r['adapter_us']:8.2f} "
              f"{r['adapter_share']:15.3f}")
    if rows:
        mean = sum(float(r["apply_ratio"]) for r in rows) / len(rows)
        worst = max(rows, key=lambda r: float(r["apply_ratio"]))
        print(f"apply/direct: mean {mean:.3f}, worst {worst['apply_ratio']} ({worst['op']})")
    for s in skipped:
        print(f"skipped {s['op']}: {s['why']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
