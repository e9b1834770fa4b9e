"""Atomic file writes: a temporary file in the same folder, fsync, then rename into place.

A kill at any moment leaves either the old file (or none) or the complete new one, never half.
Also the one safe way to read a small file a user named (policy, rule set): only a regular
file, never a pipe or device that would block or never end, and never more than a limit.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import time


#: the name every temporary file of :func:`write_atomic` starts with (unless a caller picks another)
TMP_PREFIX = ".tmp-"
#: a temporary file untouched for this long belongs to no live writer (a write takes seconds)
STALE_TMP_AGE_S = 600.0

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


def write_atomic(path: str, data: bytes, fsync: bool = True, prefix: str = TMP_PREFIX, suffix: str = "") -> None:
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


def remove_stale_temp_files(folder: str, older_than_s: float = STALE_TMP_AGE_S, depth: int = 1) -> int:
    """Remove the temporary files of :func:`write_atomic` left in *folder* (and its sub-folders
    down to *depth*) by a killed writer; return how many were removed.

    Only regular files named ``.tmp-*`` whose last change is more than *older_than_s* ago: a
    live writer's file is younger (it is written, fsynced and renamed in one go). Symbolic
    links are neither removed nor followed, so nothing outside *folder* is ever touched.
    """
    cutoff = time.time() - older_than_s
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if depth > 0:
                    removed += remove_stale_temp_files(entry.path, older_than_s, depth - 1)
                continue
            if not entry.name.startswith(TMP_PREFIX) or not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            os.unlink(entry.path)
            removed += 1
        except OSError:  # gone meanwhile, or not ours to remove: leave it
            continue
    return removed


def try_lock(fd: int) -> bool:
    """Take an exclusive ``flock`` on *fd* without waiting; False when another process holds
    it. The kernel drops the lock when its holder dies, even by kill -9, so a free lock on a
    work folder means nobody is working there. Where there is no ``flock`` (Windows): True."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def remove_abandoned_dirs(parent: str, prefixes: tuple[str, ...]) -> list[str]:
    """Remove the work folders in *parent* whose names start with one of *prefixes* and whose
    ``flock`` (see :func:`try_lock`) is free: their writer was killed. Returns their paths.
    A folder whose writer is alive (lock held), and anything not a real folder, is left alone."""
    removed: list[str] = []
    try:
        names = sorted(n for n in os.listdir(parent) if n.startswith(prefixes))
    except OSError:
        return removed
    for name in names:
        path = os.path.join(parent, name)
        if os.path.islink(path) or not os.path.isdir(path):
            continue
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            continue
        try:
            if try_lock(fd):
                shutil.rmtree(path, ignore_errors=True)
                if not os.path.exists(path):
                    removed.append(path)
        finally:
            os.close(fd)
    return removed
