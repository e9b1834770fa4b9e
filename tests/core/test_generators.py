"""Generators: the protocol, seeded reproducibility, checkpoints (and refusing pickles), cancel and
resume, self-training rounds on a project, plug-ins through entry points, TorchScript files.

Every model here is tiny (a few hundred parameters to a few thousand, a handful of steps) so the
whole file runs in well under a minute on two CPU cores; the real quality figures are in
benchmarks/bench_generators.py.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genaug_desktop.core.generators import (
    DATA_PARAMS,
    ENTRY_POINT_GROUP,
    PAYLOAD_KEYS,
    CheckpointError,
    GeneratorError,
    TrainingData,
    TrustRequired,
    describe_generators,
    get_generator,
    inspect_torchscript,
    list_checkpoints,
    load_generator,
    load_torchscript,
    next_round,
    registry,
    round_summary,
    sample_job,
    train_job,
    training_data,
)
from genaug_desktop.core.generators.checkpoint import file_sha256, read_checkpoint, read_checkpoint_config
from genaug_desktop.core.jobs import CancelToken, Cancelled, run_job
from genaug_desktop.core.store import init_project_job

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

TINY = {
    "char_gru": {"hidden": 16, "embedding": 8, "epochs": 2, "batch_size": 8, "val_fraction": 0.2},
    "conv_vae": {"width": 8, "latent": 4, "epochs": 2, "batch_size": 8, "val_fraction": 0.2},
}
TEXTS = {
    "pets": ["the cat sat on the mat", "a dog ran in the park", "my cat likes fish", "the dog barked twice"],
    "weather": ["the sun is hot today", "it rained all day long", "snow fell at night", "a cold wind blew"],
}


def text_data(copies: int = 3) -> TrainingData:
    texts, labels = [], []
    for label, items in TEXTS.items():
        for _ in range(copies):
            texts += items
            labels += [label] * len(items)
    return TrainingData.from_texts(texts, labels)


def image_data(n: int = 16) -> TrainingData:
    rng = np.random.default_rng(0)
    images, labels = [], []
    for i in range(n):
        img = np.zeros((16, 16), np.uint8)
        if i % 2:
            img[4:12, 4:12] = 255
        else:
            img[:, 7:9] = 255
        images.append(np.clip(img.astype(int) + rng.integers(0, 20, img.shape), 0, 255).astype(np.uint8))
        labels.append("square" if i % 2 else "bar")
    return TrainingData.from_arrays(images, labels)


DATA = {"char_gru": text_data, "conv_vae": image_data}


def fit(name: str, seed: int = 0, **overrides):
    gen = get_generator(name)()
    progress = []
    result = run_job(gen.fit_job(DATA[name](), {**TINY[name], **overrides}, seed=seed), progress.append)
    return gen, result, progress


@pytest.fixture()
def text_project(tmp_path):
    path = tmp_path / "texts.jsonl"
    rows = [{"text": t, "label": lab} for lab, items in TEXTS.items() for t in items for _ in range(3)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    project = run_job(init_project_job(str(tmp_path / "t.genaug"), str(path)))
    yield project
    project.close()


@pytest.fixture()
def image_project(tmp_path):
    root = tmp_path / "shapes"
    for label in ("ring", "square"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (16, 16), 40 * i).save(root / label / f"{i}.png")
    project = run_job(init_project_job(str(tmp_path / "i.genaug"), str(root)))
    yield project
    project.close()


@pytest.fixture()
def clean_registry():
    yield
    registry(refresh=True)  # drop whatever a test's fake entry points added


def model_arrays(gen) -> dict[str, np.ndarray]:
    return {k: v for k, v in gen.state_arrays().items() if k.startswith("model.")}


# ---- registry and protocol --------------------------------------------------------------------------------
BUILTINS = sorted(name for name, entry in registry().items() if entry.source == "built-in")


def test_every_builtin_has_a_test_entry():
    assert BUILTINS == sorted(TINY), "a new built-in generator needs tiny settings in TINY and data in DATA"


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_declares_itself(name):
    rows = {r["name"]: r for r in describe_generators()}
    row = rows[name]
    assert {"name", "modality", "params", "available", "why"} <= set(row)
    assert row["modality"] in ("image", "text") and row["available"] is True and row["why"] is None
    cls = get_generator(name)
    assert cls.params.validate(None, "$") == cls.params.defaults()
    assert cls.params.validate(TINY[name], "$")
    assert "temperature" in cls.sample_params.names()
    assert set(row["params"]) == set(cls.params.names())
    json.dumps(row)


def test_listing_generators_does_not_import_torch():
    code = (
        "import sys\nfrom genaug_desktop.core.generators import describe_generators\n"
        "rows = describe_generators()\nassert rows and 'torch' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize("name", BUILTINS)
def test_fit_job_protocol_and_sampling(name):
    gen, result, progress = fit(name)
    payloads = [p.payload for p in progress if isinstance(p.payload, dict)]
    assert payloads and all(set(PAYLOAD_KEYS) <= set(p) for p in payloads)
    assert payloads[-1]["phase"] == "done" and payloads[-1]["val_loss"] is not None
    assert any(p["phase"] == "validate" for p in payloads)
    trained = [p for p in payloads if p["loss"] is not None]
    assert trained and all(np.isfinite(p["loss"]) for p in trained)
    n = len(DATA[name]())
    steps = 2 * -(-(n - round(n * 0.2)) // 8)  # 2 epochs of ceil(training examples / batch of 8)
    assert progress[-1].total == progress[-1].done == result.steps == steps
    assert result.stopped_by == "epochs" and result.epochs == 2 and result.history
    short = {"max_length": 30} if gen.modality == "text" else {}  # an untrained model rarely ends a text
    samples = gen.sample(5, seed=1, label=gen.labels[0], temperature=0.8, **short)
    assert [s.index for s in samples] == list(range(5))
    assert {s.label for s in samples} == {gen.labels[0]}
    for s in samples:
        if gen.modality == "text":
            assert isinstance(s.value, str) and len(s.value) <= 30
        else:
            assert s.value.dtype == np.uint8 and s.value.shape == (32, 32)
    mixed = gen.sample(12, seed=2, **short)
    assert {s.label for s in mixed} == set(gen.labels)  # drawn per sample from the class counts


def test_training_loss_falls():
    gen, result, _ = fit("char_gru", epochs=10, val_fraction=0.0, hidden=32, learning_rate=0.03)
    first, last = result.history[0][1], result.history[-1][1]
    assert last < 0.7 * first, result.history


def test_same_seed_same_model_and_samples():
    a, _, _ = fit("char_gru", seed=5)
    b, _, _ = fit("char_gru", seed=5)
    c, _, _ = fit("char_gru", seed=6)
    for key, value in model_arrays(a).items():
        assert np.array_equal(value, model_arrays(b)[key]), key
    assert not all(np.array_equal(v, model_arrays(c)[k]) for k, v in model_arrays(a).items())
    opts = {"top_k": 5, "top_p": 0.9, "max_length": 40}
    one = [s.value for s in a.sample(8, seed=3, **opts)]
    assert one == [s.value for s in b.sample(8, seed=3, **opts)]
    # sample i depends only on (seed, i): the batch around it does not matter
    split = a.sample(3, seed=3, **opts) + a.sample(5, seed=3, start=3, **opts)
    assert [s.value for s in split] == one
    assert [s.value for s in a.sample(8, seed=4, **opts)] != one
    greedy = a.sample(3, seed=0, label="pets", temperature=0.0, max_length=40)
    assert len({s.value for s in greedy}) == 1


def test_checkpoint_round_trip(tmp_path):
    for name in BUILTINS:
        gen, _, _ = fit(name, seed=2)
        path = tmp_path / f"{name}.safetensors"
        sha = gen.save(str(path))
        assert sha == file_sha256(str(path)) == gen.checkpoint_sha256
        config = read_checkpoint_config(str(path))
        assert config["generator"] == name and config["seed"] == 2 and config["params"]["epochs"] == 2
        loaded = load_generator(str(path))
        assert type(loaded) is type(gen) and loaded.checkpoint_sha256 == sha and loaded.labels == gen.labels
        short = {"max_length": 30} if gen.modality == "text" else {}
        for x, y in zip(gen.sample(4, seed=9, **short), loaded.sample(4, seed=9, **short), strict=True):
            assert np.array_equal(x.value, y.value) if name == "conv_vae" else x.value == y.value
        other = get_generator(next(n for n in BUILTINS if n != name))
        with pytest.raises(CheckpointError, match="not of"):
            other.load(str(path))
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes((tmp_path / "char_gru.safetensors").read_bytes()[:-100])
    with pytest.raises(CheckpointError):
        load_generator(str(damaged))
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        (tmp_path / "junk.bin").write_bytes(b"hello")
        read_checkpoint(str(tmp_path / "junk.bin"))


class _Evil:
    """Unpickling this runs os.mkdir(marker): the attack a weights-only loader must refuse."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("flavour", ["raw pickle", "torch.save zip"])
