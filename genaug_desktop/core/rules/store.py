"""Rules saved in a project: the ``rules`` table, their states, and import/export as rule sets.

States: ``proposed`` (made by :mod:`proposals` or imported; rejects nothing), ``approved``
(applied by the filter job), ``disabled`` (kept for the record; rejects nothing). Every write is
one committed transaction. Ids are given by the caller; unknown ids raise
:class:`UnknownRuleError` and change nothing.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from genaug_desktop.core.rules.base import (
    MAX_EXPLANATION, RULE_STATES, Rule, RuleError, build_rule, check_rule_id, get_rule_kind,
)
from genaug_desktop.core.rules.ruleset import RuleSet
from genaug_desktop.core.store.project import Project


class UnknownRuleError(KeyError):
    """No rule with this id in the project."""

    def __init__(self, rule_id: str) -> None:
        super().__init__(rule_id)
        self.rule_id = rule_id

    def __str__(self) -> str:
        return f"no rule with id {self.rule_id!r} in this project"


class RuleStoreError(ValueError):
    """A rule operation is not allowed (wrong modality, id taken, rule in use...); the message says why."""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _rule_from_row(row: Sequence[Any]) -> Rule:
    rule_id, kind, state, params_json, explanation = row[:5]
    try:
        return build_rule(kind, json.loads(params_json), id=rule_id, state=state, explanation=explanation or "",
                          path=f"rule {rule_id}")
    except (RuleError, ValueError) as exc:
        raise RuleStoreError(f"the stored rule {rule_id!r} is not valid here: {exc}") from None


_SELECT = "SELECT id, kind, state, params, explanation FROM rules"
_ORDER = " ORDER BY position, id"


def list_rules(project: Project, state: str | None = None) -> list[Rule]:
    """The project's rules in their saved order, optionally only those in *state*."""
    if state is not None:
        if state not in RULE_STATES:
            raise ValueError(f"unknown state {state!r}; use one of {', '.join(RULE_STATES)}")
        rows = project.query(_SELECT + " WHERE state = ?" + _ORDER, (state,))
    else:
        rows = project.query(_SELECT + _ORDER)
    return [_rule_from_row(r) for r in rows]


def approved_rules(project: Project) -> list[Rule]:
    return list_rules(project, "approved")


def get_rule(project: Project, rule_id: str) -> Rule:
    rows = project.query(_SELECT + " WHERE id = ?", (rule_id,))
    if not rows:
        raise UnknownRuleError(rule_id)
    return _rule_from_row(rows[0])


def _check_modality(project: Project, rule: Rule) -> None:
    if rule.modality != project.modality:
        raise RuleStoreError(
            f"rule {rule.id!r} ({rule.kind}) is for {rule.modality}, but this project holds {project.modality}"
        )


def _upsert(db: Any, rule: Rule, position: int | None) -> None:
    params = json.dumps(rule.to_json()["params"], sort_keys=True, ensure_ascii=False)
    now = _now()
    if position is None:
        db.execute(
            "UPDATE rules SET kind = ?, state = ?, params = ?, explanation = ?, updated_at = ? WHERE id = ?",
            (rule.kind, rule.state, params, rule.explanation, now, rule.id),
        )
    else:
        db.execute(
            "INSERT INTO rules(id, kind, state, params, explanation, position, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rule.id, rule.kind, rule.state, params, rule.explanation, position, now),
        )


