"""Keep Python's cyclic garbage collector from stalling the GUI thread on big datasets.

A full collection walks every tracked object; with 100,000 loaded items that is 30-60 ms, long
enough to be seen as a hitch, and it happens again each time the heap grows by a quarter while a
scan streams in. Loaded items are frozen dataclasses of strings and numbers: they are never part
of a reference cycle, so the collector has nothing to find among them. After each large batch we
collect the young generations (cheap: only what was just made) and move everything that survived
into the permanent generation (``gc.freeze``), where collections no longer look.
"""

from __future__ import annotations

import gc

#: Freeze after this many newly loaded items (freezing is cheap; the young collect costs ~1 ms).
FREEZE_EVERY = 4096


class CollectorGuard:
    """Counts loaded objects and freezes them out of the collector's way in steps."""

    def __init__(self, every: int = FREEZE_EVERY) -> None:
        self.every = every
        self._pending = 0
        self.freezes = 0

    def loaded(self, count: int) -> None:
        self._pending += count
        if self._pending >= self.every:
            self._pending = 0
            gc.collect(1)  # young garbage (including cycles) goes now, not into the frozen set
            gc.freeze()
            self.freezes += 1

    def release(self) -> None:
        """The dataset was closed: let the collector see everything again."""
        self._pending = 0
        if self.freezes:
            gc.unfreeze()
            self.freezes = 0