def test_malicious_pickle_checkpoint_is_refused(tmp_path, flavour):
    import torch

    marker = str(tmp_path / "pwned")
    path = tmp_path / "evil.pt"
    payload = {"config": json.dumps({"format": "genaug-generator-checkpoint", "format_version": 1,
                                     "generator": "char_gru"}), "tensors": {"model.x": _Evil(marker)}}
    if flavour == "raw pickle":
        path.write_bytes(pickle.dumps(payload, protocol=2))
    else:
        torch.save(payload, str(path))
    with pytest.raises(CheckpointError, match="refused"):
        load_generator(str(path))
    with pytest.raises(CheckpointError, match="refused"):
        get_generator("char_gru").load(str(path))
    assert not os.path.exists(marker), "loading the checkpoint ran code from it"


def test_weights_only_torch_file_is_accepted(tmp_path):
    import torch

    gen, _, _ = fit("char_gru")
    path = tmp_path / "weights.pt"
    config = dict(gen.config, generator="char_gru", format="genaug-generator-checkpoint", format_version=1)
    tensors = {k: torch.from_numpy(v.copy()) for k, v in gen.state_arrays().items()}
    torch.save({"config": json.dumps(config), "tensors": tensors}, str(path))
    loaded = load_generator(str(path))
    assert [s.value for s in loaded.sample(3, 1, max_length=30)] == [s.value for s in gen.sample(3, 1, max_length=30)]


