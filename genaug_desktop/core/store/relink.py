"""Point a project at its dataset's new place (the dataset folder or file was moved or copied).

The project refers to its dataset by path and content hash; when the dataset moves, every source
file is "missing". :func:`relink_job` checks the files at the new place against the hashes the
project holds (images: the file's SHA-256; text: every line's or row's text hash, re-read with the
project's reading options), reports how many match, are missing or changed, refuses a place where
nothing matches, and otherwise stores the new place in one transaction. The dataset is only read.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

from genaug_desktop.core.datasets.model import Item, is_utf8, printable_path
from genaug_desktop.core.jobs import CancelToken, Job, Progress, Throttle
from genaug_desktop.core.store.project import Project, ProjectError, now_iso


@dataclass(slots=True)
class RelinkReport:
    """What was found at the new place, file by file (relative paths as the project stores them)."""

    dataset_root: str
    dataset_file: str | None
    matched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    applied: bool = False
    unchanged_location: bool = False

    @property
    def checked(self) -> int:
        return len(self.matched) + len(self.missing) + len(self.changed)

    @property
    def dataset_path(self) -> str:
        return os.path.join(self.dataset_root, self.dataset_file) if self.dataset_file else self.dataset_root

    def counts(self) -> str:
        return (
            f"{len(self.matched):,} of {self.checked:,} source files match, "
            f"{len(self.missing):,} missing, {len(self.changed):,} changed"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "dataset": self.dataset_path, "matched": len(self.matched), "missing": self.missing,
            "changed": self.changed, "checked": self.checked, "applied": self.applied,
        }


def _new_location(project: Project, new_path: str) -> tuple[str, str | None]:
    """(dataset root, single file name or None) for *new_path*; ProjectError when it cannot be."""
    shown = printable_path(new_path)
    if not is_utf8(new_path):
        raise ProjectError(f"the path is not valid UTF-8 ({shown}); a project keeps it as text: rename it")
    try:
        st = os.stat(new_path)
    except FileNotFoundError:
        raise ProjectError(f"{shown}: no such file or folder") from None
    except OSError as exc:
        raise ProjectError(f"{shown}: {exc.strerror or exc}") from None
    old_file = project.get_meta("dataset_file")
    if old_file is None:
        if not stat.S_ISDIR(st.st_mode):
            raise ProjectError(f"{shown} is not a folder; this project's dataset is a folder ({project.dataset_root})")
        root, name = new_path, None
    elif stat.S_ISDIR(st.st_mode):
        root, name = new_path, old_file  # the folder that now holds the file
        if not os.path.isfile(os.path.join(root, name)):
            raise ProjectError(f"{shown} holds no file named {old_file}, this project's dataset; give the file itself")
    else:
        root, name = os.path.dirname(new_path), os.path.basename(new_path)
        if name != old_file:
            # Items are keyed by the file's name ("reviews.csv:12"): another name would orphan them.
            raise ProjectError(
                f"{shown}: this project's dataset is a file named {old_file}; rename the moved file back to that name"
            )
    real_root = os.path.realpath(root)
    real_project = os.path.realpath(project.path)
    if name is None and (real_project == real_root or real_project.startswith(real_root.rstrip(os.sep) + os.sep)):
        raise ProjectError(f"{project.path} is inside {shown}; a dataset folder must not hold its project")
    return root, name


def _file_sha256(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def _text_matches(project: Project, full: str, rel: str, expected: dict[str, str]) -> bool:
    """True when every stored line/row of *rel* reads back with the same text hash at *full*."""
    from genaug_desktop.core.datasets.text import read_text_file

    found: dict[str, str] = {}
    for entry in read_text_file(full, rel, None, project.scan_options):
        if isinstance(entry, Item) and entry.key in expected:
            found[entry.key] = entry.sha256
    return found == expected


def _stored_files(project: Project) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(relative path, [(item key, sha256)]) per source file, in path order."""
    rows = project.query("SELECT path, key, sha256 FROM items ORDER BY path, id")
    current: str | None = None
    group: list[tuple[str, str]] = []
    for path, key, sha in rows:
        if path != current:
            if current is not None:
                yield current, group
            current, group = path, []
        group.append((key, sha))
    if current is not None:
        yield current, group


def relink_job(
    project: Project, new_path: str, cancel: CancelToken | None = None, dry_run: bool = False,
) -> Job[RelinkReport]:
    """Check the dataset at *new_path* against *project* and, unless *dry_run*, point the project
    there. Raises :class:`ProjectError` (nothing changed) when *new_path* is unusable or when no
    source file matches; otherwise returns the report, files that are missing or changed included
    (they stay unusable, as before)."""
    cancel = cancel or CancelToken()
    new_path = os.path.abspath(os.path.expanduser(new_path))
    root, name = _new_location(project, new_path)
    report = RelinkReport(root, name)
    files = list(_stored_files(project))
    throttle = Throttle(0.1)
    yield Progress(0, len(files), f"Checking {len(files):,} source files")
    for n, (rel, stored) in enumerate(files, 1):
        cancel.raise_if_cancelled()
        full = os.path.join(root, *rel.split("/"))
        if not os.path.isfile(full):
            report.missing.append(rel)
        elif project.modality == "image":
            ok = _file_sha256(full) == stored[0][1]
            (report.matched if ok else report.changed).append(rel)
        else:
            ok = _text_matches(project, full, rel, dict(stored))
            (report.matched if ok else report.changed).append(rel)
        if throttle():
            yield Progress(n, len(files), f"Checked {n:,} of {len(files):,} source files")
    yield Progress(len(files), len(files), f"Checked {len(files):,} source files")
    if not report.matched:
        example = report.missing[0] if report.missing else report.changed[0] if report.changed else None
        why = f" (e.g. {example} is {'missing' if report.missing else 'different'})" if example else ""
        raise ProjectError(
            f"{printable_path(new_path)}: none of the project's {report.checked:,} source files is there with the "
            f"same content{why}; this is not the project's dataset; nothing was changed"
        )
    report.unchanged_location = (
        os.path.realpath(root) == os.path.realpath(project.dataset_root) and name == project.get_meta("dataset_file")
    )
    if not dry_run and not report.unchanged_location:
        values = {"dataset_root": root, "sources_checked_at": now_iso()}
        if name is not None:
            values["dataset_file"] = name
        if project.modality == "text":  # text files are then judged by mtime: keep what the check found
            values["changed_sources"] = json.dumps(report.changed)
        project.set_meta_values(values)
        report.applied = True
    return report


def relink(project: Project, new_path: str, dry_run: bool = False) -> RelinkReport:
    """Synchronous :func:`relink_job`."""
    from genaug_desktop.core.jobs import run_job

    return run_job(relink_job(project, new_path, dry_run=dry_run))
