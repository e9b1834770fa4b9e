"""The project: a ``NAME.genaug/`` folder with ``project.sqlite`` (WAL), ``blobs/`` and
``checkpoints/``. The source dataset is referenced by path and content hash, never copied
or modified.

Every decision-type write is its own committed transaction before the call returns, so a
decision that was acknowledged survives a kill -9.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import logging
import os
import re
import secrets
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from genaug_desktop import __version__
from genaug_desktop.core.atomic import remove_abandoned_dirs, remove_stale_temp_files, try_lock
from genaug_desktop.core.datasets.model import DatasetError, Item, Problem, ScanOptions, is_utf8, printable_path
from genaug_desktop.core.jobs import CancelToken, Job, Progress, Throttle
from genaug_desktop.core.store import schema

PROJECT_SUFFIX = ".genaug"
DB_NAME = "project.sqlite"
STATUSES = ("pending", "accepted", "rejected")
ORIGINS = ("augmentation", "generator")

#: a project is built in a hidden sibling ``.NAME.genaug.creating-XXXXXXXX`` and renamed into place
_CREATING_TAG = ".creating-"
_STAGING_NAME = re.compile(r"\..+\.creating-[0-9a-f]{8}\Z")

log = logging.getLogger(__name__)

_ITEM_COLUMNS = "key, path, modality, label, sha256, size, width, height, format, mode, line, text"


class ProjectError(Exception):
    """The project cannot be created, opened or written; the message says why, for a person."""


#: how long a write waits for another program's write to finish before giving up
BUSY_TIMEOUT_S = 60.0
_SQLITE_MAX_INT = 2**63 - 1


def _store_error(exc: sqlite3.Error, db_path: str) -> ProjectError | None:
    """A person's message for the SQLite errors that are about the machine, not a bug."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return ProjectError(
            f"{db_path}: the project stayed busy in another program for {BUSY_TIMEOUT_S:g} s; "
            "nothing of this step was saved; try again when the other work is done"
        )
    if "disk is full" in text or "disk full" in text:
        return ProjectError(
            f"{db_path}: the disk holding the project is full; nothing of this step was saved "
            "(everything saved before is kept); free some space and try again"
        )
    if "malformed" in text or "not a database" in text or "disk i/o error" in text:
        return ProjectError(f"{db_path} is damaged or cannot be written: {exc}")
    if "readonly" in text or "read-only" in text:
        return ProjectError(f"{db_path} is read-only; nothing was saved")
    return None


def now_iso() -> str:
    """The current UTC time as the project stores it."""
    return _now()


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def is_project_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, DB_NAME))


def _connect(db_path: str) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves so that nothing sits uncommitted.
    db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
    db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")  # before the first lock is taken
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")  # a committed decision is on disk, even on power loss
    db.execute("PRAGMA foreign_keys=ON")
    return db


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    origin: str
    source_item: str | None
    label: str | None
    status: str
    reason: str | None
    blob: str | None
    text: str | None
    provenance: dict[str, Any]
    round: int | None
    rule_id: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "origin": self.origin, "source": self.source_item, "label": self.label,
            "status": self.status, "reason": self.reason, "rule": self.rule_id, "round": self.round,
        }


@dataclass(frozen=True, slots=True)
class SourceCheck:
    """What changed in the source dataset since the project was made."""

    changed: list[str]
    missing: list[str]
    checked: int

    @property
    def ok(self) -> bool:
        return not self.changed and not self.missing

    def summary(self) -> str:
        if self.ok:
            return f"All {self.checked:,} source files are unchanged."
        parts = []
        if self.missing:
            n = len(self.missing)
            parts.append(f"{n:,} source {'file is' if n == 1 else 'files are'} missing (e.g. {self.missing[0]})")
        if self.changed:
            n = len(self.changed)
            parts.append(
                f"{n:,} source {'file' if n == 1 else 'files'} changed since the project was made (e.g. {self.changed[0]})"
            )
        return "; ".join(parts) + "."


