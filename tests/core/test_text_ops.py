"""Registry-wide tests for every text op (nlpaug adapters, sentence shuffle) and the text pre-processing ops.

Every random text op in the registry must have an entry in :data:`EXAMPLES` (a configuration and a
text it changes); a new op without one fails :func:`test_every_text_op_has_an_example`. The
WordNet ops run when nltk is installed and the WordNet data is either on nltk's path or installable
from Debian's /usr/share/wordnet (see docs/wordnet.md); otherwise their tests are skipped with the
reason and only their "unavailable" behaviour is checked. No test may touch the network: every
socket connection raises.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import random
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from genaug_desktop.core.ops import build_op, registry
from genaug_desktop.core.ops import text as text_ops
from genaug_desktop.core.params import Param, ParamError

TEXT_OPS = sorted(n for n, c in registry().items() if c.modality == "text" and not c.preprocess)
WORDNET_OPS = ("antonym", "synonym")

SENTENCES = (
    "The quick brown fox jumps over the lazy dog. It wasn't happy; the weather was good and warm! "
    "Then they ran home because the long evening was cold."
)
REVIEW = "I believe this is definitely the best restaurant in town, although the service was slow and bad."

#: a configuration of every random text op and a text it changes
EXAMPLES: dict[str, tuple[dict[str, Any], str]] = {
    "keyboard_typo": ({"aug_char_p": 0.2, "aug_word_p": 0.4, "lang": "en", "stopwords": ["fox"]}, SENTENCES),
    "ocr_error": ({"aug_char_p": 0.5, "aug_word_count": [2, 8]}, SENTENCES),
    "random_char_insert": ({"include_numeric": False, "spec_char": "", "aug_word_p": 0.5}, SENTENCES),
    "random_char_substitute": ({"candidates": ["#", "%"], "aug_char_count": [1, 2]}, SENTENCES),
    "random_char_swap": ({"swap_mode": "middle", "min_char": 5}, SENTENCES),
    "random_char_delete": ({"aug_char_p": 0.5}, SENTENCES),
    "random_word_swap": ({"aug_word_p": 0.5}, SENTENCES),
    "random_word_delete": ({"aug_word_p": 0.3, "stopwords": ["dog"]}, SENTENCES),
    "random_word_crop": ({"aug_word_p": 0.4, "aug_word_count": [2, 5]}, SENTENCES),
    "random_word_substitute": ({"target_words": ["[MASK]", "<unk>"], "aug_word_p": 0.3}, SENTENCES),
    "spelling_mistake": ({"aug_word_p": 0.5}, REVIEW),
    "split_word": ({"min_char": 5}, SENTENCES),
    "synonym": ({"aug_word_p": 0.5}, REVIEW),
    "antonym": ({"aug_word_p": 1.0}, "The happy man was good and fast, but the old dog was bad and slow."),
    "sentence_shuffle": ({}, SENTENCES),
}

#: inputs every op must survive (returned as text; blank ones unchanged)
ODD_INPUTS = (
    "", " ", "\n\t ", "a", "I", ".", "!!!", "ab", "a b", "Hi.", "don't", "😀 🎉", "日本語のテキスト。次の文です。",
    "x" * 300, "1 2 3", "word " * 60, "'quoted'", '"', "(", "-", "Mr. Smith went to Washington. He left!",
    "  padded text with spaces  ", "Ünïcödé wörds ärë hérë", "CAPS LOCK TEXT", "tab\tseparated\nlines\n",
)


# ---- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test that made it."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a text op tried to reach the network: {args[1:] if len(args) > 1 else args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


_wordnet_setup: dict[str, Any] = {}


def _prepare_wordnet(tmp_root: Path) -> tuple[str | None, str | None]:
    """(NLTK data folder to add or None if nltk already finds WordNet, reason to skip or None)."""
    if importlib.util.find_spec("nltk") is None:
        return None, f"nltk is not installed (pip install nltk; see {text_ops.WORDNET_DOC})"
    ok, why = text_ops.wordnet_status()
    if ok:
        return None, None
    if not (Path(text_ops.DEBIAN_WORDNET_DIR) / "index.sense").is_file():
        return None, (f"no WordNet data on nltk's path nor in {text_ops.DEBIAN_WORDNET_DIR} "
                      f"(apt-get install wordnet-base wordnet-sense-index; see {text_ops.WORDNET_DOC})")
    folder = text_ops.install_wordnet_from_debian(tmp_root / "nltk_data")
    import nltk

    nltk.data.path.insert(0, folder)
    ok, why = text_ops.wordnet_status()
    return (folder, None) if ok else (None, f"WordNet installed from Debian is not usable: {why}")


@pytest.fixture(scope="session")
def wordnet(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """Make the WordNet ops available if this machine can (returns an extra NLTK_DATA folder), else skip."""
    if "result" not in _wordnet_setup:
        _wordnet_setup["result"] = _prepare_wordnet(tmp_path_factory.mktemp("wordnet"))
    folder, skip = _wordnet_setup["result"]
    if skip:
        pytest.skip(skip)
    return folder


@pytest.fixture
def ready(request: pytest.FixtureRequest) -> Any:
    """``ready(name)``: the op's class, after enabling WordNet if it needs it (skips if that is impossible)."""

    def get(name: str) -> Any:
        if name in WORDNET_OPS:
            request.getfixturevalue("wordnet")
        cls = registry()[name]
        ok, why = cls.availability()
        if not ok:
            pytest.skip(f"{name} is unavailable here: {why}")
        return cls

    return get


