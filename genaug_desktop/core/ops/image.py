"""Image ops on numpy uint8 arrays: (H, W, 3) RGB or (H, W) greyscale.

OpenCV does the pixel work. Where it matters the ops take OpenCV's fast paths, and the reasons
are measured (``benchmarks/bench_image_ops.py``):

- Per-value maps (gamma, contrast, ...) are 256-entry lookup tables. ``cv2.LUT`` is a scalar loop
  (~1 byte per cycle); when the small ``stringzilla`` package is importable its SIMD byte
  translation does the same lookup about 8x faster. Both give identical bytes, so the output
  never depends on which one ran. Maps that are plain saturating arithmetic (brightness,
  posterize, solarize) use OpenCV's vectorised add / bitwise ops instead of any table.
- Warps and remaps of RGB images run on RGBA: OpenCV's vectorised bilinear warp handles 4
  channels about twice as fast as 3, which pays for the two channel conversions many times.
- Gaussian noise comes from OpenCV's ziggurat generator (several times faster than numpy's
  normal draws), seeded from the drawn seed under a lock, so it is reproducible.

Each op draws in ``sample_params`` and applies deterministically in ``apply``; noise-like ops
draw a seed and regenerate the same noise from it. An op never writes into its input array; it
may return the input itself when the drawn values change nothing.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from genaug_desktop.core.ops.base import Op
from genaug_desktop.core.params import Param, ParamError, integers, params, uniform

_BORDERS = ("reflect", "constant", "replicate")
_INTERP = ("bilinear", "nearest", "bicubic", "area")

#: OpenCV's random generator is per-thread state; the lock keeps seed-then-draw atomic anyway.
_CV_RNG_LOCK = threading.Lock()
#: the stringzilla module when it is importable (fast LUTs), False when not, None before the first look
_SZ: Any = None


def _cv2() -> Any:
    import cv2

    return cv2


def _border(name: str) -> int:
    cv2 = _cv2()
    return {"reflect": cv2.BORDER_REFLECT_101, "constant": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}[name]


def _interp(name: str) -> int:
    cv2 = _cv2()
    return {
        "bilinear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST, "bicubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA,
    }[name]


def _fill(x: np.ndarray, color: list[int]) -> tuple[int, ...]:
    if x.ndim == 2:
        r, g, b = color
        return (int(round(0.299 * r + 0.587 * g + 0.114 * b)),) * 4
    return tuple(int(c) for c in color) + (0,)


def _is_grey(x: np.ndarray) -> bool:
    return x.ndim == 2 or x.shape[2] == 1


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _flat(x: np.ndarray) -> np.ndarray:
    """A single-channel 2-D view (copy only if not contiguous), so OpenCV scalars hit every channel."""
    return np.ascontiguousarray(x).reshape(x.shape[0], -1)


#: below this many values an array + scalar call is done in numpy: OpenCV's Python binding takes a
#: 1x1 or 4x1 array for a scalar itself and returns the wrong shape (or fails)
_TINY = 64


# ---- lookup tables ------------------------------------------------------------------------------
_IDENTITY = np.arange(256, dtype=np.float64)


def _table(values: np.ndarray) -> np.ndarray:
    """Round half up and clip a 256-entry float map to a uint8 table."""
    return np.clip(np.floor(values + 0.5), 0, 255).astype(np.uint8)


def _stringzilla() -> Any:
    global _SZ
    if _SZ is None:
        try:
            import stringzilla

            _SZ = stringzilla if hasattr(stringzilla, "translate") else False
        except ImportError:
            _SZ = False
    return _SZ


def _lut(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Map every value of ``x`` through a uint8 table (a float map is rounded with :func:`_table`)."""
    if table.dtype != np.uint8:
        table = _table(table)
    sz = _stringzilla()
    if sz:
        src = np.ascontiguousarray(x)
        out = np.empty_like(src)
        try:
            sz.translate(memoryview(src), memoryview(table), out=memoryview(out))
        except TypeError:  # stringzilla before 4 has no ``out``
            out[...] = src
            sz.translate(memoryview(out), memoryview(table), inplace=True)
        return out
    return _cv2().LUT(x, table)


def _lut_channels(x: np.ndarray, tables: list[np.ndarray]) -> np.ndarray:
    """One uint8 table per channel."""
    if len(tables) == 1 or all(np.array_equal(tables[0], t) for t in tables[1:]):
        return _lut(x, tables[0])
    cv2 = _cv2()
    if _stringzilla():
        return cv2.merge([_lut(c, t) for c, t in zip(cv2.split(x), tables)])
    return cv2.LUT(x, np.stack(tables, axis=-1).reshape(256, 1, len(tables)))


