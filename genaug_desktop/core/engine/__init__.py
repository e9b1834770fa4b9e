"""Where the per-item work of a job runs: ``local`` (this machine's processes or threads, as
always) or ``ray`` (Ray Data, on a Ray started on the spot or on an existing cluster).

The jobs' logic does not change with the engine: per-item work is a pure function of (item,
policy or rules, seed), so it can run anywhere; the driver (the process running the job) stays
the single writer of the project store, iterates the results in input order and stores each
batch in one transaction, exactly as with the local engine. Ray is optional
(``pip install "genaug-desktop[ray]"``) and imported only when a job runs on it.

Shared storage: Ray workers read the source dataset, read/write the project's ``blobs/``
folder and write the export's staging folder (a hidden sibling of the destination) by path, so
on a cluster all three must be on a file system every node mounts at the same path (NFS,
CephFS, Lustre, ...); object stores (S3, fsspec URLs) are not supported. See docs/ray.md.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

ENGINES = ("local", "ray")
INSTALL_HINT = 'pip install "genaug-desktop[ray]"'


class EngineError(Exception):
    """The engine cannot run the job (not installed, cannot connect, a task failed for good);
    the message is for people."""


class EngineUnavailable(EngineError):
    """The chosen engine is not installed here."""


@dataclass(frozen=True, slots=True)
class Engine:
    """Which engine runs a job's per-item work.

    ``workers`` is the number of local processes (``local``) or, for a Ray started on the
    spot, its ``num_cpus``; ``address`` joins an existing Ray cluster instead (``"auto"`` or
    ``"ray://host:10001"``), whose size then decides the parallelism.
    """

    name: str = "local"
    address: str | None = None
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise EngineError(f"unknown engine {self.name!r}; choose one of {', '.join(ENGINES)}")
        if self.address is not None and self.name != "ray":
            raise EngineError("a Ray address only makes sense with the ray engine")

    @property
    def is_ray(self) -> bool:
        return self.name == "ray"


def ray_installed() -> bool:
    """Whether Ray Data can be imported here (checked without importing it)."""
    try:
        return importlib.util.find_spec("ray") is not None and importlib.util.find_spec("ray.data") is not None
    except (ImportError, ValueError):
        return False


def require(engine: Engine) -> None:
    """Raise :class:`EngineUnavailable` (with how to install it) when *engine* cannot run here."""
    if engine.is_ray and not ray_installed():
        raise EngineUnavailable(f"the ray engine needs Ray Data, which is not installed: {INSTALL_HINT}")


def as_engine(engine: Engine | str | None, workers: int | None = None) -> Engine:
    """An :class:`Engine` from a name (``"local"``/``"ray"``), an Engine, or None (local)."""
    if engine is None:
        return Engine("local", workers=workers)
    if isinstance(engine, Engine):
        return engine
    if isinstance(engine, str):
        return Engine(engine, workers=workers)
    raise EngineError(f"not an engine: {engine!r}")
