"""Rule-set files: round trips, golden v1 files, errors with JSON paths, migrations, fuzzing."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genaug_desktop.core.rules import RuleSet, RuleSetError, build_rule, parse_rule_set, rule_kinds
from genaug_desktop.core.rules import ruleset as ruleset_module

GOLDEN = os.path.join(os.path.dirname(__file__), os.pardir, "data", "rules")


def full_set(modality: str) -> RuleSet:
    return RuleSet(modality, [build_rule(kind) for kind in sorted(rule_kinds(modality))], name="every rule")


@pytest.mark.parametrize("modality", ["image", "text"])
def test_round_trip_of_every_kind(tmp_path, modality):
    rules = full_set(modality)
    path = tmp_path / "rules.json"
    rules.save(str(path))
    again = RuleSet.load(str(path))
    assert again.to_json() == rules.to_json()
    assert RuleSet.loads(rules.dumps()).to_json() == rules.to_json()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema_version"] == 1 and data["modality"] == modality
    assert [r["kind"] for r in data["rules"]] == sorted(rule_kinds(modality))
    assert not [p for p in os.listdir(tmp_path) if p != "rules.json"], "a temporary file was left behind"


def test_golden_v1_text_rule_set():
    rs = RuleSet.load(os.path.join(GOLDEN, "text_v1.json"))
    assert rs.modality == "text" and rs.name == "reviews (golden v1)"
    by_id = {r.id: r for r in rs.rules}
    assert by_id["length_chars"].values == {"unit": "chars", "range": [51, 87]}
    assert by_id["length_chars"].state == "approved"
    assert by_id["repeated_ngrams"].state == "proposed"  # state is optional; default proposed
    assert by_id["non_letters"].state == "disabled"
    assert by_id["blocked"].values["patterns"] == [r"\bspam\b", "buy now"]
    assert by_id["blocked"].values["on_timeout"] == "pass"
    assert by_id["near_duplicate"].values == {
        "threshold": 0.9, "shingle": 4, "against": "items_and_candidates", "num_perm": 128,
    }
    assert by_id["edit_distance"].values["unit"] == "words"


def test_golden_v1_image_rule_set():
    rs = RuleSet.load(os.path.join(GOLDEN, "image_v1.json"))
    assert rs.modality == "image"
    by_id = {r.id: r for r in rs.rules}
    assert by_id["size_height"].values == {"dimension": "height", "range": [48, 64]}
    assert by_id["colour_mode"].values == {"modes": ["L", "RGB"]}
    assert by_id["near_duplicate"].values == {"hash": "dhash", "radius": 3, "against": "items_and_candidates"}
    assert by_id["source_distance"].values["mirror"] is True
    assert by_id["near_duplicate"].explanation.startswith("Keep only the first")


def _doc(**changes):
    doc = {
        "schema_version": 1, "modality": "text",
        "rules": [
            {"id": "len", "kind": "text_length", "params": {"range": [1, 10]}},
            {"id": "block", "kind": "text_block_list", "params": {"patterns": ["a", "b"]}},
        ],
    }
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ([], "$"),
        ({"modality": "text", "rules": []}, "$.schema_version"),
        (_doc(schema_version=99), "$.schema_version"),
        (_doc(schema_version=0), "$.schema_version"),
        (_doc(schema_version="1"), "$.schema_version"),
        (_doc(modality="audio"), "$.modality"),
        (_doc(rules={"a": 1}), "$.rules"),
        (_doc(extra=1), "$.extra"),
        (_doc(name=5), "$.name"),
        (_doc(rules=[5]), "$.rules[0]"),
        (_doc(rules=[{"id": "x", "kind": "nope"}]), "$.rules[0].kind"),
        (_doc(rules=[{"id": "x"}]), "$.rules[0].kind"),
        (_doc(rules=[{"id": "Bad Id", "kind": "text_length"}]), "$.rules[0].id"),
        (_doc(rules=[{"id": "x", "kind": "text_length", "state": "on"}]), "$.rules[0].state"),
        (_doc(rules=[{"id": "x", "kind": "text_length", "colour": 1}]), "$.rules[0].colour"),
        (_doc(rules=[{"id": "x", "kind": "text_length", "explanation": 3}]), "$.rules[0].explanation"),
        (_doc(rules=[{"id": "x", "kind": "text_length", "params": {"range": [9, 1]}}]), "$.rules[0].params.range"),
        (_doc(rules=[{"id": "x", "kind": "text_length", "params": {"unit": "bytes"}}]), "$.rules[0].params.unit"),
        (_doc(rules=[{"id": "x", "kind": "text_length", "params": {"size": 1}}]), "$.rules[0].params.size"),
        (_doc(rules=[{"id": "x", "kind": "text_length", "params": []}]), "$.rules[0].params"),
        (_doc(rules=[{"id": "x", "kind": "image_decodes"}]), "$.rules[0].kind"),
        (_doc(rules=[{"id": "x", "kind": "text_block_list", "params": {"patterns": ["ok", "(unclosed"]}}]),
         "$.rules[0].params.patterns[1]"),
        (_doc(rules=[{"id": "x", "kind": "text_length"}, {"id": "x", "kind": "text_not_empty"}]), "$.rules[1].id"),
    ],
)
def test_errors_name_the_json_path(doc, path):
    with pytest.raises(RuleSetError) as exc:
        parse_rule_set(doc)
    assert exc.value.path == path, exc.value


def test_unreadable_files_are_rule_set_errors(tmp_path):
    with pytest.raises(RuleSetError, match="cannot read"):
        RuleSet.load(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe{")
    with pytest.raises(RuleSetError, match="UTF-8"):
        RuleSet.load(str(bad))
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(RuleSetError, match="not valid JSON"):
        RuleSet.load(str(bad))
    bad.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(RuleSetError):
        RuleSet.load(str(bad))


def test_too_many_rules_are_refused():
    doc = _doc(rules=[{"id": f"r{i}", "kind": "text_not_empty"} for i in range(501)])
    with pytest.raises(RuleSetError) as exc:
        parse_rule_set(doc)
    assert exc.value.path == "$.rules"


def test_migration_hook_upgrades_older_files(monkeypatch):
    """A future schema 2 renames 'rules' to 'checks': a v1 file must still load through the chain."""

    def v1_to_v2(data):
        data = dict(data)
        data["checks"] = data.pop("rules")
        return data

    monkeypatch.setattr(ruleset_module, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(ruleset_module.MIGRATIONS, 1, v1_to_v2)
    migrated = ruleset_module.migrate(dict(_doc()))
    assert migrated["schema_version"] == 2 and "checks" in migrated and "rules" not in migrated


# ---- fuzzing: only RuleSetError may escape the parser --------------------------------------------------
_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12)
_json = st.recursive(
    _json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
_kinds = st.sampled_from(sorted(rule_kinds()) + ["nope"])
_param_names = st.sampled_from(
    ["range", "unit", "max_share", "patterns", "modes", "radius", "hash", "threshold", "shingle", "against",
     "num_perm", "n", "max_ratio", "dimension", "side", "margin", "min_std", "min_diff", "mirror", "timeout",
     "max_chars", "on_timeout", "ignore_case", "ignore_punctuation"]
)
_param_values = (
    _json_scalars
    | st.lists(st.integers(-(10**400), 10**400) | st.floats() | st.text(max_size=20), max_size=3)
    | st.sampled_from(["chars", "words", "phash", "dhash", "RGB", "L", "dark", "items", "reject", 64, 0.5])
)
_rule = st.fixed_dictionaries(
    {"kind": _kinds},
    optional={
        "id": st.text(max_size=10) | st.sampled_from(["a", "b", "len"]),
        "state": st.sampled_from(["proposed", "approved", "disabled", "on"]),
        "params": st.dictionaries(_param_names, _param_values, max_size=4) | _json,
        "explanation": st.text(max_size=20) | st.integers(),
        "junk": _json,
    },
)
_docs = st.fixed_dictionaries(
    {
        "schema_version": st.sampled_from([1, 1, 1, 0, 2, "1", True, 1.0]),
        "modality": st.sampled_from(["text", "image", "audio", 1]),
        "rules": st.lists(_rule, max_size=5) | _json,
    },
    optional={"name": st.text(max_size=5) | st.integers(), "junk": _json},
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_json, _docs))
def test_fuzz_parser_only_raises_rule_set_error(doc):
    try:
        rs = parse_rule_set(doc)
    except RuleSetError as exc:
        assert exc.path.startswith("$")
        return
    assert parse_rule_set(json.loads(rs.dumps())).to_json() == rs.to_json()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_text_only_raises_rule_set_error(text):
    try:
        RuleSet.loads(text)
    except RuleSetError:
        pass
