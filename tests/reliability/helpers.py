"""Builders shared by the reliability tests: hostile files, real datasets and projects, and a
``genaug`` runner that enforces the "a clear problem, never a traceback or a hang" contract.

Every file is generated here (fixed seeds), so nothing is read from the network or the repo.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

CLI_TIMEOUT = 120.0


def noise_png(width: int = 16, height: int = 12, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(width: int = 16, height: int = 12, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A valid tiny PNG whose header claims ``width`` x ``height`` (correct CRC)."""
    data = bytearray(noise_png(1, 1))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def gigapixel_png() -> bytes:
    """1.6 gigapixels (40,000 x 40,000) in a header of a few bytes."""
    return bomb_png(40_000, 40_000)


def image_tree(root: Path, classes: dict[str, int], size: tuple[int, int] = (16, 12), seed: int = 0) -> Path:
    n = 0
    for label, count in classes.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            (root / label / f"{label}{i}.png").write_bytes(noise_png(*size, seed=seed * 100_000 + n))
            n += 1
    return root


def text_csv(path: Path, rows: int, labels: tuple[str, ...] = ("pos", "neg")) -> Path:
    words = ["good", "bad", "fine", "awful", "great", "poor", "nice", "dull", "bright", "slow"]
    lines = ["text,label"]
    for i in range(rows):
        text = " ".join(words[(i * 7 + k) % len(words)] for k in range(6 + i % 5))
        lines.append(f"{text} number {i},{labels[i % len(labels)]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tree_hashes(root: Path) -> dict[str, str]:
    """Every regular file under *root* (links not followed): relative path -> SHA-256."""
    out: dict[str, str] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def genaug(*args: str, timeout: float = CLI_TIMEOUT, env: dict[str, str] | None = None,
           cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m genaug_desktop.cli`` with warnings as errors; a hang fails the test."""
    return subprocess.run(
        [sys.executable, "-m", "genaug_desktop.cli", *args], capture_output=True, text=True,
        errors="replace", timeout=timeout, cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "error", **(env or {})},
    )


def assert_clear(proc: subprocess.CompletedProcess[str], ok_codes: tuple[int, ...] = (0, 2)) -> None:
    """The CLI contract for unusable input: exit 0 (usable, problems reported) or 2 with one
    clear line on stderr; never a traceback and never the 'internal error' of a bug."""
    detail = f"rc={proc.returncode}\nstdout={proc.stdout[-2000:]}\nstderr={proc.stderr[-4000:]}"
    assert "Traceback" not in proc.stderr + proc.stdout, detail
    assert "internal error" not in proc.stderr, detail
    assert proc.returncode in ok_codes, detail
    if proc.returncode == 2:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, detail
        assert len(lines[0]) > len("genaug x: "), detail


FileMaker = Callable[[Path], Path]
