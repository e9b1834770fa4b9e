"""Every built-in rule on crafted passing and failing inputs, plus the hashing and search indexes.

The table ``CASES`` has an entry per rule kind; a test fails when a new kind has none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genaug_desktop.core.datasets.model import Item
from genaug_desktop.core.rules import RuleContext, RuleError, RuleRun, Subject, build_rule, rule_kinds
from genaug_desktop.core.rules.imagehash import HammingIndex, dhash, hamming, phash
from genaug_desktop.core.rules.minhash import NearDuplicateIndex, lsh_params, normalize_text, shingle_hashes
from genaug_desktop.core.rules.text_rules import char_script, repeated_ngram_ratio, script_counts, words


# ---- helpers --------------------------------------------------------------------------------------
def text_item(key: str, text: str) -> Item:
    return Item(key, key, "text", None, "sha-" + key, len(text), text=text)


def image_item(key: str, img: np.ndarray) -> Item:
    return Item(key, key, "image", None, "sha-" + key, 0, width=img.shape[1], height=img.shape[0], mode="RGB")


def smooth_image(seed: int, size: int = 64, channels: int = 3) -> np.ndarray:
    """A structured picture (blurred noise): perceptual hashes of different seeds differ a lot."""
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (8, 8, channels), dtype=np.uint8)
    img = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    return img if channels > 1 else img.reshape(size, size)


def _area(img: np.ndarray, size: int) -> np.ndarray:
    import cv2

    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def _gray(img: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def jitter(img: np.ndarray, amount: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(img.astype(np.int16) + rng.integers(-amount, amount + 1, img.shape), 0, 255).astype(np.uint8)


@dataclass
class Case:
    """One rule with params, a context, subjects that must pass and ones that must fail."""

    params: dict[str, Any]
    passing: list[dict[str, Any]]
    failing: list[dict[str, Any]]
    reason: str  # a fragment every failing reason contains
    items: list[Item] = field(default_factory=list)
    item_images: dict[str, np.ndarray] = field(default_factory=dict)
    kept: list[dict[str, Any]] = field(default_factory=list)


def _text_items() -> list[Item]:
    return [
        text_item("a.txt:1", "The cat sat on the mat and purred."),
        text_item("a.txt:2", "A dog ran across the green field."),
        text_item("a.txt:3", "Hello, World"),
        text_item("a.txt:4", "the quick brown fox jumps over the lazy dog near the river bank"),
    ]


SRC = smooth_image(1)
OTHER = smooth_image(2)
NOISE = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
FLAT = np.full((64, 64, 3), 120, np.uint8)
DARK = NOISE.copy()
DARK[:52] = 0
BRIGHT = NOISE.copy()
BRIGHT[:52] = 255
_IMG_ITEMS = [image_item("src.png", SRC), image_item("other.png", OTHER)]
_IMG_IMAGES = {"src.png": SRC, "other.png": OTHER}

CASES: dict[str, list[Case]] = {
    "text_not_empty": [Case({}, [{"text": "hello"}, {"text": " x "}], [{"text": ""}, {"text": "  \n\t"}], "the text is")],
    "text_length": [
        Case({"unit": "chars", "range": [3, 10]}, [{"text": "hello"}, {"text": "abc"}, {"text": "a" * 10}],
             [{"text": "hi"}, {"text": "hello world!!"}], "allowed 3-10"),
        Case({"unit": "words", "range": [2, 3]}, [{"text": "a b"}, {"text": "one two three"}],
             [{"text": "one"}, {"text": "a b c d"}], "words"),
    ],
    "text_non_letter_share": [
        Case({"max_share": 0.3}, [{"text": "hello world"}, {"text": "Привет, мир"}, {"text": "नमस्ते दुनिया"}, {"text": ""}],
             [{"text": "h3ll0 w0rld!!!"}, {"text": "$$$ 1234 %%%"}], "not letters"),
    ],
    "text_repeated_ngrams": [
        Case({"n": 2, "max_ratio": 0.3}, [{"text": "the cat sat on the mat"}, {"text": "short"}],
             [{"text": "go go go go go go go"}, {"text": "buy now buy now buy now buy now"}], "repeats"),
    ],
    "text_edit_distance": [
        Case({"unit": "chars", "range": [0.05, 0.5]},
             [{"text": "The cat sat on the mat and purr.", "source": "a.txt:1"},
              {"text": "no source at all", "source": None}],
             [{"text": "The cat sat on the mat and purred.", "source": "a.txt:1"},
              {"text": "zzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "source": "a.txt:1"}], "edit distance", items=_text_items()),
        Case({"unit": "words", "range": [0.1, 1.0]},
             [{"text": "The dog sat on the mat and purred.", "source": "a.txt:1"}],
             [{"text": "The  cat sat on  the mat and purred.", "source": "a.txt:1"}], "near copy", items=_text_items()),
    ],
    "text_oov_share": [
        Case({"max_share": 0.3}, [{"text": "the dog sat on the mat"}, {"text": "123 !!!"}],
             [{"text": "the xyzzy plugh frobnicated quux"}], "vocabulary", items=_text_items()),
    ],
    "text_script": [
        Case({"max_share": 0.1},
             [{"text": "The cat sat, happily.", "source": "a.txt:1"}, {"text": "A dog ran", "source": None},
              {"text": "12345", "source": "a.txt:1"}],
             [{"text": "The кошка сидела on the mat", "source": "a.txt:1"}, {"text": "Привет мир", "source": None},
              {"text": "猫が座った", "source": "a.txt:1"}], "letters are", items=_text_items()),
    ],
    "text_block_list": [
        Case({"patterns": [r"bad\s+word", "forbidden"]}, [{"text": "a good text"}, {"text": "bad-word is fine"}],
             [{"text": "a BAD  word here"}, {"text": "FORBIDDEN fruit"}], "block-list pattern"),
    ],
    "text_exact_duplicate": [
        Case({"against": "items_and_candidates", "ignore_punctuation": True},
             [{"text": "something new"}, {"text": "fresh text"}],
             [{"text": "hello world!"}, {"text": "Seen  before."}, {"text": "FRESH TEXT"}], "the same text as",
             items=_text_items(), kept=[{"id": 900, "text": "seen before"}]),
    ],
    "text_near_duplicate": [
        Case({"threshold": 0.8},
             [{"text": "an entirely different sentence about cats and dogs"}],
             [{"text": "the quick brown fox jumps over the lazy dog near the river banks"},
              {"text": "a kept text that nobody else has written yet!"}], "near duplicate",
             items=_text_items(), kept=[{"id": 901, "text": "A kept text that nobody else has written yet"}]),
    ],
    "image_decodes": [Case({}, [{"image": NOISE}, {"image": FLAT[..., 0]}], [{"blob": "0" * 64}], "does not decode")],
    "image_size": [
        Case({"dimension": "width", "range": [32, 128]}, [{"image": NOISE}, {"image": NOISE[:10]}],
             [{"image": NOISE[:, :16]}, {"image": np.zeros((8, 200, 3), np.uint8)}], "width"),
        Case({"dimension": "height", "range": [32, 128]}, [{"image": NOISE}], [{"image": NOISE[:16]}], "height"),
    ],
    "image_aspect": [
        Case({"range": [0.5, 2.0]}, [{"image": NOISE}, {"image": NOISE[:40]}],
             [{"image": NOISE[:10]}, {"image": NOISE[:, :10]}], "aspect ratio"),
    ],
    "image_not_blank": [
        Case({"min_std": 2.0}, [{"image": NOISE}, {"image": SRC}], [{"image": FLAT}, {"image": FLAT[..., 0]}], "blank"),
    ],
    "image_exposure": [
        Case({"side": "dark", "max_share": 0.5}, [{"image": NOISE}, {"image": BRIGHT}], [{"image": DARK}], "under-exposed"),
        Case({"side": "bright", "max_share": 0.5}, [{"image": NOISE}, {"image": DARK}], [{"image": BRIGHT}], "over-exposed"),
    ],
    "image_color_mode": [
        Case({"modes": ["RGB"]}, [{"image": NOISE}], [{"image": NOISE[..., 0]}, {"image": np.dstack([NOISE, NOISE[..., :1]])}],
             "colour mode"),
        Case({"modes": ["L", "RGB"]}, [{"image": NOISE}, {"image": NOISE[..., 0]}], [{"image": np.dstack([NOISE, NOISE[..., :1]])}],
             "RGBA"),
    ],
    "image_source_distance": [
        Case({"range": [0, 12]},
             [{"image": jitter(SRC), "source": "src.png"}, {"image": SRC[:, ::-1].copy(), "source": "src.png"},
              {"image": OTHER, "source": None}],
             [{"image": OTHER, "source": "src.png"}], "too far", items=_IMG_ITEMS, item_images=_IMG_IMAGES),
        Case({"range": [1, 64], "mirror": False},
             [{"image": OTHER, "source": "src.png"}],
             [{"image": SRC, "source": "src.png"}, {"image": SRC // 2 + 40, "source": "src.png"}],
             "near copy", items=_IMG_ITEMS, item_images=_IMG_IMAGES),
    ],
    "image_source_difference": [
        Case({"min_diff": 1.0},
             [{"image": np.clip(SRC.astype(int) + 30, 0, 255).astype(np.uint8), "source": "src.png"},
              {"image": OTHER, "source": "src.png"}, {"image": SRC, "source": None}],
             [{"image": SRC, "source": "src.png"}, {"image": _area(SRC, 32), "source": "src.png"},
              {"image": _gray(SRC), "source": "src.png"}],
             "a copy of its source", items=_IMG_ITEMS, item_images=_IMG_IMAGES),
    ],
    "image_near_duplicate": [
        Case({"radius": 4}, [{"image": OTHER}, {"image": NOISE}],
             [{"image": jitter(SRC)}, {"image": jitter(OTHER, 2, 5)}], "near duplicate",
             kept=[{"id": 902, "image": SRC}]),
        Case({"radius": 4, "against": "items_and_candidates"}, [{"image": NOISE}],
             [{"image": jitter(OTHER, 2, 9)}], "the real item other.png", items=_IMG_ITEMS, item_images=_IMG_IMAGES),
    ],
}


def _build(case: Case, modality: str) -> tuple[RuleContext, Callable[[int, dict[str, Any]], Subject]]:
    ctx_holder: dict[str, RuleContext] = {}

    def make(i: int, spec: dict[str, Any]) -> Subject:
        spec = dict(spec)
        cid = spec.pop("id", i)
        source = spec.pop("source", None)
        return Subject(ctx_holder["ctx"], cid, source_key=source, **spec)

    ctx = RuleContext.in_memory(modality, case.items, case.item_images)
    ctx_holder["ctx"] = ctx
    ctx._memory_kept = [make(0, k) for k in case.kept]
    return ctx, make


def test_every_rule_kind_has_cases():
    assert set(rule_kinds()) == set(CASES), "add a CASES entry for every new rule kind"


@pytest.mark.parametrize("kind", sorted(CASES))
def test_rule_passes_and_fails_crafted_inputs(kind):
    cls = rule_kinds()[kind]
    for case in CASES[kind]:
        rule = build_rule(kind, case.params)
        ctx, make = _build(case, cls.modality)
        rule.prepare(ctx)
        passing = [make(i + 1, s) for i, s in enumerate(case.passing)]
        verdicts = rule.evaluate(passing)
        assert len(verdicts) == len(passing)
        for s, v in zip(passing, verdicts):
            assert v.passed, (kind, case.params, s, v)
        # then the failing ones, one at a time, after the passing ones (which duplicate rules now keep)
        for i, spec in enumerate(case.failing):
            s = make(100 + i, spec)
            (v,) = rule.evaluate([s])
            assert not v.passed, (kind, case.params, spec, v)
            assert case.reason in v.reason, (kind, v.reason)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_defaults_are_valid_and_json_shape(kind):
    rule = build_rule(kind)
    data = rule.to_json()
    assert list(data) == ["id", "kind", "state", "params", "explanation"]
    assert data["id"] == kind and data["state"] == "proposed"
    assert set(data["params"]) == set(rule.params.names())
    again = build_rule(kind, data["params"], id=data["id"])
    assert again.to_json() == data
    lo, hi = rule.bounds()
    assert lo is None or hi is None or lo <= hi
    desc = rule.describe()
    assert desc["modality"] in ("image", "text") and desc["title"] and desc["help"]


def test_text_length_measures_value():
    rule = build_rule("text_length", {"unit": "chars", "range": [1, 3]})
    ctx = RuleContext.in_memory("text")
    (v,) = rule.evaluate([Subject(ctx, 1, text="hello")])
    assert (v.passed, v.value) == (False, 5.0)
    assert v.reason == "5 characters: longer than the allowed 1-3"


def test_edit_distance_without_source_passes_with_reason():
    rule = build_rule("text_edit_distance")
    ctx = RuleContext.in_memory("text")
    (v,) = rule.evaluate([Subject(ctx, 1, text="x")])
    assert v.passed and v.value is None and "no source" in v.reason


def test_exact_duplicate_within_one_batch_keeps_the_first():
    rule = build_rule("text_exact_duplicate", {"against": "candidates"})
    ctx = RuleContext.in_memory("text", [text_item("k", "dup")])
    rule.prepare(ctx)
    v = rule.evaluate([Subject(ctx, 1, text="Same thing"), Subject(ctx, 2, text="same thing!"), Subject(ctx, 3, text="dup")])
    assert [x.passed for x in v] == [True, False, True]  # 'items' are not compared with this setting
    assert "candidate #1" in v[1].reason


def test_stateful_rule_forgets_candidates_a_later_rule_rejected():
    """A is new to the exact-duplicate rule but a near duplicate of a real item; B repeats A.
    B must be credited to the near-duplicate rule, not to 'a duplicate of A' (A was not kept)."""
    item = text_item("i", "the quick brown fox jumps over the lazy dog near the river bank")
    ctx = RuleContext.in_memory("text", [item])
    exact = build_rule("text_exact_duplicate", {"against": "candidates"}, id="exact")
    near = build_rule("text_near_duplicate", {"threshold": 0.8}, id="near")
    run = RuleRun([near, exact], ctx)
    assert [r.id for r in run.rules] == ["exact", "near"]
    run.prepare()
    text = "the quick brown fox jumps over the lazy dog near the river banks"
    out = run.evaluate([Subject(ctx, 1, text=text), Subject(ctx, 2, text=text), Subject(ctx, 3, text="unrelated words")])
    assert out[0] is not None and out[0][0].id == "near"
    assert out[1] is not None and out[1][0].id == "near"
    assert out[2] is None


def test_undecodable_image_fails_every_image_rule():
    ctx = RuleContext.in_memory("image")
    for kind, cls in rule_kinds("image").items():
        rule = build_rule(kind)
        rule.prepare(ctx)
        (v,) = rule.evaluate([Subject(ctx, 1, blob="f" * 64)])
        assert not v.passed and "does not decode" in v.reason, kind


def test_sixteen_bit_and_float_images_are_normalised():
    ctx = RuleContext.in_memory("image")
    s16 = Subject(ctx, 1, image=(NOISE.astype(np.uint16) * 257))
    sf = Subject(ctx, 2, image=NOISE.astype(np.float32) / 255.0)
    assert s16.image.dtype == np.uint8 and np.array_equal(s16.image, NOISE)
    assert sf.image.dtype == np.uint8 and np.abs(sf.image.astype(int) - NOISE).max() <= 1


# ---- parameters ----------------------------------------------------------------------------------------
def test_bad_params_name_their_json_path():
    with pytest.raises(RuleError) as exc:
        build_rule("text_length", {"range": [5, 1]}, path="$.rules[3]")
    assert exc.value.path == "$.rules[3].params.range"
    with pytest.raises(RuleError) as exc:
        build_rule("image_color_mode", {"modes": ["RGB", "CMYK"]})
    assert exc.value.path == "$.params.modes[1]"
    with pytest.raises(RuleError) as exc:
        build_rule("text_length", {"bogus": 1})
    assert exc.value.path == "$.params.bogus"
    with pytest.raises(RuleError) as exc:
        build_rule("no_such_rule")
    assert exc.value.path == "$.kind"
    with pytest.raises(RuleError) as exc:
        build_rule("text_length", id="Bad Id")
    assert exc.value.path == "$.id"
    with pytest.raises(RuleError):
        build_rule("text_length", {"range": [1, 10**400]})


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [("(a+", "not a valid pattern"), ("x" * 501, "longer than"), ("", "empty"), ("a{1000}b{1000}", "counted repeats"),
     ("(?:(?:a{100}){100}){100}", "counted repeats")],
)
def test_block_list_refuses_unbounded_or_bad_patterns(pattern, fragment):
    with pytest.raises(RuleError) as exc:
        build_rule("text_block_list", {"patterns": ["ok", pattern]})
    assert exc.value.path == "$.params.patterns[1]"
    assert fragment in exc.value.message


def test_block_list_catastrophic_patterns_return_quickly():
    ctx = RuleContext.in_memory("text")
    for pattern, text in (("(a+)+$", "a" * 40 + "b"), ("(x+x+)+y", "x" * 5000), (r"(\w+\s?)+$", "word " * 400 + "!")):
        for on_timeout in ("reject", "pass"):
            rule = build_rule("text_block_list", {"patterns": [pattern], "timeout": 0.05, "on_timeout": on_timeout})
            t0 = time.monotonic()
            (v,) = rule.evaluate([Subject(ctx, 1, text=text)])
            assert time.monotonic() - t0 < 1.0, pattern
            if not v.passed:
                assert on_timeout == "reject" and "ran out of time" in v.reason


def test_block_list_searches_only_max_chars():
    rule = build_rule("text_block_list", {"patterns": ["needle"], "max_chars": 100})
    ctx = RuleContext.in_memory("text")
    v = rule.evaluate([Subject(ctx, 1, text="x" * 200 + "needle"), Subject(ctx, 2, text="x needle")])
    assert [x.passed for x in v] == [True, False]


# ---- text helpers ------------------------------------------------------------------------------------------
def test_scripts():
    assert char_script("a") == "Latin" and char_script("ж") == "Cyrillic" and char_script("λ") == "Greek"
    assert char_script("猫") == "Han" and char_script("ا") == "Arabic" and char_script("가") == "Hangul"
    assert script_counts("Ｈｅｌｌｏ") == {"Latin": 5}  # full-width letters are Latin after NFKC
    assert script_counts("Καλημέρα κόσμε") == {"Greek": 13}
    assert script_counts("123 !!") == {}


def test_words_and_ngrams():
    assert words("Don't STOP, 42 times!") == ["don't", "stop", "times"]
    assert repeated_ngram_ratio("a b a b a b", 2) == pytest.approx(1 - 2 / 5)
    assert repeated_ngram_ratio("one", 3) == 0.0
    assert normalize_text("  Héllo,\tWORLD!! ") == "héllo world"
    assert normalize_text("Ｈｅｌｌｏ") == "hello"


# ---- perceptual hashes and the Hamming index -----------------------------------------------------------------
def test_perceptual_hashes_are_stable_and_robust():
    import cv2

    gray = cv2.cvtColor(SRC, cv2.COLOR_RGB2GRAY)
    for fn in (phash, dhash):
        h = fn(gray)
        assert 0 <= h < 2**64 and h == fn(gray.copy())
        assert hamming(h, fn(cv2.cvtColor(jitter(SRC), cv2.COLOR_RGB2GRAY))) <= 6
        assert hamming(h, fn(cv2.resize(gray, (128, 128)))) <= 6
        assert hamming(h, fn(cv2.cvtColor(OTHER, cv2.COLOR_RGB2GRAY))) >= 16


@pytest.mark.parametrize("radius", [0, 1, 3, 4, 6, 9])
def test_hamming_index_matches_brute_force(radius):
    rng = np.random.default_rng(radius)
    base = [int(x) for x in rng.integers(0, 2**63, 400, dtype=np.int64)]
    hashes = []
    for h in base:  # plant neighbours at every distance up to 12
        hashes.append(h)
        for _ in range(2):
            d = int(rng.integers(0, 13))
            bits = rng.choice(64, d, replace=False)
            hashes.append(h ^ sum(1 << int(b) for b in bits))
    index = HammingIndex(radius)
    index.add_many(enumerate(hashes[:600]))
    index.remove(5)
    stored = {i: h for i, h in enumerate(hashes[:600]) if i != 5}
    for q in hashes[600:700]:
        expected = sorted((i, hamming(q, h)) for i, h in stored.items() if hamming(q, h) <= radius)
        assert sorted(index.query(q)) == expected
    assert len(index) == 599 and 5 not in index


# ---- MinHash + LSH ------------------------------------------------------------------------------------------
def test_shingles_respect_text_boundaries():
    h, starts = shingle_hashes(["abcdef", "", "xy", "abcdef"], 3)
    assert starts.tolist() == [0, 4, 5, 6, 10]
    assert np.array_equal(h[0:4], h[6:10])  # same text, same shingles
    assert len(set(h[0:4].tolist())) == 4


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.85, 0.9, 1.0])
@pytest.mark.parametrize("num_perm", [32, 64, 128])
def test_lsh_params_fit_the_threshold(threshold, num_perm):
    b, r = lsh_params(threshold, num_perm)
    assert b * r <= num_perm
    assert 1 - (1 - threshold**r) ** b >= 0.99  # a pair at the threshold is almost surely looked at
    if threshold >= 0.7:
        assert 1 - (1 - 0.05**r) ** b < 0.05  # an unrelated pair almost never is
    if threshold >= 0.85:
        assert 1 - (1 - 0.2**r) ** b < 0.05


def _jaccard(a: str, b: str, n: int = 5) -> float:
    sa = {a[i : i + n] for i in range(len(a) - n + 1)}
    sb = {b[i : i + n] for i in range(len(b) - n + 1)}
    return len(sa & sb) / len(sa | sb)


@pytest.mark.parametrize("threshold", [0.7, 0.85])
def test_near_duplicate_index_finds_pairs_above_threshold_and_only_those(threshold):
    rng = np.random.default_rng(7)
    vocab = [f"word{i}" for i in range(3000)]
    texts = [" ".join(rng.choice(vocab, 20)) for _ in range(300)]
    near = []
    for k, t in enumerate(texts[:200]):  # change one, two or three words of twenty
        ws = t.split()
        for j in rng.choice(20, 1 + k % 3, replace=False):
            ws[int(j)] = "zz"
        near.append(" ".join(ws))
    index = NearDuplicateIndex(threshold)
    for i, p in enumerate(index.prepare(texts)):
        index.add(i, p)
    should = missed = 0
    for i, p in enumerate(index.prepare(near)):
        hits = dict(index.query(p))
        for key, j in hits.items():
            assert j >= threshold and j == pytest.approx(_jaccard(near[i], texts[key]))
        if _jaccard(near[i], texts[i]) >= threshold:
            should += 1
            missed += i not in hits
    assert should >= 50
    assert missed <= max(1, should // 50)  # recall >= 98%
    for p in index.prepare([" ".join(rng.choice(vocab, 20)) for _ in range(100)]):
        assert index.query(p) == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_ascii_fast_paths_match_the_general_ones(text):
    from genaug_desktop.core.rules.text_rules import _non_letter_share

    visible = [c for c in text if not c.isspace()]
    expected = sum(1 for c in visible if not c.isalpha()) / len(visible) if visible else 0.0
    assert _non_letter_share(text) == pytest.approx(expected)
    letters = sum(1 for c in text if c.isalpha())
    assert script_counts(text) == ({"Latin": letters} if letters else {})
