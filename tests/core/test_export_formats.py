"""Every export format, read back by an independent reader (json, csv, tarfile, numpy, Pillow)
and checked against the manifest and the project."""

from __future__ import annotations

import csv
import io
import json
import os
import tarfile
from collections import defaultdict

import numpy as np
import pytest
from PIL import Image

from genaug_desktop.core.export import ExportError, ExportOptions, export_job, plan_export, verify_export
from genaug_desktop.core.jobs import run_job

from .test_export_support import (
    CHECKPOINT,
    POLICY,
    POLICY_SHA,
    add_text_candidates,
    assert_manifest_matches_tree,
    do_export,
    make_image_project,
    make_text_project,
    sha256_file,
    tree,
)


@pytest.fixture()
def image_project(tmp_path):
    p = make_image_project(tmp_path, {"cat": 10, "dog": 5}, generated={"cat": 2, "dog": 3})
    yield p
    p.close()


def decisions_at(project):
    return {cid: at for cid, at in project.query("SELECT candidate_id, at FROM decisions ORDER BY id")}


def check_provenance(project, row, prov, items, candidates, decided):
    """Every row's provenance against the project, field by field."""
    assert prov["origin"] == row["origin"]
    if row["origin"] == "original":
        assert row["candidate_id"] is None and row["decision"] is None
        assert prov["source_sha256"] == items[row["source"]].sha256
        return
    c = candidates[row["candidate_id"]]
    assert row["uid"] == f"cand:{c.id}"
    assert row["decision"] == "accepted" and prov["decision"]["status"] == "accepted"
    assert row["decided_at"] == decided[c.id] == prov["decision"]["at"]
    assert prov["decision"]["by"] == "person"
    assert prov["recorded"] == c.provenance
    if row["origin"] == "augmentation":
        assert row["source"] == c.source_item and row["policy_sha256"] == POLICY_SHA
        assert prov["ops"] == c.provenance["ops"] and row["seed"] == c.provenance["seed"]
    else:
        assert row["source"] is None and row["generator"] == "tiny_vae" and row["checkpoint_sha256"] == CHECKPOINT
        assert row["round"] == 1 and prov["generator"]["params"] == {"temperature": 0.8}


def test_imagefolder_follows_the_hugging_face_convention_file_by_file(tmp_path, image_project):
    dest = tmp_path / "out"
    result = do_export(image_project, dest, format="imagefolder", include_originals=True, splits={"train": 0.8, "val": 0.2})
    manifest = assert_manifest_matches_tree(dest)
    assert manifest["schema_version"] == 1 and manifest["format"] == "imagefolder"
    assert manifest["classes"] == ["cat", "dog"]
    assert manifest["policies"] == {POLICY_SHA: POLICY}
    assert [r["id"] for r in manifest["rules"]] == ["dark"]
    assert manifest["generators"] == [{"name": "tiny_vae", "checkpoint_sha256": CHECKPOINT, "rounds": [1], "samples": 5}]
    items = {i.key: i for i in image_project.items()}
    candidates = {c.id: c for c in image_project.candidates()}
    decided = decisions_at(image_project)
    folders = manifest["layout"]["class_folders"]
    seen = defaultdict(int)
    for split in ("train", "val"):
        split_dir = dest / split
        rows = [json.loads(line) for line in (split_dir / "metadata.jsonl").read_text("utf-8").splitlines()]
        listed = [r["file_name"] for r in rows]
        assert len(listed) == len(set(listed))
        on_disk = [f for f in tree(split_dir) if f != "metadata.jsonl"]
        assert sorted(listed) == on_disk, "every image has exactly one metadata row, and every row an image"
        keys = set(rows[0])
        for row in rows:
            assert set(row) == keys, "one flat schema for every row (Arrow infers it from the lines)"
            assert not row["file_name"].startswith(("/", "..")) and "\\" not in row["file_name"]
            folder, name = row["file_name"].split("/")
            assert folder == folders[row["label"]]
            assert row["label_id"] == manifest["classes"].index(row["label"])
            assert row["split"] == split
            path = split_dir / folder / name
            with Image.open(path) as img:
                img.verify()
            if row["origin"] == "original":
                source = image_project.source_path(items[row["source"]])
                assert sha256_file(path) == sha256_file(source), "originals are copied unchanged"
            else:
                assert sha256_file(path) == candidates[row["candidate_id"]].blob, "blobs are copied unchanged"
            check_provenance(image_project, row, json.loads(row["provenance"]), items, candidates, decided)
            seen[(split, row["label"], row["origin"])] += 1
    table = manifest["counts"]["by_split_class_origin"]
    assert {(s, c, o): n for s, cs in table.items() for c, os_ in cs.items() for o, n in os_.items() if n} == dict(seen)
    assert manifest["counts"]["total"] == result.samples == 15 + 15 + 5
    assert manifest["counts"]["by_origin"] == {"original": 15, "augmentation": 15, "generator": 5}
    assert verify_export(str(dest)).ok