def _grey_mean(x: np.ndarray) -> float:
    """Mean grey level; large images are sampled every few rows (at least 256 rows are read)."""
    step = max(1, x.shape[0] // 256)
    m = _cv2().mean(x[::step])
    return float(m[0]) if _is_grey(x) else 0.299 * m[0] + 0.587 * m[1] + 0.114 * m[2]


# ---- warps on RGBA --------------------------------------------------------------------------------
def _via_rgba(x: np.ndarray, warp: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Run a warp/remap on RGBA: OpenCV vectorises 4-channel resampling far better than 3-channel."""
    if x.ndim == 3 and x.shape[2] == 3:
        cv2 = _cv2()
        return cv2.cvtColor(warp(cv2.cvtColor(x, cv2.COLOR_RGB2RGBA)), cv2.COLOR_RGBA2RGB)
    return warp(x)


class ImageOp(Op):
    modality = "image"


# ---- geometry ------------------------------------------------------------------------------------
class HorizontalFlip(ImageOp):
    name = "hflip"
    category = "Geometry"
    help = "Mirror left to right."
    deterministic = True

    def apply(self, x: np.ndarray, **_: Any) -> np.ndarray:
        return _cv2().flip(x, 1)


class VerticalFlip(ImageOp):
    name = "vflip"
    category = "Geometry"
    help = "Mirror top to bottom."
    deterministic = True

    def apply(self, x: np.ndarray, **_: Any) -> np.ndarray:
        return _cv2().flip(x, 0)


_BORDER_PARAMS = (
    Param("border", "choice", "reflect", "How to fill pixels that come from outside the image", choices=_BORDERS),
    Param("fill", "color", [0, 0, 0], "Fill colour for the 'constant' border"),
    Param("interpolation", "choice", "bilinear", "Resampling", choices=_INTERP),
)


def _warp_affine(x: np.ndarray, matrix: np.ndarray, values: dict[str, Any]) -> np.ndarray:
    cv2 = _cv2()
    h, w = x.shape[:2]
    flags, border, fill = _interp(values["interpolation"]), _border(values["border"]), _fill(x, values["fill"])
    return _via_rgba(x, lambda src: cv2.warpAffine(src, matrix, (w, h), flags=flags, borderMode=border, borderValue=fill))


class Rotate(ImageOp):
    name = "rotate"
    category = "Geometry"
    help = "Rotate about the centre by a random angle (degrees, counter-clockwise)."
    params = params(
        Param("angle", "float_range", [-15.0, 15.0], "Angle range in degrees", low=-180, high=180, step=1),
        *_BORDER_PARAMS,
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"angle": uniform(rng, self.values["angle"])}

    def apply(self, x: np.ndarray, angle: float = 0.0, **_: Any) -> np.ndarray:
        h, w = x.shape[:2]
        m = _cv2().getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
        return _warp_affine(x, m, self.values)


class Affine(ImageOp):
    name = "affine"
    category = "Geometry"
    help = "Scale, translate, rotate and shear in one warp."
    params = params(
        Param("scale", "float_range", [0.9, 1.1], "Zoom factor range", low=0.1, high=4.0, step=0.01),
        Param("translate", "float_range", [-0.1, 0.1], "Shift as a fraction of width/height", low=-1.0, high=1.0, step=0.01),
        Param("rotate", "float_range", [0.0, 0.0], "Rotation range in degrees", low=-180, high=180, step=1),
        Param("shear", "float_range", [-10.0, 10.0], "Shear range in degrees", low=-45, high=45, step=1),
        *_BORDER_PARAMS,
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        v = self.values
        return {
            "scale": uniform(rng, v["scale"]), "tx": uniform(rng, v["translate"]), "ty": uniform(rng, v["translate"]),
            "angle": uniform(rng, v["rotate"]), "shear_x": uniform(rng, v["shear"]), "shear_y": uniform(rng, v["shear"]),
        }

    def apply(self, x: np.ndarray, scale: float = 1.0, tx: float = 0.0, ty: float = 0.0, angle: float = 0.0,
              shear_x: float = 0.0, shear_y: float = 0.0, **_: Any) -> np.ndarray:
        h, w = x.shape[:2]
        cx, cy = (w - 1) / 2, (h - 1) / 2
        # translate(centre + shift) @ rotate @ shear_x @ shear_y @ scale @ translate(-centre), written
        # out (at small sizes numpy's 3x3 products cost more than the warp). Two one-axis shears
        # have determinant 1, so the warp is invertible for every allowed setting; a single
        # [[1, kx], [ky, 1]] matrix is singular at kx = ky = 1 and made OpenCV hang on NaN.
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        kx, ky = math.tan(math.radians(shear_x)), math.tan(math.radians(shear_y))
        a11, a12 = scale * (c * (1 + kx * ky) + s * ky), scale * (c * kx + s)
        a21, a22 = scale * (-s * (1 + kx * ky) + c * ky), scale * (-s * kx + c)
        m = np.array([
            [a11, a12, cx + tx * w - a11 * cx - a12 * cy],
            [a21, a22, cy + ty * h - a21 * cx - a22 * cy],
        ])
        return _warp_affine(x, m, self.values)


class Perspective(ImageOp):
    name = "perspective"
    category = "Geometry"
    help = "Move the four corners randomly: a change of viewpoint."
    params = params(
        Param("scale", "float_range", [0.02, 0.08], "Corner shift as a fraction of the size", low=0.0, high=0.5, step=0.01),
        *_BORDER_PARAMS,
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        lo, hi = self.values["scale"]
        return {"corners": [float(v) for v in rng.uniform(lo, hi, size=8) * rng.choice([-1.0, 1.0], size=8)]}

    def apply(self, x: np.ndarray, corners: list[float] | None = None, **_: Any) -> np.ndarray:
        cv2 = _cv2()
        h, w = x.shape[:2]
        if corners is None:
            return x
        d = np.asarray(corners, dtype=np.float32).reshape(4, 2) * np.array([w, h], dtype=np.float32)
        src = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
        # Corners move inwards or outwards (positive values move towards the centre).
        dst = src + d * np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float32)
        if not _convex(dst):
            # Large shifts on a tiny image can fold the quadrilateral; its homography sends
            # pixels to infinity (and OpenCV's border handling into a near-endless loop).
            return x
        m = cv2.getPerspectiveTransform(src, dst)
        if not np.isfinite(m).all():
            return x
        v = self.values
        flags, border, fill = _interp(v["interpolation"]), _border(v["border"]), _fill(x, v["fill"])
        return _via_rgba(x, lambda s: cv2.warpPerspective(s, m, (w, h), flags=flags, borderMode=border, borderValue=fill))


def _convex(quad: np.ndarray) -> bool:
    """Whether four points, in order, make a strictly convex quadrilateral."""
    q = quad.astype(np.float64)
    edges = np.roll(q, -1, axis=0) - q
    cross = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    return bool((cross > 1e-9).all() or (cross < -1e-9).all())


class RandomResizedCrop(ImageOp):
    name = "random_resized_crop"
    category = "Geometry"
    help = "Crop a random area and aspect, then resize to a fixed size (the classic training crop)."
    params = params(
        Param("width", "int", 224, "Output width", low=1, high=8192),
        Param("height", "int", 224, "Output height", low=1, high=8192),
        Param("scale", "float_range", [0.5, 1.0], "Area of the crop as a fraction of the image", low=0.01, high=1.0, step=0.01),
        Param("ratio", "float_range", [0.75, 1.3333], "Aspect ratio range of the crop", low=0.1, high=10.0, step=0.01),
        Param("interpolation", "choice", "bilinear", "Resampling", choices=_INTERP),
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        h, w = x.shape[:2]
        area = h * w
        lo, hi = self.values["ratio"]
        for _ in range(10):
            target = uniform(rng, self.values["scale"]) * area
            ratio = math.exp(uniform(rng, [math.log(lo), math.log(hi)]))
            cw = int(round(math.sqrt(target * ratio)))
            ch = int(round(math.sqrt(target / ratio)))
            if 0 < cw <= w and 0 < ch <= h:
                return {"left": integers(rng, [0, w - cw]), "top": integers(rng, [0, h - ch]), "width": cw, "height": ch}
        side = min(h, w)  # fall back to a centre crop
        return {"left": (w - side) // 2, "top": (h - side) // 2, "width": side, "height": side}

    def apply(self, x: np.ndarray, left: int = 0, top: int = 0, width: int | None = None, height: int | None = None,
              **_: Any) -> np.ndarray:
        cw = x.shape[1] if width is None else width
        ch = x.shape[0] if height is None else height
        crop = x[top : top + ch, left : left + cw]
        return _cv2().resize(crop, (self.values["width"], self.values["height"]), interpolation=_interp(self.values["interpolation"]))


class Crop(ImageOp):
    name = "crop"
    category = "Geometry"
    help = "Cut a fixed-size window, at the centre or at a random place (smaller images are kept whole)."
    params = params(
        Param("width", "int", 224, "Crop width", low=1, high=8192),
        Param("height", "int", 224, "Crop height", low=1, high=8192),
        Param("position", "choice", "random", "Where the window is", choices=("random", "center")),
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        h, w = x.shape[:2]
        cw, ch = min(w, self.values["width"]), min(h, self.values["height"])
        if self.values["position"] == "center":
            return {"left": (w - cw) // 2, "top": (h - ch) // 2}
        return {"left": integers(rng, [0, w - cw]), "top": integers(rng, [0, h - ch])}

    def apply(self, x: np.ndarray, left: int = 0, top: int = 0, **_: Any) -> np.ndarray:
        return np.ascontiguousarray(x[top : top + self.values["height"], left : left + self.values["width"]])


class Pad(ImageOp):
    name = "pad"
    category = "Geometry"
    help = "Add a random border on each side."
    params = params(
        Param("pixels", "int_range", [0, 16], "Border width range per side, in pixels", low=0, high=2048),
        Param("border", "choice", "constant", "How the border is filled", choices=_BORDERS),
        Param("fill", "color", [0, 0, 0], "Fill colour for the 'constant' border"),
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        p = self.values["pixels"]
        return {side: integers(rng, p) for side in ("top", "bottom", "left", "right")}

    def apply(self, x: np.ndarray, top: int = 0, bottom: int = 0, left: int = 0, right: int = 0, **_: Any) -> np.ndarray:
        return _cv2().copyMakeBorder(
            x, top, bottom, left, right, _border(self.values["border"]), value=_fill(x, self.values["fill"])
        )


class Resize(ImageOp):
    name = "resize"
    category = "Geometry"
    help = "Resize to a fixed size (0 for one side keeps the aspect ratio)."
    deterministic = True
    params = params(
        Param("width", "int", 256, "Output width (0: from height and aspect)", low=0, high=8192),
        Param("height", "int", 256, "Output height (0: from width and aspect)", low=0, high=8192),
        Param("interpolation", "choice", "area", "Resampling (area is best for shrinking)", choices=_INTERP),
    )

    def check(self, path: str) -> None:
        if self.values["width"] == 0 and self.values["height"] == 0:
            raise ParamError(f"{path}.width", "width and height cannot both be 0")

    def apply(self, x: np.ndarray, **_: Any) -> np.ndarray:
        h, w = x.shape[:2]
        tw, th = self.values["width"], self.values["height"]
        if tw == 0:
            tw = max(1, round(w * th / h))
        if th == 0:
            th = max(1, round(h * tw / w))
        return _cv2().resize(x, (tw, th), interpolation=_interp(self.values["interpolation"]))


# ---- colour -------------------------------------------------------------------------------------
def _add(x: np.ndarray, amount: int) -> np.ndarray:
    """Saturating ``x + amount`` on every channel."""
    if amount == 0:
        return x
    if x.size < _TINY:
        return np.clip(x.astype(np.int16) + amount, 0, 255).astype(np.uint8)
    cv2 = _cv2()
    # a negative scalar would push OpenCV off its uint8 fast path (to a wider type, ~10x slower)
    if amount > 0:
        return cv2.add(_flat(x), float(amount)).reshape(x.shape)
    return cv2.subtract(_flat(x), float(-amount)).reshape(x.shape)


class Brightness(ImageOp):
    name = "brightness"
    category = "Colour"
    help = "Add a random amount of light (a fraction of full white)."
    params = params(Param("delta", "float_range", [-0.2, 0.2], "Brightness shift range", low=-1.0, high=1.0, step=0.01))

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"delta": uniform(rng, self.values["delta"])}

    def apply(self, x: np.ndarray, delta: float = 0.0, **_: Any) -> np.ndarray:
        # The same as a table of round(v + delta * 255), but one vectorised saturating add.
        return _add(x, math.floor(delta * 255.0 + 0.5))


def _contrast_table(mean: float, factor: float) -> np.ndarray:
    return _table((_IDENTITY - mean) * factor + mean)


class Contrast(ImageOp):
    name = "contrast"
    category = "Colour"
    help = "Stretch or squeeze values around the image's mean grey level."
    params = params(Param("factor", "float_range", [0.8, 1.2], "Contrast factor range (1 = unchanged)", low=0.0, high=5.0, step=0.01))

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"factor": uniform(rng, self.values["factor"])}

    def apply(self, x: np.ndarray, factor: float = 1.0, **_: Any) -> np.ndarray:
        if factor == 1.0:
            return x
        return _lut(x, _contrast_table(_grey_mean(x), factor))


_IDENTITY_U8 = np.arange(256, dtype=np.uint8)
_LUMA = np.array([0.299, 0.587, 0.114])


def _saturate(x: np.ndarray, factor: float) -> np.ndarray:
    """Blend each pixel with its grey value: one 3x3 colour matrix, one pass."""
    if _is_grey(x) or factor == 1.0:
        return x
    m = factor * np.eye(3) + (1.0 - factor) * np.outer(np.ones(3), _LUMA)
    return _cv2().transform(x, m.astype(np.float32))


class Saturation(ImageOp):
    name = "saturation"
    category = "Colour"
    help = "Make colours more or less vivid (0 = grey)."
    params = params(Param("factor", "float_range", [0.8, 1.2], "Saturation factor range", low=0.0, high=5.0, step=0.01))

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"factor": uniform(rng, self.values["factor"])}

    def apply(self, x: np.ndarray, factor: float = 1.0, **_: Any) -> np.ndarray:
        return _saturate(x, factor)


def _shift_hue(x: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate the HSV hue; OpenCV's full-range HSV keeps hue in 0..255, so the shift wraps mod 256."""
    if _is_grey(x):
        return x
    steps = math.floor(degrees * 256.0 / 360.0 + 0.5) % 256
    if steps == 0:
        return x
    cv2 = _cv2()
    h, sat, val = cv2.split(cv2.cvtColor(x, cv2.COLOR_RGB2HSV_FULL))  # split + merge beat extract + insert
    h = _lut(h, ((np.arange(256) + steps) % 256).astype(np.uint8))
    return cv2.cvtColor(cv2.merge([h, sat, val]), cv2.COLOR_HSV2RGB_FULL)


class Hue(ImageOp):
    name = "hue"
    category = "Colour"
    help = "Rotate colours around the colour wheel (degrees)."
    params = params(Param("shift", "float_range", [-10.0, 10.0], "Hue shift range in degrees", low=-180, high=180, step=1))

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"shift": uniform(rng, self.values["shift"])}

    def apply(self, x: np.ndarray, shift: float = 0.0, **_: Any) -> np.ndarray:
        return _shift_hue(x, shift)


class ColorJitter(ImageOp):
    name = "color_jitter"
    category = "Colour"
    help = "Brightness, contrast, saturation and hue together, in a random order."
    params = params(
        Param("brightness", "float_range", [0.8, 1.2], "Brightness factor range", low=0.0, high=5.0, step=0.01),
        Param("contrast", "float_range", [0.8, 1.2], "Contrast factor range", low=0.0, high=5.0, step=0.01),
        Param("saturation", "float_range", [0.8, 1.2], "Saturation factor range", low=0.0, high=5.0, step=0.01),
        Param("hue", "float_range", [-10.0, 10.0], "Hue shift range in degrees", low=-180, high=180, step=1),
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        v = self.values
        return {
            "brightness": uniform(rng, v["brightness"]), "contrast": uniform(rng, v["contrast"]),
            "saturation": uniform(rng, v["saturation"]), "hue": uniform(rng, v["hue"]),
            "order": [int(i) for i in rng.permutation(4)],
        }

    def apply(self, x: np.ndarray, brightness: float = 1.0, contrast: float = 1.0, saturation: float = 1.0,
              hue: float = 0.0, order: list[int] | None = None, **_: Any) -> np.ndarray:
        # Brightness and contrast are value maps: when they follow each other their tables are
        # composed and applied once. Composing uint8 tables is exact, and the contrast mean is
        # taken from the sampled rows with the pending table applied, so the result is the same
        # as applying the steps one by one.
        pending: np.ndarray | None = None
        for step in order or [0, 1, 2, 3]:
            if step == 0 and brightness != 1.0:
                table = _table(_IDENTITY * brightness)
                pending = table if pending is None else table[pending]
            elif step == 1 and contrast != 1.0:
                sample = x[:: max(1, x.shape[0] // 256)]
                if pending is not None:
                    sample = _lut(sample, pending)
                table = _contrast_table(_grey_mean(sample), contrast)
                pending = table if pending is None else table[pending]
            elif step in (2, 3):
                if pending is not None:
                    x, pending = _lut(x, pending), None
                x = _saturate(x, saturation) if step == 2 else _shift_hue(x, hue)
        return x if pending is None else _lut(x, pending)


class Gamma(ImageOp):
    name = "gamma"
    category = "Colour"
    help = "Gamma curve: below 1 brightens shadows, above 1 darkens them."
    params = params(Param("gamma", "float_range", [0.8, 1.2], "Gamma range", low=0.05, high=10.0, step=0.01))

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"gamma": uniform(rng, self.values["gamma"])}

    def apply(self, x: np.ndarray, gamma: float = 1.0, **_: Any) -> np.ndarray:
        if gamma == 1.0:
            return x
        return _lut(x, np.power(_IDENTITY / 255.0, gamma) * 255.0)


class Greyscale(ImageOp):
    name = "greyscale"
    category = "Colour"
    help = "Remove colour (keeps three channels, so later ops and exports see the same shape)."
    deterministic = True

    def apply(self, x: np.ndarray, **_: Any) -> np.ndarray:
        if _is_grey(x):
            return x
        cv2 = _cv2()
        return cv2.cvtColor(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


class Equalize(ImageOp):
    name = "equalize"
    category = "Colour"
    help = "Histogram equalisation (per channel, or on brightness only)."
    deterministic = True
    params = params(Param("by_channels", "bool", True, "Equalise R, G and B separately (else only brightness)"))

    def apply(self, x: np.ndarray, **_: Any) -> np.ndarray:
        cv2 = _cv2()
        if _is_grey(x):
            return cv2.equalizeHist(x)
        if self.values["by_channels"]:
            return cv2.merge([cv2.equalizeHist(c) for c in cv2.split(x)])
        ycc = cv2.cvtColor(x, cv2.COLOR_RGB2YCrCb)
        ycc[..., 0] = cv2.equalizeHist(np.ascontiguousarray(ycc[..., 0]))
        return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


class AutoContrast(ImageOp):
    name = "autocontrast"
    category = "Colour"
    help = "Stretch each channel so its darkest value is black and its brightest is white."
    deterministic = True
    params = params(Param("cutoff", "float", 0.0, "Percent of darkest/brightest pixels to ignore", low=0.0, high=49.0, step=0.5))

    def apply(self, x: np.ndarray, **_: Any) -> np.ndarray:
        cv2 = _cv2()
        cutoff = self.values["cutoff"]
        tables = []
        for c in range(1 if _is_grey(x) else x.shape[2]):
            hist = cv2.calcHist([x], [c], None, [256], [0, 256]).ravel()
            cdf = np.cumsum(hist)
            total = cdf[-1]
            lo = int(np.searchsorted(cdf, total * cutoff / 100.0, side="right"))
            hi = int(np.searchsorted(cdf, total * (1 - cutoff / 100.0), side="left"))
            identity = hi <= lo or (lo == 0 and hi == 255)
            tables.append(_table(_IDENTITY if identity else (_IDENTITY - lo) * (255.0 / (hi - lo))))
        if all(np.array_equal(t, _IDENTITY_U8) for t in tables):
            return x
        return _lut_channels(x, tables)


class Posterize(ImageOp):
    name = "posterize"
    category = "Colour"
    help = "Keep only the top bits of each value (fewer colour levels)."
    params = params(Param("bits", "int_range", [4, 8], "Bits kept per channel", low=1, high=8))

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"bits": integers(rng, self.values["bits"])}

    def apply(self, x: np.ndarray, bits: int = 8, **_: Any) -> np.ndarray:
        if bits >= 8:
            return x
        mask = (0xFF << (8 - bits)) & 0xFF
        if x.size < _TINY:
            return x & np.uint8(mask)
        return _cv2().bitwise_and(_flat(x), float(mask)).reshape(x.shape)


class Solarize(ImageOp):
    name = "solarize"
    category = "Colour"
    help = "Invert every value above a threshold."
    params = params(Param("threshold", "int_range", [128, 128], "Threshold range (0-255)", low=0, high=255))

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"threshold": integers(rng, self.values["threshold"])}

    def apply(self, x: np.ndarray, threshold: int = 128, **_: Any) -> np.ndarray:
        # 255 - v == v XOR 255 for bytes: a threshold makes the XOR mask, one more pass applies it.
        if x.size < _TINY:
            return np.where(x >= threshold, 255 - x, x)
        cv2 = _cv2()
        flat = _flat(x)
        _, mask = cv2.threshold(flat, threshold - 1, 255, cv2.THRESH_BINARY)
        return cv2.bitwise_xor(flat, mask, dst=mask).reshape(x.shape)


class Invert(ImageOp):
    name = "invert"
    category = "Colour"
    help = "Negative image."
    deterministic = True

    def apply(self, x: np.ndarray, **_: Any) -> np.ndarray:
        return _cv2().bitwise_not(x)


class ChannelShuffle(ImageOp):
    name = "channel_shuffle"
    category = "Colour"
    help = "Swap the R, G and B channels in a random order."

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"order": [int(i) for i in rng.permutation(3)]}

    def apply(self, x: np.ndarray, order: list[int] | None = None, **_: Any) -> np.ndarray:
        if _is_grey(x) or not order or order == [0, 1, 2]:
            return x
        cv2 = _cv2()
        c = cv2.split(x)
        return cv2.merge([c[i] for i in order])


# ---- blur and sharpness ------------------------------------------------------------------------------
class Sharpen(ImageOp):
    name = "sharpen"
    category = "Blur and sharpness"
    help = "Unsharp-style sharpening blended with the original."
    params = params(
        Param("alpha", "float_range", [0.2, 0.5], "Blend of the sharpened image (0 = none)", low=0.0, high=1.0, step=0.01),
        Param("lightness", "float_range", [0.5, 1.0], "Lightness of the sharpened image", low=0.0, high=5.0, step=0.01),
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"alpha": uniform(rng, self.values["alpha"]), "lightness": uniform(rng, self.values["lightness"])}

    def apply(self, x: np.ndarray, alpha: float = 0.0, lightness: float = 1.0, **_: Any) -> np.ndarray:
        identity = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32)
        sharp = np.array([[-1, -1, -1], [-1, 8 + lightness, -1], [-1, -1, -1]], dtype=np.float32)
        kernel = (1 - alpha) * identity + alpha * sharp
        return _cv2().filter2D(x, -1, kernel, borderType=_border("reflect"))


