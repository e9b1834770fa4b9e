"""The one worker wrapper: signal order, errors, abort, throttling, coalescing, newest-wins."""

from __future__ import annotations

import threading
from collections.abc import Generator

import pytest
from PySide6.QtCore import QThread

from genaug_desktop.core.datasets.model import DatasetError
from genaug_desktop.core.jobs import CancelToken, Progress
from genaug_desktop.gui import worker as worker_module
from genaug_desktop.gui.worker import JobSlot, JobWorker, describe_error


class Recorder:
    """Collects every signal of a worker in order, with the thread each arrived in."""

    def __init__(self, w: JobWorker) -> None:
        self.events: list[tuple[str, object]] = []
        self.threads: set[int] = set()
        for name in ("started", "progress", "returned", "errored", "aborted", "finished"):
            getattr(w, name).connect(lambda *args, n=name: self._record(n, args))

    def _record(self, name: str, args: tuple[object, ...]) -> None:
        self.threads.add(threading.get_ident())
        self.events.append((name, args[0] if args else None))

    def names(self) -> list[str]:
        return [n for n, _ in self.events]

    def of(self, name: str) -> list[object]:
        return [v for n, v in self.events if n == name]


def counting_job(n: int, cancel: CancelToken) -> Generator[Progress, None, int]:
    for i in range(n):
        cancel.raise_if_cancelled()
        yield Progress(i + 1, n, f"step {i + 1}")
    return n * 10


def test_signals_arrive_in_order_in_the_gui_thread(qtbot) -> None:
    w = JobWorker(lambda cancel: counting_job(3, cancel), progress_interval=0.0)
    rec = Recorder(w)
    with qtbot.waitSignal(w.finished, timeout=5000):
        w.start()
    names = rec.names()
    assert names[0] == "started" and names[-1] == "finished"
    assert names[-2] == "returned" and rec.of("returned") == [30]
    assert [p.done for p in rec.of("progress")] == [1, 2, 3]  # type: ignore[attr-defined]
    assert rec.threads == {threading.get_ident()}
    assert not w.is_running()


def test_plain_function_result_is_returned(qtbot) -> None:
    w = JobWorker(lambda cancel: QThread.currentThread().objectName())
    rec = Recorder(w)
    with qtbot.waitSignal(w.finished, timeout=5000):
        w.start()
    assert rec.of("returned") == ["JobThread"]  # ran in the job thread, not the GUI thread


def test_error_becomes_one_line_message(qtbot) -> None:
    def failing(cancel: CancelToken) -> Generator[Progress, None, None]:
        yield Progress(1, 2)
        raise DatasetError("/nowhere: no such file or folder")

    w = JobWorker(failing)
    rec = Recorder(w)
    with qtbot.waitSignal(w.finished, timeout=5000):
        w.start()
    assert rec.of("errored") == ["/nowhere: no such file or folder"]
    assert "returned" not in rec.names()


def test_unexpected_error_names_its_type_without_traceback() -> None:
    message = describe_error(KeyError("x"))
    assert message == "KeyError: 'x'"
    assert "Traceback" not in describe_error(RuntimeError("boom\nsecond line"))


def test_abort_stops_the_job_and_suppresses_its_result(qtbot) -> None:
    gate = threading.Event()

    def slow(cancel: CancelToken) -> Generator[Progress, None, str]:
        yield Progress(0, None, "waiting")
        gate.wait(5)
        yield Progress(1, None, "after the gate")
        return "should not arrive"

    w = JobWorker(slow, progress_interval=0.0)
    rec = Recorder(w)
    w.start()
    qtbot.waitUntil(lambda: bool(rec.of("progress")), timeout=5000)
    with qtbot.waitSignal(w.finished, timeout=5000):
        w.abort()
        gate.set()
    assert "aborted" in rec.names()
    assert "returned" not in rec.names()
    assert rec.names()[-1] == "finished"
    assert w.cancel_token.cancelled


def test_job_that_ignores_the_token_is_stopped_between_yields(qtbot) -> None:
    steps: list[int] = []

    def stubborn(cancel: CancelToken) -> Generator[Progress, None, None]:
        for i in range(10_000):
            steps.append(i)
            yield Progress(i)

    w = JobWorker(stubborn)
    w.abort()  # before it starts: it must not run at all
    with qtbot.waitSignal(w.aborted, timeout=5000):
        w.start()
    qtbot.waitUntil(lambda: not w.is_running(), timeout=5000)
    assert steps == []


