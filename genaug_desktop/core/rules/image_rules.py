"""Built-in image rules.

Images reach rules decoded once per candidate (uint8, (H, W) or (H, W, 3|4)) through
:class:`Subject`. A candidate that does not decode fails every image rule with the decoder's
reason, so a broken file is never kept because the "decodes" rule happens to be off.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genaug_desktop.core.params import Param, params
from genaug_desktop.core.rules.base import Rule, RuleContext, RuleError, Subject, Verdict, color_mode, to_gray
from genaug_desktop.core.rules.imagehash import HASH_ALGOS, HammingIndex

COLOR_MODES = ("L", "LA", "RGB", "RGBA")


def _broken(s: Subject) -> Verdict:
    return Verdict(False, f"the image does not decode: {s.image_error}")


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%" if x * 100 >= 10 or x == 0 else f"{x * 100:.1f}%"


class _ImageRule(Rule):
    modality = "image"


class ImageDecodes(_ImageRule):
    kind = "image_decodes"
    title = "Decodes"
    help = "Rejects candidates whose image file is missing, empty or cannot be decoded."
    measure = ""
    cost = 0

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        return [Verdict(True) if s.image is not None else _broken(s) for s in batch]


class ImageSize(_ImageRule):
    kind = "image_size"
    title = "Size"
    help = "Keeps images whose width (or height) in pixels is within a range."
    measure = "pixels"
    cost = 1
    params = params(
        Param("dimension", "choice", "width", "which side to measure", choices=("width", "height")),
        Param("range", "int_range", [1, 100_000], "the allowed size in pixels, both ends included", low=1, high=1_000_000),
    )

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        lo, hi = self.values["range"]
        dim = self.values["dimension"]
        out = []
        for s in batch:
            img = s.image
            if img is None:
                out.append(_broken(s))
                continue
            n = int(img.shape[1] if dim == "width" else img.shape[0])
            if lo <= n <= hi:
                out.append(Verdict(True, value=float(n)))
            else:
                side = "smaller" if n < lo else "larger"
                out.append(Verdict(False, f"{dim} {n:,} px is {side} than the allowed {lo:,}-{hi:,} px", float(n)))
        return out


class ImageAspect(_ImageRule):
    kind = "image_aspect"
    title = "Aspect ratio"
    help = "Keeps images whose width / height ratio is within a range."
    measure = "width / height"
    cost = 1
    params = params(
        Param("range", "float_range", [0.2, 5.0], "the allowed width / height, both ends included",
              low=0.001, high=1000.0, step=0.01),
    )

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        lo, hi = self.values["range"]
        out = []
        for s in batch:
            img = s.image
            if img is None:
                out.append(_broken(s))
                continue
            r = img.shape[1] / img.shape[0]
            if lo <= r <= hi:
                out.append(Verdict(True, value=r))
            else:
                out.append(Verdict(False, f"aspect ratio {r:.3g} is outside the allowed {lo:.3g}-{hi:.3g}", r))
        return out


class ImageNotBlank(_ImageRule):
    kind = "image_not_blank"
    title = "Not blank"
    help = "Rejects images that are (almost) one flat colour: the spread of their brightness is too low."
    measure = "standard deviation of brightness (0-255)"
    cost = 2
    params = params(
        Param("min_std", "float", 2.0, "the smallest allowed standard deviation of brightness", low=0.0, high=128.0, step=0.1),
    )

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        import cv2

        limit = self.values["min_std"]
        out = []
        for s in batch:
            gray = s.gray
            if gray is None:
                out.append(_broken(s))
                continue
            std = float(cv2.meanStdDev(gray)[1][0][0])
            if std >= limit:
                out.append(Verdict(True, value=std))
            else:
                out.append(Verdict(False, f"almost blank: brightness varies by {std:.2f} (at least {limit:g} needed)", std))
        return out

    def bounds(self) -> tuple[float | None, float | None]:
        return self.values["min_std"], None


class ImageExposure(_ImageRule):
    kind = "image_exposure"
    title = "Exposure"
    help = "Rejects images where too many pixels are near black (under-exposed) or near white (over-exposed)."
    measure = "share of pixels near black (or white)"
    cost = 2
    params = params(
        Param("side", "choice", "dark", "check pixels near black (dark) or near white (bright)", choices=("dark", "bright")),
        Param("margin", "int", 8, "brightness levels from 0 (or 255) that still count as black (white)", low=0, high=127),
        Param("max_share", "float", 0.6, "the largest allowed share of such pixels (0-1)", low=0.0, high=1.0, step=0.01),
    )

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        import cv2

        dark = self.values["side"] == "dark"
        margin, limit = self.values["margin"], self.values["max_share"]
        word = "near black" if dark else "near white"
        out = []
        for s in batch:
            gray = s.gray
            if gray is None:
                out.append(_broken(s))
                continue
            hist = s.cache.get("hist")
            if hist is None:
                hist = s.cache["hist"] = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
            count = hist[: margin + 1].sum() if dark else hist[255 - margin :].sum()
            share = float(count) / gray.size
            if share <= limit:
                out.append(Verdict(True, value=share))
            else:
                what = "under-exposed" if dark else "over-exposed"
                out.append(Verdict(False, f"{what}: {_pct(share)} of its pixels are {word} (at most {_pct(limit)})", share))
        return out

    def bounds(self) -> tuple[float | None, float | None]:
        return None, self.values["max_share"]


class ImageColorMode(_ImageRule):
    kind = "image_color_mode"
    title = "Colour mode"
    help = "Keeps images in the allowed colour modes: L (grey), LA (grey + alpha), RGB, RGBA."
    measure = ""
    cost = 1
    params = params(
        Param("modes", "str_list", ["RGB"], "allowed modes: " + ", ".join(COLOR_MODES), max_len=len(COLOR_MODES)),
    )

    def check(self, path: str) -> None:
        for i, mode in enumerate(self.values["modes"]):
            if mode not in COLOR_MODES:
                raise RuleError(f"{path}.modes[{i}]", f"must be one of {', '.join(COLOR_MODES)}, not {mode!r}")
        if not self.values["modes"]:
            raise RuleError(f"{path}.modes", "allow at least one mode")

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        allowed = self.values["modes"]
        out = []
        for s in batch:
            img = s.image
            if img is None:
                out.append(_broken(s))
                continue
            mode = color_mode(img)
            if mode in allowed:
                out.append(Verdict(True))
            else:
                out.append(Verdict(False, f"colour mode {mode} is not allowed (allowed: {', '.join(allowed)})"))
        return out


class ImageSourceDistance(_ImageRule):
    kind = "image_source_distance"
    title = "Distance to the source"
    help = (
        "Keeps candidates whose perceptual-hash distance (bits out of 64) to their source image is within a range: "
        "the high end rejects candidates that no longer look like their source, the low end (if above 0) near "
        "copies. Perceptual hashes ignore brightness and colour, so photometric variants measure close to 0."
    )
    measure = "bits that differ from the source's perceptual hash (0-64)"
    cost = 5
    params = params(
        Param("hash", "choice", "phash", "pHash (DCT, robust to small changes) or dHash (gradients)", choices=HASH_ALGOS),
        Param("range", "int_range", [0, 30], "the allowed distance in bits, both ends included", low=0, high=64),
        Param("mirror", "bool", True, "also compare with the mirrored source, so a horizontal flip counts as close"),
    )

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        lo, hi = self.values["range"]
        algo = self.values["hash"]
        mirror = self.values["mirror"]
        out = []
        for s in batch:
            h = s.image_hash(algo)
            if h is None:
                out.append(_broken(s))
                continue
            if s.source_key is None:
                out.append(Verdict(True, "no source image to compare with"))
                continue
            src = s.ctx.item_hash(s.source_key, algo)
            if src is None:
                out.append(Verdict(True, "the source image cannot be read; not compared"))
                continue
            d = (h ^ src).bit_count()
            if mirror and d > lo:
                flipped = s.ctx.item_hash(s.source_key, algo, mirrored=True)
                if flipped is not None:
                    d = min(d, (h ^ flipped).bit_count())
            if lo <= d <= hi:
                out.append(Verdict(True, value=float(d)))
            elif d < lo:
                out.append(Verdict(False, f"a near copy of its source ({d} of 64 bits differ, at least {lo} needed)", float(d)))
            else:
                out.append(Verdict(False, f"too far from its source ({d} of 64 bits differ, at most {hi} allowed)", float(d)))
        return out


class ImageSourceDifference(_ImageRule):
    kind = "image_source_difference"
    title = "Not a copy of the source"
    help = (
        "Rejects candidates whose pixels hardly differ from their source: the mean absolute difference of "
        "brightness (the source resized to the candidate's size) is below a minimum."
    )
    measure = "mean absolute brightness difference from the source (0-255)"
    cost = 5
    params = params(
        Param("min_diff", "float", 1.0, "the smallest allowed mean difference, in brightness levels", low=0.0,
              high=255.0, step=0.1),
    )

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        import cv2

        limit = self.values["min_diff"]
        out = []
        for s in batch:
            gray = s.gray
            if gray is None:
                out.append(_broken(s))
                continue
            if s.source_key is None:
                out.append(Verdict(True, "no source image to compare with"))
                continue
            src = s.source_image
            if src is None:
                out.append(Verdict(True, "the source image cannot be read; not compared"))
                continue
            src_gray = to_gray(src)
            if src_gray.shape != gray.shape:
                src_gray = cv2.resize(src_gray, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_AREA)
            diff = float(cv2.norm(gray, src_gray, cv2.NORM_L1)) / gray.size
            if diff >= limit:
                out.append(Verdict(True, value=diff))
            else:
                out.append(Verdict(False, f"a copy of its source: pixels differ by {diff:.2f} levels on average "
                                          f"(at least {limit:g} needed)", diff))
        return out

    def bounds(self) -> tuple[float | None, float | None]:
        return self.values["min_diff"], None


class ImageNearDuplicate(_ImageRule):
    kind = "image_near_duplicate"
    title = "Near duplicate"
    help = (
        "Rejects an image whose perceptual hash is within a few bits of a candidate kept before it (or, optionally, "
        "of any real item): near-duplicate clusters keep only their first member. Perceptual hashes ignore "
        "brightness and colour, so variants of one source that differ only in those fall in one cluster. A "
        "multi-index hash table finds the neighbours without comparing every pair."
    )
    measure = "bits that differ from the nearest kept image"
    stateful = True
    cost = 30
    params = params(
        Param("hash", "choice", "phash", "pHash (DCT) or dHash (gradients)", choices=HASH_ALGOS),
        Param("radius", "int", 4, "images at most this many bits apart are near duplicates", low=0, high=16),
        Param("against", "choice", "candidates", "compare with kept candidates only, or with the real items too",
              choices=("candidates", "items_and_candidates")),
    )

    def prepare(self, ctx: RuleContext) -> None:
        algo = self.values["hash"]
        self._index = HammingIndex(self.values["radius"])
        if self.values["against"] == "items_and_candidates":
            for item in ctx.items():
                h = ctx.item_hash(item.key, algo)
                if h is not None:
                    self._index.add(("item", item.key), h)
        for batch in ctx.kept_subjects(256):
            for s in batch:
                h = s.image_hash(algo)
                if h is not None:
                    self._index.add(("candidate", s.id), h)

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        if not hasattr(self, "_index"):
            raise RuntimeError("call prepare() before evaluate()")
        algo = self.values["hash"]
        out = []
        for s in batch:
            h = s.image_hash(algo)
            if h is None:
                out.append(_broken(s))
                continue
            hit = self._index.nearest(h)
            if hit is not None:
                (what, key), d = hit  # type: ignore[misc]
                other = f"the real item {key}" if what == "item" else f"candidate #{key}"
                out.append(Verdict(False, f"a near duplicate of {other} ({d} of 64 bits differ)", float(d)))
                continue
            self._index.add(("candidate", s.id), h)
            out.append(Verdict(True))
        return out

    def discard(self, subjects: Sequence[Subject]) -> None:
        for s in subjects:
            self._index.remove(("candidate", s.id))

    def bounds(self) -> tuple[float | None, float | None]:
        return float(self.values["radius"]) + 1, None


def brightness_stats(gray: np.ndarray, margin: int = 8) -> tuple[float, float, float]:
    """(std of brightness, share near black, share near white) of a greyscale image."""
    import cv2

    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    n = float(gray.size)
    return float(cv2.meanStdDev(gray)[1][0][0]), float(hist[: margin + 1].sum()) / n, float(hist[255 - margin :].sum()) / n
