"""Scale: open, browse, augment, filter and export at two sizes, to show no step is quadratic.

    python benchmarks/bench_scale.py --images 25000,100000 --texts 250000,1000000 [--json FILE]
    python benchmarks/bench_scale.py --images 2000 --texts 20000          # a quick check

Images come from ``/work/bench100k`` (100k 64 px PNGs in 10 class folders; make it with
``benchmarks/make_dataset.py``); a smaller size is a hard-linked subset of it (hard links: a
symbolic link out of the dataset root would not be followed). Texts are a generated
``text,label`` CSV. Each step runs in a fresh process, as a user's command would, and reports
its wall time and peak resident set size (its own, and the largest of its worker processes):

1. open: scan the dataset and create the project (``init_project_job``)
2. browse: open the project, load its items into the window's ``ItemListModel`` and read the
   first page (100 rows, display + label roles), as the dataset browser does
3. augment: one variant per item with a cheap policy (hflip p=0.5 + brightness) on the
   normal worker pool (``augment_job``, every core)
4. filter: propose rules from the real data, approve them all, run the filter
5. review: accept every pending candidate (one ``decide`` call)
6. export: the accepted candidates (imagefolder for images, jsonl for texts)

The ratio of per-item times between the two sizes is what shows growth: about 1.0 is linear,
about 4.0 (for a 4x size step) would be quadratic.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

BENCH100K = "/work/bench100k"
IMAGE_POLICY = {"schema_version": 1, "modality": "image", "name": "scale: hflip + brightness", "preprocess": [],
                "steps": [{"op": "hflip", "p": 0.5}, {"op": "brightness", "p": 1.0}]}
TEXT_POLICY = {"schema_version": 1, "modality": "text", "name": "scale: word dropout", "preprocess": [],
               "steps": [{"op": "random_word_delete", "p": 1.0}]}
STEPS = ("open", "browse", "augment", "filter", "review", "export")

# One step, run in a fresh interpreter: python -c STEP_CODE STEP PROJECT DATASET WORKDIR
STEP_CODE = r'''
import json, os, resource, sys, time
step, project_path, dataset, work, policy_json = sys.argv[1:6]
t0 = time.perf_counter()
extra = {}
from genaug_desktop.core.jobs import run_job
if step == "open":
    from genaug_desktop.core.store import init_project_job
    project = run_job(init_project_job(project_path, dataset))
    extra["items"] = project.item_count()
    project.close()
else:
    from genaug_desktop.core.store import Project
    project = Project.open(project_path)
    if step == "browse":
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtGui import QGuiApplication
        app = QGuiApplication.instance() or QGuiApplication([])
        from genaug_desktop.gui.models import ItemListModel, LabelRole
        model = ItemListModel()
        model.reset(project.dataset_root)
        batch = []
        for item in project.iter_items():
            batch.append(item)
            if len(batch) == 20000:
                model.append_items(batch)
                batch = []
        model.append_items(batch)
        page = [(model.index(r, 0).data(), model.index(r, 0).data(LabelRole)) for r in range(min(100, model.rowCount()))]
        extra["rows"] = model.rowCount()
        extra["first_row"] = page[0][0]
    elif step == "augment":
        from genaug_desktop.core.augment import augment_job
        from genaug_desktop.core.policy import Policy
        result = run_job(augment_job(project, Policy.from_json(json.loads(policy_json)), per_item=1, seed=0))
        extra["created"] = result.created
        extra["failures"] = len(result.failures)
    elif step == "filter":
        from genaug_desktop.core.rules import approve_rules, list_rules, propose_rules, run_filter, save_proposals
        t = time.perf_counter()
        save_proposals(project, propose_rules(project))
        approve_rules(project, [r.id for r in list_rules(project)])
        extra["propose_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        result = run_filter(project)
        extra["filter_only_s"] = round(time.perf_counter() - t, 2)
        extra["rules"] = len(list_rules(project))
        extra["rejected"] = result.total_rejected
    elif step == "review":
        ids = [row[0] for row in project.query("SELECT id FROM candidates WHERE status = 'pending' ORDER BY id")]
        extra["accepted"] = project.decide(ids, "accepted")
    elif step == "export":
        from genaug_desktop.core.export import ExportOptions, export_job
        fmt = "imagefolder" if project.modality == "image" else "jsonl"
        result = run_job(export_job(project, ExportOptions(format=fmt), os.path.join(work, "export")))
        extra["exported"] = sum(1 for _ in os.scandir(os.path.join(work, "export"))) if fmt == "jsonl" else None
    project.close()
seconds = time.perf_counter() - t0
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "rss": own, "children_rss": kids, **extra}))
'''


def load_average() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def image_subset(n: int, tmp: str) -> str:
    """*n* images of BENCH100K (the same share of each class), hard-linked into a new folder."""
    if n >= 100_000:
        return BENCH100K
    root = os.path.join(tmp, f"images{n}")
    per_class = n // 10
    for label in sorted(os.listdir(BENCH100K)):
        src = os.path.join(BENCH100K, label)
        os.makedirs(os.path.join(root, label))
        for name in sorted(os.listdir(src))[:per_class]:
            try:
                os.link(os.path.join(src, name), os.path.join(root, label, name))
            except OSError:  # another file system: copy
                shutil.copy2(os.path.join(src, name), os.path.join(root, label, name))
    return root


def text_dataset(n: int, tmp: str) -> str:
    import numpy as np

    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, int(rng.integers(3, 9)))) for _ in range(5000)]
    path = os.path.join(tmp, f"texts{n}", "reviews.csv")
    os.makedirs(os.path.dirname(path))
    lengths = rng.integers(6, 20, n)
    words = rng.integers(0, len(vocab), int(lengths.sum())).tolist()
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        start = 0
        for i, k in enumerate(lengths.tolist()):
            w.writerow([" ".join(vocab[j] for j in words[start : start + k]), f"c{i % 5}"])
            start += k
    return path


def run_step(step: str, project: str, dataset: str, work: str, policy: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", STEP_CODE, step, project, dataset, work, json.dumps(policy)],
        capture_output=True, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    if proc.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["load"] = load_average()
    return out


def run_size(kind: str, n: int, tmp: str) -> dict[str, Any]:
    work = tempfile.mkdtemp(prefix=f"{kind}{n}-", dir=tmp)
    t = time.perf_counter()
    dataset = image_subset(n, work) if kind == "images" else text_dataset(n, work)
    print(f"[{kind} {n:,}] dataset ready in {time.perf_counter() - t:.1f} s (load {load_average()})", flush=True)
    project = os.path.join(work, "p.genaug")
    policy = IMAGE_POLICY if kind == "images" else TEXT_POLICY
    steps: dict[str, Any] = {}
    for step in STEPS:
        steps[step] = run_step(step, project, dataset, work, policy)
        s = steps[step]
        print(f"[{kind} {n:,}] {step:<8} {s['seconds']:8.1f} s  {s['seconds'] / n * 1e6:8.1f} us/item  "
              f"peak RSS {s['rss'] / 2**20:7.0f} MB (workers {s['children_rss'] / 2**20:5.0f} MB)  load {s['load']}  "
              f"{ {k: v for k, v in s.items() if k not in ('seconds', 'rss', 'children_rss', 'load')} }", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    return {"kind": kind, "n": n, "steps": steps}


def table(results: list[dict[str, Any]]) -> str:
    lines = []
    for kind in ("images", "texts"):
        runs = sorted((r for r in results if r["kind"] == kind), key=lambda r: r["n"])
        if not runs:
            continue
        small, big = runs[0], runs[-1]
        head = f"| {kind} step | " + " | ".join(f"{r['n']:,}: time, peak RSS" for r in runs)
        lines += [head + " | per-item time ratio (big / small) |", "|---" * (len(runs) + 2) + "|"]
        for step in STEPS:
            cells = [f"{r['steps'][step]['seconds']:.1f} s, {r['steps'][step]['rss'] / 2**20:.0f} MB" for r in runs]
            a = small["steps"][step]["seconds"] / small["n"]
            b = big["steps"][step]["seconds"] / big["n"]
            lines.append(f"| {step} | " + " | ".join(cells) + f" | {b / a:.2f}x |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", default="25000,100000", help="image dataset sizes (comma-separated; '' for none)")
    parser.add_argument("--texts", default="250000,1000000", help="text dataset sizes (comma-separated; '' for none)")
    parser.add_argument("--tmp", default=None, help="work folder (default: a temporary folder)")
    parser.add_argument("--json", metavar="FILE", help="also write the raw results here")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-scale-", dir=args.tmp)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {load_average()} "
          "(shared with other engineers' work: expect noise)", flush=True)
    results = []
    try:
        for kind, sizes in (("images", args.images), ("texts", args.texts)):
            for n in [int(s) for s in sizes.split(",") if s.strip()]:
                if kind == "images" and not os.path.isdir(BENCH100K):
                    raise SystemExit(f"{BENCH100K} is missing: python benchmarks/make_dataset.py {BENCH100K} --count 100000 --size 64")
                results.append(run_size(kind, n, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(table(results))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
