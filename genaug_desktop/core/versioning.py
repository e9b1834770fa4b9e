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
    other = other_file_kind(data, what)
    if other is not None:
        raise error("$", other)
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


#: kind of file -> (the top-level keys only that kind has, how to check such a file)
_KINDS: dict[str, tuple[frozenset[str], str]] = {
    "policy": (frozenset({"steps", "preprocess"}), "check it with 'genaug policy validate FILE'"),
    "rule-set": (frozenset({"rules"}), "import it with 'genaug rules PROJECT import FILE'"),
}


def other_file_kind(data: Mapping[str, Any], what: str) -> str | None:
    """When *data* (read as a *what* file) is plainly another kind of genaug file, say so.

    Policies and rule sets both carry ``schema_version``, so without this check a policy given
    where a rule set belongs is refused for its version number ("schema 2 is newer..."), which
    sends the user to upgrade instead of to the right command.
    """
    own = _KINDS.get(what, (frozenset(), ""))[0]
    if own & data.keys():
        return None
    for kind, (keys, how) in _KINDS.items():
        if kind != what and keys & data.keys():
            article = "an" if what[0] in "aeiou" else "a"
            shown = "rule set" if kind == "rule-set" else kind
            wanted = "rule set" if what == "rule-set" else what
            return f"this is a {shown} file, not {article} {wanted} ({how})"
    return None
