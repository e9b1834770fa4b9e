"""The text adapters' fast path gives exactly what the stock path gives.

``NlpaugOp.apply`` calls the augmenter's action method (``aug.delete(text)``...) instead of
``aug.augment(text)``, and its ``sample`` writes ``random.Random.sample`` out instead of calling it.
Both exist only to make the adapter cheaper (benchmarks/bench_text_ops.py); neither may change a
single output, or seeded candidates and the provenance of existing projects would no longer replay.
These tests compare the fast path with the stock one: the sampler draw by draw (same values, same
generator state afterwards), and every nlpaug-backed op over many seeds, configurations and awkward
texts against a twin augmenter run through ``augment()`` with the stock ``Random.sample``.
"""

from __future__ import annotations

import random
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


def test_an_unverified_nlpaug_version_goes_through_augment(monkeypatch: pytest.MonkeyPatch):
    import nlpaug

    op = build_op("random_word_delete", EXAMPLES["random_word_delete"][0])
    expected = [op.apply(SENTENCES, seed=s) for s in range(20)]
    monkeypatch.setattr(nlpaug, "__version__", "1.2.0")
    again = build_op("random_word_delete", EXAMPLES["random_word_delete"][0])
    assert again._action().__name__ == "via_augment"
    assert [again.apply(SENTENCES, seed=s) for s in range(20)] == expected
