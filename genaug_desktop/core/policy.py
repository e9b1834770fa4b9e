"""Augmentation policies: versioned JSON, validation with JSON paths, seeded application.

Format (schema_version 2)::

    {"schema_version": 2, "modality": "image" | "text", "name": "...",
     "preprocess": [{"op": NAME, "params": {...}}, ...],
     "steps": [{"op": NAME, "p": 0..1, "params": {...}, "enabled": true, "when": WHEN}
               | {"one_of": [STEP, ...], "p": ..., "when": WHEN}
               | {"some_of": [STEP, ...], "n": N or [LO, HI], "p": ..., "when": WHEN}
               | {"sequence": [STEP, ...], "p": ..., "when": WHEN}]}

    WHEN (every condition given must hold; all optional, at least one):
    {"label": {"in": [LABEL, ...], "not_in": [LABEL, ...]},
     "width": {"min": N, "max": N}, "height": {...},          image policies (pixels)
     "chars": {"min": N, "max": N}, "words": {...}}            text policies

Version 1 is version 2 without ``when``; it is migrated on load, and saving writes version 2.

Same item + same policy + same seed = the same output in any process: all randomness comes
from one ``numpy.random.Generator`` seeded from (seed, item, variant), and every drawn value
is returned as the op chain that goes into the candidate's provenance.

Conditions are checked when a step would run (its coin came up, or its group picked it), on the
item's label and on the image or text as that step receives it. A step whose condition does not
hold leaves its input unchanged and adds ``{"op": NAME, "skipped": "when: ..."}`` to the chain
(NAME is the group kind for a group). Each step's seed and coin are drawn up front, so a skipped
step never changes what the other steps draw: the output is the one the policy gives with that
step disabled.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genaug_desktop.core.ops.base import Op, build_op, get_op
from genaug_desktop.core.params import ParamError

SCHEMA_VERSION = 2
MODALITIES = ("image", "text")
MAX_DEPTH = 8
MAX_STEPS = 500



class PolicyError(ParamError):
    """A policy file is invalid; ``path`` is the JSON path of the bad field."""


def json_steps(items: Any, path: str = "$.steps") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every step object in a policy's JSON ``steps`` (groups' children too), with its JSON path;
    anything that is not an object is passed over (validation reports it)."""
    if not isinstance(items, list):
        return
    for i, step in enumerate(items):
        if not isinstance(step, Mapping):
            continue
        yield f"{path}[{i}]", step
        for kind in ("one_of", "some_of", "sequence"):
            yield from json_steps(step.get(kind), f"{path}[{i}].{kind}")


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds ``when`` to steps and nothing else; a version-1 file that uses it is refused."""
    for path, step in json_steps(data.get("steps")):
        if "when" in step:
            raise PolicyError(f"{path}.when", "conditions need \"schema_version\": 2 (this file says 1)")
    return dict(data)


#: schema_version N -> function turning a version-N dict into version N+1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def derive_seed(base_seed: int, item: str, variant: int) -> int:
    """A 63-bit seed for one variant of one item; stable across processes and platforms."""
    digest = hashlib.sha256(f"{int(base_seed)}\x00{item}\x00{int(variant)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def make_rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


# ---- conditions ---------------------------------------------------------------------------------
#: condition name -> (modality, what it measures); the bounds are whole numbers, both ends inclusive
MEASURES: dict[str, tuple[str, str]] = {
    "width": ("image", "image width in pixels"),
    "height": ("image", "image height in pixels"),
    "chars": ("text", "text length in characters"),
    "words": ("text", "text length in words (runs of non-space characters)"),
}
MAX_LABELS = 10_000


def measure(name: str, x: Any) -> int:
    """What condition *name* compares: an image's width/height, a text's characters/words."""
    if name == "width":
        return int(x.shape[1])
    if name == "height":
        return int(x.shape[0])
    if name == "chars":
        return len(x)
    return len(x.split())


def _label_set(labels: tuple[str, ...]) -> str:
    return "{" + ", ".join(labels) + "}"


@dataclass(frozen=True)
class When:
    """A step's conditions (``"when"`` in the file); every condition given must hold.

    ``label_in`` / ``label_not_in``: the item's label must be in / must not be in the set (an
    unlabeled item is in no set). ``bounds``: (measure, min or None, max or None), inclusive.
    """

    label_in: tuple[str, ...] | None = None
    label_not_in: tuple[str, ...] | None = None
    bounds: tuple[tuple[str, int | None, int | None], ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        label: dict[str, Any] = {}
        if self.label_in is not None:
            label["in"] = list(self.label_in)
        if self.label_not_in is not None:
            label["not_in"] = list(self.label_not_in)
        if label:
            out["label"] = label
        for name, lo, hi in self.bounds:
            out[name] = {k: v for k, v in (("min", lo), ("max", hi)) if v is not None}
        return out

    def failure(self, x: Any, label: str | None) -> str | None:
        """None when every condition holds for *x* with *label*; else why not (for the chain)."""
        shown = "unlabeled item" if label is None else f"label {str(label)!r}"
        if self.label_in is not None and (label is None or str(label) not in self.label_in):
            return f"when: {shown} is not in {_label_set(self.label_in)}"
        if self.label_not_in is not None and label is not None and str(label) in self.label_not_in:
            return f"when: {shown} is in {_label_set(self.label_not_in)}"
        for name, lo, hi in self.bounds:
            value = measure(name, x)
            if lo is not None and value < lo:
                return f"when: {name} {value} < {lo}"
            if hi is not None and value > hi:
                return f"when: {name} {value} > {hi}"
        return None

    def summary(self) -> str:
        """Short text for a badge: ``label not in {6, 9} · width ≥ 64``."""
        parts = []
        if self.label_in is not None:
            parts.append(f"label in {_label_set(self.label_in)}")
        if self.label_not_in is not None:
            parts.append(f"label not in {_label_set(self.label_not_in)}")
        for name, lo, hi in self.bounds:
            if lo is not None and hi is not None:
                parts.append(f"{lo} ≤ {name} ≤ {hi}")
            elif lo is not None:
                parts.append(f"{name} ≥ {lo}")
            else:
                parts.append(f"{name} ≤ {hi}")
        return " · ".join(parts)


def _whole(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyError(path, f"must be a whole number, 0 or more, not {_short(value)}")
    return value


def _labels(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise PolicyError(path, "must be a non-empty list of labels")
    if len(value) > MAX_LABELS:
        raise PolicyError(path, f"more than {MAX_LABELS} labels")
    out: list[str] = []
    for i, label in enumerate(value):
        if isinstance(label, bool) or not isinstance(label, (str, int)):
            raise PolicyError(f"{path}[{i}]", f"a label must be text (or a whole number), not {_short(label)}")
        text = str(label)
        if text not in out:  # a set: duplicates add nothing
            out.append(text)
    return tuple(out)


def parse_when(obj: Any, modality: str, path: str) -> When:
    """Validate a step's ``when`` (raises :class:`PolicyError` with the JSON path of the bad field)."""
    if not isinstance(obj, Mapping):
        raise PolicyError(path, "must be an object of conditions: " + ", ".join(_when_keys(modality)))
    if not obj:
        raise PolicyError(path, "has no condition; give one of " + ", ".join(_when_keys(modality)) + " or remove it")
    for key in obj:
        if key in MEASURES and MEASURES[key][0] != modality:
            raise PolicyError(f"{path}.{key}", f"'{key}' is a condition for {MEASURES[key][0]} policies; "
                                               f"this policy is for {modality}")
    _check_keys(obj, set(_when_keys(modality)), path)
    label_in = label_not_in = None
    if "label" in obj:
        label = obj["label"]
        if not isinstance(label, Mapping) or not label:
            raise PolicyError(f"{path}.label", 'must be {"in": [...]} and/or {"not_in": [...]}')
        _check_keys(label, {"in", "not_in"}, f"{path}.label")
        if "in" in label:
            label_in = _labels(label["in"], f"{path}.label.in")
        if "not_in" in label:
            label_not_in = _labels(label["not_in"], f"{path}.label.not_in")
    bounds = []
    for name in MEASURES:
        if name not in obj:
            continue
        where = f"{path}.{name}"
        raw = obj[name]
        if not isinstance(raw, Mapping) or not raw:
            raise PolicyError(where, 'must be {"min": N} and/or {"max": N}')
        _check_keys(raw, {"min", "max"}, where)
        lo = _whole(raw["min"], f"{where}.min") if "min" in raw else None
        hi = _whole(raw["max"], f"{where}.max") if "max" in raw else None
        if lo is not None and hi is not None and lo > hi:
            raise PolicyError(f"{where}.min", f"min {lo} is above max {hi}")
        bounds.append((name, lo, hi))
    return When(label_in, label_not_in, tuple(bounds))


