"""Checkpoint files: weights and a small JSON config, never a pickle.

A checkpoint is one safetensors file: named arrays (the model's weights, and for a resumable
run the optimizer and RNG state) plus the JSON config in the header's ``__metadata__`` under
``"genaug"``. One file means one SHA-256 covers weights and config; the project records it and
every candidate sampled from the checkpoint cites it.

Reading never runs code from the file. A safetensors file is parsed as data. A file in
PyTorch's own format is accepted only through ``torch.load(weights_only=True)`` (a dict with
``"config"`` and ``"tensors"``), whose restricted unpickler refuses any object that is not a
tensor or a plain container, so a crafted pickle raises :class:`CheckpointError` instead of
running. Anything else is refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from genaug_desktop.core.generators.base import CheckpointError

FORMAT = "genaug-generator-checkpoint"
FORMAT_VERSION = 1
CONFIG_KEY = "genaug"
SUFFIX = ".safetensors"
#: a header larger than this is not one of ours (and would only waste memory)
MAX_HEADER_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Checkpoint:
    config: dict[str, Any]
    arrays: dict[str, np.ndarray]
    sha256: str
    path: str


def file_sha256(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def checkpoint_bytes(config: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    from safetensors.numpy import save

    full = {"format": FORMAT, "format_version": FORMAT_VERSION, **config}
    tensors = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    return save(tensors, metadata={CONFIG_KEY: json.dumps(full, sort_keys=True)})


def write_checkpoint(path: str, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> str:
    """Write atomically (temporary file, fsync, rename) and return the file's SHA-256."""
    from genaug_desktop.core.atomic import write_atomic

    data = checkpoint_bytes(config, arrays)
    write_atomic(path, data, suffix=SUFFIX)
    return hashlib.sha256(data).hexdigest()


def _safetensors_header(data: bytes) -> dict[str, Any] | None:
    """The parsed header when *data* is a safetensors file, else None."""
    if len(data) < 10:
        return None
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(data) or data[8:9] != b"{":
        return None
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return header if isinstance(header, dict) else None


def read_checkpoint_config(path: str) -> dict[str, Any]:
    """Only the JSON config (reads the header, not the weights); for listings."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) == 8:
                (n,) = struct.unpack("<Q", head)
                if n <= MAX_HEADER_BYTES:
                    head += fh.read(n)
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
    header = _safetensors_header(head)
    if header is None:
        return read_checkpoint(path).config
    return _config_from_metadata(header.get("__metadata__"), path)


def _config_from_metadata(metadata: Any, path: str) -> dict[str, Any]:
    if not isinstance(metadata, dict) or CONFIG_KEY not in metadata:
        raise CheckpointError(f"{path} is a safetensors file but not a genaug generator checkpoint (no config)")
    return _check_config(metadata[CONFIG_KEY], path)


def _check_config(raw: Any, path: str) -> dict[str, Any]:
    try:
        config = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: the checkpoint's config is not valid JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a genaug generator checkpoint")
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer genaug-desktop (checkpoint format {version}; "
            f"this version reads up to {FORMAT_VERSION}); please upgrade"
        )
    if not isinstance(config.get("generator"), str):
        raise CheckpointError(f"{path}: the checkpoint does not say which generator made it")
    return config


def read_checkpoint(path: str) -> Checkpoint:
    """Read a checkpoint without running any code from it (see the module docstring)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
    sha = hashlib.sha256(data).hexdigest()
    header = _safetensors_header(data)
    if header is not None:
        from safetensors import SafetensorError
        from safetensors.numpy import load

        config = _config_from_metadata(header.get("__metadata__"), path)
        try:
            arrays = load(data)
        except (SafetensorError, ValueError, TypeError) as exc:
            raise CheckpointError(f"{path} is damaged: {exc}") from None
        return Checkpoint(config, dict(arrays), sha, os.path.abspath(path))
    if data[:4] == b"PK\x03\x04" or data[:1] == b"\x80":
        config, arrays = _read_torch_weights_only(data, path)
        return Checkpoint(config, arrays, sha, os.path.abspath(path))
    raise CheckpointError(f"{path} is not a checkpoint (neither safetensors nor a PyTorch weights file)")


def _read_torch_weights_only(data: bytes, path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    import pickle

    import torch

    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, ValueError, TypeError, AttributeError, EOFError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"refused to load {path}: it is not a weights-only file, and loading it could run code from it ({first})"
        ) from None
    if not isinstance(obj, dict) or "config" not in obj or not isinstance(obj.get("tensors"), dict):
        raise CheckpointError(f"{path} holds weights but is not a genaug generator checkpoint (no config)")
    config = _check_config(obj["config"], path)
    arrays: dict[str, np.ndarray] = {}
    for key, value in obj["tensors"].items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{path}: checkpoint entry {key!r} is not a tensor")
        arrays[key] = value.detach().cpu().numpy()
    return config, arrays
