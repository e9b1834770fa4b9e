"""Every image op against Albumentations 2.0.8, side by side in one run, single thread.

Albumentations is NOT a dependency of genaug-desktop; it lives only in a separate benchmark
environment, with the project installed into it without its (heavy) dependencies::

    python3 -m venv /work/bench-venv
    /work/bench-venv/bin/pip install albumentations==2.0.8 numpy Pillow opencv-python-headless
    /work/bench-venv/bin/pip install --no-deps -e /work/main

Albumentations 2.0.8 resolves to the same opencv-python-headless (5.0) as the project here, so
both libraries run on the same OpenCV build; the versions used are written into the results.

Run (from the repository root)::

    /work/bench-venv/bin/python benchmarks/bench_image_ops.py            # full run, ~4 minutes
    /work/bench-venv/bin/python benchmarks/bench_image_ops.py --quick    # fewer repeats
    /work/bench-venv/bin/python benchmarks/bench_image_ops.py --only rotate,gaussian_noise

What is timed: for our ops, one full application as the policy engine does it (``op(x, rng)``:
draw the parameters, then apply); for Albumentations, ``transform(image=x)`` with ``p=1`` and the
same ranges. Each pair is timed in interleaved blocks and the fastest block of each counts (the
least disturbed by other work on the machine). The ratio is Albumentations' time divided by ours:
above 1 means genaug-desktop is faster. The reference pipeline is a whole :class:`Policy`
(``policy.apply(x, seed)``) against ``A.Compose``. Results go to benchmarks/results/image_ops.md.
"""

from __future__ import annotations

import os

# Single thread for both libraries; these must be set before numpy and OpenCV are imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"  # no network check at import

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

try:
    import albumentations as A  # noqa: E402
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("albumentations is not installed here; see the environment setup at the top of this file")

from genaug_desktop.core.ops import build_op, registry  # noqa: E402
from genaug_desktop.core.ops import image as image_module  # noqa: E402
from genaug_desktop.core.policy import Policy  # noqa: E402

cv2.setNumThreads(1)

RESULTS = Path(__file__).resolve().parent / "results" / "image_ops.md"
BORDER = cv2.BORDER_REFLECT_101
LINEAR = cv2.INTER_LINEAR


