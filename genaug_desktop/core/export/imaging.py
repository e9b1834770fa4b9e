"""Image preparation for export: sniff, decide whether bytes can be copied, else decode,
convert colour, resize and encode. Pure functions, safe to run in worker threads (OpenCV and
Pillow release the GIL while they work)."""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np

from genaug_desktop.core.datasets.model import DEFAULT_MAX_PIXELS

#: output format -> file extension
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
_COPYABLE = frozenset(EXTENSIONS)
_PILLOW_FORMATS = {"PNG": "png", "JPEG": "jpeg", "MPO": "jpeg", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tiff"}
_PILLOW_MODES = {"L": "grey", "1": "grey", "RGB": "rgb", "RGBA": "rgba", "LA": "grey+alpha"}
_PNG_COLOR_TYPES = {0: "grey", 2: "rgb", 3: "palette", 4: "grey+alpha", 6: "rgba"}


def sniff_format(data: bytes) -> str | None:
    """"png", "jpeg", "webp", "gif", "bmp", "tiff" from the first bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:2] == b"BM":
        return "bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def png_header(data: bytes) -> tuple[int, int, str] | None:
    """(width, height, colour) from a PNG's IHDR, or None; colour as in :func:`pillow_color`."""
    if len(data) < 29 or not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    width, height, depth, color_type = struct.unpack(">IIBB", data[16:26])
    color = _PNG_COLOR_TYPES.get(color_type, "unknown")
    if depth != 8 and color in ("grey", "rgb", "rgba"):
        color += f"{depth}"  # a 16-bit PNG is not plain 8-bit RGB: converting it changes bytes
    return width, height, color


def pillow_format(name: str | None) -> str | None:
    return _PILLOW_FORMATS.get(name or "")


def pillow_color(mode: str | None) -> str:
    return _PILLOW_MODES.get(mode or "", "unknown")


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """How images are written: output format, quality, size, resize mode, colour mode."""

    format: str = "keep"
    quality: int = 95
    size: tuple[int, int] | None = None
    resize: str = "stretch"
    color: str = "keep"

    def target_format(self, source_format: str | None) -> str:
        if self.format != "keep":
            return self.format
        return source_format if source_format in _COPYABLE else "png"

    def can_copy(self, source_format: str | None, color: str, size: tuple[int, int] | None) -> bool:
        """True when the source bytes are already what this spec would write."""
        if source_format not in _COPYABLE or self.target_format(source_format) != source_format:
            return False
        if self.size is not None and size != self.size:
            return False
        if self.color == "keep":
            return True
        return (self.color, color) in (("rgb", "rgb"), ("grey", "grey"))


# ---- decode -------------------------------------------------------------------------------------
def decode(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Pixels of an encoded image, as the augmentation pipeline sees them (EXIF orientation
    applied): (H, W) uint8 for greyscale, (H, W, 4) with alpha, else (H, W, 3) RGB."""
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        img = Image.open(io.BytesIO(data))
        if img.width * img.height > max_pixels:
            raise ValueError(f"{img.width}x{img.height} pixels is over the limit of {max_pixels:,}")
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)
        img.load()
        img = ImageOps.exif_transpose(img) or img
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return (np.asarray(img, dtype=np.uint16) >> 8).astype(np.uint8)
    if mode in ("I", "F"):
        from genaug_desktop.core.datasets.images import to_display

        return np.asarray(to_display(img).convert("L")).copy()
    if mode in ("1", "L"):
        return np.asarray(img.convert("L")).copy()
    if mode in ("LA", "PA", "RGBA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        return np.asarray(img.convert("RGBA")).copy()
    return np.asarray(img.convert("RGB")).copy()


# ---- transform ----------------------------------------------------------------------------------
def _flatten_alpha(x: np.ndarray) -> np.ndarray:
    """Composite RGBA on white (what a viewer shows for transparent pixels)."""
    rgb = x[..., :3].astype(np.float32)
    alpha = x[..., 3:4].astype(np.float32) / 255.0
    return np.clip(rgb * alpha + 255.0 * (1.0 - alpha) + 0.5, 0, 255).astype(np.uint8)


def convert_color(x: np.ndarray, color: str, keep_alpha: bool = True) -> np.ndarray:
    """``keep`` (alpha flattened when the target cannot hold it), ``rgb`` or ``grey``."""
    import cv2

    if x.ndim == 3 and x.shape[2] == 4 and (color != "keep" or not keep_alpha):
        x = _flatten_alpha(x)
    if color == "rgb" and x.ndim == 2:
        return cv2.cvtColor(x, cv2.COLOR_GRAY2RGB)
    if color == "grey" and x.ndim == 3:
        return cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)
    return x


def _interpolation(src: tuple[int, int], dst: tuple[int, int]) -> int:
    import cv2

    return cv2.INTER_AREA if dst[0] * dst[1] < src[0] * src[1] else cv2.INTER_CUBIC


def resize(x: np.ndarray, size: tuple[int, int], mode: str = "stretch") -> np.ndarray:
    """To exactly ``size`` (width, height): ``stretch``; ``pad`` (fit inside, centred on black or
    transparent); ``crop`` (cover, centre crop)."""
    import cv2

    width, height = size
    h, w = x.shape[:2]
    if (w, h) == (width, height):
        return x
    if mode == "stretch":
        return cv2.resize(x, (width, height), interpolation=_interpolation((w, h), (width, height)))
    scale = min(width / w, height / h) if mode == "pad" else max(width / w, height / h)
    nw = max(1, round(w * scale))
    nh = max(1, round(h * scale))
    if mode == "crop":
        nw, nh = max(nw, width), max(nh, height)
    scaled = cv2.resize(x, (nw, nh), interpolation=_interpolation((w, h), (nw, nh)))
    if scaled.ndim == 2 and x.ndim == 3:  # cv2 drops a single channel axis
        scaled = scaled[..., None]
    if mode == "crop":
        top, left = (nh - height) // 2, (nw - width) // 2
        return np.ascontiguousarray(scaled[top : top + height, left : left + width])
    canvas = np.zeros((height, width, *x.shape[2:]), dtype=x.dtype)
    top, left = (height - nh) // 2, (width - nw) // 2
    canvas[top : top + nh, left : left + nw] = scaled
    return canvas


def encode(x: np.ndarray, fmt: str, quality: int = 95) -> bytes:
    """PNG, JPEG or WebP bytes of (H, W), (H, W, 3) RGB or (H, W, 4) RGBA uint8 pixels."""
    import cv2

    if fmt == "jpeg" and x.ndim == 3 and x.shape[2] == 4:
        x = _flatten_alpha(x)
    if x.ndim == 3 and x.shape[2] == 3:
        src = cv2.cvtColor(x, cv2.COLOR_RGB2BGR)
    elif x.ndim == 3 and x.shape[2] == 4:
        src = cv2.cvtColor(x, cv2.COLOR_RGBA2BGRA)
    else:
        src = x
    if fmt == "png":
        params = [cv2.IMWRITE_PNG_COMPRESSION, 6]
    elif fmt == "jpeg":
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    elif fmt == "webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, int(quality)]
    else:
        raise ValueError(f"cannot encode {fmt!r}")
    ok, buf = cv2.imencode(EXTENSIONS[fmt], src, params)
    if not ok:
        raise ValueError(f"could not encode {fmt.upper()}")
    return buf.tobytes()


def as_hwc(x: np.ndarray) -> np.ndarray:
    """(H, W) -> (H, W, 1); arrays for npz always carry a channel axis."""
    return x[..., None] if x.ndim == 2 else x