def read_tar_samples(path):
    samples = {}
    order = []
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            assert member.isfile() and "/" not in member.name
            key, _, ext = member.name.partition(".")
            if key not in samples:
                samples[key] = {}
                order.append(key)
            else:
                assert order[-1] == key, "a sample's members are consecutive"
            samples[key][ext] = tar.extractfile(member).read()
    return order, samples


def test_webdataset_shards_read_back_with_tarfile(tmp_path, image_project):
    dest = tmp_path / "wds"
    do_export(image_project, dest, format="webdataset", include_originals=True, splits={"train": 0.7, "val": 0.3}, shard_samples=4)
    manifest = assert_manifest_matches_tree(dest)
    candidates = {c.id: c for c in image_project.candidates()}
    shards = manifest["layout"]["shards"]
    total = 0
    for split, listed in shards.items():
        assert [s["file"] for s in listed] == [f"{split}-{i:06d}.tar" for i in range(len(listed))]
        for shard in listed:
            assert os.path.getsize(dest / shard["file"]) % 10240 == 0
            order, samples = read_tar_samples(dest / shard["file"])
            assert len(order) == shard["samples"] <= 4
            for key in order:
                members = samples[key]
                assert set(members) == {"png", "json", "cls"}
                row = json.loads(members["json"])
                assert row["__key__"] == key and row["split"] == split
                assert int(members["cls"]) == row["label_id"] == manifest["classes"].index(row["label"])
                assert isinstance(row["provenance"], dict)
                with Image.open(io.BytesIO(members["png"])) as img:
                    img.load()
                if row["candidate_id"] is not None:
                    import hashlib

                    assert hashlib.sha256(members["png"]).hexdigest() == candidates[row["candidate_id"]].blob
                total += 1
    assert total == manifest["counts"]["total"] == 35
    assert sum(s["samples"] for s in shards["train"]) == manifest["counts"]["by_split"]["train"]


def test_webdataset_shard_size_in_bytes(tmp_path, image_project):
    dest = tmp_path / "wds"
    do_export(image_project, dest, format="webdataset", shard_bytes=8 * 1024)
    manifest = assert_manifest_matches_tree(dest)
    listed = manifest["layout"]["shards"]["train"]
    assert len(listed) > 2
    for shard in listed:
        order, _ = read_tar_samples(dest / shard["file"])
        size = os.path.getsize(dest / shard["file"])
        assert size <= 8 * 1024 + 10240 or len(order) == 1, "a shard passes the limit only for a single big sample"


def test_webdataset_is_reproducible_byte_for_byte(tmp_path, image_project):
    a = do_export(image_project, tmp_path / "a", format="webdataset")
    b = do_export(image_project, tmp_path / "b", format="webdataset")
    ma = json.loads((tmp_path / "a" / "manifest.json").read_text())["files"]
    mb = json.loads((tmp_path / "b" / "manifest.json").read_text())["files"]
    assert ma == mb and a.samples == b.samples


def load_npz_split(dest, manifest, split):
    images, labels, uids, rows = [], [], [], []
    for shard in manifest["layout"]["shards"][split]:
        with np.load(dest / shard["arrays"], allow_pickle=False) as z:
            assert list(z["classes"]) == manifest["classes"]
            images.append(z["images"])
            labels.append(z["labels"])
            uids.extend(z["uids"].tolist())
        rows.extend(json.loads(line) for line in (dest / shard["rows"]).read_text("utf-8").splitlines())
    return np.concatenate(images), np.concatenate(labels), uids, rows


