"""The op registry: every augmentation and pre-processing op, declared once.

An op class declares ``name``, ``modality``, ``category``, ``help`` and its :class:`ParamSet`.
An instance holds validated parameters. Randomness lives in one place: ``sample_params(rng, x)``
draws the concrete values for one application, and ``apply(x, **drawn)`` is deterministic, so a
candidate can be rebuilt from the drawn values in its provenance. Subclasses register
themselves by being defined (``__init_subclass__``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from genaug_desktop.core.params import ParamError, ParamSet

_REGISTRY: dict[str, type[Op]] = {}


class Op:
    """Base of every op. ``x`` is a numpy uint8 image (H, W, C) or a ``str``."""

    name: ClassVar[str] = ""
    modality: ClassVar[str] = ""
    category: ClassVar[str] = ""
    help: ClassVar[str] = ""
    params: ClassVar[ParamSet] = ParamSet()
    #: deterministic ops draw nothing; pre-processing ops are always deterministic
    deterministic: ClassVar[bool] = False
    preprocess: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            if cls.name in _REGISTRY:
                raise RuntimeError(f"two ops are named {cls.name!r}")
            _REGISTRY[cls.name] = cls

    def __init__(self, values: Mapping[str, Any] | None = None, path: str = "$.params") -> None:
        self.values = self.params.validate(values, path)
        self.check(path)

    def check(self, path: str) -> None:
        """Cross-field validation (e.g. min below max); raise ParamError."""

    # -- availability ----------------------------------------------------------------------------
    @classmethod
    def availability(cls) -> tuple[bool, str | None]:
        """Whether the op can run here, and if not why and how to enable it."""
        return True, None

    # -- randomness and application ---------------------------------------------------------------
    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        """Draw the concrete values for one application (JSON-serialisable)."""
        return {}

    def apply(self, x: Any, **drawn: Any) -> Any:
        raise NotImplementedError

    def __call__(self, x: Any, rng: np.random.Generator) -> tuple[Any, dict[str, Any]]:
        drawn = self.sample_params(rng, x)
        return self.apply(x, **drawn), drawn

    @classmethod
    def describe(cls) -> dict[str, Any]:
        available, why = cls.availability()
        return {
            "name": cls.name, "modality": cls.modality, "category": cls.category, "help": cls.help,
            "preprocess": cls.preprocess, "params": cls.params.schema(), "available": available, "why": why,
        }


def _load_builtin() -> None:
    # Importing the modules registers their ops; they import heavy libraries lazily.
    from genaug_desktop.core.ops import image, preprocess, text  # noqa: F401


def registry() -> dict[str, type[Op]]:
    """All ops by name (built-ins are loaded on first use)."""
    _load_builtin()
    return dict(_REGISTRY)


def get_op(name: str, path: str = "$.op") -> type[Op]:
    ops = registry()
    if name not in ops:
        close = [n for n in ops if n.startswith(name[:3])] if isinstance(name, str) else []
        hint = f"; did you mean {', '.join(close[:3])}?" if close else "; 'genaug ops' lists them"
        raise ParamError(path, f"unknown op {name!r}{hint}")
    return ops[name]


def build_op(name: str, values: Mapping[str, Any] | None = None, path: str = "$") -> Op:
    cls = get_op(name, f"{path}.op")
    return cls(values, f"{path}.params")
