"""Built-in text rules.

Every rule measures one number per candidate (or nothing) and passes it when the number lies
within its bounds, so a chart can draw the distribution of the measure with the thresholds.
Rules that need the source text or the real data read them through :class:`RuleContext`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from genaug_desktop.core.params import Param, params
from genaug_desktop.core.rules.base import Rule, RuleContext, RuleError, Subject, Verdict

AGAINST = ("items_and_candidates", "items", "candidates")
_AGAINST_HELP = "compare with the real items, with the candidates already kept, or both"
MAX_PATTERNS = 200
MAX_PATTERN_CHARS = 500
MAX_REPEAT_PRODUCT = 10_000

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")


def words(text: str) -> list[str]:
    """Words made of letters (apostrophes inside allowed), case-folded; digits and symbols are not words."""
    return [w.casefold() for w in _WORD.findall(text)]


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%" if x * 100 >= 10 or x == 0 else f"{x * 100:.1f}%"


def _in_range(value: float, lo: float, hi: float) -> bool:
    return lo <= value <= hi


# ---- scripts -----------------------------------------------------------------------------------
_SCRIPT_WORDS = {
    "LATIN": "Latin", "CYRILLIC": "Cyrillic", "GREEK": "Greek", "ARABIC": "Arabic", "HEBREW": "Hebrew",
    "DEVANAGARI": "Devanagari", "BENGALI": "Bengali", "GURMUKHI": "Gurmukhi", "GUJARATI": "Gujarati",
    "ORIYA": "Oriya", "TAMIL": "Tamil", "TELUGU": "Telugu", "KANNADA": "Kannada", "MALAYALAM": "Malayalam",
    "SINHALA": "Sinhala", "THAI": "Thai", "LAO": "Lao", "TIBETAN": "Tibetan", "MYANMAR": "Myanmar",
    "GEORGIAN": "Georgian", "ARMENIAN": "Armenian", "ETHIOPIC": "Ethiopic", "KHMER": "Khmer",
    "MONGOLIAN": "Mongolian", "SYRIAC": "Syriac", "THAANA": "Thaana", "HANGUL": "Hangul",
    "HIRAGANA": "Hiragana", "KATAKANA": "Katakana", "CJK": "Han", "BOPOMOFO": "Bopomofo", "YI": "Yi",
}


@lru_cache(maxsize=1 << 16)
def char_script(ch: str) -> str | None:
    """The Unicode script of a letter (Latin, Cyrillic, Greek, Han, Arabic, ...), or None."""
    name = unicodedata.name(ch, "")
    if not name:
        return None
    first = name.split(" ", 1)[0]
    script = _SCRIPT_WORDS.get(first)
    if script is None and name.startswith("HANGUL"):
        script = "Hangul"
    return script


_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _ascii_counts(text: str) -> tuple[int, int]:
    """(letters, white space) of an ASCII text, counted in C (bytes.translate deletes them)."""
    raw = text.encode("ascii")
    return len(raw) - len(raw.translate(None, _ASCII_LETTERS)), len(raw) - len(raw.translate(None, _ASCII_SPACE))


def script_counts(text: str) -> Counter[str]:
    """Letters per script (NFKC first, so full-width and styled Latin count as Latin)."""
    if text.isascii():
        n = _ascii_counts(text)[0]
        return Counter({"Latin": n}) if n else Counter()
    out: Counter[str] = Counter()
    for c in unicodedata.normalize("NFKC", text):
        if c.isalpha():
            s = char_script(c)
            if s is not None:
                out[s] += 1
    return out


def _non_letter_share(text: str) -> float:
    if text.isascii():
        letters, spaces = _ascii_counts(text)
        visible = len(text) - spaces
        return (visible - letters) / visible if visible else 0.0
    visible_n = letters = 0
    for c in text:
        if c.isspace():
            continue
        visible_n += 1
        if c.isalpha() or unicodedata.category(c)[0] == "M":  # combining marks belong to letters
            letters += 1
    return (visible_n - letters) / visible_n if visible_n else 0.0


def repeated_ngram_ratio(text: str, n: int) -> float:
    """1 - distinct word n-grams / all word n-grams (0 when the text has fewer than two)."""
    toks = text.casefold().split()
    total = len(toks) - n + 1
    if total <= 1:
        return 0.0
    grams = set(zip(*(toks[i:] for i in range(n))))
    return 1.0 - len(grams) / total


class _TextRule(Rule):
    modality = "text"


# ---- per-candidate rules ---------------------------------------------------------------------------
class TextNotEmpty(_TextRule):
    kind = "text_not_empty"
    title = "Not empty"
    help = "Rejects candidates with no text, or only white space."
    measure = "characters other than white space"
    cost = 0

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        out = []
        for s in batch:
            n = len("".join(s.text.split()))
            if n:
                out.append(Verdict(True, value=float(n)))
            else:
                out.append(Verdict(False, "the text is empty" if not s.text else "the text is only white space", 0.0))
        return out

    def bounds(self) -> tuple[float | None, float | None]:
        return 1.0, None


class TextLength(_TextRule):
    kind = "text_length"
    title = "Length"
    help = "Keeps texts whose length, in characters or in words, is within a range."
    measure = "length"
    cost = 1
    params = params(
        Param("unit", "choice", "chars", "count characters or words (white-space separated)", choices=("chars", "words")),
        Param("range", "int_range", [1, 100_000], "the allowed length, both ends included", low=0, high=10_000_000),
    )

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        lo, hi = self.values["range"]
        words_unit = self.values["unit"] == "words"
        noun = "words" if words_unit else "characters"
        out = []
        for s in batch:
            n = len(s.text.split()) if words_unit else len(s.text)
            if lo <= n <= hi:
                out.append(Verdict(True, value=float(n)))
            else:
                side = "shorter than" if n < lo else "longer than"
                out.append(Verdict(False, f"{n:,} {noun}: {side} the allowed {lo:,}-{hi:,}", float(n)))
        return out


class TextNonLetterShare(_TextRule):
    kind = "text_non_letter_share"
    title = "Share of non-letters"
    help = "Rejects texts where too many of the visible characters are digits, punctuation or symbols."
    measure = "share of visible characters that are not letters"
    cost = 2
    params = params(
        Param("max_share", "float", 0.5, "the largest allowed share (0-1)", low=0.0, high=1.0, step=0.01),
    )

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        limit = self.values["max_share"]
        out = []
        for s in batch:
            share = _non_letter_share(s.text)
            if share <= limit:
                out.append(Verdict(True, value=share))
            else:
                out.append(Verdict(False, f"{_pct(share)} of its characters are not letters (at most {_pct(limit)})", share))
        return out

    def bounds(self) -> tuple[float | None, float | None]:
        return None, self.values["max_share"]


class TextRepeatedNgrams(_TextRule):
    kind = "text_repeated_ngrams"
    title = "Repeated phrases"
    help = "Rejects texts that repeat the same run of words (a common generator failure: 'the the the')."
    measure = "share of word n-grams that repeat an earlier one"
    cost = 2
    params = params(
        Param("n", "int", 3, "words per n-gram", low=1, high=8),
        Param("max_ratio", "float", 0.3, "the largest allowed share of repeated n-grams (0-1)", low=0.0, high=1.0, step=0.01),
    )

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        n, limit = self.values["n"], self.values["max_ratio"]
        out = []
        for s in batch:
            r = repeated_ngram_ratio(s.text, n)
            if r <= limit:
                out.append(Verdict(True, value=r))
            else:
                out.append(Verdict(False, f"{_pct(r)} of its {n}-word phrases are repeats (at most {_pct(limit)})", r))
        return out

    def bounds(self) -> tuple[float | None, float | None]:
        return None, self.values["max_ratio"]


class TextEditDistance(_TextRule):
    kind = "text_edit_distance"
    title = "Edit distance to the source"
    help = (
        "Keeps candidates whose normalised Levenshtein distance to their source text is within a range: "
        "not a near copy, and not so far that it is no longer a variant of the source."
    )
    measure = "edit distance to the source (0 = same, 1 = nothing in common)"
    cost = 4
    params = params(
        Param("unit", "choice", "chars", "compare characters or whole words", choices=("chars", "words")),
        Param("range", "float_range", [0.01, 0.7], "the allowed normalised distance, both ends included",
              low=0.0, high=1.0, step=0.01),
    )

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        from rapidfuzz.distance import Levenshtein

        lo, hi = self.values["range"]
        by_words = self.values["unit"] == "words"
        out = []
        for s in batch:
            src = s.source_text
            if src is None:
                out.append(Verdict(True, "no source text to compare with"))
                continue
            a, b = (s.text.split(), src.split()) if by_words else (s.text, src)
            d = float(Levenshtein.normalized_distance(a, b))
            if lo <= d <= hi:
                out.append(Verdict(True, value=d))
            elif d < lo:
                out.append(Verdict(False, f"edit distance to its source is {d:.2f}, below {lo:.2f}: a near copy", d))
            else:
                out.append(Verdict(False, f"edit distance to its source is {d:.2f}, above {hi:.2f}: too far from it", d))
        return out


def build_vocabulary(texts: Iterable[str | None]) -> frozenset[str]:
    vocab: set[str] = set()
    for t in texts:
        if t:
            vocab.update(words(t))
    return frozenset(vocab)


def _vocabulary(ctx: RuleContext) -> frozenset[str]:
    return ctx.memo("text.vocabulary", lambda: build_vocabulary(i.text for i in ctx.items()))  # type: ignore[no-any-return]


class TextOovShare(_TextRule):
    kind = "text_oov_share"
    title = "Words outside the vocabulary"
    help = "Rejects texts where too many words never occur in the real data (misspellings, made-up or foreign words)."
    measure = "share of words not in the real data's vocabulary"
    cost = 3
    params = params(
        Param("max_share", "float", 0.3, "the largest allowed share of unknown words (0-1)", low=0.0, high=1.0, step=0.01),
    )

    def prepare(self, ctx: RuleContext) -> None:
        self._vocab = _vocabulary(ctx)

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        limit = self.values["max_share"]
        vocab = getattr(self, "_vocab", None)
        if vocab is None:
            vocab = self._vocab = _vocabulary(batch[0].ctx) if batch else frozenset()
        out = []
        for s in batch:
            ws = words(s.text)
            if not ws:
                out.append(Verdict(True, value=0.0))
                continue
            unknown = [w for w in ws if w not in vocab]
            share = len(unknown) / len(ws)
            if share <= limit:
                out.append(Verdict(True, value=share))
            else:
                examples = ", ".join(repr(w) for w in list(dict.fromkeys(unknown))[:3])
                out.append(Verdict(
                    False, f"{_pct(share)} of its words are not in the real data's vocabulary (at most {_pct(limit)}; "
                    f"e.g. {examples})", share,
                ))
        return out

    def bounds(self) -> tuple[float | None, float | None]:
        return None, self.values["max_share"]


def _dataset_scripts(ctx: RuleContext) -> frozenset[str]:
    def build() -> frozenset[str]:
        total: Counter[str] = Counter()
        for item in ctx.items():
            if item.text:
                total.update(script_counts(item.text))
        n = sum(total.values())
        return frozenset(s for s, c in total.items() if n and c / n >= 0.01)

    return ctx.memo("text.scripts", build)  # type: ignore[no-any-return]


class TextScript(_TextRule):
    kind = "text_script"
    title = "Same writing system as the source"
    help = (
        "Rejects texts whose letters are in a script (Latin, Cyrillic, Greek, Han, Arabic, ...) that their source "
        "does not use; without a source, scripts the real data hardly uses (under 1% of its letters)."
    )
    measure = "share of letters in scripts the source does not use"
    cost = 2  # before the vocabulary: a text in another script is better explained as such
    params = params(
        Param("max_share", "float", 0.1, "the largest allowed share of letters in other scripts (0-1)",
              low=0.0, high=1.0, step=0.01),
    )

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        limit = self.values["max_share"]
        out = []
        for s in batch:
            counts = script_counts(s.text)
            letters = sum(counts.values())
            if not letters:
                out.append(Verdict(True, value=0.0))
                continue
            src = s.source_text
            allowed = frozenset(script_counts(src)) if src else frozenset()
            whose = "its source uses"
            if not allowed:
                allowed = _dataset_scripts(s.ctx)
                whose = "the real data uses"
            if not allowed:
                out.append(Verdict(True, "no letters to compare with", 0.0))
                continue
            foreign = {k: v for k, v in counts.items() if k not in allowed}
            share = sum(foreign.values()) / letters
            if share <= limit:
                out.append(Verdict(True, value=share))
            else:
                names = ", ".join(sorted(foreign, key=lambda k: -foreign[k]))
                out.append(Verdict(
                    False, f"{_pct(share)} of its letters are {names}, but {whose} {', '.join(sorted(allowed))} "
                    f"(at most {_pct(limit)} allowed)", share,
                ))
        return out

    def bounds(self) -> tuple[float | None, float | None]:
        return None, self.values["max_share"]


# ---- block list -----------------------------------------------------------------------------------
_COUNTED = re.compile(r"\{\s*(\d*)\s*(?:,\s*(\d*)\s*)?\}")


def compile_block_pattern(pattern: str, ignore_case: bool, path: str) -> Any:
    """Compile one block-list pattern with bounds that keep compiling and matching cheap."""
    import regex

    if len(pattern) > MAX_PATTERN_CHARS:
        raise RuleError(path, f"is longer than {MAX_PATTERN_CHARS} characters")
    if not pattern:
        raise RuleError(path, "is empty (it would block every text)")
    # The regex module unrolls counted repeats when it compiles, so nested counts multiply:
    # bound the product of every count in the pattern (as if all were nested).
    product = 1
    for lo, hi in _COUNTED.findall(pattern):
        n = max(int(lo or 0), int(hi or 0)) if (lo or hi) else 1
        product *= max(n, 1)
        if product > MAX_REPEAT_PRODUCT:
            raise RuleError(path, f"counted repeats like {{n}} multiply to more than {MAX_REPEAT_PRODUCT:,}; use + or *")
    try:
        return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0 if ignore_case else regex.VERSION0)
    except Exception as exc:  # regex.error, OverflowError, RecursionError...
        raise RuleError(path, f"is not a valid pattern ({exc})") from None


class TextBlockList(_TextRule):
    kind = "text_block_list"
    title = "Block list"
    help = (
        "Rejects texts that match any of a list of regular expressions (words or phrases that must not appear). "
        "Matching is bounded: each pattern gets a time limit per text, and only the start of long texts is searched."
    )
    measure = ""
    cost = 5
    params = params(
        Param("patterns", "str_list", [], f"regular expressions (at most {MAX_PATTERNS}, each up to "
              f"{MAX_PATTERN_CHARS} characters); a match anywhere blocks the text", max_len=MAX_PATTERNS),
        Param("ignore_case", "bool", True, "match upper and lower case alike"),
        Param("timeout", "float", 0.1, "seconds one pattern may spend on one text", low=0.001, high=10.0, step=0.01),
        Param("max_chars", "int", 20_000, "search only this many characters from the start", low=1, high=1_000_000),
        Param("on_timeout", "choice", "reject", "what to do with a text a pattern ran out of time on",
              choices=("reject", "pass")),
    )

    def check(self, path: str) -> None:
        self._compiled = [
            compile_block_pattern(p, self.values["ignore_case"], f"{path}.patterns[{i}]")
            for i, p in enumerate(self.values["patterns"])
        ]

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        timeout = self.values["timeout"]
        limit = self.values["max_chars"]
        reject_slow = self.values["on_timeout"] == "reject"
        out = []
        for s in batch:
            text = s.text[:limit]
            verdict = Verdict(True)
            for raw, pattern in zip(self.values["patterns"], self._compiled):
                try:
                    m = pattern.search(text, timeout=timeout)
                except TimeoutError:
                    if reject_slow:
                        verdict = Verdict(False, f"block-list pattern {_short(raw)} ran out of time on this text; "
                                                 "held back to be safe")
                        break
                    continue
                if m is not None:
                    verdict = Verdict(False, f"matches the block-list pattern {_short(raw)} at {_short(m.group(0))}")
                    break
            out.append(verdict)
        return out


def _short(text: str, n: int = 40) -> str:
    return repr(text if len(text) <= n else text[: n - 3] + "...")


# ---- duplicates (stateful) ---------------------------------------------------------------------------
class TextExactDuplicate(_TextRule):
    kind = "text_exact_duplicate"
    title = "Exact duplicate"
    help = (
        "Rejects a text that is the same as a real item or a candidate kept before it, after normalising "
        "(Unicode NFKC, case, white space and optionally punctuation)."
    )
    measure = ""
    stateful = True
    cost = 20
    params = params(
        Param("against", "choice", "items_and_candidates", _AGAINST_HELP, choices=AGAINST),
        Param("ignore_punctuation", "bool", True, "treat texts that differ only in punctuation as the same"),
    )

    def prepare(self, ctx: RuleContext) -> None:
        from genaug_desktop.core.rules.minhash import normalize_text

        ip = self.values["ignore_punctuation"]
        self._norm = lambda t: normalize_text(t, ip)  # noqa: E731
        # normalised text -> the item key (str) or candidate id (int) that had it first; the
        # reason is formatted only for a rejection (a string per kept text costs ~60 bytes)
        self._seen: dict[str, str | int] = {}
        self._mine: dict[int, str] = {}
        self._with_candidates = self.values["against"] != "items"
        if self.values["against"] != "candidates":
            for item in ctx.items():
                if item.text is not None:
                    self._seen.setdefault(self._norm(item.text), str(item.key))
        if self._with_candidates:
            for batch in ctx.kept_subjects():
                for s in batch:
                    self._seen.setdefault(self._norm(s.text), s.id)

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        if not hasattr(self, "_seen"):
            raise RuntimeError("call prepare() before evaluate()")
        out = []
        for s in batch:
            norm = self._norm(s.text)
            other = self._seen.get(norm)
            if other is not None:
                what = f"the real item {other}" if isinstance(other, str) else f"candidate #{other}"
                out.append(Verdict(False, f"the same text as {what}"))
                continue
            if self._with_candidates:
                self._seen[norm] = s.id
                self._mine[s.id] = norm
            out.append(Verdict(True))
        return out

    def discard(self, subjects: Sequence[Subject]) -> None:
        for s in subjects:
            norm = self._mine.pop(s.id, None)
            other = self._seen.get(norm) if norm is not None else None
            if norm is not None and isinstance(other, int) and other == s.id:
                del self._seen[norm]


class TextNearDuplicate(_TextRule):
    kind = "text_near_duplicate"
    title = "Near duplicate"
    help = (
        "Rejects a text too similar to a real item or to a candidate kept before it: the Jaccard similarity of "
        "their character n-grams (after normalising) is at or above the threshold. MinHash + LSH find the "
        "similar pairs without comparing every pair."
    )
    measure = "Jaccard similarity to the most similar earlier text"
    stateful = True
    cost = 30
    params = params(
        Param("threshold", "float", 0.85, "similarity at or above which a text is a near duplicate",
              low=0.3, high=1.0, step=0.01),
        Param("shingle", "int", 5, "characters per n-gram", low=2, high=12),
        Param("against", "choice", "items_and_candidates", _AGAINST_HELP, choices=AGAINST),
        Param("num_perm", "choice", 64, "MinHash permutations (more: fewer missed pairs, slower)", choices=(32, 64, 128)),
    )

    def prepare(self, ctx: RuleContext) -> None:
        from genaug_desktop.core.rules.minhash import NearDuplicateIndex, normalize_text

        v = self.values
        self._normalize = normalize_text
        self._index = NearDuplicateIndex(v["threshold"], v["num_perm"], v["shingle"])
        self._with_candidates = v["against"] != "items"
        if v["against"] != "candidates":
            items = [i for i in ctx.items() if i.text is not None]
            for start in range(0, len(items), 2000):
                chunk = items[start : start + 2000]
                prepared = self._index.prepare([normalize_text(i.text or "") for i in chunk])
                for item, p in zip(chunk, prepared):
                    self._index.add(str(item.key), p)  # keys: an item's key (str) or a candidate's id (int)
        if self._with_candidates:
            for batch in ctx.kept_subjects(2000):
                prepared = self._index.prepare([normalize_text(s.text) for s in batch])
                for s, p in zip(batch, prepared):
                    self._index.add(s.id, p)

    def _key(self) -> str:
        v = self.values
        return f"minhash:{v['threshold']}:{v['num_perm']}:{v['shingle']}"

    def precompute(self, batch: Sequence[Subject]) -> None:
        if not hasattr(self, "_index"):
            raise RuntimeError("call prepare() before precompute()")
        key = self._key()
        todo = [s for s in batch if key not in s.cache]
        for s, p in zip(todo, self._index.prepare([self._normalize(s.text) for s in todo])):
            s.cache[key] = p

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        self.precompute(batch)
        key = self._key()
        out = []
        for s in batch:
            p = s.cache[key]
            hits = self._index.query(p)
            if hits:
                found, j = hits[0]
                other = f"the real item {found}" if isinstance(found, str) else f"candidate #{found}"
                out.append(Verdict(False, f"a near duplicate of {other} (similarity {j:.2f}, "
                                          f"threshold {self.values['threshold']:.2f})", j))
                continue
            if self._with_candidates:
                self._index.add(s.id, p)
            out.append(Verdict(True))
        return out

    def discard(self, subjects: Sequence[Subject]) -> None:
        for s in subjects:
            self._index.remove(s.id)

    def bounds(self) -> tuple[float | None, float | None]:
        return None, self.values["threshold"]
