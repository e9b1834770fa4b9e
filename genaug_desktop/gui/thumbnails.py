"""Thumbnails decoded off the GUI thread by a bounded process pool, kept in an LRU cache.

How a thumbnail gets on screen:

1. The delegate paints an item and asks the model for ``ThumbnailRole``; the model calls
   :meth:`ThumbnailCache.lookup`. A hit returns the QImage. A miss queues a request and returns
   None (the delegate paints a placeholder).
2. Requests are coalesced by a 0 ms timer: everything asked for during one paint pass becomes one
   pump. Newest requests go first (what is on screen now wins), and :meth:`viewport_changed`
   (called on scroll, resize, filter) drops queued requests that were not asked for again since,
   i.e. items that scrolled away. Only ``2 x workers`` batches are in flight at a time, so the
   queue stays short and droppable.
3. Each batch of paths goes to core ``images.thumbnail_batch`` in a worker process
   (``forkserver``: never fork a process that holds Qt threads). The future's done-callback runs
   in the pool's manager thread and only emits a signal; the queued connection delivers it to the
   GUI thread, where the raw bytes become QImages (a copy per image, well under a millisecond).
4. Failures come back as reason strings: they are remembered per path (the delegate paints a
   broken badge) and announced through ``thumbnail_failed`` so the problems list shows them.

Thumbnails are decoded at a few fixed sizes (buckets) and scaled when painted, so moving the size
slider does not decode everything again.
"""

from __future__ import annotations

import logging
import os
import pkgutil
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from genaug_desktop.gui.timers import tracked_timer
from genaug_desktop.gui.worker import JobWorker

if TYPE_CHECKING:
    import concurrent.futures as cf

log = logging.getLogger(__name__)

BUCKETS = (128, 256, 512)
MAX_BATCH = 64
MIN_BATCH = 4
WORKER_NICENESS = 5

Key = tuple[str, int]


def bucket_for(size: int) -> int:
    """The decode size used for a thumbnail shown at *size* device pixels."""
    for bucket in BUCKETS:
        if size <= bucket:
            return bucket
    return BUCKETS[-1]


def image_from_raw(width: int, height: int, mode: str, data: bytes) -> QImage:
    """A QImage that owns a copy of packed RGB/RGBA rows (as core ``make_thumbnail`` returns)."""
    if mode == "RGBA":
        img = QImage(data, width, height, width * 4, QImage.Format.Format_RGBA8888)
        # Premultiplied ARGB is what the raster engine paints without converting every time.
        return img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    img = QImage(data, width, height, width * 3, QImage.Format.Format_RGB888)
    return img.convertToFormat(QImage.Format.Format_RGB32)


def _forkserver_context() -> Any:
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    # Workers forked from a server that already imported Pillow and numpy start decoding at once.
    # Only effective before the server starts; harmless afterwards.
    ctx.set_forkserver_preload(["genaug_desktop.core.datasets.images"])
    return ctx


_caches: weakref.WeakSet[ThumbnailCache] = weakref.WeakSet()


class _ByName:
    """A function named by import path that unpickles as the function itself.

    Submitting ``images.thumbnail_batch`` directly would need the GUI process to import it (numpy
    and Pillow: a few hundred milliseconds on the GUI thread). Pickled, this is just
    ``pkgutil.resolve_name(target)``: the worker process imports the module, not us.
    """

    __slots__ = ("target",)

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return pkgutil.resolve_name, (self.target,)

    def __call__(self, *args: Any) -> Any:
        return pkgutil.resolve_name(self.target)(*args)


_THUMBNAIL_BATCH = _ByName("genaug_desktop.core.datasets.images:thumbnail_batch")


def live_caches() -> list[ThumbnailCache]:
    """Caches not yet garbage-collected (the tests check none keeps its processes running)."""
    return list(_caches)


class _Relay(QObject):
    """Carries finished batches from the pool's manager thread into the GUI thread."""

    batch_done = Signal(object, object)  # keys, future


