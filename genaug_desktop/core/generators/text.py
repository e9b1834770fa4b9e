"""Built-in text generator: a small class-conditional character-level GRU language model.

Each text becomes ``BOS c1 ... cn EOS`` over a character vocabulary learnt from the training
data. The class enters twice, through a learnt embedding: it sets the GRU's initial state and
is concatenated to every input character, so the model cannot forget it in long texts.

Sampling draws each next character by inverse CDF from one uniform number per position, taken
from the sample's own seed. After temperature, top-k and top-p (nucleus) filtering, the same
seed gives the same text whatever the batch around it.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from typing import Any, ClassVar

import numpy as np

from genaug_desktop.core.generators.base import GeneratorError, TrainingData, sample_rng
from genaug_desktop.core.generators.torch_base import TorchGenerator, training_params
from genaug_desktop.core.params import Param
from genaug_desktop.core.params import params as declare

PAD, BOS, EOS, UNK = 0, 1, 2, 3
_SPECIALS = 4


class CharGRUGenerator(TorchGenerator):
    name: ClassVar[str] = "char_gru"
    modality: ClassVar[str] = "text"
    help: ClassVar[str] = (
        "Class-conditional character-level GRU language model; trains in minutes on a CPU "
        "for short texts (reviews, titles, commands)."
    )
    loss_unit: ClassVar[str] = "nats/char"
    params = declare(
        Param("hidden", "int", 256, "GRU state size", low=16, high=2048),
        Param("layers", "int", 1, "stacked GRU layers", low=1, high=4),
        Param("embedding", "int", 64, "size of the character and class embeddings", low=4, high=1024),
        Param("dropout", "float", 0.1, "dropout on inputs and GRU outputs while training", low=0.0, high=0.8, step=0.05),
        Param("max_chars", "int", 200, "longer texts are cut to this many characters for training", low=8, high=5000),
        Param("max_vocab", "int", 200, "most frequent characters kept; the rest are unknown", low=8, high=5000),
        *training_params(epochs=30, batch_size=64, learning_rate=3e-3),
    )
    sample_params = declare(
        Param("temperature", "float", 1.0, "below 1: safer, more repetitive; above 1: more varied; 0: greedy",
              low=0.0, high=5.0, step=0.05),
        Param("top_k", "int", 0, "keep only the k most likely characters (0: all)", low=0, high=5000),
        Param("top_p", "float", 1.0, "keep the most likely characters up to this total probability (1: all)",
              low=0.01, high=1.0, step=0.01),
        Param("max_length", "int", 200, "longest sample, in characters", low=1, high=5000),
    )

    # ---- data ----------------------------------------------------------------------------------------
    def _model_config(self, data: TrainingData, values: dict[str, Any]) -> dict[str, Any]:
        counts: Counter[str] = Counter()
        for e in data.examples:
            if e.text:
                counts.update(e.text[: values["max_chars"]])
        if not counts:
            raise GeneratorError("char_gru found no text to learn from (every example is empty)")
        chars = [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: values["max_vocab"]]]
        return {"vocab": "".join(sorted(chars))}

    def _encode(self, data: TrainingData, values: dict[str, Any]) -> Any:
        import torch

        config = self.require_trained()
        index = {c: i + _SPECIALS for i, c in enumerate(config["model"]["vocab"])}
        label_index = {lab: i for i, lab in enumerate(config["labels"])}
        max_chars = int(values["max_chars"])
        rows, labels = [], []
        for e in data.examples:
            if not e.text or e.label not in label_index:
                continue
            text = e.text[:max_chars]
            seq = [BOS] + [index.get(c, UNK) for c in text] + ([EOS] if len(e.text) <= max_chars else [])
            rows.append(seq)
            labels.append(label_index[e.label])
        if not rows:
            raise GeneratorError("char_gru found no text with a known class to learn from")
        width = max(len(r) for r in rows)
        seqs = torch.full((len(rows), width), PAD, dtype=torch.long)
        for i, r in enumerate(rows):
            seqs[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
        return _Encoded(seqs, lengths, torch.tensor(labels, dtype=torch.long))

    def _batch(self, encoded: Any, idx: Any, device: str) -> tuple[Any, ...]:
        width = int(encoded.lengths[idx].max())
        seqs = encoded.seqs[idx, :width]
        return seqs[:, :-1].to(device), seqs[:, 1:].to(device), encoded.labels[idx].to(device)

    def _arrange(self, encoded: Any, perm: Any, batch_size: int, rng: Any) -> Any:
        """Batches of similar length (less padding: about half the work on short texts), in a
        shuffled order; sorted within windows of 32 batches so an epoch stays well mixed."""
        import torch

        window = batch_size * 32
        parts = []
        for lo in range(0, len(perm), window):
            part = perm[lo : lo + window]
            parts.append(part[torch.argsort(encoded.lengths[part], stable=True)])
        arranged = torch.cat(parts)
        full = len(arranged) // batch_size
        if full < 2:
            return arranged
        order = torch.randperm(full, generator=rng)
        batches = arranged[: full * batch_size].view(full, batch_size)[order].reshape(-1)
        return torch.cat([batches, arranged[full * batch_size :]])  # a short last batch stays last

    # ---- model ---------------------------------------------------------------------------------------
    def _build_model(self) -> Any:
        config = self.require_trained()
        values = config["params"]
        return _model_class()(
            vocab=len(config["model"]["vocab"]) + _SPECIALS, classes=len(config["labels"]),
            embedding=values["embedding"], hidden=values["hidden"], layers=values["layers"], dropout=values["dropout"],
        )

    def _loss(self, model: Any, batch: tuple[Any, ...], rng: Any) -> tuple[Any, float]:
        import torch.nn.functional as F

        inputs, targets, labels = batch
        logits, _ = model(inputs, labels, rng=rng)
        tokens = int((targets != PAD).sum())
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD, reduction="sum")
        return loss / max(1, tokens), float(tokens)

    def _metrics(self, loss: float | None, val_loss: float | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if loss is not None:
            out["bits_per_char"] = float(loss / math.log(2))
        if val_loss is not None:
            out["val_bits_per_char"] = float(val_loss / math.log(2))
        return out

    # ---- sampling ------------------------------------------------------------------------------------
    def _generate(self, model: Any, label_idx: list[int], seeds: list[int], options: dict[str, Any], device: str) -> list[Any]:
        import torch

        vocab = self.require_trained()["model"]["vocab"]
        n, max_len = len(seeds), int(options["max_length"])
        if n == 0:
            return []
        uniforms = torch.from_numpy(np.stack([sample_rng(s).random(max_len) for s in seeds])).to(device)
        labels = torch.tensor(label_idx, dtype=torch.long, device=device)
        token = torch.full((n, 1), BOS, dtype=torch.long, device=device)
        hidden = None
        out = torch.full((n, max_len), PAD, dtype=torch.long, device=device)
        done = torch.zeros(n, dtype=torch.bool, device=device)
        temperature, top_k, top_p = float(options["temperature"]), int(options["top_k"]), float(options["top_p"])
        for t in range(max_len):
            logits, hidden = model(token, labels, hidden)
            logits = logits[:, -1, :].double()
            logits[:, [PAD, BOS, UNK]] = -torch.inf
            nxt = _choose(logits, uniforms[:, t], temperature, top_k, top_p)
            nxt = torch.where(done, torch.full_like(nxt, PAD), nxt)
            out[:, t] = nxt
            done |= nxt == EOS
            if bool(done.all()):
                break
            token = nxt[:, None]
        texts = []
        for row in out.tolist():
            chars = []
            for tok in row:
                if tok in (EOS, PAD):
                    break
                chars.append(vocab[tok - _SPECIALS])
            texts.append("".join(chars))
        return texts


class _Encoded:
    __slots__ = ("seqs", "lengths", "labels")

    def __init__(self, seqs: Any, lengths: Any, labels: Any) -> None:
        self.seqs, self.lengths, self.labels = seqs, lengths, labels

    def __len__(self) -> int:
        return int(self.seqs.shape[0])


def _choose(logits: Any, u: Any, temperature: float, top_k: int, top_p: float) -> Any:
    """Next tokens by inverse CDF of the filtered distribution at the uniforms *u* (one per row)."""
    import torch

    if temperature <= 1e-6:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    sorted_p, order = probs.sort(dim=-1, descending=True)
    keep = torch.ones_like(sorted_p, dtype=torch.bool)
    if top_k > 0:
        keep[:, top_k:] = False
    if top_p < 1.0:
        before = sorted_p.cumsum(dim=-1) - sorted_p  # mass of the more likely tokens
        keep &= before < top_p
    keep[:, 0] = True
    sorted_p = sorted_p * keep
    cdf = sorted_p.cumsum(dim=-1)
    target = (u * cdf[:, -1]).unsqueeze(1)
    pick = torch.searchsorted(cdf, target, right=True).clamp_(max=cdf.shape[1] - 1)
    # never land on a filtered-out token (possible only through rounding at the top end)
    pick = torch.minimum(pick, keep.sum(dim=-1, keepdim=True) - 1)
    return order.gather(1, pick).squeeze(1)


@functools.cache
def _model_class() -> Any:
    import torch
    from torch import nn

    class CharGRU(nn.Module):
        def __init__(self, vocab: int, classes: int, embedding: int, hidden: int, layers: int, dropout: float) -> None:
            super().__init__()
            self.layers, self.hidden, self.dropout = layers, hidden, dropout
            self.tokens = nn.Embedding(vocab, embedding)
            self.classes = nn.Embedding(classes, embedding)
            self.initial = nn.Linear(embedding, hidden * layers)
            self.gru = nn.GRU(2 * embedding, hidden, num_layers=layers, batch_first=True)
            self.out = nn.Linear(hidden, vocab)

        def _drop(self, x: torch.Tensor, rng: torch.Generator | None) -> torch.Tensor:
            if not self.training or self.dropout <= 0 or rng is None:
                return x
            keep = torch.empty_like(x).bernoulli_(1.0 - self.dropout, generator=rng)
            return x * keep / (1.0 - self.dropout)

        def forward(
            self, tokens: torch.Tensor, labels: torch.Tensor, state: torch.Tensor | None = None,
            rng: torch.Generator | None = None,
        ) -> tuple[torch.Tensor, torch.Tensor]:
            c = self.classes(labels)
            if state is None:
                state = torch.tanh(self.initial(c)).view(-1, self.layers, self.hidden).transpose(0, 1).contiguous()
            x = torch.cat([self.tokens(tokens), c[:, None, :].expand(-1, tokens.shape[1], -1)], dim=-1)
            y, state = self.gru(self._drop(x, rng), state)
            return self.out(self._drop(y, rng)), state

    return CharGRU
