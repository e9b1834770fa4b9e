"""Proposed rules read as plain sentences, for every rule kind, on ordinary and odd real data;
a rule that the real data itself fails is proposed switched off; one number is not a range."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.rules import (
    RuleError,
    add_rule,
    get_rule,
    list_rules,
    propose_rules,
    rule_kinds,
    save_proposals,
    update_rule,
)
from genaug_desktop.core.store import Project, init_project_job

#: kinds a person adds by hand (what to block is theirs to say); every other kind is proposed
NOT_PROPOSED = {"text_block_list"}


def _images(root: Path, kind: str) -> None:
    rng = np.random.Generator(np.random.PCG64(7))
    for i in range(24):
        label = ("circle", "square")[i % 2]
        (root / label).mkdir(parents=True, exist_ok=True)
        if kind == "flat":  # one flat colour per image: every perceptual hash is the same
            arr = np.full((32, 32, 3), (i * 10) % 256, np.uint8)
            Image.fromarray(arr).save(root / label / f"{i}.png")
        elif kind == "single":
            if i == 0:
                Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / label / "only.png")
        else:  # varied sizes, greyscale and colour
            w, h = 30 + i, 28 + (i * 7) % 13
            arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            img = Image.fromarray(arr)
            (img.convert("L") if i % 5 == 0 else img).save(root / label / f"{i}.png")


def _texts(root: Path, kind: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    if kind == "single":
        rows = ["one lonely review of a film"]
    elif kind == "scripts":
        rows = [f"review {i} is good" for i in range(20)] + ["отличный фильм, очень хороший", "良い映画です本当に"]
    else:
        rows = [f"the film number {i} was {'good' if i % 2 else 'dull'} and the {i % 7} actors were fine"
                for i in range(30)]
    with open(root / "t.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for i, t in enumerate(rows):
            w.writerow([t, "pos" if i % 2 else "neg"])


def _project(tmp_path: Path, modality: str, kind: str) -> Project:
    data = tmp_path / f"{modality}-{kind}"
    if modality == "image":
        _images(data, kind)
        target = str(data)
    else:
        _texts(data, kind)
        target = str(data / "t.csv")
    return run_job(init_project_job(str(tmp_path / f"{modality}-{kind}.genaug"), target))


CASES = [("image", "varied"), ("image", "flat"), ("image", "single"),
         ("text", "varied"), ("text", "scripts"), ("text", "single")]


@pytest.fixture(scope="module")
def proposals(tmp_path_factory) -> dict[tuple[str, str], list]:
    out = {}
    for modality, kind in CASES:
        with _project(tmp_path_factory.mktemp(kind), modality, kind) as project:
            out[(modality, kind)] = propose_rules(project)
    return out


def _odd_wording(text: str) -> list[str]:
    """What reads oddly in an explanation (empty when it reads as plain sentences)."""
    problems = []
    checks = [
        (r"\b(?:RGB|RGBA|L)\s+\d", "a colour mode followed by a bare count"),
        (r"\bwritten in [A-Z][a-z]+ \d", "a script followed by a bare share"),
        (r"\bat most 0(?:\.0)?%", "'at most 0%' (say 'none')"),
        (r"\b1 (?:real )?(?:images|texts|words|pairs)\b", "a plural after 1"),
        (r"\b(\d[\d,.]*)-\1\b", "a range whose two ends are the same"),
        (r"\(\s|\s\)|\s[,.;]|\s{2,}|\.\.(?!\.)", "stray spacing or punctuation"),
        (r"\b(\w+) \1\b", "a doubled word"),
        (r"\{|\}|None\b|nan\b|inf\b", "a template left unfilled"),
    ]
    for pattern, what in checks:
        if re.search(pattern, text):
            problems.append(what)
    if not text or not (text[0].isupper() or text[0].isdigit()):
        problems.append("does not start with a capital letter or a number")
    if not text.endswith("."):
        problems.append("does not end with a full stop")
    return problems


def test_every_rule_kind_is_proposed_somewhere(proposals):
    proposed = {r.kind for rules in proposals.values() for r in rules}
    assert proposed | NOT_PROPOSED == set(rule_kinds()), "a new rule kind needs a proposal (and a case here)"


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_every_explanation_reads_as_plain_sentences(proposals, case):
    for rule in proposals[case]:
        assert not _odd_wording(rule.explanation), (rule.id, _odd_wording(rule.explanation), rule.explanation)


def test_the_wording_the_trial_found_odd_is_gone(proposals):
    by_id = {r.id: r.explanation for r in proposals[("image", "varied")]}
    assert "decode as colour (RGB)" in by_id["colour_mode"] and "greyscale (L)" in by_id["colour_mode"]
    scripts = {r.id: r.explanation for r in proposals[("text", "scripts")]}["script"]
    assert scripts.startswith("Of the letters in the real texts, ") and "% Latin" in scripts
    latin = {r.id: r.explanation for r in proposals[("text", "varied")]}["script"]
    assert latin.startswith("All the letters in the real texts are Latin.")
    single = {r.id: r.explanation for r in proposals[("image", "single")]}
    assert single["size_width"].startswith("The one real image is 40 px in width.")
    flat = {r.id: r.explanation for r in proposals[("image", "flat")]}
    assert flat["size_width"].startswith("All 24 real images are 32 px in width.")
    assert flat["aspect"].startswith("All the real images have a width / height ratio of 1 ")


def test_the_lint_catches_the_old_wording():
    assert _odd_wording("The real images are RGB 30 (as decoded).")
    assert _odd_wording("The real texts are written in Latin 100% of their letters.")
    assert _odd_wording("In 99% of the real images at most 0% of the pixels are near black.")
    assert _odd_wording("The 1 real images are 40-40 px in width.")


def test_flat_real_images_get_near_duplicate_and_not_blank_switched_off(proposals, tmp_path):
    rules = {r.id: r for r in proposals[("image", "flat")]}
    for rid in ("near_duplicate", "not_blank"):
        assert rules[rid].state == "disabled", rules[rid]
        assert re.search(r"Proposed switched off: 2[2-4] of the 24 real images", rules[rid].explanation)
    varied = {r.id: r for r in proposals[("image", "varied")]}
    assert varied["near_duplicate"].state == varied["not_blank"].state == "proposed"
    with _project(tmp_path, "image", "flat") as project:
        save_proposals(project, propose_rules(project))
        assert get_rule(project, "near_duplicate").state == "disabled"
        assert get_rule(project, "size_width").state == "proposed"


@pytest.mark.parametrize("value", [40, 40.0, 1.5])
def test_one_number_for_a_range_is_refused_with_the_syntax(tmp_path, value):
    with _project(tmp_path, "image", "varied") as project:
        save_proposals(project, propose_rules(project))
        before = get_rule(project, "size_width").values
        with pytest.raises(RuleError) as info:
            update_rule(project, "size_width", {"range": value})
        message = str(info.value)
        assert "range needs two values" in message and "range=[LOW,HIGH]" in message
        assert f"range=[{value},{value}]" in message.replace(" ", "")
        assert get_rule(project, "size_width").values == before
        with pytest.raises(RuleError, match="range needs two values"):
            add_rule(project, "image_aspect", {"range": value})
        assert update_rule(project, "size_width", {"range": [40, 64]}).values["range"] == [40, 64]
        assert update_rule(project, "size_width", {"range": [40, 40]}).values["range"] == [40, 40]
        assert [r.id for r in list_rules(project)].count("image_aspect") == 0
