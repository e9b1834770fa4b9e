"""Image readers: header probing (scan), full decoding (display), thumbnails.

Every file is generated in ``tmp_path``; nothing touches Qt.
"""

from __future__ import annotations

import gc
import hashlib
import random
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genaug_desktop.core.datasets import scan
from genaug_desktop.core.datasets.images import (
    ImageProblem,
    load_image,
    make_thumbnail,
    probe_image,
    thumbnail_batch,
    to_display,
)
from genaug_desktop.core.datasets.model import Item, ScanOptions

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 40) -> bool:
    """Lossy formats shift colours a little; big flat blocks stay within *tolerance*."""
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def _channels(mode: str) -> int:
    return {"RGB": 3, "RGBA": 4}[mode]


# ---------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------

FORMATS = [
    pytest.param("a.png", "PNG", {}, id="png"),
    pytest.param("a.jpg", "JPEG", {"quality": 95}, id="jpeg"),
    pytest.param("a.jpeg", "JPEG", {}, id="jpeg-long-ext"),
    pytest.param("a.webp", "WEBP", {"lossless": True}, id="webp"),
    pytest.param("a.bmp", "BMP", {}, id="bmp"),
    pytest.param("a.tif", "TIFF", {}, id="tiff"),
    pytest.param("a.tiff", "TIFF", {"compression": "tiff_lzw"}, id="tiff-lzw"),
    pytest.param("a.gif", "GIF", {}, id="gif"),
]


@pytest.mark.parametrize(("name", "fmt", "save_kwargs"), FORMATS)
def test_every_format_probes_loads_and_thumbnails(make_image, name, fmt, save_kwargs) -> None:
    path = make_image(name, size=(40, 20), color=RED, **save_kwargs)

    header = probe_image(str(path))
    data = path.read_bytes()
    assert header.format == fmt
    assert (header.width, header.height) == (40, 20)
    assert header.size == len(data)
    assert header.sha256 == hashlib.sha256(data).hexdigest()

    img = load_image(str(path))
    assert img.size == (40, 20)
    shown = to_display(img)
    assert shown.mode in ("RGB", "RGBA")
    assert _close(shown.convert("RGB").getpixel((20, 10)), RED)

    width, height, mode, raw = make_thumbnail(str(path), 16)
    assert (width, height) == (16, 8)
    assert mode in ("RGB", "RGBA")
    assert len(raw) == width * height * _channels(mode)


@pytest.mark.parametrize(("name", "fmt", "save_kwargs"), FORMATS)
def test_every_format_becomes_a_scanned_item(tmp_path, make_image, name, fmt, save_kwargs) -> None:
    path = make_image(name, size=(40, 20), color=RED, **save_kwargs)
    result = scan(str(tmp_path / "data"))
    assert result.modality == "image"
    assert result.problems == []
    (item,) = result.items
    assert item == Item(
        key=name, path=name, modality="image", label=None,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(), size=path.stat().st_size,
        width=40, height=20, format=fmt, mode=item.mode,
    )


def test_animated_gif_loads_its_first_frame(make_image) -> None:
    frames = [Image.new("RGB", (30, 10), color) for color in (RED, GREEN, BLUE)]
    path = make_image(
        "anim.gif", image=frames[0], save_all=True, append_images=frames[1:], duration=50, loop=0,
    )
    with Image.open(path) as check:
        assert check.n_frames == 3  # really animated, or the test proves nothing

    header = probe_image(str(path))
    assert (header.format, header.width, header.height) == ("GIF", 30, 10)

    img = load_image(str(path))
    assert img.size == (30, 10)
    assert to_display(img).convert("RGB").getpixel((15, 5)) == RED

    width, height, mode, raw = make_thumbnail(str(path), 15)
    assert (width, height) == (15, 5)
    assert raw[:3] == bytes(RED)


# ---------------------------------------------------------------------------------------------
# EXIF orientation
# ---------------------------------------------------------------------------------------------