# ---- cancel and resume ------------------------------------------------------------------------------------
def test_cancel_mid_epoch_leaves_usable_state_and_resume_matches(tmp_path):
    values = {**TINY["char_gru"], "epochs": 2, "val_fraction": 0.0}  # 24 texts, batch 8: 3 steps an epoch
    whole = get_generator("char_gru")()
    run_job(whole.fit_job(text_data(), values, seed=4))

    cut = get_generator("char_gru")()
    token = CancelToken()
    with pytest.raises(Cancelled):
        for p in cut.fit_job(text_data(), values, seed=4, cancel=token):
            if isinstance(p.payload, dict) and p.payload["phase"] == "train":
                token.cancel()
    state = cut.config["training"]
    assert state["step"] == 1 and state["step_in_epoch"] == 1 and not state["finished"]
    assert len(cut.sample(2, seed=0, max_length=20)) == 2  # usable: it samples, and it saves
    path = str(tmp_path / "partial.safetensors")
    cut.save(path)

    resumed = get_generator("char_gru")()
    result = run_job(resumed.fit_job(text_data(), {"epochs": 2}, seed=99, resume_from=path))
    assert result.steps == 6 and resumed.config["seed"] == 4
    for key, value in model_arrays(whole).items():
        np.testing.assert_array_equal(value, model_arrays(resumed)[key], err_msg=key)
    with pytest.raises(GeneratorError, match="cannot change"):
        run_job(get_generator("char_gru")().fit_job(text_data(), {"hidden": 99}, resume_from=path))


def test_time_limit_ends_training_as_a_finish():
    gen, result, _ = fit("char_gru", epochs=10_000, max_seconds=0.5)
    assert result.stopped_by == "time limit" and 0 < result.steps < 10_000 * 2
    assert gen.config["training"]["finished"] and result.val_loss is not None


def test_closing_train_job_keeps_partial_checkpoint_and_resume_finishes(text_project):
    values = {**TINY["char_gru"], "epochs": 3}
    job = train_job(text_project, "char_gru", values, seed=1)
    for p in job:
        if isinstance(p.payload, dict) and p.payload["phase"] == "train":
            assert p.payload["round"] == 0
            break
    job.close()  # what the GUI worker does on cancel
    partial = list_checkpoints(text_project, "char_gru", state="partial")
    assert len(partial) == 1 and partial[0].round == 0
    assert file_sha256(partial[0].path) == partial[0].sha256
    result = run_job(train_job(text_project, "char_gru", None, resume=partial[0].sha256[:10]))
    assert result.checkpoint.state == "finished" and result.checkpoint.parent == partial[0].sha256
    assert result.fit.steps == 3 * 3 and result.checkpoint.metrics["steps"] == 9  # 19 training texts, batch 8


