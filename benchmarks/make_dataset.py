"""Generate the benchmark image dataset: N small PNGs in 10 class folders (deterministic).

    python benchmarks/make_dataset.py /tmp/bench100k --count 100000 --size 64
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image


def _write_chunk(args: tuple[str, int, int, int]) -> int:
    out, start, stop, size = args
    rng = np.random.default_rng(start)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for i in range(start, stop):
        label = f"class_{i % 10}"
        a, b, c = rng.random(3)
        img = np.stack(
            [
                (np.sin(xx * (3 + 6 * a) + b * 6) * 0.5 + 0.5) * 255,
                (np.cos(yy * (3 + 6 * b) + c * 6) * 0.5 + 0.5) * 255,
                ((xx + yy) * 0.5 * 255 * c + 40),
            ],
            axis=-1,
        )
        img += rng.normal(0, 6, img.shape)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB").save(
            os.path.join(out, label, f"img_{i:06d}.png"), compress_level=1
        )
    return stop - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    for c in range(10):
        os.makedirs(os.path.join(args.out, f"class_{c}"), exist_ok=True)
    t0 = time.perf_counter()
    chunks = [(args.out, s, min(s + 2000, args.count), args.size) for s in range(0, args.count, 2000)]
    with ProcessPoolExecutor() as pool:
        done = sum(pool.map(_write_chunk, chunks))
    print(f"wrote {done:,} PNGs of {args.size}px to {args.out} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