def _top_red_bottom_blue(width: int = 40, height: int = 20) -> Image.Image:
    arr = np.zeros((height, width, 3), np.uint8)
    arr[: height // 2] = RED
    arr[height // 2 :] = BLUE
    return Image.fromarray(arr)


def _orientation(value: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif


@pytest.mark.parametrize(("name", "tolerance"), [("rot.jpg", 40), ("rot.png", 0), ("rot.webp", 0)])
def test_exif_orientation_6_swaps_size_and_rotates_pixels(tmp_path, make_image, name, tolerance) -> None:
    save_kwargs: dict[str, object] = {"exif": _orientation(6)}
    if name.endswith(".jpg"):
        save_kwargs["quality"] = 95
    if name.endswith(".webp"):
        save_kwargs["lossless"] = True
    path = make_image(name, image=_top_red_bottom_blue(40, 20), **save_kwargs)
    with Image.open(path) as raw:
        assert raw.size == (40, 20)  # stored landscape; EXIF says "rotate 90 degrees clockwise"

    header = probe_image(str(path))
    assert (header.width, header.height) == (20, 40)
    (item,) = scan(str(tmp_path / "data")).items
    assert (item.width, item.height) == (20, 40)

    img = load_image(str(path)).convert("RGB")
    assert img.size == (20, 40)
    # Turned clockwise, the stored top (red) is now on the right and the bottom (blue) on the left.
    assert _close(img.getpixel((15, 20)), RED, tolerance)
    assert _close(img.getpixel((4, 20)), BLUE, tolerance)
    assert _close(img.getpixel((15, 2)), RED, tolerance)
    assert _close(img.getpixel((4, 37)), BLUE, tolerance)

    width, height, _, _ = make_thumbnail(str(path), 10)
    assert (width, height) == (5, 10)


@pytest.mark.parametrize("orientation", [1, 3])
def test_exif_orientations_that_keep_the_size(make_image, orientation) -> None:
    path = make_image("o.png", image=_top_red_bottom_blue(40, 20), exif=_orientation(orientation))
    header = probe_image(str(path))
    assert (header.width, header.height) == (40, 20)
    img = load_image(str(path)).convert("RGB")
    assert img.size == (40, 20)
    top = RED if orientation == 1 else BLUE  # 3: turned half a circle
    assert img.getpixel((20, 2)) == top


# ---------------------------------------------------------------------------------------------
# Modes
# ---------------------------------------------------------------------------------------------


def _image_in_mode(mode: str) -> Image.Image:
    size = (30, 20)
    if mode == "1":
        return Image.fromarray((np.indices((20, 30)).sum(0) % 2).astype(bool))
    if mode == "I;16":
        # Only 12 of the 16 bits used, as many scientific cameras do.
        return Image.fromarray((np.arange(600, dtype=np.uint16).reshape(20, 30) * 6))
    if mode == "I":
        return Image.fromarray((np.arange(600, dtype=np.int32).reshape(20, 30) * 1000 - 5000))
    if mode == "F":
        return Image.fromarray((np.arange(600, dtype=np.float32).reshape(20, 30) / 7 - 3))
    if mode in ("P", "P+transparency"):
        img = Image.new("P", size, 1)
        img.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)
        img.putpixel((0, 0), 0)
        return img
    if mode == "LA":
        return Image.new("LA", size, (128, 100))
    if mode == "RGBA":
        return Image.new("RGBA", size, (255, 0, 0, 100))
    if mode == "CMYK":
        return Image.new("CMYK", size, (0, 255, 255, 0))
    return Image.new(mode, size, 128)


MODES = [
    # (mode, file name, mode Pillow reads back, what to_display gives)
    pytest.param("1", "m.png", "1", "RGB", id="1"),
    pytest.param("L", "m.png", "L", "RGB", id="L"),
    pytest.param("LA", "m.png", "LA", "RGBA", id="LA"),
    pytest.param("P", "m.png", "P", "RGB", id="P"),
    pytest.param("P+transparency", "m.png", "P", "RGBA", id="P-transparency-png"),
    pytest.param("P+transparency", "m.gif", "P", "RGBA", id="P-transparency-gif"),
    pytest.param("RGBA", "m.png", "RGBA", "RGBA", id="RGBA"),
    pytest.param("I;16", "m.png", "I;16", "RGB", id="I16-png"),
    pytest.param("I;16", "m.tif", "I;16", "RGB", id="I16-tiff"),
    pytest.param("I", "m.tif", "I", "RGB", id="I32-tiff"),
    pytest.param("F", "m.tif", "F", "RGB", id="F-tiff"),
    pytest.param("CMYK", "m.jpg", "CMYK", "RGB", id="CMYK-jpeg"),
    pytest.param("CMYK", "m.tif", "CMYK", "RGB", id="CMYK-tiff"),
]


@pytest.mark.parametrize(("mode", "name", "read_mode", "display_mode"), MODES)
def test_every_mode_displays_as_rgb_or_rgba(make_image, mode, name, read_mode, display_mode) -> None:
    save_kwargs = {"transparency": 0} if mode == "P+transparency" else {}
    path = make_image(name, image=_image_in_mode(mode), **save_kwargs)

    header = probe_image(str(path))
    assert header.mode == read_mode
    img = load_image(str(path))
    assert img.mode == read_mode  # the test really exercises this mode
    shown = to_display(img)
    assert shown.mode == display_mode
    assert shown.size == (30, 20)
    if mode == "P+transparency":
        assert shown.getpixel((0, 0))[3] == 0
        assert shown.getpixel((5, 5)) == (255, 0, 0, 255)

    width, height, thumb_mode, raw = make_thumbnail(str(path), 15)
    assert (width, height) == (15, 10)
    assert thumb_mode == display_mode
    assert len(raw) == width * height * _channels(thumb_mode)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "P+transparency", "RGBA", "I;16", "I", "F", "CMYK"])