def _when_keys(modality: str) -> list[str]:
    return ["label", *(k for k, (m, _) in MEASURES.items() if m == modality)]


@dataclass(frozen=True)
class LabelWarning:
    """A label condition that names a label the project does not have (``path``: its JSON path)."""

    path: str
    label: str
    suggestion: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def unknown_label_message(label: str, classes: Sequence[str]) -> tuple[str | None, str]:
    """(closest known class or None, the sentence that says *label* is not one of *classes*)."""
    import difflib

    known = [str(c) for c in classes]
    if not known:
        return None, f"{label!r} is not a class of this project: its items have no labels"
    close = difflib.get_close_matches(label, known, n=1, cutoff=0.6)
    if not close:  # a case slip ("Circle") is a typo too
        folded = {k.casefold(): k for k in known}
        close = [folded[label.casefold()]] if label.casefold() in folded else []
    shown = ", ".join(known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")
    text = f"{label!r} is not one of the project's classes ({shown})"
    if close:
        text += f"; did you mean {close[0]!r}?"
    return (close[0] if close else None), text


def label_warnings(policy: Mapping[str, Any] | Policy, classes: Sequence[str]) -> list[LabelWarning]:
    """Every label in a step's ``when`` that is not one of *classes* (the project's labels).

    A policy is valid without knowing the project, so a typo such as ``"circel"`` cannot be an
    error of the file; against a project it means a step that never runs (``in``) or always runs
    (``not_in``), which is worth a warning before an augmentation run. *policy* is a
    :class:`Policy` or its JSON document (what the editor holds).
    """
    data = policy.to_json() if isinstance(policy, Policy) else policy
    known = {str(c) for c in classes}
    out: list[LabelWarning] = []

    for here, step in json_steps(data.get("steps") if isinstance(data, Mapping) else None):
        when = step.get("when")
        label = when.get("label") if isinstance(when, Mapping) else None
        if not isinstance(label, Mapping):
            continue
        for key in ("in", "not_in"):
            values = label.get(key)
            for j, value in enumerate(values if isinstance(values, list) else []):
                if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) not in known:
                    suggestion, message = unknown_label_message(str(value), classes)
                    out.append(LabelWarning(f"{here}.when.label.{key}[{j}]", str(value), suggestion, message))
    return out


