"""Where an export may go, and how it appears there: all at once or not at all.

Files are written into a temporary sibling ``.DEST.tmp-XXXXXXXX`` (same file system, so the
final rename is atomic), made durable, then renamed into place. Replacing an earlier export
swaps the two folders in one ``renameat2(RENAME_EXCHANGE)`` where Linux offers it. A process
killed at any moment leaves DEST either complete or untouched; its temporary folder is removed
by the next export to DEST (a live export holds an ``flock`` on its folder, so it is spared).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import shutil
import sys
import tempfile

from genaug_desktop.core.atomic import remove_abandoned_dirs, try_lock
from genaug_desktop.core.export.files import fsync_dir, sync_tree
from genaug_desktop.core.export.options import ExportError

MANIFEST_NAME = "manifest.json"
MANIFEST_KIND = "genaug-export"
_TMP_TAG = ".tmp-"
_OLD_TAG = ".old-"


def _inside(path: str, root: str) -> bool:
    root = root.rstrip(os.sep) or os.sep
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


def is_export_dir(path: str) -> bool:
    """True when *path* holds a manifest written by this app (safe to replace with --overwrite)."""
    try:
        with open(os.path.join(path, MANIFEST_NAME), "rb") as fh:
            data = json.loads(fh.read(64 * 1024 * 1024))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("kind") == MANIFEST_KIND


def check_destination(dest: str, forbidden: list[tuple[str, str]], overwrite: bool) -> str:
    """The real path of *dest* if an export may be written there; else :class:`ExportError`.

    *forbidden* lists (path, what) pairs: the source dataset and the project. The export may
    not be inside them, and may not contain them (``--overwrite`` would delete them).
    """
    if not dest or not str(dest).strip():
        raise ExportError("choose a destination folder", "destination")
    real = os.path.realpath(os.path.abspath(os.path.expanduser(str(dest))))
    for path, what in forbidden:
        other = os.path.realpath(path)
        if _inside(real, other):
            raise ExportError(f"{dest} is inside the {what} ({path}); export somewhere else so it is never modified", "destination")
        if _inside(other, real):
            raise ExportError(f"{dest} contains the {what} ({path}); export somewhere else", "destination")
    if os.path.lexists(real) and not os.path.isdir(real):
        raise ExportError(f"{dest} exists and is not a folder", "destination")
    if os.path.isdir(real):
        try:
            entries = os.listdir(real)
        except OSError as exc:
            raise ExportError(f"cannot read {dest}: {exc.strerror or exc}", "destination") from None
        if entries:
            if not overwrite:
                raise ExportError(f"{dest} is not empty; choose an empty folder, or overwrite to replace an earlier export", "destination")
            if not is_export_dir(real):
                raise ExportError(
                    f"{dest} is not empty and is not an export made by genaug-desktop (no {MANIFEST_NAME}); "
                    "refusing to replace it: choose an empty or new folder", "destination",
                )
    parent = os.path.dirname(real)
    if real == parent:
        raise ExportError(f"{dest} is a file system root; choose a folder inside it", "destination")
    if os.path.ismount(real):
        # The export is built beside DEST and renamed into place: that cannot cross file systems.
        raise ExportError(f"{dest} is a mount point; export into a folder inside it", "destination")
    return real


def _rename_exchange(a: str, b: str) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), b)


class Staging:
    """The temporary sibling folder an export is written into, and its publication."""

    def __init__(self, dest: str, overwrite: bool) -> None:
        self.dest = dest
        self.overwrite = overwrite
        self.parent = os.path.dirname(dest)
        self.base = os.path.basename(dest)
        self.path: str | None = None
        self.cleaned: list[str] = []
        self.replaced = False
        self._lock_fd: int | None = None

    def open(self) -> str:
        os.makedirs(self.parent, exist_ok=True)
        self.cleaned = self.clean_stale()
        self.path = tempfile.mkdtemp(prefix=f".{self.base}{_TMP_TAG}", dir=self.parent)
        self._lock_fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try_lock(self._lock_fd)
        return self.path

    def clean_stale(self) -> list[str]:
        """Remove temporary folders left by killed exports to the same destination (a live
        export holds the lock on its folder, so it is spared)."""
        return remove_abandoned_dirs(self.parent, (f".{self.base}{_TMP_TAG}", f".{self.base}{_OLD_TAG}"))

    def publish(self, files: list[str]) -> None:
        """Make the staged files durable and put the folder in place of DEST."""
        assert self.path is not None
        sync_tree(self.path, files)
        dest, staged = self.dest, self.path
        if os.path.isdir(dest) and not os.path.islink(dest) and os.listdir(dest):
            if not self.overwrite or not is_export_dir(dest):
                raise ExportError(f"{dest} was filled by something else while exporting; nothing was changed", "destination")
            if _rename_exchange(staged, dest):
                old = staged
            else:
                old = tempfile.mkdtemp(prefix=f".{self.base}{_OLD_TAG}", dir=self.parent)
                os.rmdir(old)
                os.rename(dest, old)
                os.rename(staged, dest)
            self.path = None
            self.replaced = True
            fsync_dir(self.parent)
            shutil.rmtree(old, ignore_errors=True)
        else:
            try:
                os.rename(staged, dest)  # replaces an empty folder on POSIX
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    raise ExportError(f"{dest} was filled by something else while exporting; nothing was changed", "destination") from None
                if os.path.isdir(dest) and not os.listdir(dest):  # Windows cannot rename over a folder
                    os.rmdir(dest)
                    os.rename(staged, dest)
                else:
                    raise
            self.path = None
            fsync_dir(self.parent)
        self._unlock()

    def discard(self) -> None:
        """Remove the staging folder (after an error or a cancel); never raises.

        It is renamed away first: a Ray worker still running (after a cancel) opens files by
        their path in the staging folder and never creates folders, so once the folder has
        moved it cannot add anything to it, and the removal leaves nothing behind."""
        if self.path is not None:
            path = self.path
            try:
                moved = tempfile.mkdtemp(prefix=f".{self.base}{_OLD_TAG}", dir=self.parent)
                os.rmdir(moved)
                os.rename(path, moved)
                path = moved
            except OSError:
                pass
            shutil.rmtree(path, ignore_errors=True)
            self.path = None
        self._unlock()

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