# ---- project: rounds, sampling, provenance -----------------------------------------------------------------
def test_rounds_train_on_accepted_synthetic_samples(text_project):
    first = run_job(train_job(text_project, "char_gru", TINY["char_gru"], seed=0))
    assert first.round == 0 and first.data == {
        "round": 0, "real": 24, "synthetic": 0, "synthetic_pool": 0, "max_synthetic_share": 0.5, "synthetic_by_round": {},
    }
    assert file_sha256(first.checkpoint.path) == first.checkpoint.sha256
    sampled = run_job(sample_job(text_project, "char_gru", n=6, seed=0, temperature=0.9, options={"max_length": 40}))
    ids = sampled.candidate_ids
    assert sampled.created == 6 and sampled.round == 0
    cands = {c.id: c for c in text_project.candidates(origin="generator")}
    prov = cands[ids[0]].provenance
    assert prov["generator"] == "char_gru" and prov["checkpoint_sha256"] == first.checkpoint.sha256
    assert prov["round"] == 0 and cands[ids[0]].round == 0 and prov["sampling"]["temperature"] == 0.9
    assert {"seed", "base_seed", "index", "label", "sampling", "checkpoint"} <= set(prov)
    text_project.decide(ids[:4], "accepted")
    text_project.decide(ids[4:], "rejected")
    assert next_round(text_project) == 1

    data = training_data(text_project, round=1, max_synthetic_share=0.5, seed=0)
    synthetic = [e for e in data.examples if e.synthetic]
    assert len(data.examples) == 28 and {e.ref for e in synthetic} == {f"candidate:{i}" for i in ids[:4]}
    assert {e.text for e in synthetic} == {cands[i].text for i in ids[:4]}
    assert training_data(text_project, 1, max_synthetic_share=0.1).info["synthetic"] == 2  # 2 / 26 <= 10%
    assert training_data(text_project, 1, max_synthetic_share=0.0).info["synthetic"] == 0
    assert training_data(text_project, 0).info["synthetic"] == 0

    second = run_job(train_job(text_project, "char_gru", TINY["char_gru"], seed=0))
    assert second.round == 1 and second.data["synthetic"] == 4 and second.data["synthetic_by_round"] == {"0": 4}
    assert second.checkpoint.data["synthetic"] == 4
    more = run_job(sample_job(text_project, "char_gru", n=3, seed=1, options={"max_length": 40}))
    assert more.round == 1 and more.checkpoint_sha256 == second.checkpoint.sha256
    assert text_project.status()["by_round"] == {"0": 6, "1": 3}
    summary = round_summary(text_project)
    assert summary["0"]["accepted"] == 4 and summary["0"]["acceptance_rate"] == pytest.approx(4 / 6)
    assert summary["1"]["pending"] == 3 and summary["1"]["acceptance_rate"] is None
    assert [c["sha256"] for c in summary["1"]["checkpoints"]] == [second.checkpoint.sha256]


def test_sample_job_streams_batches_cancels_between_them_and_rebuilds(text_project):
    run_job(train_job(text_project, "char_gru", TINY["char_gru"], seed=0))
    token = CancelToken()
    batches = []
    with pytest.raises(Cancelled):
        for p in sample_job(text_project, "char_gru", n=6, seed=7, label="weather", batch_size=2,
                            options={"top_k": 4, "max_length": 40}, cancel=token):
            if p.payload:
                batches.append(p.payload)
                token.cancel()
    assert len(batches) == 1 and len(batches[0]) == 2
    stored = text_project.candidates(origin="generator")
    assert [c.id for c in stored] == batches[0] and {c.label for c in stored} == {"weather"}
    # the same request again makes only the missing samples
    again = run_job(sample_job(text_project, "char_gru", n=6, seed=7, label="weather", batch_size=2,
                               options={"top_k": 4, "max_length": 40}))
    assert again.created == 4 and again.skipped_existing == 2
    # any candidate is rebuilt from its provenance
    gen = load_generator(list_checkpoints(text_project, "char_gru")[0].path)
    for c in text_project.candidates(origin="generator"):
        p = c.provenance
        opts = {k: v for k, v in p["sampling"].items() if k != "temperature"}
        rebuilt = gen.sample(1, p["base_seed"], p["label_requested"], p["sampling"]["temperature"], start=p["index"], **opts)
        assert rebuilt[0].value == c.text and rebuilt[0].seed == p["seed"]