def run(name: str, text: str, values: dict[str, Any] | None = None, seed: int = 0) -> tuple[Any, str, dict]:
    op = build_op(name, EXAMPLES[name][0] if values is None else values)
    drawn = op.sample_params(np.random.default_rng(seed), text)
    return op, op.apply(text, **drawn), drawn


def child_env(extra_nltk_data: str | None, hash_seed: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    if extra_nltk_data:
        env["NLTK_DATA"] = os.pathsep.join(p for p in (extra_nltk_data, os.environ.get("NLTK_DATA")) if p)
    return env


# ---- the registry and the tables ---------------------------------------------------------------------
def test_registry_has_the_text_ops_the_issue_asks_for():
    wanted = {
        "keyboard_typo", "ocr_error", "random_char_insert", "random_char_substitute", "random_char_swap",
        "random_char_delete", "random_word_swap", "random_word_delete", "random_word_crop",
        "random_word_substitute", "spelling_mistake", "split_word", "synonym", "antonym", "sentence_shuffle",
    }
    assert wanted <= set(TEXT_OPS)


def test_every_text_op_has_an_example():
    """A new text op must be added to EXAMPLES; a removed one must leave it."""
    assert sorted(set(TEXT_OPS) - set(EXAMPLES)) == [], "text ops with no EXAMPLES entry"
    assert sorted(set(EXAMPLES) - set(TEXT_OPS)) == [], "EXAMPLES entries for ops that are not registered"


@pytest.mark.parametrize("name", TEXT_OPS)
def test_declaration_is_complete_and_availability_never_crashes(name: str):
    cls = registry()[name]
    assert cls.category in ("Typos", "Words", "Sentences", "Synonyms")
    assert cls.help
    described = cls.describe()
    json.dumps(described, allow_nan=False)
    available, why = cls.availability()
    assert isinstance(available, bool)
    if available:
        assert why is None
    else:
        assert isinstance(why, str) and why.strip(), "an unavailable op must say why"
    for p in cls.params:
        assert p.help, f"{name}.{p.name} has no help text"
        p.validate(p.default, f"$.params.{p.name}")


@pytest.mark.parametrize("name", TEXT_OPS)
def test_builds_with_defaults_and_example_values_round_trip_through_json(name: str):
    op = build_op(name)
    assert op.values == registry()[name].params.defaults()
    op = build_op(name, EXAMPLES[name][0])
    again = build_op(name, json.loads(json.dumps(op.values)))
    assert again.values == op.values


# ---- randomness --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TEXT_OPS)
def test_drawn_params_round_trip_through_json(name: str, ready: Any):
    ready(name)
    values, text = EXAMPLES[name]
    for seed in range(5):
        op, out, drawn = run(name, text, seed=seed)
        loaded = json.loads(json.dumps(drawn, allow_nan=False))
        assert loaded == drawn
        assert build_op(name, values).apply(text, **loaded) == out


@pytest.mark.parametrize("name", TEXT_OPS)
def test_same_seed_same_output_different_seeds_vary(name: str, ready: Any):
    ready(name)
    text = EXAMPLES[name][1]
    outputs = []
    for seed in range(12):
        _, a, drawn_a = run(name, text, seed=seed)
        _, b, drawn_b = run(name, text, seed=seed)
        assert drawn_a == drawn_b and a == b
        assert isinstance(a, str) and a.strip()
        outputs.append(a)
    assert len(set(outputs)) > 1, f"{name} gives the same text for every seed"
    assert any(o != text for o in outputs), f"{name} never changes its example text"


def stress_configs(cls: Any) -> list[dict[str, Any]]:
    """The defaults, the example, and the extremes of an op's count and size parameters."""
    configs: list[dict[str, Any]] = [{}, EXAMPLES[cls.name][0]]
    names = cls.params.names()
    if "aug_word_p" in names:
        configs += [{"aug_word_p": 1.0, "aug_word_count": [1000, 1000]}, {"aug_word_p": 0.0, "aug_word_count": [0, 1]}]
    if "aug_char_p" in names:
        configs.append({"aug_char_p": 1.0, "aug_char_count": [1000, 1000], "aug_word_p": 1.0})
    if "min_char" in names:
        configs.append({"min_char": next(p for p in cls.params if p.name == "min_char").low})
    return configs


@pytest.mark.parametrize("name", TEXT_OPS)
def test_odd_inputs_never_crash(name: str, ready: Any):
    for values in stress_configs(ready(name)):
        op = build_op(name, values)
        for text in ODD_INPUTS:
            for seed in range(4):
                out = op.apply(text, **op.sample_params(np.random.default_rng(seed), text))
                assert isinstance(out, str), (values, text)
                if not text.strip():
                    assert out == text


@pytest.mark.parametrize("name", [n for n in TEXT_OPS if n != "sentence_shuffle"])
def test_a_maximum_of_zero_changes_nothing(name: str, ready: Any):
    ready(name)
    text = EXAMPLES[name][1]
    count = "aug_char_count" if "aug_char_count" in registry()[name].params.names() else "aug_word_count"
    for field in {count, "aug_word_count"}:
        op = build_op(name, {field: [0, 0]})
        assert op.apply(text, seed=3) == text


def test_non_text_input_is_refused():
    for name in ("keyboard_typo", "sentence_shuffle"):
        with pytest.raises(TypeError):
            build_op(name).apply(None, seed=1)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [n for n in TEXT_OPS if n != "sentence_shuffle"])