def test_progress_without_payload_is_throttled_but_the_last_arrives(qtbot) -> None:
    w = JobWorker(lambda cancel: counting_job(20_000, cancel))
    rec = Recorder(w)
    with qtbot.waitSignal(w.finished, timeout=10_000):
        w.start()
    progress = rec.of("progress")
    assert 1 <= len(progress) < 200
    assert progress[-1].done == 20_000  # type: ignore[attr-defined]


def test_payload_progress_is_never_dropped_and_can_be_coalesced(qtbot) -> None:
    def batches(cancel: CancelToken) -> Generator[Progress, None, None]:
        for i in range(500):
            yield Progress(i + 1, 500, "", payload=[i])

    def merge(a: Progress, b: Progress) -> Progress:
        return Progress(b.done, b.total, b.message, a.payload + b.payload)

    w = JobWorker(batches, coalesce=merge)
    rec = Recorder(w)
    with qtbot.waitSignal(w.finished, timeout=10_000):
        w.start()
    received = [x for p in rec.of("progress") for x in p.payload]  # type: ignore[attr-defined]
    assert received == list(range(500))
    assert rec.of("progress")[-1].done == 500  # type: ignore[attr-defined]


def test_coalesce_may_refuse_to_merge(qtbot) -> None:
    def mixed(cancel: CancelToken) -> Generator[Progress, None, None]:
        yield Progress(0, payload="header")
        for i in range(50):
            yield Progress(i, payload=[i])

    def merge(a: Progress, b: Progress) -> Progress | None:
        if not isinstance(a.payload, list) or not isinstance(b.payload, list):
            return None
        return Progress(b.done, None, "", a.payload + b.payload)

    w = JobWorker(mixed, coalesce=merge)
    rec = Recorder(w)
    with qtbot.waitSignal(w.finished, timeout=5000):
        w.start()
    payloads = [p.payload for p in rec.of("progress")]  # type: ignore[attr-defined]
    assert payloads[0] == "header"
    assert [x for p in payloads[1:] for x in p] == list(range(50))


def test_newest_request_wins(qtbot) -> None:
    gate = threading.Event()

    def job(tag: str, cancel: CancelToken) -> Generator[Progress, None, str]:
        yield Progress(0, None, tag)
        while not gate.is_set():
            cancel.raise_if_cancelled()
            gate.wait(0.01)
        return tag

    slot = JobSlot()
    results: list[object] = []
    aborted: list[str] = []
    first = JobWorker(lambda cancel: job("first", cancel), name="first")
    second = JobWorker(lambda cancel: job("second", cancel), name="second")
    for w in (first, second):
        w.returned.connect(results.append)
        w.aborted.connect(lambda n=w.name: aborted.append(n))
    slot.start(first)
    slot.start(second)
    assert slot.current is second
    assert first.abort_requested
    gate.set()
    qtbot.waitUntil(lambda: not first.is_running() and not second.is_running(), timeout=5000)
    assert results == ["second"]
    assert aborted == ["first"]
    assert not slot.is_busy()


def test_threads_are_joined_by_shutdown_all(qtbot) -> None:
    def endless(cancel: CancelToken) -> Generator[Progress, None, None]:
        while True:
            cancel.raise_if_cancelled()
            yield Progress(0)

    workers = [JobWorker(endless, name=f"endless-{i}").start() for i in range(3)]
    qtbot.waitUntil(lambda: len(worker_module.live_threads()) == 3, timeout=5000)
    assert worker_module.shutdown_all(5000)
    assert worker_module.live_threads() == []
    qtbot.waitUntil(lambda: not any(w.is_running() for w in workers), timeout=5000)


@pytest.mark.parametrize("exc", [OSError(13, "Permission denied"), ValueError("bad value")])
def test_describe_error_is_one_line(exc: Exception) -> None:
    assert "\n" not in describe_error(exc)


def test_os_errors_read_as_sentences_without_errno_codes() -> None:
    import errno
    import os

    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/data/out/a.png")
    assert describe_error(full) == "No space left on device: /data/out/a.png (free some space and try again)"
    denied = PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/etc/x")
    assert describe_error(denied) == "Permission denied: /etc/x"
    assert describe_error(OSError("plain message")) == "plain message"
