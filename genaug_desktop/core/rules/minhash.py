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
from array import array
from collections.abc import Hashable, Sequence
from itertools import chain

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
    similarity is at least ``threshold``.

    Memory is what limits this at a million texts, so an entry is not a Python object per band:
    the LSH buckets of most entries live in three flat sorted numpy arrays (band key salted by
    its band, slot, band), and only the entries added since the last merge sit in small per-band
    dicts. A stored text keeps its normalised UTF-8 bytes in one shared buffer, not its shingle
    set: the set is recomputed (identically) for the few stored texts a query must check exactly.
    Buckets list their entries oldest first, so queries see candidates in the order a plain
    dict-of-lists index would.
    """

    _MERGE_MIN = 4096  # entries added before the first merge into the sorted arrays

    def __init__(self, threshold: float, num_perm: int = 64, shingle: int = 5, seed: int = 1) -> None:
        self.threshold = threshold
        self.hasher = MinHasher(num_perm, shingle, seed)
        self.bands, self.rows = lsh_params(threshold, num_perm)
        self._mult = _mix(np.arange(1, self.rows + 1, dtype=np.uint64))
        self._salt = _mix(np.arange(1, self.bands + 1, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15))
        self._keys: list[Hashable | None] = []  # slot -> key; None once removed
        self._slot: dict[Hashable, int] = {}  # key -> slot, live entries only
        self._text = bytearray()  # normalised texts, UTF-8, one after another
        self._ends = array("q")  # slot -> end of its text in _text
        # merged buckets, sorted by (salted band key, slot)
        self._fkeys = np.zeros(0, dtype=np.uint64)
        self._fslots = np.zeros(0, dtype=np.uint32)
        self._fband = np.zeros(0, dtype=np.uint8)
        # band key -> slot, or a list of slots once a second entry shares the bucket
        self._recent: list[dict[int, int | list[int]]] = [{} for _ in range(self.bands)]
        self._recent_n = 0

    def __len__(self) -> int:
        return len(self._slot)

    def prepare(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray, str]]:
        """(band keys, shingle set, text) for a batch of (already normalised) texts."""
        sig, sets = self.hasher.signatures(texts)
        if not len(sets):
            return []
        used = sig[:, : self.bands * self.rows].reshape(len(sets), self.bands, self.rows)
        keys = (used * self._mult).sum(axis=2, dtype=np.uint64)
        return [(row, s, t) for row, s, t in zip(keys, sets, texts)]

    def _shingles(self, slot: int) -> np.ndarray:
        start = self._ends[slot - 1] if slot else 0
        text = self._text[start : self._ends[slot]].decode("utf-8", "surrogatepass")
        hashes, _starts = shingle_hashes([text], self.hasher.shingle)
        return np.unique(hashes)

    def _bucket_slots(self, band_keys: np.ndarray) -> list[int]:
        """Slots of every entry sharing a bucket with *band_keys*, band by band, oldest first."""
        out: list[int] = []
        if self._fkeys.size:
            salted = band_keys ^ self._salt
            lo = np.searchsorted(self._fkeys, salted, "left")
            hi = np.searchsorted(self._fkeys, salted, "right")
            found = np.nonzero(hi > lo)[0].tolist()
        else:
            found = []
        raw = band_keys.tolist()
        for b, (table, bk) in enumerate(zip(self._recent, raw)):
            if found and found[0] == b:
                found.pop(0)
                sl = slice(int(lo[b]), int(hi[b]))
                out.extend(self._fslots[sl][self._fband[sl] == b].tolist())
            bucket = table.get(bk)
            if bucket is not None:
                if isinstance(bucket, int):
                    out.append(bucket)
                else:
                    out.extend(bucket)
        return out

    def query(self, prepared: tuple[np.ndarray, np.ndarray, str]) -> list[tuple[Hashable, float]]:
        """Stored (key, Jaccard) at or above the threshold, most similar first."""
        band_keys, shingles, _text = prepared
        seen: set[int] = set()
        hits: list[tuple[float, Hashable]] = []
        for slot in self._bucket_slots(band_keys):
            if slot in seen:
                continue
            seen.add(slot)
            key = self._keys[slot]
            if key is None:
                continue
            other = self._shingles(slot)
            inter = int(np.intersect1d(shingles, other, assume_unique=True).size)
            jaccard = inter / (shingles.size + other.size - inter)
            if jaccard >= self.threshold:
                hits.append((jaccard, key))
        hits.sort(key=lambda t: -t[0])
        return [(key, j) for j, key in hits]

    def add(self, key: Hashable, prepared: tuple[np.ndarray, np.ndarray, str]) -> None:
        if key in self._slot:
            self.remove(key)
        slot = len(self._keys)
        if slot >= 2**32 - 1:
            raise OverflowError("a near-duplicate index holds at most 2**32 - 1 texts")
        self._keys.append(key)
        self._slot[key] = slot
        self._text += prepared[2].encode("utf-8", "surrogatepass")
        self._ends.append(len(self._text))
        for table, bk in zip(self._recent, prepared[0].tolist()):
            bucket = table.setdefault(bk, slot)
            if bucket != slot:
                if isinstance(bucket, int):
                    table[bk] = [bucket, slot]
                else:
                    bucket.append(slot)
        self._recent_n += 1
        # the dicts cost ~100 bytes per band and entry, the arrays 13: keep the dicts a small
        # share of the index; merges copy the arrays, so their size grows with it (amortised)
        if self._recent_n >= max(self._MERGE_MIN, self._fkeys.size // (16 * self.bands)):
            self._merge()

    def _merge(self) -> None:
        """Move the recent entries into the sorted arrays (after any equal key: newer last)."""
        keys, slots, bands = [], [], []
        for b, table in enumerate(self._recent):
            if not table:
                continue
            lists = [[v] if isinstance(v, int) else v for v in table.values()]
            counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
            k = np.fromiter(table.keys(), dtype=np.uint64, count=len(table)) ^ self._salt[b]
            keys.append(np.repeat(k, counts))
            slots.append(np.fromiter(chain.from_iterable(lists), dtype=np.uint32, count=int(counts.sum())))
            bands.append(np.full(int(counts.sum()), b, dtype=np.uint8))
        self._recent = [{} for _ in range(self.bands)]
        self._recent_n = 0
        if not keys:
            return
        k = np.concatenate(keys)
        order = np.argsort(k, kind="stable")  # a bucket's slots stay in the order they were added
        k = k[order]
        at = np.searchsorted(self._fkeys, k, "right")
        self._fkeys = np.insert(self._fkeys, at, k)
        self._fslots = np.insert(self._fslots, at, np.concatenate(slots)[order])
        self._fband = np.insert(self._fband, at, np.concatenate(bands)[order])

    def remove(self, key: Hashable) -> None:
        slot = self._slot.pop(key, None)
        if slot is not None:
            self._keys[slot] = None  # its bucket entries are skipped from now on
