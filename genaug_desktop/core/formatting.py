"""Small text helpers shared by the CLI, the core reports and the panels: counts, sizes, plurals (no Qt)."""

from __future__ import annotations


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    """``plural(1, "item") == "1 item"``; ``plural(1234, "item") == "1,234 items"``; ``plural(2, "class") == "2 classes"``."""
    if n == 1:
        return f"{n:,} {word}"
    if plural_word is None:
        plural_word = word + ("es" if word.endswith(("s", "sh", "ch", "x")) else "s")
    return f"{n:,} {plural_word}"


def human_bytes(n: int) -> str:
    """A size for people: ``"12.3 KB"``; bytes below 1 KB stay exact."""
    if n < 1024:
        return f"{n:,} bytes" if n != 1 else "1 byte"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024.0
        if value < 1024.0 or unit == "TB":
            return f"{value:.1f} {unit}"
    return f"{n:,} bytes"  # unreachable; keeps type checkers content


def first_lines(text: str, max_chars: int = 400) -> str:
    """The start of *text*, cut at a word boundary, for cards and tooltips."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > max_chars // 2 else max_chars] + "…"