def test_image(size: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A photo-like image: smooth colour fields, a few hard edges and mild sensor noise."""
    rng = np.random.default_rng(seed)
    low = rng.integers(0, 256, (8, 8, channels), dtype=np.uint8)
    img = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC).reshape(size, size, channels)
    for _ in range(6):
        x1, y1 = (int(v) for v in rng.integers(0, size, 2))
        color = tuple(int(v) for v in rng.integers(0, 256, channels))
        cv2.rectangle(img, (x1, y1), (x1 + size // 5, y1 + size // 7), color, -1)
    noise = rng.normal(0, 4, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


# ---- the cases: our op (name, params) and the closest Albumentations transform --------------------
# Albumentations transforms that need the image size are built per size (a function of `s`).
Case = tuple[str, dict[str, Any], Callable[[int], Any] | None, str]


def cases() -> list[Case]:
    """(our op, our params, builder of the Albumentations transform or None, note)."""
    return [
        ("hflip", {}, lambda s: A.HorizontalFlip(p=1), "HorizontalFlip"),
        ("vflip", {}, lambda s: A.VerticalFlip(p=1), "VerticalFlip"),
        ("rotate", {"angle": [-15, 15], "border": "reflect"},
         lambda s: A.Rotate(limit=(-15, 15), interpolation=LINEAR, border_mode=BORDER, p=1), "Rotate(limit=15)"),
        ("affine", {"scale": [0.9, 1.1], "translate": [-0.1, 0.1], "rotate": [-15, 15], "shear": [-10, 10],
                    "border": "reflect"},
         lambda s: A.Affine(scale=(0.9, 1.1), translate_percent=(-0.1, 0.1), rotate=(-15, 15), shear=(-10, 10),
                            interpolation=LINEAR, border_mode=BORDER, p=1), "Affine"),
        ("perspective", {"scale": [0.02, 0.08], "border": "reflect"},
         lambda s: A.Perspective(scale=(0.02, 0.08), interpolation=LINEAR, border_mode=BORDER, p=1), "Perspective"),
        ("random_resized_crop", {"width": 0, "height": 0, "scale": [0.5, 1.0]},  # 0: filled per size below
         lambda s: A.RandomResizedCrop(size=(s * 7 // 8, s * 7 // 8), scale=(0.5, 1.0), interpolation=LINEAR, p=1),
         "RandomResizedCrop(7/8 side)"),
        ("crop", {"width": 0, "height": 0}, lambda s: A.RandomCrop(s * 7 // 8, s * 7 // 8, p=1), "RandomCrop(7/8 side)"),
        ("pad", {"pixels": [16, 16], "border": "constant"}, lambda s: A.Pad(padding=16, p=1), "Pad(16)"),
        ("resize", {"width": 0, "height": 0, "interpolation": "bilinear"},
         lambda s: A.Resize(s // 2, s // 2, interpolation=LINEAR, p=1), "Resize(half, linear)"),
        ("brightness", {"delta": [-0.2, 0.2]},
         lambda s: A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0, p=1),
         "RandomBrightnessContrast(b=0.2, c=0)"),
        ("contrast", {"factor": [0.8, 1.2]},
         lambda s: A.RandomBrightnessContrast(brightness_limit=0, contrast_limit=0.2, p=1),
         "RandomBrightnessContrast(b=0, c=0.2)"),
        ("saturation", {"factor": [0.8, 1.2]},
         lambda s: A.ColorJitter(brightness=(1, 1), contrast=(1, 1), saturation=(0.8, 1.2), hue=(0, 0), p=1),
         "ColorJitter(saturation only)"),
        ("hue", {"shift": [-20, 20]},
         lambda s: A.HueSaturationValue(hue_shift_limit=20, sat_shift_limit=0, val_shift_limit=0, p=1),
         "HueSaturationValue(hue=20)"),
        ("color_jitter", {"brightness": [0.8, 1.2], "contrast": [0.8, 1.2], "saturation": [0.8, 1.2], "hue": [-18, 18]},
         lambda s: A.ColorJitter(brightness=(0.8, 1.2), contrast=(0.8, 1.2), saturation=(0.8, 1.2),
                                 hue=(-0.05, 0.05), p=1), "ColorJitter"),
        ("gamma", {"gamma": [0.8, 1.2]}, lambda s: A.RandomGamma(gamma_limit=(80, 120), p=1), "RandomGamma"),
        ("greyscale", {}, lambda s: A.ToGray(num_output_channels=3, p=1), "ToGray(3 channels)"),
        ("equalize", {"by_channels": True}, lambda s: A.Equalize(mode="cv", by_channels=True, p=1), "Equalize(cv)"),
        ("autocontrast", {"cutoff": 0.0}, lambda s: A.AutoContrast(cutoff=0, method="pil", p=1), "AutoContrast(pil)"),
        ("posterize", {"bits": [4, 8]}, lambda s: A.Posterize(num_bits=(4, 8), p=1), "Posterize"),
        ("solarize", {"threshold": [128, 128]}, lambda s: A.Solarize(threshold_range=(0.5, 0.5), p=1), "Solarize"),
        ("invert", {}, lambda s: A.InvertImg(p=1), "InvertImg"),
        ("channel_shuffle", {}, lambda s: A.ChannelShuffle(p=1), "ChannelShuffle"),
        ("sharpen", {"alpha": [0.2, 0.5], "lightness": [0.5, 1.0]},
         lambda s: A.Sharpen(alpha=(0.2, 0.5), lightness=(0.5, 1.0), method="kernel", p=1), "Sharpen(kernel)"),
        ("gaussian_blur", {"sigma": [0.5, 1.5]},
         lambda s: A.GaussianBlur(blur_limit=0, sigma_limit=(0.5, 1.5), p=1), "GaussianBlur(sigma 0.5-1.5)"),
        ("motion_blur", {"kernel": [3, 9]}, lambda s: A.MotionBlur(blur_limit=(3, 9), p=1), "MotionBlur(3-9)"),
        ("median_blur", {"kernel": 5}, lambda s: A.MedianBlur(blur_limit=(5, 5), p=1), "MedianBlur(5)"),
        ("gaussian_noise", {"std": [0.02, 0.08], "per_channel": True},
         lambda s: A.GaussNoise(std_range=(0.02, 0.08), per_channel=True, p=1), "GaussNoise(std 0.02-0.08)"),
        ("salt_and_pepper", {"amount": [0.01, 0.05], "salt": 0.5},
         lambda s: A.SaltAndPepper(amount=(0.01, 0.05), salt_vs_pepper=(0.5, 0.5), p=1), "SaltAndPepper"),
        ("jpeg_compression", {"quality": [50, 95]},
         lambda s: A.ImageCompression(compression_type="jpeg", quality_range=(50, 95), p=1), "ImageCompression(jpeg)"),
        ("coarse_dropout", {"holes": [1, 4], "size": [0.05, 0.2]},
         lambda s: A.CoarseDropout(num_holes_range=(1, 4), hole_height_range=(0.05, 0.2),
                                   hole_width_range=(0.05, 0.2), fill=0, p=1), "CoarseDropout"),
        ("elastic", {"alpha": [30, 30], "sigma": 5.0, "border": "reflect"},
         lambda s: A.ElasticTransform(alpha=30, sigma=5, interpolation=LINEAR, border_mode=BORDER, p=1),
         "ElasticTransform(alpha 30, sigma 5)"),
        ("grid_distortion", {"steps": 5, "limit": [-0.3, 0.3], "border": "reflect"},
         lambda s: A.GridDistortion(num_steps=5, distort_limit=(-0.3, 0.3), border_mode=BORDER, p=1),
         "GridDistortion(5)"),
        # pre-processing ops (deterministic; timed the same way)
        ("convert_mode", {"mode": "L"}, lambda s: A.ToGray(num_output_channels=1, p=1), "ToGray(1 channel)"),
        ("resize_to", {"width": 0, "height": 0, "method": "fit"}, None, "LongestMaxSize + PadIfNeeded"),
        ("flatten_alpha", {"background": [255, 255, 255]}, None, "no reference (RGBA input)"),
    ]


def sized_params(name: str, values: dict[str, Any], s: int) -> dict[str, Any]:
    v = dict(values)
    if name in ("random_resized_crop", "crop"):
        v["width"] = v["height"] = s * 7 // 8
    elif name == "resize":
        v["width"] = v["height"] = s // 2
    elif name == "resize_to":
        v["width"], v["height"] = s * 7 // 8, s * 5 // 8
    return v


def resize_to_reference(s: int) -> Callable[[np.ndarray], Any]:
    fit = A.LongestMaxSize(max_size_hw=(s * 5 // 8, s * 7 // 8), interpolation=cv2.INTER_AREA, p=1)
    pad = A.PadIfNeeded(min_height=s * 5 // 8, min_width=s * 7 // 8, border_mode=cv2.BORDER_CONSTANT, fill=0, p=1)
    return lambda img: pad(image=fit(image=img)["image"])


# ---- timing ---------------------------------------------------------------------------------------------
def per_call(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def race(ours: Callable[[], Any], ref: Callable[[], Any] | None, block_s: float, rounds: int) -> tuple[float, float | None]:
    """Fastest per-call time of each, timed in interleaved blocks of about ``block_s`` seconds."""
    fns = [ours] + ([ref] if ref is not None else [])
    counts = []
    for fn in fns:
        fn()
        fn()
        one = max(per_call(fn, 3), 1e-7)
        counts.append(max(3, int(block_s / one)))
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], per_call(fn, counts[i]))
    return best[0], (best[1] if ref is not None else None)


def fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    return f"{t * 1e6:.0f} µs" if t < 1e-3 else f"{t * 1e3:.2f} ms"


def fmt_ratio(ours: float, ref: float | None) -> str:
    return "no reference" if ref is None else f"{ref / ours:.2f}x"


# ---- the reference pipeline -------------------------------------------------------------------------------
PIPELINE = {
    "schema_version": 1,
    "modality": "image",
    "name": "reference pipeline",
    "steps": [
        {"op": "hflip", "p": 0.5},
        {"op": "rotate", "params": {"angle": [-15, 15], "border": "reflect"}},
        {"op": "color_jitter", "params": {"brightness": [0.8, 1.2], "contrast": [0.8, 1.2],
                                          "saturation": [0.8, 1.2], "hue": [-18, 18]}},
        {"op": "gaussian_blur", "p": 0.3, "params": {"sigma": [0.5, 1.5]}},
        {"op": "gaussian_noise", "params": {"std": [0.02, 0.08]}},
    ],
}


def reference_compose() -> Any:
    return A.Compose([
        A.HorizontalFlip(p=0.5),
        A.Rotate(limit=(-15, 15), interpolation=LINEAR, border_mode=BORDER, p=1),
        A.ColorJitter(brightness=(0.8, 1.2), contrast=(0.8, 1.2), saturation=(0.8, 1.2), hue=(-0.05, 0.05), p=1),
        A.GaussianBlur(blur_limit=0, sigma_limit=(0.5, 1.5), p=0.3),
        A.GaussNoise(std_range=(0.02, 0.08), per_channel=True, p=1),
    ])


# ---- main -------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter timing rounds")
    parser.add_argument("--only", default="", help="comma-separated op names (and/or 'pipeline')")
    parser.add_argument("--sizes", default="256,1024", help="square image sides to time")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write the results file")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing blocks per op (more: steadier on a busy machine)")
    parser.add_argument("--lut", choices=("auto", "cv2"), default="auto",
                        help="cv2: make our lookup tables use cv2.LUT even where stringzilla is importable")
    parser.add_argument("--out", default=str(RESULTS), help="results file (markdown)")
    args = parser.parse_args(argv)
    if args.lut == "cv2":
        image_module._SZ = False

    sizes = [int(s) for s in args.sizes.split(",")]
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    block_s, rounds = (0.03, 3) if args.quick else (0.08, args.rounds)
    image_ops = {name for name, cls in registry().items() if cls.modality == "image"}
    table = [c for c in cases() if not only or c[0] in only]
    missing = image_ops - {c[0] for c in cases()}
    if missing:
        print(f"warning: image ops with no benchmark case: {', '.join(sorted(missing))}", file=sys.stderr)

    images = {s: test_image(s) for s in sizes}
    timing = (block_s, rounds)
    rows, notes = time_ops(table, images, timing)
    pipeline = time_pipeline(images, timing) if not only or "pipeline" in only else {}

    # Without stringzilla our value tables fall back to cv2.LUT (a scalar loop): time the ops
    # that use tables again that way, so both figures are in one run.
    plain: dict[str, dict[int, tuple[float, float | None]]] = {}
    plain_pipeline: dict[int, tuple[float, float | None]] = {}
    if image_module._stringzilla() and args.lut == "auto":
        image_module._SZ = False
        print("  -- again with cv2.LUT for the table-based ops --", file=sys.stderr)
        plain, _ = time_ops([c for c in table if c[0] in LUT_OPS], images, timing)
        if pipeline:
            plain_pipeline = time_pipeline(images, timing)
        image_module._SZ = None

    text = render(rows, notes, pipeline, sizes, plain, plain_pipeline)
    print(text)
    if not args.no_write and not only:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"written to {out}", file=sys.stderr)
    return 0


#: ops whose speed depends on the lookup-table backend
LUT_OPS = ("contrast", "gamma", "autocontrast", "hue", "color_jitter")
Rows = dict[str, dict[int, tuple[float, float | None]]]


def time_ops(table: list[Case], images: dict[int, np.ndarray], timing: tuple[float, int]) -> tuple[Rows, dict[str, str]]:
    block_s, rounds = timing
    rows: Rows = {}
    notes: dict[str, str] = {}
    for name, values, make_ref, note in table:
        notes[name] = note
        rows[name] = {}
        for s, rgb in images.items():
            img = np.dstack([rgb, test_image(s, 1, seed=1)]) if name == "flatten_alpha" else rgb
            op = build_op(name, sized_params(name, values, s))
            rng = np.random.default_rng(0)
            if op.preprocess:
                def ours(op=op, img=img) -> Any:
                    return op.apply(img)
            else:
                def ours(op=op, img=img, rng=rng) -> Any:
                    return op(img, rng)
            ref: Callable[[], Any] | None = None
            if name == "resize_to":
                fn = resize_to_reference(s)
                ref = lambda fn=fn, img=img: fn(img)  # noqa: E731
            elif make_ref is not None:
                t = make_ref(s)
                ref = lambda t=t, img=img: t(image=img)  # noqa: E731
            rows[name][s] = race(ours, ref, block_s * (4 if s >= 1024 else 1), rounds)
            print(f"  {name:20s} {s:5d}: ours {fmt_time(rows[name][s][0]):>10s}  albumentations "
                  f"{fmt_time(rows[name][s][1]):>10s}  {fmt_ratio(*rows[name][s])}", file=sys.stderr)
    return rows, notes


def time_pipeline(images: dict[int, np.ndarray], timing: tuple[float, int]) -> dict[int, tuple[float, float | None]]:
    block_s, rounds = timing
    policy = Policy.from_json(PIPELINE)
    compose = reference_compose()
    out: dict[int, tuple[float, float | None]] = {}
    for s, img in images.items():
        counter = iter(range(10**9))
        out[s] = race(
            lambda img=img: policy.apply(img, next(counter), preprocessed=True),
            lambda img=img: compose(image=img),
            block_s * 4, rounds + 2,
        )
        print(f"  {'reference pipeline':20s} {s:5d}: {fmt_ratio(*out[s])}", file=sys.stderr)
    return out


def lut_backend() -> str:
    sz = image_module._stringzilla()
    return f"stringzilla {sz.__version__} (SIMD byte translation)" if sz else "cv2.LUT"


def render(rows: Rows, notes: dict[str, str], pipeline: dict[int, tuple[float, float | None]], sizes: list[int],
           plain: Rows | None = None, plain_pipeline: dict[int, tuple[float, float | None]] | None = None) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    except OSError:
        pass
    lines = [
        "# Image ops: genaug-desktop vs Albumentations",
        "",
        f"Generated by `benchmarks/bench_image_ops.py` on {datetime.date.today().isoformat()}. "
        f"Single thread (cv2.setNumThreads(1), OMP/OpenBLAS 1 thread); {cpu}; Python {platform.python_version()}, "
        f"Albumentations {A.__version__}, OpenCV {cv2.__version__}, numpy {np.__version__}. "
        "Ratio = Albumentations time / ours (above 1: genaug-desktop is faster). "
        "Ours is `op(x, rng)` (draw + apply); Albumentations is `transform(image=x)` with p=1 and the same ranges. "
        "Fastest of several interleaved blocks.",
        "",
        f"Our lookup-table backend in this run: **{lut_backend()}** (affects contrast, gamma, autocontrast, "
        "hue and colour jitter; both backends give identical bytes).",
        "",
    ]
    if pipeline:
        lines += ["## Reference pipeline", "",
                  "[hflip p=0.5, rotate ±15°, colour jitter, gaussian blur p=0.3, gaussian noise]: "
                  "`Policy.apply` vs `A.Compose`.", "",
                  "| size | ours | Albumentations | ratio |", "|---|---:|---:|---:|"]
        for s in sizes:
            o, r = pipeline[s]
            lines.append(f"| {s}x{s} | {fmt_time(o)} | {fmt_time(r)} | **{fmt_ratio(o, r)}** |")
        lines.append("")
    if rows:
        head = "| op | Albumentations transform | " + " | ".join(
            f"{s} ours | {s} albu | {s} ratio" for s in sizes) + " |"
        lines += ["## Per op (RGB)", "", head, "|---|---|" + "---:|---:|---:|" * len(sizes)]
        worst = []
        for name, by_size in rows.items():
            cells = []
            for s in sizes:
                o, r = by_size[s]
                cells += [fmt_time(o), fmt_time(r), fmt_ratio(o, r)]
                if r is not None:
                    worst.append((r / o, name, s))
            lines.append(f"| {name} | {notes[name]} | " + " | ".join(cells) + " |")
        if worst:
            lo = min(worst)
            lines += ["", f"Lowest ratio: {lo[0]:.2f}x ({lo[1]} at {lo[2]}x{lo[2]})."]
    if plain:
        lines += ["", "## Without stringzilla (our tables on cv2.LUT)", "",
                  "The same run, with our lookup tables forced onto `cv2.LUT`, which is what an install without "
                  "the optional `stringzilla` package gets. Albumentations always has it (albucore depends on it).",
                  "", "| op | " + " | ".join(f"{s} ours | {s} ratio" for s in sizes) + " |",
                  "|---|" + "---:|---:|" * len(sizes)]
        for name, by_size in plain.items():
            lines.append(f"| {name} | " + " | ".join(
                f"{fmt_time(by_size[s][0])} | {fmt_ratio(*by_size[s])}" for s in sizes) + " |")
        if plain_pipeline:
            lines.append("| reference pipeline | " + " | ".join(
                f"{fmt_time(plain_pipeline[s][0])} | {fmt_ratio(*plain_pipeline[s])}" for s in sizes) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