class GaussianBlur(ImageOp):
    name = "gaussian_blur"
    category = "Blur and sharpness"
    help = "Gaussian blur with a random radius (sigma, pixels)."
    params = params(Param("sigma", "float_range", [0.5, 1.5], "Sigma range in pixels", low=0.05, high=50.0, step=0.05))

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"sigma": uniform(rng, self.values["sigma"])}

    def apply(self, x: np.ndarray, sigma: float = 1.0, **_: Any) -> np.ndarray:
        k = max(3, int(sigma * 3.5) * 2 + 1)  # Pillow's (and Albumentations') kernel size for a sigma
        return _cv2().GaussianBlur(x, (k, k), sigmaX=sigma, sigmaY=sigma, borderType=_border("reflect"))


class MotionBlur(ImageOp):
    name = "motion_blur"
    category = "Blur and sharpness"
    help = "Blur along a random direction, like a moving camera."
    params = params(Param("kernel", "int_range", [3, 9], "Streak length range in pixels", low=3, high=101))

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        lo, hi = self.values["kernel"]
        odd = list(range(lo | 1, hi + 1, 2)) or [lo | 1]  # kernels are odd; each odd size equally likely
        return {"kernel": odd[integers(rng, [0, len(odd) - 1])], "angle": uniform(rng, [0.0, 180.0])}

    def apply(self, x: np.ndarray, kernel: int = 3, angle: float = 0.0, **_: Any) -> np.ndarray:
        cv2 = _cv2()
        k = np.zeros((kernel, kernel), dtype=np.float32)
        c = (kernel - 1) / 2
        dx, dy = math.cos(math.radians(angle)) * c, math.sin(math.radians(angle)) * c
        cv2.line(k, (int(round(c - dx)), int(round(c - dy))), (int(round(c + dx)), int(round(c + dy))), 1.0, 1)
        k /= max(k.sum(), 1e-6)
        return cv2.filter2D(x, -1, k, borderType=_border("reflect"))


