"""Local engine vs Ray engine on one machine: the same job, side by side in one run.

    python benchmarks/bench_ray.py [--job augment|filter|export] [--dataset /work/bench100k]
                                   [--items 100000] [--workers 2] [--only local|ray]

``--job filter`` and ``--job export`` run on a project of the first ``--items`` images (a
hard-linked subset of the dataset when smaller): filter = one variant per image made with the
local engine (not timed), rules proposed from the data and all approved, then the filter on each
engine from the same starting state (verdicts, rule marks and cached perceptual hashes reset
between the runs; the verdicts must be equal); export = the originals exported by each engine
(``--format``, default webdataset; the Ray engine's workers write the shards), and the two
exports' checksums must be equal.

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
from genaug_desktop.core.export import ExportOptions, export_job
from genaug_desktop.core.rules import approve_rules, filter_job, list_rules, propose_rules, save_proposals
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
    """(seconds to the first result, total seconds, result, CPU seconds by process kind): the
    first stored batch (augment), or the first progress with work done (filter, export)."""
    started = time.perf_counter()
    first: list[float] = []

    def on_progress(p: Progress) -> None:
        if not first and (p.payload or (p.done and p.message.startswith(("Wrote", "Checked", "Filter")))):
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


def subset_dataset(src: str, n: int, scratch: str) -> str:
    """*src* itself, or a hard-linked copy of its first *n* images (sorted class folders and names)."""
    files = sorted(os.path.relpath(os.path.join(d, f), src) for d, _s, fs in os.walk(src) for f in fs
                   if f.lower().endswith((".png", ".jpg", ".jpeg", ".webp")))
    if n >= len(files):
        return src
    dst = os.path.join(scratch, "subset")
    for rel in files[:n]:
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        os.link(os.path.join(src, rel), os.path.join(dst, rel))
    return dst


def _run_record(name: str, n: int, first: float, total: float, cpu: dict[str, float], unit: str) -> dict[str, object]:
    print(f"{name}: {total:.1f} s ({n / total:,.0f} {unit}/s; first result after {first:.1f} s); CPU {cpu}", flush=True)
    return {"seconds": round(total, 2), "first_result_s": round(first, 2), f"{unit}_per_s": round(n / total, 1),
            f"steady_{unit}_per_s": round(n / max(total - first, 1e-9), 1), "cpu_s": cpu,
            f"cpu_ms_per_{unit[:-1]}": round(sum(cpu.values()) / n * 1e3, 3),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def _reset_filter(project: object) -> None:
    """Back to the state before any filter run: pending, no rule marks, no cached hashes."""
    with project.transaction():  # type: ignore[attr-defined]
        project.query("DELETE FROM decisions WHERE decided_by = 'rule'")  # type: ignore[attr-defined]
        project.query(  # type: ignore[attr-defined]
            "UPDATE candidates SET status = 'pending', reason = NULL, rule_id = NULL, measured = NULL,"
            " decided_by = NULL, decided_at = NULL, rules_checked = NULL WHERE decided_by = 'rule' OR rules_checked IS NOT NULL")
        project.query("DELETE FROM image_hashes")  # type: ignore[attr-defined]


def bench_filter(args: argparse.Namespace, tmp: str, order: list[str]) -> dict[str, object]:
    project = run_job(init_project_job(os.path.join(tmp, "bench.genaug"), subset_dataset(args.dataset, args.items, tmp)))
    t0 = time.perf_counter()
    made = run_job(augment_job(project, Policy.from_json(CHEAP_POLICY), per_item=1, seed=1, workers=args.workers))
    setup = {"augment_s": round(time.perf_counter() - t0, 1), "candidates": made.created}  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    save_proposals(project, propose_rules(project))
    approve_rules(project, [r.id for r in list_rules(project)])
    setup.update(propose_s=round(time.perf_counter() - t0, 1), rules=[r.id for r in list_rules(project)])
    print(f"setup: {setup}", flush=True)
    runs: dict[str, object] = {}
    verdicts: dict[str, list[tuple[object, ...]]] = {}
    for name in order:
        _reset_filter(project)
        first, total, result, cpu = timed_job(filter_job(project, recheck=True, engine=Engine(name, workers=args.workers)))
        runs[name] = _run_record(name, made.created, first, total, cpu, "candidates")  # type: ignore[attr-defined]
        runs[name]["rejected"] = result.total_rejected  # type: ignore[index, attr-defined]
        verdicts[name] = project.query("SELECT id, status, rule_id, reason FROM candidates ORDER BY id")  # type: ignore[attr-defined]
    if len(verdicts) == 2:
        assert verdicts["local"] == verdicts["ray"], "the engines gave different verdicts"
    project.close()
    return {"setup": setup, "runs": runs, "n": made.created, "unit": "candidates"}  # type: ignore[attr-defined]


def bench_export(args: argparse.Namespace, tmp: str, order: list[str]) -> dict[str, object]:
    project = run_job(init_project_job(os.path.join(tmp, "bench.genaug"), subset_dataset(args.dataset, args.items, tmp)))
    options = ExportOptions(format=args.format, include_originals=True, statuses=(), image_format=args.image_format)
    runs: dict[str, object] = {}
    files: dict[str, object] = {}
    for name in order:
        out = os.path.join(tmp, f"export-{name}")
        first, total, result, cpu = timed_job(export_job(project, options, out, engine=Engine(name, workers=args.workers),
                                                         workers=None if name == "local" else args.workers))
        runs[name] = _run_record(name, result.samples, first, total, cpu, "samples")  # type: ignore[attr-defined]
        runs[name].update(files=result.files, bytes=result.bytes)  # type: ignore[attr-defined, union-attr]
        with open(os.path.join(out, "manifest.json"), encoding="utf-8") as fh:
            files[name] = json.load(fh)["files"]
        shutil.rmtree(out, ignore_errors=True)
    if len(files) == 2:
        assert files["local"] == files["ray"], "the engines wrote different files"
    n = result.samples  # type: ignore[attr-defined]
    project.close()
    return {"format": args.format, "image_format": args.image_format, "runs": runs, "n": n, "unit": "samples"}


def _emit(report: dict[str, object], path: str | None) -> None:
    """Print the report as JSON (and write it to *path*)."""
    text = json.dumps(report, indent=2)
    print(text)
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", choices=["augment", "filter", "export"], default="augment")
    parser.add_argument("--dataset", default="/work/bench100k")
    parser.add_argument("--items", type=int, default=100_000, help="use the first N items (default 100,000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--format", default="webdataset", help="export format (--job export)")
    parser.add_argument("--image-format", default="keep",
                        help="export image format (--job export): keep copies the PNGs; jpeg/webp/png re-encode")
    parser.add_argument("--order", choices=["local-first", "ray-first"], default="local-first")
    parser.add_argument("--json", metavar="FILE", help="also write the report here")
    parser.add_argument("--ray-batch", type=int, help="variants per Ray task (default: the job's own)")
    parser.add_argument("--only", choices=["local", "ray"], help="run one engine only (tuning)")
    args = parser.parse_args()
    if args.job != "augment":
        order = ["local", "ray"] if args.order == "local-first" else ["ray", "local"]
        tmp = tempfile.mkdtemp(prefix="genaug-bench-ray-")
        try:
            load_before = os.getloadavg()
            bench = bench_filter if args.job == "filter" else bench_export
            report = bench(args, tmp, [args.only] if args.only else order)
            runs = report["runs"]
            report.update(job=args.job, items=args.items, workers=args.workers, cpus=os.cpu_count(), order=order,
                          load_average_before=[round(x, 2) for x in load_before],
                          load_average_after=[round(x, 2) for x in os.getloadavg()])
            if not args.only:
                unit = str(report["unit"])[:-1]
                report["ray_over_local_time"] = round(runs["ray"]["seconds"] / runs["local"]["seconds"], 3)  # type: ignore[index]
                report["ray_over_local_cpu"] = round(runs["ray"][f"cpu_ms_per_{unit}"] / runs["local"][f"cpu_ms_per_{unit}"], 3)  # type: ignore[index]
            _emit(report, args.json)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
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
        _emit(report, args.json)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
