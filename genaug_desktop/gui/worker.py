"""The one place that runs a core Job in a background QThread.

Modelled on superqt's ``thread_worker``: a :class:`JobWorker` emits ``started``, ``progress``
(each yielded :class:`Progress`), then exactly one of ``returned`` (the job's return value),
``errored`` (a message for people, never a traceback) or ``aborted``, and finally ``finished``.
``abort()`` sets the job's :class:`CancelToken`; the runner also checks it between yields, so a
job that forgets to poll still stops at its next step.

Progress without a payload is throttled (at most ~20 signals a second; the newest wins and the
last one is delivered before the outcome). Progress that carries a payload (partial results such
as a batch of scanned items) is never dropped: it goes into a queue that the GUI thread drains,
so when the GUI is busy several payloads arrive at once, merged by an optional ``coalesce``.

:class:`JobSlot` implements "newest request wins": starting a job in a slot aborts the slot's
previous job, and nothing from the old job reaches the GUI after that.

No other module creates QThreads. Every thread is joined: :func:`shutdown_all` aborts and waits
for them (the main window calls it on close), and the tests fail when one is left running.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
import types
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from genaug_desktop.core.jobs import CancelToken, Cancelled, Progress

log = logging.getLogger(__name__)

JobFactory = Callable[[CancelToken], Any]
#: Merges two payload-carrying progress reports into one, or returns None when they cannot merge.
Coalesce = Callable[[Progress, Progress], "Progress | None"]

#: Seconds between two throttled progress signals (~20 a second).
PROGRESS_INTERVAL = 0.05

_threads: weakref.WeakSet[_JobThread] = weakref.WeakSet()
# Strong references keep a running worker (and its QThread) alive even when its owner drops it:
# destroying a QThread while it runs aborts the process.
_active: set[JobWorker] = set()


#: Errors whose message is written for people (the core's own, and the OS's).
_EXPECTED_ERRORS = frozenset({
    "DatasetError", "ProjectError", "ImageProblem", "PolicyError", "ParamError",
    "GeneratorError", "CheckpointError", "TrustRequired",
    "RuleError", "RuleSetError", "UnknownRuleError", "RuleStoreError",
    "ExportError", "ExportUnusable",
    "EngineError", "EngineUnavailable",
})


def is_expected_error(exc: BaseException) -> bool:
    """True for errors that describe a problem with the user's input rather than a bug."""
    return type(exc).__name__ in _EXPECTED_ERRORS or isinstance(exc, OSError)


def describe_error(exc: BaseException) -> str:
    """A one-line message for people. Expected errors (dataset, project, image problems) carry
    their own wording; anything else gets its type name so a bug report is still useful."""
    if type(exc).__name__ not in _EXPECTED_ERRORS and isinstance(exc, OSError) and exc.strerror:
        # "[Errno 28] No space left on device: '/x'" reads "No space left on device: /x"
        where = exc.filename if isinstance(exc.filename, str) else None
        hint = " (free some space and try again)" if exc.errno == errno.ENOSPC else ""
        return f"{exc.strerror}: {where}{hint}" if where else f"{exc.strerror}{hint}"
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if is_expected_error(exc) and message:
        return message
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class _JobThread(QThread):
    """Runs the job; lives in the GUI thread as an object, its ``run`` in the new thread."""

    progress_ready = Signal(object)
    payload_ready = Signal()
    outcome_ready = Signal(str, object)

    def __init__(self, factory: JobFactory, token: CancelToken, interval: float, name: str) -> None:
        super().__init__()
        self.setObjectName(f"JobThread:{name}" if name else "JobThread")
        self._factory = factory
        self._token = token
        self._interval = interval
        self._lock = threading.Lock()
        self._payloads: list[Progress] = []
        self._drain_scheduled = False
        self._last_emit = -1e18
        self._held: Progress | None = None

    # Called in the GUI thread by JobWorker when payload_ready arrives.
    def take_payloads(self) -> list[Progress]:
        with self._lock:
            taken, self._payloads = self._payloads, []
            self._drain_scheduled = False
        return taken

    def _deliver(self, progress: Progress) -> None:
        if progress.payload is not None:
            with self._lock:
                self._payloads.append(progress)
                schedule = not self._drain_scheduled
                self._drain_scheduled = True
            if schedule:
                self.payload_ready.emit()
            return
        now = time.monotonic()
        if now - self._last_emit >= self._interval:
            self._last_emit = now
            self._held = None
            self.progress_ready.emit(progress)
        else:
            self._held = progress  # newest wins; sent before the outcome if nothing newer comes

    def _flush_held(self) -> None:
        if self._held is not None:
            self.progress_ready.emit(self._held)
            self._held = None

    def run(self) -> None:
        kind: str = "errored"
        value: Any = "the job stopped unexpectedly"
        try:
            self._token.raise_if_cancelled()
            made = self._factory(self._token)
            if isinstance(made, types.GeneratorType):
                value = self._drive(made)
            else:
                value = made
            kind = "returned"
            self._flush_held()
        except Cancelled:
            kind, value = "aborted", None
        except Exception as exc:  # every failure must reach the user as a message, not kill the thread
            if is_expected_error(exc):
                log.info("background job %s: %s", self.objectName(), exc)
            else:  # a bug: keep the traceback for the log, the user sees one line
                log.error("background job %s failed", self.objectName(), exc_info=True)
            kind, value = "errored", describe_error(exc)
        self.outcome_ready.emit(kind, value)

    def _drive(self, gen: Any) -> Any:
        try:
            while True:
                if self._token.cancelled:
                    raise Cancelled()
                try:
                    progress = next(gen)
                except StopIteration as stop:
                    return stop.value
                if isinstance(progress, Progress):
                    self._deliver(progress)
        finally:
            gen.close()  # runs the job's own finally blocks (closing pools, files) in this thread


