"""An export appears complete or not at all, never outside its folder, never over something
it should not replace: destinations, overwrite, hostile names, cancel, full disk, permission
errors, and SIGKILL at any moment."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import unicodedata

import pytest

from genaug_desktop.core.export import ExportError, ExportOptions, export_job, verify_export
from genaug_desktop.core.export import files as export_files
from genaug_desktop.core.export import publish as export_publish
from genaug_desktop.core.jobs import CancelToken, Cancelled, run_job
from genaug_desktop.core.policy import encode_png
from genaug_desktop.core.store.blobs import write_blob

from .test_export_support import do_export, make_image_project, make_text_project, noise, read_manifest, tree


@pytest.fixture()
def project(tmp_path):
    p = make_image_project(tmp_path, {"cat": 4, "dog": 3})
    yield p
    p.close()


def siblings(dest):
    return sorted(n for n in os.listdir(os.path.dirname(dest)) if n.startswith(f".{os.path.basename(dest)}."))


# ---- destinations ------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["data", "data/cat/x", "p.genaug", "p.genaug/blobs/out", ".", "data/../data/sub"])
def test_destination_inside_or_around_the_dataset_or_project_is_refused(tmp_path, project, where):
    dest = tmp_path / where
    before = tree(tmp_path)
    with pytest.raises(ExportError, match="inside|contains") as info:
        do_export(project, dest, format="imagefolder", overwrite=True)
    assert info.value.field == "destination"
    assert tree(tmp_path) == before


def test_destination_through_a_symlink_into_the_dataset_is_refused(tmp_path, project):
    (tmp_path / "sneaky").symlink_to(tmp_path / "data")
    with pytest.raises(ExportError, match="inside the source dataset"):
        do_export(project, tmp_path / "sneaky" / "out", format="imagefolder")


def test_non_empty_destination_needs_overwrite_and_must_be_an_export(tmp_path, project):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        do_export(project, busy, format="imagefolder")
    with pytest.raises(ExportError, match="not an export made by genaug-desktop"):
        do_export(project, busy, format="imagefolder", overwrite=True)
    assert (busy / "notes.txt").read_text() == "mine"
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ExportError, match="not a folder"):
        do_export(project, tmp_path / "afile", format="imagefolder", overwrite=True)


def test_an_empty_existing_folder_and_missing_parents_are_fine(tmp_path, project):
    (tmp_path / "empty").mkdir()
    assert do_export(project, tmp_path / "empty", format="imagefolder").samples == 7
    assert do_export(project, tmp_path / "a" / "b" / "c", format="imagefolder").samples == 7
    assert verify_export(str(tmp_path / "a" / "b" / "c")).ok


def test_overwrite_replaces_an_earlier_export_atomically(tmp_path, project):
    dest = tmp_path / "out"
    do_export(project, dest, format="imagefolder")
    (dest / "train" / "stray.txt").write_text("left by a person")
    result = do_export(project, dest, format="webdataset", overwrite=True)
    assert result.replaced
    assert tree(dest) == ["manifest.json", "train-000000.tar"], "nothing of the old export is left"
    assert read_manifest(dest)["format"] == "webdataset"
    assert verify_export(str(dest)).ok
    assert siblings(dest) == []


def test_overwrite_without_rename_exchange_falls_back_to_two_renames(tmp_path, project, monkeypatch):
    monkeypatch.setattr(export_publish, "_rename_exchange", lambda a, b: False)
    dest = tmp_path / "out"
    do_export(project, dest, format="imagefolder")
    do_export(project, dest, format="webdataset", overwrite=True)
    assert tree(dest) == ["manifest.json", "train-000000.tar"]
    assert siblings(dest) == []


# ---- hostile names ----------------------------------------------------------------------------------------
HOSTILE_LABELS = ["../../etc/passwd", "/abs/path", "CON", "nul", "-rf", "a/b", "e\u0301", "\u00e9", ".hidden",
                  "..", "metadata.jsonl", "Cat", "cat", "x" * 300, "C:\\win", "a\x00b"]


def assert_all_inside(dest, tmp_path, allowed_top):
    real = os.path.realpath(dest)
    for rel in tree(dest):
        full = os.path.realpath(os.path.join(dest, rel))
        assert full.startswith(real + os.sep), rel
        assert not os.path.islink(os.path.join(dest, rel))
        for part in rel.split("/"):
            assert part and not part.startswith(("-", ".")) and unicodedata.normalize("NFC", part) == part, rel
            assert part.split(".")[0].upper() not in ("CON", "NUL", "PRN", "AUX"), rel
    assert sorted(os.listdir(tmp_path)) == sorted(allowed_top), "nothing was written next to the export"


@pytest.mark.parametrize("fmt", ["imagefolder", "webdataset"])
def test_hostile_labels_never_produce_a_file_outside_the_export(tmp_path, fmt):
    p = make_image_project(tmp_path, {"cat": 1}, aug_per_item=0)
    rows = []
    for i, label in enumerate(HOSTILE_LABELS):
        sha = write_blob(p.blobs_dir, encode_png(noise(4, 4, i)))
        rows.append({"origin": "generator", "source": None, "label": label, "blob": sha, "provenance": {}})
    p.decide(p.add_candidates(rows), "accepted")
    dest = tmp_path / "out"
    result = do_export(p, dest, format=fmt, include_originals=True)
    assert result.samples == len(HOSTILE_LABELS) + 1
    assert_all_inside(dest, tmp_path, ["data", "p.genaug", "out"])
    manifest = read_manifest(dest)
    assert set(manifest["classes"]) == set(HOSTILE_LABELS) | {"cat"}
    if fmt == "imagefolder":
        folders = manifest["layout"]["class_folders"]
        assert len({f.casefold() for f in folders.values()}) == len(folders), "collisions resolved, case ignored"
        assert folders["metadata.jsonl"] != "metadata.jsonl"
        rows = [json.loads(line) for line in (dest / "train" / "metadata.jsonl").read_text("utf-8").splitlines()]
        assert sorted(r["label"] for r in rows) == sorted(HOSTILE_LABELS + ["cat"])
        assert len(rows) == len(tree(dest / "train")) - 1
    assert verify_export(str(dest)).ok
    p.close()


def test_hostile_source_file_names(tmp_path):
    p = make_image_project(tmp_path, {"cls": 1}, aug_per_item=0)
    p.close()
    src = tmp_path / "data" / "cls"
    data = (src / "cls0.png").read_bytes()
    for name in ["-rf.png", "CON.png", "nul.png", "e\u0301.png", "\u00e9.png", "A.png", "a.png", "  lead.png"]:
        (src / name).write_bytes(data)
    from genaug_desktop.core.store import init_project_job

    p = run_job(init_project_job(str(tmp_path / "q.genaug"), str(tmp_path / "data")))
    assert p.item_count() == 9
    dest = tmp_path / "out"
    do_export(p, dest, format="imagefolder", include_originals=True, statuses=())
    names = [f.split("/")[-1] for f in tree(dest / "train" / "cls")]
    assert len(names) == 9
    assert len({unicodedata.normalize("NFC", n).casefold() for n in names}) == 9
    assert "rf.png" in names and "CON_.png" in names and "nul_.png" in names
    assert_all_inside(dest, tmp_path, ["data", "p.genaug", "q.genaug", "out"])
    p.close()


def test_hostile_labels_in_text_class_files(tmp_path):
    p = make_text_project(tmp_path, [("one", "../../x"), ("two", "CON"), ("three", "con"), ("four", "/etc/y")])
    dest = tmp_path / "out"
    do_export(p, dest, format="txt", include_originals=True, statuses=())
    assert_all_inside(dest, tmp_path, ["texts.jsonl", "t.genaug", "out"])
    assert len(tree(dest / "train")) == 5
    p.close()


# ---- cancel, errors, full disk ------------------------------------------------------------------------
class CancelAfter(CancelToken):
    """A token that a person "presses" after the job has checked it *n* times (mid-write)."""

    def __init__(self, n: int, seen: list[str], dest) -> None:
        super().__init__()
        self.n, self.seen, self.dest = n, seen, dest

    def raise_if_cancelled(self) -> None:
        self.n -= 1
        if self.n == 0:
            self.seen.extend(siblings(self.dest))
            self.cancel()
        super().raise_if_cancelled()


@pytest.mark.parametrize("workers", [1, 3])
def test_cancel_midway_leaves_nothing(tmp_path, workers):
    p = make_image_project(tmp_path, {"a": 30}, aug_per_item=1)
    dest = tmp_path / "out"
    seen: list[str] = []
    job = export_job(p, ExportOptions(format="imagefolder", image_format="webp", include_originals=True), str(dest),
                     CancelAfter(20, seen, dest), workers=workers)
    with pytest.raises(Cancelled):
        run_job(job)
    assert len(seen) == 1 and ".tmp-" in seen[0], "the cancel came while files were being written"
    assert not dest.exists() and siblings(dest) == []
    p.close()


def test_abandoning_the_job_midway_leaves_nothing(tmp_path):
    p = make_image_project(tmp_path, {"a": 30}, aug_per_item=1)
    dest = tmp_path / "out"
    job = export_job(p, ExportOptions(format="webdataset", include_originals=True), str(dest), workers=1)
    next(job)
    next(job)
    assert len(siblings(dest)) == 1
    job.close()  # what the GUI's worker does when the window closes mid-export
    assert not dest.exists() and siblings(dest) == []
    p.close()


@pytest.mark.parametrize("fmt", ["imagefolder", "webdataset"])
def test_disk_full_midway_gives_a_clear_message_and_leaves_nothing(tmp_path, project, monkeypatch, fmt):
    calls = {"n": 0}
    real_write = export_files.HashingFile.write
    real_write_bytes = export_files.FileRecorder.write_bytes

    def full(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return None

    def write(self, data):
        full()
        return real_write(self, data)

    def write_bytes(self, rel, data, sha256=None):
        full()
        return real_write_bytes(self, rel, data, sha256)

    monkeypatch.setattr(export_files.HashingFile, "write", write)
    monkeypatch.setattr(export_files.FileRecorder, "write_bytes", write_bytes)
    dest = tmp_path / "out"
    with pytest.raises(ExportError, match="disk is full.*nothing was written"):
        do_export(project, dest, format=fmt, include_originals=True)
    assert not dest.exists() and siblings(dest) == []


def test_permission_error_gives_a_clear_message(tmp_path, project, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))

    monkeypatch.setattr(export_publish.tempfile, "mkdtemp", denied)
    with pytest.raises(ExportError, match="permission denied"):
        do_export(project, tmp_path / "out", format="imagefolder")
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unwritable_parent_gives_a_clear_message(tmp_path, project):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(ExportError, match="permission denied"):
            do_export(project, parent / "out", format="imagefolder")
    finally:
        parent.chmod(0o755)


@pytest.fixture()
def small_disk(tmp_path):
    """A real 1 MB file system (tmpfs); skipped where mounting is not allowed."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({proc.stderr.strip() or 'mount failed'}); the simulated full disk test covers it")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_real_full_disk_leaves_nothing(tmp_path, small_disk):
    p = make_image_project(tmp_path, {"a": 10}, aug_per_item=1, size=(200, 200))  # about 2.4 MB of noise
    with pytest.raises(ExportError, match="disk is full"):
        do_export(p, small_disk / "out", format="imagefolder", include_originals=True)
    assert os.listdir(small_disk) == []
    p.close()