def _next_position(db: Any) -> int:
    return int(db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM rules").fetchone()[0])


def add_rules(project: Project, rules: Iterable[Rule], replace: bool = False) -> list[Rule]:
    """Save new rules (one transaction). An id already in the project is an error unless
    *replace*, which overwrites that rule in place (its position is kept)."""
    rules = list(rules)
    for rule in rules:
        _check_modality(project, rule)
    with project.transaction() as db:
        pos = _next_position(db)
        for rule in rules:
            exists = db.execute("SELECT 1 FROM rules WHERE id = ?", (rule.id,)).fetchone() is not None
            if exists and not replace:
                raise RuleStoreError(f"a rule with id {rule.id!r} already exists; choose another id")
            _upsert(db, rule, None if exists else pos)
            pos += 0 if exists else 1
    return rules


def add_rule(
    project: Project, kind: str, params: Mapping[str, Any] | None = None, rule_id: str | None = None,
    explanation: str = "", state: str = "proposed",
) -> Rule:
    """Make and save one rule of *kind* (e.g. a block list the user typed in).

    Without *rule_id* the id is the kind, or the kind with ``-2``, ``-3``... when taken.
    """
    if rule_id is None:
        taken = {r[0] for r in project.query("SELECT id FROM rules")}
        rule_id, n = kind, 2
        while rule_id in taken:
            rule_id, n = f"{kind}-{n}", n + 1
    check_typed_ranges(kind, params or {})
    rule = build_rule(kind, params, id=rule_id, state=state, explanation=explanation)
    add_rules(project, [rule])
    return rule


def check_typed_ranges(kind: str, params: Mapping[str, Any]) -> None:
    """Refuse one number typed for a ``[low, high]`` parameter of a rule.

    Files and ops accept one number as ``[n, n]``, but a person typing ``range=40`` for a size
    rule almost never means "reject everything that is not exactly 40 wide", so here it is an
    error that shows the expected syntax.
    """
    declared = {p.name: p for p in get_rule_kind(kind).params}
    for key, value in params.items():
        param = declared.get(key)
        if param is None or param.kind not in ("int_range", "float_range"):
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = json.dumps(value)
            raise RuleError(
                f"$.params.{key}",
                f"{key} needs two values, low and high: {key}=[LOW,HIGH] (e.g. {key}=[{shown},{_example_high(param, value)}]); "
                f"one value would accept only exactly {shown}; write {key}=[{shown},{shown}] if that is what you mean",
            )


def _example_high(param: Any, value: float) -> str:
    high = value * 2 if value > 0 else value + 1
    if param.high is not None:
        high = min(high, param.high)
    return json.dumps(int(high) if param.kind == "int_range" else float(high))


def set_state(project: Project, rule_ids: Sequence[str], state: str) -> list[Rule]:
    """Set the state of several rules at once; all or nothing."""
    if state not in RULE_STATES:
        raise ValueError(f"unknown state {state!r}; use one of {', '.join(RULE_STATES)}")
    with project.transaction() as db:
        for rid in rule_ids:
            if db.execute("SELECT 1 FROM rules WHERE id = ?", (rid,)).fetchone() is None:
                raise UnknownRuleError(rid)
        now = _now()
        db.executemany("UPDATE rules SET state = ?, updated_at = ? WHERE id = ?", [(state, now, r) for r in rule_ids])
    return [get_rule(project, r) for r in rule_ids]


def approve_rules(project: Project, rule_ids: Sequence[str]) -> list[Rule]:
    """Approve rules: from now on the filter job applies them."""
    return set_state(project, rule_ids, "approved")


def disable_rules(project: Project, rule_ids: Sequence[str]) -> list[Rule]:
    """Stop applying rules. Candidates they already rejected stay rejected (see :func:`release_rejections`)."""
    return set_state(project, rule_ids, "disabled")


_EDITED = "\nEdited: "


def update_rule(
    project: Project, rule_id: str, params: Mapping[str, Any] | None = None, explanation: str | None = None,
) -> Rule:
    """Change some parameters (merged onto the current ones, then validated) or the explanation.

    The state is kept; editing an approved rule makes the next filter run re-check every
    pending candidate, because the approved rule set changed.
    """
    current = get_rule(project, rule_id)
    values = dict(current.values)
    if params is not None:
        check_typed_ranges(current.kind, params)
        values.update(params)
    rule = current.copy(values=values)
    if explanation is None:
        # Keep the proposal's reasoning, and say what a person changed since.
        base = current.explanation.split(_EDITED)[0]
        changed = [k for k in rule.values if rule.values[k] != current.values[k]]
        note = "; ".join(
            f"{k} {json.dumps(rule.values[k])} (was {json.dumps(current.values[k])})" for k in changed
        )
        explanation = current.explanation if not changed else (base + _EDITED + note if base else _EDITED.strip() + " " + note)
    rule = rule.copy(explanation=explanation[:MAX_EXPLANATION])
    with project.transaction() as db:
        _upsert(db, rule, None)
    return rule


def rejection_counts(project: Project) -> dict[str, int]:
    """Candidates currently rejected by each rule."""
    rows = project.query(
        "SELECT rule_id, COUNT(*) FROM candidates WHERE status = 'rejected' AND decided_by = 'rule'"
        " AND rule_id IS NOT NULL GROUP BY rule_id"
    )
    return {r: int(n) for r, n in rows}


def dismiss_rules(project: Project, rule_ids: Sequence[str]) -> int:
    """Delete rules; all or nothing. Approved rules and rules that rejected candidates are
    refused (disable them instead, so every rejection keeps the rule that made it)."""
    counts = rejection_counts(project)
    with project.transaction() as db:
        for rid in rule_ids:
            row = db.execute("SELECT state FROM rules WHERE id = ?", (rid,)).fetchone()
            if row is None:
                raise UnknownRuleError(rid)
            if row[0] == "approved":
                raise RuleStoreError(f"rule {rid!r} is approved; disable it instead of dismissing it")
            if counts.get(rid):
                raise RuleStoreError(f"rule {rid!r} rejected {counts[rid]:,} candidates; disable it instead")
        db.executemany("DELETE FROM rules WHERE id = ?", [(r,) for r in rule_ids])
    return len(rule_ids)


def release_rejections(project: Project, rule_id: str) -> int:
    """Put the candidates that *rule_id* rejected back to pending (e.g. after loosening or
    disabling it); candidates a person decided are left alone. Returns how many."""
    get_rule(project, rule_id)
    now = _now()
    with project.transaction() as db:
        ids = [r[0] for r in db.execute(
            "SELECT id FROM candidates WHERE status = 'rejected' AND decided_by = 'rule' AND rule_id = ?", (rule_id,)
        ).fetchall()]
        for cid in ids:
            db.execute(
                "UPDATE candidates SET status = 'pending', reason = NULL, rule_id = NULL, measured = NULL,"
                " decided_by = NULL, decided_at = ?, rules_checked = NULL WHERE id = ?",
                (now, cid),
            )
            db.execute(
                "INSERT INTO decisions(candidate_id, status, previous, reason, at, decided_by, rule_id)"
                " VALUES (?, 'pending', 'rejected', ?, ?, 'rule', ?)",
                (cid, f"released from rule {rule_id}", now, rule_id),
            )
    return len(ids)


def restore_rule_rejection(project: Project, candidate_ids: Sequence[int]) -> int:
    """Undo a person's override: put each candidate back to the last rejection a rule made of it
    (rule id, reason, measured value, from the decision log). For the review panel's undo stack,
    since ``Project.decide`` by a person clears the rule verdict. Candidates no rule ever
    rejected are left alone. Returns how many were restored."""
    now = _now()
    restored = 0
    with project.transaction() as db:
        for cid in candidate_ids:
            row = db.execute(
                "SELECT rule_id, reason, measured FROM decisions WHERE candidate_id = ? AND decided_by = 'rule'"
                " AND status = 'rejected' ORDER BY id DESC LIMIT 1",
                (int(cid),),
            ).fetchone()
            current = db.execute("SELECT status FROM candidates WHERE id = ?", (int(cid),)).fetchone()
            if row is None or current is None:
                continue
            rule_id, reason, measured = row
            db.execute(
                "UPDATE candidates SET status = 'rejected', reason = ?, rule_id = ?, measured = ?, decided_by = 'rule',"
                " decided_at = ? WHERE id = ?",
                (reason, rule_id, measured, now, int(cid)),
            )
            db.execute(
                "INSERT INTO decisions(candidate_id, status, previous, reason, at, decided_by, rule_id, measured)"
                " VALUES (?, 'rejected', ?, ?, ?, 'rule', ?, ?)",
                (int(cid), current[0], reason, now, rule_id, measured),
            )
            restored += 1
    return restored


@dataclass
class ProposalOutcome:
    """What :func:`save_proposals` did with each proposed rule."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # approved or disabled already: left as the person set them


def save_proposals(project: Project, rules: Iterable[Rule]) -> ProposalOutcome:
    """Store proposals as state 'proposed' (or 'disabled', as proposed). A rule the person already approved or disabled
    is never overwritten; an earlier proposal with the same id is updated."""
    out = ProposalOutcome()
    # A proposal may arrive switched off (its explanation says why); anything else is 'proposed'.
    rules = [r if r.state == "disabled" else r.copy(state="proposed") for r in rules]
    for rule in rules:
        _check_modality(project, rule)
    with project.transaction() as db:
        pos = _next_position(db)
        for rule in rules:
            row = db.execute("SELECT state FROM rules WHERE id = ?", (rule.id,)).fetchone()
            if row is None:
                _upsert(db, rule, pos)
                pos += 1
                out.added.append(rule.id)
            elif row[0] == "proposed":
                _upsert(db, rule, None)
                out.updated.append(rule.id)
            else:
                out.kept.append(rule.id)
    return out


def export_rule_set(
    project: Project, rule_ids: Sequence[str] | None = None, states: Sequence[str] | None = None, name: str = "",
) -> RuleSet:
    """The project's rules (all, some ids, or some states) as a :class:`RuleSet`."""
    rules = list_rules(project)
    if rule_ids is not None:
        by_id = {r.id: r for r in rules}
        for rid in rule_ids:
            if rid not in by_id:
                raise UnknownRuleError(rid)
        rules = [by_id[r] for r in rule_ids]
    if states is not None:
        rules = [r for r in rules if r.state in states]
    return RuleSet(project.modality, rules, name or project.name)


def import_rule_set(project: Project, rule_set: RuleSet, keep_state: bool = False) -> list[Rule]:
    """Add a rule set's rules to the project, replacing rules with the same id.

    Imported rules arrive as 'proposed' (thresholds learned on another dataset deserve a dry
    run here first) unless *keep_state*.
    """
    if rule_set.modality != project.modality:
        raise RuleStoreError(f"this rule set is for {rule_set.modality}, but the project holds {project.modality}")
    rules = [r if keep_state else r.copy(state="proposed") for r in rule_set.rules]
    return add_rules(project, rules, replace=True)


def fingerprint(rules: Sequence[Rule]) -> str:
    """Identifies an approved rule set's behaviour (ids, kinds, params; order-independent):
    a candidate checked by the same fingerprint needs no re-check."""
    canon = sorted(json.dumps([r.id, r.kind, r.to_json()["params"]], sort_keys=True) for r in rules)
    return hashlib.sha256("\n".join(canon).encode()).hexdigest()[:32]


def validate_rule_id(rule_id: str) -> str:
    return check_rule_id(rule_id, "$.id")
