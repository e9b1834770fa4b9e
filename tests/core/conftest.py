"""Fixtures for the core tests: datasets written into ``tmp_path`` by small factories.

Every file a test reads is generated here from a fixed seed, so the tests need no data on disk,
no network, and give the same result on every run.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

#: Pillow format name for each extension the factories write.
FORMAT_OF_EXT = {
    ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP",
    ".gif": "GIF", ".tif": "TIFF", ".tiff": "TIFF",
}


def noise_image(width: int, height: int, mode: str = "RGB", seed: int = 0) -> Image.Image:
    """Random pixels: they compress badly, so a cut file really is cut inside the pixel data."""
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    shape = (height, width) if channels == 1 else (height, width, channels)
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


ImageFactory = Callable[..., Path]


@pytest.fixture
def make_image(tmp_path: Path) -> ImageFactory:
    """Write an image file and return its path.

    ``make_image("cats/a.png", size=(40, 20), color=(255, 0, 0))``; ``image=`` passes a ready
    Pillow image; ``fmt=`` forces the format (so a PNG can be named ``.jpg``); any other keyword
    goes to ``Image.save``. Relative names are under ``tmp_path / "data"``.
    """

    def factory(
        name: str,
        size: tuple[int, int] = (32, 24),
        color: tuple[int, ...] | int = (200, 40, 10),
        mode: str = "RGB",
        image: Image.Image | None = None,
        fmt: str | None = None,
        **save_kwargs: object,
    ) -> Path:
        path = Path(name) if os.path.isabs(name) else tmp_path / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        img = image if image is not None else Image.new(mode, size, color)
        img.save(path, fmt or FORMAT_OF_EXT[path.suffix.lower()], **save_kwargs)
        return path

    return factory


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, bytes | str], Path]:
    """Write bytes (or UTF-8 text) to ``tmp_path / "data" / name`` and return the path."""

    def factory(name: str, content: bytes | str) -> Path:
        path = tmp_path / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return factory


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def bomb_png_bytes(width: int = 40_000, height: int = 40_000) -> bytes:
    """A tiny valid PNG whose IHDR claims ``width`` x ``height`` (with a correct CRC).

    Opening it costs a few bytes; decoding it would need width * height * 3 bytes.
    """
    data = bytearray(png_bytes(Image.new("RGB", (1, 1))))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def tree_digest(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under *root* (links not followed): relative path -> (sha256, mtime_ns)."""
    out: dict[str, tuple[str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames) + sorted(d for d in dirnames if os.path.islink(os.path.join(dirpath, d))):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = ("link:" + os.readlink(path), 0)
                continue
            with open(path, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            out[rel] = (digest, os.stat(path).st_mtime_ns)
    return out


@pytest.fixture
def noise() -> Callable[..., Image.Image]:
    """:func:`noise_image`, for tests."""
    return noise_image


@pytest.fixture
def bomb_png() -> Callable[..., bytes]:
    """:func:`bomb_png_bytes`, for tests."""
    return bomb_png_bytes


@pytest.fixture
def digest_tree() -> Callable[[Path], dict[str, tuple[str, int]]]:
    """:func:`tree_digest`, for tests."""
    return tree_digest
