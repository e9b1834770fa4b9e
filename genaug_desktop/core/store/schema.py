"""Project database schema and its migrations.

Each migration takes a database at version N to N+1 inside one transaction (SQLite DDL is
transactional), so a kill during a migration leaves the old version intact. Old versions are
kept as golden files in tests/data and must keep opening.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

SCHEMA_VERSION = 2

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    modality TEXT NOT NULL,
    label TEXT,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    format TEXT,
    mode TEXT,
    line INTEGER,
    text TEXT
);
CREATE INDEX items_label ON items(label);
CREATE TABLE candidates (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL CHECK (origin IN ('augmentation', 'generator')),
    source_item INTEGER REFERENCES items(id),
    label TEXT,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
    reason TEXT,
    blob TEXT,
    text TEXT,
    provenance TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX candidates_status ON candidates(status);
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    candidate_id INTEGER NOT NULL REFERENCES candidates(id),
    status TEXT NOT NULL,
    previous TEXT NOT NULL,
    reason TEXT,
    at TEXT NOT NULL
);
CREATE TABLE rules (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('proposed', 'approved', 'disabled')),
    params TEXT NOT NULL DEFAULT '{}',
    explanation TEXT NOT NULL DEFAULT ''
);
"""


def _v1_to_v2(db: sqlite3.Connection) -> None:
    """v2: who decided (person or rule) and the rule's verdict on candidates; self-training
    rounds; scan problems, background jobs and the policies that made candidates are kept;
    rules: which approved rule set last checked a candidate (``rules_checked``), the rule and
    measured value in the decision log, an order and edit time for rules, and perceptual
    hashes of images by content (so near-duplicate checks decode each image once)."""
    db.executescript(
        """
        ALTER TABLE candidates ADD COLUMN round INTEGER;
        ALTER TABLE candidates ADD COLUMN rule_id TEXT;
        ALTER TABLE candidates ADD COLUMN measured REAL;
        ALTER TABLE candidates ADD COLUMN decided_by TEXT;
        ALTER TABLE candidates ADD COLUMN decided_at TEXT;
        CREATE INDEX candidates_origin ON candidates(origin);
        CREATE INDEX candidates_source ON candidates(source_item);
        ALTER TABLE decisions ADD COLUMN decided_by TEXT NOT NULL DEFAULT 'person';
        CREATE TABLE problems (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            line INTEGER,
            reason TEXT NOT NULL
        );
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('running', 'finished', 'cancelled', 'failed')),
            params TEXT NOT NULL DEFAULT '{}',
            message TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE TABLE policies (
            sha256 TEXT PRIMARY KEY,
            json TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        ALTER TABLE candidates ADD COLUMN rules_checked TEXT;
        ALTER TABLE decisions ADD COLUMN rule_id TEXT;
        ALTER TABLE decisions ADD COLUMN measured REAL;
        ALTER TABLE rules ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE rules ADD COLUMN updated_at TEXT;
        CREATE INDEX candidates_rule ON candidates(rule_id);
        CREATE TABLE image_hashes (
            sha256 TEXT NOT NULL,
            algo TEXT NOT NULL,
            hash INTEGER NOT NULL,
            PRIMARY KEY (sha256, algo)
        ) WITHOUT ROWID;
        CREATE TABLE checkpoints (
            sha256 TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            generator TEXT NOT NULL,
            round INTEGER,
            state TEXT NOT NULL CHECK (state IN ('finished', 'partial', 'external')),
            seed INTEGER,
            params TEXT NOT NULL DEFAULT '{}',
            metrics TEXT NOT NULL DEFAULT '{}',
            data TEXT NOT NULL DEFAULT '{}',
            parent TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX checkpoints_generator ON checkpoints(generator, created_at);
        CREATE TABLE IF NOT EXISTS evaluations (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            params TEXT NOT NULL,
            candidate_ids TEXT NOT NULL,
            result TEXT NOT NULL
        );
        """
    )


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2}


def create_v1(db: sqlite3.Connection) -> None:
    db.executescript(_V1)
    db.execute("INSERT INTO meta(key, value) VALUES ('schema_version', '1')")


def create_latest(db: sqlite3.Connection) -> None:
    """A new project is built by replaying every migration, so new and migrated ones match."""
    with db:
        create_v1(db)
    migrate(db, 1)


def schema_version(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0])


def migrate(db: sqlite3.Connection, current: int) -> int:
    while current < SCHEMA_VERSION:
        db.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the write lock: another program may have opened (and so
            # upgraded) the same project while this one waited for the lock.
            current = schema_version(db)
            if current >= SCHEMA_VERSION:
                db.execute("COMMIT")
                break
            step = MIGRATIONS[current]
            _run_step(db, step)
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(current + 1),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        current += 1
    return current


def _run_step(db: sqlite3.Connection, step: Callable[[sqlite3.Connection], None]) -> None:
    # executescript() would COMMIT first; run statement by statement inside our transaction.
    class _Tx:
        def __init__(self, inner: sqlite3.Connection) -> None:
            self.inner = inner

        def executescript(self, script: str) -> None:
            for statement in _split_sql(script):
                self.inner.execute(statement)

        def execute(self, *args: object) -> sqlite3.Cursor:
            return self.inner.execute(*args)  # type: ignore[arg-type]

    step(_Tx(db))  # type: ignore[arg-type]


def _split_sql(script: str) -> list[str]:
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
