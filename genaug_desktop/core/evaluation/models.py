"""The small models the evaluation trains: a CNN for images, hashed character n-grams with a
linear classifier for text. torch is imported inside functions only (core must not load it).

Training is deterministic on CPU for a given seed: one thread, deterministic algorithms, a
seeded initialisation and a seeded shuffle. Both settings are restored afterwards.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

IMAGE_SIZE = 32
TEXT_DIM = 4096
NGRAMS = (1, 2, 3, 4)


def text_features(texts: Sequence[str], dim: int = TEXT_DIM) -> np.ndarray:
    """Bag of character n-grams, hashed (CRC-32, stable across runs) into *dim* buckets;
    log counts, L2-normalised rows."""
    out = np.zeros((len(texts), dim), np.float32)
    for row, text in enumerate(texts):
        padded = f" {' '.join(text.lower().split())} "
        for n in NGRAMS:
            for i in range(max(0, len(padded) - n + 1)):
                out[row, zlib.crc32(f"{n}\x00{padded[i:i + n]}".encode()) % dim] += 1.0
    np.log1p(out, out=out)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out /= np.maximum(norms, 1e-8)
    return out


def image_tensor(arrays: Sequence[np.ndarray], channels: int, size: int = IMAGE_SIZE) -> np.ndarray:
    """(N, C, size, size) float32 in [0, 1] from decoded images (grey, RGB or RGBA, 8 or 16 bit)."""
    import cv2

    out = np.zeros((len(arrays), channels, size, size), np.float32)
    for i, arr in enumerate(arrays):
        a = arr
        if a.dtype == np.uint16:
            a = (a >> 8).astype(np.uint8)
        elif a.dtype != np.uint8:
            a = np.clip(a, 0, 255).astype(np.uint8)
        if a.ndim == 3 and a.shape[2] == 4:
            a = a[:, :, :3]
        if a.ndim == 3 and a.shape[2] == 1:
            a = a[:, :, 0]
        if channels == 1 and a.ndim == 3:
            a = cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY)
        elif channels == 3 and a.ndim == 2:
            a = np.stack([a] * 3, axis=2)
        interp = cv2.INTER_AREA if min(a.shape[:2]) >= size else cv2.INTER_LINEAR
        a = cv2.resize(np.ascontiguousarray(a), (size, size), interpolation=interp)
        out[i] = (a[None] if a.ndim == 2 else a.transpose(2, 0, 1)).astype(np.float32) / 255.0
    return out


def _build(kind: str, in_shape: tuple[int, ...], n_classes: int) -> Any:
    import torch.nn as nn

    if kind == "image":
        c = in_shape[0]
        return nn.Sequential(
            nn.Conv2d(c, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
            nn.Flatten(), nn.Linear(64, n_classes),
        )
    return nn.Sequential(nn.Linear(in_shape[0], n_classes))


def train_and_predict(
    kind: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    n_classes: int,
    seed: int,
    epochs: int,
    batch_size: int = 32,
    check: Callable[[], None] | None = None,
    steps_per_epoch: int | None = None,
) -> np.ndarray:
    """Train the *kind* model ("image" or "text") from scratch with *seed*; predicted classes of *x_test*.

    Training takes ``epochs * steps_per_epoch`` mini-batches (default: one pass over *x_train*
    per epoch), drawn from successive seeded shuffles of the training set; passing the same
    *steps_per_epoch* to every compared training set gives them the same compute, so that a
    bigger set is not better merely for being trained longer. *check* is called once per epoch
    (e.g. to raise ``Cancelled``)."""
    import torch

    threads = torch.get_num_threads()
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        torch.manual_seed(seed)
        model = _build(kind, tuple(x_train.shape[1:]), n_classes)
        lr = 3e-3 if kind == "image" else 2e-2
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        per_epoch = steps_per_epoch or max(1, -(-len(x_train) // batch_size))
        total_steps = epochs * per_epoch
        # cosine decay to zero: the last steps are small, so the final model does not depend on
        # where the last large step happened to land
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))
        )
        loss_fn = torch.nn.CrossEntropyLoss()
        xt = torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.float32))
        yt = torch.from_numpy(np.asarray(y_train, dtype=np.int64))
        gen = torch.Generator().manual_seed(seed)
        n = len(xt)
        order = torch.randperm(n, generator=gen)
        pos = 0
        model.train()
        for _epoch in range(epochs):
            if check is not None:
                check()
            for _step in range(per_epoch):
                if pos >= n:
                    order, pos = torch.randperm(n, generator=gen), 0
                idx = order[pos:pos + batch_size]
                pos += batch_size
                opt.zero_grad()
                loss = loss_fn(model(xt[idx]), yt[idx])
                loss.backward()
                opt.step()
                sched.step()
        model.eval()
        with torch.no_grad():
            xs = torch.from_numpy(np.ascontiguousarray(x_test, dtype=np.float32))
            preds = [model(xs[s:s + 256]).argmax(1) for s in range(0, len(xs), 256)]
        return torch.cat(preds).numpy() if preds else np.zeros(0, np.int64)
    finally:
        torch.use_deterministic_algorithms(was_deterministic)
        torch.set_num_threads(threads)