class JobWorker(QObject):
    """Runs one core Job in a QThread and reports through signals in the GUI thread.

    ``job_factory(cancel_token)`` is called in the background thread; it may return a job (a
    generator yielding :class:`Progress`) or, for short one-shot work such as decoding a preview,
    a plain value, which becomes the ``returned`` result.
    """

    started = Signal()
    progress = Signal(object)
    returned = Signal(object)
    errored = Signal(str)
    aborted = Signal()
    finished = Signal()

    def __init__(
        self,
        job_factory: JobFactory,
        *,
        name: str = "",
        coalesce: Coalesce | None = None,
        progress_interval: float = PROGRESS_INTERVAL,
    ) -> None:
        super().__init__()
        self.name = name
        self._coalesce = coalesce
        self._token = CancelToken()
        self._abort_requested = False
        self._outcome_seen = False
        self._done = False
        self._thread = _JobThread(job_factory, self._token, progress_interval, name)
        self._thread.started.connect(self._on_started)
        self._thread.progress_ready.connect(self._on_progress)
        self._thread.payload_ready.connect(self._drain_payloads)
        self._thread.outcome_ready.connect(self._on_outcome)
        self._thread.finished.connect(self._on_thread_finished)
        _threads.add(self._thread)

    # ---- control ---------------------------------------------------------------------------------
    @property
    def cancel_token(self) -> CancelToken:
        return self._token

    @property
    def abort_requested(self) -> bool:
        return self._abort_requested

    def start(self) -> JobWorker:
        _active.add(self)
        self._thread.start()
        return self

    def abort(self) -> None:
        """Ask the job to stop. From now on nothing but ``aborted`` and ``finished`` is emitted."""
        if self._done:
            return
        self._abort_requested = True
        self._token.cancel()

    def is_running(self) -> bool:
        return not self._done

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Block until the thread has ended (signals still arrive through the event loop)."""
        return self._thread.wait(timeout_ms) if self._thread.isRunning() else True

    # ---- GUI-thread slots --------------------------------------------------------------------------
    def _on_started(self) -> None:
        if not self._abort_requested:
            self.started.emit()

    def _on_progress(self, progress: Progress) -> None:
        if not self._abort_requested:
            self.progress.emit(progress)

    def _drain_payloads(self) -> None:
        pending = self._thread.take_payloads()
        if not pending or self._abort_requested:
            return
        if self._coalesce is None:
            for progress in pending:
                self.progress.emit(progress)
            return
        merged = pending[0]
        for progress in pending[1:]:
            both = self._coalesce(merged, progress)
            if both is None:
                self.progress.emit(merged)
                merged = progress
            else:
                merged = both
        self.progress.emit(merged)

    def _on_outcome(self, kind: str, value: object) -> None:
        self._outcome_seen = True
        self._drain_payloads()
        if self._abort_requested or kind == "aborted":
            self.aborted.emit()
        elif kind == "returned":
            self.returned.emit(value)
        else:
            self.errored.emit(str(value))

    def _on_thread_finished(self) -> None:
        self._thread.wait()  # already ending: makes sure the OS thread is joined
        if not self._outcome_seen:
            self._on_outcome("errored", "the job stopped unexpectedly")
        self._done = True
        _active.discard(self)
        self.finished.emit()


class JobSlot(QObject):
    """Holds at most one live job; starting a new one aborts the previous (newest request wins)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current: JobWorker | None = None

    @property
    def current(self) -> JobWorker | None:
        return self._current

    def is_busy(self) -> bool:
        return self._current is not None and self._current.is_running()

    def start(self, worker: JobWorker) -> JobWorker:
        self.abort()
        self._current = worker
        worker.finished.connect(self._forget)
        return worker.start()

    def abort(self) -> None:
        if self._current is not None:
            self._current.abort()

    def _forget(self) -> None:
        sender = self.sender()
        if sender is self._current:
            self._current = None


def live_threads() -> list[QThread]:
    """Job threads that are still running (the tests fail when any is left)."""
    return [t for t in list(_threads) if t.isRunning()]


def active_workers() -> list[JobWorker]:
    return list(_active)


def shutdown_all(timeout_ms: int = 10_000) -> bool:
    """Abort every running job and join its thread; True when all ended in time."""
    workers = list(_active)
    for worker in workers:
        worker.abort()
    deadline = time.monotonic() + timeout_ms / 1000
    ok = True
    for worker in workers:
        left = max(0, int((deadline - time.monotonic()) * 1000))
        if not worker.wait(left):
            log.error("background job %s did not stop within %d ms", worker.name, timeout_ms)
            ok = False
    return ok