class Project:
    """An open project. Thread-safe: one connection guarded by a lock (SQLite is the single writer)."""

    def __init__(self, path: str, db: sqlite3.Connection) -> None:
        self.path = path
        self._db = db
        self._lock = threading.RLock()
        self._meta = dict(db.execute("SELECT key, value FROM meta").fetchall())

    # ---- lifecycle -------------------------------------------------------------------------
    @classmethod
    def create(
        cls, path: str, dataset_root: str, modality: str, options: ScanOptions | None = None,
        dataset_file: str | None = None,
    ) -> Project:
        """Create an empty project at *path* (which must not exist or be an empty folder).

        *dataset_file* names the single text file inside *dataset_root* when the dataset is
        one file; a project may then sit beside it, but never inside a dataset folder. The
        project is built beside *path* and renamed into place, so *path* never holds half a
        project (see :func:`_creating`).
        """
        with _creating(path, dataset_root, modality, options, dataset_file):
            pass
        return cls.open(path)

    @classmethod
    def _build(
        cls, path: str, dataset_root: str, modality: str, options: ScanOptions | None, dataset_file: str | None,
    ) -> Project:
        """The empty project's folders, schema and meta at *path* (the hidden staging folder)."""
        try:
            os.makedirs(os.path.join(path, "blobs"), exist_ok=True)
            os.makedirs(os.path.join(path, "checkpoints"), exist_ok=True)
            db = _connect(os.path.join(path, DB_NAME))
        except OSError as exc:
            raise ProjectError(f"cannot create project at {path}: {exc.strerror or exc}") from None
        schema.create_latest(db)
        meta = {
            "dataset_root": dataset_root,
            "modality": modality,
            "scan_options": json.dumps((options or ScanOptions()).to_json()),
            "created_at": _now(),
            "created_by": f"genaug-desktop {__version__}",
        }
        if dataset_file is not None:
            meta["dataset_file"] = dataset_file
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(meta.items()))
        db.execute("COMMIT")
        return cls(path, db)

    @classmethod
    def open(cls, path: str) -> Project:
        path = os.path.abspath(path)
        db_path = os.path.join(path, DB_NAME)
        if _STAGING_NAME.match(os.path.basename(path)):  # a creation's work folder (killed, or live)
            raise ProjectError(_unfinished_message(path))
        if not os.path.isfile(db_path):
            raise ProjectError(f"{path} is not a genaug project (no {DB_NAME})")
        try:
            db = _connect(db_path)
            unfinished = _is_unfinished(db)
            version = -1 if unfinished else schema.schema_version(db)
        except sqlite3.DatabaseError as exc:
            raise _store_error(exc, db_path) or ProjectError(
                f"{db_path} is damaged or not a project database: {exc}"
            ) from None
        except (TypeError, ValueError):  # no or a non-numeric schema_version in meta
            raise ProjectError(f"{db_path} is damaged or not a project database: no schema version") from None
        if unfinished:
            db.close()
            raise ProjectError(_unfinished_message(path))
        if version > schema.SCHEMA_VERSION:
            db.close()
            raise ProjectError(
                f"{path} was made by a newer genaug-desktop (project schema {version}; "
                f"this version reads up to {schema.SCHEMA_VERSION}); please upgrade"
            )
        if version < schema.SCHEMA_VERSION:
            try:
                schema.migrate(db, version)
            except sqlite3.Error as exc:
                db.close()
                raise _store_error(exc, db_path) or ProjectError(f"{db_path}: the upgrade failed: {exc}") from None
        # This program is now the project's writer; a write killed earlier may have left its
        # temporary file behind (only files untouched for minutes: another writer may be live).
        removed = remove_stale_temp_files(os.path.join(path, "blobs")) + remove_stale_temp_files(
            os.path.join(path, "checkpoints")
        )
        if removed:
            log.info("%s: removed %d temporary file(s) left by an interrupted write", path, removed)
        return cls(path, db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- low-level access for feature modules (rules, export, generators) -------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One committed transaction (BEGIN IMMEDIATE ... COMMIT), or rolled back on error.

        BEGIN IMMEDIATE takes the write lock first, so a write waits (up to
        :data:`BUSY_TIMEOUT_S`) for another thread's or program's write instead of failing
        half-way; a lock held longer, or a full disk, is a :class:`ProjectError` saying so, and
        nothing of the transaction is kept.
        """
        db_path = os.path.join(self.path, DB_NAME)
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise _store_error(exc, db_path) or exc from None
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    friendly = _store_error(exc, db_path)
                    if friendly is not None:
                        raise friendly from None
                raise

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read rows (never use this to write: use :meth:`transaction`)."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        return self._meta.get(key, default)

    # ---- metadata ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        base = os.path.basename(self.path.rstrip(os.sep))
        return base[: -len(PROJECT_SUFFIX)] if base.endswith(PROJECT_SUFFIX) else base

    @property
    def dataset_root(self) -> str:
        return self._meta["dataset_root"]

    @property
    def dataset_path(self) -> str:
        """What the user opened: the dataset folder, or the single text file."""
        name = self._meta.get("dataset_file")
        return os.path.join(self.dataset_root, name) if name else self.dataset_root

    @property
    def modality(self) -> str:
        return self._meta["modality"]

    @property
    def scan_options(self) -> ScanOptions:
        return ScanOptions.from_json(json.loads(self._meta.get("scan_options", "{}")))

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema.schema_version(self._db)

    @property
    def blobs_dir(self) -> str:
        return os.path.join(self.path, "blobs")

    def set_meta(self, key: str, value: str) -> None:
        self.set_meta_values({key: value})

    def set_meta_values(self, values: dict[str, str]) -> None:
        """Store several meta values in one transaction (all or none)."""
        with self.transaction():
            self._db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(values.items()))
        self._meta.update(values)

    # ---- items -------------------------------------------------------------------------------
    def add_items(self, items: Iterable[Item]) -> int:
        rows = [
            (i.key, i.path, i.modality, i.label, i.sha256, i.size, i.width, i.height, i.format, i.mode, i.line, i.text)
            for i in items
        ]
        # One transaction: a row-per-commit insert costs an fsync per item (minutes for 100k).
        with self.transaction():
            self._db.executemany(f"INSERT OR REPLACE INTO items({_ITEM_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        return len(rows)

    def add_problems(self, problems: Iterable[Problem]) -> None:
        with self.transaction():
            self._db.executemany(
                "INSERT INTO problems(path, line, reason) VALUES (?, ?, ?)",
                [(p.path, p.line, p.reason) for p in problems],
            )

    def item_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    def iter_items(self, batch: int = 5000) -> Iterator[Item]:
        last = 0
        while True:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT id, {_ITEM_COLUMNS} FROM items WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield Item(*row[1:])
            last = rows[-1][0]

    def items(self) -> list[Item]:
        return list(self.iter_items())

    def item(self, key: str) -> Item | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE key = ?", (key,)).fetchone()
        return Item(*row) if row else None

    def class_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT label, COUNT(*) FROM items WHERE label IS NOT NULL GROUP BY label ORDER BY label"
            ).fetchall()
        return {label: n for label, n in rows}

    def problems(self) -> list[Problem]:
        with self._lock:
            rows = self._db.execute("SELECT path, reason, line FROM problems ORDER BY id").fetchall()
        return [Problem(*r) for r in rows]

    def source_path(self, item: Item) -> str:
        return os.path.join(self.dataset_root, *item.path.split("/"))

    # ---- candidates and decisions ----------------------------------------------------------------
    def add_candidates(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert candidates (dicts with origin, source (item key or None), label, blob or text,
        provenance, round); returns their ids. One transaction for the whole batch."""
        ids: list[int] = []
        now = _now()
        with self.transaction():
            for row in rows:
                origin = row["origin"]
                if origin not in ORIGINS:
                    raise ValueError(f"unknown origin {origin!r}")
                source_id = None
                if row.get("source") is not None:
                    found = self._db.execute("SELECT id FROM items WHERE key = ?", (row["source"],)).fetchone()
                    if found is None:
                        raise ValueError(f"no item {row['source']!r} in the project")
                    source_id = found[0]
                cur = self._db.execute(
                    "INSERT INTO candidates(origin, source_item, label, blob, text, provenance, round, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (origin, source_id, row.get("label"), row.get("blob"), row.get("text"),
                     json.dumps(row.get("provenance", {}), sort_keys=True), row.get("round"), now),
                )
                ids.append(int(cur.lastrowid or 0))
        return ids

    def candidates(
        self, status: str | None = None, origin: str | None = None, limit: int | None = None
    ) -> list[Candidate]:
        where, args = [], []
        if status is not None:
            if status not in STATUSES:
                raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
            where.append("c.status = ?")
            args.append(status)
        if origin is not None:
            if origin not in ORIGINS:
                raise ValueError(f"unknown origin {origin!r}; use one of {', '.join(ORIGINS)}")
            where.append("c.origin = ?")
            args.append(origin)
        sql = (
            "SELECT c.id, c.origin, i.key, c.label, c.status, c.reason, c.blob, c.text, c.provenance, c.round, c.rule_id"
            " FROM candidates c LEFT JOIN items i ON i.id = c.source_item"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY c.id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [
            Candidate(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8]), r[9], r[10]) for r in rows
        ]

    def decide(self, ids: Sequence[int], status: str, reason: str | None = None, decided_by: str | None = "person") -> int:
        """Set the status of candidates and log each change; committed before returning.

        ``decided_by=None`` undoes a person's first decision: the candidate is undecided again
        (the filter may check it), and the log says a person did it. Returns how many candidates
        changed. Unknown ids raise ``KeyError`` and change nothing.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        now = _now()
        changed = 0
        with self.transaction():
            for cid in ids:
                if not 0 < int(cid) <= _SQLITE_MAX_INT:  # SQLite cannot even look such an id up
                    raise KeyError(cid)
                row = self._db.execute("SELECT status FROM candidates WHERE id = ?", (int(cid),)).fetchone()
                if row is None:
                    raise KeyError(cid)
                previous = row[0]
                self._db.execute(
                    "UPDATE candidates SET status = ?, reason = ?, decided_by = ?, decided_at = ?,"
                    " rule_id = CASE WHEN ? = 'rule' THEN rule_id ELSE NULL END WHERE id = ?",
                    (status, reason, decided_by, now, decided_by, int(cid)),
                )
                self._db.execute(
                    "INSERT INTO decisions(candidate_id, status, previous, reason, at, decided_by)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (int(cid), status, previous, reason, now, decided_by or "person"),
                )
                changed += previous != status
        return changed

    def status(self) -> dict[str, Any]:
        """Counts for ``genaug status``: by status, origin, class, rule and round."""
        with self._lock:
            q = self._db.execute
            items = int(q("SELECT COUNT(*) FROM items").fetchone()[0])
            candidates = int(q("SELECT COUNT(*) FROM candidates").fetchone()[0])
            by_status = {s: 0 for s in STATUSES}
            by_status.update(dict(q("SELECT status, COUNT(*) FROM candidates GROUP BY status").fetchall()))
            by_origin = {o: 0 for o in ORIGINS}
            by_origin.update(dict(q("SELECT origin, COUNT(*) FROM candidates GROUP BY origin").fetchall()))
            by_rule = dict(
                q("SELECT rule_id, COUNT(*) FROM candidates WHERE rule_id IS NOT NULL GROUP BY rule_id").fetchall()
            )
            by_round = {
                str(r): n for r, n in q("SELECT round, COUNT(*) FROM candidates WHERE round IS NOT NULL GROUP BY round")
            }
            by_class = dict(
                q("SELECT COALESCE(label, ''), COUNT(*) FROM candidates GROUP BY label ORDER BY label").fetchall()
            )
            by_class_status: dict[str, dict[str, int]] = {}
            for label, st, n in q("SELECT COALESCE(label, ''), status, COUNT(*) FROM candidates GROUP BY 1, 2 ORDER BY 1"):
                by_class_status.setdefault(label, {s: 0 for s in STATUSES})[st] = n
            unlabeled = int(q("SELECT COUNT(*) FROM items WHERE label IS NULL").fetchone()[0])
            problems = int(q("SELECT COUNT(*) FROM problems").fetchone()[0])
        return {
            "by_class_status": by_class_status, "unlabeled": unlabeled,
            "items": items, "candidates": candidates, "by_status": by_status, "by_origin": by_origin,
            "by_rule": by_rule, "by_round": by_round, "by_class": by_class,
            "classes": self.class_counts(), "problems": problems,
            "dataset": self.dataset_path, "dataset_root": self.dataset_root, "modality": self.modality,
        }

    def existing_variants(self, policy_sha: str, base_seed: int) -> dict[str, set[int]]:
        """Variants already made by this policy and seed, by source item key (for re-runs)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT i.key, json_extract(c.provenance, '$.variant') FROM candidates c"
                " JOIN items i ON i.id = c.source_item"
                " WHERE c.origin = 'augmentation' AND json_extract(c.provenance, '$.policy_sha256') = ?"
                " AND json_extract(c.provenance, '$.base_seed') = ?",
                (policy_sha, int(base_seed)),
            ).fetchall()
        out: dict[str, set[int]] = {}
        for key, variant in rows:
            if variant is not None:
                out.setdefault(key, set()).add(int(variant))
        return out

    def record_policy(self, sha256: str, policy_json: dict[str, Any]) -> None:
        """Keep every policy that made candidates, so exports can cite it exactly."""
        with self.transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO policies(sha256, json, created_at) VALUES (?, ?, ?)",
                (sha256, json.dumps(policy_json, sort_keys=True), _now()),
            )

    def policy_json(self, sha256: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT json FROM policies WHERE sha256 = ?", (sha256,)).fetchone()
        return json.loads(row[0]) if row else None

    def blob_file(self, sha256: str, ext: str = ".png") -> str:
        from genaug_desktop.core.store.blobs import blob_path

        return blob_path(self.blobs_dir, sha256, ext)

    # ---- source checks ---------------------------------------------------------------------------
    def check_sources_job(self, cancel: CancelToken | None = None, rehash: bool = False) -> Job[SourceCheck]:
        """Find source files that vanished or changed.

        Cheap by default (existence and size); ``rehash`` re-hashes every file to catch edits
        that keep the size.
        """
        import hashlib

        cancel = cancel or CancelToken()
        with self._lock:
            rows = self._db.execute(
                "SELECT path, MIN(sha256), SUM(size), COUNT(*), MIN(modality) FROM items GROUP BY path ORDER BY path"
            ).fetchall()
        changed: list[str] = []
        missing: list[str] = []
        throttle = Throttle(0.1)
        for n, (rel, sha, size, count, modality) in enumerate(rows, 1):
            if n % 256 == 0:
                cancel.raise_if_cancelled()
            full = os.path.join(self.dataset_root, *rel.split("/"))
            try:
                st = os.stat(full)
            except OSError:
                missing.append(rel)
                continue
            if modality == "image":
                if st.st_size != size:
                    changed.append(rel)
                elif rehash:
                    with open(full, "rb") as fh:
                        if hashlib.file_digest(fh, "sha256").hexdigest() != sha:
                            changed.append(rel)
            if throttle():
                yield Progress(n, len(rows), f"Checked {n:,} of {len(rows):,} source files")
        if self.modality == "text":
            changed.extend(self._changed_text_files(rows, missing))
        return SourceCheck(changed, missing, len(rows))

    def _changed_text_files(self, rows: list[tuple[Any, ...]], missing: list[str]) -> list[str]:
        """A text file changed when its mtime is newer than the project, or than the last check of
        its content (a relink; a copied dataset has new mtimes), or when that check found it
        changed (cheap, no re-read)."""
        stamps = [self._meta.get(k) for k in ("created_at", "sources_checked_at")]
        times = [_dt.datetime.fromisoformat(t).timestamp() for t in stamps if t]
        if not times:
            return []
        t0 = max(times)
        known_changed = set(json.loads(self._meta.get("changed_sources") or "[]"))
        out = []
        for rel, *_ in rows:
            if rel in missing:
                continue
            full = os.path.join(self.dataset_root, *rel.split("/"))
            try:
                if rel in known_changed or os.stat(full).st_mtime > t0 + 1:
                    out.append(rel)
            except OSError:
                pass
        return out

    def check_sources(self, rehash: bool = False) -> SourceCheck:
        from genaug_desktop.core.jobs import run_job

        return run_job(self.check_sources_job(rehash=rehash))

    def integrity_check(self) -> str:
        with self._lock:
            return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


def _unfinished_message(path: str) -> str:
    return (
        f"{path} is an unfinished project: making it was interrupted, so it holds no work; "
        "delete that folder and create the project again (genaug init PROJECT DATASET)"
    )


def _is_unfinished(db: sqlite3.Connection) -> bool:
    """True for the database of a project whose creation was cut short: no tables yet, or a
    meta table without the dataset (earlier versions built the project in place)."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "meta" not in tables:
        return not tables
    return db.execute("SELECT 1 FROM meta WHERE key = 'dataset_root'").fetchone() is None


def _check_target(path: str, dataset_root: str, dataset_file: str | None) -> None:
    """Refuse a project folder that holds anything, or that sits inside the dataset folder, and
    a dataset whose path the project cannot keep (it stores paths as UTF-8 text)."""
    if not is_utf8(dataset_root):
        raise ProjectError(
            f"the dataset's path is not valid UTF-8 ({printable_path(dataset_root)}); a project keeps it as "
            "text: rename that folder, or reach it through a symbolic link whose name is valid UTF-8"
        )
    if not is_utf8(path):
        raise ProjectError(f"the project path is not valid UTF-8 ({printable_path(path)}); choose another name")
    if os.path.lexists(path) and not os.path.isdir(path):
        raise ProjectError(f"{path} already exists and is not a folder; choose a new project folder")
    try:
        filled = os.path.isdir(path) and bool(os.listdir(path))
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc.strerror or exc}") from None
    if filled:
        if is_project_dir(path):
            with contextlib.closing(sqlite3.connect(os.path.join(path, DB_NAME))) as db:
                with contextlib.suppress(sqlite3.DatabaseError):
                    if _is_unfinished(db):
                        raise ProjectError(_unfinished_message(path))
        raise ProjectError(f"{path} already exists and is not empty; choose a new project folder")
    real_root = os.path.realpath(dataset_root)
    real_path = os.path.realpath(path)
    inside = real_path == real_root or real_path.startswith(real_root.rstrip(os.sep) + os.sep)
    if inside and dataset_file is None:
        raise ProjectError(
            f"{path} is inside the dataset folder; put the project elsewhere so the dataset is never modified"
        )


def _remove_unfinished_creations(parent: str, base: str) -> None:
    """Remove the staging folders of creations of *base* that were killed (their lock is free)."""
    removed = remove_abandoned_dirs(parent, (f".{base}{_CREATING_TAG}",))
    if removed:
        log.info("removed %d unfinished creation(s) of %s left by interrupted runs", len(removed), os.path.join(parent, base))


@contextlib.contextmanager
def _creating(
    path: str, dataset_root: str, modality: str, options: ScanOptions | None, dataset_file: str | None,
) -> Iterator[Project]:
    """Build a project for *path* in a hidden, locked sibling folder and rename it into place
    when the block ends; an error, a cancel or a kill -9 leaves *path* as it was (the next
    creation of *path* removes a killed one's folder). Yields the open project to fill."""
    path = os.path.abspath(path)
    dataset_root = os.path.abspath(dataset_root)
    _check_target(path, dataset_root, dataset_file)
    parent, base = os.path.split(path)
    try:
        os.makedirs(parent, exist_ok=True)
        _remove_unfinished_creations(parent, base)
        while True:
            staged = os.path.join(parent, f".{base}{_CREATING_TAG}{secrets.token_hex(4)}")
            try:
                os.mkdir(staged)  # (not mkdtemp: the project gets the usual permissions)
                break
            except FileExistsError:
                continue
    except OSError as exc:
        raise ProjectError(f"cannot create project at {path}: {exc.strerror or exc}") from None
    try:
        # The lock tells a concurrent creation of *path* that this folder is live, not a killed
        # one's (the kernel drops it at any death). Where folders cannot be opened (Windows), none.
        lock_fd = os.open(staged, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        lock_fd = None
    try:
        if lock_fd is not None:
            try_lock(lock_fd)
        # Closed before the rename: SQLite folds its WAL back into the database file.
        with Project._build(staged, dataset_root, modality, options, dataset_file) as project:
            yield project
        _publish(staged, path)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    finally:
        if lock_fd is not None:
            os.close(lock_fd)


def _publish(staged: str, path: str) -> None:
    try:
        os.rename(staged, path)  # replaces an empty folder on POSIX
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise ProjectError(f"cannot create project at {path}: {exc.strerror or exc}") from None
        try:
            if os.listdir(path):
                raise ProjectError(f"{path} was filled by something else while the project was made; nothing was changed")
            os.rmdir(path)  # Windows cannot rename over a folder
            os.rename(staged, path)
        except OSError as again:
            raise ProjectError(f"cannot create project at {path}: {again.strerror or again}") from None
    with contextlib.suppress(OSError):  # the rename itself durable (not possible on Windows)
        fd = os.open(os.path.dirname(path), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def init_project_job(
    project_path: str, dataset_root: str, options: ScanOptions | None = None, cancel: CancelToken | None = None
) -> Job[Project]:
    """Scan *dataset_root* and create a project holding its items and problems."""
    from genaug_desktop.core.datasets.scan import scan_job

    options = options or ScanOptions()
    if os.path.isfile(dataset_root):  # a taken project folder is refused before a long scan
        _check_target(os.path.abspath(project_path), os.path.dirname(os.path.abspath(dataset_root)), "file")
    else:
        _check_target(os.path.abspath(project_path), os.path.abspath(dataset_root), None)
    job = scan_job(dataset_root, options, cancel)
    while True:
        try:
            progress = next(job)
        except StopIteration as stop:
            result = stop.value
            break
        yield Progress(progress.done, progress.total, progress.message)
    unusable = result.unusable_reason(os.path.abspath(dataset_root))
    if unusable is not None:  # a project of nothing would only fail later, further from the cause
        raise DatasetError(unusable + "; no project was created")
    dataset_file = os.path.basename(dataset_root) if os.path.isfile(dataset_root) else None
    # Everything is saved in the hidden staging folder; the project appears whole or not at all.
    with _creating(project_path, result.root, result.modality, options, dataset_file) as project:
        yield Progress(0, len(result.items), "Saving items")
        for start in range(0, len(result.items), 20000):
            project.add_items(result.items[start : start + 20000])
            yield Progress(min(start + 20000, len(result.items)), len(result.items), "Saving items")
        project.add_problems(result.problems)
    return Project.open(project_path)

