"""ThumbnailCache: decoding in worker processes, failures as reasons, LRU budget, priorities."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from genaug_desktop.core.datasets import images
from genaug_desktop.gui.thumbnails import ThumbnailCache, bucket_for, image_from_raw
from gui_helpers import write_png, write_undecodable_png


@pytest.fixture
def cache(qapp):
    c = ThumbnailCache(workers=2)
    yield c
    c.shutdown()


def test_bucket_sizes() -> None:
    assert bucket_for(64) == 128
    assert bucket_for(128) == 128
    assert bucket_for(200) == 256
    assert bucket_for(5000) == 512


def test_thumbnails_and_failures_without_decoding_in_this_process(
    qtbot, cache: ThumbnailCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Any decode in the GUI process would call these; the pool's processes have their own copies.
    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("decoded in the GUI process")

    monkeypatch.setattr(images, "make_thumbnail", forbidden)
    monkeypatch.setattr(images, "load_image", forbidden)
    good = [str(write_png(tmp_path / f"g{i}.png", (30 * i, 100, 200), size=(300, 200))) for i in range(5)]
    bad = str(write_undecodable_png(tmp_path / "bad.png"))
    missing = str(tmp_path / "missing.png")
    failed: list[tuple[str, str]] = []
    arrived_in: set[int] = set()
    cache.thumbnail_failed.connect(lambda p, r: failed.append((p, r)))
    cache.thumbnails_ready.connect(lambda _paths: arrived_in.add(threading.get_ident()))

    for path in [*good, bad, missing]:
        assert cache.lookup(path, 128) is None  # requested, nothing yet
    qtbot.waitUntil(lambda: all(cache.has(p, 128) for p in [*good, bad, missing]), timeout=20_000)

    for path in good:
        thumb = cache.lookup(path, 128)
        assert isinstance(thumb, QImage)
        assert (thumb.width(), thumb.height()) == (128, 85)  # fitted, aspect kept
    assert "cannot decode image" in str(cache.lookup(bad, 128))
    assert "missing" in str(cache.lookup(missing, 128))
    assert sorted(p for p, _ in failed) == sorted([bad, missing])
    assert arrived_in == {threading.get_ident()}
    assert cache.decoded == 5 and cache.failed == 2


def test_lru_budget_evicts_oldest(qapp) -> None:
    c = ThumbnailCache(workers=1, byte_budget=3 * 100 * 100 * 4)
    try:
        img = QImage(100, 100, QImage.Format.Format_RGB32)
        for i in range(5):
            c._store((f"/p{i}.png", 128), img.copy())
        assert len(c) == 3
        assert c.cached_bytes <= c.byte_budget
        assert c.has("/p4.png", 128) and not c.has("/p0.png", 128)
    finally:
        c.shutdown()


def test_newest_requests_first_and_viewport_change_drops_the_rest(qapp) -> None:
    c = ThumbnailCache(workers=2)
    try:
        for i in range(10):
            c._request((f"/old{i}.png", 128))
        c.viewport_changed()  # e.g. scrolled: the next paint asks for what is visible now
        for i in range(3):
            c._request((f"/new{i}.png", 256))
        c._request(("/old9.png", 128))  # still visible: asked for again
        batches = c.next_batches(free=10)
        first = [k[0] for k in batches[0]]
        assert first[:3] == ["/new0.png", "/new1.png", "/new2.png"]
        assert all(len({k[1] for k in b}) == 1 for b in batches)  # one bucket size per batch
        c._drop_stale()
        assert sorted(k[0] for k in c._queue) == ["/new0.png", "/new1.png", "/new2.png", "/old9.png"]
        assert c.next_batches(free=0) == []
    finally:
        c.shutdown()


def test_image_from_raw_handles_rgb_and_rgba(qapp) -> None:
    rgb = image_from_raw(2, 1, "RGB", bytes([255, 0, 0, 0, 255, 0]))
    rgba = image_from_raw(1, 1, "RGBA", bytes([0, 0, 255, 128]))
    assert rgb.pixelColor(0, 0).red() == 255 and rgb.pixelColor(1, 0).green() == 255
    assert rgba.pixelColor(0, 0).alpha() == 128


def test_shutdown_stops_processes_and_refuses_new_work(qtbot, tmp_path: Path) -> None:
    c = ThumbnailCache(workers=1)
    path = str(write_png(tmp_path / "a.png", (10, 20, 30)))
    c.lookup(path, 128)
    qtbot.waitUntil(lambda: c.has(path, 128), timeout=20_000)
    assert c.has_pool()
    c.shutdown()
    assert not c.has_pool() and c.is_shut_down
    assert c.lookup(str(tmp_path / "other.png"), 128) is None
    assert c.pending() == 0
