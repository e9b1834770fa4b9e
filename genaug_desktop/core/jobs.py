"""Long work as plain generators.

A *job* is a generator that yields :class:`Progress` and returns its result. It checks a
:class:`CancelToken` between steps and raises :class:`Cancelled` when asked to stop. It knows
nothing about who watches it: the GUI runs it in a QThread through ``gui.worker``, the CLI runs
it with :func:`run_job` and a terminal progress line, tests just iterate it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

R = TypeVar("R")


class Cancelled(Exception):
    """Raised inside a job when its cancel token was set."""


class CancelToken:
    """A thread-safe flag a job polls between steps."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


@dataclass(slots=True)
class Progress:
    """One report from a job.

    ``done``/``total`` count units of work (``total`` is None while unknown); ``message`` is
    for people; ``payload`` carries partial results (e.g. a batch of scanned items) so that a
    view can show them while the job goes on.
    """

    done: int
    total: int | None = None
    message: str = ""
    payload: Any = None
    started: float = field(default_factory=time.monotonic)

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


Job = Generator[Progress, None, R]


def run_job(job: Job[R], on_progress: Callable[[Progress], None] | None = None) -> R:
    """Drive *job* to completion in the calling thread and return its result."""
    while True:
        try:
            progress = next(job)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if on_progress is not None:
            on_progress(progress)


class Throttle:
    """True at most every *interval* seconds (and on the first call); keeps progress cheap."""

    __slots__ = ("interval", "_last")

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self._last = -1e18

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False
