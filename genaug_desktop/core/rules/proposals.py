"""Proposed rules: thresholds learned from the real items, each explained in plain words.

:func:`propose_job` reads the project's real items (never the candidates), measures what the
rules measure, and proposes a rule set whose thresholds the real data itself would (almost
always) pass: lengths within the 1st-99th percentile, image sizes within the observed range,
shares at or above the 99th percentile, and so on. It writes nothing;
:func:`~genaug_desktop.core.rules.store.save_proposals` stores the result as state 'proposed',
and only a person's approval makes a rule reject anything.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from genaug_desktop.core.formatting import plural
from genaug_desktop.core.jobs import CancelToken, Job, Progress, Throttle
from genaug_desktop.core.rules.base import Rule, RuleContext, build_rule, to_gray
from genaug_desktop.core.store.project import Project

#: at most this many items are decoded or paired for image and distance statistics
SAMPLE = 2000
#: a rule that more than this share of the real images fails is proposed switched off
DEGENERATE_SHARE = 0.05
_GREY_MODES = {"1", "L", "I;16", "I;16B", "I;16L", "I;16N", "I", "F", "P;L"}
_ALPHA_MODES = {"LA", "PA", "RGBA", "RGBa", "La"}


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%" if x * 100 >= 10 or x == 0 else f"{x * 100:.1f}%"


def _up(x: float, step: float = 0.01) -> float:
    """Round up to a multiple of *step* (so a threshold never sits just below a real value)."""
    return round(math.ceil(x / step - 1e-9) * step, 10)


def _down(x: float, step: float = 0.01) -> float:
    return round(math.floor(x / step + 1e-9) * step, 10)


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


_plural = plural


def propose_job(project: Project, cancel: CancelToken | None = None, sample: int = SAMPLE) -> Job[list[Rule]]:
    """Propose a rule set for *project* from its real items (state 'proposed'; nothing saved)."""
    cancel = cancel or CancelToken()
    ctx = RuleContext(project)
    if project.modality == "image":
        rules = yield from _propose_image(project, ctx, cancel, sample)
    else:
        rules = yield from _propose_text(ctx, cancel, sample)
    if ctx.has_new_hashes:
        from genaug_desktop.core.rules.engine import _write_hashes

        with project.transaction() as db:
            _write_hashes(db, ctx)
    return rules


def propose_rules(project: Project, sample: int = SAMPLE) -> list[Rule]:
    """:func:`propose_job` run to completion in this thread."""
    from genaug_desktop.core.jobs import run_job

    return run_job(propose_job(project, sample=sample))


def _rule(kind: str, rule_id: str, values: dict[str, object], explanation: str, state: str = "proposed") -> Rule:
    return build_rule(kind, values, id=rule_id, state=state, explanation=explanation)


def _switched_off(count: int, total: int, verb_one: str, verb_many: str) -> str:
    """Why a rule is proposed switched off: the real data itself fails it."""
    return (f" Proposed switched off: {count:,} of the {_plural(total, 'real image')} "
            f"{verb_one if count == 1 else verb_many}, so the real data itself fails this rule and approving it "
            "would reject many good candidates.")


_MODE_NAMES = {"L": "greyscale (L)", "RGB": "colour (RGB)", "RGBA": "colour with transparency (RGBA)"}


def _span(lo: float, hi: float, fmt: str = ",") -> str:
    """``40-66``, or just ``40`` when both ends are the same."""
    a, b = format(lo, fmt), format(hi, fmt)
    return a if a == b else f"{a}-{b}"


def _at_most(share: float) -> str:
    return "none" if share <= 0 else f"at most {_pct(share)}"


def _and(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _sample_indices(n: int, k: int, seed: int = 0) -> np.ndarray:
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.Generator(np.random.PCG64(seed)).choice(n, k, replace=False))


def _pairs(n: int, k: int, seed: int = 1) -> list[tuple[int, int]]:
    """Up to *k* random pairs of different indices (all pairs when there are few)."""
    if n < 2:
        return []
    if n * (n - 1) // 2 <= k:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    rng = np.random.Generator(np.random.PCG64(seed))
    a = rng.integers(0, n, k)
    b = (a + rng.integers(1, n, k)) % n
    return list(zip(a.tolist(), b.tolist()))


# ---- text -------------------------------------------------------------------------------------------
def _propose_text(ctx: RuleContext, cancel: CancelToken, sample: int) -> Job[list[Rule]]:
    from rapidfuzz.distance import Levenshtein

    from genaug_desktop.core.rules.minhash import NearDuplicateIndex, normalize_text
    from genaug_desktop.core.rules.text_rules import (
        _non_letter_share,
        repeated_ngram_ratio,
        script_counts,
        words,
    )

    texts = [i.text for i in ctx.items() if i.text is not None]
    n = len(texts)
    yield Progress(0, 6, f"Measuring {n:,} real texts")
    rules: list[Rule] = [
        _rule("text_not_empty", "not_empty", {}, "An empty or white-space-only text is never a useful sample."),
    ]
    if n == 0:
        return rules
    chars = [len(t) for t in texts]
    wordc = [len(t.split()) for t in texts]
    for unit, values, noun in (("chars", chars, "characters"), ("words", wordc, "words")):
        lo = max(1, math.floor(_percentile(values, 1)))
        hi = max(lo, math.ceil(_percentile(values, 99)))
        rules.append(_rule(
            "text_length", f"length_{unit}", {"unit": unit, "range": [lo, hi]},
            (f"98% of the {n:,} real texts are {_span(lo, hi)} {noun} long (1st to 99th percentile; "
             f"shortest {min(values):,}, longest {max(values):,})." if n > 1
             else f"The one real text is {values[0]:,} {noun} long.")
            + " A candidate outside that range does not look like the real data.",
        ))
    cancel.raise_if_cancelled()
    yield Progress(1, 6, "Measuring characters and phrases")

    non_letter = [_non_letter_share(t) for t in texts]
    p99 = _percentile(non_letter, 99)
    limit = min(1.0, max(_up(p99), 0.05))
    rules.append(_rule(
        "text_non_letter_share", "non_letters", {"max_share": limit},
        f"In 99% of the real texts {_at_most(p99)} of the visible characters are not letters "
        f"(99th percentile); the limit is {_pct(limit)}"
        + (" (raised to 5% so that ordinary punctuation passes)" if limit > _up(p99) else "")
        + ". More than that suggests noise, markup or symbols a generator made up.",
    ))
    rep = [repeated_ngram_ratio(t, 3) for t in texts]
    p99 = _percentile(rep, 99)
    limit = min(1.0, max(_up(p99), 0.2))
    rules.append(_rule(
        "text_repeated_ngrams", "repeated_ngrams", {"n": 3, "max_ratio": limit},
        f"In 99% of the real texts {_at_most(p99)} of the three-word phrases repeat an earlier one; the limit "
        f"is {_pct(limit)}" + (" (at least 20%, so a repeated phrase or two passes)" if limit > _up(p99) else "")
        + ". Generators that get stuck repeat phrases far more often.",
    ))
    cancel.raise_if_cancelled()
    yield Progress(2, 6, "Measuring the vocabulary")

    # Leave-one-out: a word of item i is out of vocabulary when no *other* item has it.
    tokens = [words(t) for t in texts]
    df: Counter[str] = Counter()
    for ws in tokens:
        df.update(set(ws))
    loo = [sum(1 for w in ws if df[w] == 1) / len(ws) if ws else 0.0 for ws in tokens]
    p99 = _percentile(loo, 99)
    limit = min(1.0, max(_up(p99), 0.05))
    rules.append(_rule(
        "text_oov_share", "oov_share", {"max_share": limit},
        f"The real data has a vocabulary of {_plural(len(df), 'word')}. Leaving each real text out in turn, 99% of "
        f"them have {_at_most(p99)} of their words outside the vocabulary of the others (99th percentile); the "
        f"limit is {_pct(limit)}. A candidate with more unknown words than that probably has misspellings, "
        "made-up or foreign words.",
    ))
    cancel.raise_if_cancelled()
    yield Progress(3, 6, "Measuring writing systems")

    scripts: Counter[str] = Counter()
    for t in texts:
        scripts.update(script_counts(t))
    letters = sum(scripts.values())
    if letters:
        top = scripts.most_common(3)
        if len(top) == 1:
            main = f"All the letters in the real texts are {top[0][0]}."
        else:
            shares = [f"{_pct(c / letters)} {s}" for s, c in top]
            rest = letters - sum(c for _, c in top)
            if rest:
                shares.append(f"{_pct(rest / letters)} other scripts")
            main = f"Of the letters in the real texts, {_and(shares)}."
        rules.append(_rule(
            "text_script", "script", {"max_share": 0.1},
            f"{main} A candidate with more than 10% of its "
            "letters in a script its source does not use (say Cyrillic in an English review) was garbled "
            "or translated by mistake.",
        ))
    cancel.raise_if_cancelled()
    yield Progress(4, 6, "Measuring distances between real texts")

    idx = _sample_indices(n, sample)
    pairs = _pairs(len(idx), sample)
    if pairs:
        dists = [Levenshtein.normalized_distance(texts[idx[a]], texts[idx[b]]) for a, b in pairs]
        p5 = _percentile(dists, 5)
        hi = min(0.9, max(0.2, _down(p5, 0.05)))
        rules.append(_rule(
            "text_edit_distance", "edit_distance", {"unit": "chars", "range": [0.01, hi]},
            f"Two unrelated real texts are at least {p5:.2f} apart in 95% of {len(pairs):,} random pairs "
            f"(normalised edit distance, 0 = same, 1 = nothing in common). A candidate further than {hi:.2f} "
            "from its source is no longer recognisably a variant of it; one closer than 0.01 is a copy.",
        ))
    cancel.raise_if_cancelled()
    yield Progress(5, 6, "Looking for duplicates in the real data")

    norms = [normalize_text(t) for t in texts]
    exact_dups = n - len(set(norms))
    rules.append(_rule(
        "text_exact_duplicate", "exact_duplicate", {"against": "items_and_candidates", "ignore_punctuation": True},
        "A candidate that is the same text as a real item or an earlier kept candidate (ignoring case, spacing "
        "and punctuation) adds nothing. "
        + (f"The real data itself has {_plural(exact_dups, 'such duplicate')}." if exact_dups
           else "The real data has no such duplicates."),
    ))
    threshold = 0.9
    index = NearDuplicateIndex(threshold)
    near = 0
    for p in index.prepare([norms[i] for i in idx]):
        if index.query(p):
            near += 1
        index.add(len(index), p)
    rules.append(_rule(
        "text_near_duplicate", "near_duplicate", {"threshold": threshold, "shingle": 5,
                                                 "against": "items_and_candidates", "num_perm": 64},
        f"A candidate sharing {threshold:.0%} or more of its 5-character pieces with a real item or an earlier "
        "kept candidate (Jaccard similarity) is a near copy. "
        + (f"{near:,} of the {len(idx):,} real texts checked {'is a near copy' if near == 1 else 'are near copies'} "
           "of another real text at this threshold." if len(idx) > 1 else "There is only one real text to compare."),
    ))
    yield Progress(6, 6, "Done")
    return rules


# ---- images -----------------------------------------------------------------------------------------
def _array_mode(item_mode: str | None) -> str:
    if item_mode in _GREY_MODES:
        return "L"
    if item_mode in _ALPHA_MODES:
        return "RGBA"
    return "RGB"


def _propose_image(project: Project, ctx: RuleContext, cancel: CancelToken, sample: int) -> Job[list[Rule]]:
    from genaug_desktop.core.rules.image_rules import brightness_stats
    from genaug_desktop.core.rules.imagehash import HammingIndex

    items = [i for i in ctx.items() if i.width and i.height]
    n = len(items)
    rules: list[Rule] = [
        _rule("image_decodes", "decodes", {}, "A candidate whose image file is missing or broken can never be used."),
    ]
    if n == 0:
        return rules
    widths = [int(i.width or 0) for i in items]
    heights = [int(i.height or 0) for i in items]
    for dim, values in (("width", widths), ("height", heights)):
        lo, hi = min(values), max(values)
        rules.append(_rule(
            "image_size", f"size_{dim}", {"dimension": dim, "range": [lo, hi]},
            (f"The {n:,} real images are {lo:,}-{hi:,} px in {dim} (the observed range)." if lo != hi
             else f"All {n:,} real images are {lo:,} px in {dim}." if n > 1
             else f"The one real image is {lo:,} px in {dim}.")
            + " A candidate outside that range was resized or cropped more than the real data ever is.",
        ))
    ratios = [w / h for w, h in zip(widths, heights)]
    lo, hi = _down(min(ratios)), _up(max(ratios))
    rules.append(_rule(
        "image_aspect", "aspect", {"range": [max(lo, 0.001), hi]},
        (f"The real images have width / height ratios of {min(ratios):.3g}-{max(ratios):.3g} (the observed range, "
         f"rounded out to {max(lo, 0.001):.2f}-{hi:.2f})." if f"{min(ratios):.3g}" != f"{max(ratios):.3g}"
         else f"{'All the real images have' if n > 1 else 'The one real image has'} a width / height ratio of "
         f"{min(ratios):.3g} (the rule allows {_span(max(lo, 0.001), hi, '.2f')}).")
        + " A candidate outside that range is squashed or stretched.",
    ))
    modes = Counter(_array_mode(i.mode) for i in items)
    allowed = sorted(m for m, c in modes.items() if c / n >= 0.01)
    if "RGBA" in allowed and "RGB" not in allowed:
        allowed.append("RGB")  # augmentation flattens transparency onto white
    allowed = sorted(allowed)
    if len(modes) == 1:
        seen = "The one real image decodes" if n == 1 else f"All {n:,} real images decode"
        seen += f" as {_MODE_NAMES[allowed[0]]}"
    else:
        seen = f"Of the {n:,} real images, " + _and(
            [f"{c:,} decode{'s' if c == 1 else ''} as {_MODE_NAMES[m]}" for m, c in modes.most_common()])
    rules.append(_rule(
        "image_color_mode", "colour_mode", {"modes": allowed},
        f"{seen}. Candidates must be {' or '.join(_MODE_NAMES[m] for m in allowed)}"
        + ("; modes found in under 1% of the real images are left out" if len(allowed) < len(modes) else "")
        + ".",
    ))

    # Decode a sample of real images for brightness and hash statistics.
    picked = [items[i] for i in _sample_indices(n, sample)]
    stds: list[float] = []
    darks: list[float] = []
    brights: list[float] = []
    hashes: list[int] = []
    mirrored: list[int] = []
    throttle = Throttle(0.1)
    for k, item in enumerate(picked):
        if k % 32 == 0:
            cancel.raise_if_cancelled()
        img = ctx.item_image(item.key)
        if img is not None:
            gray = to_gray(img)
            std, dark, bright = brightness_stats(gray)
            stds.append(std)
            darks.append(dark)
            brights.append(bright)
            h = ctx.item_hash(item.key, "phash")
            m = ctx.item_hash(item.key, "phash", mirrored=True)
            if h is not None and m is not None:
                hashes.append(h)
                mirrored.append(m)
        if throttle():
            yield Progress(k + 1, len(picked), f"Measured {k + 1:,} of {len(picked):,} real images")
    yield Progress(len(picked), len(picked), "Measured the real images")
    if stds:
        p1 = _percentile(stds, 1)
        min_std = round(max(0.5, min(2.0, p1 / 2)), 2)
        flat = sum(1 for v in stds if v < min_std)
        explanation = (
            f"The brightness of 99% of {_plural(len(stds), 'real image')} varies by at least {p1:.1f} levels "
            f"(standard deviation, 1st percentile). A candidate varying by less than {min_std:g} is a flat, blank image."
        )
        degenerate = flat > DEGENERATE_SHARE * len(stds)
        if degenerate:
            explanation += _switched_off(flat, len(stds), "is that flat", "are that flat")
        rules.append(_rule("image_not_blank", "not_blank", {"min_std": min_std}, explanation,
                           "disabled" if degenerate else "proposed"))
        for side, shares, word in (("dark", darks, "near black"), ("bright", brights, "near white")):
            p99 = _percentile(shares, 99)
            limit = min(1.0, max(0.5, _up(p99 + 0.1)))
            rules.append(_rule(
                "image_exposure", f"exposure_{side}", {"side": side, "margin": 8, "max_share": limit},
                f"In 99% of the real images {_at_most(p99)} of the pixels are {word} (99th percentile). "
                f"A candidate with more than {_pct(limit)} of its pixels {word} is "
                f"{'under' if side == 'dark' else 'over'}-exposed (the limit is that share plus 10 points, "
                "and at least 50%).",
            ))
    rules.append(_rule(
        "image_source_difference", "source_copy", {"min_diff": 1.0},
        "A candidate whose pixels differ from its source by less than 1 brightness level on average is a copy "
        "of it (an augmentation that changed nothing) and adds no variety.",
    ))
    if len(hashes) >= 2:
        pairs = _pairs(len(hashes), sample)
        dists = [
            min((hashes[a] ^ hashes[b]).bit_count(), (mirrored[a] ^ hashes[b]).bit_count()) for a, b in pairs
        ]
        p5 = _percentile(dists, 5)
        hi = int(max(8, min(32, math.floor(p5))))
        rules.append(_rule(
            "image_source_distance", "source_distance", {"hash": "phash", "range": [0, hi], "mirror": True},
            f"Two unrelated real images differ in at least {p5:.0f} of the 64 bits of their perceptual hash in 95% "
            f"of {len(pairs):,} random pairs (comparing with the mirror image too). A candidate differing from its "
            f"own source (or its mirror image) in more than {hi} bits no longer looks like it.",
        ))
        for radius in (4, 3, 2, 1, 0):
            index = HammingIndex(radius)
            close = 0
            for k, h in enumerate(hashes):
                if index.nearest(h) is not None:
                    close += 1
                index.add(k, h)
            if close <= 0.01 * len(hashes):
                break
        explanation = (
            f"Candidates whose perceptual hashes are at most {radius} bits apart are near duplicates; only the first "
            f"of each cluster is kept. At {radius} bits, {close:,} of {len(hashes):,} real images have an earlier "
            "near duplicate (the radius is lowered until at most 1% do)."
        )
        # Even at radius 0 many real images share a hash (flat or near-flat images look alike to
        # the hash): the rule would keep one candidate per look and reject nearly all the others.
        degenerate = close > DEGENERATE_SHARE * len(hashes)
        if degenerate:
            explanation = (
                f"Candidates whose perceptual hashes are at most {radius} bits apart would count as near duplicates "
                "(only the first of each cluster kept)."
                + _switched_off(close, len(hashes), "has an earlier near duplicate even at 0 bits",
                                "have an earlier near duplicate even at 0 bits")
            )
        rules.append(_rule(
            "image_near_duplicate", "near_duplicate", {"hash": "phash", "radius": radius, "against": "candidates"},
            explanation, "disabled" if degenerate else "proposed",
        ))
    return rules
