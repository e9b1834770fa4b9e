"""Provenance of exported samples, read from the project: the candidate's recorded provenance
(op chain with drawn params, seed, policy, generator + checkpoint, round), rule verdicts, and
the decision with its time from the decision log; plus the policies, rules and generator
checkpoints an export cites in its manifest.

The store's schema grows as features land (e.g. ``decisions.rule_id``), so columns are read
only when the project has them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from genaug_desktop.core.store.project import Project

_CHUNK = 500


def table_columns(project: Project, table: str) -> list[str]:
    return [str(row[1]) for row in project.query(f"PRAGMA table_info({table})")]


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def generator_info(recorded: Mapping[str, Any]) -> dict[str, Any] | None:
    """{"name", "checkpoint_sha256", "params"} from a generator candidate's provenance.

    Accepts ``generator`` as a name or an object, and the checkpoint hash as
    ``checkpoint_sha256``, ``generator.checkpoint_sha256`` or ``checkpoint.sha256``.
    """
    gen = recorded.get("generator")
    name = None
    ckpt = None
    params = None
    if isinstance(gen, Mapping):
        name = gen.get("name")
        ckpt = gen.get("checkpoint_sha256") or gen.get("checkpoint")
        params = gen.get("params")
    elif isinstance(gen, str):
        name = gen
    checkpoint = recorded.get("checkpoint")
    ckpt = ckpt or recorded.get("checkpoint_sha256") or recorded.get("checkpoint_sha")
    if ckpt is None and isinstance(checkpoint, Mapping):
        ckpt = checkpoint.get("sha256")
    elif ckpt is None and isinstance(checkpoint, str):
        ckpt = checkpoint
    if isinstance(ckpt, Mapping):
        ckpt = ckpt.get("sha256")
    if params is None:
        for key in ("sampling", "sample_params", "params"):
            if isinstance(recorded.get(key), Mapping):
                params = recorded[key]
                break
    if name is None and ckpt is None:
        return None
    return {"name": name, "checkpoint_sha256": ckpt, "params": params}


class ProvenanceIndex:
    """Decision history and rule outcomes for a set of candidates, loaded in a few queries."""

    def __init__(self) -> None:
        self.decisions: dict[int, list[dict[str, Any]]] = {}
        self.extra: dict[int, dict[str, Any]] = {}
        self.provenance: dict[int, str] = {}  # the stored provenance, as JSON text (parsed when asked)

    @classmethod
    def load(cls, project: Project, candidate_ids: Iterable[int]) -> ProvenanceIndex:
        index = cls()
        ids = sorted(set(candidate_ids))
        if not ids:
            return index
        dcols = table_columns(project, "decisions")
        wanted = [c for c in ("candidate_id", "status", "previous", "reason", "at", "decided_by", "rule_id", "measured") if c in dcols]
        ccols = table_columns(project, "candidates")
        extra_cols = [c for c in ("measured", "decided_by", "decided_at", "rules_checked", "created_at") if c in ccols]
        read_cols = ["provenance", *extra_cols]
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = project.query(
                f"SELECT {', '.join(wanted)} FROM decisions WHERE candidate_id IN ({marks}) ORDER BY id", chunk
            )
            for row in rows:
                entry = dict(zip(wanted, row))
                cid = int(entry.pop("candidate_id"))
                index.decisions.setdefault(cid, []).append(entry)
            rows = project.query(f"SELECT id, {', '.join(read_cols)} FROM candidates WHERE id IN ({marks})", chunk)
            for row in rows:
                index.provenance[int(row[0])] = row[1]
                if extra_cols:
                    index.extra[int(row[0])] = dict(zip(extra_cols, row[2:]))
        return index

    def recorded(self, candidate_id: int) -> dict[str, Any]:
        """The candidate's stored provenance (a new dict on each call); KeyError when the
        candidate is not in the project (any more)."""
        return json.loads(self.provenance[candidate_id])

    def decision(self, candidate_id: int, status: str | None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The decision that set the current status (with when and by whom), and the history."""
        history = [
            {"status": d.get("status"), "previous": d.get("previous"), "at": d.get("at"), "by": d.get("decided_by"),
             "reason": d.get("reason"), **({"rule": d["rule_id"]} if d.get("rule_id") else {})}
            for d in self.decisions.get(candidate_id, [])
        ]
        if history:
            last = history[-1]
            return {"status": status, "at": last["at"], "by": last["by"], "reason": last["reason"]}, history
        extra = self.extra.get(candidate_id, {})
        return {"status": status, "at": extra.get("decided_at"), "by": extra.get("decided_by"), "reason": None}, history

    def rule_outcome(self, candidate_id: int, rule_id: str | None, reason: str | None, status: str | None,
                     recorded: Mapping[str, Any]) -> dict[str, Any]:
        """What the rules said about a candidate: the approved rule set that last checked it,
        every rejection by a rule (kept even when a person overrode it), and verdicts the
        candidate's own provenance recorded."""
        extra = self.extra.get(candidate_id, {})
        rejections = [
            {"rule": d.get("rule_id"), "reason": d.get("reason"), "measured": d.get("measured"), "at": d.get("at")}
            for d in self.decisions.get(candidate_id, []) if d.get("decided_by") == "rule" and d.get("status") == "rejected"
        ]
        if rule_id and not any(r["rule"] == rule_id for r in rejections):
            rejections.append({"rule": rule_id, "reason": reason, "measured": extra.get("measured"), "at": extra.get("decided_at")})
        out: dict[str, Any] = {
            "checked_by": _maybe_json(extra.get("rules_checked")),
            "rejections": rejections,
            "overridden": bool(rejections) and status != "rejected",
        }
        for key in ("rule_verdicts", "rules", "verdicts"):
            if key in recorded:
                out["verdicts"] = recorded[key]
                break
        return out


