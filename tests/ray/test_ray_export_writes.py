"""Export on Ray: the workers write the image files and shards into the staging folder (the
driver only lays them out, writes the small files and the manifest, and publishes); the bytes
are those of the local engine; a write task whose worker dies is retried, one that fails is
reported with nothing published; a cancel leaves no staging files behind."""

from __future__ import annotations

import errno
import json
import os

import pytest

from genaug_desktop.core.augment import augment_job
from genaug_desktop.core.engine import EngineError
from genaug_desktop.core.export import ExportOptions, export_job, verify_export
from genaug_desktop.core.export import ray_export
from genaug_desktop.core.jobs import CancelToken, Cancelled, run_job
from genaug_desktop.core.policy import Policy

pytest.importorskip("ray.data", reason='Ray Data is not installed (pip install "genaug-desktop[ray]")')

FORMATS = [
    {"format": "imagefolder", "include_originals": True, "splits": {"train": 0.75, "val": 0.25}},
    {"format": "webdataset", "include_originals": True, "shard_samples": 7, "splits": {"train": 0.5, "val": 0.5}},
    {"format": "npz", "include_originals": True, "size": (12, 10), "normalize": "l2", "shard_samples": 9},
]


POLICY = {"schema_version": 1, "modality": "image", "steps": [{"op": "hflip", "p": 1.0}]}


@pytest.fixture()
def accepted(image_project):
    run_job(augment_job(image_project, Policy.from_json(POLICY), per_item=1, seed=3, workers=1))
    image_project.decide([r[0] for r in image_project.query("SELECT id FROM candidates")], "accepted")
    return image_project


def _files(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _s, fs in os.walk(root) for f in fs)


def _leftovers(tmp_path) -> list[str]:
    return [f for f in os.listdir(tmp_path) if f != "shapes" and not f.endswith(".genaug") and f != "marks"]


@pytest.mark.parametrize("options", FORMATS, ids=[o["format"] for o in FORMATS])
def test_workers_write_the_files_and_the_bytes_match_local(ray_session, accepted, tmp_path, monkeypatch, options):
    import genaug_desktop.core.export.job as export_module

    marks = tmp_path / "marks"
    marks.mkdir()
    real = ray_export.write_files

    def recording(root, recipes):  # runs in a Ray worker (pickled by value)
        import os as _os

        out = real(root, recipes)
        with open(_os.path.join(str(marks), f"{_os.getpid()}-{recipes[0].rel.replace('/', '_')}"), "w") as fh:
            fh.write("\n".join(r for r, _sha, _n in out))
        return out

    monkeypatch.setattr(ray_export, "WRITE_FILES", recording)
    monkeypatch.setattr(export_module, "RAY_CHUNK", 6)  # several parts, shards across them
    a = run_job(export_job(accepted, ExportOptions(**options), str(tmp_path / "a")))
    b = run_job(export_job(accepted, ExportOptions(**options), str(tmp_path / "b"), engine="ray"))
    ma = json.loads((tmp_path / "a" / "manifest.json").read_text())
    mb = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert a.samples == b.samples == 40 and ma["files"] == mb["files"] and ma["layout"] == mb["layout"]
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert verify_export(str(tmp_path / "b")).ok
    # Every image file or shard came from a Ray worker process, not from this one.
    by_workers = {line for m in marks.iterdir() for line in m.read_text().splitlines()}
    pids = {int(m.name.split("-")[0]) for m in marks.iterdir()}
    data_files = {rel for rel in mb["files"] if rel.endswith((".png", ".tar", ".npz"))}
    assert data_files and by_workers == data_files and os.getpid() not in pids
    assert not (tmp_path / "b" / ray_export.PARTS_DIR).exists() and sorted(_leftovers(tmp_path)) == ["a", "b"]


def test_a_write_task_whose_worker_dies_is_retried(ray_session, accepted, tmp_path, monkeypatch):
    marker = str(tmp_path / "died-once")
    real = ray_export.write_files

    def die_once(root, recipes):
        import os as _os

        if not _os.path.exists(marker):
            open(marker, "w").close()
            _os._exit(1)  # the worker process dies before it writes the shard
        return real(root, recipes)

    monkeypatch.setattr(ray_export, "WRITE_FILES", die_once)
    options = {"format": "webdataset", "include_originals": True, "shard_samples": 10}
    run_job(export_job(accepted, ExportOptions(**options), str(tmp_path / "a")))
    run_job(export_job(accepted, ExportOptions(**options), str(tmp_path / "b"), engine="ray"))
    assert os.path.exists(marker)
    ma = json.loads((tmp_path / "a" / "manifest.json").read_text())
    mb = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert ma["files"] == mb["files"] and verify_export(str(tmp_path / "b")).ok


def test_a_failing_write_is_reported_and_nothing_is_published(ray_session, accepted, tmp_path, monkeypatch):
    real = ray_export.write_files

    def disk_full_on_the_second_shard(root, recipes):
        if recipes[0].rel.endswith("-000001.tar"):
            raise OSError(errno.ENOSPC, "No space left on device", recipes[0].rel)
        return real(root, recipes)

    monkeypatch.setattr(ray_export, "WRITE_FILES", disk_full_on_the_second_shard)
    options = ExportOptions(format="webdataset", include_originals=True, shard_samples=8)
    with pytest.raises(EngineError, match=r"a Ray worker could not write the export \(train-000001\.tar: "
                                          r"OSError: .*No space left on device.*\); nothing was published"):
        run_job(export_job(accepted, options, str(tmp_path / "out"), engine="ray"))
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", ["imagefolder", "webdataset", "npz"])
def test_a_cancelled_ray_export_publishes_nothing_and_leaves_no_staging_files(ray_session, accepted, tmp_path, fmt):
    import genaug_desktop.core.export.job as export_module

    cancel = CancelToken()
    options = ExportOptions(format=fmt, include_originals=True, shard_samples=4, size=(12, 10) if fmt == "npz" else None)
    job = export_job(accepted, options, str(tmp_path / "out"), cancel=cancel, engine="ray")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(export_module, "RAY_CHUNK", 2)
        # Progress for every sample (not 10 a second), so the cancel lands while samples are being
        # written, however fast this machine writes them.
        mp.setattr(export_module, "Throttle", lambda *_a, **_k: (lambda: True))
        with pytest.raises(Cancelled):
            for p in job:
                if p.done > 12 and p.message.startswith("Wrote"):
                    cancel.cancel()
    assert not (tmp_path / "out").exists()
    assert _leftovers(tmp_path) == []
