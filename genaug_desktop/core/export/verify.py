"""``genaug verify``: re-check every file an export's manifest lists (SHA-256 and size), and
report files that are missing, extra or changed, naming each."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from genaug_desktop.core.export.files import check_relpath
from genaug_desktop.core.export.manifest import ExportUnusable, ManifestDamaged, load_manifest
from genaug_desktop.core.export.publish import MANIFEST_NAME
from genaug_desktop.core.formatting import human_bytes
from genaug_desktop.core.jobs import CancelToken, Job, Progress, Throttle

_CHUNK = 1 << 20


@dataclass(slots=True)
class VerifyReport:
    """The outcome of a verification; ``ok`` when nothing is missing, extra or changed."""

    path: str
    checked: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, str]] = field(default_factory=list)  # (file, what differs)
    damaged_manifest: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.mismatched or self.damaged_manifest)

    def problems(self) -> list[str]:
        """One line per problem, naming the file."""
        out = []
        if self.damaged_manifest:
            out.append(f"damaged: {MANIFEST_NAME}: {self.damaged_manifest}")
        out += [f"mismatch: {rel}: {why}" for rel, why in self.mismatched]
        out += [f"missing: {rel}" for rel in self.missing]
        out += [f"extra: {rel}: not listed in the manifest" for rel in self.extra]
        return out

    def summary(self) -> str:
        if self.ok:
            return (f"{self.path}: all {self.checked:,} files listed in {MANIFEST_NAME} match "
                    f"({human_bytes(self.bytes)} checked)")
        n = len(self.problems())
        return f"{self.path}: {n:,} problem{'s' if n != 1 else ''} ({len(self.mismatched)} changed, {len(self.missing)} missing, {len(self.extra)} extra)"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path, "ok": self.ok, "checked": self.checked, "bytes": self.bytes,
            "missing": self.missing, "extra": self.extra,
            "mismatched": [{"file": rel, "reason": why} for rel, why in self.mismatched],
            "damaged_manifest": self.damaged_manifest,
        }


def _walk(root: str) -> list[str]:
    """Every entry below *root* that is not a folder (links are listed, never followed)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for d in list(dirnames):
            if os.path.islink(os.path.join(dirpath, d)):
                filenames.append(d)
                dirnames.remove(d)
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            out.append(rel.replace(os.sep, "/"))
    return sorted(out)


def _hash(path: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def verify_job(path: str, cancel: CancelToken | None = None) -> Job[VerifyReport]:
    """Check every file of the export at *path* against its manifest.

    Raises :class:`ExportUnusable` when *path* is not an export; a damaged manifest is
    reported (not raised) so that it fails verification like any other damaged file.
    """
    cancel = cancel or CancelToken()
    root = os.path.abspath(path)
    report = VerifyReport(path)
    try:
        manifest = load_manifest(root)
    except ExportUnusable:
        raise
    except ManifestDamaged as exc:
        report.damaged_manifest = str(exc)
        return report
    listed: dict[str, dict[str, Any]] = manifest["files"]
    present = set(_walk(root))
    total = sum(int(v["size"]) for v in listed.values())
    throttle = Throttle(0.1)
    done = 0
    for rel in sorted(listed):
        cancel.raise_if_cancelled()
        expected = listed[rel]
        try:
            check_relpath(rel)
        except ValueError:
            report.mismatched.append((rel, "unsafe path in the manifest (not checked)"))
            continue
        full = os.path.join(root, *rel.split("/"))
        if rel not in present or os.path.islink(full) or not os.path.isfile(full):
            report.missing.append(rel)
            continue
        try:
            sha, size = _hash(full)
        except OSError as exc:
            report.mismatched.append((rel, f"cannot read: {exc.strerror or exc}"))
            continue
        report.checked += 1
        report.bytes += size
        if size != expected["size"]:
            report.mismatched.append((rel, f"size {size:,} bytes, manifest says {expected['size']:,}"))
        elif sha != expected["sha256"]:
            report.mismatched.append((rel, "SHA-256 differs from the manifest (the content changed)"))
        done += size
        if throttle():
            yield Progress(done, total, f"Checked {report.checked:,} of {len(listed):,} files")
    report.extra = sorted(present - set(listed) - {MANIFEST_NAME})
    return report


def verify_export(path: str) -> VerifyReport:
    """Run :func:`verify_job` to completion."""
    from genaug_desktop.core.jobs import run_job

    return run_job(verify_job(path))