# ---- the step tree ------------------------------------------------------------------------------
@dataclass
class OpStep:
    op: Op
    p: float = 1.0
    enabled: bool = True
    when: When | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op.name, "p": self.p, "params": self.op.values}
        if not self.enabled:
            out["enabled"] = False
        if self.when is not None:
            out["when"] = self.when.to_json()
        return out


@dataclass
class Group:
    kind: str  # "one_of" | "some_of" | "sequence"
    children: list[Any]
    p: float = 1.0
    n: list[int] | None = None
    enabled: bool = True
    when: When | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {self.kind: [c.to_json() for c in self.children], "p": self.p}
        if self.kind == "some_of":
            out["n"] = self.n
        if not self.enabled:
            out["enabled"] = False
        if self.when is not None:
            out["when"] = self.when.to_json()
        return out


Step = OpStep | Group


def _check_keys(obj: Mapping[str, Any], allowed: set[str], path: str) -> None:
    for key in obj:
        if key not in allowed:
            raise PolicyError(f"{path}.{key}", f"unknown field (allowed: {', '.join(sorted(allowed))})")


def _probability(obj: Mapping[str, Any], path: str) -> float:
    p = obj.get("p", 1.0)
    # compared as is: float() of a whole number beyond float range would raise OverflowError
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise PolicyError(f"{path}.p", f"must be a number between 0 and 1, not {_short(p)}")
    return float(p)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _enabled(obj: Mapping[str, Any], path: str) -> bool:
    value = obj.get("enabled", True)
    if not isinstance(value, bool):
        raise PolicyError(f"{path}.enabled", "must be true or false")
    return value


