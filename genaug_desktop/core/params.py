"""Parameter declarations: one place says what a parameter is, and everything reads it.

An op, rule or generator declares its parameters once as :class:`Param` objects. From that
declaration come validation (with the JSON path of a bad field), defaults, the JSON schema that
``genaug ops --json`` prints, the editor form in the GUI, and the registry-wide tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

ParamKind = Literal["float", "int", "bool", "choice", "float_range", "int_range", "color", "str", "str_list"]


class ParamError(ValueError):
    """A parameter value is wrong; ``path`` is the JSON path of the field (e.g. ``$.steps[2].params.angle``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _is_number(value: object) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float (e.g. 10**400 in a JSON file)
        return False


@dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter.

    ``low``/``high`` bound numbers and both ends of ranges; ``choices`` lists the allowed values
    of a ``choice``; ``step`` is a hint for sliders; ``max_len`` bounds strings and lists.
    """

    name: str
    kind: ParamKind
    default: Any
    help: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    step: float | None = None
    max_len: int = 1000
    label: str | None = None

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def _bounds(self, value: float, path: str) -> None:
        if self.low is not None and value < self.low:
            raise ParamError(path, f"{value} is below the minimum {self.low}")
        if self.high is not None and value > self.high:
            raise ParamError(path, f"{value} is above the maximum {self.high}")

    def validate(self, value: Any, path: str) -> Any:
        """Return the value in canonical form, or raise :class:`ParamError`."""
        kind = self.kind
        if kind == "bool":
            if not isinstance(value, bool):
                raise ParamError(path, f"must be true or false, not {_describe(value)}")
            return value
        if kind == "int":
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ParamError(path, f"must be a whole number, not {_describe(value)}")
            self._bounds(value, path)
            return value
        if kind == "float":
            if not _is_number(value):
                raise ParamError(path, f"must be a number, not {_describe(value)}")
            self._bounds(float(value), path)
            return float(value)
        if kind in ("float_range", "int_range"):
            if _is_number(value):
                value = [value, value]
            if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(_is_number(v) for v in value):
                raise ParamError(path, f"must be a [low, high] pair of numbers, not {_describe(value)}")
            lo, hi = value
            if kind == "int_range":
                if not all(float(v).is_integer() for v in value):
                    raise ParamError(path, f"must be a [low, high] pair of whole numbers, not {value}")
                lo, hi = int(lo), int(hi)
            else:
                lo, hi = float(lo), float(hi)
            if lo > hi:
                raise ParamError(path, f"low {lo} is above high {hi}")
            self._bounds(lo, path)
            self._bounds(hi, path)
            return [lo, hi]
        if kind == "choice":
            assert self.choices is not None
            if not any(c == value and isinstance(c, bool) == isinstance(value, bool) for c in self.choices):
                raise ParamError(path, f"must be one of {', '.join(map(repr, self.choices))}, not {_describe(value)}")
            return value
        if kind == "color":
            if not isinstance(value, (list, tuple)) or len(value) != 3 or not all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value
            ):
                raise ParamError(path, f"must be an [r, g, b] colour of whole numbers 0-255, not {_describe(value)}")
            return list(value)
        if kind == "str":
            if not isinstance(value, str):
                raise ParamError(path, f"must be text, not {_describe(value)}")
            if len(value) > self.max_len:
                raise ParamError(path, f"is longer than {self.max_len} characters")
            return value
        if kind == "str_list":
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ParamError(path, f"must be a list of texts, not {_describe(value)}")
            if len(value) > self.max_len:
                raise ParamError(path, f"has more than {self.max_len} entries")
            return list(value)
        raise AssertionError(f"unknown parameter kind {kind}")

    def to_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "default": self.default, "help": self.help}
        if self.low is not None:
            out["minimum"] = self.low
        if self.high is not None:
            out["maximum"] = self.high
        if self.choices is not None:
            out["choices"] = list(self.choices)
        if self.step is not None:
            out["step"] = self.step
        return out


def _describe(value: object) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return repr(value)


@dataclass(frozen=True, slots=True)
class ParamSet:
    """An ordered set of declarations with whole-object validation."""

    params: tuple[Param, ...] = field(default_factory=tuple)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.params)

    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def defaults(self) -> dict[str, Any]:
        return {p.name: _copy(p.default) for p in self.params}

    def validate(self, values: Mapping[str, Any] | None, path: str) -> dict[str, Any]:
        if values is None:
            values = {}
        if not isinstance(values, Mapping):
            raise ParamError(path, f"must be an object of parameters, not {_describe(values)}")
        by_name = {p.name: p for p in self.params}
        for key in values:
            if key not in by_name:
                known = ", ".join(by_name) or "none"
                raise ParamError(f"{path}.{key}", f"unknown parameter (known: {known})")
        out = {}
        for p in self.params:
            out[p.name] = p.validate(values[p.name], f"{path}.{p.name}") if p.name in values else _copy(p.default)
        return out

    def schema(self) -> dict[str, Any]:
        return {p.name: p.to_schema() for p in self.params}


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


def params(*items: Param) -> ParamSet:
    return ParamSet(tuple(items))


def uniform(rng: Any, pair: Sequence[float]) -> float:
    """Draw from a [low, high] range (a point range gives its value without using the rng)."""
    lo, hi = pair
    if lo == hi:
        return float(lo)
    return float(rng.uniform(lo, hi))


def integers(rng: Any, pair: Sequence[int]) -> int:
    lo, hi = pair
    if lo == hi:
        return int(lo)
    return int(rng.integers(lo, hi + 1))
