"""Conditional steps (``when``, policy schema 2): every op honours its condition, the chain records
skips, a skipped step leaves every other draw alone, bad conditions name their JSON path, and
version-1 files (golden files and every shipped preset) keep loading."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genaug_desktop.core.ops import registry
from core.test_policy import assert_policy_error

from genaug_desktop.core.policy import SCHEMA_VERSION, Group, OpStep, Policy, PolicyError, When, parse_when

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "policies"
PRESETS = sorted((ROOT / "resources" / "presets").glob("*.json"))
V1_FILES = sorted(GOLDEN.glob("*_v1.json"))
V2_FILES = sorted(GOLDEN.glob("*_v2.json"))

IMAGE_OPS = sorted(n for n, c in registry().items() if c.modality == "image" and not c.preprocess)
TEXT_OPS = sorted(n for n, c in registry().items() if c.modality == "text" and not c.preprocess)
TEXT = ("The quick brown fox jumps over the lazy dog. It wasn't happy; the weather was good and warm! "
        "Then they ran home because the long evening was cold.")


def image(h: int = 40, w: int = 56) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


X = image()


def pol(*steps: Any, modality: str = "image") -> dict[str, Any]:
    return {"schema_version": 2, "modality": modality, "steps": list(steps)}


def sample_for(modality: str) -> Any:
    return X if modality == "image" else TEXT


# ---- every op respects its condition -------------------------------------------------------------
EXCLUDING = {
    "label-in": ({"label": {"in": ["cat"]}}, "dog", "label 'dog' is not in {cat}"),
    "label-not-in": ({"label": {"not_in": ["6", "9"]}}, "6", "label '6' is in {6, 9}"),
}
INCLUDING = {
    "label-in": ({"label": {"in": ["cat", "dog"]}}, "dog"),
    "label-not-in": ({"label": {"not_in": ["6", "9"]}}, "8"),
}


def _size_conditions(modality: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A size/length condition that excludes the sample, one that includes it, and the skip reason."""
    if modality == "image":
        return {"width": {"min": 57}}, {"width": {"min": 56}, "height": {"max": 40}}, "width 56 < 57"
    words = len(TEXT.split())
    return {"words": {"max": words - 1}}, {"chars": {"min": len(TEXT)}, "words": {"max": words}}, f"words {words} > {words - 1}"


@pytest.mark.parametrize("case", ["label-in", "label-not-in", "size"])
@pytest.mark.parametrize(("modality", "name"), [("image", n) for n in IMAGE_OPS] + [("text", n) for n in TEXT_OPS])
def test_an_excluding_condition_leaves_the_input_and_says_skipped(modality: str, name: str, case: str):
    x = sample_for(modality)
    if case == "size":
        when, _, reason = _size_conditions(modality)
        label = "any"
    else:
        when, label, reason = EXCLUDING[case]
    # check_available=False: a skipped op never runs, so even an op missing its data must skip cleanly
    policy = Policy.from_json(pol({"op": name, "when": when}, modality=modality), check_available=False)
    for seed in range(3):
        out, chain = policy.apply(x, seed, label=label)
        assert chain == [{"op": name, "skipped": f"when: {reason}"}]
        if modality == "image":
            assert np.array_equal(out, x)
        else:
            assert out == x


@pytest.mark.parametrize("case", ["label-in", "label-not-in", "size"])
@pytest.mark.parametrize(("modality", "name"), [("image", n) for n in IMAGE_OPS] + [("text", n) for n in TEXT_OPS])
def test_an_including_condition_runs_the_op_as_without_it(modality: str, name: str, case: str):
    ok, why = registry()[name].availability()
    if not ok:
        pytest.skip(f"{name} is not available here: {why}")
    x = sample_for(modality)
    if case == "size":
        when, label = _size_conditions(modality)[1], None
    else:
        when, label = INCLUDING[case]
    conditional = Policy.from_json(pol({"op": name, "when": when}, modality=modality))
    plain = Policy.from_json(pol({"op": name}, modality=modality))
    out, chain = conditional.apply(x, 5, label=label)
    expected, expected_chain = plain.apply(x, 5)
    assert len(chain) == 1 and chain[0]["op"] == name and "skipped" not in chain[0] and "params" in chain[0]
    assert chain == expected_chain
    if modality == "image":
        assert np.array_equal(out, expected)
    else:
        assert out == expected


def test_every_random_op_of_both_modalities_is_covered():
    assert len(IMAGE_OPS) > 20 and len(TEXT_OPS) > 10


