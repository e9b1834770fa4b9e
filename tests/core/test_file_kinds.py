"""A policy file given where a rule set belongs (and the other way round) is named for what it is."""

from __future__ import annotations

import json

import pytest

from genaug_desktop.core.policy import Policy, PolicyError
from genaug_desktop.core.rules import RuleSet, RuleSetError

POLICY = {"schema_version": 2, "modality": "image", "steps": [{"op": "hflip"}]}
RULE_SET = {"schema_version": 1, "modality": "image", "name": "w", "rules": []}


@pytest.mark.parametrize("version", [1, 2, 3, 99])
def test_a_policy_read_as_a_rule_set_is_called_a_policy(version):
    with pytest.raises(RuleSetError) as info:
        RuleSet.loads(json.dumps({**POLICY, "schema_version": version}))
    assert info.value.path == "$"
    assert "this is a policy file, not a rule set" in str(info.value)
    assert "newer" not in str(info.value) and "genaug policy validate" in str(info.value)


@pytest.mark.parametrize("version", [1, 2, 99])
def test_a_rule_set_read_as_a_policy_is_called_a_rule_set(version):
    with pytest.raises(PolicyError) as info:
        Policy.loads(json.dumps({**RULE_SET, "schema_version": version}))
    assert "this is a rule set file, not a policy" in str(info.value)
    assert "genaug rules PROJECT import" in str(info.value)


def test_the_right_files_still_load_and_a_bare_object_keeps_its_old_message():
    assert Policy.loads(json.dumps(POLICY)).modality == "image"
    assert RuleSet.loads(json.dumps(RULE_SET)).name == "w"
    with pytest.raises(RuleSetError, match="newer than this genaug-desktop"):
        RuleSet.loads(json.dumps({"schema_version": 7, "modality": "image"}))
    with pytest.raises(PolicyError, match="newer than this genaug-desktop"):
        Policy.loads(json.dumps({"schema_version": 7, "modality": "image"}))