def test_to_display_in_memory(mode) -> None:
    img = _image_in_mode(mode)
    if mode == "P+transparency":
        img.info["transparency"] = 0
    shown = to_display(img)
    expected = "RGBA" if mode in ("LA", "P+transparency", "RGBA") else "RGB"
    assert shown.mode == expected
    assert shown.size == img.size


def test_to_display_returns_rgb_unchanged() -> None:
    img = Image.new("RGB", (4, 4), RED)
    assert to_display(img) is img


@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_high_bit_depth_is_stretched_to_the_full_range(mode) -> None:
    shown = np.asarray(to_display(_image_in_mode(mode)))
    assert shown.dtype == np.uint8
    assert shown.min() == 0
    assert shown.max() == 255
    # Values grow along each row, so the display must too (no wrap-around).
    row = shown[0, :, 0].astype(int)
    assert (np.diff(row) >= 0).all()


@pytest.mark.parametrize("mode", ["I;16", "F"])
def test_flat_high_bit_depth_image_does_not_divide_by_zero(mode) -> None:
    arr = np.full((4, 4), 7, dtype=np.uint16 if mode == "I;16" else np.float32)
    shown = to_display(Image.fromarray(arr))
    assert shown.mode == "RGB"
    assert np.asarray(shown).max() == 0


# ---------------------------------------------------------------------------------------------
# Content beats the extension
# ---------------------------------------------------------------------------------------------


def test_png_named_jpg_loads_as_png(tmp_path, make_image) -> None:
    path = make_image("really_a_png.jpg", size=(12, 8), color=GREEN, fmt="PNG")
    assert path.read_bytes().startswith(b"\x89PNG")
    header = probe_image(str(path))
    assert header.format == "PNG"
    assert load_image(str(path)).convert("RGB").getpixel((0, 0)) == GREEN
    assert make_thumbnail(str(path), 6)[:3] == (6, 4, "RGB")
    (item,) = scan(str(tmp_path / "data")).items
    assert (item.key, item.format) == ("really_a_png.jpg", "PNG")


def test_jpeg_named_png_loads_as_jpeg(make_image) -> None:
    path = make_image("really_a_jpeg.png", size=(12, 8), color=GREEN, fmt="JPEG")
    assert probe_image(str(path)).format == "JPEG"
    assert load_image(str(path)).size == (12, 8)


# ---------------------------------------------------------------------------------------------
# Broken files
# ---------------------------------------------------------------------------------------------


def _cut(path: Path, keep: int) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    return path


