"""What a first-time user ran into, through ``genaug`` in a subprocess: a typo in a label
condition, a policy given where a rule set belongs (and the other way round), one number for a
rule's range, and an image generator sampled on a text project."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli_helpers import assert_one_clear_line, genaug

TYPO_POLICY = {"schema_version": 2, "modality": "image",
               "steps": [{"op": "hflip", "when": {"label": {"in": ["circel"]}}}]}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("trial")
    rng = np.random.Generator(np.random.PCG64(1))
    for label in ("circle", "square", "triangle"):
        (root / "shapes" / label).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (24 + i, 30, 3), dtype=np.uint8)).save(root / "shapes" / label / f"{i}.png")
    (root / "texts.csv").write_text("text,label\n" + "".join(f"review number {i} is fine,pos\n" for i in range(6)),
                                    encoding="utf-8")
    for name, source in (("shapes.genaug", root / "shapes"), ("texts.genaug", root / "texts.csv")):
        proc = genaug("init", str(root / name), str(source))
        assert proc.returncode == 0, proc.stderr
    (root / "typo.json").write_text(json.dumps(TYPO_POLICY), encoding="utf-8")
    (root / "badop.json").write_text(json.dumps({"schema_version": 2, "modality": "image", "steps": [{"op": "hflipp"}]}),
                                     encoding="utf-8")
    (root / "rules.json").write_text(json.dumps({"schema_version": 1, "modality": "image", "rules": []}),
                                     encoding="utf-8")
    return {"root": root, "shapes": root / "shapes.genaug", "texts": root / "texts.genaug",
            "typo": root / "typo.json", "badop": root / "badop.json", "rules": root / "rules.json"}


def test_a_label_typo_is_a_warning_with_the_class_it_meant(files):
    expected = ("$.steps[0].when.label.in[0]: 'circel' is not one of the project's classes "
                "(circle, square, triangle); did you mean 'circle'?")
    plain = genaug("policy", "validate", str(files["typo"]))
    assert plain.returncode == 0 and plain.stderr == ""  # without a project there is nothing to compare with
    checked = genaug("policy", "validate", str(files["typo"]), "--project", str(files["shapes"]))
    assert checked.returncode == 0 and "valid image policy" in checked.stdout
    assert checked.stderr.strip() == f"genaug policy: warning: {files['typo']}: {expected}"
    augment = genaug("augment", str(files["shapes"]), "--policy", str(files["typo"]))
    assert augment.returncode == 0, augment.stderr
    assert f"genaug augment: warning: {files['typo']}: {expected}" in augment.stderr.splitlines()
    wrong = genaug("policy", "validate", str(files["typo"]), "--project", str(files["texts"]))
    assert_one_clear_line(wrong, "is an image policy, but", "holds text")


def test_a_policy_is_not_a_rule_set_and_a_rule_set_is_not_a_policy(files):
    line = assert_one_clear_line(genaug("rules", str(files["shapes"]), "import", str(files["badop"])),
                                 "this is a policy file, not a rule set")
    assert "newer" not in line and "upgrade" not in line
    assert_one_clear_line(genaug("policy", "validate", str(files["rules"])), "this is a rule set file, not a policy")


def test_one_number_for_a_rule_range_exits_2_with_the_syntax(files):
    assert genaug("rules", str(files["shapes"]), "propose").returncode == 0
    assert_one_clear_line(genaug("rules", str(files["shapes"]), "set", "size_width", "range=40"),
                          "range needs two values", "range=[LOW,HIGH]", "range=[40,40]")
    listed = json.loads(genaug("rules", str(files["shapes"]), "list", "--json").stdout)
    assert next(r for r in listed if r["id"] == "size_width")["params"]["range"] == [30, 30]


def test_sampling_an_image_generator_on_a_text_project_names_the_mismatch(files):
    assert_one_clear_line(genaug("sample", str(files["texts"]), "--generator", "conv_vae", "--count", "3"),
                          "conv_vae makes images, but this project holds texts")
