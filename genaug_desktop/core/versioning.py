"""Versioned JSON files (policies, rule sets): check ``schema_version`` and chain migrators."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Migrator = Callable[[dict[str, Any]], dict[str, Any]]


def migrate_to_current(
    data: dict[str, Any], current: int, migrations: Mapping[int, Migrator], error: Callable[[str, str], Exception],
    what: str,
) -> dict[str, Any]:
    """Bring *data* from its ``schema_version`` up to *current*, one migrator at a time.

    A missing, newer or unknown version raises ``error("$.schema_version", message)``; *what*
    names the kind of file in the message ("policy", "rule-set").
    """
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise error("$.schema_version", f"must be a whole number (this version writes {current})")
    if version > current:
        raise error(
            "$.schema_version",
            f"{what} schema {version} is newer than this genaug-desktop understands ({current}); please upgrade",
        )
    if version < 1:
        raise error("$.schema_version", f"unknown {what} schema {version}")
    while version < current:
        data = migrations[version](data)
        version += 1
        data["schema_version"] = version
    return data