def test_sample_job_refuses_bad_requests(text_project):
    with pytest.raises(GeneratorError, match="no finished char_gru checkpoint"):
        run_job(sample_job(text_project, "char_gru", n=2))
    run_job(train_job(text_project, "char_gru", TINY["char_gru"]))
    with pytest.raises(GeneratorError, match="no class 'birds'"):
        run_job(sample_job(text_project, "char_gru", n=2, label="birds"))
    with pytest.raises(GeneratorError, match="makes images"):
        run_job(train_job(text_project, "conv_vae", TINY["conv_vae"]))
    assert text_project.candidates() == []


def test_image_generator_on_a_project(image_project):
    result = run_job(train_job(image_project, "conv_vae", {**TINY["conv_vae"], "size": 32}, seed=0))
    assert result.checkpoint.generator == "conv_vae" and result.data["real"] == 6
    sampled = run_job(sample_job(image_project, "conv_vae", n=3, seed=0, label="ring", temperature=0.5))
    for c in image_project.candidates(origin="generator"):
        with Image.open(image_project.blob_file(c.blob)) as img:
            assert img.size == (32, 32) and img.mode == "L"
        assert c.label == "ring" and c.provenance["sampling"] == {"temperature": 0.5}
    assert sampled.created == 3


# ---- plug-ins -----------------------------------------------------------------------------------------------
PLUGIN_SOURCE = '''
from genaug_desktop.core.generators import Generator

class Renamed(Generator):
    name = "not_what_the_entry_point_says"
    modality = "text"
'''


