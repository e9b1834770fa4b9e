"""The export name sanitiser: any label or source name becomes one safe path component."""

from __future__ import annotations

import os
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from genaug_desktop.core.export.names import MAX_NAME_BYTES, NameAllocator, collision_key, sanitize_name

RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"} | {
    f"{d}{n}" for d in ("COM", "LPT") for n in (*"0123456789", "\u00b9", "\u00b2", "\u00b3")
}
HOSTILE = [
    "../../etc/passwd", "/abs/path", "C:\\Windows\\system32", "CON", "con", "nul.txt", "COM1", "lpt9.tar.gz", "-rf",
    "--help", ".", "..", "...", ".hidden", "a/b", "a\\b", "e\u0301", "\u00e9", "", " ", "\t", "a\x00b", "x" * 400,
    "\u202eexe.txt", "name.", "name ", "\ud800", "dir/../../x", "~", "é" * 200, "CON .txt", "<>:\"|?*",
]


def assert_safe(name: str, max_bytes: int = MAX_NAME_BYTES) -> None:
    assert name, "empty"
    assert name not in (".", "..")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith(("-", ".", " ")), name
    assert not name.endswith((".", " ")), name
    assert not any(c in name for c in '<>:"|?*')
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in name)
    assert unicodedata.normalize("NFC", name) == name
    assert len(name.encode("utf-8")) <= max_bytes
    assert name.split(".")[0].rstrip(" ").upper() not in RESERVED, name
    assert os.path.basename(name) == name and not os.path.isabs(name)
    root = os.path.abspath("/export")
    assert os.path.dirname(os.path.normpath(os.path.join(root, name))) == root


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_names_become_safe_components(raw):
    name = sanitize_name(raw)
    assert_safe(name)
    assert sanitize_name(name) == name


@pytest.mark.parametrize(("raw", "expected"), [
    ("../../etc/passwd", "_.._etc_passwd"), ("/abs/path", "_abs_path"), ("CON", "CON_"), ("nul.txt", "nul_.txt"),
    ("-rf", "rf"), ("a/b", "a_b"), (".hidden", "hidden"), ("..", "unnamed"), ("", "unnamed"), ("cat", "cat"),
    ("e\u0301", "\u00e9"), ("name. ", "name"), ("Größe 2", "Größe 2"), ("a\u00a0b", "a b"),
])
def test_examples(raw, expected):
    assert sanitize_name(raw) == expected


def test_long_names_are_cut_on_a_character_boundary():
    name = sanitize_name("é" * 200, max_bytes=41)
    assert name == "é" * 20
    assert_safe(name, 41)


names = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=300),  # every code point, surrogates included
    st.text(alphabet="./\\-_ ~:CONULPTcomx19é\u0301\u00b9$", max_size=40),
    st.sampled_from(HOSTILE),
)


@settings(max_examples=600, deadline=None)
@given(names)
@example("CON.")
@example(". CON")
@example("-.-")
@example("\u0301")
def test_sanitize_is_always_one_safe_component_and_idempotent(raw):
    name = sanitize_name(raw)
    assert_safe(name)
    assert sanitize_name(name) == name


@settings(max_examples=200, deadline=None)
@given(st.lists(names, max_size=30), st.sampled_from(["", ".png", ".txt"]))
def test_allocator_gives_distinct_names_ignoring_case_and_unicode_form(raws, ext):
    alloc = NameAllocator(["metadata.jsonl"])
    got = [alloc.allocate(r, ext) for r in raws]
    keys = [collision_key(g) for g in got]
    assert len(set(keys)) == len(got)
    assert collision_key("metadata.jsonl") not in keys
    for g in got:
        assert_safe(g)
        assert g.endswith(ext)
    again = NameAllocator(["metadata.jsonl"])
    assert [again.allocate(r, ext) for r in raws] == got, "allocation must be deterministic"


def test_allocator_resolves_case_and_nfd_collisions_in_request_order():
    alloc = NameAllocator()
    assert [alloc.allocate(n, ".png") for n in ["Cat", "cat", "CAT", "e\u0301", "\u00e9", "cat_2"]] == [
        "Cat.png", "cat_2.png", "CAT_3.png", "\u00e9.png", "\u00e9_2.png", "cat_2_2.png",
    ]


@settings(max_examples=300, deadline=None)
@given(names)
def test_is_safe_component_agrees_with_the_sanitiser(raw):
    from genaug_desktop.core.export.names import is_safe_component

    clean = sanitize_name(raw)
    assert is_safe_component(clean)
    if raw != clean and len(raw.encode("utf-8", "surrogatepass")) <= MAX_NAME_BYTES:
        assert not is_safe_component(raw)