def test_global_random_generators_are_neither_used_nor_disturbed(name: str, ready: Any):
    """The adapters draw from a private generator: the globals' state cannot change the output,
    and the output cannot change the globals (an nlpaug that draws from them directly fails here)."""
    ready(name)
    text = EXAMPLES[name][1]
    expected = [run(name, text, seed=s)[1] for s in range(4)]
    for scramble in (1, 2):
        random.seed(scramble)
        np.random.seed(scramble)
        before = (random.getstate(), np.random.get_state()[1].copy())
        assert [run(name, text, seed=s)[1] for s in range(4)] == expected
        after = (random.getstate(), np.random.get_state()[1])
        assert before[0] == after[0] and np.array_equal(before[1], after[1])


def test_concurrent_threads_get_the_same_results_as_one_thread():
    names = [n for n in TEXT_OPS if n not in WORDNET_OPS and registry()[n].availability()[0]]
    jobs = [(n, s) for n in names for s in range(6)]
    expected = {job: run(job[0], EXAMPLES[job[0]][1], seed=job[1])[1] for job in jobs}
    stop = threading.Event()

    def noise() -> None:  # other code using the global generators at the same time
        while not stop.is_set():
            random.random()
            np.random.random()

    noisy = threading.Thread(target=noise)
    noisy.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            got = dict(zip(jobs, pool.map(lambda job: run(job[0], EXAMPLES[job[0]][1], seed=job[1])[1], jobs * 3)))
    finally:
        stop.set()
        noisy.join()
    assert got == expected