# ---- stale temporary folders and SIGKILL ----------------------------------------------------------
def test_a_stale_temporary_folder_is_cleaned_but_a_live_one_is_spared(tmp_path, project):
    dest = tmp_path / "out"
    stale = tmp_path / ".out.tmp-deadbeef"
    (stale / "train").mkdir(parents=True)
    (stale / "train" / "half.png").write_bytes(b"\x89PNG half")
    live = tmp_path / ".out.tmp-alive123"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        result = do_export(project, dest, format="imagefolder")
    finally:
        os.close(fd)
    assert result.cleaned == [str(stale)]
    assert not stale.exists() and live.exists()
    unrelated = tmp_path / ".other.tmp-1234"
    unrelated.mkdir()
    do_export(project, dest, format="imagefolder", overwrite=True)
    assert unrelated.exists() and not live.exists()


def _cli_export(project_path, dest, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "genaug_desktop.cli", "export", project_path, "--out", str(dest), "--format", "imagefolder",
         "--include-originals", "--image-format", "webp", "--quality", "90", "--workers", "1", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONWARNINGS": "error"},
    )


def _kill_after_temp_appears(proc, dest, delay):
    """SIGKILL *proc* *delay* seconds after its temporary folder appears (or when it ends)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not siblings(dest):
        time.sleep(0.002)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(60)
    proc.stderr.close()
    return proc.returncode


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_the_complete_export_or_none(tmp_path):
    p = make_image_project(tmp_path, {"a": 60, "b": 60}, aug_per_item=1, size=(96, 96))
    total = 240
    p.close()
    dest = tmp_path / "out"
    # Time one whole run from the temporary folder's appearance to the end, then kill at
    # points spread over it, the late ones landing in the manifest, sync and rename.
    proc = _cli_export(p.path, dest)
    while proc.poll() is None and not siblings(dest):
        time.sleep(0.002)
    t0 = time.monotonic()
    assert proc.wait(120) == 0
    proc.stderr.close()
    span = time.monotonic() - t0
    import shutil

    shutil.rmtree(dest)
    outcomes = []
    for delay in [f * span for f in (0.0, 0.1, 0.5, 0.8, 0.9, 0.95, 0.98, 0.995, 1.0)] + [120.0]:
        rc = _kill_after_temp_appears(_cli_export(p.path, dest), dest, delay)
        if dest.exists():
            report = verify_export(str(dest))
            assert report.ok, report.problems()
            assert read_manifest(dest)["counts"]["total"] == total
            outcomes.append(("complete", rc))
            shutil.rmtree(dest)
        else:
            outcomes.append(("none", rc))
    kinds = [o[0] for o in outcomes]
    assert "none" in kinds, f"no kill landed mid-export: {outcomes}"
    assert outcomes[-1] == ("complete", 0), outcomes
    assert siblings(dest) == [], "the next export cleaned every stale temporary folder"


@pytest.mark.slow
def test_sigkill_during_overwrite_keeps_the_old_or_the_new_export(tmp_path):
    p = make_image_project(tmp_path, {"a": 60, "b": 60}, aug_per_item=1, size=(96, 96))
    p.close()
    dest = tmp_path / "out"
    assert _kill_after_temp_appears(_cli_export(p.path, dest, "--split", "train=0.5,val=0.5"), dest, 60.0) == 0
    old = read_manifest(dest)["files"]
    seen = set()
    for delay in (0.0, 0.05, 0.2, 0.5, 1.0):
        _kill_after_temp_appears(_cli_export(p.path, dest, "--overwrite", "--split", "train=0.7,val=0.3", "--seed", str(int(delay * 100))), dest, delay)
        assert dest.exists(), "an overwrite never leaves DEST missing"
        report = verify_export(str(dest))
        assert report.ok, report.problems()
        seen.add("old" if read_manifest(dest)["files"] == old else "new")
    assert "old" in seen
    rc = _kill_after_temp_appears(_cli_export(p.path, dest, "--overwrite"), dest, 60.0)
    assert rc == 0 and verify_export(str(dest)).ok
    assert siblings(dest) == []


def test_a_changed_source_and_a_damaged_blob_are_skipped_and_reported(tmp_path, project):
    item = project.items()[0]
    with open(project.source_path(item), "ab") as fh:
        fh.write(b"edited")
    blob = project.candidates()[-1]
    path = project.blob_file(blob.blob)
    with open(path, "rb") as fh:
        data = bytearray(fh.read())
    data[-30] ^= 0xFF
    with open(path, "wb") as fh:
        fh.write(data)
    result = do_export(project, tmp_path / "out", format="imagefolder", include_originals=True)
    assert dict(result.skipped) == {
        f"item:{item.key}": "the source file changed since the project was made; restore the original file, or make a new project for the changed dataset",
        f"cand:{blob.id}": "the image blob is damaged (its checksum does not match)",
    }
    manifest = read_manifest(tmp_path / "out")
    assert manifest["counts"]["total"] == 12 and len(manifest["skipped"]) == 2
    assert verify_export(str(tmp_path / "out")).ok
    with pytest.raises(ExportError, match="strict"):
        do_export(project, tmp_path / "strict", format="imagefolder", include_originals=True, strict=True)
    assert not (tmp_path / "strict").exists() and siblings(tmp_path / "strict") == []


def test_a_mount_point_is_refused_as_destination(small_disk, project):
    with pytest.raises(ExportError, match="mount point"):
        do_export(project, small_disk, format="imagefolder")


def test_nothing_to_export_is_an_error_not_an_empty_folder(tmp_path, project):
    with pytest.raises(ExportError, match="nothing to export"):
        do_export(project, tmp_path / "out", format="imagefolder", statuses=("pending",))
    assert not (tmp_path / "out").exists()
