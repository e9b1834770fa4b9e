"""The public API (genaug_desktop.api): policies on PIL / numpy / text, every export format read
back, a project's accepted candidates. The project and exports are built through the real Jobs
(init, augment, decide, export) in a temporary folder; test_torch_data.py reuses them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from genaug_desktop.api import ExportReader, accepted_candidates, apply_policy, load_policy, open_export
from genaug_desktop.core.augment import augment_job
from genaug_desktop.core.export import ExportError, ExportOptions, export_job
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.policy import Policy, PolicyError
from genaug_desktop.core.store import Project, init_project_job

IMAGE_POLICY: dict[str, Any] = {
    "schema_version": 1, "modality": "image", "name": "tiny", "preprocess": [],
    "steps": [{"op": "hflip", "p": 0.5, "params": {}}, {"op": "brightness", "p": 0.9, "params": {}},
              {"op": "gaussian_noise", "p": 0.5, "params": {}}],
}
TEXT_POLICY: dict[str, Any] = {
    "schema_version": 1, "modality": "text", "preprocess": [], "steps": [{"op": "sentence_shuffle", "p": 1.0, "params": {}}],
}
IMAGE_FORMATS = ("imagefolder", "webdataset", "npz")
TEXT_FORMATS = ("jsonl", "csv", "txt", "webdataset")
SPLITS = {"train": 0.75, "val": 0.25}
CLASSES = {"cat": 4, "dog": 4}
SIZE = (20, 14)  # width, height


def _noise(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def build_exports(root: Path) -> dict[str, Any]:
    """An image project (augmented with IMAGE_POLICY, all accepted) and a text project, each
    exported in every format it supports. Returns paths and the projects' accepted counts."""
    data = root / "images"
    n = 0
    for label, count in CLASSES.items():
        (data / label).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(_noise(SIZE[1], SIZE[0], n)).save(data / label / f"{label}{i}.png")
            n += 1
    project = run_job(init_project_job(str(root / "img.genaug"), str(data)))
    try:
        run_job(augment_job(project, Policy.from_json(IMAGE_POLICY), per_item=1, seed=3, workers=1))
        ids = [c.id for c in project.candidates(status="pending")]
        project.decide(ids, "accepted")
        out: dict[str, Any] = {"image_project": str(root / "img.genaug"), "image_accepted": len(ids)}
        for fmt in IMAGE_FORMATS:
            size = SIZE if fmt == "npz" else None
            opts = ExportOptions(format=fmt, include_originals=True, splits=SPLITS, size=size)
            run_job(export_job(project, opts, str(root / f"img-{fmt}")))
            out[f"image:{fmt}"] = str(root / f"img-{fmt}")
        out["image_total"] = len(ids) + sum(CLASSES.values())
    finally:
        project.close()

    texts = root / "texts.jsonl"
    with open(texts, "w", encoding="utf-8") as fh:
        for i in range(6):
            label = "pos" if i % 2 else "neg"
            fh.write(json.dumps({"text": f"Sentence {i} one. Sentence two, \u00e9t\u00e9 \"quoted\". Third {i}!", "label": label}) + "\n")
    project = run_job(init_project_job(str(root / "txt.genaug"), str(texts)))
    try:
        run_job(augment_job(project, Policy.from_json(TEXT_POLICY), per_item=1, seed=5, workers=1))
        ids = [c.id for c in project.candidates(status="pending")]
        project.decide(ids, "accepted")
        out["text_project"] = str(root / "txt.genaug")
        out["text_accepted"] = len(ids)
        for fmt in TEXT_FORMATS:
            opts = ExportOptions(format=fmt, include_originals=True, splits=SPLITS)
            run_job(export_job(project, opts, str(root / f"txt-{fmt}")))
            out[f"text:{fmt}"] = str(root / f"txt-{fmt}")
        out["text_total"] = len(ids) + 6
    finally:
        project.close()
    return out


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_exports(tmp_path_factory.mktemp("exports"))


