"""Work around a reference-counting bug of PySide6 6.12.0 on Python < 3.12.

PySide6/shiboken6 6.12.0 return ``None``, ``True`` and ``False`` from wrapped C++ calls without
taking a new reference: every call of a ``void`` method (``setText``, ``update``,
``processEvents``, ``QTimer.start`` ...) and every ``None``/bool result drops one reference that
was never taken. Python 3.12+ makes these three objects immortal, so nothing happens there; on
Python 3.11 their count falls by thousands per second while the window paints, and the
interpreter aborts with "Fatal Python error: none_dealloc" within minutes (a test session within
seconds). 6.11.3 does not have the bug.

The remedy matches what Python 3.12 does: give the three singletons a reference count so large
that no number of missing references can bring it to zero. It touches only these three objects
(which are never freed anyway), and only for the affected versions. The real fix is a PySide6
release without the bug; the project pins ``PySide6-Essentials != 6.12.0``.
"""

from __future__ import annotations

import ctypes
import sys

#: shiboken6 versions known to drop references to None/True/False.
AFFECTED_VERSIONS = frozenset({"6.12.0"})
_IMMORTAL = 1 << 60

_applied = False


def is_affected(shiboken_version: str, python: tuple[int, int] = sys.version_info[:2]) -> bool:
    return shiboken_version in AFFECTED_VERSIONS and python < (3, 12)


def apply() -> bool:
    """Protect None/True/False when the installed shiboken6 is affected; True if applied."""
    global _applied
    if _applied:
        return True
    try:
        import shiboken6
    except ImportError:
        return False
    if not is_affected(getattr(shiboken6, "__version__", "")):
        return False
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value = _IMMORTAL
    _applied = True
    return True
