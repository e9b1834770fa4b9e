"""Property-based fuzzing (hypothesis): readers fed random and mutated bytes, the policy and
rule-set parsers fed random JSON, and the export name sanitiser fed random strings. The only
exceptions allowed are the documented, user-facing ones; anything else is a bug.

Example counts stay modest and the runs are derandomized, so the suite is fast and stable.
"""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genaug_desktop.core.datasets.images import ImageProblem, load_image, probe_image, thumbnail_batch
from genaug_desktop.core.datasets.model import Item, Problem, ScanOptions
from genaug_desktop.core.datasets.text import read_text_file
from genaug_desktop.core.export.names import NameAllocator, is_safe_component, sanitize_name
from genaug_desktop.core.policy import Policy, PolicyError
from genaug_desktop.core.rules.base import RuleError
from genaug_desktop.core.rules.ruleset import RuleSet

from .helpers import jpeg_bytes, noise_png

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FEW = settings(FUZZ, max_examples=60)

SEEDS = {"png": noise_png(24, 16), "jpeg": jpeg_bytes(24, 16), "gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"}


@st.composite
def mutated(draw: st.DrawFn, seeds: dict[str, bytes]) -> bytes:
    """A real file with a few bytes flipped, cut short, or grown with junk."""
    data = bytearray(seeds[draw(st.sampled_from(sorted(seeds)))])
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut]) + draw(st.binary(max_size=64))


image_bytes = st.one_of(st.binary(max_size=2048), mutated(SEEDS))


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(data=image_bytes, ext=st.sampled_from([".png", ".jpg", ".gif", ".bin"]))
def test_image_readers_raise_only_image_problems(fuzz_dir: Path, data: bytes, ext: str) -> None:
    path = fuzz_dir / f"f{ext}"
    path.write_bytes(data)
    for read in (probe_image, load_image):
        try:
            read(str(path))
        except ImageProblem as exc:
            assert str(exc)  # a reason a person can read
    out = thumbnail_batch([str(path)], 32)  # never raises; a reason string instead
    assert len(out) == 1 and (isinstance(out[0], str) or out[0][0] <= 32)


text_bytes = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.text(alphabet=string.printable + "\"',;\t{}[]:\\é€", max_size=40), max_size=20).map(
        lambda lines: "\n".join(lines).encode()),
)


@FUZZ
@given(data=text_bytes, ext=st.sampled_from([".txt", ".csv", ".tsv", ".jsonl"]),
       encoding=st.sampled_from([None, None, "utf-16", "cp1252", "latin-1"]))
def test_text_readers_yield_only_items_and_problems(fuzz_dir: Path, data: bytes, ext: str, encoding: str | None) -> None:
    path = fuzz_dir / f"t{ext}"
    path.write_bytes(data)
    options = ScanOptions(encoding=encoding, max_text_chars=500)
    for entry in read_text_file(str(path), path.name, None, options):
        assert isinstance(entry, (Item, Problem))
        if isinstance(entry, Problem):
            assert entry.reason
        else:
            assert len(entry.text or "") <= 500
            entry.text.encode("utf-8")  # storable: valid Unicode, no lone surrogates  # type: ignore[union-attr]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
OP_NAMES = ["hflip", "rotate", "brightness", "resize_to", "random_word_delete", "lowercase", "nope", ""]


@st.composite
def policy_like(draw: st.DrawFn) -> object:
    """Mostly well-formed policies with hostile values, so the fuzz reaches deep validation."""
    step = st.fixed_dictionaries(
        {"op": st.sampled_from(OP_NAMES)},
        optional={"p": json_values, "params": st.dictionaries(st.sampled_from(["angle", "size", "mode", "x", "p"]),
                                                             json_values, max_size=3),
                  "enabled": json_values, "when": json_values},
    )
    group = st.fixed_dictionaries({"one_of": st.lists(step, max_size=3)}, optional={"p": json_values})
    return draw(st.fixed_dictionaries(
        {"schema_version": st.sampled_from([1, 2, 0, 99, "1", None]), "modality": st.sampled_from(["image", "text", "x"])},
        optional={"steps": st.lists(step | group, max_size=4), "preprocess": st.lists(step, max_size=2),
                  "name": json_values, "__class__": json_values},
    ))


@FUZZ
@given(doc=st.one_of(json_values, policy_like()))
def test_policy_parser_raises_only_policy_errors(doc: object) -> None:
    try:
        text = json.dumps(doc, allow_nan=True)
    except (ValueError, OverflowError):
        return
    try:
        Policy.loads(text)
    except PolicyError as exc:
        assert str(exc)


@FUZZ
@given(raw=st.text(max_size=300))
def test_policy_parser_on_arbitrary_text(raw: str) -> None:
    try:
        Policy.loads(raw)
    except PolicyError:
        pass


RULE_KINDS = ["text_length", "text_block_list", "text_regex", "image_size", "near_duplicate", "nope"]


@st.composite
def rule_set_like(draw: st.DrawFn) -> object:
    rule = st.fixed_dictionaries(
        {"id": st.text(max_size=12) | json_values, "kind": st.sampled_from(RULE_KINDS)},
        optional={"state": st.sampled_from(["proposed", "approved", "disabled", "x"]),
                  "params": st.dictionaries(st.sampled_from(["range", "words", "pattern", "min", "max", "threshold"]),
                                            json_values, max_size=3),
                  "explanation": json_values},
    )
    return draw(st.fixed_dictionaries(
        {"schema_version": st.sampled_from([1, 0, 2, "1"]), "modality": st.sampled_from(["image", "text", 3])},
        optional={"rules": st.lists(rule, max_size=4), "name": json_values},
    ))


@FUZZ
@given(doc=st.one_of(json_values, rule_set_like()))
def test_rule_set_parser_raises_only_rule_errors(doc: object) -> None:
    try:
        text = json.dumps(doc, allow_nan=True)
    except (ValueError, OverflowError):
        return
    try:
        RuleSet.loads(text)
    except RuleError as exc:
        assert str(exc)


names = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(list("./\\-_ \x00\n\r\t:*?\"<>|\u202e\u200b\ufeffé\u0301AbC~$")), max_size=40),
    st.sampled_from(["..", ".", "../../etc/passwd", "/abs/path", "CON", "nul.txt", "COM1", "-rf", "\udcff", ""]),
)


@FUZZ
@given(name=names, max_bytes=st.integers(0, 300))
def test_sanitised_names_are_safe_and_idempotent(name: str, max_bytes: int) -> None:
    safe = sanitize_name(name, max_bytes)
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert safe not in (".", "..") and not safe.startswith((".", "-"))
    assert len(safe.encode("utf-8")) <= max(max_bytes, 16)
    assert is_safe_component(safe)
    assert sanitize_name(safe, max_bytes) == safe
    assert os.path.basename(safe) == safe and not os.path.isabs(safe)


@FEW
@given(wanted=st.lists(names, max_size=30), ext=st.sampled_from(["", ".png", ".txt"]))
def test_allocated_names_never_clash(wanted: list[str], ext: str) -> None:
    alloc = NameAllocator()
    got = [alloc.allocate(w, ext) for w in wanted]
    keys = [n.casefold() for n in got]
    assert len(set(keys)) == len(keys)
    assert all(is_safe_component(n) and n.endswith(ext) for n in got)
