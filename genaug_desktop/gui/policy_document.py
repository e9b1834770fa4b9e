"""The policy being edited, as its JSON document, and the edits the editor makes to it (no Qt).

The document is the policy file's own shape (``Policy.to_json()``), so what the editor holds is
always what it saves, and every edit is a pure function ``document -> new document``: undo keeps
the document before and after, nothing else.

A step is addressed by a *path*: the section (``"preprocess"`` or ``"steps"``) followed by indices;
inside a group the next index is into the group's list, so ``("steps", 3, 1)`` is the second child
of the fourth step. Pre-processing is a flat list.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from typing import Any

GROUP_KINDS = ("one_of", "some_of", "sequence")
SECTIONS = ("preprocess", "steps")

Path = tuple[Any, ...]  # (section, index, index, ...)
Document = dict[str, Any]


class DocumentError(ValueError):
    """An edit that cannot be made (e.g. grouping steps from different lists)."""


def empty_document(modality: str, name: str = "") -> Document:
    from genaug_desktop.core.policy import SCHEMA_VERSION

    doc: Document = {"schema_version": SCHEMA_VERSION, "modality": modality}
    if name:
        doc["name"] = name
    doc["preprocess"] = []
    doc["steps"] = []
    return doc


def canonical(data: Any, check_available: bool = False) -> Document:
    """Validate a policy (raises PolicyError with the JSON path) and return its canonical JSON."""
    from genaug_desktop.core.policy import Policy

    return Policy.from_json(data, check_available=check_available).to_json()


def dumps(doc: Document) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ---- reading -----------------------------------------------------------------------------------------
def group_kind(node: dict[str, Any]) -> str | None:
    for kind in GROUP_KINDS:
        if kind in node:
            return kind
    return None


def children(node: dict[str, Any]) -> list[dict[str, Any]]:
    kind = group_kind(node)
    return node[kind] if kind else []


def container(doc: Document, parent: Path) -> list[dict[str, Any]]:
    """The list a parent path holds: a section's list or a group's children."""
    if not parent or parent[0] not in SECTIONS:
        raise DocumentError(f"not a step list: {parent!r}")
    items: list[dict[str, Any]] = doc.setdefault(parent[0], [])
    for index in parent[1:]:
        node = items[index]
        kind = group_kind(node)
        if kind is None:
            raise DocumentError(f"step {parent!r} is not a group")
        items = node[kind]
    return items


def node_at(doc: Document, path: Path) -> dict[str, Any]:
    return container(doc, path[:-1])[path[-1]]


def is_group_path(doc: Document, path: Path) -> bool:
    return len(path) > 1 and group_kind(node_at(doc, path)) is not None


def walk(doc: Document) -> Iterable[tuple[Path, dict[str, Any]]]:
    """Every step with its path, depth first (pre-processing first)."""
    def visit(items: list[dict[str, Any]], prefix: Path) -> Iterable[tuple[Path, dict[str, Any]]]:
        for i, node in enumerate(items):
            path = prefix + (i,)
            yield path, node
            if group_kind(node):
                yield from visit(children(node), path)

    for section in SECTIONS:
        yield from visit(doc.get(section, []), (section,))


def json_path_in(doc: Document, path: Path) -> str:
    """The JSON path of a step, as PolicyError reports it: ``$.steps[3].one_of[1]``."""
    out = f"$.{path[0]}[{path[1]}]" if len(path) > 1 else f"$.{path[0]}"
    items = doc.get(path[0], [])
    for depth in range(1, len(path) - 1):
        node = items[path[depth]]
        kind = group_kind(node) or "?"
        out += f".{kind}[{path[depth + 1]}]"
        items = node[kind]
    return out


def path_of_json_path(doc: Document, text: str) -> Path | None:
    """The deepest step a PolicyError path points into (``$.steps[1].one_of[0].params.x``)."""
    import re

    match = re.match(r"\$\.(preprocess|steps)\[(\d+)\]", text)
    if not match:
        return None
    path: Path = (match.group(1), int(match.group(2)))
    rest = text[match.end():]
    for kind, index in re.findall(r"\.(one_of|some_of|sequence)\[(\d+)\]", rest):
        path = path + (int(index),)
    try:
        node_at(doc, path)
    except (IndexError, KeyError, DocumentError):
        return None
    return path


def structure_key(doc: Document) -> str:
    """What the step list shows, less parameter values: equal keys need no model reset."""
    def shape(items: list[dict[str, Any]]) -> list[Any]:
        return [[group_kind(n) or n.get("op"), shape(children(n))] for n in items]

    return json.dumps([shape(doc.get("preprocess", [])), shape(doc.get("steps", []))])


def count_steps(doc: Document) -> int:
    return sum(1 for _ in walk(doc))


# ---- edits (each returns a new document; the input is never changed) ----------------------------
def _clone(doc: Document) -> Document:
    return copy.deepcopy(doc)


def _normalise(doc: Document) -> Document:
    """Drop groups left empty and keep every some_of's n within its children."""
    def fix(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for node in items:
            kind = group_kind(node)
            if kind is not None:
                node[kind] = fix(node[kind])
                if not node[kind]:
                    continue
                if kind == "some_of":
                    k = len(node[kind])
                    lo, hi = node.get("n", [1, 1])
                    node["n"] = [min(lo, k), min(hi, k)]
            out.append(node)
        return out

    doc["steps"] = fix(doc.get("steps", []))
    return doc


def op_node(name: str, params: dict[str, Any], preprocess: bool, p: float = 1.0) -> dict[str, Any]:
    if preprocess:
        return {"op": name, "params": copy.deepcopy(params)}
    return {"op": name, "p": p, "params": copy.deepcopy(params)}


def insert(doc: Document, parent: Path, index: int, nodes: Sequence[dict[str, Any]]) -> tuple[Document, list[Path]]:
    new = _clone(doc)
    items = container(new, parent)
    index = max(0, min(len(items), index))
    for offset, node in enumerate(nodes):
        items.insert(index + offset, copy.deepcopy(node))
    return _normalise(new), [parent + (index + k,) for k in range(len(nodes))]


def remove(doc: Document, paths: Iterable[Path]) -> Document:
    new = _clone(doc)
    # Deepest and last first, so earlier paths stay valid.
    for path in sorted(set(paths), key=lambda p: (len(p), p[1:]), reverse=True):
        try:
            del container(new, path[:-1])[path[-1]]
        except (IndexError, DocumentError):
            continue
    return _normalise(new)


def top_level(paths: Iterable[Path]) -> list[Path]:
    """Drop paths inside other selected paths (moving a group moves its children)."""
    chosen = sorted(set(paths))
    return [p for p in chosen if not any(p != q and p[: len(q)] == q for q in chosen)]


def move(doc: Document, paths: Sequence[Path], parent: Path, index: int) -> tuple[Document, list[Path]]:
    """Move steps (in document order) to *parent* before *index* (of the list as it is now)."""
    paths = top_level(paths)
    if not paths:
        return doc, []
    for path in paths:
        if path[0] != parent[0]:
            raise DocumentError("pre-processing and random steps cannot be mixed")
        if parent[: len(path)] == path:
            raise DocumentError("a group cannot be moved into itself")
    new = _clone(doc)
    nodes = [copy.deepcopy(node_at(new, p)) for p in paths]
    # Removing the moved steps shifts the target: count those before it in the same list and
    # those on the way down to it (an ancestor's index shifts when an earlier sibling leaves).
    target = list(parent)
    for p in paths:
        for depth in range(1, len(parent)):
            if len(p) == depth + 1 and p[:depth] == parent[:depth] and p[depth] < parent[depth]:
                target[depth] -= 1
    before = sum(1 for p in paths if p[:-1] == parent and p[-1] < index)
    for path in sorted(paths, key=lambda p: (len(p), p[1:]), reverse=True):
        del container(new, path[:-1])[path[-1]]
    target_path = tuple(target)
    items = container(new, target_path)
    at = max(0, min(len(items), index - before))
    for offset, node in enumerate(nodes):
        items.insert(at + offset, node)
    moved = [target_path + (at + k,) for k in range(len(nodes))]
    return _fix_after_move(new, moved)


def _fix_after_move(doc: Document, moved: list[Path]) -> tuple[Document, list[Path]]:
    # Normalising may drop an emptied group above the new place; find the moved nodes again.
    ids = {id(node_at(doc, p)) for p in moved}
    doc = _normalise(doc)
    found = [p for p, node in walk(doc) if id(node) in ids]
    return doc, found


def duplicate(doc: Document, paths: Sequence[Path]) -> tuple[Document, list[Path]]:
    """Copy each step right after itself; returns the paths of the copies."""
    new = doc
    copies: list[Path] = []
    for path in sorted(top_level(paths), reverse=True):
        node = node_at(new, path)
        new, made = insert(new, path[:-1], path[-1] + 1, [node])
        copies = [made[0]] + [_shift(c, path[:-1], path[-1] + 1) for c in copies]
    return new, sorted(copies)


def _shift(path: Path, parent: Path, from_index: int) -> Path:
    """Where *path* is after one insertion into *parent* at *from_index*."""
    depth = len(parent)
    if path[:depth] == parent and len(path) > depth and path[depth] >= from_index:
        return path[:depth] + (path[depth] + 1,) + path[depth + 1:]
    return path


def group(doc: Document, paths: Sequence[Path], kind: str, n: Sequence[int] | None = None) -> tuple[Document, Path]:
    """Put sibling steps into a new ``one_of``/``some_of``/``sequence`` group at the first one's place."""
    if kind not in GROUP_KINDS:
        raise DocumentError(f"unknown group kind {kind!r}")
    paths = sorted(top_level(paths))
    if not paths:
        raise DocumentError("select the steps to group first")
    parent = paths[0][:-1]
    if parent[0] != "steps":
        raise DocumentError("pre-processing steps always all run in order; they cannot be grouped")
    if any(p[:-1] != parent for p in paths):
        raise DocumentError("only steps in the same list can be grouped")
    new = _clone(doc)
    items = container(new, parent)
    members = [items[p[-1]] for p in paths]
    node: dict[str, Any] = {kind: members, "p": 1.0}
    if kind == "some_of":
        k = len(members)
        lo, hi = (list(n) if n is not None else [1, 1])[:2]
        node["n"] = [max(0, min(lo, k)), max(0, min(hi, k))]
    for p in reversed(paths):
        del items[p[-1]]
    at = paths[0][-1]
    items.insert(at, node)
    return _normalise(new), parent + (at,)


def ungroup(doc: Document, path: Path) -> tuple[Document, list[Path]]:
    """Replace a group by its children (in place)."""
    node = node_at(doc, path)
    kind = group_kind(node)
    if kind is None:
        raise DocumentError("this step is not a group")
    new = _clone(doc)
    items = container(new, path[:-1])
    members = items[path[-1]][kind]
    items[path[-1]: path[-1] + 1] = members
    return _normalise(new), [path[:-1] + (path[-1] + k,) for k in range(len(members))]


def set_fields(doc: Document, path: Path, **fields: Any) -> Document:
    """Set keys of one step (``p``, ``params``, ``n``, ``enabled``); ``enabled=True`` drops the key."""
    new = _clone(doc)
    node = node_at(new, path)
    for key, value in fields.items():
        if key == "enabled" and value:
            node.pop("enabled", None)
        else:
            node[key] = copy.deepcopy(value)
    return new


def set_when(doc: Document, path: Path, when: dict[str, Any] | None) -> Document:
    """Set a step's conditions; None (or an empty dict) removes ``when``."""
    new = _clone(doc)
    node = node_at(new, path)
    if when:
        node["when"] = copy.deepcopy(when)
    else:
        node.pop("when", None)
    return new


def when_summary(node: dict[str, Any], modality: str) -> str | None:
    """``label not in {6, 9} · width ≥ 64`` for a step with conditions, None without; a
    condition that does not validate says so."""
    from genaug_desktop.core.policy import PolicyError, parse_when

    when = node.get("when")
    if when is None:
        return None
    try:
        return parse_when(when, modality, "$").summary()
    except PolicyError as exc:
        return f"invalid condition: {exc.message}"


def set_name(doc: Document, name: str) -> Document:
    new = _clone(doc)
    if name:
        new["name"] = name
    else:
        new.pop("name", None)
    return new
