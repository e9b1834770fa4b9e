"""genaug_desktop.torch_data: the Dataset reads every export format; on-the-fly augmentation is
bit-identical across worker counts and runs; set_epoch (directly or through EpochSampler, with
persistent workers too) gives fresh variety."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

from genaug_desktop.api import apply_policy, load_policy, open_export  # noqa: E402
from genaug_desktop.torch_data import EpochSampler, ExportDataset, PolicyTransform, sample_seed  # noqa: E402

from .test_api import CONDITIONAL_POLICY, IMAGE_FORMATS, IMAGE_POLICY, SIZE, TEXT_FORMATS, TEXT_POLICY, build_exports  # noqa: E402


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory):
    return build_exports(tmp_path_factory.mktemp("exports"))


def batches(loader) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(x.clone(), y.clone()) for x, y in loader]


def same(a, b) -> bool:
    return len(a) == len(b) and all(torch.equal(x1, x2) and torch.equal(y1, y2) for (x1, y1), (x2, y2) in zip(a, b))


@pytest.mark.parametrize("fmt", IMAGE_FORMATS)
def test_dataset_reads_every_image_format(exports, fmt):
    ds = ExportDataset(exports[f"image:{fmt}"])
    reader = open_export(exports[f"image:{fmt}"])
    assert len(ds) == len(reader) == exports["image_total"] and ds.classes == ["cat", "dog"]
    x, y = ds[0]
    assert x.dtype == torch.float32 and tuple(x.shape) == (3, SIZE[1], SIZE[0]) and 0 <= x.min() and x.max() <= 1
    assert y == reader[0]["label_id"]
    u8, _ = ExportDataset(exports[f"image:{fmt}"], image_dtype="uint8")[0]
    assert u8.dtype == torch.uint8 and torch.equal(u8.permute(1, 2, 0), torch.from_numpy(np.array(reader[0]["image"])))
    assert torch.allclose(x, u8.float() / 255)
    d = ExportDataset(exports[f"image:{fmt}"], split="val", output="dict")[0]
    assert d["split"] == "val" and d["uid"] and d["label"] in ("cat", "dog") and isinstance(d["provenance"], str)


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_dataset_reads_every_text_format(exports, fmt):
    ds = ExportDataset(exports[f"text:{fmt}"], split="train")
    texts = [ds[i][0] for i in range(len(ds))]
    assert texts == [s["text"] for s in open_export(exports[f"text:{fmt}"], split="train")]
    loader = DataLoader(ExportDataset(exports[f"text:{fmt}"], output="dict"), batch_size=4)
    rows = [b for b in loader]
    assert sum(len(b["text"]) for b in rows) == exports["text_total"]
    assert rows[0]["label_id"].dtype == torch.int64


def test_text_policy_transform_on_the_fly(exports):
    ds = ExportDataset(exports["text:jsonl"], transform=PolicyTransform(TEXT_POLICY, base_seed=1))
    plain = ExportDataset(exports["text:jsonl"])
    for i in range(len(ds)):
        assert sorted(ds[i][0].split()) == sorted(plain[i][0].split())
        assert ds[i] == ds[i]


def test_policy_transform_seeds_depend_on_base_seed_epoch_and_index_only():
    t = PolicyTransform(IMAGE_POLICY, base_seed=7)
    assert t.seed_for(3) == sample_seed(7, 0, 3) == t.seed_for(3, epoch=0)
    assert len({sample_seed(7, e, i) for e in range(3) for i in range(50)}) == 150
    assert sample_seed(8, 0, 3) != sample_seed(7, 0, 3)
    img = np.random.default_rng(0).integers(0, 256, (14, 20, 3), dtype=np.uint8)
    expected, _ = apply_policy(load_policy(IMAGE_POLICY), img, sample_seed(7, 2, 5))
    t.set_epoch(2)
    assert np.array_equal(t(img, 5), expected)
    again = pickle.loads(pickle.dumps(t))
    assert again.epoch == 2 and np.array_equal(again(img, 5), expected)


def _loader(ds, workers: int, **kw) -> DataLoader:
    return DataLoader(ds, batch_size=3, shuffle=False, num_workers=workers, **kw)


def test_batches_are_bit_identical_across_worker_counts_and_runs(exports):
    def run(workers: int):
        ds = ExportDataset(exports["image:imagefolder"], transform=PolicyTransform(IMAGE_POLICY, base_seed=42))
        return batches(_loader(ds, workers))

    reference = run(0)
    assert sum(len(y) for _x, y in reference) == exports["image_total"]
    plain = batches(_loader(ExportDataset(exports["image:imagefolder"]), 0))
    assert not same(reference, plain)  # the policy did something
    assert same(reference, run(0))
    assert same(reference, run(1))
    assert same(reference, run(2))
    # every sample equals the policy applied directly with its derived seed
    reader = open_export(exports["image:imagefolder"])
    policy = load_policy(IMAGE_POLICY)
    flat = torch.cat([x for x, _y in reference])
    for i in range(len(reader)):
        out, _ = apply_policy(policy, reader.load_array(i), sample_seed(42, 0, i))
        assert torch.equal(flat[i], torch.from_numpy(out).permute(2, 0, 1).float() / 255)


def test_same_with_every_image_format(exports):
    """Same pixels in every format (lossless PNG everywhere) -> same augmented batches."""
    out = [batches(_loader(ExportDataset(exports[f"image:{fmt}"], transform=PolicyTransform(IMAGE_POLICY, 1)), 0))
           for fmt in IMAGE_FORMATS]
    assert same(out[0], out[1]) and same(out[0], out[2])


def test_set_epoch_changes_outputs_with_plain_workers(exports):
    ds = ExportDataset(exports["image:npz"], transform=PolicyTransform(IMAGE_POLICY, base_seed=0))
    loader = _loader(ds, 2)
    epoch0 = batches(loader)
    ds.set_epoch(1)  # before the epoch's iterator is created: workers get a fresh copy
    epoch1 = batches(loader)
    ds.set_epoch(0)
    assert same(batches(loader), epoch0) and not same(epoch0, epoch1)
    ds.set_epoch(1)
    assert same(batches(_loader(ds, 0)), epoch1)


def test_epoch_sampler_reaches_persistent_workers(exports):
    ds = ExportDataset(exports["image:webdataset"], transform=PolicyTransform(IMAGE_POLICY, base_seed=5))
    sampler = EpochSampler(ds)
    persistent = DataLoader(ds, batch_size=3, sampler=sampler, num_workers=2, persistent_workers=True)
    seen = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        seen.append(batches(persistent))
    assert not same(seen[0], seen[1]) and not same(seen[1], seen[2])
    # each epoch equals a fresh single-process run of that epoch
    for epoch in range(3):
        ref = ExportDataset(exports["image:webdataset"], transform=PolicyTransform(IMAGE_POLICY, base_seed=5))
        ref.set_epoch(epoch)
        assert same(seen[epoch], batches(_loader(ref, 0)))


def test_epoch_sampler_shuffle_is_seeded_per_epoch(exports):
    ds = ExportDataset(exports["image:npz"], transform=PolicyTransform(IMAGE_POLICY, base_seed=5))
    sampler = EpochSampler(ds, shuffle=True, seed=9)
    orders = []
    for epoch in (0, 1, 0):
        sampler.set_epoch(epoch)
        orders.append([i for _e, i in sampler])
    assert orders[0] == orders[2] != orders[1] and sorted(orders[0]) == list(range(len(ds)))
    sampler.set_epoch(1)
    one = batches(DataLoader(ds, batch_size=4, sampler=sampler, num_workers=0))
    two = batches(DataLoader(ds, batch_size=4, sampler=sampler, num_workers=2))
    assert same(one, two) and len(sampler) == len(ds)
    # the sample at a position is the sample of that index, augmented for that epoch
    ref = ExportDataset(exports["image:npz"], transform=PolicyTransform(IMAGE_POLICY, base_seed=5))
    ref.set_epoch(1)
    assert torch.equal(one[0][0][0], ref[orders[1][0]][0])


def test_generic_transform_and_bad_arguments(exports):
    ds = ExportDataset(exports["image:imagefolder"], transform=lambda a: a[::2, ::2], image_dtype="uint8")
    x, _ = ds[0]
    assert tuple(x.shape) == (3, (SIZE[1] + 1) // 2, SIZE[0] // 2)
    with pytest.raises(IndexError):
        ds[len(ds)]
    with pytest.raises(ValueError):
        ExportDataset(exports["image:imagefolder"], output="list")
    with pytest.raises(ValueError):
        EpochSampler()


def test_workers_started_with_forkserver_give_the_same_batches(exports):
    """The dataset and transform pickle into workers that import everything afresh."""
    ds = ExportDataset(exports["image:npz"], transform=PolicyTransform(IMAGE_POLICY, base_seed=3))
    sampler = EpochSampler(ds)
    sampler.set_epoch(2)
    fresh = batches(DataLoader(ds, batch_size=3, sampler=sampler, num_workers=2, multiprocessing_context="forkserver"))
    assert same(fresh, batches(DataLoader(ds, batch_size=3, sampler=sampler, num_workers=0)))


def test_color_option_makes_every_image_the_same_mode(exports):
    grey = ExportDataset(exports["image:imagefolder"], color="grey", image_dtype="uint8")
    x, _ = grey[0]
    assert tuple(x.shape) == (1, SIZE[1], SIZE[0])
    with_policy = ExportDataset(exports["image:imagefolder"], color="grey", transform=PolicyTransform(IMAGE_POLICY))
    assert tuple(with_policy[0][0].shape) == (1, SIZE[1], SIZE[0])
    with pytest.raises(ValueError):
        ExportDataset(exports["image:imagefolder"], color="cmyk")


def test_the_worked_example_trains_one_epoch(exports, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "train_on_export.py"
    out = subprocess.run([sys.executable, "-W", "error", str(script), exports["image:imagefolder"], "--epochs", "1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "epoch 0: loss" in out.stdout and "classes ['cat', 'dog']" in out.stdout


def test_policy_transform_gets_each_samples_label(exports):
    """Conditional steps see the label the export stored: invert only the cats, with any worker count."""
    def run(workers: int):
        ds = ExportDataset(exports["image:imagefolder"], transform=PolicyTransform(CONDITIONAL_POLICY, base_seed=4),
                           image_dtype="uint8")
        return batches(_loader(ds, workers))

    reference = run(0)
    assert same(reference, run(2))
    reader = open_export(exports["image:imagefolder"])
    policy = load_policy(CONDITIONAL_POLICY)
    flat = torch.cat([x for x, _y in reference])
    labels = set()
    for i in range(len(reader)):
        label = reader[i]["label"]
        labels.add(label)
        out, chain = apply_policy(policy, reader.load_array(i), sample_seed(4, 0, i), label=label)
        assert ("skipped" in chain[0]) == (label != "cat")
        assert torch.equal(flat[i], torch.from_numpy(out).permute(2, 0, 1))
    assert labels == {"cat", "dog"}
    t = PolicyTransform(CONDITIONAL_POLICY)
    img = reader.load_array(0)
    assert t.apply(img, 0, label="dog")[1][0]["skipped"] and "skipped" not in t.apply(img, 0, label="cat")[1][0]


# ---- npz exports made with normalisation ---------------------------------------------------------------
@pytest.fixture(scope="module")
def normalised_npz(exports, tmp_path_factory):
    """The image project exported as npz with each normalisation (``--normalize``)."""
    from genaug_desktop.core.export import ExportOptions, export_job
    from genaug_desktop.core.jobs import run_job
    from genaug_desktop.core.store import Project

    root = tmp_path_factory.mktemp("npz")
    out = {}
    with Project.open(exports["image_project"]) as project:
        for norm in ("0-1", "mean/std", "l2"):
            path = root / norm.replace("/", "")
            run_job(export_job(project, ExportOptions(format="npz", include_originals=True, size=SIZE,
                                                      normalize=norm), str(path)))
            out[norm] = str(path)
    return out


def test_policy_transform_augments_an_npz_export_normalised_to_0_1(normalised_npz, exports):
    policy = load_policy(IMAGE_POLICY)
    ds = ExportDataset(normalised_npz["0-1"], transform=PolicyTransform(policy, base_seed=3))
    plain = ExportDataset(exports["image:npz"], split="train", transform=PolicyTransform(policy, base_seed=3))
    x, _ = ds[0]
    assert x.dtype == torch.float32 and 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert tuple(x.shape) == tuple(plain[0][0].shape)
    batch = next(iter(_loader(ds, 0)))
    assert batch[0].shape[0] == 3
    # on the 1/255 grid, as the uint8 ops left it
    assert torch.equal(torch.round(x * 255) / 255, x)
    raw = ExportDataset(normalised_npz["0-1"]).reader.load_array(0)
    again, chain = PolicyTransform(policy, base_seed=3).apply(raw, 0, 0)
    expected, _ = apply_policy(policy, np.rint(raw * 255).astype(np.uint8).squeeze(), sample_seed(3, 0, 0))
    np.testing.assert_array_equal(np.rint(again * 255).astype(np.uint8).squeeze(), expected.squeeze())
    assert again.dtype == np.float32 and again.shape == raw.shape and isinstance(chain, list)


@pytest.mark.parametrize("norm", ["mean/std", "l2"])
def test_policy_transform_on_a_standardised_npz_export_is_refused_when_the_dataset_is_made(normalised_npz, norm):
    with pytest.raises(ValueError) as info:
        ExportDataset(normalised_npz[norm], transform=PolicyTransform(load_policy(IMAGE_POLICY)))
    message = str(info.value)
    assert f"'--normalize {norm}'" in message and "'--normalize none'" in message
    ExportDataset(normalised_npz[norm])  # without a policy it reads as stored
    raw = ExportDataset(normalised_npz[norm]).reader.load_array(0)
    if norm == "mean/std":  # values below 0: the transform alone refuses them too (l2 stays within [0, 1])
        with pytest.raises(ValueError, match=r"not \[0, 1\].*--normalize none"):
            PolicyTransform(load_policy(IMAGE_POLICY))(raw, 0)
