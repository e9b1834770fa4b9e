"""``genaug generators``, ``genaug train`` and ``genaug sample`` in a subprocess, on real files,
with tiny models; checks the DESIGN.md contracts (JSON shapes, exit 2 with one line)."""

from __future__ import annotations

import hashlib
import subprocess
import importlib.util
import json
import warnings
from pathlib import Path

import pytest
from PIL import Image
from cli_helpers import assert_one_clear_line
from cli_helpers import genaug as _genaug

ROOT = Path(__file__).resolve().parents[2]


def genaug(*args: str) -> subprocess.CompletedProcess[str]:
    return _genaug(*args, cwd=ROOT)

TINY_TEXT = ["--set", "hidden=16", "--set", "embedding=8", "--set", "epochs=2", "--set", "batch_size=8"]


@pytest.fixture()
def text_project(tmp_path) -> str:
    data = tmp_path / "reviews.jsonl"
    rows = [("great value, works well", "pos"), ("broke in a day", "neg"), ("love it so much", "pos"),
            ("awful, sent it back", "neg")] * 6
    data.write_text("\n".join(json.dumps({"text": t, "label": lab}) for t, lab in rows) + "\n", encoding="utf-8")
    proc = genaug("init", str(tmp_path / "reviews"), str(data))
    assert proc.returncode == 0, proc.stderr
    return str(tmp_path / "reviews.genaug")


@pytest.fixture()
def image_project(tmp_path) -> str:
    root = tmp_path / "shapes"
    for label in ("ring", "square"):
        (root / label).mkdir(parents=True)
        for i in range(2):
            Image.new("L", (16, 16), 60 * i).save(root / label / f"{i}.png")
    proc = genaug("init", str(tmp_path / "shapes"), str(root))
    assert proc.returncode == 0, proc.stderr
    return str(tmp_path / "shapes.genaug")


def test_generators_json_contract():
    proc = genaug("generators", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    by_name = {r["name"]: r for r in rows}
    assert {"char_gru", "conv_vae"} <= set(by_name)
    for row in rows:
        assert {"name", "modality", "params", "available", "why"} <= set(row)
    assert by_name["char_gru"]["modality"] == "text" and by_name["conv_vae"]["modality"] == "image"
    assert by_name["char_gru"]["params"]["epochs"]["type"] == "int"
    human = genaug("generators")
    assert human.returncode == 0 and "char_gru" in human.stdout and "conv_vae" in human.stdout


def test_train_then_sample_text(text_project):
    proc = genaug("train", text_project, "--generator", "char_gru", *TINY_TEXT, "--seed", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["round"] == 0 and result["data"]["real"] == 24 and result["fit"]["steps"] > 0
    ckpt = result["checkpoint"]
    path = Path(text_project) / "checkpoints" / ckpt["name"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == ckpt["sha256"]
    assert ckpt["params"]["hidden"] == 16 and ckpt["seed"] == 3 and ckpt["state"] == "finished"
    assert "Epoch 2/2" in proc.stderr  # epoch lines go to stderr when it is not a terminal

    args = ("sample", text_project, "--generator", "char_gru", "--count", "4", "--seed", "1", "--label", "pos",
            "--set", "temperature=0.8", "--set", "max_length=30")
    proc = genaug(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    sampled = json.loads(proc.stdout)
    assert sampled["created"] == 4 and sampled["checkpoint_sha256"] == ckpt["sha256"] and sampled["round"] == 0
    listed = json.loads(genaug("list", text_project, "--origin", "generator", "--json").stdout)
    assert [c["id"] for c in listed] == sampled["ids"]
    assert {(c["origin"], c["label"], c["status"], c["source"]) for c in listed} == {("generator", "pos", "pending", None)}
    status = json.loads(genaug("status", text_project, "--json").stdout)
    assert status["by_round"] == {"0": 4} and status["by_origin"]["generator"] == 4
    again = genaug(*args)
    assert again.returncode == 0 and "0 candidates sampled" in again.stdout and "4 already" in again.stdout
    assert_one_clear_line(genaug("sample", text_project, "--generator", "char_gru", "--count", "1", "--label", "birds"),
                          "no class 'birds'")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("train", "{p}", "--generator", "nope"), ("unknown generator 'nope'",)),
        (("train", "{p}", "--generator", "char_gru", "--set", "epochs=abc"), ("--set epochs", "whole number")),
        (("train", "{p}", "--generator", "char_gru", "--set", "epochs=0"), ("--set epochs", "minimum")),
        (("train", "{p}", "--generator", "char_gru", "--set", "colour=red"), ("--set colour", "unknown parameter")),
        (("train", "{p}", "--generator", "char_gru", "--set", "epochs"), ("KEY=VALUE",)),
        (("train", "{p}", "--generator", "conv_vae", "--set", "epochs=1"), ("makes images",)),
        (("train", "{p}", "--generator", "char_gru", "--resume"), ("no partial char_gru checkpoint",)),
        (("sample", "{p}", "--generator", "char_gru", "--count", "2"), ("train one first",)),
        (("sample", "{p}", "--generator", "char_gru", "--count", "-1"), ("--count",)),
        (("sample", "{p}", "--generator", "char_gru", "--count", "2", "--set", "top_p=7"), ("--set top_p", "maximum")),
        (("sample", "{p}", "--generator", "char_gru", "--count", "2", "--set", "hidden=7"), ("--set hidden", "unknown")),
        (("train", "/no/such/project.genaug", "--generator", "char_gru"), ("not a genaug project",)),
    ],
)
def test_bad_usage_exits_2_with_one_line(text_project, args, needles):
    assert_one_clear_line(genaug(*(a.format(p=text_project) for a in args)), *needles)


def test_sample_from_torchscript_needs_trust_code(tmp_path, image_project):
    spec = importlib.util.spec_from_file_location(
        "export_torchscript", ROOT / "examples" / "torchscript_generator" / "export_torchscript.py"
    )
    module = importlib.util.module_from_spec(spec)
    path = str(tmp_path / "shapes.pt")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated", category=DeprecationWarning)
        spec.loader.exec_module(module)
        module.export_shapes(path)
    refused = genaug("sample", image_project, "--generator", path, "--count", "3")
    assert_one_clear_line(refused, "runs code", "--trust-code")
    proc = genaug("sample", image_project, "--generator", path, "--count", "3", "--label", "square", "--trust-code",
                  "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["checkpoint_sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    listed = json.loads(genaug("list", image_project, "--json").stdout)
    assert len(listed) == 3 and {c["label"] for c in listed} == {"square"}


def test_set_values_are_read_with_the_declared_types():
    from genaug_desktop.cli_generators import parse_assignments
    from genaug_desktop.core.generators import DATA_PARAMS, get_generator

    vae = get_generator("conv_vae")
    values = parse_assignments(
        ["size=64", "channels=grey", "beta=0.5", "epochs=3", "max_synthetic_share=0.25"], vae.params, DATA_PARAMS
    )
    assert values == {"size": 64, "channels": "grey", "beta": 0.5, "epochs": 3, "max_synthetic_share": 0.25}
    with pytest.raises(ValueError, match=r"--set size: '48' is not one of 32, 64"):
        parse_assignments(["size=48"], vae.params)
    with pytest.raises(ValueError, match=r"--set beta: 'x' is not a number"):
        parse_assignments(["beta=x"], vae.params)
