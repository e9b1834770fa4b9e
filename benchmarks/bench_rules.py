"""Rules: filtering throughput with every built-in rule, and near-duplicate search scaling.

    python benchmarks/bench_rules.py [--texts 10000] [--images 10000] [--size 64]
                                     [--dup-sizes 1000,10000,100000] [--only text|image|dups] [--json FILE]

1. Text: 10,000 candidates (variants of 1,000 real reviews, with planted copies, duplicates,
   garbage and other scripts) through ``filter_job`` with every built-in text rule approved
   (the proposals plus a 20-pattern block list); then each rule alone (a dry run), to show
   where the time goes.
2. Images: 10,000 candidates of 64 x 64 px (variants of 500 real images) through ``filter_job``
   with every built-in image rule approved; then each rule alone.
3. Near-duplicate search (MinHash + LSH) over 1k, 10k and 100k texts, 10% of them planted near
   copies, against an all-pairs search over the same signatures (measured at small sizes,
   extrapolated as n**2 beyond): the LSH time must grow about linearly, not quadratically.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import tempfile
import time

import numpy as np
from PIL import Image

from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.rules import (
    RuleContext,
    Subject,
    add_rule,
    approve_rules,
    build_rule,
    dry_run,
    list_rules,
    propose_rules,
    rule_kinds,
    run_filter,
    save_proposals,
)
from genaug_desktop.core.store import init_project_job

def vocabulary(n: int = 4000, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return ["".join(rng.choice(letters, int(rng.integers(3, 9)))) for _ in range(n)]


def sentences(n: int, vocab: list[str], seed: int, lo: int = 8, hi: int = 25) -> list[str]:
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(1.0 / np.arange(1, len(vocab) + 1))  # Zipf-like word frequencies, like real text
    cdf /= cdf[-1]
    lengths = rng.integers(lo, hi + 1, n)
    picks = np.minimum(np.searchsorted(cdf, rng.random(int(lengths.sum()))), len(vocab) - 1).tolist()
    out = []
    start = 0
    for k in lengths.tolist():
        out.append(" ".join(vocab[i] for i in picks[start : start + k]).capitalize() + ".")
        start += k
    return out


def edit_words(text: str, rng: np.random.Generator, vocab: list[str], k: int) -> str:
    ws = text.rstrip(".").split()
    for j in rng.choice(len(ws), min(k, len(ws)), replace=False):
        ws[int(j)] = vocab[int(rng.integers(0, 300))]
    return " ".join(ws) + "."


# ---- 1. text filtering ---------------------------------------------------------------------------
def bench_text(tmp: str, n_candidates: int) -> dict[str, object]:
    vocab = vocabulary()
    real = sentences(1000, vocab, seed=1)
    path = os.path.join(tmp, "reviews.csv")
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        for i, t in enumerate(real):
            w.writerow([t, "pos" if i % 2 else "neg"])
    project = run_job(init_project_job(os.path.join(tmp, "text.genaug"), path))
    items = project.items()
    rng = np.random.default_rng(2)
    rows = []
    for k in range(n_candidates):
        item = items[k % len(items)]
        r = k % 50
        if r == 0:
            text = item.text  # a copy
        elif r == 1:
            text = ""
        elif r == 2:
            text = "!!! ### 1234 $$$ @@@ " * 3
        elif r == 3:
            text = "Этот товар очень хороший и работает отлично каждый день."
        elif r == 4 and rows:
            text = rows[-1]["text"]  # the same as the previous candidate
        else:
            text = edit_words(item.text or "", rng, vocab, 1 + k % 3)
        rows.append({"origin": "augmentation", "source": item.key, "text": text, "provenance": {}})
    project.add_candidates(rows)
    save_proposals(project, propose_rules(project))
    patterns = [rf"\b{w}{w}\b" for w in vocab[:19]] + [r"(?:buy|click)\s+now"]
    add_rule(project, "text_block_list", {"patterns": patterns}, "block_list")
    rules = list_rules(project)
    assert {r.kind for r in rules} == set(rule_kinds("text")), "a text rule kind is missing from the benchmark"
    approve_rules(project, [r.id for r in rules])
    t0 = time.perf_counter()
    result = run_filter(project)
    total = time.perf_counter() - t0
    per_rule = {}
    # each rule alone on all candidates (reset to pending first, so every rule sees all 10k)
    with project.transaction() as db:
        db.execute("UPDATE candidates SET status = 'pending', decided_by = NULL, rule_id = NULL, rules_checked = NULL")
    for rule in rules:
        t1 = time.perf_counter()
        dry_run(project, [rule])
        per_rule[rule.id] = time.perf_counter() - t1
    project.close()
    return {"candidates": n_candidates, "rules": len(rules), "seconds": total, "rate": n_candidates / total,
            "rejected": result.total_rejected, "by_rule": result.rejected, "per_rule_seconds": per_rule}


# ---- 2. image filtering ---------------------------------------------------------------------------
def bench_images(tmp: str, n_candidates: int, size: int) -> dict[str, object]:
    import cv2

    from genaug_desktop.core.policy import encode_png
    from genaug_desktop.core.store.blobs import write_blob

    root = os.path.join(tmp, "images")
    rng = np.random.default_rng(3)
    arrays = []
    for i in range(500):
        small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
        img = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
        arrays.append(img)
        folder = os.path.join(root, f"c{i % 5}")
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(img).save(os.path.join(folder, f"{i:04d}.png"))
    project = run_job(init_project_job(os.path.join(tmp, "images.genaug"), root))
    items = project.items()
    by_key = {f"c{i % 5}/{i:04d}.png": a for i, a in enumerate(arrays)}
    rows = []
    t0 = time.perf_counter()
    for k in range(n_candidates):
        item = items[k % len(items)]
        src = by_key[item.key]
        r = k % 50
        if r == 0:
            img = src
        elif r == 1:
            img = np.full_like(src, 128)
        elif r == 2:
            img = np.zeros_like(src)
        else:
            shift = int(rng.integers(-40, 41))
            img = np.clip(src.astype(np.int16) + shift + rng.integers(-6, 7, src.shape), 0, 255).astype(np.uint8)
            if k % 2:
                img = np.ascontiguousarray(img[:, ::-1])
        blob = write_blob(project.blobs_dir, encode_png(img), fsync=False)
        rows.append({"origin": "augmentation", "source": item.key, "blob": blob, "provenance": {}})
    project.add_candidates(rows)
    make_seconds = time.perf_counter() - t0
    save_proposals(project, propose_rules(project))
    rules = list_rules(project)
    assert {r.kind for r in rules} == set(rule_kinds("image")), "an image rule kind is missing from the benchmark"
    approve_rules(project, [r.id for r in rules])
    with project.transaction() as db:  # measure cold: no perceptual hash cached yet
        db.execute("DELETE FROM image_hashes")
    t0 = time.perf_counter()
    result = run_filter(project)
    total = time.perf_counter() - t0
    with project.transaction() as db:
        db.execute("UPDATE candidates SET status = 'pending', decided_by = NULL, rule_id = NULL, rules_checked = NULL")
    per_rule = {}
    for rule in rules:
        t1 = time.perf_counter()
        dry_run(project, [rule])
        per_rule[rule.id] = time.perf_counter() - t1
    project.close()
    return {"candidates": n_candidates, "size": size, "rules": len(rules), "seconds": total,
            "rate": n_candidates / total, "rejected": result.total_rejected, "by_rule": result.rejected,
            "per_rule_seconds": per_rule, "make_seconds": make_seconds}


# ---- 3. near-duplicate search scaling ----------------------------------------------------------------
def dup_texts(n: int, seed: int = 5) -> list[str]:
    vocab = vocabulary(20000, seed=seed)
    rng = np.random.default_rng(seed)
    base = sentences(n, vocab, seed=seed + 1, lo=12, hi=30)
    for i in range(n):
        if i > 0 and rng.random() < 0.1:  # a near copy of an earlier text: one word changed
            base[i] = edit_words(base[int(rng.integers(0, i))], rng, vocab, 1)
    return base


def lsh_search(texts: list[str], threshold: float = 0.85) -> tuple[float, int]:
    ctx = RuleContext.in_memory("text")
    rule = build_rule("text_near_duplicate", {"threshold": threshold, "against": "candidates"})
    t0 = time.perf_counter()
    rule.prepare(ctx)
    rejected = 0
    for start in range(0, len(texts), 1000):
        batch = [Subject(ctx, start + i, text=t) for i, t in enumerate(texts[start : start + 1000])]
        rule.precompute(batch)
        for s in batch:  # one at a time, oldest first, as the engine does
            rejected += not rule.evaluate([s])[0].passed
    return time.perf_counter() - t0, rejected


def all_pairs_search(texts: list[str], threshold: float = 0.85) -> tuple[float, int]:
    """The quadratic baseline: every text against every earlier one (MinHash signature agreement)."""
    from genaug_desktop.core.rules.minhash import MinHasher, normalize_text

    t0 = time.perf_counter()
    sig, _sets = MinHasher(64, 5).signatures([normalize_text(t) for t in texts])
    found = 0
    for i in range(1, len(texts)):
        agree = (sig[:i] == sig[i]).mean(axis=1)
        found += bool((agree >= threshold).any())
    return time.perf_counter() - t0, found


def bench_dups(sizes: list[int], brute_max: int) -> list[dict[str, object]]:
    out = []
    brute_ref: tuple[int, float] | None = None
    for n in sizes:
        texts = dup_texts(n)
        seconds, found = lsh_search(texts)
        row: dict[str, object] = {"n": n, "lsh_seconds": seconds, "duplicates_found": found}
        if n <= brute_max:
            b_seconds, b_found = all_pairs_search(texts)
            row.update(all_pairs_seconds=b_seconds, all_pairs_found=b_found, all_pairs_measured=True)
            brute_ref = (n, b_seconds)
        elif brute_ref is not None:
            row.update(all_pairs_seconds=brute_ref[1] * (n / brute_ref[0]) ** 2, all_pairs_measured=False)
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--dup-sizes", default="1000,10000,100000")
    parser.add_argument("--brute-max", type=int, default=10_000, help="largest size searched all-pairs for real")
    parser.add_argument("--only", choices=["text", "image", "dups"])
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    results: dict[str, object] = {}
    tmp = tempfile.mkdtemp(prefix="genaug-bench-rules-")
    try:
        if args.only in (None, "text"):
            r = bench_text(tmp, args.texts)
            results["text"] = r
            print(f"\nText filtering: {r['candidates']:,} candidates, {r['rules']} approved rules (every text kind)")
            print(f"  filter_job: {r['seconds']:.2f} s = {r['rate']:,.0f} candidates/s; rejected {r['rejected']:,}")
            print(f"  {'rule (alone, dry run)':<24}{'seconds':>9}{'cand/s':>10}{'rejected by it in the filter':>31}")
            for rid, sec in r["per_rule_seconds"].items():  # type: ignore[union-attr]
                print(f"  {rid:<24}{sec:>9.2f}{r['candidates'] / sec:>10,.0f}{r['by_rule'].get(rid, 0):>31,}")  # type: ignore[union-attr,operator]
        if args.only in (None, "image"):
            r = bench_images(tmp, args.images, args.size)
            results["image"] = r
            print(f"\nImage filtering: {r['candidates']:,} candidates of {r['size']}x{r['size']} px, "
                  f"{r['rules']} approved rules (every image kind)")
            print(f"  filter_job (cold: no hash cached): {r['seconds']:.2f} s = {r['rate']:,.0f} candidates/s; "
                  f"rejected {r['rejected']:,}")
            print(f"  {'rule (alone, dry run)':<24}{'seconds':>9}{'cand/s':>10}{'rejected by it in the filter':>31}")
            for rid, sec in r["per_rule_seconds"].items():  # type: ignore[union-attr]
                print(f"  {rid:<24}{sec:>9.2f}{r['candidates'] / sec:>10,.0f}{r['by_rule'].get(rid, 0):>31,}")  # type: ignore[union-attr,operator]
        if args.only in (None, "dups"):
            sizes = [int(s) for s in args.dup_sizes.split(",")]
            rows = bench_dups(sizes, args.brute_max)
            results["near_duplicates"] = rows
            print("\nNear-duplicate text search (MinHash 64 + LSH, threshold 0.85, 10% planted near copies;")
            print("  all-pairs: every text against every earlier one by MinHash agreement, vectorised numpy)")
            print(f"  {'texts':>8}{'LSH s':>9}{'x prev':>8}{'found':>8}{'all-pairs s':>16}{'x prev':>8}{'found':>8}")
            prev_l = prev_b = None
            for row in rows:
                grow_l = f"{row['lsh_seconds'] / prev_l:.1f}" if prev_l else "-"  # type: ignore[operator]
                b = row.get("all_pairs_seconds")
                grow_b = f"{b / prev_b:.1f}" if prev_b and b else "-"  # type: ignore[operator]
                b_text = "-" if b is None else (f"{b:.2f}" if row.get("all_pairs_measured") else f"~{b:,.0f} (est.)")
                b_found = f"{row['all_pairs_found']:,}" if "all_pairs_found" in row else "-"
                print(f"  {row['n']:>8,}{row['lsh_seconds']:>9.2f}{grow_l:>8}{row['duplicates_found']:>8,}"
                      f"{b_text:>16}{grow_b:>8}{b_found:>8}")
                prev_l, prev_b = row["lsh_seconds"], b
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2, default=float)


if __name__ == "__main__":
    main()