@pytest.mark.parametrize("name", TEXT_OPS)
def test_ops_pickle_for_worker_processes(name: str, ready: Any):
    ready(name)
    op, out, drawn = run(name, EXAMPLES[name][1], seed=7)
    clone = pickle.loads(pickle.dumps(op))
    assert clone.values == op.values
    assert clone.apply(EXAMPLES[name][1], **drawn) == out


def test_augmenters_are_built_once_per_parameter_set():
    a, b = build_op("keyboard_typo"), build_op("keyboard_typo")
    c = build_op("keyboard_typo", {"aug_char_p": 0.5})
    assert a._augmenter() is b._augmenter()
    assert a._augmenter() is not c._augmenter()


CHILD = r"""
import json, random, socket, sys
import numpy as np

def refuse(*args, **kwargs):
    raise AssertionError("network access from a text op")

socket.socket.connect = refuse
socket.create_connection = refuse
random.seed(987)  # a different global state than the parent's
np.random.seed(987)
sys.path.insert(0, sys.argv[1])
from test_text_ops import outputs_for
print(json.dumps(outputs_for(json.loads(sys.argv[2]))))
"""


def outputs_for(names: list[str]) -> dict[str, list[str]]:
    """Every op's outputs for its example text and a review, seeds 0-9 (shared with the child)."""
    out = {}
    for name in names:
        values, text = EXAMPLES[name]
        out[name] = [run(name, t, values, seed=s)[1] for t in (text, REVIEW) for s in range(10)]
    return out


