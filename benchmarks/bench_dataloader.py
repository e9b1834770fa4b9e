"""DataLoader throughput with a policy applied on the fly, against the same pipeline in Albumentations 2.0.8.

Both sides read the same export (an imagefolder export of 256 px PNGs made here through the real
init and export Jobs) with the same reader (``ExportReader.load_array``), convert to the same
(C, H, W) float32 tensors in [0, 1], and run in ``torch.utils.data.DataLoader`` with 2 worker
processes, batch 32, one thread per worker for OpenCV and torch. Only the
transform differs:

- ours: :class:`genaug_desktop.torch_data.ExportDataset` with
  :class:`~genaug_desktop.torch_data.PolicyTransform` (per-sample seeds from (base seed, epoch,
  index), bit-identical with any number of workers);
- reference: the same reader with ``A.Compose`` (the reference pipeline of ``bench_image_ops.py``:
  hflip p=0.5, rotate ±15, colour jitter, gaussian blur p=0.3, gaussian noise).

A third row runs our policy with a label condition on the flip (``when: label not in {...}``) to
show what conditions cost; Albumentations has no per-label steps, so it has no reference.

Albumentations lives only in the benchmark environment (see ``bench_image_ops.py``); this script
also needs torch there: ``/work/bench-venv/bin/pip install torch`` (the CPU wheel). Run::

    /work/bench-venv/bin/python benchmarks/bench_dataloader.py            # ~2 minutes
    /work/bench-venv/bin/python benchmarks/bench_dataloader.py --quick

Timing, made for a shared, noisy machine: a warm-up epoch per side, then rounds in which each
side runs one epoch back to back (the order alternates between rounds, so drift in the machine's
load cancels). Reported: each side's fastest epoch (images/s), the median over rounds of the
paired ratio ours / Albumentations' (above 1: genaug-desktop is faster), and the same ratio in
CPU time (the workers' user + system time, from ``getrusage`` after each epoch's workers end,
plus the main process'), which other programs on the machine disturb much less than wall time.
Workers are therefore not persistent: each epoch starts two (the same cost on both sides).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"

import argparse  # noqa: E402
import copy  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_image_ops import PIPELINE, reference_compose, test_image  # noqa: E402  (exits without albumentations)

try:
    import torch  # noqa: E402
    from torch.utils.data import DataLoader, Dataset  # noqa: E402
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("torch is not installed here: /work/bench-venv/bin/pip install torch (the CPU wheel)")

import albumentations as A  # noqa: E402
import cv2  # noqa: E402

from genaug_desktop.api import ExportReader  # noqa: E402
from genaug_desktop.torch_data import ExportDataset, PolicyTransform  # noqa: E402

CLASSES = ("digit_6", "digit_8", "digit_9", "other")


def make_export(root: Path, count: int, size: int) -> str:
    """*count* photo-like PNGs in class folders -> a project -> an imagefolder export of the originals."""
    from PIL import Image

    from genaug_desktop.core.export import ExportOptions, export_job
    from genaug_desktop.core.jobs import run_job
    from genaug_desktop.core.store import init_project_job

    data = root / "images"
    for i in range(count):
        folder = data / CLASSES[i % len(CLASSES)]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(test_image(size, seed=i)).save(folder / f"{i:05d}.png", compress_level=1)
    project = run_job(init_project_job(str(root / "bench.genaug"), str(data)))
    try:
        opts = ExportOptions(format="imagefolder", include_originals=True, splits={"train": 1.0})
        run_job(export_job(project, opts, str(root / "export")))
    finally:
        project.close()
    return str(root / "export")


class AlbumentationsDataset(Dataset):
    """The reference: the same reader and tensor conversion as ExportDataset, with ``A.Compose``."""

    def __init__(self, reader: ExportReader, compose: Any) -> None:
        self.reader = reader
        self.compose = compose

    def __len__(self) -> int:
        return len(self.reader)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        x = self.compose(image=self.reader.load_array(index))["image"]
        chw = np.ascontiguousarray(x.transpose(2, 0, 1))
        label = self.reader.label_id(index)
        return torch.from_numpy(chw).to(torch.float32).div_(255.0), -1 if label is None else label


def one_thread(_worker_id: int) -> None:
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def loader(dataset: Any, workers: int, batch: int) -> DataLoader:
    return DataLoader(dataset, batch_size=batch, shuffle=False, num_workers=workers,
                      worker_init_fn=one_thread if workers else None)


def _cpu() -> float:
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def epoch(dl: DataLoader) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process and its finished workers, samples) of one epoch."""
    cpu, start = _cpu(), time.perf_counter()
    n = 0
    for x, _y in dl:
        n += len(x)
    wall = time.perf_counter() - start
    del x
    return wall, _cpu() - cpu, n


