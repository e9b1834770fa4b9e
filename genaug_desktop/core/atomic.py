"""Atomic file writes: a temporary file in the same folder, fsync, then rename into place.

A kill at any moment leaves either the old file (or none) or the complete new one, never half.
Also the one safe way to read a small file a user named (policy, rule set): only a regular
file, never a pipe or device that would block or never end, and never more than a limit.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile


#: errors that mean "no room left": a full disk, or the user's quota reached
_FULL = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


class DiskFullError(OSError):
    """No space left (or a quota reached) while writing; ``strerror`` says so for a person and
    ``filename`` names the folder. Whatever was being written was removed, never left half."""


def disk_full(exc: BaseException, folder: str) -> DiskFullError | None:
    """*exc* as a :class:`DiskFullError` when it means the disk is full, else None."""
    if isinstance(exc, DiskFullError):
        return exc
    if isinstance(exc, OSError) and exc.errno in _FULL:
        return DiskFullError(
            errno.ENOSPC,
            "the disk is full; nothing half-written was kept (what was saved before is intact); "
            "free some space and run again",
            folder,
        )
    return None


def check_regular_file(path: str, max_bytes: int) -> int:
    """Return the size of *path*, or raise :class:`OSError` with a reason a person understands
    (missing, a folder, a pipe/socket/device, a symbolic-link loop, over *max_bytes*)."""
    st = os.stat(path)  # follows links; a loop raises ELOOP ("Too many levels of symbolic links")
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", path)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a pipe, socket or device)", path)
    if st.st_size > max_bytes:
        raise OSError(errno.EFBIG, f"the file is {st.st_size:,} bytes, over the limit of {max_bytes:,}", path)
    return st.st_size


def read_regular_file(path: str, max_bytes: int) -> bytes:
    """Read all of a regular file of at most *max_bytes*; see :func:`check_regular_file`."""
    check_regular_file(path, max_bytes)
    # O_NONBLOCK: if the file was swapped for a pipe after the check, opening must not block.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a pipe, socket or device)", path)
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise OSError(errno.EFBIG, f"the file is over the limit of {max_bytes:,} bytes", path)
    return data


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
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        full = disk_full(exc, folder)
        if full is not None:
            raise full from None
        raise