def test_same_seed_gives_identical_text_in_fresh_interpreters_with_other_hash_seeds(request: pytest.FixtureRequest):
    names = [n for n in TEXT_OPS if n not in WORDNET_OPS]
    extra = None
    try:
        extra = request.getfixturevalue("wordnet")
        names += list(WORDNET_OPS)
    except pytest.skip.Exception:
        pass  # the WordNet ops are covered where the data exists
    names = [n for n in names if registry()[n].availability()[0]]
    here = outputs_for(names)
    # two children with two different hash seeds (so at least one differs from this process's), in parallel
    children = {
        hash_seed: subprocess.Popen(
            [sys.executable, "-c", CHILD, os.path.dirname(__file__), json.dumps(names)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(extra, hash_seed),
        )
        for hash_seed in ("1", "4242")
    }
    results = {}
    try:
        for hash_seed, proc in children.items():
            results[hash_seed] = proc.communicate(timeout=240)
    finally:
        for proc in children.values():
            proc.kill()
            proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
    for hash_seed, (stdout, stderr) in results.items():
        assert children[hash_seed].returncode == 0, stderr[-3000:]
        there = json.loads(stdout.strip().splitlines()[-1])
        differ = sorted(n for n in names if here[n] != there[n])
        assert differ == [], f"outputs differ with PYTHONHASHSEED={hash_seed} for: {differ}"


def test_describing_every_op_loads_no_nlpaug_nltk_torch_or_pandas():
    code = (
        "import sys, json\n"
        "from genaug_desktop.core.ops import registry\n"
        "json.dumps([c.describe() for c in registry().values()])\n"
        "print(','.join(sorted(k for k in sys.modules if k.split('.')[0] in ('nlpaug', 'nltk', 'torch', 'pandas'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == ""


# ---- invalid parameters ------------------------------------------------------------------------------
def _bad_values(p: Param) -> list[Any]:
    out: list[Any] = [None, {"a": 1}]
    if p.kind in ("int", "float"):
        out += ["nonsense", p.low - 1, p.high + 1]  # type: ignore[operator]
    elif p.kind == "int_range":
        out += [[5, 1], [0.5, 2], [-1, 2], [1, 100_000], "nonsense"]
    elif p.kind == "bool":
        out += [1, "true"]
    elif p.kind == "choice":
        out += ["not-a-choice"]
    elif p.kind == "str":
        out += [3, "x" * (p.max_len + 1)]
    elif p.kind == "str_list":
        out += ["word", [1, 2]]
    return out


PARAM_CASES = [(n, p) for n in TEXT_OPS for p in registry()[n].params]


@pytest.mark.parametrize(("name", "param"), PARAM_CASES, ids=[f"{n}.{p.name}" for n, p in PARAM_CASES])
def test_invalid_values_are_refused_with_the_field_path(name: str, param: Param):
    for bad in _bad_values(param):
        with pytest.raises(ParamError) as info:
            build_op(name, {param.name: bad}, path="$.steps[1]")
        assert info.value.path == f"$.steps[1].params.{param.name}", bad


def test_cross_field_checks_name_the_field():
    with pytest.raises(ParamError) as info:
        build_op("random_word_substitute", {"target_words": []})
    assert info.value.path == "$.params.target_words"
    with pytest.raises(ParamError) as info:
        build_op("random_char_insert", {"include_upper_case": False, "include_lower_case": False,
                                        "include_numeric": False, "spec_char": ""})
    assert info.value.path == "$.params.candidates"


# ---- behaviour of single ops -------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "I don't know, it's a well-known fact (really).",
    'He said "hi" to me.',
    "Price: $3.50 or 10%!",
    "Wait... what?!",
    "E-mail me at a@b.org, ok? [see notes] {x}",
    "Ünïcödé wörds, 1,000 and 10:30.",
])
def test_tokenizer_round_trips_ordinary_text(text: str):
    assert text_ops.detokenize(text_ops.tokenize(text)) == text


def test_untouched_words_keep_their_form():
    """nlpaug's own tokenizer turns "don't" into "don ' t"; the adapters' must not."""
    text = "I don't think it's well-known, but it costs $3.50 (roughly)."
    op = build_op("random_word_substitute", {"target_words": ["X"], "aug_word_count": [1, 1], "stopwords": []})
    for seed in range(10):
        out = op.apply(text, seed=seed)
        kept = [w for w in text_ops.tokenize(out) if w != "X"]
        assert set(kept) <= set(text_ops.tokenize(text)), out
        assert " ' " not in out and "$ 3" not in out


def test_leading_and_trailing_whitespace_is_kept():
    out = build_op("keyboard_typo", {"aug_word_p": 1.0}).apply("  Quick brown foxes jump\n", seed=1)
    assert out.startswith("  ") and out.endswith("\n") and out.strip() != "Quick brown foxes jump"


def test_stopwords_are_never_changed():
    text = "Alpha Bravo Charlie Delta Echo Foxtrot Golf Hotel"
    op = build_op("random_word_delete",
                  {"aug_word_p": 1.0, "aug_word_count": [1, 1000], "stopwords": ["Delta", "Hotel"]})
    for seed in range(10):
        out = op.apply(text, seed=seed)
        assert "Delta" in out and "Hotel" in out


def test_crop_removes_one_contiguous_run_and_survives_short_texts():
    words = [f"w{i}" for i in range(10)]
    op = build_op("random_word_crop", {"aug_word_p": 0.3})
    for seed in range(40):
        out = op.apply(" ".join(words), seed=seed).split()
        assert len(out) == 7
        start = next((i for i, (a, b) in enumerate(zip(words, out)) if a != b), 7)
        assert out == words[:start] + words[start + 3:], out
    for text in ("Hello world", "One", "a b c"):
        for seed in range(10):
            out = op.apply(text, seed=seed)
            assert out and len(out.split()) >= 1
    assert build_op("random_word_crop", {"aug_word_p": 1.0}).apply("Hello big world", seed=0).count(" ") == 0


