"""Security promises (see SECURITY.md): no code runs from data files, regex rules are bounded,
nothing outside the dataset root is read through a link, and exports write only into their
own folder. Complements tests/core/test_generators.py (pickled checkpoints, TorchScript trust),
tests/core/test_rules.py (catastrophic patterns) and tests/core/test_export_safety.py (hostile
labels and destinations)."""

from __future__ import annotations

import ast
import io
import json
import os
import struct
import time
from pathlib import Path

import pytest

from genaug_desktop.core.policy import Policy, PolicyError
from genaug_desktop.core.rules.ruleset import RuleSet, RuleSetError

from .helpers import genaug, image_tree, noise_png, tree_hashes

PACKAGE = Path(__file__).resolve().parents[2] / "genaug_desktop"


# ---- no code from data files -------------------------------------------------------------------------
def _calls(tree: ast.AST) -> list[tuple[str, ast.Call]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else (
                f"{f.value.id}.{f.attr}" if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else
                f"?.{f.attr}" if isinstance(f, ast.Attribute) else "?")
            out.append((name, node))
    return out


def _kw(call: ast.Call, name: str) -> object:
    for k in call.keywords:
        if k.arg == name and isinstance(k.value, ast.Constant):
            return k.value.value
    return "absent"


#: where ``pickle`` may appear, and why it never reads a file a person could hand the app
PICKLE_IMPORT_ALLOWED = {
    "genaug_desktop/core/engine/ray_data.py": "moves the engine's own task arguments/results between its workers",
    "genaug_desktop/core/generators/checkpoint.py": "only for pickle.UnpicklingError, raised by torch.load(weights_only=True)",
}
PICKLE_CALLS_ALLOWED = {"genaug_desktop/core/engine/ray_data.py"}
FORBIDDEN_CALLS = {"eval", "exec", "pickle.load", "pickle.loads", "marshal.loads", "marshal.load", "dill.load",
                   "cloudpickle.load", "yaml.unsafe_load", "jsonpickle.decode", "shelve.open"}
UNSAFE_MODULES = ("pickle", "marshal", "dill", "cloudpickle", "jsonpickle", "shelve")


def test_no_module_can_run_code_from_a_data_file() -> None:
    """A static check over the whole package: no eval/exec/pickle/marshal/yaml.load; every
    torch.load is weights_only=True; every numpy load refuses pickles."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = str(path.relative_to(PACKAGE.parent))
        for name, call in _calls(tree):
            if name in FORBIDDEN_CALLS and not (name.startswith("pickle.") and rel in PICKLE_CALLS_ALLOWED):
                found.append(f"{rel}:{call.lineno}: {name}")
            elif name == "yaml.load" and _kw(call, "Loader") == "absent":
                found.append(f"{rel}:{call.lineno}: yaml.load without a safe Loader")
            elif name == "torch.load" and _kw(call, "weights_only") is not True:
                found.append(f"{rel}:{call.lineno}: torch.load without weights_only=True")
            elif name in ("np.load", "numpy.load") and _kw(call, "allow_pickle") is True:
                found.append(f"{rel}:{call.lineno}: np.load(allow_pickle=True)")
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
                unsafe = [n for n in names if n.split(".")[0] in UNSAFE_MODULES]
                if unsafe and not (rel in PICKLE_IMPORT_ALLOWED and unsafe == ["pickle"]):
                    found.append(f"{rel}:{node.lineno}: imports {', '.join(unsafe)}")
    assert not found, "\n".join(found)


def test_torchscript_is_loaded_in_one_place_behind_the_trust_check() -> None:
    loaders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for name, call in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            if name.endswith("jit.load") or name == "?.load" and "jit" in ast.unparse(call.func):
                loaders.append(f"{path.relative_to(PACKAGE.parent)}:{call.lineno}")
    assert loaders and all(p.startswith("genaug_desktop/core/generators/torchscript.py") for p in loaders), loaders


MALICIOUS_DOCS = [
    {"__class__": "os.system", "__reduce__": ["touch {marker}"]},
    {"py/object": "subprocess.Popen", "args": ["touch", "{marker}"]},
    {"schema_version": 1, "modality": "image", "steps": [{"op": "os.system", "params": {"command": "touch {marker}"}}]},
    {"schema_version": 1, "modality": "image", "steps": [{"op": "hflip", "params": {"__class__": "os.system"}}]},
    {"schema_version": 1, "modality": "image", "steps": [{"op": "__import__('os').system('touch {marker}')"}]},
    {"schema_version": 1, "modality": "text", "rules": [{"id": "x", "kind": "os.system", "params": {"cmd": "touch {marker}"}}]},
    {"schema_version": 1, "modality": "text", "rules": [{"id": "x", "kind": "text_block_list",
                                                         "params": {"patterns": ["(?{{system('touch {marker}')}})"]}}]},
    {"schema_version": 1, "modality": "text", "rules": [{"id": "x", "kind": "text_length", "params": {"__init__": 1}}]},
]


@pytest.mark.parametrize("doc", MALICIOUS_DOCS, ids=range(len(MALICIOUS_DOCS)))
def test_malicious_policy_and_rule_files_are_just_invalid(tmp_path: Path, doc: dict[str, object]) -> None:
    marker = tmp_path / "pwned"
    text = json.dumps(doc).replace("{marker}", str(marker))
    with pytest.raises(PolicyError):
        Policy.loads(text)
    with pytest.raises(RuleSetError):
        RuleSet.loads(text)
    (tmp_path / "f.json").write_text(text)
    for args in (["policy", "validate", str(tmp_path / "f.json")],):
        proc = genaug(*args)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not marker.exists()


def test_a_yaml_or_pickle_payload_named_json_is_invalid(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payloads = [f"!!python/object/apply:os.system ['touch {marker}']".encode(),
                b"\x80\x04\x95" + f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()]
    for data in payloads:
        with pytest.raises(PolicyError):
            Policy.loads(data.decode("latin-1"))
        with pytest.raises(RuleSetError):
            RuleSet.loads(data.decode("latin-1"))
    assert not marker.exists()


# ---- checkpoints ----------------------------------------------------------------------------------------
def test_a_safetensors_header_bomb_is_refused_without_allocating(tmp_path: Path) -> None:
    from genaug_desktop.core.generators.base import CheckpointError
    from genaug_desktop.core.generators.checkpoint import read_checkpoint

    path = tmp_path / "bomb.safetensors"
    path.write_bytes(struct.pack("<Q", 2**60) + b"{}")  # claims an exabyte of header
    t0 = time.perf_counter()
    with pytest.raises(CheckpointError):
        read_checkpoint(str(path))
    assert time.perf_counter() - t0 < 2.0
    header = json.dumps({"w": {"dtype": "F32", "shape": [2**31, 2**31], "data_offsets": [0, 2**62]},
                         "__metadata__": {"genaug": json.dumps({"format": "genaug-generator-checkpoint"})}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)  # claims 2**62 bytes of weights
    with pytest.raises(CheckpointError):
        read_checkpoint(str(path))


# ---- regex rules are bounded, end to end --------------------------------------------------------------------
def test_a_catastrophic_block_list_pattern_cannot_stall_the_filter(tmp_path: Path) -> None:
    data = tmp_path / "texts.csv"
    rows = ["text,label"] + [("a" * 3000 + "b") + f",c{i % 2}" for i in range(60)]
    data.write_text("\n".join(rows) + "\n")
    project = tmp_path / "t.genaug"
    assert genaug("init", str(project), str(data)).returncode == 0
    from genaug_desktop.core.store import Project

    with Project.open(str(project)) as p:
        keys = [i.key for i in p.items()]
        p.add_candidates([{"origin": "augmentation", "source": k, "text": "a" * 3000 + "b"} for k in keys])
    assert genaug("rules", str(project), "add", "text_block_list", "--set", 'patterns=["(a+)+$"]',
                  "--set", "timeout=0.02").returncode == 0
    listed = json.loads(genaug("rules", str(project), "list", "--json").stdout)
    assert genaug("rules", str(project), "approve", *[r["id"] for r in listed]).returncode == 0
    t0 = time.perf_counter()
    proc = genaug("filter", str(project), timeout=60)  # 60 texts x 20 ms bound, not 2**3000 steps
    assert proc.returncode == 0, proc.stderr
    assert time.perf_counter() - t0 < 45
    status = json.loads(genaug("status", str(project), "--json").stdout)
    assert status["by_status"]["rejected"] == 60  # held back to be safe, not passed silently


# ---- links out of the dataset root -----------------------------------------------------------------------------
def _swapped_source_project(tmp_path: Path, n: int) -> tuple[Path, Path]:
    """A project whose first source was replaced, after the scan, by a link to a file outside
    the dataset root; returns (project, the outside file)."""
    data = image_tree(tmp_path / "data", {"a": n})
    secret = tmp_path / "secret.png"
    secret.write_bytes(noise_png(16, 12, seed=99))
    project = tmp_path / "p.genaug"
    assert genaug("init", str(project), str(data)).returncode == 0
    victim = data / "a" / "a0.png"
    victim.unlink()
    os.symlink(secret, victim)
    return project, secret


def test_a_source_swapped_for_a_link_after_the_scan_is_not_exported(tmp_path: Path) -> None:
    project, secret = _swapped_source_project(tmp_path, 3)
    out = tmp_path / "out"
    proc = genaug("export", str(project), "--out", str(out), "--format", "imagefolder", "--include-originals",
                  "--status", "pending")
    assert "Traceback" not in proc.stderr
    secret_bytes = secret.read_bytes()
    if out.exists():
        for f in out.rglob("*"):
            assert not f.is_symlink()
            assert not f.is_file() or f.read_bytes() != secret_bytes, f"{f} is the file outside the dataset"


def test_a_source_swapped_for_a_link_after_the_scan_is_not_augmented(tmp_path: Path) -> None:
    project, secret = _swapped_source_project(tmp_path, 2)
    policy = tmp_path / "policy.json"
    policy.write_text('{"schema_version": 1, "modality": "image", "steps": []}')
    proc = genaug("augment", str(project), "--policy", str(policy), "--workers", "1")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    import numpy as np
    from PIL import Image

    from genaug_desktop.core.policy import decode_png
    from genaug_desktop.core.store import Project

    secret_pixels = np.asarray(Image.open(io.BytesIO(secret.read_bytes())).convert("RGB"))
    with Project.open(str(project)) as p:
        for c in p.candidates():
            with open(p.blob_file(c.blob), "rb") as fh:
                assert not np.array_equal(decode_png(fh.read()), secret_pixels), "augmented a file outside the dataset"


# ---- exports write only into their folder ------------------------------------------------------------------------
def test_export_through_a_linked_destination_never_touches_the_target(tmp_path: Path) -> None:
    data = image_tree(tmp_path / "data", {"a": 2})
    project = tmp_path / "p.genaug"
    assert genaug("init", str(project), str(data)).returncode == 0
    target = tmp_path / "precious"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    link = tmp_path / "out"
    os.symlink(target, link)
    before = tree_hashes(target)
    for extra in ([], ["--overwrite"]):
        proc = genaug("export", str(project), "--out", str(link), "--format", "imagefolder", "--include-originals",
                      "--status", "pending", *extra)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert tree_hashes(target) == before
    assert link.is_symlink()


@pytest.mark.parametrize("label", ["../../escape", "/etc/evil", "..", "-rf", "a/../../b", "CON", "x\n/../../y"])
def test_hostile_text_labels_stay_inside_every_text_export(tmp_path: Path, label: str) -> None:
    data = tmp_path / "t.jsonl"
    data.write_text("\n".join(json.dumps({"text": f"sample {i}", "label": label if i % 2 else "ok"}) for i in range(6)))
    project = tmp_path / "t.genaug"
    assert genaug("init", str(project), str(data)).returncode == 0
    outside_before = sorted(p.name for p in tmp_path.iterdir())
    for fmt in ("jsonl", "csv", "txt"):
        out = tmp_path / "exports" / fmt
        proc = genaug("export", str(project), "--out", str(out), "--format", fmt, "--include-originals",
                      "--status", "pending")
        assert proc.returncode == 0, proc.stderr
        for f in out.rglob("*"):
            assert f.resolve().is_relative_to(out.resolve())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(outside_before + ["exports"])
