"""Registry-wide tests for every image op (random and pre-processing).

Every op registered with ``modality == "image"`` must have an entry in :data:`EXAMPLES` (a
non-trivial configuration) and in :data:`IDENTITY` (settings that leave an image unchanged, or
``None`` with the reason there is none); a new op without them fails
:func:`test_every_image_op_has_test_entries`. Everything else is parametrized over the registry.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from typing import Any

import cv2
import numpy as np
import pytest

from genaug_desktop.core.ops import build_op, registry
from genaug_desktop.core.ops import image as image_ops
from genaug_desktop.core.ops.base import Op
from genaug_desktop.core.params import Param, ParamError

IMAGE_OPS = sorted(name for name, cls in registry().items() if cls.modality == "image")

#: a non-trivial configuration of every image op (every range wider than a point where it can be)
EXAMPLES: dict[str, dict[str, Any]] = {
    "hflip": {},
    "vflip": {},
    "rotate": {"angle": [-30, 30], "border": "constant", "fill": [10, 20, 30], "interpolation": "bicubic"},
    "affine": {"scale": [0.8, 1.2], "translate": [-0.1, 0.1], "rotate": [-20, 20], "shear": [-10, 10],
               "border": "replicate", "interpolation": "nearest"},
    "perspective": {"scale": [0.05, 0.1], "border": "constant", "fill": [255, 0, 0]},
    "random_resized_crop": {"width": 64, "height": 48, "scale": [0.3, 0.9], "ratio": [0.5, 2.0], "interpolation": "area"},
    "crop": {"width": 40, "height": 30, "position": "random"},
    "pad": {"pixels": [1, 9], "border": "reflect"},
    "resize": {"width": 50, "height": 0, "interpolation": "bicubic"},
    "brightness": {"delta": [-0.3, 0.3]},
    "contrast": {"factor": [0.5, 1.5]},
    "saturation": {"factor": [0.0, 2.0]},
    "hue": {"shift": [-90, 90]},
    "color_jitter": {"brightness": [0.7, 1.3], "contrast": [0.7, 1.3], "saturation": [0.5, 1.5], "hue": [-30, 30]},
    "gamma": {"gamma": [0.5, 2.0]},
    "greyscale": {},
    "equalize": {"by_channels": False},
    "autocontrast": {"cutoff": 2.0},
    "posterize": {"bits": [2, 5]},
    "solarize": {"threshold": [64, 192]},
    "invert": {},
    "channel_shuffle": {},
    "sharpen": {"alpha": [0.5, 1.0], "lightness": [0.5, 2.0]},
    "gaussian_blur": {"sigma": [1.0, 3.0]},
    "motion_blur": {"kernel": [5, 15]},
    "median_blur": {"kernel": 5},
    "gaussian_noise": {"std": [0.05, 0.1], "per_channel": False},
    "salt_and_pepper": {"amount": [0.05, 0.1], "salt": 0.3},
    "jpeg_compression": {"quality": [10, 40]},
    "coarse_dropout": {"holes": [2, 6], "size": [0.1, 0.3], "fill": [255, 128, 0]},
    "elastic": {"alpha": [10.0, 50.0], "sigma": 4.0, "border": "constant"},
    "grid_distortion": {"steps": 7, "limit": [-0.5, 0.5], "border": "replicate"},
    # pre-processing
    "flatten_alpha": {"background": [0, 128, 255]},
    "convert_mode": {"mode": "L"},
    "resize_to": {"width": 40, "height": 24, "method": "cover", "fill": [1, 2, 3]},
}

#: settings under which the op must return the image unchanged (None: there are none, and why)
IDENTITY: dict[str, dict[str, Any] | None] = {
    "hflip": None,  # a mirror always changes a non-symmetric image (flipping twice is tested below)
    "vflip": None,
    "rotate": {"angle": [0, 0]},
    "affine": {"scale": [1, 1], "translate": [0, 0], "rotate": [0, 0], "shear": [0, 0]},
    "perspective": {"scale": [0, 0]},
    "random_resized_crop": None,  # needs the image size; covered by test_random_resized_crop_of_the_whole_image
    "crop": {"width": 8192, "height": 8192},
    "pad": {"pixels": [0, 0]},
    "resize": None,  # needs the image size; covered by test_resize_to_the_same_size
    "brightness": {"delta": [0, 0]},
    "contrast": {"factor": [1, 1]},
    "saturation": {"factor": [1, 1]},
    "hue": {"shift": [0, 0]},
    "color_jitter": {"brightness": [1, 1], "contrast": [1, 1], "saturation": [1, 1], "hue": [0, 0]},
    "gamma": {"gamma": [1, 1]},
    "greyscale": None,  # identity only on grey input: test_greyscale_keeps_grey
    "equalize": None,  # depends on the histogram
    "autocontrast": None,  # identity only on a full-range image: test_autocontrast_keeps_full_range
    "posterize": {"bits": [8, 8]},
    "solarize": None,  # threshold 255 still inverts 255
    "invert": None,
    "channel_shuffle": None,  # the drawn order [0, 1, 2] is: test_channel_shuffle_identity_order
    "sharpen": {"alpha": [0, 0]},
    "gaussian_blur": None,
    "motion_blur": None,
    "median_blur": None,
    "gaussian_noise": {"std": [0, 0]},
    "salt_and_pepper": {"amount": [0, 0]},
    "jpeg_compression": None,  # lossy at every quality
    "coarse_dropout": None,  # at least one hole
    "elastic": {"alpha": [0, 0]},
    "grid_distortion": {"limit": [0, 0]},
    "flatten_alpha": {},  # RGB and grey input pass through
    "convert_mode": None,  # depends on the input mode: test_convert_mode
    "resize_to": None,  # depends on the input size
}

SIZES = [(1, 1), (3, 7), (7, 3), (4, 1), (1, 4), (2, 2), (64, 1), (1, 22), (517, 1023)]


def photo(h: int, w: int, grey: bool = False, seed: int = 0) -> np.ndarray:
    """Smooth colour fields with a hard edge and mild noise: every op has something to change."""
    rng = np.random.default_rng(seed)
    low = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    img = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, 3)
    img[: h // 2, : w // 3] = (250, 30, 60)
    img = np.clip(img.astype(np.int16) + rng.integers(-6, 7, img.shape), 0, 255).astype(np.uint8)
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if grey else img


RGB = photo(61, 97)
GREY = photo(61, 97, grey=True)


def run(name: str, x: np.ndarray, values: dict[str, Any] | None = None, seed: int = 0) -> tuple[Op, np.ndarray, dict]:
    op = build_op(name, EXAMPLES[name] if values is None else values)
    drawn = op.sample_params(np.random.default_rng(seed), x)
    return op, op.apply(x, **drawn), drawn


def expected_shape(name: str, op: Op, x: np.ndarray, drawn: dict[str, Any]) -> tuple[int, ...]:
    h, w = x.shape[:2]
    v = op.values
    if name == "random_resized_crop" or name == "resize_to":
        h, w = v["height"], v["width"]
    elif name == "crop":
        h, w = min(h, v["height"]), min(w, v["width"])
    elif name == "pad":
        h, w = h + drawn["top"] + drawn["bottom"], w + drawn["left"] + drawn["right"]
    elif name == "resize":
        tw, th = v["width"], v["height"]
        h, w = (th or max(1, round(h * tw / w))), (tw or max(1, round(w * th / h)))
    channels = x.shape[2:]
    if name == "convert_mode":
        channels = () if v["mode"] == "L" else (3,)
    return (h, w, *channels)


# ---- the registry and the tables ---------------------------------------------------------------
def test_registry_has_the_image_ops_the_issue_asks_for():
    wanted = {
        "hflip", "vflip", "rotate", "affine", "perspective", "random_resized_crop", "crop", "pad", "resize",
        "brightness", "contrast", "saturation", "hue", "color_jitter", "gamma", "greyscale", "equalize",
        "autocontrast", "posterize", "solarize", "invert", "sharpen", "gaussian_blur", "motion_blur", "median_blur",
        "gaussian_noise", "salt_and_pepper", "jpeg_compression", "coarse_dropout", "elastic", "channel_shuffle",
        "flatten_alpha", "convert_mode", "resize_to",
    }
    assert wanted <= set(IMAGE_OPS)


def test_every_image_op_has_test_entries():
    """A new image op must be added to EXAMPLES and IDENTITY; a removed one must leave them."""
    assert sorted(set(IMAGE_OPS) - set(EXAMPLES)) == [], "image ops with no EXAMPLES entry"
    assert sorted(set(IMAGE_OPS) - set(IDENTITY)) == [], "image ops with no IDENTITY entry"
    assert sorted(set(EXAMPLES) - set(IMAGE_OPS)) == [], "EXAMPLES entries for ops that are not registered"
    assert sorted(set(IDENTITY) - set(IMAGE_OPS)) == [], "IDENTITY entries for ops that are not registered"


@pytest.mark.parametrize("name", IMAGE_OPS)
def test_declaration_is_complete(name: str):
    cls = registry()[name]
    assert cls.category and cls.help, "an op needs a category and help text for the palette"
    described = cls.describe()
    json.dumps(described, allow_nan=False)
    assert described["available"] is True
    for p in cls.params:
        assert p.help, f"{name}.{p.name} has no help text"
        p.validate(p.default, f"$.params.{p.name}")  # the default is valid


# ---- building and JSON -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", IMAGE_OPS)
def test_builds_with_defaults(name: str):
    op = build_op(name)
    assert op.values == registry()[name].params.defaults()


@pytest.mark.parametrize("name", IMAGE_OPS)
def test_builds_with_example_and_values_round_trip_through_json(name: str):
    op = build_op(name, EXAMPLES[name])
    text = json.dumps(op.values, allow_nan=False)
    again = build_op(name, json.loads(text))
    assert again.values == op.values
    for key, value in EXAMPLES[name].items():
        assert op.values[key] == value


@pytest.mark.parametrize("grey", [False, True], ids=["rgb", "grey"])
@pytest.mark.parametrize("name", IMAGE_OPS)
def test_drawn_params_round_trip_through_json(name: str, grey: bool):
    x = GREY if grey else RGB
    op, out, drawn = run(name, x, seed=11)
    loaded = json.loads(json.dumps(drawn, allow_nan=False))
    assert loaded == drawn
    assert np.array_equal(op.apply(x, **loaded), out)


@pytest.mark.parametrize("name", IMAGE_OPS)
def test_same_seed_same_output_and_the_input_is_never_written(name: str):
    x = RGB.copy()
    _, a, drawn_a = run(name, x, seed=5)
    _, b, drawn_b = run(name, x, seed=5)
    assert drawn_a == drawn_b
    assert np.array_equal(a, b)
    assert np.array_equal(x, RGB), "the op wrote into its input"


def test_random_ops_vary_with_the_seed():
    for name in IMAGE_OPS:
        cls = registry()[name]
        if cls.deterministic or name == "channel_shuffle":
            continue
        outputs = {run(name, RGB, seed=s)[1].tobytes() for s in range(4)}
        assert len(outputs) > 1, f"{name} gives the same output for every seed"


# ---- outputs are valid ----------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=[f"{h}x{w}" for h, w in SIZES])
@pytest.mark.parametrize("grey", [False, True], ids=["rgb", "grey"])
@pytest.mark.parametrize("name", IMAGE_OPS)
def test_output_is_a_valid_image(name: str, grey: bool, size: tuple[int, int]):
    x = photo(*size, grey=grey)
    for values in (EXAMPLES[name], {}):
        op, out, drawn = run(name, x, values, seed=3)
        assert isinstance(out, np.ndarray) and out.dtype == np.uint8
        assert out.shape == expected_shape(name, op, x, drawn), values
        assert out.flags.c_contiguous or out is x


@pytest.mark.parametrize("name", IMAGE_OPS)
def test_extreme_settings_do_not_crash(name: str):
    """Every numeric parameter at its declared minimum, then at its maximum."""
    cls = registry()[name]
    x = photo(23, 31)
    for end in ("low", "high"):
        values: dict[str, Any] = {}
        for p in cls.params:
            bound = getattr(p, end)
            if bound is None:
                continue
            if p.kind == "int":
                values[p.name] = int(bound) if name not in ("crop", "random_resized_crop", "resize", "resize_to") else 64
            elif p.kind == "float":
                values[p.name] = float(bound)
            elif p.kind in ("int_range", "float_range"):
                values[p.name] = [bound, bound]
        op = build_op(name, values)
        out = op.apply(x, **op.sample_params(np.random.default_rng(0), x))
        assert out.dtype == np.uint8 and out.size > 0


# ---- invalid parameters --------------------------------------------------------------------------------
def bad_values(p: Param) -> list[Any]:
    """Values a declaration must refuse."""
    out: list[Any] = ["nonsense", None, {"a": 1}]
    if p.kind in ("int", "float"):
        if p.low is not None:
            out.append(p.low - 1)
        if p.high is not None:
            out.append(p.high + 1)
        out.append(float("nan"))
        if p.kind == "int":
            out.append(1.5)
    elif p.kind in ("int_range", "float_range"):
        lo = p.low if p.low is not None else 0
        hi = p.high if p.high is not None else lo + 2
        out += [[hi, lo], [lo, hi, hi], [lo], ["a", "b"], [lo, float("inf")]]
        if p.low is not None:
            out.append([p.low - 1, hi])
        if p.high is not None:
            out.append([lo, p.high + 1])
        if p.kind == "int_range":
            out.append([lo + 0.5, hi])
    elif p.kind == "bool":
        out += [1, 0, "true"]
    elif p.kind == "choice":
        out += ["not-a-choice", True]
    elif p.kind == "color":
        out += [[0, 0, 256], [0, 0], [-1, 0, 0], [0.5, 0, 0], "red", [True, 0, 0]]
    return out


PARAM_CASES = [(name, p) for name in IMAGE_OPS for p in registry()[name].params]


@pytest.mark.parametrize(("name", "param"), PARAM_CASES, ids=[f"{n}.{p.name}" for n, p in PARAM_CASES])
def test_invalid_values_are_refused_with_the_field_path(name: str, param: Param):
    for bad in bad_values(param):
        if param.kind == "choice" and any(bad == c and isinstance(bad, bool) == isinstance(c, bool) for c in param.choices or ()):
            continue
        with pytest.raises(ParamError) as info:
            build_op(name, {param.name: bad}, path="$.steps[3]")
        assert info.value.path == f"$.steps[3].params.{param.name}", bad
        assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", IMAGE_OPS)
def test_unknown_parameter_is_refused(name: str):
    with pytest.raises(ParamError) as info:
        build_op(name, {"no_such_param": 1})
    assert info.value.path == "$.params.no_such_param"
    with pytest.raises(ParamError) as info:
        build_op(name, ["not", "an", "object"])  # type: ignore[arg-type]
    assert info.value.path == "$.params"


def test_cross_field_check_names_the_field():
    with pytest.raises(ParamError) as info:
        build_op("resize", {"width": 0, "height": 0})
    assert info.value.path == "$.params.width"


def test_low_above_high_message():
    with pytest.raises(ParamError, match="low 10.0 is above high -10.0") as info:
        build_op("rotate", {"angle": [10, -10]})
    assert info.value.path == "$.params.angle"


# ---- identity-ish settings --------------------------------------------------------------------------------
IDENTITY_CASES = sorted(name for name, v in IDENTITY.items() if v is not None and name in IMAGE_OPS)


@pytest.mark.parametrize("grey", [False, True], ids=["rgb", "grey"])
@pytest.mark.parametrize("name", IDENTITY_CASES)
def test_identity_settings_leave_the_image_unchanged(name: str, grey: bool):
    values = IDENTITY[name]
    assert values is not None
    for x in (GREY if grey else RGB, photo(1, 1, grey=grey), photo(5, 3, grey=grey)):
        for seed in range(3):
            _, out, _ = run(name, x, values, seed=seed)
            assert out.shape == x.shape and np.array_equal(out, x), f"{name} changed the image (seed {seed})"


def test_flips_twice_are_identity():
    for name in ("hflip", "vflip"):
        op = build_op(name)
        assert not np.array_equal(op.apply(RGB), RGB)
        assert np.array_equal(op.apply(op.apply(RGB)), RGB)


def test_random_resized_crop_of_the_whole_image():
    h, w = RGB.shape[:2]
    op = build_op("random_resized_crop", {"width": w, "height": h, "scale": [1, 1], "ratio": [w / h, w / h]})
    assert np.array_equal(op.apply(RGB, left=0, top=0, width=w, height=h), RGB)


def test_resize_to_the_same_size():
    h, w = RGB.shape[:2]
    for interpolation in ("bilinear", "nearest", "bicubic", "area"):
        assert np.array_equal(build_op("resize", {"width": w, "height": h, "interpolation": interpolation}).apply(RGB), RGB)


def test_greyscale_keeps_grey():
    op = build_op("greyscale")
    assert np.array_equal(op.apply(GREY), GREY)
    out = op.apply(RGB)
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])


def test_autocontrast_keeps_full_range():
    x = RGB.copy()
    x[0, 0], x[0, 1] = 0, 255
    assert np.array_equal(build_op("autocontrast").apply(x), x)
    stretched = build_op("autocontrast").apply(RGB // 2 + 40)
    assert stretched.min() == 0 and stretched.max() == 255


def test_channel_shuffle_identity_order():
    op = build_op("channel_shuffle")
    assert np.array_equal(op.apply(RGB, order=[0, 1, 2]), RGB)
    assert np.array_equal(op.apply(RGB, order=[2, 1, 0]), RGB[..., ::-1])


def test_convert_mode():
    assert np.array_equal(build_op("convert_mode", {"mode": "RGB"}).apply(RGB), RGB)
    assert np.array_equal(build_op("convert_mode", {"mode": "L"}).apply(GREY), GREY)
    assert build_op("convert_mode", {"mode": "RGB"}).apply(GREY).shape == (*GREY.shape, 3)
    assert build_op("convert_mode", {"mode": "L"}).apply(RGB).shape == GREY.shape


# ---- the values are right ------------------------------------------------------------------------------------
def reference_lut(x: np.ndarray, table_float: np.ndarray) -> np.ndarray:
    table = np.clip(np.floor(table_float + 0.5), 0, 255).astype(np.uint8)
    return table[x]


def test_value_maps_match_their_definitions():
    i = np.arange(256, dtype=np.float64)
    x = RGB
    assert np.array_equal(build_op("brightness").apply(x, delta=0.1), reference_lut(x, i + 25.5))
    assert np.array_equal(build_op("brightness").apply(x, delta=-0.5), reference_lut(x, i - 127.5))
    assert np.array_equal(build_op("gamma").apply(x, gamma=2.2), reference_lut(x, (i / 255) ** 2.2 * 255))
    assert np.array_equal(build_op("posterize").apply(x, bits=3), x & 0b11100000)
    assert np.array_equal(build_op("solarize").apply(x, threshold=100), np.where(x >= 100, 255 - x, x))
    assert np.array_equal(build_op("solarize").apply(x, threshold=0), 255 - x)
    assert np.array_equal(build_op("invert").apply(x), 255 - x)
    mean = float(np.mean(x[:: max(1, x.shape[0] // 256)].reshape(-1, 3), axis=0) @ [0.299, 0.587, 0.114])
    assert np.array_equal(build_op("contrast").apply(x, factor=1.7), reference_lut(x, (i - mean) * 1.7 + mean))


@pytest.mark.parametrize("backend", ["cv2"] + (["stringzilla"] if image_ops._stringzilla() else []))
def test_lookup_table_backends_agree(backend: str, monkeypatch: pytest.MonkeyPatch):
    if backend == "cv2":
        monkeypatch.setattr(image_ops, "_SZ", False)
    rng = np.random.default_rng(2)
    table = rng.integers(0, 256, 256, dtype=np.uint8)
    for x in (RGB, GREY, RGB[:, 3:40], photo(1, 1)):
        assert np.array_equal(image_ops._lut(x, table), table[x])
    tables = [rng.integers(0, 256, 256, dtype=np.uint8) for _ in range(3)]
    expected = np.stack([tables[c][RGB[..., c]] for c in range(3)], axis=-1)
    assert np.array_equal(image_ops._lut_channels(RGB, tables), expected)


def test_color_jitter_fused_tables_equal_step_by_step():
    """Brightness then contrast is applied as one composed table; it must equal two passes."""
    jitter = build_op("color_jitter")
    contrast = build_op("contrast")
    i = np.arange(256, dtype=np.float64)
    for x in (RGB, GREY, photo(700, 40)):
        fused = jitter.apply(x, brightness=1.3, contrast=0.6, saturation=1.0, hue=0.0, order=[0, 1, 2, 3])
        step = contrast.apply(reference_lut(x, i * 1.3), factor=0.6)
        assert np.array_equal(fused, step)


def test_gaussian_noise_statistics():
    x = np.full((256, 256, 3), 128, np.uint8)
    out = build_op("gaussian_noise").apply(x, std=0.05, seed=9)
    noise = out.astype(np.float64) - 128
    assert abs(noise.std() - 0.05 * 255) < 0.3 and abs(noise.mean()) < 0.3
    shared = build_op("gaussian_noise", {"per_channel": False}).apply(x, std=0.05, seed=9)
    assert np.array_equal(shared[..., 0], shared[..., 1]) and np.array_equal(shared[..., 0], shared[..., 2])


def test_salt_and_pepper_share():
    x = np.full((200, 200), 128, np.uint8)
    out = build_op("salt_and_pepper", {"salt": 0.25}).apply(x, amount=0.2, seed=1)
    hit = out != 128
    assert abs(hit.mean() - 0.2) < 0.02
    assert abs((out == 255).sum() / hit.sum() - 0.25) < 0.05


def test_coarse_dropout_fills_exactly_the_boxes():
    op = build_op("coarse_dropout", {"fill": [1, 2, 3]})
    out = op.apply(RGB, boxes=[[2, 3, 10, 7]])
    assert (out[3:7, 2:10] == [1, 2, 3]).all()
    mask = np.ones(RGB.shape[:2], bool)
    mask[3:7, 2:10] = False
    assert np.array_equal(out[mask], RGB[mask])


@pytest.mark.parametrize("shape", [(1, 1), (4, 1), (3, 5), (9, 11), (40, 33)])
def test_flatten_alpha_blends_exactly(shape: tuple[int, int]):
    rng = np.random.default_rng(4)
    bg = np.array([0, 128, 255])
    op = build_op("flatten_alpha", {"background": bg.tolist()})
    rgba = rng.integers(0, 256, (*shape, 4), dtype=np.uint8)
    a = rgba[..., 3:4].astype(np.int64)
    expected = np.floor((rgba[..., :3] * a + bg * (255 - a)) / 255 + 0.5)
    out = op.apply(rgba)
    assert out.shape == (*shape, 3) and out.dtype == np.uint8 and np.array_equal(out, expected)
    la = rgba[..., 1::2]
    grey = round(float(bg @ [0.299, 0.587, 0.114]))
    a = la[..., 1].astype(np.int64)
    expected = np.floor((la[..., 0] * a + grey * (255 - a)) / 255 + 0.5)
    out = op.apply(np.ascontiguousarray(la))
    assert out.shape == shape and np.array_equal(out, expected)
    opaque = rgba.copy()
    opaque[..., 3] = 255
    assert np.array_equal(op.apply(opaque), rgba[..., :3])


def test_geometry_keeps_content_where_it_should():
    # a rotation by 90 degrees of a square image about its centre is exact
    sq = photo(33, 33)
    out = build_op("rotate").apply(sq, angle=90.0)
    assert np.array_equal(out, np.rot90(sq))
    crop = build_op("crop", {"width": 10, "height": 5}).apply(RGB, left=3, top=4)
    assert np.array_equal(crop, RGB[4:9, 3:13])


# ---- another interpreter gives the same bytes ---------------------------------------------------------------
CHILD = r"""
import hashlib, json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from test_image_ops import EXAMPLES, output_digest
print(json.dumps({name: output_digest(name, EXAMPLES[name]) for name in json.loads(sys.argv[2])}))
"""


def policy_for(name: str, values: dict[str, Any]) -> dict[str, Any]:
    step = {"op": name, "params": values}
    if registry()[name].preprocess:
        return {"schema_version": 1, "modality": "image", "preprocess": [step], "steps": []}
    return {"schema_version": 1, "modality": "image", "steps": [step]}


def output_digest(name: str, values: dict[str, Any]) -> str:
    """SHA-256 of the output of a one-step policy on RGB, grey and RGBA inputs, seeds 0-2."""
    from genaug_desktop.core.policy import Policy

    policy = Policy.from_json(policy_for(name, values))
    rgba = np.dstack([RGB, GREY])
    digest = hashlib.sha256()
    for x in (RGB, GREY, rgba):
        for seed in range(3):
            out, chain = policy.apply(x, seed)
            digest.update(repr((out.shape, json.dumps(chain, sort_keys=True))).encode())
            digest.update(np.ascontiguousarray(out).tobytes())
    return digest.hexdigest()


def test_same_policy_and_seed_give_identical_bytes_in_another_interpreter():
    here = {name: output_digest(name, EXAMPLES[name]) for name in IMAGE_OPS}
    env = dict(os.environ, PYTHONHASHSEED="12345")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, os.path.dirname(__file__), json.dumps(IMAGE_OPS)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    there = json.loads(proc.stdout.strip().splitlines()[-1])
    differ = sorted(name for name in IMAGE_OPS if here[name] != there[name])
    assert differ == [], f"outputs differ in another interpreter for: {differ}"