def test_npz_arrays_read_back_with_numpy(tmp_path, image_project):
    dest = tmp_path / "npz"
    do_export(image_project, dest, format="npz", size=(12, 8), include_originals=True, splits={"train": 0.8, "val": 0.2}, shard_samples=7)
    manifest = assert_manifest_matches_tree(dest)
    total = 0
    for split in ("train", "val"):
        images, labels, uids, rows = load_npz_split(dest, manifest, split)
        assert images.dtype == np.uint8 and images.shape[1:] == (8, 12, 3)
        assert [r["uid"] for r in rows] == uids
        assert [r["label_id"] for r in rows] == labels.tolist()
        assert all(r["split"] == split for r in rows)
        for shard in manifest["layout"]["shards"][split]:
            assert shard["samples"] <= 7
        total += len(uids)
    assert total == manifest["counts"]["total"] == 35
    assert manifest["normalization"]["method"] == "none"


@pytest.mark.parametrize("method", ["0-1", "l1", "l2", "mean/std"])
def test_npz_normalisations(tmp_path, image_project, method):
    raw_dest, dest = tmp_path / "raw", tmp_path / "norm"
    opts = dict(format="npz", size=(8, 8), include_originals=True, splits={"train": 0.75, "val": 0.25})
    do_export(image_project, raw_dest, **opts)
    do_export(image_project, dest, normalize=method, **opts)
    raw_manifest = json.loads((raw_dest / "manifest.json").read_text())
    manifest = assert_manifest_matches_tree(dest)
    raw_train = load_npz_split(raw_dest, raw_manifest, "train")[0].astype(np.float64) / 255.0
    for split in ("train", "val"):
        raw = load_npz_split(raw_dest, raw_manifest, split)[0].astype(np.float64) / 255.0
        got = load_npz_split(dest, manifest, split)[0]
        assert got.dtype == np.float32
        if method == "0-1":
            np.testing.assert_allclose(got, raw, atol=1e-6)
        elif method == "l1":
            np.testing.assert_allclose(np.abs(got).reshape(len(got), -1).sum(axis=1), 1.0, rtol=1e-4)
        elif method == "l2":
            np.testing.assert_allclose(np.sqrt((got.astype(np.float64) ** 2).reshape(len(got), -1).sum(axis=1)), 1.0, rtol=1e-4)
        else:
            mean = raw_train.reshape(-1, 3).mean(axis=0)
            std = raw_train.reshape(-1, 3).std(axis=0)
            norm = manifest["normalization"]
            assert norm["computed_over"] == "train" and norm["images"] == len(raw_train)
            np.testing.assert_allclose(norm["mean"], mean, rtol=1e-6)
            np.testing.assert_allclose(norm["std"], std, rtol=1e-6)
            np.testing.assert_allclose(got, (raw - mean) / std, atol=1e-4)
            if split == "train":
                flat = got.reshape(-1, 3).astype(np.float64)
                np.testing.assert_allclose(flat.mean(axis=0), 0.0, atol=1e-5)
                np.testing.assert_allclose(flat.std(axis=0), 1.0, atol=1e-5)


def test_npz_needs_a_size(image_project):
    with pytest.raises(ExportError, match="same size") as info:
        plan_export(image_project, ExportOptions(format="npz"))
    assert info.value.field == "size"


@pytest.mark.parametrize(("image_format", "magic", "mode"), [("jpeg", b"\xff\xd8\xff", "RGB"), ("webp", b"RIFF", "RGB"), ("png", b"\x89PNG", "RGB")])
def test_image_format_size_and_colour(tmp_path, image_project, image_format, magic, mode):
    dest = tmp_path / image_format
    do_export(image_project, dest, format="imagefolder", image_format=image_format, size=(10, 10), quality=80, include_originals=True)
    assert_manifest_matches_tree(dest)
    ext = {"jpeg": ".jpg", "webp": ".webp", "png": ".png"}[image_format]
    files = [f for f in tree(dest) if f.endswith(ext)]
    assert len(files) == 35
    for f in files:
        data = (dest / f).read_bytes()
        assert data.startswith(magic)
        with Image.open(io.BytesIO(data)) as img:
            assert img.size == (10, 10) and img.mode == mode


