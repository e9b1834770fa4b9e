"""Scan benchmark: the core scan job over a big image folder, beside a bare Pillow header loop.

    python benchmarks/bench_scan.py /work/bench100k

Reports total scan time, time to the first batch of items (what the grid can show first),
peak RSS of the scanning process (and of its worker processes), and the ratio against a bare
single-process loop of ``open + sha256 + Image.open`` over the same files.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import time


def run_scan(root: str, workers: int | None) -> dict[str, float]:
    import threading

    import psutil

    from genaug_desktop.core.datasets import ScanOptions, scan_job

    me = psutil.Process()
    peak = {"main": 0, "workers": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["main"] = max(peak["main"], me.memory_info().rss)
            try:
                kids = sum(c.memory_info().rss for c in me.children(recursive=True))
            except psutil.Error:
                kids = 0
            peak["workers"] = max(peak["workers"], kids)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    first = None
    job = scan_job(root, ScanOptions(workers=workers))
    n_items = 0
    while True:
        try:
            p = next(job)
        except StopIteration as stop_iter:
            result = stop_iter.value
            break
        if first is None and p.payload is not None and p.payload.items:
            first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    stop.set()
    sampler.join()
    n_items = len(result.items)
    return {
        "items": n_items, "problems": len(result.problems), "seconds": total, "first_batch_s": first or total,
        "peak_rss_main_mb": peak["main"] / 2**20, "peak_rss_workers_mb": peak["workers"] / 2**20,
    }


def run_bare(root: str) -> dict[str, float]:
    from PIL import Image

    t0 = time.perf_counter()
    n = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as fh:
                data = fh.read()
            hashlib.sha256(data).hexdigest()
            with Image.open(io.BytesIO(data)) as img:
                img.size, img.mode
            n += 1
    return {"items": n, "seconds": time.perf_counter() - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=["scan", "scan1", "bare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = run_bare(args.root) if args.child == "bare" else run_scan(args.root, 1 if args.child == "scan1" else None)
        print(json.dumps(result))
        return
    # Warm the page cache first so that no run pays for the disk; then each measurement runs in a
    # fresh process (imports are not shared).
    for dirpath, _dirs, files in os.walk(args.root):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as fh:
                fh.read()
    results = {}
    for kind in ("bare", "scan1", "scan"):
        out = subprocess.run([sys.executable, __file__, args.root, "--child", kind], capture_output=True, text=True, check=True)
        results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    bare, one, full = results["bare"], results["scan1"], results["scan"]
    report = {
        "files": full["items"] + full["problems"],
        "scan_s": round(full["seconds"], 2),
        "scan_first_batch_s": round(full["first_batch_s"], 3),
        "scan_peak_rss_main_mb": round(full["peak_rss_main_mb"]),
        "scan_peak_rss_workers_mb": round(full["peak_rss_workers_mb"]),
        "scan_1_process_s": round(one["seconds"], 2),
        "bare_pillow_1_process_s": round(bare["seconds"], 2),
        "ratio_scan_1_process_vs_bare": round(bare["seconds"] / one["seconds"], 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