class MedianBlur(ImageOp):
    name = "median_blur"
    category = "Blur and sharpness"
    help = "Median filter: smooths while keeping edges."
    deterministic = True
    params = params(Param("kernel", "choice", 3, "Window size", choices=(3, 5, 7)))

    def apply(self, x: np.ndarray, **_: Any) -> np.ndarray:
        return _cv2().medianBlur(x, self.values["kernel"])


# ---- noise and quality --------------------------------------------------------------------------------
def _normal(shape: tuple[int, ...], std: float, seed: int) -> np.ndarray:
    """Gaussian float32 noise, a pure function of (shape, std, seed).

    OpenCV's ziggurat draws about 3x faster than numpy's ``standard_normal``. Its generator is
    per-thread state; seeding and drawing happen under one lock, so nothing can draw in between.
    """
    cv2 = _cv2()
    noise = np.empty(shape, dtype=np.float32)
    with _CV_RNG_LOCK:
        cv2.setRNGSeed(int(seed))
        # one channel, so the mean/std scalars apply to every value
        cv2.randn(noise.reshape(shape[0], -1), 0.0, float(std))
    return noise


class GaussianNoise(ImageOp):
    name = "gaussian_noise"
    category = "Noise and quality"
    help = "Add Gaussian noise (standard deviation as a fraction of full scale)."
    params = params(
        Param("std", "float_range", [0.02, 0.08], "Noise standard deviation range", low=0.0, high=1.0, step=0.005),
        Param("per_channel", "bool", True, "Independent noise per channel (else the same on R, G, B)"),
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"std": uniform(rng, self.values["std"]), "seed": _seed(rng)}

    def apply(self, x: np.ndarray, std: float = 0.0, seed: int = 0, **_: Any) -> np.ndarray:
        if std <= 0:
            return x
        cv2 = _cv2()
        shape = x.shape if (self.values["per_channel"] or _is_grey(x)) else x.shape[:2]
        noise = _normal(shape, std * 255.0, seed)
        if noise.shape != x.shape:
            noise = cv2.merge([noise] * x.shape[2])
        # uint8 + float32 -> uint8: rounded and saturated in one vectorised pass
        return cv2.add(x, noise, dtype=cv2.CV_8U)


