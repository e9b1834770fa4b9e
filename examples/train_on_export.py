"""Train a tiny CNN on an export made by genaug-desktop, with a policy applied on the fly.

Make an export from the bundled sample images first (a few seconds)::

    genaug init /tmp/shapes.genaug resources/sample/images
    genaug augment /tmp/shapes.genaug --policy POLICY.json --per-item 2 --seed 0
    genaug list /tmp/shapes.genaug --status pending --json      # review, then accept:
    genaug decide /tmp/shapes.genaug --accept ID ...
    genaug export /tmp/shapes.genaug --out /tmp/shapes-export --format imagefolder \\
        --include-originals --split train=0.8,val=0.2

(``--policy`` can be the policy you built in the app, or the one this script writes with
``--write-policy POLICY.json``.) Then::

    python examples/train_on_export.py /tmp/shapes-export --epochs 1 --workers 2

Each epoch sees fresh augmentations; the run is reproducible: sample i in epoch e is augmented
with a seed derived from (--seed, e, i), whatever the number of workers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

#: a small on-the-fly policy; every image is resized so that batches stack
POLICY = {
    "schema_version": 2, "modality": "image", "name": "train-time",
    "preprocess": [{"op": "resize_to", "params": {"width": 32, "height": 32}}],
    "steps": [
        {"op": "hflip", "p": 0.5, "params": {}},
        {"op": "rotate", "p": 0.5, "params": {}},
        {"op": "brightness", "p": 0.5, "params": {}},
    ],
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("export", nargs="?", help="an export folder (imagefolder, webdataset or npz)")
    ap.add_argument("--policy", help="a policy file to apply on the fly (default: a built-in one)")
    ap.add_argument("--write-policy", metavar="FILE", help="write the built-in policy to FILE and exit")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.write_policy:
        with open(args.write_policy, "w", encoding="utf-8") as fh:
            json.dump(POLICY, fh, indent=2)
        return 0
    if not args.export:
        ap.error("give an export folder (or --write-policy FILE)")

    import torch
    from torch import nn
    from torch.utils.data import DataLoader

    from genaug_desktop.api import load_policy
    from genaug_desktop.torch_data import EpochSampler, ExportDataset, PolicyTransform

    torch.manual_seed(args.seed)
    policy = load_policy(args.policy or POLICY)
    train = ExportDataset(args.export, split="train", transform=PolicyTransform(policy, base_seed=args.seed),
                          color="rgb")  # the sample data mixes grey and colour images
    n_classes = max(1, len(train.classes))
    sampler = EpochSampler(train, shuffle=True, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler, num_workers=args.workers,
                        persistent_workers=args.workers > 0)
    first, _ = train[0]
    channels = first.shape[0]
    model = nn.Sequential(
        nn.Conv2d(channels, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(16, n_classes),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-1)  # -1: unlabeled samples
    print(f"{len(train)} training samples, classes {train.classes}, input {tuple(first.shape)}")
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # fresh augmentations (and order) every epoch; works with persistent workers
        started, total, correct, seen = time.perf_counter(), 0.0, 0, 0
        model.train()
        for images, labels in loader:
            opt.zero_grad()
            logits = model(images)
            loss = loss_fn(logits, labels)
            loss.backward()
            opt.step()
            total += loss.item() * len(labels)
            correct += int((logits.argmax(1) == labels).sum())
            seen += len(labels)
        print(f"epoch {epoch}: loss {total / max(seen, 1):.4f}, train accuracy {correct / max(seen, 1):.2%}, "
              f"{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
