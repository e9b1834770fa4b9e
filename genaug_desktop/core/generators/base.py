"""The generator protocol: what every generator (built-in, plug-in or TorchScript) provides.

A generator class declares ``name``, ``modality``, ``help`` and two :class:`ParamSet`
declarations (the same mechanism as ops): ``params`` for training and the model's shape,
``sample_params`` for sampling (temperature first). An instance is either untrained, or holds
a model, got from :meth:`Generator.fit_job` or :meth:`Generator.load`.

- ``fit_job(data, params, seed, cancel, resume_from=None)`` is a core Job: it yields
  :class:`Progress` whose ``payload`` is a dict with at least ``epoch``, ``step``, ``loss`` and
  ``val_loss`` (see :data:`PAYLOAD_KEYS`) and returns a :class:`FitResult`. A cancel leaves the
  instance usable: it holds the weights of the last finished step and can sample, or be saved
  and resumed with ``resume_from``.
- ``sample(n, seed, label=None, temperature=1.0, start=0, **options)`` returns ``n``
  :class:`Sample`; sample ``i`` depends only on (model, ``seed``, ``start + i``, label,
  options), so a batch can be rebuilt sample by sample from provenance.
- ``save(path)`` writes one safetensors file (weights + a small JSON config) and returns its
  SHA-256; ``load(path)`` never unpickles anything (see ``checkpoint``).

Nothing here imports torch: built-ins import it inside their methods.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from genaug_desktop.core.jobs import CancelToken, Job
from genaug_desktop.core.params import ParamSet

Modality = Literal["image", "text"]

#: Keys every training Progress payload carries (values may be None while unknown).
PAYLOAD_KEYS = ("epoch", "epochs", "step", "steps", "loss", "val_loss", "elapsed_s", "eta_s", "phase")


class GeneratorError(Exception):
    """A generator cannot do what was asked; the message says why, for a person."""


class CheckpointError(GeneratorError):
    """A checkpoint file is missing, damaged, of the wrong generator, or not weights-only."""


class TrustRequired(GeneratorError):
    """Loading this file would run code from it; the caller must confirm that it trusts it."""


# ---- data in ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Example:
    """One training example: a text, an image file, or an image already in memory (uint8 HxW[xC])."""

    label: str | None
    text: str | None = None
    path: str | None = None
    array: np.ndarray | None = None
    synthetic: bool = False
    ref: str | None = None  # item key, or "candidate:ID" for an accepted synthetic sample


@dataclass(slots=True)
class TrainingData:
    """What a generator trains on. ``labels`` are the classes in a fixed order (``None``, for
    unlabeled examples, sorts last); a model conditions on the index of its label."""

    modality: Modality
    examples: list[Example]
    info: dict[str, Any] = field(default_factory=dict)  # counts for the record (real, synthetic, ...)

    @property
    def labels(self) -> list[str | None]:
        found = {e.label for e in self.examples}
        named = sorted(x for x in found if x is not None)
        return named + ([None] if None in found else [])

    def __len__(self) -> int:
        return len(self.examples)

    @classmethod
    def from_texts(cls, texts: Sequence[str], labels: Sequence[str | None] | None = None) -> TrainingData:
        labels = labels if labels is not None else [None] * len(texts)
        return cls("text", [Example(label=lab, text=t) for t, lab in zip(texts, labels, strict=True)])

    @classmethod
    def from_arrays(cls, images: Sequence[np.ndarray], labels: Sequence[str | None] | None = None) -> TrainingData:
        labels = labels if labels is not None else [None] * len(images)
        return cls("image", [Example(label=lab, array=np.asarray(a)) for a, lab in zip(images, labels, strict=True)])


# ---- results out ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Sample:
    """One generated sample: a ``str`` or a uint8 image (HxW greyscale or HxWx3), its label,
    and the per-sample seed it was drawn with (``index`` is its position in the request)."""

    value: Any
    label: str | None
    seed: int
    index: int


@dataclass(slots=True)
class FitResult:
    """How a training run ended. ``stopped_by`` is ``"epochs"`` or ``"time limit"``."""

    epochs: int
    steps: int
    loss: float | None
    val_loss: float | None
    seconds: float
    stopped_by: str
    history: list[tuple[int, float]] = field(default_factory=list)  # (step, mean train loss)
    val_history: list[tuple[int, float]] = field(default_factory=list)  # (step, val loss)
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs, "steps": self.steps, "loss": self.loss, "val_loss": self.val_loss,
            "seconds": round(self.seconds, 3), "stopped_by": self.stopped_by, **self.metrics,
        }


# ---- seeds --------------------------------------------------------------------------------------------
def derive_seed(base_seed: int, *parts: object) -> int:
    """A 63-bit seed from a base seed and any parts; the same in every process and platform."""
    text = "\x00".join([str(int(base_seed)), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def sample_seed(base_seed: int, index: int) -> int:
    """The seed of sample ``index`` of a request made with ``base_seed``."""
    return derive_seed(base_seed, "sample", index)


def sample_rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


# ---- the protocol -------------------------------------------------------------------------------------
class Generator:
    """Base of every generator. Subclasses set the class attributes and implement
    :meth:`fit_job`, :meth:`sample`, :meth:`state_arrays` and :meth:`restore`."""

    name: ClassVar[str] = ""
    modality: ClassVar[str] = ""
    help: ClassVar[str] = ""
    params: ClassVar[ParamSet] = ParamSet()
    sample_params: ClassVar[ParamSet] = ParamSet()
    #: False for generators that can only sample (e.g. a TorchScript file)
    trainable: ClassVar[bool] = True
    #: where the class came from; the registry sets it for plug-ins
    source: ClassVar[str] = "built-in"

    def __init__(self) -> None:
        #: JSON config of the trained model (params, labels, model details, training state)
        self.config: dict[str, Any] | None = None
        self.checkpoint_sha256: str | None = None
        self.checkpoint_path: str | None = None

    # -- description --------------------------------------------------------------------------------
    @classmethod
    def availability(cls) -> tuple[bool, str | None]:
        """Whether the generator can run here, and if not why (and how to fix it)."""
        return True, None

    @classmethod
    def describe(cls) -> dict[str, Any]:
        available, why = cls.availability()
        return {
            "name": cls.name, "modality": cls.modality, "params": cls.params.schema(),
            "available": available, "why": why, "help": cls.help,
            "sample_params": cls.sample_params.schema(), "trainable": cls.trainable, "source": cls.source,
        }

    # -- state ------------------------------------------------------------------------------------------
    @property
    def trained(self) -> bool:
        return self.config is not None

    @property
    def labels(self) -> list[str | None]:
        """The classes this model conditions on (``[None]`` when it was trained without labels)."""
        if self.config is None:
            return []
        return list(self.config.get("labels", [None]))

    def require_trained(self) -> dict[str, Any]:
        if self.config is None:
            raise GeneratorError(f"{self.name} has no model yet: train it or load a checkpoint first")
        return self.config

    # -- training and sampling --------------------------------------------------------------------------
    def fit_job(
        self,
        data: TrainingData,
        params: Mapping[str, Any] | None = None,
        seed: int = 0,
        cancel: CancelToken | None = None,
        resume_from: str | None = None,
    ) -> Job[FitResult]:
        raise GeneratorError(f"{self.name} cannot be trained here")

    def sample(
        self, n: int, seed: int, label: str | None = None, temperature: float = 1.0, start: int = 0, **options: Any
    ) -> list[Sample]:
        raise NotImplementedError

    def sample_options(self, temperature: float = 1.0, **options: Any) -> dict[str, Any]:
        """Validated sampling options (temperature and the rest of ``sample_params``)."""
        values = dict(options)
        if "temperature" in self.sample_params.names():
            values["temperature"] = temperature
        return self.sample_params.validate(values, "$.sample")

    def pick_labels(self, n: int, seed: int, label: str | None, start: int = 0) -> list[str | None]:
        """The label of each requested sample: *label* itself, or (when None and the model has
        classes) drawn per sample from the training class frequencies with the sample's seed."""
        labels = self.labels
        if label is not None:
            if label not in labels:
                known = ", ".join(repr(x) for x in labels if x is not None) or "none (trained without labels)"
                raise GeneratorError(f"this {self.name} model has no class {label!r}; its classes: {known}")
            return [label] * n
        if labels == [None] or not labels:
            return [None] * n
        counts = np.asarray(self.require_trained().get("class_counts") or [1] * len(labels), dtype=np.float64)
        named = [i for i, x in enumerate(labels) if x is not None]
        p = counts[named] / counts[named].sum()
        cdf = np.cumsum(p)
        out: list[str | None] = []
        for i in range(n):
            u = sample_rng(derive_seed(seed, "label", start + i)).random()
            out.append(labels[named[min(int(np.searchsorted(cdf, u, side="right")), len(named) - 1)]])
        return out

    # -- checkpoints --------------------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        """Every array a checkpoint holds (weights; optimizer and RNG state when resumable)."""
        raise NotImplementedError

    def restore(self, config: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Rebuild the model from a checkpoint's config and arrays."""
        raise NotImplementedError

    def save(self, path: str) -> str:
        """Write a checkpoint (atomically) and return its SHA-256."""
        from genaug_desktop.core.generators.checkpoint import write_checkpoint

        self.require_trained()
        arrays = self.state_arrays()  # may add optimizer details to the config
        config = dict(self.require_trained())
        config["generator"] = self.name
        sha = write_checkpoint(path, config, arrays)
        self.checkpoint_sha256, self.checkpoint_path = sha, os.path.abspath(path)
        return sha

    @classmethod
    def load(cls, path: str) -> Generator:
        """Load a checkpoint written by :meth:`save` (weights only; nothing is unpickled)."""
        from genaug_desktop.core.generators.checkpoint import read_checkpoint

        ckpt = read_checkpoint(path)
        if ckpt.config.get("generator") != cls.name:
            raise CheckpointError(
                f"{path} is a checkpoint of {ckpt.config.get('generator')!r}, not of {cls.name!r}"
            )
        gen = cls()
        gen.restore(ckpt.config, ckpt.arrays)
        gen.checkpoint_sha256, gen.checkpoint_path = ckpt.sha256, os.path.abspath(path)
        return gen


# ---- torch helpers (import torch only when called) ------------------------------------------------------
def torch_available() -> tuple[bool, str | None]:
    """Whether torch and safetensors can be imported, without importing them."""
    for module, hint in (("torch", "pip install torch==2.13.0"), ("safetensors", "pip install safetensors")):
        if importlib.util.find_spec(module) is None:
            return False, f"{module} is not installed ({hint})"
    return True, None


def pick_device() -> str:
    """``"cuda"`` when a GPU is usable, else ``"cpu"``. ``GENAUG_DEVICE`` overrides it."""
    forced = os.environ.get("GENAUG_DEVICE")
    if forced:
        return forced
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def torch_threads() -> int:
    """Intra-op threads for training and sampling: one core fewer than this process may use
    (at most 8), or ``GENAUG_TORCH_THREADS``.

    Why not every core: torch's OpenMP workers spin-wait for each other, so when anything else
    wants a core (the window, thumbnail workers, another program) a step can take ten times
    longer; on the 2-core test machine 2 threads under load were over 10x slower than 1.
    """
    forced = os.environ.get("GENAUG_TORCH_THREADS")
    if forced:
        return max(1, int(forced))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores - 1, 8))


def configure_torch() -> None:
    """Set torch's intra-op threads (see :func:`torch_threads`)."""
    import torch

    wanted = torch_threads()
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
