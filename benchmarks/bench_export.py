"""Export benchmark: 10,000 accepted 256 px images exported as PNG files (imagefolder) and as
tar shards (webdataset), side by side with a plain copy (``shutil.copyfile``) of the same
bytes in the same run.

    python benchmarks/bench_export.py [--count 10000] [--size 256] [--repeat 3] [--dir /tmp]

The images are the blobs of accepted generator candidates (PNG, made like the blob store
makes them: smooth colour fields plus noise, OpenCV PNG level 3). Every timed run starts after
``os.sync()`` with the blobs in the page cache. The exports include what makes them safe and
durable (SHA-256 of every file, the manifest, ``syncfs`` before the atomic rename); the plain
copy does none of that, so it is also timed once more followed by a ``syncfs`` (the same
durability the export gives). Ratios are plain-copy time / export time (1.0 = as fast as
the copy; target for tar shards: at least 0.8).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np


def _make_blobs(args: tuple[str, int, int, int]) -> list[tuple[str, int]]:
    from genaug_desktop.core.policy import encode_png
    from genaug_desktop.core.store.blobs import write_blob

    blobs_dir, start, stop, size = args
    rng = np.random.default_rng(start)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    out = []
    for i in range(start, stop):
        a, b, c = rng.random(3)
        img = np.stack([
            (np.sin(xx * (3 + 6 * a) + b * 6) * 0.5 + 0.5) * 255,
            (np.cos(yy * (3 + 6 * b) + c * 6) * 0.5 + 0.5) * 255,
            (xx + yy) * 0.5 * 255 * c + 40,
        ], axis=-1)
        img += rng.normal(0, 6, img.shape)
        data = encode_png(np.clip(img, 0, 255).astype(np.uint8))
        out.append((write_blob(blobs_dir, data, fsync=False), i % 10))
    return out


def build_project(root: str, count: int, size: int) -> str:
    from PIL import Image

    from genaug_desktop.core.jobs import run_job
    from genaug_desktop.core.store import init_project_job

    data = os.path.join(root, "data")
    for c in range(10):
        os.makedirs(os.path.join(data, f"class_{c}"))
        Image.new("RGB", (8, 8), (c * 20, 0, 0)).save(os.path.join(data, f"class_{c}", "seed.png"))
    path = os.path.join(root, "bench.genaug")
    project = run_job(init_project_job(path, data))
    chunks = [(project.blobs_dir, s, min(s + 500, count), size) for s in range(0, count, 500)]
    with ProcessPoolExecutor() as pool:
        made = [row for part in pool.map(_make_blobs, chunks) for row in part]
    rows = [{"origin": "generator", "source": None, "label": f"class_{c}", "blob": sha, "round": 0,
             "provenance": {"generator": "bench", "checkpoint_sha256": "0" * 64, "seed": i, "round": 0}}
            for i, (sha, c) in enumerate(made)]
    ids = project.add_candidates(rows)
    project.decide(ids, "accepted")
    project.close()
    return path


def _syncfs(path: str) -> None:
    from genaug_desktop.core.export.files import _syncfs as syncfs

    if not syncfs(path):
        os.sync()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_copy(blobs: list[tuple[str, str]], dest: str, sync: bool) -> float:
    os.sync()
    t0 = time.perf_counter()
    for c in range(10):
        os.makedirs(os.path.join(dest, f"class_{c}"))
    for i, (path, label) in enumerate(blobs):
        shutil.copyfile(path, os.path.join(dest, label, f"{i:06d}.png"))
    if sync:
        _syncfs(dest)
    return time.perf_counter() - t0


def time_export(project_path: str, dest: str, fmt: str) -> tuple[float, int, int]:
    from genaug_desktop.core.export import ExportOptions, export_job
    from genaug_desktop.core.jobs import run_job
    from genaug_desktop.core.store import Project

    with Project.open(project_path) as project:
        os.sync()
        t0 = time.perf_counter()
        result = run_job(export_job(project, ExportOptions(format=fmt), dest))
        seconds = time.perf_counter() - t0
    return seconds, result.files, result.bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where to build the project and write (default: the system temp dir)")
    parser.add_argument("--keep", metavar="DIR", help="build the project in DIR once and reuse it on later runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="bench_export-", dir=args.dir)
    try:
        t0 = time.perf_counter()
        if args.keep and os.path.isdir(os.path.join(args.keep, "bench.genaug")):
            project_path = os.path.join(args.keep, "bench.genaug")
        elif args.keep:
            os.makedirs(args.keep, exist_ok=True)
            project_path = build_project(args.keep, args.count, args.size)
        else:
            project_path = build_project(root, args.count, args.size)
        build_s = time.perf_counter() - t0
        from genaug_desktop.core.store import Project

        with Project.open(project_path) as project:
            blobs = [(project.blob_file(c.blob), c.label) for c in project.candidates(status="accepted")]
        total_bytes = sum(os.path.getsize(p) for p, _ in blobs)
        for path, _ in blobs:  # warm the page cache: every run reads from memory
            with open(path, "rb") as fh:
                fh.read()
        times: dict[str, list[float]] = {"copy": [], "copy_syncfs": [], "imagefolder": [], "webdataset": []}
        cpu: dict[str, list[float]] = {k: [] for k in times}
        files: dict[str, int] = {}
        for r in range(args.repeat):
            for kind in ("copy", "imagefolder", "webdataset", "copy_syncfs"):
                dest = os.path.join(root, f"out_{kind}_{r}")
                c0 = _cpu()
                if kind.startswith("copy"):
                    times[kind].append(time_copy(blobs, dest, sync=kind == "copy_syncfs"))
                else:
                    seconds, n_files, _ = time_export(project_path, dest, kind)
                    times[kind].append(seconds)
                    files[kind] = n_files
                cpu[kind].append(_cpu() - c0)
                shutil.rmtree(dest)
        med = {k: statistics.median(v) for k, v in times.items()}
        report = {
            "images": len(blobs), "size_px": args.size, "bytes": total_bytes,
            "mean_image_kb": round(total_bytes / len(blobs) / 1024, 1), "build_s": round(build_s, 1),
            "repeat": args.repeat, "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "median_s": {k: round(v, 3) for k, v in med.items()},
            "all_s": {k: [round(x, 3) for x in v] for k, v in times.items()},
            "median_cpu_s": {k: round(statistics.median(v), 3) for k, v in cpu.items()},
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "export_files": files,
            "ratio_imagefolder_vs_copy": round(med["copy"] / med["imagefolder"], 3),
            "ratio_webdataset_vs_copy": round(med["copy"] / med["webdataset"], 3),
            "ratio_imagefolder_vs_copy_syncfs": round(med["copy_syncfs"] / med["imagefolder"], 3),
            "ratio_webdataset_vs_copy_syncfs": round(med["copy_syncfs"] / med["webdataset"], 3),
            "throughput_mb_s": {k: round(total_bytes / v / 1e6, 1) for k, v in med.items()},
        }
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            print(f"{report['images']:,} images of {args.size}px, {total_bytes / 1e6:,.0f} MB (median of {args.repeat}):")
            for k, v in med.items():
                print(f"  {k:<12} {v:7.2f} s  {report['throughput_mb_s'][k]:7.1f} MB/s  (CPU {report['median_cpu_s'][k]:.2f} s)")
            print(f"  imagefolder vs plain copy: {report['ratio_imagefolder_vs_copy']:.2f}x "
                  f"(vs copy + syncfs: {report['ratio_imagefolder_vs_copy_syncfs']:.2f}x)")
            print(f"  webdataset  vs plain copy: {report['ratio_webdataset_vs_copy']:.2f}x "
                  f"(vs copy + syncfs: {report['ratio_webdataset_vs_copy_syncfs']:.2f}x)")
            print(json.dumps(report))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
