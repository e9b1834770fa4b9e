"""Batch augmentation scaling: the same job with 1 and with 2 worker processes, in one run.

    python benchmarks/bench_augment_scaling.py [--images 400] [--size 256] [--per-item 2]

Target (issue 3): 2 workers at least 1.7x the throughput of 1 on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time

import numpy as np
from PIL import Image

from genaug_desktop.core.augment import augment_job
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.policy import Policy
from genaug_desktop.core.store import init_project_job

HERE = os.path.dirname(os.path.abspath(__file__))
PRESET = os.path.join(HERE, os.pardir, "resources", "presets", "image_medium.json")


def make_images(root: str, n: int, size: int) -> None:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for c in range(4):
        os.makedirs(os.path.join(root, f"c{c}"), exist_ok=True)
    for i in range(n):
        a, b = rng.random(2)
        img = np.stack([np.sin(xx * 9 * a) * 127 + 128, np.cos(yy * 7 * b) * 127 + 128, (xx + yy) * 127], -1)
        img += rng.normal(0, 8, img.shape)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(os.path.join(root, f"c{i % 4}", f"{i:05d}.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--per-item", type=int, default=2)
    parser.add_argument("--policy", default=PRESET)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="genaug-bench-")
    try:
        data = os.path.join(tmp, "data")
        make_images(data, args.images, args.size)
        policy = Policy.load(args.policy)
        times = {}
        for workers in (1, 2):
            project = run_job(init_project_job(os.path.join(tmp, f"w{workers}.genaug"), data))
            t0 = time.perf_counter()
            result = run_job(augment_job(project, policy, per_item=args.per_item, seed=0, workers=workers))
            times[workers] = time.perf_counter() - t0
            assert result.created == args.images * args.per_item, result.summary()
            project.close()
        n = args.images * args.per_item
        report = {
            "variants": n, "size": args.size, "policy": os.path.basename(args.policy),
            "workers_1_s": round(times[1], 2), "workers_2_s": round(times[2], 2),
            "workers_1_per_s": round(n / times[1], 1), "workers_2_per_s": round(n / times[2], 1),
            "speedup_2_vs_1": round(times[1] / times[2], 2), "cpus": os.cpu_count(),
        }
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