# ---- semantics -----------------------------------------------------------------------------------
def test_unlabeled_items_are_in_no_set():
    only_cats = Policy.from_json(pol({"op": "invert", "when": {"label": {"in": ["cat"]}}}))
    not_six = Policy.from_json(pol({"op": "invert", "when": {"label": {"not_in": ["6"]}}}))
    assert only_cats.apply(X, 0)[1] == [{"op": "invert", "skipped": "when: unlabeled item is not in {cat}"}]
    assert not_six.apply(X, 0)[1][0]["op"] == "invert" and "skipped" not in not_six.apply(X, 0)[1][0]


def test_all_conditions_must_hold_and_bounds_are_inclusive():
    policy = Policy.from_json(pol({"op": "invert", "when": {
        "label": {"in": ["a", "b"], "not_in": ["b"]}, "width": {"min": 56, "max": 56}, "height": {"min": 10}}}))
    assert "skipped" not in policy.apply(X, 0, label="a")[1][0]
    assert policy.apply(X, 0, label="b")[1][0]["skipped"] == "when: label 'b' is in {b}"
    assert policy.apply(image(40, 57), 0, label="a")[1][0]["skipped"] == "when: width 57 > 56"
    assert policy.apply(image(9, 56), 0, label="a")[1][0]["skipped"] == "when: height 9 < 10"


def test_labels_given_as_numbers_match_their_text():
    policy = Policy.from_json(pol({"op": "hflip", "when": {"label": {"not_in": [6, 9]}}}))
    assert policy.to_json()["steps"][0]["when"] == {"label": {"not_in": ["6", "9"]}}
    assert policy.apply(X, 0, label="6")[1][0].get("skipped")
    assert policy.apply(X, 0, label=6)[1][0].get("skipped")  # an int label from training code
    assert "skipped" not in policy.apply(X, 0, label="8")[1][0]


def test_size_is_measured_on_what_the_step_receives():
    # the crop makes the image 20 px wide before the conditional invert looks at it
    policy = Policy.from_json(pol({"op": "crop", "params": {"width": 20, "height": 20}},
                                  {"op": "invert", "when": {"width": {"min": 30}}}))
    chain = policy.apply(X, 0)[1]
    assert chain[1] == {"op": "invert", "skipped": "when: width 20 < 30"}


def test_a_group_condition_skips_the_whole_group():
    policy = Policy.from_json(pol({"one_of": [{"op": "hflip"}, {"op": "vflip"}], "when": {"label": {"in": ["x"]}}}))
    out, chain = policy.apply(X, 3, label="y")
    assert chain == [{"op": "one_of", "skipped": "when: label 'y' is not in {x}"}] and np.array_equal(out, X)
    assert policy.apply(X, 3, label="x")[1][0]["op"] in ("hflip", "vflip")


def test_a_picked_child_whose_condition_fails_is_skipped_inside_its_group():
    policy = Policy.from_json(pol({"sequence": [{"op": "invert", "when": {"label": {"not_in": ["6"]}}}, {"op": "hflip"}]}))
    out, chain = policy.apply(X, 0, label="6")
    assert chain[0] == {"op": "invert", "skipped": "when: label '6' is in {6}"} and chain[1]["op"] == "hflip"
    assert np.array_equal(out, X[:, ::-1])


def test_a_step_whose_coin_fails_records_nothing():
    policy = Policy.from_json(pol({"op": "invert", "p": 0.0, "when": {"label": {"in": ["x"]}}}))
    assert policy.apply(X, 0, label="y")[1] == []


def test_replay_ignores_skipped_links():
    policy = Policy.from_json(pol({"op": "invert", "when": {"label": {"in": ["a"]}}}, {"op": "rotate"}, {"op": "hflip"}))
    for label in ("a", "b"):
        out, chain = policy.apply(X, 11, label=label)
        stored = json.loads(json.dumps(chain, allow_nan=False))
        assert np.array_equal(policy.replay(X, stored, preprocessed=True), out)


def test_conditional_property():
    assert not Policy.from_json(pol({"op": "hflip"})).conditional
    assert Policy.from_json(pol({"some_of": [{"op": "hflip", "when": {"height": {"max": 9}}}]})).conditional


# ---- seed stability ------------------------------------------------------------------------------
STEPS = [
    {"op": "rotate"},
    {"op": "brightness", "p": 0.8},
    {"one_of": [{"op": "affine"}, {"op": "perspective"}]},
    {"some_of": [{"op": "gaussian_noise"}, {"op": "contrast"}, {"op": "gamma"}], "n": [1, 2]},
    {"op": "coarse_dropout", "p": 0.9},
]