def _parse_step(obj: Any, modality: str, path: str, depth: int, check_available: bool) -> Step:
    if depth > MAX_DEPTH:
        raise PolicyError(path, f"steps are nested more than {MAX_DEPTH} deep")
    if not isinstance(obj, Mapping):
        raise PolicyError(path, "must be an object with 'op', 'one_of', 'some_of' or 'sequence'")
    kinds = [k for k in ("op", "one_of", "some_of", "sequence") if k in obj]
    if len(kinds) != 1:
        raise PolicyError(path, "must have exactly one of 'op', 'one_of', 'some_of', 'sequence'")
    kind = kinds[0]
    when = parse_when(obj["when"], modality, f"{path}.when") if "when" in obj else None
    if kind == "op":
        _check_keys(obj, {"op", "p", "params", "enabled", "when"}, path)
        name = obj["op"]
        if not isinstance(name, str):
            raise PolicyError(f"{path}.op", "must be the name of an op")
        cls = _op_class(name, f"{path}.op")
        if cls.preprocess:
            raise PolicyError(f"{path}.op", f"'{name}' is a pre-processing op; put it in \"preprocess\"")
        _check_modality(cls, modality, f"{path}.op")
        if check_available:
            _check_available(cls, f"{path}.op")
        op = _build(name, obj.get("params"), path)
        return OpStep(op, _probability(obj, path), _enabled(obj, path), when)
    allowed = {kind, "p", "enabled", "when"} | ({"n"} if kind == "some_of" else set())
    _check_keys(obj, allowed, path)
    items = obj[kind]
    if not isinstance(items, list) or not items:
        raise PolicyError(f"{path}.{kind}", "must be a non-empty list of steps")
    children = [_parse_step(c, modality, f"{path}.{kind}[{i}]", depth + 1, check_available) for i, c in enumerate(items)]
    n = None
    if kind == "some_of":
        raw = obj.get("n", 1)
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = [raw, raw]
        if (
            not isinstance(raw, list) or len(raw) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw)
            or not 0 <= raw[0] <= raw[1] <= len(children)
        ):
            raise PolicyError(f"{path}.n", f"must be a count or [low, high] between 0 and {len(children)}")
        n = list(raw)
    return Group(kind, children, _probability(obj, path), n, _enabled(obj, path), when)


def _op_class(name: str, path: str) -> type[Op]:
    try:
        return get_op(name, path)
    except ParamError as exc:
        raise PolicyError(exc.path, exc.message) from None


def _build(name: str, values: Any, path: str) -> Op:
    try:
        return build_op(name, values, path)
    except PolicyError:
        raise
    except ParamError as exc:
        raise PolicyError(exc.path, exc.message) from None
    except OverflowError:
        # params.py's number checks call float() on whole numbers beyond float range
        raise PolicyError(f"{path}.params", "a number is too large") from None


def _check_modality(cls: type[Op], modality: str, path: str) -> None:
    if cls.modality != modality:
        raise PolicyError(path, f"op '{cls.name}' works on {cls.modality}, but this policy is for {modality}")