def test_truncated_jpeg_is_a_problem(tmp_path, make_image, noise) -> None:
    path = make_image("cut.jpg", image=noise(64, 64), quality=90)
    _cut(path, path.stat().st_size // 2)

    with pytest.raises(ImageProblem, match="truncated JPEG"):
        probe_image(str(path))
    with pytest.raises(ImageProblem, match="truncated JPEG"):
        load_image(str(path))
    with pytest.raises(ImageProblem, match="truncated JPEG"):
        make_thumbnail(str(path), 16)
    result = scan(str(tmp_path / "data"))
    assert result.items == []
    (problem,) = result.problems
    assert problem.path == "cut.jpg"
    assert "truncated JPEG" in problem.reason


def test_jpeg_cut_inside_its_header_is_a_truncated_jpeg(make_image, noise) -> None:
    path = _cut(make_image("head.jpg", image=noise(64, 64)), 100)
    with pytest.raises(ImageProblem, match="truncated JPEG"):
        probe_image(str(path))
    with pytest.raises(ImageProblem, match="truncated JPEG"):
        load_image(str(path))


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_with_data_appended_after_its_end_is_fine(tmp_path, make_image, noise, progressive) -> None:
    # Phones append a video to "motion photos": the JPEG's end marker is far from the file's end.
    path = make_image("motion.jpg", image=noise(64, 64), progressive=progressive)
    path.write_bytes(path.read_bytes() + b"\x00\x00\x00\x18ftypmp42" + random.Random(3).randbytes(20_000))
    header = probe_image(str(path))
    assert (header.format, header.width, header.height) == ("JPEG", 64, 64)
    assert load_image(str(path)).size == (64, 64)
    assert [i.key for i in scan(str(tmp_path / "data")).items] == ["motion.jpg"]


@pytest.mark.parametrize("progressive", [False, True])
def test_truncated_jpeg_with_an_end_marker_in_its_header_is_still_truncated(make_image, noise, progressive) -> None:
    path = make_image("cut.jpg", image=noise(64, 64), progressive=progressive)
    data = path.read_bytes()
    # An application segment whose payload holds FF D9, as an embedded EXIF thumbnail does.
    app2 = b"\xff\xe2" + (2 + 16).to_bytes(2, "big") + b"thumb\xff\xd9" + bytes(9)
    data = data[:2] + app2 + data[2:]
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageProblem, match="truncated JPEG"):
        probe_image(str(path))


