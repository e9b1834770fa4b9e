"""Content-addressed blob storage: ``blobs/ab/abcdef....png``.

Writes are atomic (temporary file, fsync, rename), so a kill leaves either the whole blob or
nothing, and idempotent: the same bytes always land at the same path.
"""

from __future__ import annotations

import hashlib
import os

from genaug_desktop.core.atomic import write_atomic


def blob_path(blobs_dir: str, sha256: str, ext: str = ".png") -> str:
    return os.path.join(blobs_dir, sha256[:2], sha256 + ext)


def write_blob(blobs_dir: str, data: bytes, ext: str = ".png", fsync: bool = True) -> str:
    """Store *data* and return its SHA-256 (hex)."""
    sha = hashlib.sha256(data).hexdigest()
    path = blob_path(blobs_dir, sha, ext)
    if os.path.exists(path):
        return sha
    write_atomic(path, data, fsync=fsync)
    return sha


def read_blob(blobs_dir: str, sha256: str, ext: str = ".png") -> bytes:
    with open(blob_path(blobs_dir, sha256, ext), "rb") as fh:
        return fh.read()
