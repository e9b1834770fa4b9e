"""Rule-set files: versioned JSON that moves rules between projects.

Format (schema_version 1)::

    {"schema_version": 1, "modality": "image" | "text", "name": "...",
     "rules": [{"id": ID, "kind": KIND, "state": "proposed" | "approved" | "disabled",
                "params": {...}, "explanation": "..."}, ...]}

``name`` and a rule's ``state`` and ``explanation`` are optional. Every error is a
:class:`RuleSetError` naming the JSON path of the bad field (``$.rules[2].params.range``).
Older versions are upgraded by the chain in :data:`MIGRATIONS` before validation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from genaug_desktop.core.rules.base import MODALITIES, RULE_STATES, Rule, RuleError, build_rule, check_rule_id

SCHEMA_VERSION = 1
MAX_RULES = 500
MAX_FILE_BYTES = 16 * 1024 * 1024
_TOP_KEYS = {"schema_version", "modality", "name", "rules"}
_RULE_KEYS = {"id", "kind", "state", "params", "explanation"}

#: schema_version N -> function turning a version-N dict into version N+1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class RuleSetError(RuleError):
    """A rule-set file is invalid; ``path`` is the JSON path of the bad field."""


@dataclass
class RuleSet:
    """An ordered list of rules for one modality."""

    modality: str
    rules: list[Rule] = field(default_factory=list)
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "modality": self.modality}
        if self.name:
            out["name"] = self.name
        out["rules"] = [r.to_json() for r in self.rules]
        return out

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n"

    def save(self, path: str) -> None:
        """Write atomically (temporary file + rename), so a crash never leaves half a file."""
        from genaug_desktop.core.atomic import write_atomic

        write_atomic(path, self.dumps().encode("utf-8"), prefix=".rules-", suffix=".json")

    @classmethod
    def from_json(cls, data: Any) -> RuleSet:
        return parse_rule_set(data)

    @classmethod
    def loads(cls, text: str) -> RuleSet:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise RuleSetError("$", f"is not valid JSON ({exc})") from None
        return parse_rule_set(data)

    @classmethod
    def load(cls, path: str) -> RuleSet:
        """Read a rule-set file; unreadable files are RuleSetError too, with the reason."""
        from genaug_desktop.core.atomic import read_regular_file

        try:
            raw = read_regular_file(path, MAX_FILE_BYTES)
        except OSError as exc:
            raise RuleSetError("$", f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RuleSetError("$", "the file is not UTF-8 text") from None
        return cls.loads(text)


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a rule-set dict up to :data:`SCHEMA_VERSION` (or refuse a newer or unknown one)."""
    from genaug_desktop.core.versioning import migrate_to_current

    return migrate_to_current(data, SCHEMA_VERSION, MIGRATIONS, RuleSetError, "rule-set")


def parse_rule(obj: Any, path: str, modality: str | None = None, default_state: str = "proposed") -> Rule:
    """One rule object (the DESIGN.md shape) into a validated :class:`Rule`."""
    if not isinstance(obj, Mapping):
        raise RuleSetError(path, "must be an object with 'id', 'kind' and 'params'")
    for key in obj:
        if key not in _RULE_KEYS:
            raise RuleSetError(f"{path}.{key}", f"unknown field (allowed: {', '.join(sorted(_RULE_KEYS))})")
    try:
        if "kind" not in obj:
            raise RuleSetError(f"{path}.kind", "is missing")
        rule_id = obj.get("id", obj["kind"])
        check_rule_id(rule_id, f"{path}.id")
        state = obj.get("state", default_state)
        if not isinstance(state, str) or state not in RULE_STATES:
            raise RuleSetError(f"{path}.state", f"must be one of {', '.join(RULE_STATES)}")
        explanation = obj.get("explanation", "")
        rule = build_rule(obj["kind"], obj.get("params"), id=rule_id, state=state, explanation=explanation, path=path)
    except RuleSetError:
        raise
    except RuleError as exc:
        raise RuleSetError(exc.path, exc.message) from None
    if modality is not None and rule.modality != modality:
        raise RuleSetError(f"{path}.kind", f"{rule.kind!r} is an {rule.modality} rule, but this rule set is for {modality}")
    return rule


def parse_rule_set(data: Any) -> RuleSet:
    """Validate a decoded rule-set JSON value; raises :class:`RuleSetError` only."""
    if not isinstance(data, Mapping):
        raise RuleSetError("$", "must be an object with 'schema_version', 'modality' and 'rules'")
    data = migrate(dict(data))
    for key in data:
        if key not in _TOP_KEYS:
            raise RuleSetError(f"$.{key}", f"unknown field (allowed: {', '.join(sorted(_TOP_KEYS))})")
    modality = data.get("modality")
    if not isinstance(modality, str) or modality not in MODALITIES:
        raise RuleSetError("$.modality", f"must be one of {', '.join(MODALITIES)}")
    name = data.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        raise RuleSetError("$.name", "must be text of at most 200 characters")
    rules_raw = data.get("rules")
    if not isinstance(rules_raw, list):
        raise RuleSetError("$.rules", "must be a list of rules")
    if len(rules_raw) > MAX_RULES:
        raise RuleSetError("$.rules", f"has {len(rules_raw):,} rules; at most {MAX_RULES} are allowed")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, obj in enumerate(rules_raw):
        rule = parse_rule(obj, f"$.rules[{i}]", modality)
        if rule.id in seen:
            raise RuleSetError(f"$.rules[{i}].id", f"{rule.id!r} is used twice (also by $.rules[{seen[rule.id]}])")
        seen[rule.id] = i
        rules.append(rule)
    return RuleSet(modality, rules, name)


def rule_set_of(rules: Sequence[Rule], modality: str, name: str = "") -> RuleSet:
    return RuleSet(modality, [r.copy() for r in rules], name)
