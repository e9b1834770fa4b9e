"""Local engine vs Ray engine on one machine: the same augmentation job, side by side in one run.

    python benchmarks/bench_ray.py [--dataset /work/bench100k] [--items 100000] [--workers 2]

The dataset is an image folder (``benchmarks/make_dataset.py DIR --count 100000 --size 64``).
One project is scanned once; the job runs with the local engine (``workers`` processes) and
with the Ray engine (a local Ray started by the job with ``num_cpus = workers``, started and
shut down inside the timed region, as ``genaug augment --engine ray`` does), each with its own
seed so that both do the full work. It reports both wall times, the Ray/local ratio (the
overhead of Ray on one machine), and the per-item costs that an estimate of throughput per node
needs: the worker-side work per variant (one core), the driver's store cost per variant (the
single writer), and the blob bytes written per variant.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import threading
import time

from genaug_desktop.core.augment import WorkUnit, augment_job, augment_units
from genaug_desktop.core.engine import Engine
from genaug_desktop.core.jobs import Progress, run_job
from genaug_desktop.core.policy import Policy
from genaug_desktop.core.store import init_project_job

#: a cheap policy: the per-item cost is mostly decode + encode + blob write, where engine overhead shows most
CHEAP_POLICY = {
    "schema_version": 1, "modality": "image", "name": "bench-ray cheap",
    "steps": [{"op": "hflip", "p": 0.5}, {"op": "rotate", "p": 1.0, "params": {"angle": [-10, 10]}}],
}


class CpuMeter:
    """CPU seconds used by this process and every process it starts (worker pools, Ray's
    raylet, GCS and workers), sampled every 0.2 s so that processes that end are counted too.
    On a shared machine CPU time is a steadier measure of cost than wall time."""

    def __init__(self) -> None:
        import psutil

        self._me = psutil.Process()
        self._seen: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        import psutil

        for proc in [self._me, *self._me.children(recursive=True)]:
            try:
                t = proc.cpu_times()
                self._seen[proc.pid] = (self._kind(proc), t.user + t.system)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass

    def _kind(self, proc: object) -> str:
        if proc.pid == self._me.pid:  # type: ignore[attr-defined]
            return "driver"
        name = proc.name()  # type: ignore[attr-defined]
        cmd = " ".join(proc.cmdline()).lower()  # type: ignore[attr-defined]
        if name in ("raylet", "gcs_server") or "agent" in name.lower() or "ray/_private" in cmd or "dashboard" in cmd:
            return "ray_system"
        return "workers"

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def __enter__(self) -> CpuMeter:
        self._sample()
        self._base = {pid: cpu for pid, (_n, cpu) in self._seen.items()}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def seconds(self) -> dict[str, float]:
        """CPU seconds by kind of process: driver, workers, ray system processes."""
        out = {"driver": 0.0, "workers": 0.0, "ray_system": 0.0}
        for pid, (kind, cpu) in self._seen.items():
            out[kind] += cpu - self._base.get(pid, 0.0)
        return {k: round(v, 2) for k, v in out.items()}


def timed_job(job: object) -> tuple[float, float, object, dict[str, float]]:
    """(seconds to the first stored batch, total seconds, result, CPU seconds by process kind)."""
    started = time.perf_counter()
    first: list[float] = []

    def on_progress(p: Progress) -> None:
        if p.payload and not first:
            first.append(time.perf_counter() - started)

    with CpuMeter() as meter:
        result = run_job(job, on_progress)  # type: ignore[arg-type]
    return (first[0] if first else float("nan")), time.perf_counter() - started, result, meter.seconds()


def per_item_costs(project: object, policy: Policy, keys: list[str], scratch: str) -> dict[str, float]:
    """Worker work per variant (this process, one core), driver store cost per variant, blob bytes."""
    wanted = set(keys)
    items = []
    for item in project.iter_items():  # type: ignore[attr-defined]
        if item.key in wanted:
            items.append(item)
            if len(items) == 512:
                break
    units = [WorkUnit(i.key, i.label, i.sha256, project.source_path(i), None, (0,)) for i in items]  # type: ignore[attr-defined]
    blobs = os.path.join(scratch, "blobs")
    augment_units(policy.to_json(), policy.sha256, units[:16], 99, blobs)  # warm up imports and caches
    t0 = time.process_time()
    rows = augment_units(policy.to_json(), policy.sha256, units, 99, blobs)
    work = (time.process_time() - t0) / len(units)
    t1 = time.perf_counter()
    rows = augment_units(policy.to_json(), policy.sha256, units, 98, blobs)  # wall, fsyncs included
    work_wall = (time.perf_counter() - t1) / len(units)
    sizes = [os.path.getsize(os.path.join(blobs, r["blob"][:2], r["blob"] + ".png")) for r in rows if "blob" in r]
    # The driver's share: one transaction per batch of 64 rows, as the Ray engine stores them.
    rows = [dict(r, provenance=dict(r["provenance"], variant=k)) for k in range(4) for r in rows]
    t2 = time.perf_counter()
    for start in range(0, len(rows), 64):
        project.add_candidates(rows[start : start + 64])  # type: ignore[attr-defined]
    store = (time.perf_counter() - t2) / len(rows)
    project.query("DELETE FROM candidates WHERE json_extract(provenance, '$.base_seed') IN (98, 99)")  # type: ignore[attr-defined]
    return {"worker_cpu_ms": work * 1e3, "worker_wall_ms": work_wall * 1e3, "driver_store_ms": store * 1e3,
            "blob_bytes": statistics.mean(sizes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="/work/bench100k")
    parser.add_argument("--items", type=int, default=100_000, help="use the first N items (default 100,000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--order", choices=["local-first", "ray-first"], default="local-first")
    parser.add_argument("--json", metavar="FILE", help="also write the report here")
    parser.add_argument("--ray-batch", type=int, help="variants per Ray task (default: the job's own)")
    parser.add_argument("--only", choices=["local", "ray"], help="run one engine only (tuning)")
    args = parser.parse_args()
    if args.ray_batch:
        import genaug_desktop.core.augment as augment

        augment._RAY_BATCH_IMAGES = args.ray_batch
    tmp = tempfile.mkdtemp(prefix="genaug-bench-ray-")
    try:
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        project = run_job(init_project_job(os.path.join(tmp, "bench.genaug"), args.dataset))
        scan_s = time.perf_counter() - t0
        keys = [i.key for i in project.iter_items()][: args.items]
        policy = Policy.from_json(CHEAP_POLICY)
        runs: dict[str, dict[str, float]] = {}
        order = ["local", "ray"] if args.order == "local-first" else ["ray", "local"]
        if args.only:
            order = [args.only]
        for seed, name in enumerate(order, 1):
            engine = Engine(name, workers=args.workers)
            first, total, result, cpu = timed_job(augment_job(project, policy, per_item=1, seed=seed, item_keys=keys,
                                                              workers=args.workers, engine=engine))
            assert result.created == len(keys), result.summary()  # type: ignore[attr-defined]
            runs[name] = {"seconds": round(total, 2), "first_batch_s": round(first, 2),
                          "variants_per_s": round(len(keys) / total, 1),
                          "steady_variants_per_s": round(len(keys) / max(total - first, 1e-9), 1),
                          "cpu_s": cpu, "cpu_ms_per_variant": round(sum(cpu.values()) / len(keys) * 1e3, 3),
                          "load_average": [round(x, 2) for x in os.getloadavg()]}
            print(f"{name}: {total:.1f} s ({len(keys) / total:,.0f} variants/s; first batch stored after {first:.1f} s); "
                  f"CPU {cpu}", flush=True)
        if args.only:
            return
        costs = per_item_costs(project, policy, keys, tmp)
        project.close()
        report = {
            "items": len(keys), "workers": args.workers, "cpus": os.cpu_count(), "scan_s": round(scan_s, 1),
            "policy": CHEAP_POLICY["steps"], "order": order, "runs": runs,
            "ray_over_local_time": round(runs["ray"]["seconds"] / runs["local"]["seconds"], 3),
            "ray_over_local_steady": round(runs["local"]["steady_variants_per_s"] / runs["ray"]["steady_variants_per_s"], 3),
            "ray_over_local_cpu": round(runs["ray"]["cpu_ms_per_variant"] / runs["local"]["cpu_ms_per_variant"], 3),
            "per_item": {k: round(v, 4) for k, v in costs.items()},
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        }
        text = json.dumps(report, indent=2)
        print(text)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
