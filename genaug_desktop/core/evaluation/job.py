"""Did the curation help? Train the same small model on real items only, on real + accepted
candidates and on real + all candidates, and compare them on held-out real items.

Leakage rules: the held-out split is drawn from REAL items only (stratified by label, seeded by
``split_seed``, independent of the training seeds); no held-out item is trained on, and no
candidate whose source item is held out is used either. Candidates without a source (e.g. from
a generator) may be trained on; they are never evaluated on. Each finished result is stored
in the project (table ``evaluations``) with its parameters, seeds and exact candidate ids; a
cancelled run stores nothing. Without labels (fewer than two classes) the same comparison uses
the built-in generator's held-out loss (see ``generator_loss``). The newest result goes into
export manifests (:func:`evaluation_for_manifest`).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genaug_desktop.core.jobs import CancelToken, Job, Progress

CONDITIONS = ("real_only", "with_accepted", "with_all")
DEFAULT_EPOCHS = {"image": 40, "text": 30}
BATCH_SIZE = 32

# Projects made before evaluations existed are at schema 2 without the table; create it on use.
_TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS evaluations ("
    " id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, params TEXT NOT NULL,"
    " candidate_ids TEXT NOT NULL, result TEXT NOT NULL)"
)

# two-sided 95% critical values of Student's t by degrees of freedom
_T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23,
        15: 2.13, 20: 2.09, 30: 2.04}


class EvaluationError(Exception):
    """The project cannot be evaluated; the message says why, for a person."""


@dataclass(slots=True)
class Split:
    train: list[Any]  # Items
    held_out: list[Any]


def holdout_split(items: Sequence[Any], holdout: float, seed: int = 0, by_label: bool = True) -> Split:
    """Stratified, seeded split of labelled real items: about *holdout* of each class is held out
    (at least one item of every class with two or more items; a class of one is trained on only).
    With ``by_label=False`` every item, labelled or not, is one group (the unlabeled case)."""
    groups: dict[str, list[Any]] = {}
    for item in sorted(items, key=lambda i: i.key):
        if not by_label:
            groups.setdefault("", []).append(item)
        elif item.label is not None:
            groups.setdefault(item.label, []).append(item)
    rng = np.random.default_rng(seed)
    train: list[Any] = []
    held: list[Any] = []
    for label in sorted(groups):
        group = groups[label]
        order = rng.permutation(len(group))
        n_held = 0 if len(group) < 2 else min(len(group) - 1, max(1, int(round(len(group) * holdout))))
        held.extend(group[i] for i in order[:n_held])
        train.extend(group[i] for i in order[n_held:])
    return Split(train, held)


@dataclass(slots=True)
class EvaluationResult:
    id: int | None
    metric: str
    modality: str
    classes: list[str]
    seeds: list[int]
    params: dict[str, Any]
    conditions: dict[str, dict[str, Any]]  # name -> {"mean", "std", "macro_f1": {...}, "runs": [...]}
    per_class: dict[str, dict[str, Any]]
    counts: dict[str, int]
    candidate_ids: dict[str, list[int]]
    summary: str
    created_at: str = ""
    excluded: dict[str, int] = field(default_factory=dict)
    #: "accuracy" (more is better, a share) or "held_out_loss" (less is better, in *unit*)
    higher_is_better: bool = True
    unit: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "real_only": self.conditions.get("real_only"),
            "with_accepted": self.conditions.get("with_accepted"),
            "with_all": self.conditions.get("with_all"),
            "per_class": self.per_class,
            "summary": self.summary,
            "id": self.id,
            "created_at": self.created_at,
            "modality": self.modality,
            "classes": self.classes,
            "seeds": self.seeds,
            "params": self.params,
            "counts": self.counts,
            "excluded": self.excluded,
            "candidate_ids": self.candidate_ids,
            "higher_is_better": self.higher_is_better,
            "unit": self.unit,
        }


# ---- metrics ------------------------------------------------------------------------------------
def _scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, Any]:
    acc = float(np.mean(y_true == y_pred)) if len(y_true) else 0.0
    class_acc: list[float | None] = []
    class_f1: list[float | None] = []
    for c in range(n_classes):
        support = int(np.sum(y_true == c))
        tp = int(np.sum((y_true == c) & (y_pred == c)))
        fp = int(np.sum((y_true != c) & (y_pred == c)))
        fn = support - tp
        if support == 0:
            class_acc.append(None)
            class_f1.append(None)
            continue
        class_acc.append(tp / support)
        class_f1.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    present = [f for f in class_f1 if f is not None]
    return {"accuracy": acc, "macro_f1": float(np.mean(present)) if present else 0.0,
            "class_accuracy": class_acc, "class_f1": class_f1}


def _mean_std(values: Sequence[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0}


def _t95(df: int) -> float:
    best = 1.96
    for k in sorted(_T95):
        if df <= k:
            return _T95[k]
        best = _T95[k]
    return 1.96 if df > 30 else best


def _pct(mean: float, std: float) -> str:
    return f"{mean * 100:.1f}% ± {std * 100:.1f}"


def _summary(a: Sequence[float], b: Sequence[float], n_accepted: int, metric: str = "held-out accuracy",
             fmt: Callable[[float, float], str] = _pct, unit: str = "") -> str:
    """One plain sentence comparing real-only runs *a* with real + accepted runs *b* (paired by
    seed). "Raised"/"lowered" only when a paired t-test over the seeds says the change is clear
    (95%); with one seed the direction is given with a warning; otherwise "no clear difference".
    *fmt* writes a mean and spread; *unit* follows the second figure."""
    n = len(a)
    sa, sb = _mean_std(a), _mean_std(b)
    seeds = f"{n} seed{'s' if n != 1 else ''}"
    span = f"from {fmt(sa['mean'], sa['std'])} to {fmt(sb['mean'], sb['std'])}{unit} over {seeds}"
    if n_accepted == 0:
        return (f"there are no accepted synthetic samples to evaluate; real-only {metric} is "
                f"{fmt(sa['mean'], sa['std'])}{unit} over {seeds}")
    diffs = np.asarray(b, np.float64) - np.asarray(a, np.float64)
    mean_d = float(diffs.mean())
    if n < 2:
        if mean_d == 0:
            return f"accepted synthetic samples made no difference to {metric} ({fmt(sa['mean'], 0.0)}{unit}) over 1 seed"
        verb = "raised" if mean_d > 0 else "lowered"
        return f"accepted synthetic samples {verb} {metric} {span} (one seed: too few to judge significance)"
    sd_d = float(diffs.std(ddof=1))
    significant = mean_d != 0 and (sd_d == 0 or abs(mean_d) / (sd_d / math.sqrt(n)) > _t95(n - 1))
    if not significant:
        return f"accepted synthetic samples made no clear difference to {metric}: {span}"
    verb = "raised" if mean_d > 0 else "lowered"
    return f"accepted synthetic samples {verb} {metric} {span}"


# ---- data ---------------------------------------------------------------------------------------
def _load_image_candidate(project: Any, blob: str) -> np.ndarray:
    from genaug_desktop.core.policy import decode_png

    with open(project.blob_file(blob), "rb") as fh:
        return decode_png(fh.read())


def _features(project: Any, modality: str, real: Sequence[Any], cands: Sequence[Any], channels: int | None,
              cancel: CancelToken) -> tuple[np.ndarray, int | None]:
    from genaug_desktop.core.evaluation import models

    if modality == "text":
        texts = [i.text or "" for i in real] + [c.text or "" for c in cands]
        return models.text_features(texts), None
    from genaug_desktop.core.policy import load_image_array

    arrays: list[np.ndarray] = []
    for i, item in enumerate(real):
        if i % 64 == 0:
            cancel.raise_if_cancelled()
        arrays.append(load_image_array(project.source_path(item)))
    if channels is None:  # the model sees the data as the real items are: grey or colour
        channels = 1 if all(a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 1) for a in arrays) else 3
    for i, cand in enumerate(cands):
        if i % 64 == 0:
            cancel.raise_if_cancelled()
        arrays.append(_load_image_candidate(project, cand.blob))
    return models.image_tensor(arrays, channels), channels


def _usable(cand: Any, modality: str, classes: dict[str, int]) -> bool:
    if cand.label not in classes:
        return False
    return bool(cand.blob) if modality == "image" else cand.text is not None


def usable_candidates(cands: Sequence[Any], held_keys: set[str], usable: Callable[[Any], bool],
                      unusable_reason: str) -> tuple[list[Any], dict[str, int]]:
    """The candidates a model may train on: none made from a held-out item (leakage), none that
    *usable* refuses; and how many were left out for each reason."""
    excluded = {"source_held_out": 0, unusable_reason: 0}
    kept: list[Any] = []
    for c in cands:
        if c.source_item is not None and c.source_item in held_keys:
            excluded["source_held_out"] += 1
        elif not usable(c):
            excluded[unusable_reason] += 1
        else:
            kept.append(c)
    return kept, excluded


# ---- the job ------------------------------------------------------------------------------------
def evaluate_job(
    project: Any,
    holdout: float = 0.2,
    seeds: int | Sequence[int] = 5,
    epochs: int | None = None,
    include_all: bool = True,
    cancel: CancelToken | None = None,
    split_seed: int = 0,
    store: bool = True,
) -> Job[EvaluationResult]:
    """Compare real-only with real + accepted (and real + all) candidates on held-out real items.

    *seeds* is a count (seeds 0..N-1) or explicit seeds; *epochs* defaults per modality. With
    fewer than two classes the comparison is the built-in generator's held-out loss instead
    (``metric="held_out_loss"``, lower is better, no per-class figures; *epochs* are then the
    generator's). Yields :class:`Progress`; returns an :class:`EvaluationResult`, stored in the
    project when *store*.
    Raises :class:`EvaluationError` for projects that cannot be evaluated and ``Cancelled``
    (storing nothing) when *cancel* is set.
    """
    from genaug_desktop.core.evaluation import models

    cancel = cancel or CancelToken()
    if not 0.0 < holdout < 1.0:
        raise EvaluationError(f"the held-out share must be between 0 and 1 (got {holdout})")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise EvaluationError("at least one seed is needed")
    modality = project.modality
    if modality not in DEFAULT_EPOCHS:
        raise EvaluationError(f"cannot evaluate a {modality} project")
    if epochs is not None and int(epochs) < 1:
        raise EvaluationError("epochs must be 1 or more")

    yield Progress(0, None, "Splitting real items")
    items = project.items()
    labelled = [i for i in items if i.label is not None]
    class_names = sorted({i.label for i in labelled})
    if len(class_names) < 2:
        # No classes to classify: compare the built-in generator's held-out loss instead.
        from genaug_desktop.core.evaluation.generator_loss import generator_loss_job

        result = yield from generator_loss_job(
            project, items, holdout, seed_list, epochs, include_all, cancel, split_seed)
        if store:
            cancel.raise_if_cancelled()
            _store(project, result)
        yield Progress(1, 1, result.summary)
        return result
    epochs = DEFAULT_EPOCHS[modality] if epochs is None else int(epochs)
    classes = {name: k for k, name in enumerate(class_names)}
    split = holdout_split(labelled, holdout, split_seed)
    if not split.held_out:
        raise EvaluationError("too few labelled items to hold any out; every class needs at least two items")
    held_keys = {i.key for i in split.held_out}

    all_cands = project.candidates()
    usable, excluded = usable_candidates(all_cands, held_keys, lambda c: _usable(c, modality, classes),
                                         "unlabelled_or_unknown_class")
    accepted = [c for c in usable if c.status == "accepted"]
    conditions = ["real_only", "with_accepted"] + (["with_all"] if include_all else [])
    pool = usable if include_all else accepted

    yield Progress(0, None, "Loading data")
    x_all, channels = _features(project, modality, split.train + split.held_out, pool, None, cancel)
    n_train, n_held = len(split.train), len(split.held_out)
    x_train_real = x_all[:n_train]
    x_test = x_all[n_train:n_train + n_held]
    x_pool = x_all[n_train + n_held:]
    y_train_real = np.array([classes[i.label] for i in split.train], np.int64)
    y_test = np.array([classes[i.label] for i in split.held_out], np.int64)
    y_pool = np.array([classes[c.label] for c in pool], np.int64)
    pool_index = {c.id: k for k, c in enumerate(pool)}
    sets = {"real_only": [], "with_accepted": [c.id for c in accepted], "with_all": [c.id for c in usable]}

    # Every condition trains for the same number of steps (epochs over the REAL training set), so
    # that candidates are judged as data, not as extra compute.
    steps_per_epoch = max(1, -(-n_train // BATCH_SIZE))
    total = len(seed_list) * len(conditions)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in conditions}
    done = 0
    for seed in seed_list:
        cache: dict[tuple[int, ...], dict[str, Any]] = {}
        for name in conditions:
            cancel.raise_if_cancelled()
            ids = tuple(sets[name])
            yield Progress(done, total, f"Seed {seed}: training on {name.replace('_', ' ')}")
            if ids in cache:  # the same training set trains the same model: reuse it
                runs[name].append(cache[ids])
            else:
                rows = [pool_index[i] for i in ids]
                x_tr = np.concatenate([x_train_real, x_pool[rows]]) if rows else x_train_real
                y_tr = np.concatenate([y_train_real, y_pool[rows]]) if rows else y_train_real
                pred = models.train_and_predict(
                    modality, x_tr, y_tr, x_test, len(class_names), seed, epochs, batch_size=BATCH_SIZE,
                    check=cancel.raise_if_cancelled, steps_per_epoch=steps_per_epoch,
                )
                cache[ids] = _scores(y_test, pred, len(class_names))
                runs[name].append(cache[ids])
            done += 1
    cancel.raise_if_cancelled()
    yield Progress(done, total, "Summarising")

    summary_conditions: dict[str, dict[str, Any]] = {}
    for name in conditions:
        acc = [r["accuracy"] for r in runs[name]]
        f1 = [r["macro_f1"] for r in runs[name]]
        summary_conditions[name] = {
            **_mean_std(acc), "macro_f1": _mean_std(f1), "runs": acc, "runs_macro_f1": f1,
            "train_size": n_train + len(sets[name]), "candidates": len(sets[name]),
        }
    per_class: dict[str, dict[str, Any]] = {}
    for label, k in classes.items():
        entry: dict[str, Any] = {"held_out": int(np.sum(y_test == k))}
        if entry["held_out"] == 0:
            per_class[label] = entry
            continue
        for name in conditions:
            entry[name] = {
                "accuracy": _mean_std([r["class_accuracy"][k] for r in runs[name]]),
                "f1": _mean_std([r["class_f1"][k] for r in runs[name]]),
            }
        for name in conditions[1:]:
            suffix = name.removeprefix("with_")
            entry[f"delta_accuracy_{suffix}"] = float(np.mean(
                [b["class_accuracy"][k] - a["class_accuracy"][k] for a, b in zip(runs["real_only"], runs[name])]))
            entry[f"delta_f1_{suffix}"] = float(np.mean(
                [b["class_f1"][k] - a["class_f1"][k] for a, b in zip(runs["real_only"], runs[name])]))
        per_class[label] = entry

    sentence = _summary(summary_conditions["real_only"]["runs"], summary_conditions["with_accepted"]["runs"], len(accepted))
    params = {"holdout": holdout, "split_seed": split_seed, "seeds": seed_list, "epochs": epochs,
              "include_all": include_all, "model": "cnn32" if modality == "image" else "char-ngram-linear",
              "channels": channels, "batch_size": BATCH_SIZE,
              "steps": epochs * steps_per_epoch, "held_out_keys": sorted(held_keys)}
    counts = {"train_real": n_train, "held_out": n_held, "accepted": len(accepted),
              "all": len(usable) if include_all else len(accepted), "candidates_total": len(all_cands)}
    result = EvaluationResult(
        id=None, metric="accuracy", modality=modality, classes=class_names, seeds=seed_list, params=params,
        conditions=summary_conditions, per_class=per_class, counts=counts,
        candidate_ids={k: sets[k] for k in conditions if k != "real_only"}, summary=sentence, excluded=excluded,
    )
    if store:
        cancel.raise_if_cancelled()
        _store(project, result)
    yield Progress(total, total, sentence)
    return result


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _store(project: Any, result: EvaluationResult) -> None:
    result.created_at = _now()
    body = result.to_json()
    for key in ("id", "created_at", "params", "candidate_ids"):
        body.pop(key)
    with project.transaction() as db:
        db.execute(_TABLE_DDL)
        cur = db.execute(
            "INSERT INTO evaluations(created_at, params, candidate_ids, result) VALUES (?, ?, ?, ?)",
            (result.created_at, json.dumps(result.params, sort_keys=True),
             json.dumps(result.candidate_ids, sort_keys=True), json.dumps(body, sort_keys=True)),
        )
        result.id = int(cur.lastrowid or 0)


def stored_evaluations(project: Any, with_candidates: bool = True) -> list[dict[str, Any]]:
    """Every stored evaluation, oldest first: the result JSON plus id, created_at, params and
    candidate_ids (an empty dict without *with_candidates*: a listing need not read them)."""
    if not _has_table(project):
        return []
    select = _SELECT if with_candidates else _SELECT.replace("candidate_ids", "'{}'")
    return [_stored(row) for row in project.query(f"{select} ORDER BY id")]


def _has_table(project: Any) -> bool:
    return bool(project.query("SELECT name FROM sqlite_master WHERE type='table' AND name='evaluations'"))


_SELECT = "SELECT id, created_at, params, candidate_ids, result FROM evaluations"


def _stored(row: Sequence[Any]) -> dict[str, Any]:
    eid, created, params, cids, body = row
    return {**json.loads(body), "id": eid, "created_at": created, "params": json.loads(params),
            "candidate_ids": json.loads(cids)}


def latest_evaluation(project: Any) -> dict[str, Any] | None:
    """The newest stored evaluation (as :func:`stored_evaluations` gives each), or None."""
    if not _has_table(project):
        return None
    rows = project.query(f"{_SELECT} ORDER BY id DESC LIMIT 1")
    return _stored(rows[0]) if rows else None


def evaluation_for_manifest(project: Any) -> dict[str, Any] | None:
    """The latest evaluation, compact, for an export manifest's ``evaluation`` field (None when
    the project has none): metric and direction, mean/std per condition, the sentence, seeds and
    settings, counts, and whether decisions or candidates changed after it ran (then it may not
    describe the exported set)."""
    latest = latest_evaluation(project)
    if latest is None:
        return None
    params = dict(latest["params"])
    params.pop("held_out_keys", None)
    conditions = {}
    for name in CONDITIONS:
        stats = latest.get(name)
        if stats:
            conditions[name] = {k: v for k, v in stats.items() if k in ("mean", "std", "runs", "candidates", "train_size")}
            if "macro_f1" in stats:
                conditions[name]["macro_f1"] = stats["macro_f1"]
    created = latest["created_at"]
    decided = project.query("SELECT COUNT(*) FROM decisions WHERE at > ?", (created,))[0][0]
    added = project.query("SELECT COUNT(*) FROM candidates WHERE created_at > ?", (created,))[0][0]
    return {
        "id": latest["id"], "created_at": created, "metric": latest["metric"],
        "higher_is_better": latest.get("higher_is_better", True), "unit": latest.get("unit", ""),
        **conditions, "summary": latest["summary"], "seeds": latest["seeds"], "params": params,
        "counts": latest["counts"], "excluded": latest.get("excluded", {}),
        "per_class": latest.get("per_class", {}),
        "changed_since": {"decisions": int(decided), "candidates_added": int(added)},
    }