def conditional_pipeline() -> dict[str, Any]:
    policy = copy.deepcopy(PIPELINE)
    policy["schema_version"] = 2
    policy["steps"][0]["when"] = {"label": {"not_in": ["digit_6", "digit_9"]}}
    return policy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer images and rounds")
    parser.add_argument("--count", type=int, default=0, help="images in the export (default 1024; quick 256)")
    parser.add_argument("--size", type=int, default=256, help="square image side")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=0, help="timed epochs per side (default 5; quick 2)")
    args = parser.parse_args(argv)
    count = args.count or (256 if args.quick else 1024)
    rounds = args.rounds or (2 if args.quick else 5)
    cv2.setNumThreads(1)
    torch.set_num_threads(1)

    with tempfile.TemporaryDirectory(prefix="bench-dataloader-") as tmp:
        print(f"making an export of {count} {args.size} px PNGs ...", file=sys.stderr)
        path = make_export(Path(tmp), count, args.size)
        reader = ExportReader(path)
        sides = {
            "genaug-desktop PolicyTransform": loader(
                ExportDataset(reader, transform=PolicyTransform(PIPELINE, base_seed=0)), args.workers, args.batch),
            "Albumentations 2.0.8 A.Compose": loader(
                AlbumentationsDataset(reader, reference_compose()), args.workers, args.batch),
            "genaug-desktop, flip with a label condition": loader(
                ExportDataset(reader, transform=PolicyTransform(conditional_pipeline(), base_seed=0)),
                args.workers, args.batch),
        }
        names = list(sides)
        walls: dict[str, list[float]] = {k: [] for k in names}
        cpus: dict[str, list[float]] = {k: [] for k in names}
        for dl in sides.values():  # warm-up: imports in the workers, the page cache
            epoch(dl)
        for r in range(rounds):
            for name in names if r % 2 == 0 else names[::-1]:
                wall, cpu, n = epoch(sides[name])
                assert n == count
                walls[name].append(wall)
                cpus[name].append(cpu)
                print(f"  round {r + 1}/{rounds} {name:45s} {n / wall:8.1f} images/s  {n / cpu:8.1f} images/CPU-s",
                      file=sys.stderr)
        del sides

    ours_k, ref_k, cond_k = names
    best = {k: count / min(v) for k, v in walls.items()}

    def paired(a: str, b: str, times: dict[str, list[float]]) -> float:
        return statistics.median(tb / ta for ta, tb in zip(times[a], times[b]))

    lines = [
        f"DataLoader throughput, {count} images of {args.size} px (imagefolder export, PNG), batch {args.batch}, "
        f"{args.workers} workers, {rounds} rounds",
        f"Python {platform.python_version()}, torch {torch.__version__}, Albumentations {A.__version__}, "
        f"OpenCV {cv2.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at the end",
        "",
        "| side | best epoch, images/s | median images per CPU-second |",
        "|---|---|---|",
        f"| genaug-desktop `ExportDataset` + `PolicyTransform` | {best[ours_k]:.0f} | "
        f"{count / statistics.median(cpus[ours_k]):.0f} |",
        f"| Albumentations `A.Compose`, same reader and tensors | {best[ref_k]:.0f} | "
        f"{count / statistics.median(cpus[ref_k]):.0f} |",
        f"| genaug-desktop, flip with `when: label not in {{...}}` | {best[cond_k]:.0f} | "
        f"{count / statistics.median(cpus[cond_k]):.0f} |",
        "",
        f"ours / Albumentations: best epochs **{best[ours_k] / best[ref_k]:.2f}x**, median paired wall ratio "
        f"**{paired(ours_k, ref_k, walls):.2f}x**, median paired CPU ratio **{paired(ours_k, ref_k, cpus):.2f}x**",
        f"with the label condition / without: wall {paired(cond_k, ours_k, walls):.2f}x, "
        f"CPU {paired(cond_k, ours_k, cpus):.2f}x",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
