"""Perceptual hashes of images (64 bits) and a sub-quadratic Hamming-distance index.

pHash and dHash are written here with OpenCV (resize + DCT) rather than taken from the
``imagehash`` package: they are a dozen lines each, this way they run on the uint8 arrays the
rest of the app already holds (``imagehash`` wants Pillow images and pulls in SciPy and
PyWavelets), and the bit layout is pinned by our own tests.

:class:`HammingIndex` is multi-index hashing (Norouzi, Punjani and Fleet, CVPR 2012): the 64
bits are cut into four 16-bit chunks, each with its own table. If two hashes are within
distance ``d``, by the pigeonhole principle at least one chunk differs in at most
``d // 4`` bits, so a query probes each table at the chunk values within that radius and checks
only the hashes it finds there. With 16-bit chunks the buckets stay small up to millions of
hashes, so a query costs a few dozen dictionary look-ups instead of a scan of the whole set.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

import numpy as np

HASH_ALGOS = ("phash", "dhash")
_CHUNKS = 4
_CHUNK_BITS = 16
_MASK16 = (1 << _CHUNK_BITS) - 1


def phash(gray: np.ndarray) -> int:
    """DCT perceptual hash: the low 8x8 frequencies of a 32x32 thumbnail against their median."""
    import cv2

    small = cv2.resize(np.ascontiguousarray(gray), (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].ravel()
    ordered = np.sort(low)
    bits = low > (ordered[31] + ordered[32]) / 2  # the median of 64 values (np.median is slow here)
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def dhash(gray: np.ndarray) -> int:
    """Difference hash: whether each pixel of a 9x8 thumbnail is brighter than its left neighbour."""
    import cv2

    small = cv2.resize(np.ascontiguousarray(gray), (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def image_hash(gray: np.ndarray, algo: str) -> int:
    if algo == "phash":
        return phash(gray)
    if algo == "dhash":
        return dhash(gray)
    raise ValueError(f"unknown hash {algo!r}; use one of {', '.join(HASH_ALGOS)}")


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _flip_masks(radius: int) -> list[int]:
    masks = [0]
    for r in range(1, radius + 1):
        for bits in combinations(range(_CHUNK_BITS), r):
            m = 0
            for b in bits:
                m |= 1 << b
            masks.append(m)
    return masks


class HammingIndex:
    """Find stored 64-bit hashes within ``radius`` bits of a query, in sub-linear time.

    Ids are any hashable; :meth:`remove` forgets one (its bucket entries are dropped lazily).
    """

    def __init__(self, radius: int) -> None:
        if not 0 <= radius <= 64:
            raise ValueError("radius must be 0..64")
        self.radius = radius
        self._masks = _flip_masks(min(radius // _CHUNKS, _CHUNK_BITS))
        self._tables: list[dict[int, list[object]]] = [{} for _ in range(_CHUNKS)]
        self._hashes: dict[object, int] = {}
        self._seq: dict[object, int] = {}
        self._next = 0

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, key: object) -> bool:
        return key in self._hashes

    @staticmethod
    def _chunks(h: int) -> list[int]:
        return [(h >> (_CHUNK_BITS * i)) & _MASK16 for i in range(_CHUNKS)]

    def add(self, key: object, h: int) -> None:
        if key in self._hashes:
            self.remove(key)
        self._hashes[key] = h
        self._seq[key] = self._next
        self._next += 1
        for table, chunk in zip(self._tables, self._chunks(h)):
            table.setdefault(chunk, []).append(key)

    def add_many(self, pairs: Iterable[tuple[object, int]]) -> None:
        for key, h in pairs:
            self.add(key, h)

    def remove(self, key: object) -> None:
        h = self._hashes.pop(key, None)
        if h is None:
            return
        del self._seq[key]
        for table, chunk in zip(self._tables, self._chunks(h)):
            bucket = table.get(chunk)
            if bucket is not None:
                try:
                    bucket.remove(key)
                except ValueError:
                    pass
                if not bucket:
                    del table[chunk]

    def query(self, h: int) -> list[tuple[object, int]]:
        """Stored (id, distance) within the radius, nearest first (ties: the one added first)."""
        seen: set[object] = set()
        found: list[tuple[int, int, object]] = []
        for table, chunk in zip(self._tables, self._chunks(h)):
            for m in self._masks:
                bucket = table.get(chunk ^ m)
                if not bucket:
                    continue
                for key in bucket:
                    if key in seen:
                        continue
                    seen.add(key)
                    d = (self._hashes[key] ^ h).bit_count()
                    if d <= self.radius:
                        found.append((d, self._seq[key], key))
        found.sort(key=lambda t: (t[0], t[1]))
        return [(key, d) for d, _o, key in found]

    def nearest(self, h: int) -> tuple[object, int] | None:
        hits = self.query(h)
        return hits[0] if hits else None
