"""Pre-processing: the article's deterministic "regularisation" step before random ops.

Text: Unicode normalisation, whitespace folding, control-character stripping, lower-casing,
truncation, and a missing-value policy. Images: mode conversion, resize/fit/pad to a size,
flattening transparency onto a colour. None of these draws anything.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np

from genaug_desktop.core.ops.base import Op
from genaug_desktop.core.params import Param, params


class PreprocessOp(Op):
    preprocess = True
    deterministic = True
    category = "Pre-processing"


# ---- text --------------------------------------------------------------------------------------
class UnicodeNormalize(PreprocessOp):
    name = "unicode_normalize"
    modality = "text"
    help = "Unicode normalisation (NFC joins accents; NFKC also folds look-alike characters)."
    params = params(Param("form", "choice", "NFC", "Normal form", choices=("NFC", "NFKC", "NFD", "NFKD")))

    def apply(self, x: str, **_: Any) -> str:
        return unicodedata.normalize(self.values["form"], x)


_SPACE = re.compile(r"\s+")


class FoldWhitespace(PreprocessOp):
    name = "fold_whitespace"
    modality = "text"
    help = "Turn every run of spaces, tabs and newlines into one space and trim the ends."

    def apply(self, x: str, **_: Any) -> str:
        return _SPACE.sub(" ", x).strip()


class StripControl(PreprocessOp):
    name = "strip_control"
    modality = "text"
    help = "Remove control and format characters (keeps newlines and tabs)."

    def apply(self, x: str, **_: Any) -> str:
        return "".join(c for c in x if c in "\n\t" or unicodedata.category(c)[0] != "C")


class Lowercase(PreprocessOp):
    name = "lowercase"
    modality = "text"
    help = "Lower-case everything (Unicode-aware case folding)."
    params = params(Param("casefold", "bool", False, "Aggressive folding (e.g. German ß becomes ss)"))

    def apply(self, x: str, **_: Any) -> str:
        return x.casefold() if self.values["casefold"] else x.lower()


class Truncate(PreprocessOp):
    name = "truncate"
    modality = "text"
    help = "Cut texts longer than a limit, by characters or by words."
    params = params(
        Param("unit", "choice", "words", "Count characters or words", choices=("words", "characters")),
        Param("max_length", "int", 128, "Longest text kept", low=1, high=1_000_000),
    )

    def apply(self, x: str, **_: Any) -> str:
        n = self.values["max_length"]
        if self.values["unit"] == "characters":
            return x[:n]
        words = x.split()
        return x if len(words) <= n else " ".join(words[:n])


class MissingValues(PreprocessOp):
    """Works on the (text, label) pair: may drop the item or fill in what is missing."""

    name = "missing_values"
    modality = "text"
    help = "What to do with empty texts and missing labels: drop the item or fill a value."
    params = params(
        Param("empty_text", "choice", "drop", "An empty (or blank) text", choices=("drop", "fill", "keep")),
        Param("fill_text", "str", "", "Text used when filling", max_len=10_000),
        Param("missing_label", "choice", "keep", "A missing label", choices=("keep", "drop", "fill")),
        Param("fill_label", "str", "unknown", "Label used when filling", max_len=200),
    )

    def apply(self, x: str, **_: Any) -> str:
        if not x.strip() and self.values["empty_text"] == "fill":
            return self.values["fill_text"]
        return x

    def apply_item(self, text: str, label: str | None) -> tuple[str, str | None] | None:
        """None means: drop this item."""
        v = self.values
        if not text.strip():
            if v["empty_text"] == "drop":
                return None
            if v["empty_text"] == "fill":
                text = v["fill_text"]
        if label is None or label == "":
            if v["missing_label"] == "drop":
                return None
            if v["missing_label"] == "fill":
                label = v["fill_label"]
        return text, label


# ---- images ------------------------------------------------------------------------------------
def _flatten(x: np.ndarray, color: list[int]) -> np.ndarray:
    """Composite RGBA onto ``color`` (RGB out) and LA onto its grey (L out); other arrays pass through.

    The result is exactly ``round((v * a + bg * (255 - a)) / 255)`` per channel. It is computed as
    ``bg + (v - bg) * (a / 255)`` in float32 with OpenCV (vectorised, a few passes): the exact value
    is never within 1/510 of a half and float32 errs by under 1e-4, so rounding gives the integer
    result on every machine (checked for all 256**3 combinations of v, a and bg).
    """
    if x.ndim != 3 or x.shape[2] not in (2, 4):
        return x
    import cv2

    if x.shape[2] == 4:
        alpha = cv2.extractChannel(x, 3)
        value = cv2.cvtColor(x, cv2.COLOR_RGBA2RGB)
        bg = [int(c) for c in color]
    else:
        alpha = cv2.extractChannel(x, 1)
        value = cv2.extractChannel(x, 0)
        bg = [int(round(float(np.dot(color, [0.299, 0.587, 0.114]))))]
    if cv2.countNonZero(cv2.bitwise_not(alpha)) == 0:  # fully opaque: nothing to blend
        return value
    if value.ndim == 3:
        alpha = cv2.cvtColor(alpha, cv2.COLOR_GRAY2RGB)
    if value.size < 64:  # OpenCV's binding would take a tiny array for the scalar: integer maths
        a = alpha.astype(np.int64)
        total = value * a + np.asarray(bg, dtype=np.int64) * (255 - a)
        return ((2 * total + 255) // 510).astype(np.uint8)
    scalar = tuple(float(c) for c in bg) + (0.0,) * (4 - len(bg))
    weight = alpha.astype(np.float32)
    weight *= np.float32(1.0 / 255.0)
    out = value.astype(np.float32)
    cv2.subtract(out, scalar, dst=out)
    cv2.multiply(out, weight, dst=out)
    cv2.add(out, scalar, dst=out)
    return cv2.convertScaleAbs(out)  # rounds and saturates; every value is already 0..255


class FlattenAlpha(PreprocessOp):
    name = "flatten_alpha"
    modality = "image"
    help = "Composite transparent images onto a solid background colour."
    params = params(Param("background", "color", [255, 255, 255], "Background colour"))

    def apply(self, x: np.ndarray, **_: Any) -> np.ndarray:
        return _flatten(x, self.values["background"])


class ConvertMode(PreprocessOp):
    name = "convert_mode"
    modality = "image"
    help = "Convert every image to RGB or to greyscale (L)."
    params = params(Param("mode", "choice", "RGB", "Target mode", choices=("RGB", "L")))

    def apply(self, x: np.ndarray, **_: Any) -> np.ndarray:
        import cv2

        x = _flatten(x, [255, 255, 255])
        if self.values["mode"] == "L":
            return x if x.ndim == 2 else cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)
        return cv2.cvtColor(x, cv2.COLOR_GRAY2RGB) if x.ndim == 2 else x


class ResizeTo(PreprocessOp):
    name = "resize_to"
    modality = "image"
    help = (
        "Bring every image to one size: stretch, fit inside and pad (letterbox), or cover and crop the centre."
    )
    params = params(
        Param("width", "int", 256, "Target width", low=1, high=8192),
        Param("height", "int", 256, "Target height", low=1, high=8192),
        Param("method", "choice", "fit", "stretch, fit (pad) or cover (crop)", choices=("fit", "cover", "stretch")),
        Param("fill", "color", [0, 0, 0], "Padding colour for 'fit'"),
    )

    def apply(self, x: np.ndarray, **_: Any) -> np.ndarray:
        import cv2

        v = self.values
        tw, th = v["width"], v["height"]
        h, w = x.shape[:2]
        if v["method"] == "stretch":
            return cv2.resize(x, (tw, th), interpolation=cv2.INTER_AREA if tw * th < w * h else cv2.INTER_LINEAR)
        scale = min(tw / w, th / h) if v["method"] == "fit" else max(tw / w, th / h)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        resized = cv2.resize(x, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        if v["method"] == "cover":
            left, top = (nw - tw) // 2, (nh - th) // 2
            return np.ascontiguousarray(resized[top : top + th, left : left + tw])
        left, top = (tw - nw) // 2, (th - nh) // 2
        fill = tuple(v["fill"]) if x.ndim == 3 else (int(np.dot(v["fill"], [0.299, 0.587, 0.114])),)
        return cv2.copyMakeBorder(
            resized, top, th - nh - top, left, tw - nw - left, cv2.BORDER_CONSTANT, value=fill + (0,) * (4 - len(fill))
        )