def _without_skips(chain: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [link for link in chain if "skipped" not in link]


@pytest.mark.parametrize("index", range(len(STEPS)))
def test_a_skipped_step_changes_nothing_else(index: int):
    """Output and draws with a step skipped by its condition == with that step disabled (bit-identical)."""
    conditional = copy.deepcopy(STEPS)
    conditional[index]["when"] = {"label": {"not_in": ["flip-sensitive"]}}
    disabled = copy.deepcopy(STEPS)
    disabled[index]["enabled"] = False
    with_when = Policy.from_json(pol(*conditional))
    without = Policy.from_json(pol(*disabled))
    plain = Policy.from_json(pol(*STEPS))
    for seed in range(15):
        out, chain = with_when.apply(X, seed, label="flip-sensitive")
        ref, ref_chain = without.apply(X, seed)
        assert np.array_equal(out, ref) and _without_skips(chain) == ref_chain
        # and a label the condition lets through gives exactly the unconditioned policy
        out2, chain2 = with_when.apply(X, seed, label="other")
        ref2, ref_chain2 = plain.apply(X, seed)
        assert np.array_equal(out2, ref2) and chain2 == ref_chain2


def test_run_steps_in_two_parts_equals_apply_with_conditions():
    policy = Policy.from_json(pol(
        {"op": "hflip", "p": 0.5, "when": {"label": {"not_in": ["b"]}}}, {"op": "rotate", "p": 0.7},
        {"one_of": [{"op": "gaussian_blur", "when": {"width": {"max": 10}}}, {"op": "gaussian_noise"}], "p": 0.9},
        {"op": "brightness", "p": 0.6, "when": {"label": {"in": ["a"]}}},
    ))
    for label in ("a", "b", None):
        for seed in range(10):
            whole, chain = policy.apply(X, seed, preprocessed=True, label=label)
            for k in range(len(policy.steps) + 1):
                head, partial = policy.run_steps(X, seed, 0, k, label=label)
                tail, partial = policy.run_steps(head, seed, k, None, partial, label=label)
                assert np.array_equal(tail, whole) and partial == chain


# ---- errors name the JSON path -------------------------------------------------------------------
def step(when: Any, **extra: Any) -> dict[str, Any]:
    return {"op": "hflip", "when": when, **extra}


ERRORS: list[tuple[str, Any, str, str]] = [
    ("when not an object", pol(step(["label"])), "$.steps[0].when", "object of conditions"),
    ("empty when", pol(step({})), "$.steps[0].when", "no condition"),
    ("unknown condition", pol(step({"colour": {"in": ["red"]}})), "$.steps[0].when.colour", "unknown field"),
    ("label not an object", pol({"op": "hflip"}, {"op": "vflip"}, step({"label": ["6"]})), "$.steps[2].when.label", "not_in"),
    ("label empty object", pol(step({"label": {}})), "$.steps[0].when.label", "not_in"),
    ("label unknown key", pol(step({"label": {"is": ["6"]}})), "$.steps[0].when.label.is", "unknown field"),
    ("label in empty", pol(step({"label": {"in": []}})), "$.steps[0].when.label.in", "non-empty list"),
    ("label in not a list", pol(step({"label": {"in": "six"}})), "$.steps[0].when.label.in", "non-empty list"),
    ("label entry wrong type", pol({"op": "vflip"}, {"op": "vflip"}, step({"label": {"in": ["6", 9.5]}})),
     "$.steps[2].when.label.in[1]", "label must be text"),
    ("label entry bool", pol(step({"label": {"not_in": [True]}})), "$.steps[0].when.label.not_in[0]", "label must be text"),
    ("width on a text policy", pol({"op": "random_word_swap", "when": {"width": {"min": 3}}}, modality="text"),
     "$.steps[0].when.width", "for image policies"),
    ("words on an image policy", pol(step({"words": {"max": 3}})), "$.steps[0].when.words", "for text policies"),
    ("bound not an object", pol(step({"width": 64})), "$.steps[0].when.width", '"min"'),
    ("bound empty", pol(step({"height": {}})), "$.steps[0].when.height", '"min"'),
    ("bound unknown key", pol(step({"height": {"least": 3}})), "$.steps[0].when.height.least", "unknown field"),
    ("bound negative", pol(step({"width": {"min": -1}})), "$.steps[0].when.width.min", "0 or more"),
    ("bound a float", pol(step({"width": {"max": 2.5}})), "$.steps[0].when.width.max", "whole number"),
    ("bound a bool", pol(step({"width": {"max": True}})), "$.steps[0].when.width.max", "whole number"),
    ("min above max", pol(step({"width": {"min": 10, "max": 5}})), "$.steps[0].when.width.min", "above max"),
    ("nested group child", pol({"one_of": [{"op": "hflip"}, step({"label": {"in": [None]}})]}),
     "$.steps[0].one_of[1].when.label.in[0]", "label must be text"),
    ("on a group", pol({"sequence": [{"op": "hflip"}], "when": {"chars": {"min": 1}}}), "$.steps[0].when.chars",
     "for text policies"),
    ("in pre-processing", {"schema_version": 2, "modality": "image", "preprocess": [{"op": "convert_mode", "when": {}}]},
     "$.preprocess[0].when", "unknown field"),
    ("when in a version-1 file", {"schema_version": 1, "modality": "image",
                                  "steps": [{"op": "hflip"}, {"sequence": [step({"label": {"in": ["a"]}})]}]},
     "$.steps[1].sequence[0].when", "schema_version\": 2"),
]


@pytest.mark.parametrize(("data", "path", "fragment"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_bad_conditions_name_the_json_path(data: Any, path: str, fragment: str):
    assert_policy_error(data, path, fragment)


def test_parse_when_round_trip_and_summary():
    when = parse_when({"label": {"not_in": [6, 9, 6]}, "width": {"min": 64}, "height": {"min": 8, "max": 512}},
                      "image", "$.w")
    assert when == When(None, ("6", "9"), (("width", 64, None), ("height", 8, 512)))
    assert when.summary() == "label not in {6, 9} · width ≥ 64 · 8 ≤ height ≤ 512"
    assert parse_when(when.to_json(), "image", "$.w") == when
    assert parse_when({"words": {"max": 3}}, "text", "$").summary() == "words ≤ 3"


# ---- versions: old files keep loading, saving writes version 2 ------------------------------------
def test_schema_version_is_2_and_saving_writes_it():
    assert SCHEMA_VERSION == 2
    policy = Policy.from_json({"schema_version": 1, "modality": "image", "steps": [{"op": "hflip"}]})
    assert policy.to_json()["schema_version"] == 2
    assert json.loads(policy.dumps())["schema_version"] == 2


@pytest.mark.parametrize("path", V1_FILES + PRESETS, ids=[f"golden-{p.stem}" for p in V1_FILES] + [f"preset-{p.stem}" for p in PRESETS])
def test_old_policy_files_still_load(path: Path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["schema_version"] in (1, 2)
    policy = Policy.load(str(path), check_available=False)
    data = policy.to_json()
    assert data["schema_version"] == 2 and data["modality"] == raw["modality"]
    # the migration adds nothing but the version: the v2 document is the v1 one, canonicalised
    again = Policy.from_json({**data, "schema_version": 1}, check_available=False)
    assert again.to_json() == data and again.sha256 == policy.sha256
    assert not policy.conditional


def test_there_are_shipped_presets_and_golden_files_of_both_versions():
    assert len(PRESETS) >= 4 and len(V1_FILES) >= 4 and V2_FILES


def test_migration_keeps_the_outputs_of_a_v1_policy():
    path = GOLDEN / "image_groups_v1.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    old = Policy.load(str(path))
    new = Policy.from_json({**old.to_json()})
    for seed in range(5):
        a, chain_a = old.apply(X, seed)
        b, chain_b = new.apply(X, seed, label="anything")
        assert np.array_equal(a, b) and chain_a == chain_b
    assert raw["schema_version"] == 1


@pytest.mark.parametrize("path", V2_FILES, ids=[p.stem for p in V2_FILES])
def test_golden_v2_files_load_and_keep_their_conditions(path: Path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["schema_version"] == 2, "golden files are frozen; add a new file for a new version"
    policy = Policy.load(str(path), check_available=False)
    assert policy.conditional
    assert Policy.from_json(policy.to_json(), check_available=False).to_json() == policy.to_json()
    whens = [s.when for s in _all_steps(policy.steps) if s.when is not None]
    raw_whens = [s["when"] for s in _all_raw(raw["steps"]) if "when" in s]
    assert [w.to_json() for w in whens] == [parse_when(w, policy.modality, "$").to_json() for w in raw_whens]


def _all_steps(steps: list[Any]) -> list[Any]:
    out = []
    for s in steps:
        out.append(s)
        if isinstance(s, Group):
            out.extend(_all_steps(s.children))
    return out


def _all_raw(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for s in steps:
        out.append(s)
        for kind in ("one_of", "some_of", "sequence"):
            out.extend(_all_raw(s.get(kind, [])))
    return out


def test_digits_golden_file_never_flips_six_and_nine():
    policy = Policy.load(str(GOLDEN / "image_digits_conditions_v2.json"))
    for label in ("6", "9"):
        for seed in range(30):
            ran = [link for link in policy.apply(X, seed, label=label)[1] if "skipped" not in link]
            assert not any(link["op"] in ("hflip", "vflip") for link in ran)
            assert all(abs(link["params"]["angle"]) <= 8 for link in ran if link["op"] == "rotate")
    fired = {link["op"] for seed in range(30) for link in policy.apply(X, seed, label="1")[1] if "skipped" not in link}
    assert {"hflip", "rotate"} <= fired


def test_op_steps_and_groups_carry_when():
    policy = Policy.from_json(pol({"op": "hflip", "when": {"label": {"in": ["a"]}}},
                                  {"one_of": [{"op": "vflip"}], "when": {"height": {"min": 1}}}))
    assert isinstance(policy.steps[0], OpStep) and policy.steps[0].when is not None
    assert isinstance(policy.steps[1], Group) and policy.steps[1].when is not None


# ---- the parser never fails with anything but PolicyError --------------------------------------------
bound = st.fixed_dictionaries({}, optional={"min": st.integers(-2, 600) | st.floats() | st.booleans(),
                                            "max": st.integers(-2, 600) | st.none(), "x": st.just(1)})
labels = st.lists(st.text(max_size=3) | st.integers() | st.booleans() | st.none() | st.floats(), max_size=4) | st.text(max_size=3)
when_like = st.fixed_dictionaries({}, optional={
    "label": st.fixed_dictionaries({}, optional={"in": labels, "not_in": labels, "x": st.just(1)}) | labels,
    "width": bound | st.integers(), "height": bound, "chars": bound, "words": bound, "zz": st.just({}),
}) | st.none() | st.lists(st.integers(), max_size=2)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["image", "text"]), when_like, st.sampled_from([1, 2]))
def test_fuzzed_conditions_raise_only_policy_error(modality: str, when: Any, version: int):
    name = "hflip" if modality == "image" else "random_word_swap"
    data = {"schema_version": version, "modality": modality, "steps": [{"op": name, "when": when}]}
    try:
        policy = Policy.from_json(data, check_available=False)
    except PolicyError as exc:
        assert exc.path.startswith("$.steps[0].when")
        return
    assert version == 2
    again = Policy.from_json(json.loads(policy.dumps()), check_available=False)
    assert again.to_json() == policy.to_json()
    x = X if modality == "image" else TEXT
    policy.apply(x, 0, label="a")


# ---- genaug policy validate accepts both versions ---------------------------------------------------
@pytest.mark.parametrize("path", V1_FILES + V2_FILES, ids=[p.stem for p in V1_FILES + V2_FILES])
def test_cli_policy_validate_accepts_v1_and_v2(path: Path, capsys: pytest.CaptureFixture[str]):
    from genaug_desktop.cli import main

    assert main(["policy", "validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and str(path) in out


def test_cli_policy_validate_names_the_path_of_a_bad_condition(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from genaug_desktop.cli import main

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(pol({"op": "hflip"}, {"op": "vflip"}, {"op": "rotate", "when": {"label": {"in": []}}})))
    assert main(["policy", "validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "$.steps[2].when.label.in" in err and "Traceback" not in err


# ---- labels the project does not have (a typo is valid JSON, but the step would never run) ---------------
def test_label_warnings_name_the_path_and_suggest_the_class():
    from genaug_desktop.core.policy import label_warnings

    policy = Policy.from_json({"schema_version": 2, "modality": "image", "steps": [
        {"op": "hflip", "when": {"label": {"in": ["circel", "square"]}}},
        {"one_of": [{"op": "vflip", "when": {"label": {"not_in": ["Triangle", "hexagon"]}}}]},
        {"op": "invert", "when": {"width": {"min": 4}}},
    ]})
    classes = ["circle", "square", "triangle"]
    found = label_warnings(policy, classes)
    assert [(w.path, w.label, w.suggestion) for w in found] == [
        ("$.steps[0].when.label.in[0]", "circel", "circle"),
        ("$.steps[1].one_of[0].when.label.not_in[0]", "Triangle", "triangle"),
        ("$.steps[1].one_of[0].when.label.not_in[1]", "hexagon", None),
    ]
    assert str(found[0]) == ("$.steps[0].when.label.in[0]: 'circel' is not one of the project's classes "
                             "(circle, square, triangle); did you mean 'circle'?")
    assert "did you mean" not in found[2].message
    assert label_warnings(policy.to_json(), classes) == found  # the editor passes its JSON document
    assert label_warnings(policy, ["circel", "square", "Triangle", "hexagon"]) == []
    unlabeled = label_warnings(policy, [])
    assert len(unlabeled) == 4 and "its items have no labels" in unlabeled[0].message