# ---- policies ------------------------------------------------------------------------------------
def test_load_policy_from_dict_and_path(tmp_path):
    p = tmp_path / "p.json"
    p.write_text(json.dumps(IMAGE_POLICY))
    a, b = load_policy(IMAGE_POLICY), load_policy(p)
    assert isinstance(a, Policy) and a.sha256 == b.sha256 == load_policy(str(p)).sha256
    with pytest.raises(PolicyError) as err:
        load_policy({**IMAGE_POLICY, "steps": [{"op": "hflip", "p": 2}]})
    assert err.value.path == "$.steps[0].p"


def test_apply_policy_keeps_the_input_type_and_matches_the_array_path():
    policy = load_policy(IMAGE_POLICY)
    arr = _noise(14, 20, 1)
    out_arr, chain_arr = apply_policy(policy, arr, seed=11)
    assert isinstance(out_arr, np.ndarray) and out_arr.dtype == np.uint8
    out_pil, chain_pil = apply_policy(policy, Image.fromarray(arr), seed=11)
    assert isinstance(out_pil, Image.Image) and out_pil.mode == "RGB"
    assert np.array_equal(np.asarray(out_pil), out_arr) and chain_pil == chain_arr
    assert policy(arr, seed=11)[1] == chain_arr  # Policy.__call__ is the same thing
    # greyscale PIL stays greyscale; RGBA is flattened like a decoded file
    grey, _ = apply_policy(policy, Image.fromarray(arr[..., 0]), seed=2)
    assert grey.mode == "L" and grey.size == (20, 14)
    rgba = Image.fromarray(np.dstack([arr, np.full((14, 20), 255, np.uint8)]), "RGBA")
    out_rgba, _ = apply_policy(policy, rgba, seed=11)
    assert out_rgba.mode == "RGB" and np.array_equal(np.asarray(out_rgba), out_arr)
    # different seeds draw differently at least once
    assert any(apply_policy(policy, arr, seed=s)[1] != chain_arr for s in range(5))


def test_apply_policy_on_text_and_refuses_the_wrong_modality():
    policy = load_policy(TEXT_POLICY)
    out, chain = apply_policy(policy, "One. Two. Three.", seed=4)
    assert isinstance(out, str) and sorted(out.split()) == sorted("One. Two. Three.".split())
    assert chain and chain[0]["op"] == "sentence_shuffle"
    with pytest.raises(TypeError):
        apply_policy(policy, _noise(4, 4, 0), seed=1)
    with pytest.raises(TypeError):
        apply_policy(load_policy(IMAGE_POLICY), "text", seed=1)


CONDITIONAL_POLICY: dict[str, Any] = {
    "schema_version": 2, "modality": "image",
    "steps": [{"op": "invert", "when": {"label": {"in": ["cat"]}}}, {"op": "gaussian_noise", "p": 0.5}],
}


def test_apply_policy_passes_the_label_to_conditions():
    policy = load_policy(CONDITIONAL_POLICY)
    arr = _noise(14, 20, 2)
    cat, cat_chain = apply_policy(policy, arr, seed=3, label="cat")
    dog, dog_chain = apply_policy(policy, arr, seed=3, label="dog")
    assert cat_chain[0]["op"] == "invert" and "skipped" not in cat_chain[0]
    assert dog_chain[0] == {"op": "invert", "skipped": "when: label 'dog' is not in {cat}"}
    assert dog_chain[1:] == cat_chain[1:]  # the skip changed no other draw
    assert not np.array_equal(cat, dog)
    pil, pil_chain = apply_policy(policy, Image.fromarray(arr), seed=3, label="cat")
    assert np.array_equal(np.asarray(pil), cat) and pil_chain == cat_chain
    assert policy(arr, 3, label="dog")[1] == dog_chain  # Policy.__call__
    assert apply_policy(policy, arr, seed=3)[1][0]["skipped"].startswith("when: unlabeled item")
    text_policy = load_policy({"schema_version": 2, "modality": "text",
                               "steps": [{"op": "sentence_shuffle", "when": {"words": {"min": 4}}}]})
    assert apply_policy(text_policy, "One. Two.", seed=1) == ("One. Two.", [
        {"op": "sentence_shuffle", "skipped": "when: words 2 < 4"}])


