"""Which generators exist: the built-ins, and third-party ones through entry points.

A plug-in package declares, in its ``pyproject.toml``::

    [project.entry-points."genaug_desktop.generators"]
    markov = "my_package.module:MarkovTextGenerator"

where the object is a :class:`~genaug_desktop.core.generators.base.Generator` subclass whose
``name`` is the entry point's name. A plug-in that fails to import, or loads something that
is not a generator, is listed as unavailable with the reason; it never stops the app.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading
from dataclasses import dataclass
from typing import Any

from genaug_desktop.core.generators.base import Generator, GeneratorError
from genaug_desktop.core.params import ParamSet

ENTRY_POINT_GROUP = "genaug_desktop.generators"

_BUILTINS = (
    "genaug_desktop.core.generators.text:CharGRUGenerator",
    "genaug_desktop.core.generators.image:ConvVAEGenerator",
)


@dataclass(frozen=True, slots=True)
class GeneratorEntry:
    """A generator as listed: its class, or why it could not be loaded."""

    name: str
    cls: type[Generator] | None
    source: str
    error: str | None = None

    @property
    def modality(self) -> str | None:
        return self.cls.modality if self.cls is not None else None

    def availability(self) -> tuple[bool, str | None]:
        if self.cls is None:
            return False, self.error
        try:
            return self.cls.availability()
        except Exception as exc:  # a plug-in's own check must not break the listing
            return False, f"its availability check failed ({type(exc).__name__}: {exc})"

    def describe(self) -> dict[str, Any]:
        """The ``genaug generators --json`` row: name, modality, params, available, why (+ more)."""
        available, why = self.availability()
        if self.cls is None:
            return {
                "name": self.name, "modality": None, "params": {}, "available": False, "why": why,
                "help": "", "sample_params": {}, "trainable": False, "source": self.source,
            }
        row = self.cls.describe()
        row.update({"name": self.name, "available": available, "why": why, "source": self.source})
        return row


_lock = threading.Lock()
_cache: dict[str, GeneratorEntry] | None = None


def _load_object(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _check_class(obj: Any, name: str) -> str | None:
    """Why *obj* is not a usable generator class named *name* (None when it is)."""
    if not (isinstance(obj, type) and issubclass(obj, Generator)):
        return f"it loads {obj!r}, which is not a genaug_desktop Generator subclass"
    if obj.name != name:
        return f"the entry point is named {name!r} but its generator calls itself {obj.name!r}"
    if obj.modality not in ("image", "text"):
        return f"its modality is {obj.modality!r}; it must be 'image' or 'text'"
    if not isinstance(obj.params, ParamSet) or not isinstance(obj.sample_params, ParamSet):
        return "its params and sample_params must be ParamSet declarations"
    return None


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _discover() -> dict[str, GeneratorEntry]:
    found: dict[str, GeneratorEntry] = {}
    for spec in _BUILTINS:
        cls = _load_object(spec)
        found[cls.name] = GeneratorEntry(cls.name, cls, "built-in")
    try:
        eps = _entry_points()
    except Exception as exc:  # broken package metadata somewhere on sys.path
        found["(plug-ins)"] = GeneratorEntry(
            "(plug-ins)", None, "plug-in", f"could not list plug-ins: {type(exc).__name__}: {exc}"
        )
        return found
    for ep in sorted(eps, key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        source = f"plug-in {dist.name} {dist.version}" if dist is not None else f"plug-in {ep.value}"
        if ep.name in found:
            taken_by = found[ep.name].source
            found[f"{ep.name} ({source})"] = GeneratorEntry(
                f"{ep.name} ({source})", None, source, f"the name {ep.name!r} is already taken by the {taken_by} one"
            )
            continue
        try:
            obj = ep.load()
        except (Exception, SystemExit) as exc:  # a plug-in must never take the app down
            found[ep.name] = GeneratorEntry(
                ep.name, None, source, f"the plug-in failed to load ({type(exc).__name__}: {exc})"
            )
            continue
        problem = _check_class(obj, ep.name)
        if problem:
            found[ep.name] = GeneratorEntry(ep.name, None, source, f"the plug-in is unusable: {problem}")
            continue
        found[ep.name] = GeneratorEntry(ep.name, obj, source)
    return found


def registry(refresh: bool = False) -> dict[str, GeneratorEntry]:
    """Every generator by name (discovered once; ``refresh`` looks again)."""
    global _cache
    with _lock:
        if _cache is None or refresh:
            _cache = _discover()
        return dict(_cache)


def describe_generators(refresh: bool = False) -> list[dict[str, Any]]:
    """One row per generator, for ``genaug generators --json`` and the GUI's chooser."""
    return [entry.describe() for _name, entry in sorted(registry(refresh).items())]


def get_generator(name: str) -> type[Generator]:
    """The class of an available generator, or :class:`GeneratorError` saying why not."""
    entries = registry()
    entry = entries.get(name)
    if entry is None:
        known = ", ".join(n for n, e in sorted(entries.items()) if e.cls is not None)
        raise GeneratorError(f"unknown generator {name!r} (known: {known}; 'genaug generators' lists them)")
    available, why = entry.availability()
    if not available or entry.cls is None:
        raise GeneratorError(f"generator {name!r} is unavailable: {why}")
    return entry.cls


def load_generator(path: str) -> Generator:
    """Load any generator's checkpoint: the config names the generator, the registry finds it."""
    from genaug_desktop.core.generators.checkpoint import read_checkpoint_config

    name = read_checkpoint_config(path)["generator"]
    return get_generator(name).load(path)
