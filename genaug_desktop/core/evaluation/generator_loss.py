"""The evaluation for data without labels: there is no classifier to train, so the comparison
trains the built-in generator of the modality (``char_gru`` for text, ``conv_vae`` for images)
on real items only, on real + accepted and on real + all candidates, and measures its loss on
held-out real items (lower is better: the model describes unseen real data better).

The same leakage rules as the classifier evaluation hold: the held-out items are drawn from real
items (seeded by ``split_seed``), and no candidate made from a held-out item is trained on. The
model is fixed by the real training items alone (the text vocabulary, grey or colour), so every
condition is scored by the same yardstick, and every condition trains for about the same number
of optimisation steps, so a bigger training set is not better merely for being trained longer.
Models are small and epochs few by default: the question is "which training set is better for
the same model", not "how good can the model get". torch is imported inside functions only.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from genaug_desktop.core.evaluation.job import (
    EvaluationError,
    EvaluationResult,
    _load_image_candidate,
    _mean_std,
    _summary,
    holdout_split,
    usable_candidates,
)
from genaug_desktop.core.jobs import CancelToken, Cancelled, Job, Progress

GENERATOR = {"text": "char_gru", "image": "conv_vae"}
#: default epochs (passes over the real training items' worth of steps): a quick comparison
LOSS_EPOCHS = {"text": 10, "image": 15}
#: small models, so a comparison over several seeds takes seconds to minutes on a CPU
MODEL_PARAMS: dict[str, dict[str, Any]] = {
    "char_gru": {"hidden": 96, "embedding": 32, "batch_size": 32, "dropout": 0.0, "learning_rate": 5e-3},
    "conv_vae": {"width": 16, "latent": 8, "size": 32, "batch_size": 32},
}
#: per-run progress is reported in these units, so the bar moves during each training
_UNITS = 100


def loss_metric_phrase(generator: str) -> str:
    return f"the {generator} generator's held-out loss (lower is better)"


def _fmt_loss(mean: float, std: float) -> str:
    digits = 3 if abs(mean) < 10 else 1
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def generator_loss_job(
    project: Any,
    items: Sequence[Any],
    holdout: float,
    seeds: list[int],
    epochs: int | None,
    include_all: bool,
    cancel: CancelToken,
    split_seed: int = 0,
) -> Job[EvaluationResult]:
    """Compare the held-out loss of the modality's built-in generator trained on real items only,
    real + accepted and (with *include_all*) real + all candidates, over *seeds*. Yields
    :class:`Progress`; returns an :class:`EvaluationResult` with ``metric="held_out_loss"``,
    ``higher_is_better=False`` and no per-class figures. Stores nothing (the caller does)."""
    from genaug_desktop.core.generators.base import GeneratorError, TrainingData
    from genaug_desktop.core.generators.registry import get_generator

    modality = project.modality
    name = GENERATOR[modality]
    cls = get_generator(name)
    available, why = cls.availability()
    if not available:
        raise EvaluationError(
            f"this dataset has no labels, so evaluation compares the {name} generator's held-out loss, "
            f"which cannot run here: {why}")
    epochs = LOSS_EPOCHS[modality] if epochs is None else int(epochs)

    real = [i for i in items if i.text] if modality == "text" else list(items)
    split = holdout_split(real, holdout, split_seed, by_label=False)
    if not split.held_out or not split.train:
        raise EvaluationError(f"too few items to hold any out: the held-out loss needs at least two (found {len(real)})")
    held_keys = {i.key for i in split.held_out}

    all_cands = project.candidates()
    usable, excluded = usable_candidates(all_cands, held_keys, lambda c: bool(c.text if modality == "text" else c.blob),
                                         "unusable")
    accepted = [c for c in usable if c.status == "accepted"]
    conditions = ["real_only", "with_accepted"] + (["with_all"] if include_all else [])
    pool = usable if include_all else accepted

    yield Progress(0, None, "Loading data")
    train_ex, held_ex, pool_ex, channels = _examples(project, modality, split.train, split.held_out, pool, cancel)
    values = dict(MODEL_PARAMS[name], epochs=epochs, val_fraction=0.0)
    if channels is not None:
        values["channels"] = "grey" if channels == 1 else "rgb"
    try:
        values = cls.params.validate(values, "$.params")
        # The vocabulary (text) is learnt from the real training items only, the same for every
        # condition: held-out characters are scored against one alphabet.
        fixed_model = cls()._model_config(TrainingData(modality, train_ex), values)  # type: ignore[arg-type]
    except GeneratorError as exc:
        raise EvaluationError(f"the {name} generator cannot learn from this data: {exc}") from None
    held_data = TrainingData(modality, held_ex)  # type: ignore[arg-type]
    pool_index = {c.id: k for k, c in enumerate(pool)}
    sets = {"real_only": [], "with_accepted": [c.id for c in accepted], "with_all": [c.id for c in usable]}
    batch = int(values["batch_size"])
    real_steps = epochs * math.ceil(len(train_ex) / min(batch, len(train_ex)))

    total = len(seeds) * len(conditions) * _UNITS
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in conditions}
    done = 0
    for seed in seeds:
        cache: dict[tuple[int, ...], dict[str, Any]] = {}
        for cond in conditions:
            cancel.raise_if_cancelled()
            ids = tuple(sets[cond])
            label = f"Seed {seed}: {name} on {cond.replace('_', ' ')}"
            yield Progress(done, total, label)
            if ids not in cache:  # the same training set trains the same model: reuse it
                data = TrainingData(modality, train_ex + [pool_ex[pool_index[i]] for i in ids])  # type: ignore[arg-type]
                n = len(data)
                per_epoch = math.ceil(n / min(batch, n))
                run_epochs = max(1, round(real_steps / per_epoch))
                gen = cls()
                model_config = copy.deepcopy(fixed_model)
                gen._model_config = lambda _data, _values, m=model_config: copy.deepcopy(m)  # type: ignore[method-assign]
                fit = gen.fit_job(data, {**values, "epochs": run_epochs}, seed=seed, cancel=cancel)
                try:
                    while True:
                        p = next(fit)
                        frac = p.fraction
                        yield Progress(done + int(_UNITS * frac) if frac is not None else done, total,
                                       f"{label}: {p.message}")
                except StopIteration as stop:
                    fit_result = stop.value
                except GeneratorError as exc:
                    raise EvaluationError(f"the {name} generator failed to train: {exc}") from None
                finally:
                    fit.close()
                cancel.raise_if_cancelled()
                cache[ids] = {"loss": _held_out_loss(gen, held_data, seed), "steps": int(fit_result.steps),
                              "train_loss": fit_result.loss}
            runs[cond].append(cache[ids])
            done += _UNITS
    cancel.raise_if_cancelled()
    yield Progress(done, total, "Summarising")

    summary_conditions: dict[str, dict[str, Any]] = {}
    for cond in conditions:
        losses = [r["loss"] for r in runs[cond]]
        summary_conditions[cond] = {
            **_mean_std(losses), "runs": losses, "steps": [r["steps"] for r in runs[cond]],
            "train_size": len(train_ex) + len(sets[cond]), "candidates": len(sets[cond]),
        }
    unit = str(cls.loss_unit)
    sentence = _summary(summary_conditions["real_only"]["runs"], summary_conditions["with_accepted"]["runs"],
                        len(accepted), loss_metric_phrase(name), _fmt_loss, f" {unit}")
    model_params = {k: v for k, v in values.items() if k != "epochs"}
    params = {"holdout": holdout, "split_seed": split_seed, "seeds": list(seeds), "epochs": epochs,
              "include_all": include_all, "model": name, "generator_params": model_params,
              "channels": channels, "steps": real_steps, "held_out_keys": sorted(held_keys)}
    counts = {"train_real": len(train_ex), "held_out": len(held_ex), "accepted": len(accepted),
              "all": len(usable) if include_all else len(accepted), "candidates_total": len(all_cands)}
    return EvaluationResult(
        id=None, metric="held_out_loss", modality=modality, classes=[], seeds=list(seeds), params=params,
        conditions=summary_conditions, per_class={}, counts=counts,
        candidate_ids={k: sets[k] for k in conditions if k != "real_only"}, summary=sentence, excluded=excluded,
        higher_is_better=False, unit=unit,
    )


def _examples(project: Any, modality: str, train: Sequence[Any], held: Sequence[Any], pool: Sequence[Any],
              cancel: CancelToken) -> tuple[list[Any], list[Any], list[Any], int | None]:
    """Training examples (labels dropped: the comparison is unconditional), decoded once."""
    from genaug_desktop.core.generators.base import Example

    if modality == "text":
        return ([Example(label=None, text=i.text, ref=i.key) for i in train],
                [Example(label=None, text=i.text, ref=i.key) for i in held],
                [Example(label=None, text=c.text, synthetic=True, ref=f"candidate:{c.id}") for c in pool], None)
    from genaug_desktop.core.policy import load_image_array

    def load(seq: Sequence[Any], read: Any) -> list[np.ndarray]:
        out = []
        for k, x in enumerate(seq):
            if k % 32 == 0:
                cancel.raise_if_cancelled()
            out.append(read(x))
        return out

    try:
        train_a = load(train, lambda i: load_image_array(project.source_path(i)))
        held_a = load(held, lambda i: load_image_array(project.source_path(i)))
        pool_a = load(pool, lambda c: _load_image_candidate(project, c.blob))
    except Cancelled:
        raise
    except Exception as exc:  # a file that vanished or broke since the scan
        raise EvaluationError(f"an image could not be read for the evaluation: {exc}") from None
    channels = 1 if all(a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 1) for a in train_a) else 3
    return ([Example(label=None, array=_as_uint8(a), ref=i.key) for a, i in zip(train_a, train)],
            [Example(label=None, array=_as_uint8(a), ref=i.key) for a, i in zip(held_a, held)],
            [Example(label=None, array=_as_uint8(a), synthetic=True, ref=f"candidate:{c.id}") for a, c in zip(pool_a, pool)],
            channels)


def _as_uint8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint16:
        return (a >> 8).astype(np.uint8)
    return a if a.dtype == np.uint8 else np.clip(a, 0, 255).astype(np.uint8)


def _held_out_loss(gen: Any, held: Any, seed: int) -> float:
    """The trained model's mean loss on the held-out examples (its validation loss on them)."""
    import torch

    from genaug_desktop.core.generators.base import GeneratorError

    try:
        encoded = gen._encode(held, gen.config["params"])
    except GeneratorError as exc:
        raise EvaluationError(f"the held-out items cannot be scored: {exc}") from None
    loss = gen._evaluate(gen._model, encoded, torch.arange(len(encoded)), gen._device, seed)
    if loss is None or not math.isfinite(loss):
        raise EvaluationError("the held-out loss could not be measured (no held-out data, or training diverged)")
    return float(loss)
