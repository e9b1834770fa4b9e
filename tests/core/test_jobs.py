"""Jobs: plain generators yielding Progress, run_job, CancelToken, Throttle."""

from __future__ import annotations

import threading
import time
import types

import pytest

from genaug_desktop.core import jobs
from genaug_desktop.core.jobs import Cancelled, CancelToken, Job, Progress, Throttle, run_job


def counting_job(n: int, cancel: CancelToken | None = None) -> Job[str]:
    for i in range(n):
        if cancel is not None:
            cancel.raise_if_cancelled()
        yield Progress(i + 1, n, f"step {i + 1}", payload=i)
    return f"done {n}"


# ---------------------------------------------------------------------------------------------
# run_job
# ---------------------------------------------------------------------------------------------


def test_run_job_returns_the_result_and_reports_every_step() -> None:
    seen: list[Progress] = []
    assert run_job(counting_job(3), seen.append) == "done 3"
    assert [(p.done, p.total, p.message, p.payload) for p in seen] == [
        (1, 3, "step 1", 0), (2, 3, "step 2", 1), (3, 3, "step 3", 2),
    ]


def test_run_job_without_a_callback() -> None:
    assert run_job(counting_job(5)) == "done 5"


def test_run_job_of_a_job_that_yields_nothing() -> None:
    assert run_job(counting_job(0)) == "done 0"


def test_run_job_result_may_be_none() -> None:
    def job() -> Job[None]:
        yield Progress(0)

    assert run_job(job()) is None


def test_run_job_lets_errors_through() -> None:
    def job() -> Job[int]:
        yield Progress(0, 1)
        raise ValueError("broken input")

    seen: list[Progress] = []
    with pytest.raises(ValueError, match="broken input"):
        run_job(job(), seen.append)
    assert len(seen) == 1


def test_run_job_lets_callback_errors_through() -> None:
    def explode(progress: Progress) -> None:
        raise RuntimeError("view went away")

    with pytest.raises(RuntimeError, match="view went away"):
        run_job(counting_job(3), explode)


def test_cancelling_from_the_callback_stops_the_job() -> None:
    token = CancelToken()
    seen: list[int] = []

    def on_progress(progress: Progress) -> None:
        seen.append(progress.done)
        if progress.done == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        run_job(counting_job(10, token), on_progress)
    assert seen == [1, 2]


# ---------------------------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done", "total", "fraction"),
    [
        (0, 10, 0.0),
        (5, 10, 0.5),
        (10, 10, 1.0),
        (15, 10, 1.0),  # never more than all
        (3, None, None),  # total unknown
        (0, 0, None),  # nothing to do: no meaningful fraction
        (1, 3, 1 / 3),
    ],
)
def test_progress_fraction(done, total, fraction) -> None:
    assert Progress(done, total).fraction == fraction


def test_progress_defaults() -> None:
    before = time.monotonic()
    progress = Progress(4)
    after = time.monotonic()
    assert (progress.total, progress.message, progress.payload) == (None, "", None)
    assert before <= progress.started <= after


# ---------------------------------------------------------------------------------------------
# CancelToken
# ---------------------------------------------------------------------------------------------


def test_cancel_token() -> None:
    token = CancelToken()
    assert token.cancelled is False
    token.raise_if_cancelled()  # no-op while not cancelled
    token.cancel()
    assert token.cancelled is True
    with pytest.raises(Cancelled):
        token.raise_if_cancelled()
    token.cancel()  # idempotent
    assert token.cancelled is True


def test_cancel_token_is_seen_across_threads() -> None:
    token = CancelToken()
    started = threading.Event()
    outcome: list[str] = []

    def worker() -> None:
        try:
            started.set()
            run_job(_endless(token))
        except Cancelled:
            outcome.append("cancelled")

    thread = threading.Thread(target=worker)
    thread.start()
    assert started.wait(5)
    token.cancel()
    thread.join(5)
    assert not thread.is_alive()
    assert outcome == ["cancelled"]


def _endless(token: CancelToken) -> Job[None]:
    i = 0
    while True:
        token.raise_if_cancelled()
        i += 1
        if i % 1000 == 0:
            time.sleep(0.001)
        yield Progress(i)


def test_cancelled_is_an_exception_not_a_base_exception() -> None:
    assert issubclass(Cancelled, Exception)


# ---------------------------------------------------------------------------------------------
# Throttle (with a fake clock: deterministic)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(jobs, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    return now


def test_throttle_first_call_is_true(clock) -> None:
    assert Throttle(0.5)() is True


def test_throttle_at_most_once_per_interval(clock) -> None:
    throttle = Throttle(0.5)
    results = []
    for t in (0.0, 0.1, 0.49, 0.5, 0.6, 0.99, 1.0, 3.0, 3.2):
        clock[0] = 1000.0 + t
        results.append(throttle())
    assert results == [True, False, False, True, False, False, True, True, False]


def test_throttle_default_interval(clock) -> None:
    throttle = Throttle()
    assert throttle.interval == 0.1
    assert throttle() is True
    clock[0] = 1000.05
    assert throttle() is False
    clock[0] = 1000.125
    assert throttle() is True


def test_throttle_zero_interval_always_fires(clock) -> None:
    throttle = Throttle(0)
    assert [throttle() for _ in range(3)] == [True, True, True]


def test_throttle_with_the_real_clock() -> None:
    throttle = Throttle(3600)
    assert throttle() is True
    assert throttle() is False