def _check_available(cls: type[Op], path: str) -> None:
    ok, why = cls.availability()
    if not ok:
        raise PolicyError(path, f"op '{cls.name}' is not available here: {why}")


def _count(steps: list[Any]) -> int:
    return sum(1 + (_count(s.children) if isinstance(s, Group) else 0) for s in steps)


# ---- the policy ----------------------------------------------------------------------------------
class Policy:
    """A validated policy. Build with :meth:`from_json` / :meth:`load`; apply with :meth:`apply`."""

    def __init__(self, modality: str, preprocess: list[Op], steps: list[Step], name: str = "") -> None:
        self.modality = modality
        self.preprocess = preprocess
        self.steps = steps
        self.name = name

    # -- (de)serialisation -------------------------------------------------------------------------
    @classmethod
    def from_json(cls, data: Any, check_available: bool = True) -> Policy:
        if not isinstance(data, Mapping):
            raise PolicyError("$", "a policy must be a JSON object")
        data = migrate(dict(data))
        _check_keys(data, {"schema_version", "modality", "name", "preprocess", "steps", "description"}, "$")
        modality = data.get("modality")
        if modality not in MODALITIES:
            raise PolicyError("$.modality", f"must be 'image' or 'text', not {modality!r}")
        name = data.get("name", "")
        if not isinstance(name, str):
            raise PolicyError("$.name", "must be text")
        pre_raw = data.get("preprocess", [])
        if not isinstance(pre_raw, list):
            raise PolicyError("$.preprocess", "must be a list of pre-processing steps")
        preprocess = []
        for i, obj in enumerate(pre_raw):
            path = f"$.preprocess[{i}]"
            if not isinstance(obj, Mapping) or "op" not in obj:
                raise PolicyError(path, "must be an object with an 'op'")
            _check_keys(obj, {"op", "params"}, path)
            if not isinstance(obj["op"], str):
                raise PolicyError(f"{path}.op", "must be the name of an op")
            op_cls = _op_class(obj["op"], f"{path}.op")
            if not op_cls.preprocess:
                raise PolicyError(f"{path}.op", f"'{obj['op']}' is a random op; put it in \"steps\"")
            _check_modality(op_cls, modality, f"{path}.op")
            preprocess.append(_build(obj["op"], obj.get("params"), path))
        steps_raw = data.get("steps", [])
        if not isinstance(steps_raw, list):
            raise PolicyError("$.steps", "must be a list of steps")
        steps = [_parse_step(s, modality, f"$.steps[{i}]", 1, check_available) for i, s in enumerate(steps_raw)]
        if _count(steps) > MAX_STEPS:
            raise PolicyError("$.steps", f"more than {MAX_STEPS} steps")
        return cls(modality, preprocess, steps, name)

    @classmethod
    def loads(cls, text: str, check_available: bool = True) -> Policy:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyError("$", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except RecursionError:
            raise PolicyError("$", "not valid JSON: nested too deeply") from None
        except ValueError as exc:  # e.g. a whole number longer than Python's 4300-digit limit
            raise PolicyError("$", f"not valid JSON: {exc}") from None
        return cls.from_json(data, check_available)

    @classmethod
    def load(cls, path: str, check_available: bool = True) -> Policy:
        from genaug_desktop.core.atomic import read_regular_file

        try:  # a regular file only: a pipe or device named as a policy must not block the reader
            raw = read_regular_file(path, 10 * 1024 * 1024)
        except OSError as exc:
            if exc.errno == errno.EFBIG:
                raise PolicyError("$", f"{path} is over 10 MB; that is not a policy file") from None
            raise PolicyError("$", f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PolicyError("$", f"{path} is not UTF-8 text") from None
        return cls.loads(text, check_available)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "modality": self.modality}
        if self.name:
            out["name"] = self.name
        out["preprocess"] = [{"op": op.name, "params": op.values} for op in self.preprocess]
        out["steps"] = [s.to_json() for s in self.steps]
        return out

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"

    @property
    def sha256(self) -> str:
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def copy(self) -> Policy:
        return Policy.from_json(copy.deepcopy(self.to_json()), check_available=False)

    # -- application -----------------------------------------------------------------------------
    def run_preprocess(self, x: Any) -> Any:
        for op in self.preprocess:
            x = op.apply(x)
        if self.modality == "image":
            x = _ensure_image(x)
        return x

    def apply(
        self, x: Any, seed: int, preprocessed: bool = False, label: str | None = None,
    ) -> tuple[Any, list[dict[str, Any]]]:
        """Pre-process (unless already done), then run the random steps with ``seed``.

        *label* is the item's label, for steps with a ``when`` on the label (None: unlabeled);
        size and length conditions measure *x* itself. Returns the output and the chain of
        applied ops with their drawn parameters (and the steps a condition skipped).
        """
        if not preprocessed:
            x = self.run_preprocess(x)
        chain: list[dict[str, Any]] = []
        x = _run_steps(self.steps, x, make_rng(seed), chain, _label(label))
        return x, chain

    def run_steps(
        self, x: Any, seed: int, start: int = 0, stop: int | None = None, chain: list[dict[str, Any]] | None = None,
        label: str | None = None,
    ) -> tuple[Any, list[dict[str, Any]]]:
        """Run the top-level steps ``start`` to ``stop - 1`` on a pre-processed *x*, drawing exactly
        as :meth:`apply` does, so that a caller may cache the image before a step (the live
        preview re-runs only the edited step and those after it)::

            apply(x, s, preprocessed=True) == run_steps(run_steps(x, s, 0, k)[0], s, k)
        """
        steps = self.steps
        stop = len(steps) if stop is None else stop
        chain = [] if chain is None else chain
        rng = make_rng(seed)
        seeds = _child_seeds(rng, len(steps))
        coins = rng.random(len(steps))
        label = _label(label)
        for i in range(max(0, start), min(stop, len(steps))):
            step = steps[i]
            if step.enabled and coins[i] < step.p:
                x = _fire(step, x, make_rng(seeds[i]), chain, label)
        return x, chain

    @property
    def conditional(self) -> bool:
        """Whether any step has a ``when``."""
        def any_when(steps: list[Step]) -> bool:
            return any(s.when is not None or (isinstance(s, Group) and any_when(s.children)) for s in steps)

        return any_when(self.steps)

    def replay(self, x: Any, chain: list[dict[str, Any]], preprocessed: bool = False) -> Any:
        """Rebuild an output from its recorded chain (ops with their values and drawn parameters).

        A link carries the op's own parameter ``values``, so two steps with the same op and
        different settings replay correctly; a link without them (older chains) uses the first
        step of the policy with that op.
        """
        if not preprocessed:
            x = self.run_preprocess(x)
        by_name: dict[str, Op] = {}
        for s in _walk(self.steps):
            by_name.setdefault(s.op.name, s.op)
        built: dict[tuple[str, str], Op] = {}
        for link in chain:
            if "skipped" in link:
                continue
            name, values = link["op"], link.get("values")
            if values is None:
                op = by_name.get(name) or build_op(name)
            else:
                key = (name, json.dumps(values, sort_keys=True))
                if key not in built:
                    built[key] = build_op(name, values)
                op = built[key]
            x = op.apply(x, **link.get("params", {}))
        return x

    def __call__(self, x: Any, seed: int, label: str | None = None) -> tuple[Any, list[dict[str, Any]]]:
        return self.apply(x, seed, label=label)


def _walk(steps: list[Any]) -> list[OpStep]:
    out: list[OpStep] = []
    for s in steps:
        if isinstance(s, Group):
            out.extend(_walk(s.children))
        else:
            out.append(s)
    return out


def _child_seeds(rng: np.random.Generator, n: int) -> list[int]:
    return [int(v) for v in rng.integers(0, 2**64, size=n, dtype=np.uint64)]


def _label(label: Any) -> str | None:
    return None if label is None else str(label)


def _run_steps(
    steps: list[Step], x: Any, rng: np.random.Generator, chain: list[dict[str, Any]], label: str | None,
) -> Any:
    """Run steps in order; each draws from its own generator seeded from ``rng``.

    Every step's seed and coin are drawn up front, whether the step is enabled or not, so
    toggling a step, a condition skipping it, or a step drawing more or fewer values never
    changes the others' draws.
    """
    seeds = _child_seeds(rng, len(steps))
    coins = rng.random(len(steps))
    for step, seed, coin in zip(steps, seeds, coins):
        if step.enabled and coin < step.p:
            x = _fire(step, x, make_rng(seed), chain, label)
    return x


def _fire(step: Step, x: Any, rng: np.random.Generator, chain: list[dict[str, Any]], label: str | None) -> Any:
    """Apply a step whose coin came up (children picked by one_of/some_of have no coin of their own)."""
    if step.when is not None:
        why = step.when.failure(x, label)
        if why is not None:
            chain.append({"op": step.op.name if isinstance(step, OpStep) else step.kind, "skipped": why})
            return x
    if isinstance(step, OpStep):
        drawn = step.op.sample_params(rng, x)
        # ``values`` is the op's own (validated) dict: the chain alone can rebuild the output.
        chain.append({"op": step.op.name, "params": drawn, "values": step.op.values})
        return step.op.apply(x, **drawn)
    if step.kind == "sequence":
        return _run_steps(step.children, x, rng, chain, label)
    seeds = _child_seeds(rng, len(step.children))
    live = [i for i, c in enumerate(step.children) if c.enabled]
    if not live:
        return x
    if step.kind == "one_of":
        weights = np.array([step.children[i].p for i in live], dtype=np.float64)
        weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(live), 1 / len(live))
        chosen = live[int(rng.choice(len(live), p=weights))]
        return _fire(step.children[chosen], x, make_rng(seeds[chosen]), chain, label)
    assert step.n is not None
    k = min(len(live), int(rng.integers(step.n[0], step.n[1] + 1)))
    picks = sorted(int(i) for i in rng.choice(len(live), size=k, replace=False)) if k else []
    for i in picks:
        x = _fire(step.children[live[i]], x, make_rng(seeds[live[i]]), chain, label)
    return x