class ProvenanceStream:
    """:class:`ProvenanceIndex` for candidates asked for in a known order (the export's plan
    order), loaded a chunk at a time: memory holds one chunk's decisions and provenance, not
    every candidate's. Asking out of order still works (that candidate is loaded alone)."""

    def __init__(self, project: Project, ordered_ids: Sequence[int], chunk: int = 1000) -> None:
        self.project = project
        self.ids = ordered_ids
        self.chunk = max(1, int(chunk))
        self.pos = 0
        self.index = ProvenanceIndex()
        self.loads = 0  # how many chunks were read (for tests)

    def _ensure(self, candidate_id: int) -> ProvenanceIndex:
        index = self.index
        if candidate_id in index.provenance:
            return index
        pos = self.pos
        while pos < len(self.ids) and self.ids[pos] != candidate_id:
            pos += 1
        if pos < len(self.ids):
            self.pos = pos
            wanted: Sequence[int] = self.ids[pos : pos + self.chunk]
        else:
            wanted = [candidate_id]
        self.index = ProvenanceIndex()  # let the last chunk go before the next one is read
        self.index = ProvenanceIndex.load(self.project, wanted)
        self.loads += 1
        return self.index

    def recorded(self, candidate_id: int) -> dict[str, Any]:
        index = self._ensure(candidate_id)
        if candidate_id not in index.provenance:
            raise LookupError(candidate_id)
        return index.recorded(candidate_id)

    def decision(self, candidate_id: int, status: str | None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        return self._ensure(candidate_id).decision(candidate_id, status)

    def rule_outcome(self, candidate_id: int, rule_id: str | None, reason: str | None, status: str | None,
                     recorded: Mapping[str, Any]) -> dict[str, Any]:
        return self._ensure(candidate_id).rule_outcome(candidate_id, rule_id, reason, status, recorded)


def rules_table(project: Project) -> list[dict[str, Any]]:
    """Every row of the project's rules table (params parsed), in the rules' own order."""
    cols = table_columns(project, "rules")
    if not cols:
        return []
    order = "position, id" if "position" in cols else "id"
    rows = project.query(f"SELECT {', '.join(cols)} FROM rules ORDER BY {order}")
    out = []
    for row in rows:
        entry = dict(zip(cols, row))
        if "params" in entry:
            entry["params"] = _maybe_json(entry["params"])
        out.append(entry)
    return out
