"""An example generator plug-in for genaug-desktop: a class-conditional character Markov chain.

Install it next to genaug-desktop (``pip install -e examples/plugin_generator``) and it shows up
in ``genaug generators`` and in the app's generator panel as ``markov``. It shows the whole
protocol without torch: declared parameters, ``fit_job`` as a Job with the standard progress
payload, seeded per-sample ``sample``, and a weights-only checkpoint (its counts, stored as
arrays; never a pickle).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from genaug_desktop.core.generators import FitResult, Generator, GeneratorError, Sample, TrainingData
from genaug_desktop.core.generators.base import sample_rng, sample_seed
from genaug_desktop.core.jobs import CancelToken, Job, Progress
from genaug_desktop.core.params import Param
from genaug_desktop.core.params import params as declare

_END = "\x03"  # end of text


class MarkovTextGenerator(Generator):
    name: ClassVar[str] = "markov"
    modality: ClassVar[str] = "text"
    help: ClassVar[str] = "Character n-gram Markov chain per class (example plug-in; trains instantly)."
    params = declare(
        Param("order", "int", 4, "characters of context", low=1, high=12),
    )
    sample_params = declare(
        Param("temperature", "float", 1.0, "flatten (>1) or sharpen (<1) the next-character counts",
              low=0.05, high=5.0, step=0.05),
        Param("max_length", "int", 200, "longest sample, in characters", low=1, high=5000),
    )

    def __init__(self) -> None:
        super().__init__()
        self._table: dict[str, dict[str, dict[str, int]]] = {}

    def fit_job(
        self, data: TrainingData, params: Mapping[str, Any] | None = None, seed: int = 0,
        cancel: CancelToken | None = None, resume_from: str | None = None,
    ) -> Job[FitResult]:
        cancel = cancel or CancelToken()
        values = self.params.validate(params, "$.params")
        order = values["order"]
        started = time.monotonic()
        table: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        texts = [e for e in data.examples if e.text]
        if not texts:
            raise GeneratorError("markov found no text to learn from")
        for i, e in enumerate(texts, 1):
            if i % 500 == 0:
                cancel.raise_if_cancelled()
                yield Progress(i, len(texts), f"Counted {i:,} of {len(texts):,} texts", payload={
                    "epoch": 1, "epochs": 1, "step": i, "steps": len(texts), "loss": None, "val_loss": None,
                    "elapsed_s": time.monotonic() - started, "eta_s": None, "phase": "train",
                })
            padded = _END * order + e.text + _END
            key = json.dumps(e.label)
            for j in range(order, len(padded)):
                table[key][padded[j - order : j]][padded[j]] += 1
        labels = data.labels
        self._table = {k: {ctx: dict(c) for ctx, c in v.items()} for k, v in table.items()}
        self.config = {
            "params": values, "seed": int(seed), "labels": labels,
            "class_counts": [sum(1 for e in texts if e.label == lab) for lab in labels], "data": dict(data.info),
        }
        seconds = time.monotonic() - started
        return FitResult(epochs=1, steps=len(texts), loss=None, val_loss=None, seconds=seconds, stopped_by="epochs")

    def sample(
        self, n: int, seed: int, label: str | None = None, temperature: float = 1.0, start: int = 0, **options: Any
    ) -> list[Sample]:
        opts = self.sample_options(temperature, **options)
        order = self.require_trained()["params"]["order"]
        out = []
        for i, lab in enumerate(self.pick_labels(n, seed, label, start)):
            s = sample_seed(seed, start + i)
            rng = sample_rng(s)
            counts = self._table.get(json.dumps(lab), {})
            text = _END * order
            while len(text) - order < opts["max_length"]:
                nxt = counts.get(text[-order:])
                if not nxt:
                    break
                chars = sorted(nxt)
                weights = np.array([nxt[c] for c in chars], dtype=np.float64) ** (1.0 / opts["temperature"])
                c = chars[int(rng.choice(len(chars), p=weights / weights.sum()))]
                if c == _END:
                    break
                text += c
            out.append(Sample(text[order:], lab, s, start + i))
        return out

    # The checkpoint holds the counts as a UTF-8 JSON byte array: data, never code.
    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"table": np.frombuffer(json.dumps(self._table, sort_keys=True).encode("utf-8"), dtype=np.uint8).copy()}

    def restore(self, config: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.config = dict(config)
        self._table = json.loads(bytes(np.asarray(arrays["table"], dtype=np.uint8)).decode("utf-8"))


__all__ = ["MarkovTextGenerator"]