class ThumbnailCache(QObject):
    """Bounded decoding pool + LRU cache of thumbnail QImages keyed by (path, bucket size).

    ``thumbnails_ready(paths)`` tells views which paths have a new thumbnail or failure;
    ``thumbnail_failed(path, reason)`` reports each failure once.
    """

    thumbnails_ready = Signal(list)
    thumbnail_failed = Signal(str, str)

    def __init__(
        self, workers: int | None = None, byte_budget: int = 256 * 1024 * 1024, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.byte_budget = byte_budget
        self._images: OrderedDict[Key, QImage] = OrderedDict()
        self._bytes = 0
        self._failures: dict[str, str] = {}
        # Queued requests by generation (one per viewport change), each in request order; served
        # newest generation first. _queue maps a key to its generation, for O(1) moves and drops.
        self._queue: dict[Key, int] = {}
        self._by_generation: dict[int, dict[Key, None]] = {}
        self._in_flight: set[Key] = set()
        self._batches_in_flight = 0
        self._generation = 0
        self._prune = False
        self._pool: cf.ProcessPoolExecutor | None = None
        self._pool_starter: JobWorker | None = None
        self._starting: list[cf.ProcessPoolExecutor] = []
        self._closed = False
        self._relay = _Relay(self)
        self._relay_connected = False
        self._pump_timer = tracked_timer(self, 0, timeout=self._pump)
        self.decoded = 0
        self.failed = 0
        _caches.add(self)

    # ---- lookups ---------------------------------------------------------------------------------
    def lookup(self, path: str, size: int) -> QImage | str | None:
        """The thumbnail of *path* for display at *size* px, a failure reason, or None (requested).

        While the exact bucket is decoding, a cached smaller or larger one is returned instead,
        so a size change shows something at once.
        """
        reason = self._failures.get(path)
        if reason is not None:
            return reason
        bucket = bucket_for(size)
        key = (path, bucket)
        img = self._images.get(key)
        if img is not None:
            self._images.move_to_end(key)
            return img
        self._request(key)
        for other in BUCKETS:
            fallback = self._images.get((path, other))
            if fallback is not None:
                return fallback
        return None

    def failure(self, path: str) -> str | None:
        return self._failures.get(path)

    def has(self, path: str, size: int) -> bool:
        return (path, bucket_for(size)) in self._images or path in self._failures

    def pending(self) -> int:
        """Requests queued or decoding."""
        return len(self._queue) + len(self._in_flight)

    @property
    def cached_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._images)

    # ---- requests --------------------------------------------------------------------------------
    def request(self, paths: Iterable[str], size: int) -> None:
        """Ask for thumbnails ahead of painting (e.g. prefetch the next screen)."""
        bucket = bucket_for(size)
        for path in paths:
            if path not in self._failures and (path, bucket) not in self._images:
                self._request((path, bucket))

    def _request(self, key: Key) -> None:
        if self._closed or key in self._in_flight:
            return
        old = self._queue.get(key)
        if old is not None:
            if old == self._generation:
                return
            self._by_generation[old].pop(key, None)  # asked for again: it is current now
        self._queue[key] = self._generation
        self._by_generation.setdefault(self._generation, {})[key] = None
        if not self._pump_timer.isActive():
            self._pump_timer.start()

    def viewport_changed(self) -> None:
        """What is visible changed: queued requests not asked for again by the next paint go."""
        self._generation += 1
        self._prune = True
        if not self._pump_timer.isActive() and not self._closed:
            self._pump_timer.start()

    def forget_queue(self) -> None:
        """Drop every queued request (a new dataset is open); decoding batches still land."""
        self._queue.clear()
        self._by_generation.clear()

    def clear(self) -> None:
        """Forget cached thumbnails and failures too."""
        self.forget_queue()
        self._images.clear()
        self._failures.clear()
        self._bytes = 0

    # ---- the pool ----------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Start the worker processes in the background, so the first paint finds them ready.

        Starting the forkserver blocks until a new interpreter is up (~0.1-0.3 s); that wait
        happens in a job thread, never in the GUI thread.
        """
        if self._pool is not None or self._pool_starter is not None or self._closed:
            return
        import concurrent.futures as cf

        workers = self.workers
        # Also kept here so that shutdown() can stop a pool whose "returned" signal never arrived.
        started: list[cf.ProcessPoolExecutor] = []
        self._starting = started

        def start_pool(cancel: object) -> cf.ProcessPoolExecutor:
            # Decoders run a little below the GUI's priority: on a busy machine painting wins.
            pool = cf.ProcessPoolExecutor(
                max_workers=workers, mp_context=_forkserver_context(), initializer=os.nice, initargs=(WORKER_NICENESS,)
            )
            started.append(pool)
            # Start every process now, here: the executor spawns one per submit while none is idle,
            # and a spawn from the GUI thread would block it on the fork server. Overlapping sleeps
            # keep all workers busy at once, so each submit spawns. (Builtins: the workers need not
            # import this Qt module to unpickle them.)
            for future in [pool.submit(time.sleep, 0.05) for _ in range(workers)]:
                future.result()
            return pool

        starter = JobWorker(start_pool, name="thumbnail-pool")
        starter.returned.connect(self._on_pool_started)
        starter.errored.connect(self._on_pool_failed)
        starter.finished.connect(self._on_pool_starter_finished)
        self._pool_starter = starter
        starter.start()

    def _on_pool_started(self, pool: cf.ProcessPoolExecutor) -> None:
        if self._closed:
            pool.shutdown(wait=True, cancel_futures=True)
            return
        self._starting = []
        self._pool = pool
        self._pump()

    def _on_pool_failed(self, message: str) -> None:
        log.error("cannot start thumbnail workers: %s", message)
        for key in list(self._queue):
            self._fail(key[0], f"thumbnail workers could not start: {message}")
        self.forget_queue()

    def _on_pool_starter_finished(self) -> None:
        self._pool_starter = None

    def _pump(self) -> None:
        if self._closed:
            return
        self._drop_stale()
        if not self._queue:
            return
        if self._pool is None:
            self.warm_up()
            return  # _on_pool_started pumps again
        # Three batches per worker in flight: one decoding, two waiting, so no worker idles while
        # the GUI thread turns results into images; few enough that the queue stays droppable.
        for keys in self.next_batches(self.workers * 3 - self._batches_in_flight):
            self._submit(keys, keys[0][1])

    def _drop_stale(self) -> None:
        """After a viewport change, keep only requests made since (what is on screen now)."""
        if self._prune:
            self._prune = False
            for generation in [g for g in self._by_generation if g < self._generation]:
                for key in self._by_generation.pop(generation):
                    del self._queue[key]

    def next_batches(self, free: int) -> list[list[Key]]:
        """Up to *free* batches of queued keys, newest request generation first, each batch of
        one bucket size. Small batches while little is queued keep every worker busy; big ones
        cut the per-batch overhead when a lot is waiting."""
        if free <= 0 or not self._queue:
            return []
        size = max(MIN_BATCH, min(MAX_BATCH, -(-len(self._queue) // self.workers)))
        # Batches are filled per bucket size while walking from the newest request backwards, and
        # handed out in the order they were started: the batch holding the newest request first,
        # even when an older generation fills a batch of another size sooner.
        full: list[tuple[int, list[Key]]] = []
        filling: dict[int, tuple[int, list[Key]]] = {}
        position = 0
        for generation in sorted(self._by_generation, reverse=True):
            for key in self._by_generation[generation]:
                started, keys = filling.setdefault(key[1], (position, []))
                keys.append(key)
                position += 1
                if len(keys) >= size:
                    full.append((started, keys))
                    del filling[key[1]]
                    if len(full) >= free:
                        break
            if len(full) >= free:
                break
        batches = sorted(full + list(filling.values()), key=lambda entry: entry[0])
        return [keys for _, keys in batches[:free]]

    def _connect_relay(self) -> None:
        # Made on first use, not in __init__: reading Qt.ConnectionType loads the whole Qt namespace,
        # which the welcome page does not need. Queued on purpose: a future that is already done
        # calls back synchronously, inside _pump.
        if not self._relay_connected:
            from PySide6.QtCore import Qt

            self._relay.batch_done.connect(self._on_batch_done, Qt.ConnectionType.QueuedConnection)
            self._relay_connected = True

    def _submit(self, keys: list[Key], bucket: int) -> None:
        assert self._pool is not None
        self._connect_relay()
        for key in keys:
            generation = self._queue.pop(key, None)
            if generation is not None:
                waiting = self._by_generation.get(generation)
                if waiting is not None:
                    waiting.pop(key, None)
                    if not waiting:
                        del self._by_generation[generation]
            self._in_flight.add(key)
        try:
            future = self._pool.submit(_THUMBNAIL_BATCH, [k[0] for k in keys], bucket)
        except RuntimeError as exc:  # pool broken or shut down
            self._in_flight.difference_update(keys)
            self._batch_failed(keys, f"thumbnail workers stopped: {exc}")
            return
        self._batches_in_flight += 1
        relay = self._relay

        def done(fut: cf.Future[list[Any]]) -> None:
            # Runs in the pool's manager thread: only hand the batch over to the GUI thread.
            relay.batch_done.emit(keys, fut)

        future.add_done_callback(done)

    def _on_batch_done(self, keys: list[Key], future: cf.Future[list[Any]]) -> None:
        self._batches_in_flight -= 1
        self._in_flight.difference_update(keys)
        if self._closed or future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            # A worker died (e.g. a decoder crashed): fail this batch, start a fresh pool.
            log.warning("thumbnail batch failed: %r", exc)
            self._batch_failed(keys, f"thumbnail worker crashed ({type(exc).__name__})")
            self._restart_pool()
            return
        ready: list[str] = []
        for key, result in zip(keys, future.result(), strict=True):
            path = key[0]
            if isinstance(result, str):
                self._fail(path, result)
            else:
                self._store(key, image_from_raw(*result))
                self.decoded += 1
            ready.append(path)
        if ready:
            self.thumbnails_ready.emit(ready)
        if self._queue and not self._pump_timer.isActive():
            self._pump_timer.start()

    def _batch_failed(self, keys: list[Key], reason: str) -> None:
        for key in keys:
            self._fail(key[0], reason)
        self.thumbnails_ready.emit([k[0] for k in keys])

    def _fail(self, path: str, reason: str) -> None:
        if path in self._failures:
            return
        self._failures[path] = reason
        self.failed += 1
        self.thumbnail_failed.emit(path, reason)

    def _store(self, key: Key, img: QImage) -> None:
        old = self._images.pop(key, None)
        if old is not None:
            self._bytes -= old.sizeInBytes()
        self._images[key] = img
        self._bytes += img.sizeInBytes()
        while self._bytes > self.byte_budget and len(self._images) > 1:
            _, evicted = self._images.popitem(last=False)
            self._bytes -= evicted.sizeInBytes()

    def _restart_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self._batches_in_flight = 0
        self._in_flight.clear()
        if self._queue:
            self.warm_up()

    # ---- shutdown --------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the timer, cancel queued work and join the worker processes."""
        if self._closed:
            return
        self._closed = True
        self._pump_timer.stop()
        self.forget_queue()
        if self._pool_starter is not None:
            self._pool_starter.abort()
            self._pool_starter.wait()
            self._pool_starter = None
        pools = {id(p): p for p in [*self._starting, *([self._pool] if self._pool else [])]}
        self._pool = None
        self._starting = []
        for pool in pools.values():
            pool.shutdown(wait=True, cancel_futures=True)

    @property
    def is_shut_down(self) -> bool:
        return self._closed

    def has_pool(self) -> bool:
        """True while worker processes exist (or are being started)."""
        return self._pool is not None or bool(self._starting) or self._pool_starter is not None
