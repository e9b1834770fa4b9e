"""Helpers shared by the GUI tests (a module name of its own, so it never clashes with other
test folders' helpers)."""

from __future__ import annotations

import io
import os
from pathlib import Path


def write_png(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (48, 40)) -> Path:
    from PIL import Image, ImageDraw

    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, color)
    ImageDraw.Draw(img).ellipse((8, 6, size[0] - 8, size[1] - 6), fill=(255 - color[0], 200, 60))
    img.save(path, "PNG")
    return path


def write_undecodable_png(path: Path) -> Path:
    """A PNG whose header and end marker are fine (the scan accepts it) but whose pixel data is
    corrupt, so only a full decode (the thumbnail) finds the problem."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    start = data.index(b"IDAT") + 4
    for k in range(start + 2, start + 12):
        data[k] ^= 0xFF
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))
    return path


def wait_loaded(qtbot: object, window: object, timeout: int = 15000) -> None:
    """Wait until the window's session has loaded everything and no job is running."""
    session = window.session  # type: ignore[attr-defined]
    qtbot.waitUntil(  # type: ignore[attr-defined]
        lambda: session.state is not None and session.state.loaded and not session.is_busy, timeout=timeout
    )


def env_without_display() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env
