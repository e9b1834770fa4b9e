"""Image files: header probing for scans, full decoding for display and thumbnails.

Everything here is a pure function of bytes on disk, with no Qt, so it runs in worker
processes. Pillow identifies the format from the content, so a PNG named ``.jpg`` loads.
Decompression bombs are refused from the header, before any pixel is allocated.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from genaug_desktop.core.datasets.model import DEFAULT_MAX_PIXELS

# We do our own, clearer pixel-limit check; Pillow's global one would warn or raise mid-decode.
Image.MAX_IMAGE_PIXELS = None
ImageFile.LOAD_TRUNCATED_IMAGES = False

_READ_WHOLE_LIMIT = 64 * 1024 * 1024
_EXIF_ORIENTATION = 0x0112
_FORMAT_NAMES = {"MPO": "JPEG"}


@dataclass(frozen=True, slots=True)
class ImageHeader:
    sha256: str
    size: int
    width: int
    height: int
    format: str
    mode: str


class ImageProblem(Exception):
    """A specific, human-readable reason why an image cannot be used."""


def _format_pixels(pixels: int) -> str:
    if pixels >= 1_000_000_000:
        return f"{pixels / 1e9:.1f} gigapixels"
    return f"{pixels / 1e6:.0f} megapixels"


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    pixels = width * height
    if pixels > max_pixels:
        raise ImageProblem(
            f"image of {_format_pixels(pixels)} ({width}x{height}) is over the limit of "
            f"{_format_pixels(max_pixels)}"
        )
    if width <= 0 or height <= 0:
        raise ImageProblem(f"image has an invalid size {width}x{height}")


def _jpeg_scan_start(data: bytes) -> int | None:
    """Offset of the first start-of-scan marker, walking the header segments; None if malformed."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == 0xDA:
            return pos
        elif marker == 0x01 or 0xD0 <= marker <= 0xD9:  # markers without a length
            pos += 2
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def _truncation(fmt: str, tail: bytes, data: bytes | None = None) -> str | None:
    """Cheap structural end-of-file checks; a full decode later catches the rest.

    ``data`` (the whole file, when it was read into memory) lets a JPEG with bytes appended
    after its end-of-image marker pass: phones append a video to "motion photos". Inside the
    scan data 0xFF is always followed by 0x00 or a restart marker, so an FF D9 after the
    start of scan is the image's own end, never part of a header or an EXIF thumbnail.
    """
    if fmt == "JPEG":
        start = _jpeg_scan_start(data) if data is not None else None
        if data is not None and start is not None:
            ended = data.find(b"\xff\xd9", start) != -1
        else:
            ended = b"\xff\xd9" in tail
        if not ended:
            return "truncated JPEG (no end-of-image marker)"
    if fmt == "PNG" and b"IEND" not in tail:
        return "truncated PNG (no IEND chunk)"
    if fmt == "GIF" and not tail.rstrip(b"\x00").endswith(b"\x3b"):
        return "truncated GIF (no trailer)"
    return None


_MAGIC_FORMATS = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF8", "GIF"))


