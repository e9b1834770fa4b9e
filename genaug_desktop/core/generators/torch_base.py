"""The training loop and checkpoint plumbing shared by the built-in torch generators.

A subclass says how to turn :class:`TrainingData` into tensors, how to build its model from the
config, the loss of one batch, and how to generate one batch of samples. This class does the
rest, the same way for every model:

- seeded and resumable: the train/validation split, each epoch's order, the weight init and all
  training noise come from the seed (the noise from one ``torch.Generator`` whose state goes
  into the checkpoint), so a run cancelled mid-epoch and resumed from its checkpoint continues
  with exactly the batches it would have seen;
- a core Job: checks the cancel token before every step, reports about four times a second
  (mean training loss since the last report) and after every epoch (validation loss), with an
  ETA; a time limit (``max_seconds``) ends training early as a normal finish;
- state is consistent between steps, which is where a cancel or a ``GeneratorExit`` (the GUI
  worker closing the job) can land, so the instance can always sample or be saved afterwards.

torch is imported inside methods only.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from genaug_desktop.core.generators.base import (
    CheckpointError,
    FitResult,
    Generator,
    GeneratorError,
    Sample,
    TrainingData,
    configure_torch,
    derive_seed,
    pick_device,
    sample_seed,
    torch_available,
)
from genaug_desktop.core.jobs import CancelToken, Job, Progress, Throttle
from genaug_desktop.core.params import Param

_SEED_MASK = (1 << 63) - 1
#: history entries kept in a checkpoint's config (older ones are thinned out)
_MAX_HISTORY = 2000


def training_params(epochs: int, batch_size: int, learning_rate: float) -> tuple[Param, ...]:
    """The training parameters every built-in declares (defaults differ per model)."""
    return (
        Param("epochs", "int", epochs, "passes over the training data", low=1, high=100_000),
        Param("batch_size", "int", batch_size, "examples per optimisation step", low=1, high=4096),
        Param("learning_rate", "float", learning_rate, "Adam step size", low=1e-6, high=1.0, step=1e-4),
        Param("val_fraction", "float", 0.1, "share of the data held out to measure validation loss",
              low=0.0, high=0.5, step=0.05),
        Param("max_seconds", "float", 0.0, "stop training after this many seconds (0: no limit)",
              low=0.0, high=7 * 24 * 3600.0, step=10.0),
    )


class TorchGenerator(Generator):
    """A generator backed by one ``torch.nn.Module`` trained with Adam."""

    #: generator-specific layout version, stored in checkpoints
    layout_version: ClassVar[int] = 1
    #: parameters a resumed run may change (everything else comes from the checkpoint)
    resume_overrides: ClassVar[tuple[str, ...]] = ("epochs", "max_seconds")
    clip_grad_norm: ClassVar[float | None] = 1.0
    #: what the loss is measured in, for people
    loss_unit: ClassVar[str] = "nats"
    #: samples generated per forward batch
    sample_chunk: ClassVar[int] = 256

    def __init__(self) -> None:
        super().__init__()
        self._model: Any = None
        self._optimizer: Any = None
        self._rng: Any = None
        self._device: str | None = None
        self._resume_arrays: dict[str, np.ndarray] = {}

    @classmethod
    def availability(cls) -> tuple[bool, str | None]:
        return torch_available()

    # ---- hooks for subclasses ---------------------------------------------------------------------
    def _model_config(self, data: TrainingData, values: dict[str, Any]) -> dict[str, Any]:
        """Model details learnt from the data on a first run (vocabulary, image size, ...)."""
        return {}

    def _encode(self, data: TrainingData, values: dict[str, Any]) -> Any:
        """The whole dataset as CPU tensors (uses ``self.config``); ``len()`` must work on it."""
        raise NotImplementedError

    def _build_model(self) -> Any:
        """A fresh ``nn.Module`` for ``self.config`` (on the CPU)."""
        raise NotImplementedError

    def _batch(self, encoded: Any, idx: Any, device: str) -> tuple[Any, ...]:
        """The tensors of the examples at *idx* (a CPU LongTensor), on *device*."""
        raise NotImplementedError

    def _loss(self, model: Any, batch: tuple[Any, ...], rng: Any) -> tuple[Any, float]:
        """Mean loss of a batch (a scalar tensor) and its weight (tokens, images, ...)."""
        raise NotImplementedError

    def _generate(self, model: Any, label_idx: list[int], seeds: list[int], options: dict[str, Any], device: str) -> list[Any]:
        """One batch of sample values, sample ``i`` from ``seeds[i]`` alone."""
        raise NotImplementedError

    def _arrange(self, encoded: Any, perm: Any, batch_size: int, rng: Any) -> Any:
        """The epoch's example order (a shuffled CPU LongTensor of indexes) as batches will cut
        it; e.g. to group texts of similar length. Must be a function of its arguments."""
        return perm

    def _metrics(self, loss: float | None, val_loss: float | None) -> dict[str, Any]:
        """Extra figures for the record (e.g. bits per character)."""
        return {}

    # ---- state --------------------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        import torch

        config = self.require_trained()
        if self._model is None:
            raise GeneratorError(f"{self.name} has no model to save")
        arrays = {f"model.{k}": v.detach().cpu().numpy() for k, v in self._model.state_dict().items()}
        if self._optimizer is not None:
            state = self._optimizer.state_dict()
            scalars: dict[str, Any] = {}
            for idx, entry in state["state"].items():
                for key, value in entry.items():
                    if isinstance(value, torch.Tensor):
                        arrays[f"optim.{idx}.{key}"] = value.detach().cpu().numpy()
                    else:
                        scalars[f"{idx}.{key}"] = value
            config["optimizer"] = {"param_groups": state["param_groups"], "scalars": scalars}
            if self._rng is not None:
                arrays["rng.train"] = self._rng.get_state().numpy()
                config["rng_device"] = str(self._rng.device)
        else:  # loaded and not trained further: keep what the checkpoint had, so resume still works
            arrays.update(self._resume_arrays)
        return arrays

    def restore(self, config: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        import torch

        if int(config.get("layout_version", 1)) > self.layout_version:
            raise CheckpointError(f"this {self.name} checkpoint needs a newer genaug-desktop; please upgrade")
        self.config = copy.deepcopy(config)
        model = self._build_model()
        weights = {k[len("model."):]: torch.from_numpy(np.array(v, copy=True)) for k, v in arrays.items() if k.startswith("model.")}
        try:
            model.load_state_dict(weights, strict=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise CheckpointError(f"the checkpoint's weights do not fit a {self.name} model: {first}") from None
        self._model, self._optimizer, self._rng, self._device = model, None, None, None
        self._resume_arrays = {k: v for k, v in arrays.items() if not k.startswith("model.")}

    def _ready_model(self) -> tuple[Any, str]:
        self.require_trained()
        if self._model is None:
            raise GeneratorError(f"{self.name} has no model yet: train it or load a checkpoint first")
        device = self._device or pick_device()
        if self._device != device:
            configure_torch()
            self._model.to(device)
            self._device = device
        return self._model, device

    # ---- sampling ------------------------------------------------------------------------------------
    def sample(
        self, n: int, seed: int, label: str | None = None, temperature: float = 1.0, start: int = 0, **options: Any
    ) -> list[Sample]:
        """Draw *n* samples (see :meth:`Generator.sample`)."""
        import torch

        if n < 0:
            raise GeneratorError("the number of samples must be 0 or more")
        opts = self.sample_options(temperature, **options)
        labels = self.pick_labels(n, seed, label, start)
        index_of = {lab: i for i, lab in enumerate(self.labels)}
        seeds = [sample_seed(seed, start + i) for i in range(n)]
        model, device = self._ready_model()
        was_training = model.training
        model.eval()
        values: list[Any] = []
        try:
            with torch.inference_mode():
                for lo in range(0, n, self.sample_chunk):
                    hi = min(n, lo + self.sample_chunk)
                    values.extend(self._generate(model, [index_of[x] for x in labels[lo:hi]], seeds[lo:hi], opts, device))
        finally:
            model.train(was_training)
        return [Sample(v, lab, s, start + i) for i, (v, lab, s) in enumerate(zip(values, labels, seeds, strict=True))]

    # ---- training -----------------------------------------------------------------------------------
    def fit_job(
        self,
        data: TrainingData,
        params: Mapping[str, Any] | None = None,
        seed: int = 0,
        cancel: CancelToken | None = None,
        resume_from: str | None = None,
    ) -> Job[FitResult]:
        """Train on *data* (see the module docstring). With *resume_from* (a checkpoint of this
        generator) the checkpoint's parameters, seed and position are used; only
        ``resume_overrides`` may be changed through *params*."""
        cancel = cancel or CancelToken()
        if data.modality != self.modality:
            raise GeneratorError(f"{self.name} makes {self.modality}s, but the training data holds {data.modality}s")
        yield Progress(0, None, "Preparing the training data", payload=_payload("prepare"))
        import torch

        configure_torch()
        device = pick_device()
        resume_arrays: dict[str, np.ndarray] = {}
        if resume_from is not None:
            values, seed, resume_arrays = self._resume_config(resume_from, params)
        else:
            values = self.params.validate(params, "$.params")
            labels = data.labels
            counts = [sum(1 for e in data.examples if e.label == lab) for lab in labels]
            self.config = {
                "generator": self.name, "layout_version": self.layout_version, "params": values, "seed": int(seed),
                "labels": labels, "class_counts": counts, "model": {}, "data": dict(data.info),
                "training": {"epoch": 0, "step_in_epoch": 0, "step": 0, "elapsed_s": 0.0, "finished": False,
                             "stopped_by": None, "loss": None, "val_loss": None, "history": [], "val_history": []},
            }
            self.config["model"] = self._model_config(data, values)
        config = self.config
        assert config is not None
        encoded = self._encode(data, values)
        n = len(encoded)
        if n < 1:
            raise GeneratorError(f"{self.name} found nothing to train on")
        order = np.random.Generator(np.random.PCG64(derive_seed(seed, "split"))).permutation(n)
        n_val = min(int(round(n * values["val_fraction"])), n - 1) if values["val_fraction"] > 0 else 0
        val_idx = torch.from_numpy(np.sort(order[:n_val]).astype(np.int64))
        train_idx = torch.from_numpy(order[n_val:].astype(np.int64))
        n_train = len(train_idx)
        yield Progress(0, None, f"Building the model ({n_train:,} training, {n_val:,} validation examples)",
                       payload=_payload("prepare"))

        if resume_from is not None:
            model = self._model  # restored by _resume_config
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(derive_seed(seed, "init") & _SEED_MASK)
                model = self._build_model()
        model.to(device)
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=values["learning_rate"])
        rng = torch.Generator(device=device)
        rng.manual_seed(derive_seed(seed, "train") & _SEED_MASK)
        if resume_arrays:
            self._load_optimizer(optimizer, config, resume_arrays)
            if "rng.train" in resume_arrays and config.get("rng_device") == str(rng.device):
                rng.set_state(torch.from_numpy(np.array(resume_arrays["rng.train"], copy=True)))
        for group in optimizer.param_groups:  # a resumed run keeps Adam's moments, not an old step size
            group["lr"] = values["learning_rate"]
        self._model, self._optimizer, self._rng, self._device = model, optimizer, rng, device
        config["training"]["device"] = device
        config["training"]["n_train"], config["training"]["n_val"] = n_train, n_val

        state = config["training"]
        epochs = int(values["epochs"])
        batch_size = min(int(values["batch_size"]), n_train)
        steps_per_epoch = math.ceil(n_train / batch_size)
        total = epochs * steps_per_epoch
        max_seconds = float(values["max_seconds"])
        state["finished"] = False
        prior_elapsed = float(state["elapsed_s"])
        started = time.monotonic()
        session_steps = 0
        throttle = Throttle(0.25)
        loss_sum, loss_weight = 0.0, 0.0
        stopped_by = "epochs"
        val_loss: float | None = state.get("val_loss")
        validated_at = -1

        def elapsed() -> float:
            return prior_elapsed + (time.monotonic() - started)

        def eta() -> float | None:
            spent = time.monotonic() - started
            if session_steps == 0 or spent <= 0:
                return None
            left = (total - state["step"]) / (session_steps / spent)
            if max_seconds > 0:
                left = min(left, max(0.0, max_seconds - elapsed()))
            return left

        def report(phase: str) -> Progress:
            nonlocal loss_sum, loss_weight
            mean = loss_sum / loss_weight if loss_weight else None
            if mean is not None:
                _append(state["history"], [state["step"], round(mean, 6)])
                state["loss"] = mean
            else:  # no step since the last report: repeat the latest figure
                mean = state.get("loss")
            loss_sum, loss_weight = 0.0, 0.0
            epoch_shown = min(state["epoch"] + (1 if phase == "train" else 0), epochs)
            payload = _payload(
                phase, epoch=epoch_shown, epochs=epochs, step=state["step"], steps=total, loss=mean,
                val_loss=val_loss, elapsed_s=round(elapsed(), 3), eta_s=eta(),
            )
            payload.update(self._metrics(mean, val_loss))
            return Progress(state["step"], total, _message(payload, self.loss_unit), payload=payload)

        while state["epoch"] < epochs and stopped_by == "epochs":
            order_gen = torch.Generator().manual_seed(derive_seed(seed, "epoch", state["epoch"]) & _SEED_MASK)
            perm = self._arrange(encoded, train_idx[torch.randperm(n_train, generator=order_gen)], batch_size, order_gen)
            while state["step_in_epoch"] < steps_per_epoch:
                cancel.raise_if_cancelled()
                if max_seconds > 0 and elapsed() >= max_seconds:
                    stopped_by = "time limit"
                    break
                lo = state["step_in_epoch"] * batch_size
                batch = self._batch(encoded, perm[lo : lo + batch_size], device)
                loss, weight = self._loss(model, batch, rng)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if self.clip_grad_norm:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), self.clip_grad_norm)
                optimizer.step()
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise GeneratorError(
                        f"training diverged at step {state['step'] + 1} (loss {value}); lower the learning rate"
                    )
                loss_sum += value * weight
                loss_weight += weight
                state["step_in_epoch"] += 1
                state["step"] += 1
                state["elapsed_s"] = elapsed()
                session_steps += 1
                if throttle():
                    yield report("train")
            if stopped_by != "epochs":
                break
            state["epoch"] += 1
            state["step_in_epoch"] = 0
            val_loss = self._evaluate(model, encoded, val_idx, device, seed)
            validated_at = state["step"]
            if val_loss is not None:
                _append(state["val_history"], [state["step"], round(val_loss, 6)])
            state["val_loss"] = val_loss
            yield report("validate")
        if validated_at != state["step"] and state["step"] > 0:
            val_loss = self._evaluate(model, encoded, val_idx, device, seed)
            if val_loss is not None:
                _append(state["val_history"], [state["step"], round(val_loss, 6)])
            state["val_loss"] = val_loss
        state["finished"] = True
        state["stopped_by"] = stopped_by
        state["elapsed_s"] = elapsed()
        final = report("done")
        yield final
        metrics = self._metrics(state.get("loss"), val_loss)
        return FitResult(
            epochs=state["epoch"], steps=state["step"], loss=state.get("loss"), val_loss=val_loss,
            seconds=elapsed(), stopped_by=stopped_by,
            history=[(int(s), float(v)) for s, v in state["history"]],
            val_history=[(int(s), float(v)) for s, v in state["val_history"]], metrics=metrics,
        )

    def _evaluate(self, model: Any, encoded: Any, idx: Any, device: str, seed: int) -> float | None:
        import torch

        if len(idx) == 0:
            return None
        rng = torch.Generator(device=device)
        rng.manual_seed(derive_seed(seed, "validation") & _SEED_MASK)
        model.eval()
        total, weight = 0.0, 0.0
        try:
            with torch.no_grad():
                step = max(1, int(self.config["params"]["batch_size"])) if self.config else 64
                for lo in range(0, len(idx), step):
                    loss, w = self._loss(model, self._batch(encoded, idx[lo : lo + step], device), rng)
                    total += float(loss) * w
                    weight += w
        finally:
            model.train()
        return total / weight if weight else None

    def _resume_config(
        self, path: str, params: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], int, dict[str, np.ndarray]]:
        from genaug_desktop.core.generators.checkpoint import read_checkpoint

        ckpt = read_checkpoint(path)
        if ckpt.config.get("generator") != self.name:
            raise CheckpointError(f"{path} is a checkpoint of {ckpt.config.get('generator')!r}, not of {self.name!r}")
        if "training" not in ckpt.config:
            raise CheckpointError(f"{path} holds no training state to resume from")
        self.restore(ckpt.config, ckpt.arrays)
        config = self.config
        assert config is not None
        values = dict(config["params"])
        for key, value in (params or {}).items():
            if key in self.resume_overrides:
                values[key] = value
            elif key not in values:
                self.params.validate({key: value}, "$.params")  # names the unknown key
            elif values[key] != value:
                raise GeneratorError(
                    f"{key} cannot change when resuming (the checkpoint has {values[key]!r}); "
                    f"only {', '.join(self.resume_overrides)} can"
                )
        values = self.params.validate(values, "$.params")
        config["params"] = values
        return values, int(config["seed"]), dict(ckpt.arrays)

    @staticmethod
    def _load_optimizer(optimizer: Any, config: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        import torch

        saved = config.get("optimizer")
        if not saved:
            return
        state: dict[int, dict[str, Any]] = {}
        for key, value in arrays.items():
            if key.startswith("optim."):
                _, idx, name = key.split(".", 2)
                state.setdefault(int(idx), {})[name] = torch.from_numpy(np.array(value, copy=True))
        for key, value in saved.get("scalars", {}).items():
            idx, name = key.split(".", 1)
            state.setdefault(int(idx), {})[name] = value
        try:
            optimizer.load_state_dict({"state": state, "param_groups": copy.deepcopy(saved["param_groups"])})
        except (ValueError, KeyError, RuntimeError) as exc:
            raise CheckpointError(f"the checkpoint's optimizer state does not fit this model: {exc}") from None


def _append(history: list[Any], entry: list[Any]) -> None:
    history.append(entry)
    if len(history) > _MAX_HISTORY:  # keep the curve's shape, drop every other old point
        del history[: _MAX_HISTORY // 2 : 2]


def _payload(phase: str, **values: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"epoch": None, "epochs": None, "step": 0, "steps": None, "loss": None, "val_loss": None,
                           "elapsed_s": 0.0, "eta_s": None, "phase": phase}
    out.update(values)
    return out


def _message(p: dict[str, Any], unit: str) -> str:
    parts = [f"Epoch {p['epoch']}/{p['epochs']}", f"step {p['step']:,}/{p['steps']:,}"]
    if p["loss"] is not None:
        parts.append(f"loss {p['loss']:.4f}")
    if p["val_loss"] is not None:
        parts.append(f"validation {p['val_loss']:.4f} {unit}")
    if p["phase"] == "done":
        parts.append("done")
    elif p["eta_s"] is not None:
        parts.append(f"about {_duration(p['eta_s'])} left")
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
