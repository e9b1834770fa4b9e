"""What goes into an export and where: statuses, splits without leakage, stratification,
balancing, de-duplication, class filters, and option validation."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter, defaultdict

import pytest

from genaug_desktop.core.export import ExportError, ExportOptions, plan_export
from genaug_desktop.core.export.plan import apportion, assign_item_splits

from .test_export_support import add_text_candidates, do_export, make_image_project, make_text_project, plan


@pytest.fixture()
def project(tmp_path):
    p = make_image_project(tmp_path, {"cat": 20, "dog": 10, "eel": 3}, aug_per_item=2, generated={"cat": 10, "dog": 5})
    yield p
    p.close()


def test_apportion_is_exact_and_proportional():
    assert apportion(10, [0.8, 0.2]) == [8, 2]
    assert apportion(3, [0.8, 0.1, 0.1]) == [3, 0, 0]
    assert apportion(7, [0.5, 0.5]) == [4, 3]
    assert apportion(0, [1.0]) == [0]
    for n in range(50):
        assert sum(apportion(n, [0.7, 0.15, 0.15])) == n


def test_only_accepted_by_default_and_statuses_choose(tmp_path, project):
    cands = project.candidates()
    project.decide([cands[0].id], "rejected")
    project.decide([cands[1].id], "pending")
    default = plan(project)
    uids = {s.uid for s in default.samples}
    assert f"cand:{cands[0].id}" not in uids and f"cand:{cands[1].id}" not in uids
    assert default.by_origin() == {"original": 0, "augmentation": 64, "generator": 15}
    both = plan(project, statuses=("accepted", "pending"))
    assert f"cand:{cands[1].id}" in {s.uid for s in both.samples}
    assert plan(project, origins=("generator",)).by_origin()["augmentation"] == 0


def test_no_split_leakage_synthetic_samples_follow_their_source(tmp_path, project):
    dest = tmp_path / "out"
    do_export(project, dest, format="imagefolder", include_originals=True, splits={"train": 0.6, "val": 0.2, "test": 0.2}, seed=3)
    split_of_item = {}
    rows = []
    for split in ("train", "val", "test"):
        for line in (dest / split / "metadata.jsonl").read_text("utf-8").splitlines():
            row = json.loads(line)
            rows.append(row)
            if row["origin"] == "original":
                split_of_item[row["source"]] = split
    assert len(split_of_item) == 33
    augs = [r for r in rows if r["origin"] == "augmentation"]
    assert len(augs) == 66
    for r in augs:
        assert r["split"] == split_of_item[r["source"]], f"{r['uid']} leaked out of its source's split"


def test_split_is_stratified_seeded_and_independent_of_what_is_exported(project):
    ratios = {"train": 0.8, "val": 0.2}
    a = plan(project, include_originals=True, splits=ratios, seed=1)
    per_class = defaultdict(Counter)
    for s in a.samples:
        if s.origin == "original":
            per_class[s.label][s.split] += 1
    assert per_class["cat"] == Counter(train=16, val=4)
    assert per_class["dog"] == Counter(train=8, val=2)
    assert per_class["eel"] == Counter(train=2, val=1)  # 2.4 / 0.6: largest remainder
    again = plan(project, include_originals=True, splits=ratios, seed=1)
    assert [(s.uid, s.split) for s in a.samples] == [(s.uid, s.split) for s in again.samples]
    other = plan(project, include_originals=True, splits=ratios, seed=2)
    assert {s.uid: s.split for s in other.samples} != {s.uid: s.split for s in a.samples}
    # Without the originals the synthetic samples keep exactly the same splits.
    synthetic = plan(project, splits=ratios, seed=1)
    full = {s.uid: s.split for s in a.samples}
    assert all(full[s.uid] == s.split for s in synthetic.samples)


def test_generator_samples_without_source_are_split_by_stratified_hash(project):
    p = plan(project, origins=("generator",), splits={"train": 0.6, "val": 0.4}, seed=9)
    per_class = defaultdict(Counter)
    for s in p.samples:
        per_class[s.label][s.split] += 1
    assert per_class["cat"] == Counter(train=6, val=4)
    assert per_class["dog"] == Counter(train=3, val=2)
    assert any("leak" in w for w in p.warnings)


def test_identical_source_files_share_a_split(tmp_path):
    p = make_image_project(tmp_path, {"a": 30}, aug_per_item=0)
    data = tmp_path / "data" / "a"
    for i in range(30):  # make a0..a29 pairs of duplicates: a(2k+1) = a(2k)
        if i % 2:
            shutil.copyfile(data / f"a{i - 1}.png", data / f"a{i}.png")
    p.close()
    (tmp_path / "p.genaug").rename(tmp_path / "old.genaug")
    from genaug_desktop.core.jobs import run_job
    from genaug_desktop.core.store import init_project_job

    p = run_job(init_project_job(str(tmp_path / "dup.genaug"), str(tmp_path / "data")))
    items = p.items()
    splits = assign_item_splits(items, ["train", "val"], [0.5, 0.5], seed=0)
    by_sha = defaultdict(set)
    for item in items:
        by_sha[item.sha256].add(splits[item.key])
    assert len(by_sha) == 15 and all(len(v) == 1 for v in by_sha.values())
    p.close()


def test_balance_caps_each_class_prefers_originals_and_keeps_split_shares(project):
    base = dict(include_originals=True, splits={"train": 0.8, "val": 0.2})
    unbalanced = plan(project, **base).by_class()
    assert unbalanced == {"cat": 70, "dog": 35, "eel": 9}
    p = plan(project, balance=30, **base)
    assert p.by_class() == {"cat": 30, "dog": 30, "eel": 9}, "capped by what exists"
    cats = [s for s in p.samples if s.label == "cat"]
    assert Counter(s.origin for s in cats)["original"] == 20, "originals are kept first"
    assert Counter(s.split for s in cats) == Counter(train=24, val=6)
    assert p.dropped == {"over the class target": 45}
    assert plan(project, balance="min", **base).by_class() == {"cat": 9, "dog": 9, "eel": 9}
    assert plan(project, balance={"cat": 5}, **base).by_class() == {"cat": 5, "dog": 35, "eel": 9}


def test_class_filter_and_contiguous_label_ids(tmp_path, project):
    p = plan(project, classes=("eel", "dog"))
    assert p.classes == ["dog", "eel"]
    assert set(p.by_class()) == {"dog", "eel"}
    dest = tmp_path / "f"
    do_export(project, dest, format="webdataset", classes=("eel", "dog"))
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["classes"] == ["dog", "eel"]


def test_text_dedupe_keeps_the_original_over_synthetic_copies(tmp_path):
    p = make_text_project(tmp_path, [("Hello  World", "a"), ("other text", "b"), ("OTHER TEXT", "b")])
    keys = [i.key for i in p.items()]
    add_text_candidates(p, [("augmentation", keys[0], "a", "hello world"), ("generator", None, "a", "HELLO\tWORLD "),
                            ("generator", None, "b", "new text")])
    dup = plan(p, format="jsonl", include_originals=True, dedupe=True)
    texts = sorted((s.origin, s.text) for s in dup.samples)
    assert texts == [("generator", "new text"), ("original", "Hello  World"), ("original", "other text")]
    assert dup.dropped == {"duplicates": 3}
    assert plan(p, format="jsonl", include_originals=True).total == 6
    p.close()


def test_plan_table_and_json_for_a_dialog(project):
    p = plan(project, include_originals=True, splits={"train": 0.5, "val": 0.5})
    rows = p.table()
    assert {r["split"] for r in rows} == {"train", "val"}
    assert sum(r["total"] for r in rows) == p.total == sum(p.by_split().values())
    assert set(rows[0]) == {"split", "class", "original", "augmentation", "generator", "total"}
    data = p.to_json()
    assert data["total"] == p.total and data["by_origin"] == p.by_origin()
    json.dumps(data)
    assert "samples" in p.summary()


@pytest.mark.parametrize(("options", "field", "match"), [
    (dict(format="zip"), "format", "unknown format"),
    (dict(splits={"train": 0.5, "val": 0.4}), "splits", "add up to 0.9"),
    (dict(splits={"train": 0.5, "Train": 0.5}), "splits", "named twice"),
    (dict(splits={"../x": 1.0}), "splits", "must start with a letter"),
    (dict(splits={"train": -1, "val": 2}), "splits", "above 0"),
    (dict(statuses=("maybe",)), "statuses", "unknown status"),
    (dict(statuses=(), origins=()), "statuses", "nothing to export"),
    (dict(quality=0), "quality", "between 1"),
    (dict(size=(0, 4)), "size", "between 1"),
    (dict(image_format="gif"), "image_format", "unknown image format"),
    (dict(normalize="l3"), "normalize", "unknown normalisation"),
    (dict(balance="max"), "balance", "balance must be"),
    (dict(seed=-1), "seed", "between 0"),
    (dict(shard_samples=0), "shard_samples", "between 1"),
])
def test_bad_options_name_the_field(options, field, match):
    with pytest.raises(ExportError, match=match) as info:
        ExportOptions(**options).validated("image")
    assert info.value.field == field


def test_percent_splits_and_aliases_are_normalised():
    opts = ExportOptions(format="npz", size=16, splits={"train": 80, "val": 20}, normalize="MeanStd", image_format="jpg")
    v = opts.validated("image")
    assert v.splits == {"train": 0.8, "val": 0.2} and v.normalize == "mean/std" and v.image_format == "jpeg"
    assert v.size == (16, 16) and v.color == "rgb"
    assert ExportOptions.from_json(json.loads(json.dumps(v.to_json()))).validated("image") == v


def test_missing_files_are_left_out_and_said_so(tmp_path):
    p = make_image_project(tmp_path, {"a": 3}, aug_per_item=1)
    item = p.items()[0]
    os.unlink(p.source_path(item))
    cand = p.candidates()[0]
    os.unlink(p.blob_file(cand.blob))
    pl = plan(p, include_originals=True)
    assert pl.total == 4
    assert pl.dropped == {"candidates whose image blob is missing": 1, "originals whose source file is missing": 1}
    assert "1 originals whose source file is missing are left out" in pl.warnings
    p.close()


def test_a_single_split_given_as_a_percentage_is_accepted():
    from genaug_desktop.core.export import ExportOptions

    assert ExportOptions(format="jsonl", splits={"train": 100}).validated("text").splits == {"train": 1.0}