def _ensure_image(x: np.ndarray) -> np.ndarray:
    """Random ops see (H, W) greyscale or (H, W, 3) RGB; anything with alpha is flattened on white."""
    from genaug_desktop.core.ops.preprocess import _flatten

    if x.ndim == 3 and x.shape[2] in (2, 4):
        x = _flatten(x, [255, 255, 255])
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[..., 0]
    return np.ascontiguousarray(x)


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    from genaug_desktop.core.versioning import migrate_to_current

    return migrate_to_current(data, SCHEMA_VERSION, MIGRATIONS, PolicyError, "policy")


# ---- images in and out ---------------------------------------------------------------------------
def load_image_array(path: str) -> np.ndarray:
    """Decode an item for augmentation: (H, W) for greyscale modes, (H, W, 4) with alpha, else RGB."""
    from genaug_desktop.core.datasets.images import load_image

    img = load_image(path)
    mode = img.mode
    if mode in ("1", "L", "I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        from genaug_desktop.core.datasets.images import to_display

        img = to_display(img).convert("L") if mode not in ("1", "L") else img.convert("L")
        return np.asarray(img).copy()
    if mode in ("LA", "PA", "RGBA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        return np.asarray(img.convert("RGBA")).copy()
    return np.asarray(img.convert("RGB")).copy()


def encode_png(x: np.ndarray) -> bytes:
    """Lossless PNG bytes of an augmented image (fast compression; the blob store is not an archive)."""
    import cv2

    src = x if x.ndim == 2 else cv2.cvtColor(x, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", src, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ValueError("could not encode PNG")
    return buf.tobytes()


def decode_png(data: bytes) -> np.ndarray:
    import cv2

    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise ValueError("not an image")
    return arr if arr.ndim == 2 else cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
