"""The text adapters' fast path gives exactly what the stock path gives.

``NlpaugOp.apply`` calls the augmenter's action method (``aug.delete(text)``...) instead of
``aug.augment(text)``, and its ``sample`` writes ``random.Random.sample`` out instead of calling it.
Both exist only to make the adapter cheaper (benchmarks/bench_text_ops.py); neither may change a
single output, or seeded candidates and the provenance of existing projects would no longer replay.
These tests compare the fast path with the stock one: the sampler draw by draw (same values, same
generator state afterwards), and every nlpaug-backed op over many seeds, configurations and awkward
texts against a twin augmenter run through ``augment()`` with the stock ``Random.sample``, and
pins digests of the outputs the adapter gave before either existed.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genaug_desktop.core.ops import build_op, registry
from genaug_desktop.core.ops import text as text_ops

from .test_text_ops import (  # noqa: F401 - fixtures used by name
    EXAMPLES, ODD_INPUTS, REVIEW, SENTENCES, WORDNET_OPS, no_network, ready, stress_configs, wordnet,
)

NLPAUG_OPS = sorted(
    n for n, c in registry().items() if isinstance(c, type) and issubclass(c, text_ops.NlpaugOp)
)

#: every input of the registry-wide odd-input test plus texts that reach other branches
TEXTS = (
    *ODD_INPUTS, SENTENCES, REVIEW, "word", "Hello", "  two words ", "The  cat\tsat.\n", "é", "A. B. C.",
    "It's 3.50 $ at 10:30 — well-known, isn't it?", "Ça coûte 12,50 € à Zürich; naïve café.",
    "i think i can", " ".join(["extraordinarily"] * 40), SENTENCES * 6,
)
SEEDS = (0, 1, 2, 7, 42, 1234, 99_991, 2**31 - 1, *range(100_000, 100_000 + 30 * 7919, 7919))


def _stock_sample(x: Any, num: int | None = None) -> Any:
    """The adapter's sampler as it was: the standard library's ``sample`` and ``randrange``."""
    rng = text_ops._local.rng
    if isinstance(x, list):
        return rng.sample(x, num)
    if isinstance(x, int):
        return rng.randrange(1, x - 1)
    return None


def _drawing(rng: random.Random, call: Any) -> Any:
    """Run ``call`` with ``rng`` as the adapter's current generator; the result, or the exception type."""
    text_ops._local.rng = rng
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return type(exc)
    finally:
        text_ops._local.rng = None


def _same_draws(seed: int, x: Any, num: Any) -> None:
    fast, stock = random.Random(seed), random.Random(seed)
    got = _drawing(fast, lambda: text_ops._sample(x, num))
    want = _drawing(stock, lambda: _stock_sample(x, num))
    assert got == want, (seed, len(x) if isinstance(x, list) else x, num)
    assert fast.getstate() == stock.getstate(), "a different number of draws"


