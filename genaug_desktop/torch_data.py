"""PyTorch integration: a ``Dataset`` over an export and a policy applied on the fly, reproducibly.

Importing this module does not import torch; torch is imported when a sample is turned into a
tensor or a sampler shuffles. Usage::

    from torch.utils.data import DataLoader
    from genaug_desktop.torch_data import EpochSampler, ExportDataset, PolicyTransform

    ds = ExportDataset("exports/run1", split="train", transform=PolicyTransform("flips.json", base_seed=0))
    sampler = EpochSampler(ds, shuffle=True, seed=0)
    loader = DataLoader(ds, batch_size=32, sampler=sampler, num_workers=4, persistent_workers=True)
    for epoch in range(10):
        sampler.set_epoch(epoch)          # fresh augmentations (and order) every epoch
        for images, labels in loader:     # images: (B, C, H, W) float32 in [0, 1]; labels: int64, -1 unlabeled
            ...

Reproducibility: sample *i* in epoch *e* is augmented with the seed
``sample_seed(base_seed, e, i)`` (a SHA-256 derivation, like the app's ``derive_seed``), so the
output depends on (base seed, epoch, index) only: it is the same with 0, 1 or N workers, with
any batch size, in any process and on any run.

How the epoch reaches the workers: :class:`EpochSampler` lives in the main process and yields
``(epoch, index)`` pairs, which the dataset accepts as indices. That works with
``persistent_workers=True`` (whose copies of the dataset never see a later ``set_epoch``).
Without the sampler, ``dataset.set_epoch(e)`` also works, but only when it is called before
the loader's iterator is created for that epoch and workers are not persistent (each
``iter(loader)`` then sends workers a fresh copy of the dataset).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from genaug_desktop.api import ExportReader, apply_policy, load_policy
from genaug_desktop.core.policy import Policy, derive_seed

__all__ = ["EpochSampler", "ExportDataset", "PolicyTransform", "sample_seed"]


def sample_seed(base_seed: int, epoch: int, index: int) -> int:
    """The 63-bit seed for sample *index* in *epoch*; stable across processes and platforms."""
    return derive_seed(int(base_seed), f"torch-epoch:{int(epoch)}", int(index))


class PolicyTransform:
    """Applies a policy (a :class:`Policy`, a policy file path or dict) with per-sample seeds.

    ``transform(x, index, epoch=None, label=None)`` returns the augmented ``x`` (PIL in -> PIL
    out, uint8 array -> array, float array in [0, 1] -> float32 array in [0, 1], str -> str). Float
    arrays (an npz export made with ``--normalize 0-1``) go through the ops as uint8 (``x * 255``,
    rounded), so they come back on the 1/255 grid; floats outside [0, 1] (``mean/std``, ``l1``,
    ``l2``) are refused with a :class:`ValueError` that names the export option to use. ``epoch`` defaults to the one set with
    :meth:`set_epoch`; ``label`` feeds the steps with a ``when`` on the label (:class:`ExportDataset`
    passes each sample's label). ``transform.apply(...)`` also returns the drawn op chain.
    Picklable (the policy travels as JSON).
    """

    def __init__(self, policy: Policy | str | os.PathLike[str] | Mapping[str, Any], base_seed: int = 0) -> None:
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy)
        self.base_seed = int(base_seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def seed_for(self, index: int, epoch: int | None = None) -> int:
        return sample_seed(self.base_seed, self.epoch if epoch is None else epoch, index)

    def apply(
        self, x: Any, index: int, epoch: int | None = None, label: str | None = None,
    ) -> tuple[Any, list[dict[str, Any]]]:
        seed = self.seed_for(index, epoch)
        if isinstance(x, np.ndarray) and self.policy.modality == "image" and x.dtype.kind == "f":
            return _apply_to_unit_floats(self.policy, x, seed, label)
        return apply_policy(self.policy, x, seed, label=label)

    def __call__(self, x: Any, index: int, epoch: int | None = None, label: str | None = None) -> Any:
        return self.apply(x, index, epoch, label)[0]

    def __getstate__(self) -> dict[str, Any]:
        return {"policy": self.policy.to_json(), "base_seed": self.base_seed, "epoch": self.epoch}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.policy = Policy.from_json(state["policy"], check_available=False)
        self.base_seed = state["base_seed"]
        self.epoch = state["epoch"]

    def __repr__(self) -> str:
        return f"PolicyTransform({self.policy.name or self.policy.sha256[:12]!r}, base_seed={self.base_seed})"


#: why a policy cannot augment normalised pixels, and what to do instead
NORMALISED_HINT = (
    "a PolicyTransform augments pixels as uint8 or as floats in [0, 1]; export with '--normalize none' "
    "(or '--normalize 0-1') and normalise in your training code after the transform"
)


def _apply_to_unit_floats(policy: Policy, x: np.ndarray, seed: int, label: str | None) -> tuple[Any, list[dict[str, Any]]]:
    """A float image in [0, 1] through the policy's uint8 ops, and back to float32 in [0, 1]."""
    if x.size and not (np.isfinite(x).all() and float(x.min()) >= 0.0 and float(x.max()) <= 1.0):
        raise ValueError(
            f"this float image has values from {float(np.nanmin(x)):.3g} to {float(np.nanmax(x)):.3g}, not [0, 1] "
            f"(normalised with mean/std, l1 or l2?): {NORMALISED_HINT}"
        )
    one_channel = x.ndim == 3 and x.shape[2] == 1
    pixels = np.rint((x[..., 0] if one_channel else x) * 255.0).astype(np.uint8)
    out, chain = apply_policy(policy, pixels, seed, label=label)
    back = out.astype(np.float32) / np.float32(255.0)
    return (back[..., None] if one_channel and back.ndim == 2 else back), chain


class ExportDataset:
    """A map-style ``torch.utils.data.Dataset`` over an export made by genaug-desktop (any format).

    ``ds[i]`` (or ``ds[(epoch, i)]``, as :class:`EpochSampler` yields) returns:

    - ``output="tuple"`` (default): ``(x, label_id)``; ``label_id`` is an int, -1 when unlabeled.
    - ``output="dict"``: ``{"image" | "text", "label_id", "label" ("" when unlabeled), "split",
      "uid", "origin", "index", "epoch", "provenance" (JSON text)}`` (collates with the default
      ``collate_fn``).

    Images become (C, H, W) tensors: float32 in [0, 1] (``image_dtype="float32"``) or uint8
    (``image_dtype="uint8"``); C is 1 (grey), 3 (RGB) or 4 (RGBA, only without a policy: policies
    flatten alpha on white). npz exports made with normalisation stay float32 as stored. Text stays ``str``.

    ``color="rgb"`` or ``"grey"`` converts every image (before the transform) so that exports
    mixing grey and colour images stack into batches; ``"keep"`` (default) leaves them as stored.

    *transform*: a :class:`PolicyTransform` (called with the sample's index, epoch and label, so
    conditional steps see the label the export stored), or any
    callable taking the uint8 HWC array (or the text) and returning an array, PIL image, tensor or text.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | ExportReader,
        split: str | None = None,
        transform: PolicyTransform | Callable[[Any], Any] | None = None,
        output: str = "tuple",
        image_dtype: str = "float32",
        color: str = "keep",
        verify: bool = False,
    ) -> None:
        if output not in ("tuple", "dict"):
            raise ValueError("output must be 'tuple' or 'dict'")
        if image_dtype not in ("float32", "uint8"):
            raise ValueError("image_dtype must be 'float32' or 'uint8'")
        if color not in ("keep", "rgb", "grey"):
            raise ValueError("color must be 'keep', 'rgb' or 'grey'")
        self.color = color
        if isinstance(path, ExportReader):
            if split is not None and path.split != split:
                raise ValueError("pass split= to open_export, or a path here")
            self.reader = path
        else:
            self.reader = ExportReader(path, split=split, verify=verify)
        normalize = str((self.reader.manifest.get("options") or {}).get("normalize") or "none")
        if isinstance(transform, PolicyTransform) and self.reader.modality == "image" and normalize not in ("none", "0-1"):
            # Fail here, not from inside a DataLoader worker at the first batch.
            raise ValueError(f"{self.reader.path} is an npz export made with '--normalize {normalize}': {NORMALISED_HINT}")
        self.transform = transform
        self.output = output
        self.image_dtype = image_dtype
        self.epoch = 0

    @property
    def classes(self) -> list[str]:
        return self.reader.classes

    def set_epoch(self, epoch: int) -> None:
        """The epoch for plain integer indices (see the module notes for workers)."""
        self.epoch = int(epoch)
        if isinstance(self.transform, PolicyTransform):
            self.transform.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.reader)

    def __getitem__(self, key: int | tuple[int, int]) -> Any:
        if isinstance(key, tuple):
            epoch, index = int(key[0]), int(key[1])
        else:
            epoch, index = self.epoch, int(key)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        text_mode = self.reader.modality == "text"
        x: Any = self.reader.text(index) if text_mode else self.reader.load_array(index)
        if not text_mode and x.ndim == 3 and x.shape[2] == 1 and x.dtype == np.uint8:
            x = x[..., 0]  # npz keeps a channel axis; policies see (H, W) for grey
        if not text_mode and self.color != "keep" and x.dtype == np.uint8:
            from genaug_desktop.core.export.imaging import convert_color

            x = convert_color(x, self.color)
        if self.transform is not None:
            if isinstance(self.transform, PolicyTransform):
                x = self.transform(x, index, epoch, self.reader.label(index))
            else:
                x = self.transform(x)
        if not text_mode:
            x = self._to_tensor(x)
        label_id = self.reader.label_id(index)
        label_id = -1 if label_id is None else label_id
        if self.output == "tuple":
            return x, label_id
        info = self.reader.info(index)
        return {
            ("text" if text_mode else "image"): x, "label_id": label_id, "label": info["label"] or "",
            "split": info["split"], "uid": info["uid"], "origin": info["origin"], "index": index, "epoch": epoch,
            "provenance": json.dumps(info["provenance"], sort_keys=True),
        }

    def _to_tensor(self, x: Any) -> Any:
        import torch

        if isinstance(x, torch.Tensor):
            return x
        if not isinstance(x, np.ndarray):  # e.g. a PIL image from a user's transform
            x = np.asarray(x)
        if x.ndim == 2:
            x = x[..., None]
        chw = np.ascontiguousarray(x.transpose(2, 0, 1))
        t = torch.from_numpy(chw if chw.flags.writeable else chw.copy())
        if t.dtype == torch.uint8:
            return t if self.image_dtype == "uint8" else t.to(torch.float32).div_(255.0)
        return t.to(torch.float32)

    def __repr__(self) -> str:
        return f"ExportDataset({self.reader!r}, transform={self.transform!r})"


class EpochSampler:
    """A sampler yielding ``(epoch, index)`` pairs, so the epoch reaches every worker, persistent or not.

    Wraps ``range(len(dataset))`` (in order, or shuffled with a generator seeded from
    (``seed``, epoch) when ``shuffle=True``), or any other sampler / iterable of indices passed as
    ``sampler=``. Call :meth:`set_epoch` before iterating the loader for each epoch.
    """

    def __init__(self, dataset: Any = None, shuffle: bool = False, seed: int = 0,
                 sampler: Iterable[int] | None = None) -> None:
        if (dataset is None) == (sampler is None):
            raise ValueError("pass a dataset or a sampler")
        self.n = len(dataset) if dataset is not None else None
        self.sampler = sampler
        self.shuffle = shuffle
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        if self.sampler is not None and hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def _indices(self) -> Iterable[int]:
        if self.sampler is not None:
            return self.sampler
        assert self.n is not None
        if not self.shuffle:
            return range(self.n)
        import torch

        g = torch.Generator()
        g.manual_seed(sample_seed(self.seed, self.epoch, -1))
        return torch.randperm(self.n, generator=g).tolist()

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch = self.epoch
        for i in self._indices():
            yield epoch, int(i)

    def __len__(self) -> int:
        return self.n if self.n is not None else len(self.sampler)  # type: ignore[arg-type]
