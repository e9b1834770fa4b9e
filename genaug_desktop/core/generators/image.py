"""Built-in image generator: a small class-conditional convolutional VAE (32 or 64 px).

Images are centre-cropped to a square and resized to ``size``; greyscale stays one channel
(``channels="auto"`` keeps one channel when every training image is greyscale). The class
enters the encoder and the decoder through learnt embeddings. The loss is the negative ELBO
(Bernoulli pixel likelihood + ``beta`` x KL), in nats per image.

A sample decodes ``z ~ N(0, temperature^2 I)``, drawn from the sample's own seed, to the mean
image: temperature below 1 gives more typical, less varied images.
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar

import numpy as np

from genaug_desktop.core.generators.base import GeneratorError, TrainingData, sample_rng
from genaug_desktop.core.generators.torch_base import TorchGenerator, training_params
from genaug_desktop.core.params import Param
from genaug_desktop.core.params import params as declare


def to_square(image: np.ndarray, size: int, channels: int) -> np.ndarray:
    """An image (HxW or HxWxC uint8) as ``size`` x ``size`` x ``channels`` uint8, centre-cropped."""
    from PIL import Image

    x = np.asarray(image)
    if x.dtype != np.uint8:
        raise GeneratorError(f"images must be 8-bit, not {x.dtype}")
    if x.ndim == 3 and x.shape[2] == 4:  # composite on white: transparent areas are background
        alpha = x[:, :, 3:4].astype(np.float32) / 255.0
        x = (x[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[:, :, 0]
    img = Image.fromarray(x)
    img = img.convert("L") if channels == 1 else img.convert("RGB")
    w, h = img.size
    side = min(w, h)
    if w != h:
        left, top = (w - side) // 2, (h - side) // 2
        img = img.crop((left, top, left + side, top + side))
    if side != size:
        img = img.resize((size, size), Image.Resampling.BICUBIC)
    out = np.asarray(img)
    return out[:, :, None] if out.ndim == 2 else out


class ConvVAEGenerator(TorchGenerator):
    name: ClassVar[str] = "conv_vae"
    modality: ClassVar[str] = "image"
    help: ClassVar[str] = (
        "Class-conditional convolutional variational autoencoder at 32 or 64 px; trains in "
        "minutes on a CPU for small, centred images (digits, icons, glyphs)."
    )
    loss_unit: ClassVar[str] = "nats/image"
    sample_chunk: ClassVar[int] = 128
    clip_grad_norm: ClassVar[float | None] = 50.0
    params = declare(
        Param("size", "choice", 32, "side of the square images the model makes, in pixels", choices=(32, 64)),
        Param("channels", "choice", "auto", "grey, rgb, or auto (grey when every training image is grey)",
              choices=("auto", "grey", "rgb")),
        Param("latent", "int", 16, "size of the latent code", low=2, high=512),
        Param("width", "int", 32, "channels of the first convolution (doubling per layer, up to 8x)", low=8, high=256),
        Param("beta", "float", 1.0, "weight of the KL term: higher gives smoother, less detailed samples",
              low=0.0, high=10.0, step=0.1),
        *training_params(epochs=150, batch_size=64, learning_rate=2e-3),
    )
    sample_params = declare(
        Param("temperature", "float", 1.0, "spread of the latent code: below 1 more typical, above 1 more varied",
              low=0.0, high=3.0, step=0.05),
    )

    # ---- data ----------------------------------------------------------------------------------------
    def _model_config(self, data: TrainingData, values: dict[str, Any]) -> dict[str, Any]:
        channels = {"grey": 1, "rgb": 3}.get(values["channels"])
        return {"size": int(values["size"]), "channels": channels}

    def _encode(self, data: TrainingData, values: dict[str, Any]) -> Any:
        import torch

        from genaug_desktop.core.policy import load_image_array

        config = self.require_trained()
        label_index = {lab: i for i, lab in enumerate(config["labels"])}
        arrays, labels = [], []
        unreadable: list[str] = []
        for e in data.examples:
            if e.label not in label_index:
                continue
            if e.array is not None:
                arrays.append(np.asarray(e.array))
            elif e.path is not None:
                try:
                    arrays.append(load_image_array(e.path))
                except Exception as exc:  # a file that vanished or broke since the scan: skip it, say so
                    unreadable.append(f"{e.ref or e.path}: {exc}")
                    continue
            else:
                continue
            labels.append(label_index[e.label])
        if unreadable:
            config.setdefault("data", {})["unreadable"] = {"count": len(unreadable), "first": unreadable[0]}
        if not arrays:
            why = f" ({len(unreadable)} unreadable, e.g. {unreadable[0]})" if unreadable else ""
            raise GeneratorError(f"conv_vae found no image with a known class to learn from{why}")
        model = config["model"]
        if model["channels"] is None:
            model["channels"] = 1 if all(a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 1) for a in arrays) else 3
        size, channels = int(model["size"]), int(model["channels"])
        stack = np.stack([to_square(a, size, channels) for a in arrays]).transpose(0, 3, 1, 2)
        return _Images(torch.from_numpy(np.ascontiguousarray(stack)), torch.tensor(labels, dtype=torch.long))

    def _batch(self, encoded: Any, idx: Any, device: str) -> tuple[Any, ...]:
        return encoded.images[idx].to(device).float().div_(255.0), encoded.labels[idx].to(device)

    # ---- model ---------------------------------------------------------------------------------------
    def _build_model(self) -> Any:
        config = self.require_trained()
        values, model = config["params"], config["model"]
        return _model_class()(
            channels=int(model["channels"] or 1), size=int(model["size"]), latent=values["latent"],
            width=values["width"], classes=len(config["labels"]),
        )

    def _loss(self, model: Any, batch: tuple[Any, ...], rng: Any) -> tuple[Any, float]:
        import torch
        import torch.nn.functional as F

        x, y = batch
        mu, logvar = model.encode(x, y)
        eps = torch.randn(mu.shape, generator=rng, device=mu.device, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)
        logits = model.decode(z, y)
        n = x.shape[0]
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / n
        beta = float(self.require_trained()["params"]["beta"])
        return recon + beta * kl, float(n)

    # ---- sampling ------------------------------------------------------------------------------------
    def _generate(self, model: Any, label_idx: list[int], seeds: list[int], options: dict[str, Any], device: str) -> list[Any]:
        import torch

        if not seeds:
            return []
        latent = int(self.require_trained()["params"]["latent"])
        temperature = float(options["temperature"])
        z = np.stack([sample_rng(s).standard_normal(latent) for s in seeds]).astype(np.float32) * temperature
        y = torch.tensor(label_idx, dtype=torch.long, device=device)
        images = torch.sigmoid(model.decode(torch.from_numpy(z).to(device), y))
        out = (images * 255.0).round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        return [img[:, :, 0].copy() if img.shape[2] == 1 else img.copy() for img in out]


class _Images:
    __slots__ = ("images", "labels")

    def __init__(self, images: Any, labels: Any) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return int(self.images.shape[0])


@functools.cache
def _model_class() -> Any:
    import torch
    from torch import nn

    class ConvVAE(nn.Module):
        def __init__(self, channels: int, size: int, latent: int, width: int, classes: int) -> None:
            super().__init__()
            downs = int(math.log2(size)) - 2  # down to 4 x 4
            widths = [width * 2 ** min(i, 3) for i in range(downs)]
            enc: list[nn.Module] = []
            c_in = channels
            for w in widths:
                enc += [nn.Conv2d(c_in, w, 4, 2, 1), nn.LeakyReLU(0.2)]
                c_in = w
            self.encoder = nn.Sequential(*enc, nn.Flatten())
            self.top, feat = widths[-1], widths[-1] * 16
            emb = max(8, width)
            self.enc_class = nn.Embedding(classes, emb)
            self.dec_class = nn.Embedding(classes, emb)
            self.stats = nn.Linear(feat + emb, 2 * latent)
            self.expand = nn.Linear(latent + emb, feat)
            dec: list[nn.Module] = []
            rev = widths[::-1]
            for i, w in enumerate(rev):
                out = rev[i + 1] if i + 1 < len(rev) else channels
                dec.append(nn.ConvTranspose2d(w, out, 4, 2, 1))
                if i + 1 < len(rev):
                    dec.append(nn.ReLU())
            self.decoder = nn.Sequential(*dec)

        def encode(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            h = torch.cat([self.encoder(x * 2.0 - 1.0), self.enc_class(y)], dim=1)
            mu, logvar = self.stats(h).chunk(2, dim=1)
            return mu, logvar.clamp(-12.0, 8.0)

        def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            h = torch.relu(self.expand(torch.cat([z, self.dec_class(y)], dim=1)))
            return self.decoder(h.view(-1, self.top, 4, 4))

    return ConvVAE