def _sniff_format(source: io.BytesIO | str) -> str | None:
    """The format named by the file's magic bytes, for messages when Pillow could not open it."""
    try:
        if isinstance(source, io.BytesIO):
            head = source.getvalue()[:8]
        else:
            with open(source, "rb") as fh:
                head = fh.read(8)
    except OSError:
        return None
    for magic, name in _MAGIC_FORMATS:
        if head.startswith(magic):
            return name
    return None


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation tag (1 when absent), from the header only."""
    try:
        if img.format in ("JPEG", "MPO", "TIFF", "WEBP"):
            return int(img.getexif().get(_EXIF_ORIENTATION, 1))
        if "exif" in img.info:
            exif = Image.Exif()
            exif.load(img.info["exif"])
            return int(exif.get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block must not make the image unusable
        pass
    return 1


def _oriented_size(img: Image.Image) -> tuple[int, int]:
    """Size after EXIF orientation, read from the header only.

    ``getexif()`` on a PNG decodes the whole image looking for an eXIf chunk after the pixel
    data (a 6x slower scan), so for PNG only an eXIf chunk that precedes the pixels counts.
    """
    width, height = img.size
    if _orientation(img) in (5, 6, 7, 8):
        return height, width
    return width, height


def probe_image(path: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageHeader:
    """Hash the file and read its header; raise :class:`ImageProblem` with a clear reason."""
    try:
        size = os.path.getsize(path)
        if size == 0:
            raise ImageProblem("empty file")
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            if size <= _READ_WHOLE_LIMIT:
                data = fh.read()
                digest.update(data)
                source: io.BytesIO | str = io.BytesIO(data)
                tail = data[-4096:]
            else:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
                fh.seek(max(0, size - 4096))
                tail = fh.read()
                source = path
    except ImageProblem:
        raise
    except PermissionError:
        raise ImageProblem("permission denied") from None
    except OSError as exc:
        raise ImageProblem(f"cannot read file: {exc.strerror or exc}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = Image.open(source)
    except UnidentifiedImageError:
        raise ImageProblem("not an image Pillow can read (unknown or corrupt header)") from None
    except Image.DecompressionBombError as exc:
        raise ImageProblem(f"decompression bomb: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        fmt = _sniff_format(source)
        if fmt and "truncated" in str(exc).lower():
            raise ImageProblem(f"truncated {fmt} (the file ends inside its header)") from None
        raise ImageProblem(f"corrupt image header: {exc}") from None
    with img:
        fmt = _FORMAT_NAMES.get(img.format or "", img.format or "unknown")
        _check_pixels(img.width, img.height, max_pixels)
        reason = _truncation(fmt, tail, source.getvalue() if isinstance(source, io.BytesIO) else None)
        if reason:
            raise ImageProblem(reason)
        width, height = _oriented_size(img)
        return ImageHeader(digest.hexdigest(), size, width, height, fmt, img.mode)


def check_source(path: str, sha256: str) -> None:
    """Raise :class:`ImageProblem` unless *path* still holds the bytes hashed at scan time.

    A source edited, replaced, or swapped for a link to a file outside the dataset after the
    scan is then never used in its place (and provenance never cites a hash it does not have).
    """
    try:
        with open(path, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
    except FileNotFoundError:
        raise ImageProblem("the source file is missing (moved or deleted since the project was made; "
                           "if the dataset moved, relink the project to its new place)") from None
    except PermissionError:
        raise ImageProblem("permission denied") from None
    except OSError as exc:
        raise ImageProblem(f"cannot read file: {exc.strerror or exc}") from None
    if digest != sha256:
        raise ImageProblem("the source file changed since the project was made (its content is not what was "
                           "scanned); restore the original file to use it, or make a new project for the new data")


def load_image(path: str, max_pixels: int = DEFAULT_MAX_PIXELS, draft: tuple[int, int] | None = None) -> Image.Image:
    """Decode the first frame fully with EXIF orientation applied.

    ``draft`` lets JPEG decode at a reduced scale (much faster for thumbnails).
    Raises :class:`ImageProblem` for anything that cannot be decoded.
    """
    fmt: str | None = None
    opened: Image.Image | None = None
    loaded = False
    try:
        img = opened = Image.open(path)
        fmt = _FORMAT_NAMES.get(img.format or "", img.format)
        _check_pixels(img.width, img.height, max_pixels)
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)
        if draft is not None and img.format == "JPEG":
            img.draft("RGB" if img.mode in ("RGB", "YCbCr", "CMYK") else img.mode, draft)
        # Read the orientation from the header before decoding; transposing copies the whole
        # image, so only do it when the tag asks for it (most files have none).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            oriented = _orientation(img) not in (0, 1)
        img.load()
        if oriented:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                img = ImageOps.exif_transpose(img) or img
        elif getattr(img, "fp", None) is not None or getattr(img, "_fp", None) is not None:
            # Multi-frame files keep their file open after load(); hand back a detached copy.
            img = img.copy()
        loaded = True
    except ImageProblem:
        raise
    except UnidentifiedImageError:
        raise ImageProblem("not an image Pillow can read (unknown or corrupt header)") from None
    except FileNotFoundError:
        raise ImageProblem("file is missing") from None
    except PermissionError:
        raise ImageProblem("permission denied") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        message = str(exc)
        if "truncated" in message.lower():
            raise ImageProblem(f"truncated {fmt or _sniff_format(path) or 'image'} ({message})") from None
        raise ImageProblem(f"cannot decode image: {message}") from None
    finally:
        # Pillow keeps the file open after an error, and after loading a multi-frame image;
        # close it here (the returned image is a loaded copy) rather than leak a handle.
        if opened is not None and (not loaded or opened is not img):
            opened.close()
    return img


def to_display(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB or RGBA for showing on screen.

    High-bit-depth greyscale (I;16, I, F) is stretched to its own min-max range, since many
    16-bit images use only 10-12 bits and would otherwise look black.
    """
    mode = img.mode
    if mode in ("RGB", "RGBA"):
        return img
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        lo, hi = float(arr.min()), float(arr.max())
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        return Image.fromarray(((arr - lo) * scale).astype(np.uint8), "L").convert("RGB")
    if mode in ("LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        return img.convert("RGBA")
    return img.convert("RGB")


def make_thumbnail(path: str, size: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int, str, bytes]:
    """Decode *path* and return ``(width, height, mode, raw_bytes)`` fitted in ``size`` x ``size``.

    ``mode`` is "RGB" or "RGBA"; the bytes are tightly packed rows, ready for a QImage.
    """
    img = load_image(path, max_pixels, draft=(size, size))
    img = to_display(img)
    img.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return img.width, img.height, img.mode, img.tobytes()


def thumbnail_batch(paths: list[str], size: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[tuple[int, int, str, bytes] | str]:
    """Thumbnails for many files in one call (one IPC round trip per batch in worker pools).

    Each entry is the thumbnail tuple, or a string with the reason it failed.
    """
    out: list[tuple[int, int, str, bytes] | str] = []
    for path in paths:
        try:
            out.append(make_thumbnail(path, size, max_pixels))
        except ImageProblem as exc:
            out.append(str(exc))
        except Exception as exc:  # never let one file kill a worker batch
            out.append(f"cannot decode image: {exc}")
    return out