@pytest.mark.parametrize("resize", ["stretch", "pad", "crop"])
def test_resize_modes_give_the_exact_size_in_grey(tmp_path, image_project, resize):
    dest = tmp_path / resize
    do_export(image_project, dest, format="imagefolder", size=(9, 13), resize=resize, color="grey")
    for f in tree(dest):
        if f.endswith(".png"):
            with Image.open(dest / f) as img:
                assert img.size == (9, 13) and img.mode == "L"


def test_rgba_to_jpeg_is_flattened_on_white(tmp_path):
    p = make_image_project(tmp_path, {"a": 1}, aug_per_item=0)
    from genaug_desktop.core.store.blobs import write_blob

    buf = io.BytesIO()
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(buf, "PNG")  # fully transparent black
    sha = write_blob(p.blobs_dir, buf.getvalue())
    ids = p.add_candidates([{"origin": "generator", "source": None, "label": "a", "blob": sha, "provenance": {}}])
    p.decide(ids, "accepted")
    do_export(p, tmp_path / "jpg", format="imagefolder", image_format="jpeg")
    (jpg,) = [f for f in tree(tmp_path / "jpg") if f.endswith(".jpg")]
    with Image.open(tmp_path / "jpg" / jpg) as img:
        assert np.asarray(img).min() >= 250
    p.close()


TEXTS = [("great value", "pos"), ("broke in a day", "neg"), ("fine, works", "pos"), ("never again", "neg"),
         ("two\nlines", "pos"), ('quote "this", comma', "neg")]


@pytest.fixture()
def text_project(tmp_path):
    p = make_text_project(tmp_path, TEXTS)
    keys = [i.key for i in p.items()]
    add_text_candidates(p, [("augmentation", keys[0], "pos", "GREAT value!"), ("generator", None, "neg", "awful\r\nthing"),
                            ("generator", None, None, "no label here")])
    yield p
    p.close()


def expected_texts(project):
    out = {f"item:{i.key}": (i.text, i.label) for i in project.items()}
    out.update({f"cand:{c.id}": (c.text, c.label) for c in project.candidates(status="accepted")})
    return out


def test_jsonl_reads_back(tmp_path, text_project):
    dest = tmp_path / "jsonl"
    do_export(text_project, dest, format="jsonl", include_originals=True, splits={"train": 0.5, "test": 0.5})
    manifest = assert_manifest_matches_tree(dest)
    want = expected_texts(text_project)
    got = {}
    for split, rel in manifest["layout"]["files"].items():
        assert rel == f"{split}.jsonl"
        for line in (dest / rel).read_text("utf-8").splitlines():
            row = json.loads(line)
            assert row["split"] == split and isinstance(row["provenance"], str)
            got[row["uid"]] = (row["text"], row["label"])
            if row["label"] is None:
                assert row["label_id"] is None
            else:
                assert row["label_id"] == manifest["classes"].index(row["label"])
    assert got == want
    assert manifest["counts"]["by_class"] == {"": 1, "neg": 4, "pos": 4}


