"""Rules in a project: proposals, approval, dry runs, the filter job, overrides, import/export."""

from __future__ import annotations

import csv
import math
import os

import numpy as np
import pytest
from PIL import Image

from genaug_desktop.core.jobs import CancelToken, Cancelled, run_job
from genaug_desktop.core.policy import encode_png
from genaug_desktop.core.rules import (
    RuleStoreError,
    UnknownRuleError,
    add_rule,
    approve_rules,
    disable_rules,
    dismiss_rules,
    dry_run,
    eligible_ids,
    export_rule_set,
    filter_job,
    get_rule,
    import_rule_set,
    list_rules,
    propose_rules,
    rejection_counts,
    release_rejections,
    restore_rule_rejection,
    run_filter,
    save_proposals,
    update_rule,
)
from genaug_desktop.core.store import init_project_job
from genaug_desktop.core.store.blobs import write_blob

SAMPLE = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "resources", "sample")
VOCAB = (
    "good bad product works fine broke quality price fast slow delivery love hate colour size great poor value "
    "would buy again never the a it is was and but very sturdy cheap soft loud quiet battery screen"
).split()


def make_texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(VOCAB, int(rng.integers(6, 15)))).capitalize() + "." for _ in range(n)]


@pytest.fixture()
def text_project(tmp_path):
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        for i, t in enumerate(make_texts(200)):
            w.writerow([t, "pos" if i % 2 else "neg"])
    project = run_job(init_project_job(str(tmp_path / "t.genaug"), str(path)))
    yield project
    project.close()


def add_texts(project, texts, with_source=True):
    items = project.items()
    rows = []
    for k, text in enumerate(texts):
        src = items[k % len(items)].key if with_source else None
        rows.append({"origin": "augmentation" if with_source else "generator", "source": src, "label": None,
                     "text": text, "provenance": {}})
    return project.add_candidates(rows)


def crafted_text_candidates(project):
    """Candidates with known fates under the proposals, plus ordinary variants."""
    items = project.items()
    texts = []
    for k in range(60):  # ordinary variants: one word of the source changed
        words = items[k].text.split()
        mid = len(words) // 2
        words[mid] = "sturdy" if words[mid] != "sturdy" else "cheap"
        texts.append(" ".join(words))
    texts += [
        items[0].text,  # a copy of its source
        "",  # empty
        "Ok.",  # too short
        "The the the the the the the the the the the the.",  # repeats
        "%%% ### 1234 $$$ @@@ 5678 !!! &&& *** ^^^ ((( )))",  # symbols
        "Этот товар очень хороший и работает отлично каждый день.",  # another script
    ]
    ids = add_texts(project, texts)
    # the same text, from the same source, as the first candidate
    ids += project.add_candidates([{"origin": "augmentation", "source": items[0].key, "text": texts[0], "provenance": {}}])
    return ids


def candidate_rows(project):
    rows = project.query("SELECT id, status, rule_id, reason, measured, decided_by FROM candidates ORDER BY id")
    return {r[0]: r[1:] for r in rows}


# ---- proposals -------------------------------------------------------------------------------------
def test_text_proposals_follow_the_real_data(text_project):
    rules = propose_rules(text_project)
    by_id = {r.id: r for r in rules}
    texts = [i.text for i in text_project.items()]
    chars = [len(t) for t in texts]
    words = [len(t.split()) for t in texts]
    assert by_id["length_chars"].values["range"] == [
        max(1, math.floor(np.percentile(chars, 1))), math.ceil(np.percentile(chars, 99))
    ]
    assert by_id["length_words"].values["range"] == [
        max(1, math.floor(np.percentile(words, 1))), math.ceil(np.percentile(words, 99))
    ]
    assert {r.kind for r in rules} == {
        "text_not_empty", "text_length", "text_non_letter_share", "text_repeated_ngrams", "text_oov_share",
        "text_script", "text_edit_distance", "text_exact_duplicate", "text_near_duplicate",
    }
    for r in rules:
        assert r.state == "proposed" and len(r.explanation) > 40, r
    # the real data passes the proposed thresholds (copies of real texts, checked as candidates)
    add_texts(text_project, texts, with_source=False)
    stateless = [r for r in rules if not r.stateful]
    result = dry_run(text_project, stateless)
    assert len(result.rejections) <= 0.05 * len(texts), result.counts()