# ---- the sampler -------------------------------------------------------------------------------------
def test_sample_matches_random_sample_on_both_branches_and_their_edges():
    # Random.sample keeps a pool for n <= 21 (k <= 5), 21 + 4**ceil(log4(3k)) otherwise, else a set.
    sizes = [*range(0, 40), 84, 85, 86, 340, 341, 342, 1000, 5000]
    for n in sizes:
        population = [f"t{i}" for i in range(n)]
        counts = sorted({*range(0, min(n, 12) + 1), n // 3, n // 2, max(n - 1, 0), n})
        for num in counts:
            for seed in (0, 1, 97, 2**31 - 1):
                _same_draws(seed, population, num)


def test_sample_keeps_the_stock_errors_and_odd_arguments():
    for x, num in (([1, 2], 3), ([1, 2], -1), ([], 1), ([1, 2], None), ([1, 2, 3], 1.0), ([1, 2, 3], True),
                   ((1, 2, 3), 2), ("abc", 1), (None, 1)):
        _same_draws(5, x, num)


def test_split_point_matches_randrange():
    for length in [*range(-2, 60), 255, 256, 257, 10_000]:
        for seed in (0, 3, 2**31 - 1):
            _same_draws(seed, length, None)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 3000), share=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_sample_matches_random_sample_for_any_size(n: int, share: float, seed: int):
    _same_draws(seed, list(range(n)), round(n * share))


def test_the_draws_continue_from_the_same_state():
    """Several samples in a row (as a char op makes per text) stay in step with the stock ones."""
    fast, stock = random.Random(11), random.Random(11)
    for n, num in ((17, 5), (4, 1), (30, 9), (12, 12), (200, 7), (6, 2), (9, 1)):
        population = list(range(n))
        assert _drawing(fast, lambda: text_ops._sample(population, num)) == _drawing(
            stock, lambda: _stock_sample(population, num))
    assert fast.getstate() == stock.getstate()


# ---- the direct call -----------------------------------------------------------------------------------
def _stock_twin(op: Any) -> Any:
    """The same op running a separate augmenter through ``augment()`` and the stock sampler."""
    twin = build_op(op.name, op.values)
    aug = op._build()
    aug.sample = _stock_sample
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(text_ops, "_DIRECT_CALL_NLPAUG", frozenset())
        twin._act = text_ops._action_of(aug)
    assert twin._act.__name__ == "via_augment"
    return twin


@pytest.mark.parametrize("name", NLPAUG_OPS)
def test_fast_path_gives_what_augment_gives(name: str, ready: Any):
    seeds = SEEDS[:12] if name in WORDNET_OPS else SEEDS  # WordNet look-ups are slow
    compared = changed = 0
    for values in stress_configs(ready(name)):
        op = build_op(name, values)
        aug = op._augmenter()
        assert op._action() == getattr(aug, aug.action), f"{name}: the direct call is not in use"
        twin = _stock_twin(op)
        for text in TEXTS:
            for seed in seeds:
                got = op.apply(text, seed=seed)
                assert got == twin.apply(text, seed=seed), (values, text, seed)
                compared += 1
                changed += got != text
    assert changed > compared // 10, f"{name} changed only {changed} of {compared} texts: a weak comparison"


def test_a_character_op_does_not_load_the_word_augmenters():
    """Checking for nlpaug's word base class must not import it: that package loads nltk and more."""
    code = (
        "import sys\n"
        "from genaug_desktop.core.ops import build_op\n"
        "op = build_op('keyboard_typo')\n"
        "assert op.apply('The weather is lovely today.', seed=3) != 'The weather is lovely today.'\n"
        "assert op._act == op._augmenter().substitute, op._act\n"
        "print(sorted(m for m in sys.modules if m.startswith('nlpaug.augmenter.word')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_an_unverified_nlpaug_version_goes_through_augment(monkeypatch: pytest.MonkeyPatch):
    import nlpaug

    op = build_op("random_word_delete", EXAMPLES["random_word_delete"][0])
    expected = [op.apply(SENTENCES, seed=s) for s in range(20)]
    monkeypatch.setattr(nlpaug, "__version__", "1.2.0")
    again = build_op("random_word_delete", EXAMPLES["random_word_delete"][0])
    assert again._action().__name__ == "via_augment"
    assert [again.apply(SENTENCES, seed=s) for s in range(20)] == expected


# ---- pinned outputs ------------------------------------------------------------------------------------
#: Texts, configurations and seeds whose outputs are pinned below (kept literal: editing the shared
#: tables above must not move the pins).
GOLDEN_TEXTS = (
    "", " ", "a", "I", "!!!", "don't", "😀 🎉", "日本語のテキスト。次の文です。", "x" * 300, "word " * 60,
    "Mr. Smith went to Washington. He left!", "  padded text with spaces  ", "Ünïcödé wörds ärë hérë",
    "tab\tseparated\nlines\n", "It's 3.50 $ at 10:30 — well-known, isn't it?",
    "The quick brown fox jumps over the lazy dog. It wasn't happy; the weather was good and warm! "
    "Then they ran home because the long evening was cold.",
    "I believe this is definitely the best restaurant in town, although the service was slow and bad.",
)
GOLDEN_SEEDS = range(0, 2**31 - 1, 2**31 // 40)
#: op -> (configuration, digest with the defaults, digest with the configuration), recorded with the
#: adapter as it was before the direct call (nlpaug 1.1.11, CPython 3.11, any PYTHONHASHSEED)
GOLDEN: dict[str, tuple[dict[str, Any], str, str]] = {
    "keyboard_typo": ({"aug_char_p": 0.2, "aug_word_p": 0.4, "stopwords": ["fox"]},
                      "e7894c7888869ecb", "7e30a4fb46ac3d03"),
    "ocr_error": ({"aug_char_p": 0.5, "aug_word_count": [2, 8]}, "46d7322cb3151479", "042926e8d099ad2d"),
    "random_char_insert": ({"include_numeric": False, "spec_char": "", "aug_word_p": 0.5},
                           "0526f0add460acab", "e8525ea0550327bb"),
    "random_char_substitute": ({"candidates": ["#", "%"], "aug_char_count": [1, 2]},
                               "b1659bcc9b302202", "dfc12bda9dd8d699"),
    "random_char_swap": ({"swap_mode": "middle", "min_char": 5}, "1a0693fad2ea7485", "f4d1e11a02140903"),
    "random_char_delete": ({"aug_char_p": 0.5}, "499357a9917885dc", "d4d513fb3575a494"),
    "random_word_swap": ({"aug_word_p": 0.5}, "9439e2752197707f", "357c8df57de97357"),
    "random_word_delete": ({"aug_word_p": 0.3, "stopwords": ["dog"]}, "39faffb44ffd6762", "d8cf5f91da7f118a"),
    "random_word_crop": ({"aug_word_p": 0.4, "aug_word_count": [2, 5]}, "b0b3063bded9c9bc", "b7f22dd1611b973b"),
    "random_word_substitute": ({"target_words": ["[MASK]", "<unk>"], "aug_word_p": 0.3},
                               "9f9d03ad54b4f4dd", "37be9df7c610360c"),
    "spelling_mistake": ({"aug_word_p": 0.5}, "046267c2ddc61d5c", "5d3dd9c84ef3a6fd"),
    "split_word": ({"min_char": 5}, "71cf18c89112f03d", "f23b7bb91930c9cd"),
}


def _digest(name: str, values: dict[str, Any]) -> str:
    op = build_op(name, values)
    outputs = [op.apply(text, seed=seed) for text in GOLDEN_TEXTS for seed in GOLDEN_SEEDS]
    return hashlib.sha256(json.dumps(outputs, ensure_ascii=False).encode()).hexdigest()[:16]


def test_every_op_without_data_files_has_pinned_outputs():
    assert sorted(GOLDEN) == sorted(n for n in NLPAUG_OPS if n not in WORDNET_OPS)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_outputs_are_the_ones_existing_projects_recorded(name: str):
    """Seeded candidates in existing projects replay only if these never move. A failure after an
    nlpaug or Python upgrade means that upgrade changes augmented texts: say so, don't re-pin quietly."""
    values, with_defaults, with_values = GOLDEN[name]
    assert (_digest(name, {}), _digest(name, values)) == (with_defaults, with_values)