def test_random_char_candidates_are_used():
    op = build_op("random_char_substitute", {"candidates": ["#"], "aug_word_p": 1.0, "aug_char_p": 0.5})
    out = op.apply("Wonderful weather tomorrow", seed=2)
    assert "#" in out and set(out) <= set("Wonderful weather tomorrow#")


def test_spelling_candidates_do_not_depend_on_the_hash_seed():
    ok, why = registry()["spelling_mistake"].availability()
    if not ok:
        pytest.skip(why)
    op = build_op("spelling_mistake")
    model = op._augmenter().model
    assert all(words == sorted(set(words)) for words in model.dict.values())


def test_sentence_shuffle_records_the_permutation_and_keeps_the_gaps():
    text = "  First one. Second one!\n\nThird \"quoted.\" Fourth?  "
    op = build_op("sentence_shuffle")
    sentences, gaps = text_ops.split_sentences(text.strip())
    assert sentences == ["First one.", "Second one!", "Third \"quoted.\"", "Fourth?"]
    assert gaps == [" ", "\n\n", " "]
    seen = set()
    for seed in range(20):
        drawn = op.sample_params(np.random.default_rng(seed), text)
        assert sorted(drawn["order"]) == [0, 1, 2, 3]
        out = op.apply(text, **drawn)
        assert out.startswith("  ") and out.endswith("  ")
        assert out.strip().split("\n\n")[0].count(" ") >= 1
        assert sorted(text_ops.split_sentences(out.strip())[0]) == sorted(sentences)
        seen.add(out)
    assert len(seen) > 5
    assert op.apply("One sentence only.", **op.sample_params(np.random.default_rng(0), "One sentence only.")) == (
        "One sentence only."
    )
    assert op.apply(text, order=[1, 0]) == text  # drawn for another text: unchanged
    assert op.apply(text, order=[3, 2, 1, 0]).strip().startswith("Fourth?")


# ---- WordNet -----------------------------------------------------------------------------------------
def test_wordnet_ops_say_how_to_enable_them_when_nltk_is_missing(monkeypatch: pytest.MonkeyPatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nltk" else real(name, *a))
    for name in WORDNET_OPS:
        ok, why = registry()[name].availability()
        assert not ok and "pip install nltk" in why and "wordnet-base" in why and text_ops.WORDNET_DOC in why
        assert registry()[name].describe()["available"] is False


def test_wordnet_ops_say_how_to_enable_them_when_the_data_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    if importlib.util.find_spec("nltk") is None:
        pytest.skip("nltk is not installed; the missing-nltk case is tested above")
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.delenv("NLTK_DATA", raising=False)
    monkeypatch.setattr(text_ops, "_CACHE", type(text_ops._CACHE)())  # no augmenter built before
    for name in WORDNET_OPS:
        ok, why = registry()[name].availability()
        assert not ok and "WordNet" in why and "NLTK_DATA" in why and text_ops.WORDNET_DOC in why
        with pytest.raises(RuntimeError, match="unavailable"):
            build_op(name, {"aug_word_p": 0.77}).apply("a good day", seed=1)
    # a Debian copy without lexnames is reported as such, not as a crash later
    broken = tmp_path / "corpora" / "wordnet"
    broken.mkdir(parents=True)
    for f in text_ops._WORDNET_FILES:
        (broken / f).write_text("")
    ok, why = text_ops.wordnet_status()
    assert not ok and "lacks lexnames" in why
    # a symlinked file (what `ln -s /usr/share/wordnet/* .` makes) is refused by nltk: say so
    (tmp_path / "elsewhere").write_text("")
    (broken / "lexnames").symlink_to(tmp_path / "elsewhere")
    ok, why = text_ops.wordnet_status()
    assert not ok and "symlinked (lexnames)" in why and "copy" in why
    (broken / "lexnames").unlink()
    (broken / "lexnames").write_text("")
    assert text_ops.wordnet_status() == (True, None)


def test_wordnet_status_does_not_import_nltk(tmp_path: Path):
    """Listing the ops must stay cheap: importing nltk pulls in scikit-learn and pandas when present."""
    data = tmp_path / "nltk_data"
    (data / "corpora").mkdir(parents=True)
    (data / "corpora" / "wordnet.zip").write_bytes(b"")
    code = (
        "import importlib.util, sys\n"
        "from genaug_desktop.core.ops.text import wordnet_status\n"
        "print(wordnet_status()[0], importlib.util.find_spec('nltk') is not None, 'nltk' in sys.modules)\n"
    )
    env = dict(os.environ, NLTK_DATA=str(data))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, check=True)
    available, has_nltk, imported = proc.stdout.split()
    assert available == has_nltk, "a wordnet.zip on NLTK_DATA is found whenever nltk is installed"
    assert imported == "False"