def test_augment_job_gives_conditions_each_items_label(tmp_path):
    """``genaug augment`` (augment_units) passes the item's label: invert runs on cats only."""
    data = tmp_path / "images"
    for label in ("cat", "dog"):
        (data / label).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(_noise(SIZE[1], SIZE[0], 10 + i)).save(data / label / f"{label}{i}.png")
    project = run_job(init_project_job(str(tmp_path / "p.genaug"), str(data)))
    try:
        policy = Policy.from_json({**CONDITIONAL_POLICY, "steps": CONDITIONAL_POLICY["steps"][:1]})
        run_job(augment_job(project, policy, per_item=2, seed=1, workers=1))
        sources = {i.key: project.source_path(i) for i in project.items()}
        cands = project.candidates(status="pending")
        assert len(cands) == 8
        for c in cands:
            src = np.asarray(Image.open(sources[c.source_item]).convert("RGB"))
            out = np.asarray(Image.open(project.blob_file(c.blob)).convert("RGB"))
            ops = c.provenance["ops"]
            if c.label == "cat":
                assert ops[0]["op"] == "invert" and "skipped" not in ops[0] and np.array_equal(out, 255 - src)
            else:
                assert ops == [{"op": "invert", "skipped": "when: label 'dog' is not in {cat}"}]
                assert np.array_equal(out, src)
    finally:
        project.close()


# ---- exports ---------------------------------------------------------------------------------------
def _check_samples(reader: ExportReader, modality: str) -> None:
    for s in reader:
        assert s["split"] in SPLITS and s["uid"] and s["origin"] in ("original", "augmentation")
        assert s["label"] in reader.classes and reader.classes[s["label_id"]] == s["label"]
        assert isinstance(s["provenance"], dict) and s["provenance"]["origin"] == s["origin"]
        if s["origin"] == "augmentation":
            assert s["provenance"]["ops"] is not None and s["row"]["candidate_id"] is not None
        if modality == "image":
            assert isinstance(s["image"], Image.Image) and s["image"].size == SIZE and "text" not in s
        else:
            assert isinstance(s["text"], str) and "Sentence" in s["text"] and "image" not in s


@pytest.mark.parametrize("fmt", IMAGE_FORMATS)
def test_every_image_format_reads_back(exports, fmt):
    reader = open_export(exports[f"image:{fmt}"])
    assert reader.format == fmt and reader.modality == "image" and reader.classes == ["cat", "dog"]
    assert len(reader) == exports["image_total"] == len(list(reader))
    _check_samples(reader, "image")
    assert sum(len(open_export(exports[f"image:{fmt}"], split=s)) for s in SPLITS) == len(reader)
    assert {s["split"] for s in open_export(exports[f"image:{fmt}"], split="val")} == {"val"}


def test_image_formats_hold_the_same_pixels(exports):
    by_fmt = {fmt: {s["uid"]: np.asarray(s["image"]) for s in open_export(exports[f"image:{fmt}"])} for fmt in IMAGE_FORMATS}
    assert by_fmt["imagefolder"].keys() == by_fmt["webdataset"].keys() == by_fmt["npz"].keys()
    for uid, px in by_fmt["imagefolder"].items():
        assert np.array_equal(px, by_fmt["webdataset"][uid]) and np.array_equal(px, by_fmt["npz"][uid])


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_every_text_format_reads_back(exports, fmt):
    reader = open_export(exports[f"text:{fmt}"])
    assert reader.format == fmt and reader.modality == "text" and reader.classes == ["neg", "pos"]
    assert len(reader) == exports["text_total"]
    _check_samples(reader, "text")
    assert sum(len(open_export(exports[f"text:{fmt}"], split=s)) for s in SPLITS) == len(reader)


def test_text_formats_hold_the_same_texts_and_rows(exports):
    by_fmt = {fmt: {s["uid"]: (s["text"], s["label_id"], s["row"].get("seed"), s["row"].get("candidate_id"))
                    for s in open_export(exports[f"text:{fmt}"])} for fmt in TEXT_FORMATS}
    first = by_fmt["jsonl"]
    for fmt in TEXT_FORMATS[1:]:
        assert by_fmt[fmt] == first, fmt


