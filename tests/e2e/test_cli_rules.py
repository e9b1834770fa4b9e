"""``genaug rules`` and ``genaug filter`` in a subprocess, checking the DESIGN.md JSON shape."""

from __future__ import annotations

import json
import os

import pytest

from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store import Project, init_project_job
from cli_helpers import assert_one_clear_line, genaug

RULE_KEYS = ["id", "kind", "state", "params", "explanation"]
SAMPLE = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "resources", "sample")


def assert_rule_shape(rules: object) -> None:
    assert isinstance(rules, list) and rules
    for r in rules:
        assert list(r) == RULE_KEYS, r
        assert isinstance(r["id"], str) and isinstance(r["kind"], str) and isinstance(r["params"], dict)
        assert r["state"] in ("proposed", "approved", "disabled") and isinstance(r["explanation"], str)


@pytest.fixture()
def project(tmp_path):
    """The sample reviews as a project, with a few candidates of known fate."""
    path = str(tmp_path / "reviews.genaug")
    with run_job(init_project_job(path, os.path.join(SAMPLE, "texts", "reviews.csv"))) as p:
        items = p.items()
        rows = [{"origin": "augmentation", "source": i.key, "text": i.text.replace(" the ", " that "), "provenance": {}}
                for i in items[:10]]
        rows += [
            {"origin": "generator", "source": None, "text": "", "provenance": {}},
            {"origin": "generator", "source": None, "text": "Too short.", "provenance": {}},
            {"origin": "augmentation", "source": items[0].key, "text": items[0].text, "provenance": {}},
        ]
        p.add_candidates(rows)
    return path


def test_rules_propose_list_approve_contract(project):
    proc = genaug("rules", project, "propose", "--json")
    assert proc.returncode == 0, proc.stderr
    proposed = json.loads(proc.stdout)
    assert_rule_shape(proposed)
    assert all(r["state"] == "proposed" for r in proposed)
    ids = [r["id"] for r in proposed]
    assert "length_chars" in ids and "not_empty" in ids

    proc = genaug("rules", project, "list", "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == proposed

    proc = genaug("rules", project, "approve", "not_empty", "length_chars", "--json")
    assert proc.returncode == 0, proc.stderr
    approved = json.loads(proc.stdout)
    assert_rule_shape(approved)
    assert [(r["id"], r["state"]) for r in approved] == [("not_empty", "approved"), ("length_chars", "approved")]

    proc = genaug("rules", project, "disable", "length_chars", "--json")
    assert json.loads(proc.stdout)[0]["state"] == "disabled"
    proc = genaug("rules", project, "list")
    assert proc.returncode == 0 and "not_empty" in proc.stdout and "approved" in proc.stdout


def test_dry_run_then_filter_agree(project):
    assert genaug("rules", project, "propose").returncode == 0
    ids = ["not_empty", "length_chars", "edit_distance"]
    proc = genaug("rules", project, "dry-run", *ids, "--json")
    assert proc.returncode == 0, proc.stderr
    dry = json.loads(proc.stdout)
    assert dry["checked"] == 13
    with Project.open(project) as p:
        assert p.status()["by_status"]["rejected"] == 0, "dry-run wrote something"
    assert genaug("rules", project, "approve", *ids).returncode == 0
    proc = genaug("filter", project, "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["rejected"] == dry["counts"]
    assert result["total_rejected"] == len(dry["rejected"]) >= 3
    proc = genaug("filter", project)
    assert proc.returncode == 0
    assert "rejected 0" in proc.stdout and "not_empty" in proc.stdout
    with Project.open(project) as p:
        rejected = {c.id: c.rule_id for c in p.candidates(status="rejected")}
    assert rejected == {r["id"]: r["rule"] for r in dry["rejected"]}


def test_human_filter_output_lists_counts_per_rule(project):
    genaug("rules", project, "propose")
    genaug("rules", project, "approve", "not_empty", "length_chars")
    proc = genaug("filter", project)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("checked 13 pending candidates with 2 approved rules: rejected ")
    counts = dict(line.split() for line in lines[1:])
    assert counts["not_empty"] == "1" and int(counts["length_chars"]) >= 1


def test_export_import_and_edit(tmp_path, project):
    genaug("rules", project, "propose")
    genaug("rules", project, "approve", "not_empty")
    proc = genaug("rules", project, "add", "text_block_list", "--id", "blocked", "--set", 'patterns=["(a+)+$"]')
    assert proc.returncode == 0, proc.stderr
    proc = genaug("rules", project, "set", "length_chars", "range=[5,500]", "--json")
    assert json.loads(proc.stdout)[0]["params"]["range"] == [5, 500]
    out = tmp_path / "rules.json"
    proc = genaug("rules", project, "export", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema_version"] == 1 and data["modality"] == "text"
    other = str(tmp_path / "other.genaug")
    run_job(init_project_job(other, os.path.join(SAMPLE, "texts", "reviews.csv"))).close()
    proc = genaug("rules", other, "import", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    imported = json.loads(proc.stdout)
    assert_rule_shape(imported)
    assert {r["state"] for r in imported} == {"proposed"}
    assert [r["id"] for r in imported] == [r["id"] for r in data["rules"]]


@pytest.mark.parametrize(
    "args",
    [
        ("approve", "no_such_rule"),
        ("approve",),
        ("disable", "not_empty", "nope"),
        ("dry-run", "nope"),
        ("frobnicate",),
        ("set", "length_chars", "range=[9,1]"),
        ("set", "length_chars", "novalue"),
        ("add", "image_decodes"),
        ("add", "text_block_list", "--set", 'patterns=["(a+"]'),
        ("import", "/no/such/file.json"),
        ("dismiss", "not_empty"),
    ],
)
def test_bad_usage_exits_2_with_one_line(project, args):
    from genaug_desktop.core.rules import approve_rules, list_rules, propose_rules, save_proposals

    with Project.open(project) as p:
        save_proposals(p, propose_rules(p))
        approve_rules(p, ["not_empty"])
        before = [r.to_json() for r in list_rules(p)]
    proc = genaug("rules", project, *args)
    assert_one_clear_line(proc)
    with Project.open(project) as p:
        assert [r.to_json() for r in list_rules(p)] == before, "a failed command changed the rules"


def test_missing_project_and_bad_rule_file(tmp_path, project):
    assert_one_clear_line(genaug("rules", str(tmp_path / "nope.genaug"), "list"))
    assert_one_clear_line(genaug("filter", str(tmp_path / "nope.genaug")))
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "modality": "text", "rules": [{"kind": "text_length", '
                   '"params": {"range": [3, 1]}}]}', encoding="utf-8")
    proc = genaug("rules", project, "import", str(bad))
    assert_one_clear_line(proc)
    assert "$.rules[0].params.range" in proc.stderr


def test_image_project_rules(tmp_path):
    path = str(tmp_path / "shapes.genaug")
    run_job(init_project_job(path, os.path.join(SAMPLE, "images"))).close()
    proc = genaug("rules", path, "propose", "--json")
    assert proc.returncode == 0, proc.stderr
    rules = json.loads(proc.stdout)
    assert_rule_shape(rules)
    assert {r["kind"] for r in rules} >= {"image_decodes", "image_size", "image_near_duplicate"}
    proc = genaug("filter", path)
    assert proc.returncode == 0 and "no approved rules" in proc.stdout