def test_nltk_downloads_are_refused(monkeypatch: pytest.MonkeyPatch):
    if importlib.util.find_spec("nltk") is None:
        pytest.skip("nltk is not installed")
    import nltk

    monkeypatch.setattr(nltk, "download", nltk.download)  # restored after the test
    monkeypatch.setattr(nltk.downloader, "download", nltk.downloader.download)
    text_ops._forbid_nltk_downloads(nltk)
    for call in (lambda: nltk.download("wordnet"), lambda: nltk.downloader.download("averaged_perceptron_tagger")):
        with pytest.raises(RuntimeError, match="never downloads"):
            call()


def test_install_wordnet_from_debian_copies_and_writes_lexnames(tmp_path: Path):
    source = tmp_path / "debian"
    source.mkdir()
    for f in (*text_ops._WORDNET_FILES, "frames.vrb"):
        (source / f).write_text(f"contents of {f}\n")
    folder = text_ops.install_wordnet_from_debian(tmp_path / "data", source=str(source))
    dest = Path(folder) / "corpora" / "wordnet"
    for f in (*text_ops._WORDNET_FILES, "frames.vrb"):
        assert (dest / f).is_file() and not (dest / f).is_symlink()
        assert (dest / f).read_text() == f"contents of {f}\n"
    lines = (dest / "lexnames").read_text().splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3" and lines[5] == "05\tnoun.animal\t1" and lines[44] == "44\tadj.ppl\t3"
    assert all(int(line.split("\t")[0]) == i for i, line in enumerate(lines))


def test_install_wordnet_from_debian_names_the_missing_package(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="apt-get install wordnet-base wordnet-sense-index"):
        text_ops.install_wordnet_from_debian(tmp_path / "data", source=str(tmp_path / "nothing"))
    partial = tmp_path / "partial"
    partial.mkdir()
    for f in text_ops._WORDNET_FILES:
        if f != "index.sense":
            (partial / f).write_text("")
    with pytest.raises(FileNotFoundError, match="apt-get install wordnet-sense-index"):
        text_ops.install_wordnet_from_debian(tmp_path / "data", source=str(partial))


def test_wordnet_installed_from_debian_reads_correctly(wordnet: str | None):
    from nltk.corpus import wordnet as wn

    assert wn.synset("dog.n.01").lexname() == "noun.animal"
    assert wn.synset("run.v.01").lexname() == "verb.motion"
    assert "bad" in {a.name() for lemma in wn.synset("good.a.01").lemmas() for a in lemma.antonyms()}


def test_wordnet_pos_tags(wordnet: str | None):
    from nltk.corpus import wordnet as wn

    tags = dict(text_ops.wordnet_pos_tags(wn, "The dog loves good food and runs quickly , 42".split()))
    assert tags == {"The": "DT", "dog": "NN", "loves": "VB", "good": "JJ", "food": "NN", "and": "DT",
                    "runs": "VB", "quickly": "RB", ",": ",", "42": "CD"}