def test_open_export_refuses_unknown_split_and_verifies_on_request(exports, tmp_path):
    with pytest.raises(KeyError):
        open_export(exports["image:npz"], split="test")
    assert len(open_export(exports["text:csv"], verify=True)) == exports["text_total"]
    # a damaged copy: reading works by default, verify=True refuses it
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(exports["text:jsonl"], copy)
    with open(copy / "train.jsonl", "a", encoding="utf-8") as fh:
        fh.write("\n")
    assert len(open_export(copy)) == exports["text_total"]
    with pytest.raises(ExportError):
        open_export(copy, verify=True)


def test_reader_pickles(exports):
    import pickle

    reader = open_export(exports["image:npz"], split="train")
    reader[0]
    again = pickle.loads(pickle.dumps(reader))
    assert len(again) == len(reader) and np.array_equal(np.asarray(again[1]["image"]), np.asarray(reader[1]["image"]))


# ---- projects --------------------------------------------------------------------------------------
def test_accepted_candidates_of_an_image_project(exports):
    cands = list(accepted_candidates(exports["image_project"]))
    assert len(cands) == exports["image_accepted"] == sum(CLASSES.values())
    with Project.open(exports["image_project"]) as project:
        items = {i.key for i in project.items()}
    for c in cands:
        assert c["origin"] == "augmentation" and c["source"] in items and c["label"] in CLASSES
        assert isinstance(c["image"], Image.Image) and c["image"].size == SIZE
        assert c["provenance"]["seed"] is not None and "ops" in c["provenance"]
    lazy = next(accepted_candidates(exports["image_project"], load=False))
    assert lazy["image"] is None and Path(lazy["image_path"]).is_file()


def test_accepted_candidates_replay_with_the_public_api(exports):
    """An accepted candidate is the policy applied to its source with its recorded seed."""
    with Project.open(exports["image_project"]) as project:
        sources = {i.key: project.source_path(i) for i in project.items()}
    policy = load_policy(IMAGE_POLICY)
    for c in accepted_candidates(exports["image_project"]):
        out, chain = apply_policy(policy, Image.open(sources[c["source"]]), seed=c["provenance"]["seed"])
        assert np.array_equal(np.asarray(out), np.asarray(c["image"]))
        assert [link["op"] for link in chain] == [link["op"] for link in c["provenance"]["ops"]]


def test_accepted_candidates_of_a_text_project(exports):
    cands = list(accepted_candidates(exports["text_project"]))
    assert len(cands) == exports["text_accepted"] == 6
    assert all(isinstance(c["text"], str) and c["label"] in ("neg", "pos") for c in cands)


def test_importing_the_api_does_not_import_torch_or_qt():
    code = (
        "import sys, genaug_desktop.api, genaug_desktop.torch_data\n"
        "print(','.join(sorted(k for k in sys.modules if k.split('.')[0] in ('torch', 'PySide6', 'nlpaug'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == ""


# ---- docs/api.md: every snippet runs ------------------------------------------------------------------
DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _snippets() -> list[str]:
    import re

    return re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)


def test_docs_api_page_has_snippets_for_every_part():
    text = "\n".join(_snippets())
    for name in ("load_policy", "apply_policy", "open_export", "accepted_candidates", "ExportDataset",
                 "PolicyTransform", "EpochSampler", "sample_seed", '"when"', "PolicyError"):
        assert name in text, name


def test_docs_api_snippets_run(exports, tmp_path, monkeypatch):
    """Each python block of docs/api.md runs as written, in a folder with the files it names."""
    pytest.importorskip("torch")
    import os

    Image.fromarray(_noise(24, 32, 9)).save(tmp_path / "cat.png")
    (tmp_path / "exports").mkdir()
    os.symlink(exports["image:imagefolder"], tmp_path / "exports" / "run1")
    os.symlink(exports["image_project"], tmp_path / "pets.genaug")
    monkeypatch.chdir(tmp_path)
    snippets = _snippets()
    assert len(snippets) >= 6
    for i, code in enumerate(snippets):
        namespace: dict[str, Any] = {"__name__": f"docs_api_snippet_{i}"}
        try:
            exec(compile(code, f"docs/api.md snippet {i + 1}", "exec"), namespace)
        except Exception as exc:  # name the snippet: the traceback alone points into exec'd text
            raise AssertionError(f"snippet {i + 1} of docs/api.md failed: {type(exc).__name__}: {exc}\n{code}") from exc