class SaltAndPepper(ImageOp):
    name = "salt_and_pepper"
    category = "Noise and quality"
    help = "Set a random share of pixels to white or black."
    params = params(
        Param("amount", "float_range", [0.01, 0.05], "Share of pixels hit", low=0.0, high=1.0, step=0.005),
        Param("salt", "float", 0.5, "Share of hit pixels that become white", low=0.0, high=1.0, step=0.05),
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"amount": uniform(rng, self.values["amount"]), "seed": _seed(rng)}

    def apply(self, x: np.ndarray, amount: float = 0.0, seed: int = 0, **_: Any) -> np.ndarray:
        gen = np.random.default_rng(seed)
        u = gen.random(x.shape[:2], dtype=np.float32)
        out = x.copy()
        salt = amount * self.values["salt"]
        out[u < salt] = 255
        out[(u >= salt) & (u < amount)] = 0
        return out


class JpegCompression(ImageOp):
    name = "jpeg_compression"
    category = "Noise and quality"
    help = "Encode and decode as JPEG at a random quality (compression artefacts)."
    params = params(Param("quality", "int_range", [50, 95], "JPEG quality range", low=1, high=100))

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"quality": integers(rng, self.values["quality"])}

    def apply(self, x: np.ndarray, quality: int = 90, **_: Any) -> np.ndarray:
        cv2 = _cv2()
        grey = _is_grey(x)
        src = x if grey else cv2.cvtColor(x, cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".jpg", src, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            return x
        if grey:
            return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE).reshape(x.shape)
        rgb = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV >= 4.11 decodes straight to RGB
        if rgb is not None:
            return cv2.imdecode(buf, rgb)
        return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