def test_synonyms_and_antonyms_come_from_wordnet(wordnet: str | None, ready: Any):
    from nltk.corpus import wordnet as wn

    ready("antonym")
    # nlpaug's candidates: antonyms of every lemma of every adjective sense of "good"
    antonyms = {
        a.name() for pos in "as" for s in wn.synsets("good", pos=pos) for le in s.lemmas() for a in le.antonyms()
    }
    assert "bad" in antonyms
    outs = {build_op("antonym", {"aug_word_p": 1.0}).apply("The food was good.", seed=s) for s in range(8)}
    assert outs <= {f"The food was {a}." for a in antonyms} and len(outs) > 1
    op = build_op("synonym", {"aug_word_p": 1.0, "stopwords": ["food"]})
    for seed in range(5):
        out = op.apply("The food was delicious.", seed=seed)
        assert out.startswith("The food was ") and out != "The food was delicious."


# ---- text pre-processing ops ---------------------------------------------------------------------------
def test_unicode_normalize():
    decomposed = "Cafe\u0301 \ufb01ne"  # e + combining acute; the "fi" ligature
    assert build_op("unicode_normalize").apply(decomposed) == "Café \ufb01ne"
    assert build_op("unicode_normalize", {"form": "NFKC"}).apply(decomposed) == "Café fine"
    assert build_op("unicode_normalize", {"form": "NFD"}).apply("Café") == "Cafe\u0301"


def test_fold_whitespace():
    assert build_op("fold_whitespace").apply("  many\t\tspaces\n\nand  lines \u00a0 ") == "many spaces and lines"
    assert build_op("fold_whitespace").apply("   ") == ""


def test_strip_control():
    assert build_op("strip_control").apply("a\x00b\x1bc\u200bd\te\nf\x7f") == "abcd\te\nf"


def test_lowercase():
    assert build_op("lowercase").apply("Straße ÄBC") == "straße äbc"
    assert build_op("lowercase", {"casefold": True}).apply("Straße ÄBC") == "strasse äbc"


def test_truncate():
    text = "one two  three four"
    assert build_op("truncate", {"unit": "words", "max_length": 2}).apply(text) == "one two"
    assert build_op("truncate", {"unit": "words", "max_length": 4}).apply(text) == text
    assert build_op("truncate", {"unit": "characters", "max_length": 5}).apply(text) == "one t"
    with pytest.raises(ParamError):
        build_op("truncate", {"max_length": 0})


def test_missing_values_apply_item():
    drop = build_op("missing_values")
    assert drop.apply_item("  ", "pos") is None
    assert drop.apply_item("text", None) == ("text", None)
    fill = build_op("missing_values", {"empty_text": "fill", "fill_text": "[empty]",
                                       "missing_label": "fill", "fill_label": "other"})
    assert fill.apply_item("", "") == ("[empty]", "other")
    assert fill.apply_item("kept", "pos") == ("kept", "pos")
    assert fill.apply(" ") == "[empty]" and fill.apply("x") == "x"
    keep = build_op("missing_values", {"empty_text": "keep", "missing_label": "drop"})
    assert keep.apply_item("", "neg") == ("", "neg")
    assert keep.apply_item("text", None) is None


def test_text_preprocess_ops_are_deterministic_and_in_the_registry():
    names = {"unicode_normalize", "fold_whitespace", "strip_control", "lowercase", "truncate", "missing_values"}
    for name in names:
        cls = registry()[name]
        assert cls.preprocess and cls.deterministic and cls.modality == "text"
        op = build_op(name)
        assert op.sample_params(np.random.default_rng(0), "x") == {}
        assert isinstance(op.apply("Some Text\t here"), str)


def test_without_nlpaug_the_adapters_are_unavailable_and_say_so(monkeypatch: pytest.MonkeyPatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nlpaug" else real(name, *a))
    for name in TEXT_OPS:
        ok, why = registry()[name].availability()
        if name == "sentence_shuffle":
            assert ok  # needs nothing
        else:
            assert not ok and "pip install nlpaug" in why, name
