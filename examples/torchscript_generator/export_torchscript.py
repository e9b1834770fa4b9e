"""Export a generator as a TorchScript file that genaug-desktop can sample from.

    python examples/torchscript_generator/export_torchscript.py shapes.pt
    python examples/torchscript_generator/export_torchscript.py digits.pt --from-checkpoint \\
        PROJECT.genaug/checkpoints/conv_vae-r0-....safetensors

then::

    genaug sample PROJECT --generator shapes.pt --count 50 --label ring --trust-code

The contract (see genaug_desktop/core/generators/torchscript.py):

- ``forward(n: int, seed: int, label: int, temperature: float)`` returns ``n`` samples: a uint8
  tensor N x H x W x C (C = 1 or 3) for images, or ``List[str]`` for texts; the same arguments
  give the same output. ``label`` indexes the labels below (-1 when there are none).
- ``genaug.json`` rides along as an extra file: ``{"name", "modality", "labels"}``. genaug reads
  it without running the file, to show the user what they are about to trust.

The first form exports a tiny procedural generator (rings and squares, no training), the second
wraps the decoder of a trained built-in ``conv_vae`` checkpoint so the model can be used in
another project or shared without the training data.
"""

from __future__ import annotations

import argparse
import json
import warnings

import torch
from torch import nn

# TorchScript still works in torch 2.13 but warns that it is deprecated.
warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated", category=DeprecationWarning)


class RingsAndSquares(nn.Module):
    """Label 0: a ring, label 1: a square outline; size and noise drawn from the seed."""

    def __init__(self, size: int = 32) -> None:
        super().__init__()
        self.size = size

    def forward(self, n: int, seed: int, label: int, temperature: float) -> torch.Tensor:
        g = torch.Generator()
        g.manual_seed(seed)
        coords = torch.arange(self.size, dtype=torch.float32) - (self.size - 1) / 2.0
        yy = coords.view(-1, 1).expand(self.size, self.size)
        xx = coords.view(1, -1).expand(self.size, self.size)
        images = []
        for _ in range(n):
            radius = self.size * (0.18 + 0.2 * torch.rand(1, generator=g))
            if label == 1:
                distance = torch.abs(torch.maximum(xx.abs(), yy.abs()) - radius)
            else:
                distance = torch.abs(torch.sqrt(xx * xx + yy * yy) - radius)
            image = torch.clamp(1.5 - distance, 0.0, 1.0) * 230.0
            image = image + torch.randn(self.size, self.size, generator=g) * 12.0 * temperature
            images.append(image.clamp(0.0, 255.0).round().to(torch.uint8))
        return torch.stack(images).unsqueeze(-1)


class DecoderSampler(nn.Module):
    """Wraps a class-conditional decoder ``decode(z, y) -> logits N x C x H x W``."""

    def __init__(self, decoder: nn.Module, latent: int) -> None:
        super().__init__()
        self.decoder = decoder
        self.latent = latent

    def forward(self, n: int, seed: int, label: int, temperature: float) -> torch.Tensor:
        g = torch.Generator()
        g.manual_seed(seed)
        z = torch.randn(n, self.latent, generator=g) * temperature
        y = torch.full([n], max(label, 0), dtype=torch.long)
        x = torch.sigmoid(self.decoder(z, y))
        return (x * 255.0).round().clamp(0.0, 255.0).to(torch.uint8).permute(0, 2, 3, 1).contiguous()


class _Decode(nn.Module):
    """Exposes ``ConvVAE.decode`` as ``forward`` (so only the decoder is scripted and shipped)."""

    def __init__(self, vae: nn.Module) -> None:
        super().__init__()
        self.expand = vae.expand
        self.dec_class = vae.dec_class
        self.decoder = vae.decoder
        self.top = int(vae.top)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.expand(torch.cat([z, self.dec_class(y)], dim=1)))
        return self.decoder(h.view(-1, self.top, 4, 4))


def save(module: nn.Module, path: str, name: str, modality: str, labels: list[str] | None) -> None:
    scripted = torch.jit.script(module.eval())
    meta = {"name": name, "modality": modality, "labels": labels or []}
    torch.jit.save(scripted, path, _extra_files={"genaug.json": json.dumps(meta)})


def export_shapes(path: str, size: int = 32) -> None:
    save(RingsAndSquares(size), path, "rings-and-squares", "image", ["ring", "square"])


def export_conv_vae(checkpoint: str, path: str) -> None:
    from genaug_desktop.core.generators import load_generator

    gen = load_generator(checkpoint)  # weights only; nothing is unpickled
    if gen.name != "conv_vae":
        raise SystemExit(f"{checkpoint} is a {gen.name} checkpoint; this exporter wraps conv_vae")
    vae = gen._model  # noqa: SLF001 (an example reaching into the built-in on purpose)
    labels = ["" if x is None else x for x in gen.labels]
    sampler = DecoderSampler(_Decode(vae), int(gen.config["params"]["latent"]))
    save(sampler, path, f"conv_vae {gen.checkpoint_sha256[:12]}", "image", labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="the TorchScript file to write (e.g. shapes.pt)")
    parser.add_argument("--from-checkpoint", metavar="CKPT", help="a conv_vae checkpoint to wrap")
    parser.add_argument("--size", type=int, default=32, help="image size of the procedural generator")
    args = parser.parse_args()
    if args.from_checkpoint:
        export_conv_vae(args.from_checkpoint, args.out)
    else:
        export_shapes(args.out, args.size)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
