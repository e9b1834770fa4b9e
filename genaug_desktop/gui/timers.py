"""QTimers made through one helper, so tests can tell when a timer was left running."""

from __future__ import annotations

import weakref
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, QTimer

_timers: weakref.WeakSet[QTimer] = weakref.WeakSet()


def tracked_timer(
    parent: QObject, interval_ms: int = 0, *, single_shot: bool = True, timeout: Callable[[], None] | None = None
) -> QTimer:
    """A QTimer owned by *parent* and registered for the leak check in the tests."""
    timer = QTimer(parent)
    timer.setInterval(interval_ms)
    timer.setSingleShot(single_shot)
    if timeout is not None:
        timer.timeout.connect(timeout)
    _timers.add(timer)
    return timer


def active_timers() -> list[QTimer]:
    """Tracked timers that are still alive and running."""
    return [t for t in list(_timers) if shiboken6.isValid(t) and t.isActive()]
