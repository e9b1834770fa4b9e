"""External generators as TorchScript files: sample from a model trained anywhere.

The file is a ``torch.jit.save`` archive of a module whose ``forward`` has this signature::

    forward(n: int, seed: int, label: int, temperature: float) -> Tensor     # images
    forward(n: int, seed: int, label: int, temperature: float) -> List[str]  # texts

returning ``n`` samples: for images a uint8 tensor N x H x W x C (C = 1 or 3) or N x H x W;
for texts a list of ``n`` strings. ``label`` is an index into the file's labels (-1 when it
has none); the same arguments must give the same output. genaug calls it with ``n=1`` and
each sample's own seed, so every candidate can be rebuilt from its provenance.

The archive carries ``genaug.json`` as an extra file (``_extra_files`` of ``torch.jit.save``)::

    {"name": "my-digits", "modality": "image", "labels": ["0", "1", ...]}

That JSON is read straight from the zip, without loading the module, so a person can see what
the file claims to be before deciding to trust it. Loading the module itself runs code from
the file: :func:`load_torchscript` refuses unless ``confirmed=True`` (the GUI asks; the CLI
needs ``--trust-code``). examples/torchscript_generator/ exports a working one.

TorchScript is deprecated in torch 2.13 (it still works); its ``DeprecationWarning`` is
silenced here and nowhere else.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from genaug_desktop.core.generators.base import (
    Generator,
    GeneratorError,
    Sample,
    TrustRequired,
    derive_seed,
    sample_seed,
)
from genaug_desktop.core.params import Param
from genaug_desktop.core.params import params as declare

META_NAME = "genaug.json"
_DEPRECATED = r"`torch\.jit\.\w+` is deprecated"


@dataclass(frozen=True, slots=True)
class TorchScriptInfo:
    """What a TorchScript file says about itself (read without running it)."""

    path: str
    sha256: str
    name: str
    modality: str
    labels: list[str | None]


def inspect_torchscript(path: str) -> TorchScriptInfo:
    """Read ``genaug.json`` from the archive; runs nothing from the file."""
    return _inspect(_read(path), path)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise GeneratorError(f"cannot read {path}: {exc.strerror or exc}") from None


def _inspect(data: bytes, path: str) -> TorchScriptInfo:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if n.endswith("/extra/" + META_NAME) or n == "extra/" + META_NAME]
            if not names:
                raise GeneratorError(f"{path} has no {META_NAME}; export it with _extra_files (see examples/)")
            meta = json.loads(archive.read(names[0]).decode("utf-8"))
    except zipfile.BadZipFile:
        raise GeneratorError(f"{path} is not a TorchScript archive") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GeneratorError(f"{path}: {META_NAME} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("modality") not in ("image", "text"):
        raise GeneratorError(f"{path}: {META_NAME} must give \"modality\": \"image\" or \"text\"")
    labels = meta.get("labels") or [None]
    if not isinstance(labels, list) or not all(x is None or isinstance(x, str) for x in labels):
        raise GeneratorError(f"{path}: \"labels\" in {META_NAME} must be a list of strings")
    name = meta.get("name") or os.path.splitext(os.path.basename(path))[0]
    sha = hashlib.sha256(data).hexdigest()
    return TorchScriptInfo(os.path.abspath(path), sha, str(name), meta["modality"], labels)


class TorchScriptGenerator(Generator):
    """Samples from a TorchScript file; cannot be trained here."""

    name: ClassVar[str] = "torchscript"
    modality: ClassVar[str] = ""  # per file
    help: ClassVar[str] = "A TorchScript file exported elsewhere (loading it runs its code)."
    trainable: ClassVar[bool] = False
    source: ClassVar[str] = "torchscript"
    sample_params = declare(
        Param("temperature", "float", 1.0, "passed to the model's forward", low=0.0, high=10.0, step=0.05),
    )

    def __init__(self, module: Any, info: TorchScriptInfo) -> None:
        super().__init__()
        self._module = module
        self.info = info
        self.modality = info.modality  # type: ignore[misc]
        self.config = {"generator": self.name, "name": info.name, "labels": info.labels, "class_counts": None}
        self.checkpoint_sha256 = info.sha256
        self.checkpoint_path = info.path

    def sample(
        self, n: int, seed: int, label: str | None = None, temperature: float = 1.0, start: int = 0, **options: Any
    ) -> list[Sample]:
        import torch

        opts = self.sample_options(temperature, **options)
        labels = self.pick_labels(n, seed, label, start)
        index_of = {lab: i for i, lab in enumerate(self.labels)}
        out: list[Sample] = []
        with torch.inference_mode():
            for i, lab in enumerate(labels):
                s = sample_seed(seed, start + i)
                label_arg = -1 if lab is None else index_of[lab]
                try:
                    value = self._module(1, derive_seed(s, "torchscript") & 0x7FFF_FFFF, label_arg, float(opts["temperature"]))
                except Exception as exc:  # the file's code failed: say so, for a person
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    raise GeneratorError(f"{self.info.path}: forward() failed ({first})") from None
                out.append(Sample(self._one(value), lab, s, start + i))
        return out

    def _one(self, value: Any) -> Any:
        import torch

        path = self.info.path
        if self.modality == "text":
            if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], str):
                raise GeneratorError(f"{path}: forward(1, ...) must return a list of one string, not {type(value).__name__}")
            return value[0]
        if not isinstance(value, torch.Tensor) or value.dtype != torch.uint8 or value.ndim not in (3, 4) or value.shape[0] != 1:
            raise GeneratorError(f"{path}: forward(1, ...) must return a uint8 tensor 1xHxWxC or 1xHxW")
        img = value[0].cpu().numpy()
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        if img.ndim == 3 and img.shape[2] not in (3, 4):
            raise GeneratorError(f"{path}: images must have 1, 3 or 4 channels, not {img.shape[2]}")
        return np.ascontiguousarray(img)

    def state_arrays(self) -> dict[str, np.ndarray]:
        raise GeneratorError("a TorchScript generator is its file; there is nothing else to save")


def load_torchscript(path: str, confirmed: bool = False) -> TorchScriptGenerator:
    """Load a TorchScript generator. Loading runs code from the file, so this refuses with
    :class:`TrustRequired` unless the user confirmed that they trust it (``confirmed=True``)."""
    data = _read(path)
    info = _inspect(data, path)
    if not confirmed:
        raise TrustRequired(
            f"loading {path} runs code from that file; only load files you trust "
            "(confirm in the app, or pass --trust-code)"
        )
    import torch

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_DEPRECATED, category=DeprecationWarning)
            module = torch.jit.load(io.BytesIO(data), map_location="cpu")
    except (RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GeneratorError(f"cannot load {path} as TorchScript: {first}") from None
    module.eval()
    return TorchScriptGenerator(module, info)