class CoarseDropout(ImageOp):
    name = "coarse_dropout"
    category = "Noise and quality"
    help = "Cut out random rectangles (cutout)."
    params = params(
        Param("holes", "int_range", [1, 4], "Number of rectangles", low=1, high=100),
        Param("size", "float_range", [0.05, 0.2], "Rectangle side as a fraction of the image side", low=0.01, high=1.0, step=0.01),
        Param("fill", "color", [0, 0, 0], "Fill colour"),
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        h, w = x.shape[:2]
        boxes = []
        for _ in range(integers(rng, self.values["holes"])):
            bw = max(1, int(uniform(rng, self.values["size"]) * w))
            bh = max(1, int(uniform(rng, self.values["size"]) * h))
            left, top = integers(rng, [0, max(0, w - bw)]), integers(rng, [0, max(0, h - bh)])
            boxes.append([left, top, left + bw, top + bh])
        return {"boxes": boxes}

    def apply(self, x: np.ndarray, boxes: list[list[int]] | None = None, **_: Any) -> np.ndarray:
        if not boxes:
            return x
        cv2 = _cv2()
        out = x.copy()
        fill = _fill(x, self.values["fill"])
        color = fill[:1] if _is_grey(x) else fill[:3]
        for x1, y1, x2, y2 in boxes:
            if x2 > x1 and y2 > y1:
                cv2.rectangle(out, (int(x1), int(y1)), (int(x2) - 1, int(y2) - 1), color, thickness=-1)
        return out


class ElasticTransform(ImageOp):
    name = "elastic"
    category = "Distortion"
    help = "Smooth random local warps, like rubber (alpha: strength, sigma: smoothness, in pixels)."
    params = params(
        Param("alpha", "float_range", [20.0, 40.0], "Displacement strength in pixels", low=0.0, high=500.0, step=1),
        Param("sigma", "float", 5.0, "Smoothness of the displacement field (pixels)", low=1.0, high=100.0, step=0.5),
        Param("border", "choice", "reflect", "How to fill pixels from outside the image", choices=_BORDERS),
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"alpha": uniform(rng, self.values["alpha"]), "seed": _seed(rng)}

    def apply(self, x: np.ndarray, alpha: float = 0.0, seed: int = 0, **_: Any) -> np.ndarray:
        cv2 = _cv2()
        h, w = x.shape[:2]
        sigma = self.values["sigma"]
        gen = np.random.default_rng(seed)
        # Draw the field at a coarse scale and upsample: the same smoothness for a fraction of the cost.
        step = max(1, int(sigma // 2))
        sh, sw = max(2, h // step), max(2, w // step)
        dx = gen.uniform(-1, 1, (sh, sw)).astype(np.float32)
        dy = gen.uniform(-1, 1, (sh, sw)).astype(np.float32)
        small_sigma = max(0.5, sigma / step)
        k = int(2 * math.ceil(3 * small_sigma) + 1)
        dx = cv2.resize(cv2.GaussianBlur(dx, (k, k), small_sigma) * np.float32(alpha), (w, h), interpolation=cv2.INTER_LINEAR)
        dy = cv2.resize(cv2.GaussianBlur(dy, (k, k), small_sigma) * np.float32(alpha), (w, h), interpolation=cv2.INTER_LINEAR)
        dx += np.arange(w, dtype=np.float32)[None, :]
        dy += np.arange(h, dtype=np.float32)[:, None]
        border = _border(self.values["border"])
        return _via_rgba(x, lambda s: cv2.remap(s, dx, dy, cv2.INTER_LINEAR, borderMode=border))


class GridDistortion(ImageOp):
    name = "grid_distortion"
    category = "Distortion"
    help = "Stretch and squeeze the cells of a grid by random amounts."
    params = params(
        Param("steps", "int", 5, "Grid cells per side", low=2, high=50),
        Param("limit", "float_range", [-0.3, 0.3], "Cell size change range", low=-0.9, high=0.9, step=0.05),
        Param("border", "choice", "reflect", "How to fill pixels from outside the image", choices=_BORDERS),
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        n = self.values["steps"] + 1
        lo, hi = self.values["limit"]
        return {
            "x_steps": [float(v) for v in 1 + rng.uniform(lo, hi, n)],
            "y_steps": [float(v) for v in 1 + rng.uniform(lo, hi, n)],
        }

    @staticmethod
    def _axis(length: int, steps: list[float]) -> np.ndarray:
        n = len(steps) - 1
        cell = length / n
        edges = np.concatenate([[0.0], np.cumsum([cell * s for s in steps[:n]])])
        edges *= (length - 1) / max(edges[-1], 1e-6)
        targets = np.linspace(0, length - 1, n + 1)
        return np.interp(np.arange(length), targets, edges).astype(np.float32)

    def apply(self, x: np.ndarray, x_steps: list[float] | None = None, y_steps: list[float] | None = None, **_: Any) -> np.ndarray:
        if not x_steps or not y_steps:
            return x
        cv2 = _cv2()
        h, w = x.shape[:2]
        map_x = np.empty((h, w), dtype=np.float32)
        map_y = np.empty((h, w), dtype=np.float32)
        map_x[...] = self._axis(w, x_steps)[None, :]
        map_y[...] = self._axis(h, y_steps)[:, None]
        border = _border(self.values["border"])
        return _via_rgba(x, lambda s: cv2.remap(s, map_x, map_y, cv2.INTER_LINEAR, borderMode=border))