def test_oov_proposal_is_leave_one_out_99th_percentile(tmp_path):
    path = tmp_path / "t.txt"
    def word(i: int, tag: str) -> str:  # letters only: digits are not part of words
        return tag + "".join(chr(97 + int(d)) for d in f"{i:03d}")

    lines = ["alpha beta gamma delta"] * 50 + [f"alpha beta {word(i, 'x')} {word(i, 'y')}" for i in range(50)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with run_job(init_project_job(str(tmp_path / "p.genaug"), str(path))) as project:
        rule = {r.id: r for r in propose_rules(project)}["oov_share"]
    # half the texts have 2 of 4 words no other text has: the 99th percentile is 0.5
    assert rule.values["max_share"] == pytest.approx(0.5)


@pytest.mark.parametrize("modality", ["text", "image"])
def test_proposals_on_the_bundled_sample(tmp_path, modality):
    dataset = os.path.join(SAMPLE, "texts", "reviews.csv") if modality == "text" else os.path.join(SAMPLE, "images")
    with run_job(init_project_job(str(tmp_path / "s.genaug"), dataset)) as project:
        rules = propose_rules(project)
        assert rules and all(r.modality == modality and r.state == "proposed" and r.explanation for r in rules)
        outcome = save_proposals(project, rules)
        assert outcome.added == [r.id for r in rules]
        if modality == "image":
            items = project.items()
            by_id = {r.id: r for r in rules}
            assert by_id["size_width"].values["range"] == [min(i.width for i in items), max(i.width for i in items)]
            assert by_id["size_height"].values["range"] == [min(i.height for i in items), max(i.height for i in items)]
            assert by_id["colour_mode"].values["modes"] == ["L", "RGB"]  # one greyscale sample in 51
            assert project.query("SELECT COUNT(*) FROM image_hashes")[0][0] >= len(items)
            assert {r.kind for r in rules} == {
                "image_decodes", "image_size", "image_aspect", "image_color_mode", "image_not_blank",
                "image_exposure", "image_source_difference", "image_source_distance", "image_near_duplicate",
            }
        else:
            lo, hi = {r.id: r for r in rules}["length_chars"].values["range"]
            lengths = sorted(len(i.text) for i in project.items())
            assert lengths[0] <= lo <= hi <= lengths[-1]


def test_reproposing_never_overrides_a_persons_choice(text_project):
    save_proposals(text_project, propose_rules(text_project))
    approve_rules(text_project, ["length_chars"])
    disable_rules(text_project, ["script"])
    update_rule(text_project, "oov_share", {"max_share": 0.9})  # still proposed: may be refreshed
    outcome = save_proposals(text_project, propose_rules(text_project))
    assert sorted(outcome.kept) == ["length_chars", "script"]
    assert "oov_share" in outcome.updated and not outcome.added
    assert get_rule(text_project, "length_chars").state == "approved"
    assert get_rule(text_project, "script").state == "disabled"
    assert get_rule(text_project, "oov_share").values["max_share"] != 0.9


# ---- approval and the filter --------------------------------------------------------------------------
def test_only_approved_rules_reject(text_project):
    save_proposals(text_project, propose_rules(text_project))
    crafted_text_candidates(text_project)
    before = candidate_rows(text_project)
    result = run_filter(text_project)
    assert result.rules == [] and result.checked == 0
    assert candidate_rows(text_project) == before
    approve_rules(text_project, ["not_empty"])
    result = run_filter(text_project)
    assert result.rules == ["not_empty"] and result.rejected == {"not_empty": 1}


def _approve_all(project):
    save_proposals(project, propose_rules(project))
    add_rule(project, "text_block_list", {"patterns": [r"\bcheap\s+cheap\b"]}, "blocked") if project.modality == "text" else None
    approve_rules(project, [r.id for r in list_rules(project)])
    return list_rules(project, "approved")


def test_dry_run_predicts_the_filter_exactly(text_project):
    rules = _approve_all(text_project)
    ids = crafted_text_candidates(text_project)
    before = candidate_rows(text_project)
    prediction = dry_run(text_project, [r.id for r in rules])
    assert candidate_rows(text_project) == before, "a dry run wrote something"
    assert dry_run(text_project, rules, batch_size=7).to_json() == prediction.to_json()
    assert prediction.checked == len(ids)
    expected_rules = {
        ids[60]: "edit_distance", ids[61]: "not_empty", ids[62]: "length_chars", ids[63]: "repeated_ngrams",
        ids[64]: "non_letters", ids[65]: "script", ids[66]: "exact_duplicate",
    }
    got = {r.candidate_id: r.rule_id for r in prediction.rejections}
    for cid, rule_id in expected_rules.items():
        assert got.get(cid) == rule_id, (cid, prediction.rejections)
    result = run_filter(text_project, batch_size=16)
    assert result.checked == len(ids)
    after = candidate_rows(text_project)
    rejected = {cid: (row[1], row[2], row[3]) for cid, row in after.items() if row[0] == "rejected"}
    assert rejected == {r.candidate_id: (r.rule_id, r.reason, r.value) for r in prediction.rejections}
    assert all(after[c][4] == "rule" for c in rejected)
    assert result.rejected == {k: v for k, v in prediction.counts().items()}
    assert sorted(result.rejected_ids) == sorted(rejected)
    # measured values for charts: one per rule per candidate it saw
    ids_seen, values = prediction.measured["length_chars"]
    assert len(ids_seen) == len(values) and len(ids_seen) >= prediction.checked - 1


def test_rejections_are_logged_with_rule_and_measured_value(text_project):
    _approve_all(text_project)
    ids = crafted_text_candidates(text_project)
    run_filter(text_project)
    rows = text_project.query(
        "SELECT status, previous, decided_by, rule_id, measured, reason FROM decisions WHERE candidate_id = ?", (ids[62],)
    )
    assert rows == [("rejected", "pending", "rule", "length_chars", 3.0, rows[0][5])]
    assert "3 characters" in rows[0][5]
    status = text_project.status()
    assert status["by_rule"] == rejection_counts(text_project)


def test_filter_is_idempotent(text_project):
    _approve_all(text_project)
    ids = crafted_text_candidates(text_project)
    first = run_filter(text_project)
    snapshot = candidate_rows(text_project)
    n_decisions = text_project.query("SELECT COUNT(*) FROM decisions")[0][0]
    second = run_filter(text_project)
    assert second.checked == 0 and second.total_rejected == 0
    assert second.skipped == len(ids) - first.total_rejected
    third = run_filter(text_project, recheck=True)
    assert third.checked == len(ids) - first.total_rejected and third.total_rejected == 0
    assert candidate_rows(text_project) == snapshot
    assert text_project.query("SELECT COUNT(*) FROM decisions")[0][0] == n_decisions


def test_new_candidates_are_checked_against_the_kept_ones(text_project):
    _approve_all(text_project)
    ids = crafted_text_candidates(text_project)
    run_filter(text_project)
    (dup,) = add_texts(text_project, [text_project.candidates()[0].text])
    result = run_filter(text_project)
    assert result.checked == 1
    row = candidate_rows(text_project)[dup]
    assert row[0] == "rejected" and row[1] == "exact_duplicate" and f"candidate #{ids[0]}" in row[2]


def test_a_persons_decision_wins_over_rules(text_project):
    _approve_all(text_project)
    ids = crafted_text_candidates(text_project)
    run_filter(text_project)
    empty = ids[61]
    assert candidate_rows(text_project)[empty][:2] == ("rejected", "not_empty")
    # override: accept what the rule rejected -> the rule verdict is cleared
    text_project.decide([empty], "accepted", "I want it anyway")
    status, rule_id, reason, _measured, decided_by = candidate_rows(text_project)[empty]
    assert (status, rule_id, reason, decided_by) == ("accepted", None, "I want it anyway", "person")
    assert "not_empty" not in text_project.status()["by_rule"]
    # a person's undo back to pending is a person's decision too: rules never touch it again
    text_project.decide([ids[62]], "pending")
    assert ids[62] not in eligible_ids(text_project)
    run_filter(text_project, recheck=True)
    rows = candidate_rows(text_project)
    assert rows[empty][0] == "accepted" and rows[ids[62]][0] == "pending"
    assert rows[ids[62]][4] == "person"
    # the review panel's undo of the override brings the rule's verdict back
    assert restore_rule_rejection(text_project, [empty, ids[0]]) == 1  # ids[0] was never rejected by a rule
    assert candidate_rows(text_project)[empty] == ("rejected", "not_empty", "the text is empty", 0.0, "rule")


def test_a_person_deciding_while_the_filter_runs_wins(text_project):
    _approve_all(text_project)
    ids = crafted_text_candidates(text_project)
    job = filter_job(text_project, batch_size=10)
    next(job)  # prepared; no batch written yet
    text_project.decide([ids[61]], "accepted")  # the rules would reject it
    text_project.decide([ids[0]], "rejected", "ugly")  # the rules would pass it
    result = run_job(job)
    rows = candidate_rows(text_project)
    assert rows[ids[61]][0] == "accepted" and rows[ids[61]][4] == "person"
    assert rows[ids[0]][:3] == ("rejected", None, "ugly")
    assert "not_empty" not in result.rejected or result.rejected["not_empty"] == 0


def test_cancel_keeps_finished_batches_and_the_next_run_goes_on(text_project):
    rules = _approve_all(text_project)
    ids = crafted_text_candidates(text_project)
    prediction = {r.candidate_id: r.rule_id for r in dry_run(text_project, rules).rejections}
    cancel = CancelToken()
    job = filter_job(text_project, cancel=cancel, batch_size=10)
    next(job)
    progress = next(job)
    assert progress.done == 10
    cancel.cancel()
    with pytest.raises(Cancelled):
        next(job)
    done = text_project.query("SELECT COUNT(*) FROM candidates WHERE rules_checked IS NOT NULL")[0][0]
    assert done == 10
    result = run_filter(text_project)
    assert result.checked == len(ids) - 10
    rows = candidate_rows(text_project)
    assert {c: r[1] for c, r in rows.items() if r[0] == "rejected"} == prediction


def test_editing_an_approved_rule_rechecks_pending_candidates(text_project):
    _approve_all(text_project)
    ids = crafted_text_candidates(text_project)
    first = run_filter(text_project)
    rule = update_rule(text_project, "length_chars", {"range": [1, 10_000]})
    assert rule.state == "approved" and "Edited: range" in rule.explanation
    second = run_filter(text_project)
    assert second.checked == len(ids) - first.total_rejected


def test_store_operations_are_all_or_nothing(text_project):
    save_proposals(text_project, propose_rules(text_project))
    with pytest.raises(UnknownRuleError):
        approve_rules(text_project, ["not_empty", "nope"])
    assert get_rule(text_project, "not_empty").state == "proposed"
    with pytest.raises(RuleStoreError):
        add_rule(text_project, "image_decodes")
    with pytest.raises(RuleStoreError):
        add_rule(text_project, "text_length", rule_id="not_empty")
    assert add_rule(text_project, "text_length").id == "text_length"
    assert add_rule(text_project, "text_length").id == "text_length-2"
    approve_rules(text_project, ["not_empty"])
    with pytest.raises(RuleStoreError, match="disable it"):
        dismiss_rules(text_project, ["not_empty"])
    assert dismiss_rules(text_project, ["script", "text_length-2"]) == 2
    assert "script" not in {r.id for r in list_rules(text_project)}


def test_disable_and_release(text_project):
    _approve_all(text_project)
    ids = crafted_text_candidates(text_project)
    run_filter(text_project)
    disable_rules(text_project, ["not_empty"])
    assert candidate_rows(text_project)[ids[61]][0] == "rejected"  # what it did stays done
    with pytest.raises(RuleStoreError, match="rejected 1"):
        dismiss_rules(text_project, ["not_empty"])
    assert release_rejections(text_project, "not_empty") == 1
    assert candidate_rows(text_project)[ids[61]] == ("pending", None, None, None, None)
    result = run_filter(text_project)  # the approved set changed: every pending candidate is re-checked
    assert "not_empty" not in result.rejected and result.rejected_ids == [ids[61]]
    # the empty text now fails the next rule in line
    assert candidate_rows(text_project)[ids[61]][1] == "length_chars"


def test_export_and_import_between_projects(tmp_path, text_project):
    _approve_all(text_project)
    path = tmp_path / "rules.json"
    export_rule_set(text_project, states=["approved"]).save(str(path))
    other_csv = tmp_path / "other.csv"
    other_csv.write_text("text\n" + "\n".join(make_texts(30, seed=5)) + "\n", encoding="utf-8")
    from genaug_desktop.core.rules import RuleSet

    with run_job(init_project_job(str(tmp_path / "o.genaug"), str(other_csv))) as other:
        imported = import_rule_set(other, RuleSet.load(str(path)))
        assert [r.id for r in imported] == [r.id for r in list_rules(text_project, "approved")]
        assert all(r.state == "proposed" for r in list_rules(other))
        assert [r.to_json()["params"] for r in list_rules(other)] == [
            r.to_json()["params"] for r in list_rules(text_project, "approved")
        ]
        import_rule_set(other, RuleSet.load(str(path)), keep_state=True)  # same ids: replaced, not doubled
        assert len(list_rules(other)) == len(imported)
        assert all(r.state == "approved" for r in list_rules(other))
    image_rules = RuleSet.load(os.path.join(os.path.dirname(__file__), os.pardir, "data", "rules", "image_v1.json"))
    with pytest.raises(RuleStoreError, match="image"):
        import_rule_set(text_project, image_rules)


# ---- images -------------------------------------------------------------------------------------------
def smooth(seed: int, size: int = 48) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    return cv2.resize(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8), (size, size), interpolation=cv2.INTER_CUBIC)


