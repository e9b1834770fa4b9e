"""Near-duplicate text search: character shingles, MinHash signatures and LSH banding, in numpy.

Why not ``datasketch``: it builds one ``MinHash`` object per document and hashes shingles
one document at a time in Python, while here a whole batch of texts is shingled, hashed and
signed with a handful of vectorised numpy passes (the shingle hash is a polynomial rolling hash
over code points, mixed with SplitMix64; each permutation is a multiply-add modulo 2**64). The
LSH part is ordinary banding with dict buckets. Candidates found by LSH are confirmed with the
*exact* Jaccard similarity of their shingle sets, so the number shown to a person is not an
estimate and the threshold is applied exactly; LSH only decides which pairs get looked at.

Search cost per query is ``bands`` dictionary look-ups plus the exact checks of the few texts
that share a bucket, so a run over N texts grows roughly linearly (see benchmarks/bench_rules.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Sequence

import numpy as np

_NON_WORD = re.compile(r"[\W_]+")
_P = np.uint64(0x100000001B3)  # FNV prime: the rolling hash base
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def normalize_text(text: str, ignore_punctuation: bool = True) -> str:
    """NFKC, case-folded, punctuation (optionally) and runs of white space collapsed to one space."""
    t = unicodedata.normalize("NFKC", text).casefold()
    if ignore_punctuation:
        t = _NON_WORD.sub(" ", t)
    return " ".join(t.split())


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser, vectorised (uint64 arithmetic wraps, as intended)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def shingle_hashes(texts: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every character *n*-gram of every text, concatenated.

    Returns (hashes, starts): text *i* owns ``hashes[starts[i]:starts[i+1]]``. A text shorter
    than *n* (the empty text included) is one shingle of itself padded with zeros.
    """
    if n < 1:
        raise ValueError("shingle size must be at least 1")
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    padded = np.maximum(lengths, n)
    joined = "".join(t + "\0" * (p - len(t)) for t, p in zip(texts, padded.tolist()))
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    total = codes.size
    windows = total - n + 1
    h = np.zeros(max(windows, 0), dtype=np.uint64)
    for j in range(n):
        h = h * _P + codes[j : j + windows]
    h = _mix(h)
    offsets = np.concatenate(([0], np.cumsum(padded)))
    counts = padded - n + 1
    # window start positions that lie wholly inside one text
    starts_in_text = np.repeat(offsets[:-1], counts) + (np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts))
    out = h[starts_in_text]
    starts = np.concatenate(([0], np.cumsum(counts)))
    return out, starts


class MinHasher:
    """MinHash signatures of ``num_perm`` permutations for batches of texts."""

    def __init__(self, num_perm: int = 64, shingle: int = 5, seed: int = 1) -> None:
        rng = np.random.Generator(np.random.PCG64(seed))
        self.num_perm = num_perm
        self.shingle = shingle
        self._a = rng.integers(0, 2**63, num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self._b = rng.integers(0, 2**63, num_perm, dtype=np.uint64)

    def signatures(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """(signatures of shape (len(texts), num_perm), each text's sorted unique shingle hashes)."""
        if not texts:
            return np.zeros((0, self.num_perm), dtype=np.uint64), []
        hashes, starts = shingle_hashes(texts, self.shingle)
        sig = np.empty((len(texts), self.num_perm), dtype=np.uint64)
        heads = starts[:-1]
        for k in range(self.num_perm):
            sig[:, k] = np.minimum.reduceat(hashes * self._a[k] + self._b[k], heads)
        sets = [np.unique(hashes[starts[i] : starts[i + 1]]) for i in range(len(texts))]
        return sig, sets


def _false_rates(threshold: float, bands: int, rows: int) -> tuple[float, float]:
    xs = np.linspace(0.0, 1.0, 401)
    p = 1.0 - (1.0 - xs**rows) ** bands
    step = xs[1] - xs[0]
    fp = float(np.sum(p[xs < threshold]) * step)
    fn = float(np.sum(1.0 - p[xs >= threshold]) * step)
    return fp, fn


def lsh_params(threshold: float, num_perm: int, recall: float = 0.99) -> tuple[int, int]:
    """(bands, rows) for LSH banding: among the splits that make a pair exactly at *threshold*
    a candidate with probability >= *recall*, the one with the fewest false candidates below it.

    Misses are what matter (a missed duplicate is kept for good); a false candidate only costs
    one exact Jaccard check.
    """
    best: tuple[int, int] | None = None
    best_fp = float("inf")
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if 1.0 - (1.0 - threshold**rows) ** bands < recall:
            continue
        fp, _fn = _false_rates(threshold, bands, rows)
        if fp < best_fp:
            best, best_fp = (bands, rows), fp
    return best if best is not None else (num_perm, 1)


class NearDuplicateIndex:
    """Texts indexed by MinHash-LSH; queries return stored texts whose exact shingle Jaccard
    similarity is at least ``threshold``."""

    def __init__(self, threshold: float, num_perm: int = 64, shingle: int = 5, seed: int = 1) -> None:
        self.threshold = threshold
        self.hasher = MinHasher(num_perm, shingle, seed)
        self.bands, self.rows = lsh_params(threshold, num_perm)
        self._mult = _mix(np.arange(1, self.rows + 1, dtype=np.uint64))
        self._tables: list[dict[int, list[Hashable]]] = [{} for _ in range(self.bands)]
        self._entries: dict[Hashable, tuple[tuple[int, ...], np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def prepare(self, texts: Sequence[str]) -> list[tuple[tuple[int, ...], np.ndarray]]:
        """Band keys and shingle sets for a batch of (already normalised) texts."""
        sig, sets = self.hasher.signatures(texts)
        if not len(sets):
            return []
        used = sig[:, : self.bands * self.rows].reshape(len(sets), self.bands, self.rows)
        keys = (used * self._mult).sum(axis=2, dtype=np.uint64)
        return [(tuple(row), s) for row, s in zip(keys.tolist(), sets)]

    def query(self, prepared: tuple[tuple[int, ...], np.ndarray]) -> list[tuple[Hashable, float]]:
        """Stored (key, Jaccard) at or above the threshold, most similar first."""
        band_keys, shingles = prepared
        seen: set[Hashable] = set()
        hits: list[tuple[float, Hashable]] = []
        for table, bk in zip(self._tables, band_keys):
            bucket = table.get(bk)
            if not bucket:
                continue
            for key in bucket:
                if key in seen:
                    continue
                seen.add(key)
                other = self._entries[key][1]
                inter = int(np.intersect1d(shingles, other, assume_unique=True).size)
                jaccard = inter / (shingles.size + other.size - inter)
                if jaccard >= self.threshold:
                    hits.append((jaccard, key))
        hits.sort(key=lambda t: -t[0])
        return [(key, j) for j, key in hits]

    def add(self, key: Hashable, prepared: tuple[tuple[int, ...], np.ndarray]) -> None:
        if key in self._entries:
            self.remove(key)
        self._entries[key] = prepared
        for table, bk in zip(self._tables, prepared[0]):
            table.setdefault(bk, []).append(key)

    def remove(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for table, bk in zip(self._tables, entry[0]):
            bucket = table.get(bk)
            if bucket is not None and key in bucket:
                bucket.remove(key)
                if not bucket:
                    del table[bk]