def test_csv_reads_back(tmp_path, text_project):
    dest = tmp_path / "csv"
    do_export(text_project, dest, format="csv", include_originals=True)
    manifest = assert_manifest_matches_tree(dest)
    with open(dest / "train.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:3] == ["text", "uid", "label"] and list(rows[0])[-1] == "provenance"
    got = {r["uid"]: (r["text"], r["label"] or None) for r in rows}
    assert got == expected_texts(text_project)
    for r in rows:
        prov = json.loads(r["provenance"])
        assert prov["origin"] == r["origin"]
    assert manifest["layout"]["columns"] == list(rows[0])


def test_txt_one_sample_per_line_per_class(tmp_path, text_project):
    dest = tmp_path / "txt"
    do_export(text_project, dest, format="txt", include_originals=True)
    manifest = assert_manifest_matches_tree(dest)
    meta = [json.loads(line) for line in (dest / "train" / "metadata.jsonl").read_text("utf-8").splitlines()]
    want = expected_texts(text_project)
    files = {}
    for row in meta:
        lines = files.setdefault(row["file_name"], (dest / "train" / row["file_name"]).read_text("utf-8").split("\n"))
        text = lines[row["line"] - 1]
        assert text == " ".join(want[row["uid"]][0].splitlines())
    assert sorted(files) == ["neg.txt", "pos.txt", "unlabeled.txt"]
    assert manifest["notes"]["texts_with_line_breaks_joined"] == 2


def test_webdataset_for_text(tmp_path, text_project):
    dest = tmp_path / "wds"
    do_export(text_project, dest, format="webdataset", include_originals=True)
    assert_manifest_matches_tree(dest)
    order, samples = read_tar_samples(dest / "train-000000.tar")
    want = expected_texts(text_project)
    for key in order:
        row = json.loads(samples[key]["json"])
        assert samples[key]["txt"].decode("utf-8") == want[row["uid"]][0]
        assert ("cls" in samples[key]) == (row["label"] is not None)


def test_text_options_on_images_and_image_formats_on_text_are_refused(text_project, image_project):
    with pytest.raises(ExportError, match="holds text"):
        plan_export(text_project, ExportOptions(format="imagefolder"))
    with pytest.raises(ExportError, match="applies to images"):
        plan_export(text_project, ExportOptions(format="jsonl", size=(8, 8)))
    with pytest.raises(ExportError, match="holds image"):
        plan_export(image_project, ExportOptions(format="csv"))
    with pytest.raises(ExportError, match="normalisation applies to npz"):
        plan_export(image_project, ExportOptions(format="imagefolder", normalize="l2"))


def test_export_job_reports_progress_and_a_summary(tmp_path, image_project):
    job = export_job(image_project, ExportOptions(format="imagefolder"), str(tmp_path / "x"))
    seen = []
    result = run_job(job, seen.append)
    assert seen[0].message == "Planning the export"
    assert seen[-1].done == seen[-1].total
    assert "Exported 20 samples" in result.summary()
    assert " KB), in " in result.summary(), "a small export reads in KB, not as 0.0 MB"
    assert result.to_json()["by_split"] == {"train": 20}
    # The files and bytes are those the manifest lists, so export and `genaug verify` agree.
    from genaug_desktop.core.export.verify import verify_export

    listed = json.loads((tmp_path / "x" / "manifest.json").read_text())["files"]
    report = verify_export(str(tmp_path / "x"))
    assert result.files == len(listed) == report.checked
    assert result.bytes == sum(f["size"] for f in listed.values()) == report.bytes
    assert f"{result.files:,} files listed in manifest.json" in result.summary()


def test_originals_in_other_formats_are_copied_or_converted(tmp_path):
    data = tmp_path / "mixed" / "a"
    data.mkdir(parents=True)
    from .test_export_support import noise as make_noise

    Image.fromarray(make_noise(8, 8, 1)).save(data / "photo.jpg", quality=90)
    Image.fromarray(make_noise(8, 8, 2)).save(data / "old.bmp")
    Image.fromarray(make_noise(8, 8, 3, channels=1)).save(data / "grey.png")
    from genaug_desktop.core.store import init_project_job

    p = run_job(init_project_job(str(tmp_path / "m.genaug"), str(tmp_path / "mixed")))
    do_export(p, tmp_path / "keep", format="imagefolder", include_originals=True, statuses=())
    files = tree(tmp_path / "keep" / "train" / "a")
    assert files == ["grey.png", "old.png", "photo.jpg"]
    assert sha256_file(tmp_path / "keep/train/a/photo.jpg") == sha256_file(data / "photo.jpg")
    assert sha256_file(tmp_path / "keep/train/a/grey.png") == sha256_file(data / "grey.png")
    with Image.open(tmp_path / "keep/train/a/old.png") as img:
        assert img.format == "PNG" and np.array_equal(np.asarray(img), make_noise(8, 8, 2))
    do_export(p, tmp_path / "rgb", format="imagefolder", include_originals=True, statuses=(), color="rgb")
    with Image.open(tmp_path / "rgb/train/a/grey.png") as img:
        assert img.mode == "RGB"
    assert sha256_file(tmp_path / "rgb/train/a/photo.jpg") == sha256_file(data / "photo.jpg"), "already RGB: copied"
    p.close()


def test_plan_job_and_formats_for_a_dialog(image_project):
    from genaug_desktop.core.export import formats_for, plan_job

    assert formats_for("image") == ["imagefolder", "webdataset", "npz"]
    assert formats_for("text") == ["webdataset", "jsonl", "csv", "txt"]
    progress = []
    p = run_job(plan_job(image_project, ExportOptions(format="webdataset")), progress.append)
    assert p.total == 20 and progress[-1].message == p.summary()