def test_entry_point_plugins_are_discovered_and_broken_ones_listed(tmp_path, monkeypatch, clean_registry, text_project):
    (tmp_path / "plugmods").mkdir()
    (tmp_path / "plugmods" / "renamed_plugin.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
    (tmp_path / "plugmods" / "crashing_plugin.py").write_text("raise RuntimeError('boom at import')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "plugmods"))
    monkeypatch.syspath_prepend(str(EXAMPLES / "plugin_generator" / "src"))
    EP = importlib.metadata.EntryPoint
    fake = [
        EP("markov", "genaug_markov:MarkovTextGenerator", ENTRY_POINT_GROUP),
        EP("crashing", "crashing_plugin:Gen", ENTRY_POINT_GROUP),
        EP("missing", "no_such_module_anywhere:Gen", ENTRY_POINT_GROUP),
        EP("renamed", "renamed_plugin:Renamed", ENTRY_POINT_GROUP),
        EP("not_a_class", "json:dumps", ENTRY_POINT_GROUP),
        EP("char_gru", "genaug_markov:MarkovTextGenerator", ENTRY_POINT_GROUP),
    ]

    def entry_points(**kwargs):
        assert kwargs == {"group": ENTRY_POINT_GROUP}
        return fake

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    rows = {r["name"]: r for r in describe_generators(refresh=True)}
    assert rows["markov"]["available"] and rows["markov"]["modality"] == "text"
    assert rows["markov"]["source"].startswith("plug-in") and "order" in rows["markov"]["params"]
    assert "boom at import" in rows["crashing"]["why"] and not rows["crashing"]["available"]
    assert "No module named" in rows["missing"]["why"]
    assert "calls itself" in rows["renamed"]["why"]
    assert "not a genaug_desktop Generator" in rows["not_a_class"]["why"]
    assert rows["char_gru"]["source"] == "built-in"  # a plug-in cannot take a built-in's name
    assert any("already taken" in (r["why"] or "") for r in rows.values())
    json.dumps(list(rows.values()))
    with pytest.raises(GeneratorError, match="unavailable: the plug-in failed to load"):
        get_generator("crashing")

    # the example plug-in works end to end on a project, checkpoint included
    result = run_job(train_job(text_project, "markov", {"order": 3}, seed=0))
    assert result.checkpoint.generator == "markov"
    sampled = run_job(sample_job(text_project, "markov", n=4, seed=0, label="pets", options={"max_length": 40}))
    texts = [c.text for c in text_project.candidates(origin="generator")]
    assert sampled.created == 4 and all(0 < len(t) <= 40 for t in texts)
    assert load_generator(result.checkpoint.path).sample(4, 0, "pets", max_length=40)[0].value == texts[0]


# ---- TorchScript ------------------------------------------------------------------------------------------
def _exporter():
    spec = importlib.util.spec_from_file_location("export_torchscript", EXAMPLES / "torchscript_generator" / "export_torchscript.py")
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated", category=DeprecationWarning)
        spec.loader.exec_module(module)
    return module


def test_torchscript_is_refused_unless_confirmed(tmp_path, image_project, monkeypatch):
    import torch

    path = str(tmp_path / "shapes.pt")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated", category=DeprecationWarning)
        _exporter().export_shapes(path)
    info = inspect_torchscript(path)  # reads genaug.json straight from the zip
    assert info.modality == "image" and info.labels == ["ring", "square"]
    assert info.sha256 == hashlib.sha256(Path(path).read_bytes()).hexdigest()

    def must_not_load(*args, **kwargs):
        raise AssertionError("torch.jit.load was called before the user confirmed")

    with monkeypatch.context() as m:
        m.setattr(torch.jit, "load", must_not_load)
        with pytest.raises(TrustRequired, match="runs code"):
            load_torchscript(path)
        with pytest.raises(TrustRequired):
            load_torchscript(path, confirmed=False)
    gen = load_torchscript(path, confirmed=True)
    first = gen.sample(3, seed=5, label="square")
    assert [s.value.shape for s in first] == [(32, 32)] * 3 and first[0].value.dtype == np.uint8
    assert all(np.array_equal(a.value, b.value) for a, b in zip(first, gen.sample(3, seed=5, label="square"), strict=True))
    result = run_job(sample_job(image_project, gen, n=4, seed=1))
    assert result.created == 4 and result.round == 0
    record = list_checkpoints(image_project, state="external")[0]
    assert record.sha256 == info.sha256 and record.path == os.path.abspath(path)
    prov = image_project.candidates(origin="generator")[0].provenance
    assert prov["generator"] == "torchscript" and prov["checkpoint_sha256"] == info.sha256
    with pytest.raises(GeneratorError, match="not a TorchScript archive"):
        inspect_torchscript(str(Path(__file__)))


def test_data_params_are_declared():
    assert DATA_PARAMS.validate({"max_synthetic_share": 0.3}, "$")["max_synthetic_share"] == 0.3


# ---- trial fixes: sampling the other modality, partial checkpoints after a resume ---------------------------
def test_sampling_an_image_generator_on_a_text_project_names_the_mismatch(text_project):
    with pytest.raises(GeneratorError) as info:
        run_job(sample_job(text_project, "conv_vae", n=2))
    assert str(info.value) == "conv_vae makes images, but this project holds texts"
    with pytest.raises(GeneratorError) as train_info:
        run_job(train_job(text_project, "conv_vae", TINY["conv_vae"]))
    assert str(train_info.value) == str(info.value)  # train and sample say it the same way


def _cancelled_partial(project, resume=None):
    job = train_job(project, "char_gru", {**TINY["char_gru"], "epochs": 3}, seed=1, resume=resume)
    for p in job:
        if isinstance(p.payload, dict) and p.payload["phase"] == "train":
            break
    job.close()
    return list_checkpoints(project, "char_gru", state="partial")[0]


def test_a_finished_resume_removes_the_partial_checkpoints_it_came_from(text_project):
    first = _cancelled_partial(text_project)
    second = _cancelled_partial(text_project, resume=first.sha256)
    assert second.parent == first.sha256 and os.path.exists(first.path) and os.path.exists(second.path)
    result = run_job(train_job(text_project, "char_gru", None, resume=second.sha256))
    assert result.checkpoint.state == "finished" and result.checkpoint.parent == second.sha256
    assert list_checkpoints(text_project, "char_gru", state="partial") == []
    folder = os.path.join(text_project.path, "checkpoints")
    assert sorted(os.listdir(folder)) == [result.checkpoint.name]  # no partial and no temporary file left
    assert file_sha256(result.checkpoint.path) == result.checkpoint.sha256


def test_a_partial_checkpoint_that_was_sampled_from_is_kept(text_project):
    partial = _cancelled_partial(text_project)
    run_job(sample_job(text_project, "char_gru", checkpoint=partial.sha256, n=2))
    run_job(train_job(text_project, "char_gru", None, resume=partial.sha256))
    kept = list_checkpoints(text_project, "char_gru", state="partial")
    assert [r.sha256 for r in kept] == [partial.sha256] and os.path.exists(partial.path)