@pytest.fixture()
def image_project(tmp_path):
    root = tmp_path / "shapes"
    for k in range(24):
        folder = root / ("a" if k % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(smooth(k)).save(folder / f"{k:02d}.png")
    project = run_job(init_project_job(str(tmp_path / "i.genaug"), str(root)))
    yield project
    project.close()


def add_images(project, pairs):
    rows = []
    for source, img in pairs:
        blob = write_blob(project.blobs_dir, img if isinstance(img, bytes) else encode_png(img))
        rows.append({"origin": "augmentation" if source else "generator", "source": source, "label": None,
                     "blob": blob, "provenance": {}})
    return project.add_candidates(rows)


def test_image_filter_end_to_end(image_project):
    from genaug_desktop.core.policy import load_image_array

    rules = _approve_all(image_project)
    items = image_project.items()
    arrays = {i.key: load_image_array(image_project.source_path(i)) for i in items}
    pairs = []
    for i in items[:10]:  # ordinary variants: brighter and mirrored
        pairs.append((i.key, np.clip(arrays[i.key][:, ::-1].astype(int) + 25, 0, 255).astype(np.uint8)))
    k0 = items[0].key
    noisy = np.clip(pairs[0][1].astype(int) + np.random.default_rng(1).integers(-2, 3, pairs[0][1].shape), 0, 255)
    pairs += [
        (k0, arrays[k0]),  # a copy of its source
        (None, b"\x89PNG broken"),  # does not decode
        (None, np.full((48, 48, 3), 90, np.uint8)),  # blank
        (k0, noisy.astype(np.uint8)),  # a near duplicate of the first candidate
        (k0, arrays[k0][:24]),  # half the height: wrong size
    ]
    ids = add_images(image_project, pairs)
    prediction = dry_run(image_project, rules)
    got = {r.candidate_id: r.rule_id for r in prediction.rejections}
    assert got == {ids[10]: "source_copy", ids[11]: "decodes", ids[12]: "not_blank", ids[13]: "near_duplicate",
                   ids[14]: "size_height"}, prediction.rejections
    assert f"candidate #{ids[0]}" in next(r.reason for r in prediction.rejections if r.candidate_id == ids[13])
    result = run_filter(image_project, batch_size=4)
    assert set(result.rejected_ids) == set(got)
    hashes = image_project.query("SELECT COUNT(*) FROM image_hashes")[0][0]
    assert hashes >= len(items) + 10
    # later: a new near duplicate of a kept candidate, checked alone, is still caught
    (late,) = add_images(image_project, [(k0, pairs[0][1])])
    result = run_filter(image_project)
    assert result.checked == 1 and result.rejected_ids == [late]
    assert candidate_rows(image_project)[late][1] in ("near_duplicate",)


def test_dry_run_over_all_candidates_gives_chart_data(text_project):
    rules = _approve_all(text_project)
    ids = crafted_text_candidates(text_project)
    run_filter(text_project)
    rule = next(r for r in rules if r.id == "length_chars")
    pending_only = dry_run(text_project, [rule])
    everything = dry_run(text_project, [rule], all_candidates=True)
    assert everything.checked == len(ids) > pending_only.checked
    seen, values = everything.measured["length_chars"]
    assert seen == ids and all(v is not None for v in values)
    lo, hi = rule.bounds()
    assert (lo, hi) == tuple(float(x) for x in rule.values["range"])
    assert sum(1 for v in values if not lo <= v <= hi) == len(everything.rejected_ids("length_chars"))