def test_truncated_png_is_a_problem(tmp_path, make_image, noise) -> None:
    path = make_image("cut.png", image=noise(64, 64))
    _cut(path, path.stat().st_size // 2)

    with pytest.raises(ImageProblem, match="truncated PNG"):
        probe_image(str(path))
    with pytest.raises(ImageProblem, match="truncated PNG"):
        load_image(str(path))
    (problem,) = scan(str(tmp_path / "data")).problems
    assert problem.path == "cut.png"
    assert "truncated PNG" in problem.reason


def test_png_without_its_iend_chunk_is_truncated(make_image) -> None:
    path = make_image("noend.png", size=(8, 8))
    _cut(path, path.stat().st_size - 12)  # IEND is the last 12 bytes
    with pytest.raises(ImageProblem, match="truncated PNG"):
        probe_image(str(path))


def test_truncated_gif_is_a_problem(make_image, noise) -> None:
    path = make_image("cut.gif", image=noise(64, 64).convert("P"))
    _cut(path, path.stat().st_size // 2)
    with pytest.raises(ImageProblem, match="truncated GIF"):
        probe_image(str(path))


def test_empty_file_is_a_problem(tmp_path, write_file) -> None:
    path = write_file("empty.png", b"")
    with pytest.raises(ImageProblem, match="^empty file$"):
        probe_image(str(path))
    with pytest.raises(ImageProblem):
        load_image(str(path))
    assert isinstance(thumbnail_batch([str(path)], 16)[0], str)
    (problem,) = scan(str(tmp_path / "data")).problems
    assert (problem.path, problem.reason) == ("empty.png", "empty file")


def test_random_bytes_named_png_is_a_problem(tmp_path, write_file) -> None:
    junk = random.Random(1234).randbytes(4096)
    assert not junk.startswith((b"\x89PNG", b"\xff\xd8", b"GIF", b"BM", b"II", b"MM", b"RIFF"))
    path = write_file("junk.png", junk)
    with pytest.raises(ImageProblem, match="not an image"):
        probe_image(str(path))
    with pytest.raises(ImageProblem, match="not an image"):
        load_image(str(path))
    (problem,) = scan(str(tmp_path / "data")).problems
    assert problem.path == "junk.png"
    assert "not an image" in problem.reason


def test_missing_file_is_a_problem(tmp_path) -> None:
    with pytest.raises(ImageProblem, match="cannot read file"):
        probe_image(str(tmp_path / "nope.png"))
    with pytest.raises(ImageProblem, match="missing"):
        load_image(str(tmp_path / "nope.png"))


def test_failed_decodes_do_not_leak_file_handles(make_image, noise, write_file, bomb_png) -> None:
    cut = make_image("cut.jpg", image=noise(64, 64))
    _cut(cut, cut.stat().st_size // 2)
    bomb = write_file("bomb.png", bomb_png())
    frames = [Image.new("RGB", (8, 8), c) for c in (RED, GREEN)]
    anim = make_image("anim.gif", image=frames[0], save_all=True, append_images=frames[1:])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for path in (cut, bomb):
            try:
                load_image(str(path))
            except ImageProblem:
                pass
        load_image(str(anim))
        thumbnail_batch([str(cut), str(bomb), str(anim)], 8)
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


# ---------------------------------------------------------------------------------------------
# Decompression bombs
# ---------------------------------------------------------------------------------------------


def test_bomb_header_is_refused_without_allocating_pixels(tmp_path, write_file, bomb_png) -> None:
    path = write_file("bomb.png", bomb_png(40_000, 40_000))
    assert path.stat().st_size < 100
    with Image.open(path) as img:
        assert img.size == (40_000, 40_000)  # the header really claims 1.6 gigapixels

    calls = [
        lambda: probe_image(str(path)),
        lambda: load_image(str(path)),
        lambda: make_thumbnail(str(path), 64),
    ]
    for call in calls:
        tracemalloc.start()
        started = time.perf_counter()
        try:
            with pytest.raises(ImageProblem) as excinfo:
                call()
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        message = str(excinfo.value)
        assert "gigapixels" in message
        assert "over the limit" in message
        assert "40000x40000" in message
        assert elapsed < 1.0
        assert peak < 50 * 1024 * 1024

    (problem,) = scan(str(tmp_path / "data")).problems
    assert problem.path == "bomb.png"
    assert "gigapixels" in problem.reason
    assert "over the limit" in problem.reason


def test_pixel_limit_is_configurable(tmp_path, make_image) -> None:
    path = make_image("big.png", size=(100, 100))
    assert probe_image(str(path), max_pixels=10_000).width == 100  # exactly at the limit: fine
    with pytest.raises(ImageProblem, match="over the limit"):
        probe_image(str(path), max_pixels=9_999)
    with pytest.raises(ImageProblem, match="over the limit"):
        load_image(str(path), max_pixels=9_999)
    with pytest.raises(ImageProblem, match="over the limit"):
        make_thumbnail(str(path), 8, max_pixels=9_999)
    result = scan(str(tmp_path / "data"), ScanOptions(max_pixels=9_999))
    assert result.items == []
    assert "over the limit" in result.problems[0].reason


# ---------------------------------------------------------------------------------------------
# Thumbnails
# ---------------------------------------------------------------------------------------------


def test_thumbnail_fits_the_box_and_keeps_the_aspect(make_image, noise) -> None:
    path = make_image("wide.jpg", image=noise(400, 100), quality=85)
    width, height, mode, raw = make_thumbnail(str(path), 64)
    assert (width, height) == (64, 16)
    assert mode == "RGB"
    assert len(raw) == 64 * 16 * 3


def test_thumbnail_never_enlarges(make_image) -> None:
    path = make_image("tiny.png", size=(5, 3))
    assert make_thumbnail(str(path), 64)[:2] == (5, 3)


def test_thumbnail_batch_gives_reasons_for_broken_files(tmp_path, make_image, write_file, noise, bomb_png) -> None:
    good_png = make_image("good.png", size=(40, 20), color=RED)
    good_jpg = make_image("good.jpg", size=(20, 40), color=BLUE)
    cut = make_image("cut.jpg", image=noise(64, 64))
    _cut(cut, cut.stat().st_size // 2)
    empty = write_file("empty.png", b"")
    junk = write_file("junk.png", random.Random(5).randbytes(512))
    bomb = write_file("bomb.png", bomb_png())
    paths = [good_png, cut, empty, junk, bomb, tmp_path / "missing.png", good_jpg]

    out = thumbnail_batch([str(p) for p in paths], 16)

    assert len(out) == len(paths)
    assert out[0] == (16, 8, "RGB", bytes(RED) * 16 * 8)
    assert isinstance(out[6], tuple)
    assert out[6][:3] == (8, 16, "RGB")
    assert len(out[6][3]) == 8 * 16 * 3
    reasons = out[1:6]
    assert all(isinstance(r, str) and r for r in reasons)
    assert "truncated JPEG" in reasons[0]
    assert "not an image" in reasons[2]
    assert "gigapixels" in reasons[3]
    assert "missing" in reasons[4]


def test_thumbnail_batch_of_nothing() -> None:
    assert thumbnail_batch([], 16) == []
