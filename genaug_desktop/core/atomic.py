"""Atomic file writes: a temporary file in the same folder, fsync, then rename into place.

A kill at any moment leaves either the old file (or none) or the complete new one, never half.
"""

from __future__ import annotations

import os
import tempfile


def write_atomic(path: str, data: bytes, fsync: bool = True, prefix: str = ".tmp-", suffix: str = "") -> None:
    """Write *data* to *path* atomically (creating the folder if needed)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
