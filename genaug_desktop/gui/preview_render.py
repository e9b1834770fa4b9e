"""Render the live preview of a policy: one item and N seeded variants (no Qt; runs in a job thread).

:func:`preview_job` is a core-style Job (a generator yielding :class:`Progress`, honouring the cancel
token between variants) that the editor runs through the worker, newest request wins. It returns
a :class:`PreviewResult` whose image tiles are already reduced to the size they are shown at, as
packed RGB bytes, so the GUI thread only wraps them in QImages.

Variant *k* uses the same seed as variant *k* of a batch job with the same base seed
(``derive_seed(seed, item sha256, k)``): what the preview shows is what ``Augment…`` makes.

Speed (the editor must refresh 8 variants of a 512 px image within 150 ms of an edit):

- the decoded source and its pre-processed form are cached per (file, mtime, size) and
  (source, pre-processing JSON), so an edit of a random step never decodes or pre-processes again;
- the image *before* the step being edited is cached per variant: the policy draws every top-level
  step's seed and coin up front, so the steps before the edited one give the same image every time
  and only the edited step and those after it run again;
- tiles are reduced by halving with ``INTER_AREA`` (its fast path), then fitted once.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from genaug_desktop.core.jobs import CancelToken, Job, Progress

#: Bytes of decoded sources, pre-processed sources and cached prefixes kept between renders.
CACHE_BUDGET = 256 * 1024 * 1024
MAX_VARIANTS = 16
#: The progress message of a text preview that first loads nlpaug and builds its augmenters (seconds).
LOADING_TEXT_OPS = "Loading the text augmenters…"


def op_title(name: str) -> str:
    """How an op is named to people: ``random_char_insert`` -> "Random char insert"."""
    return name.replace("_", " ").capitalize()


def unavailable_message(unavailable: dict[str, tuple[str, str]]) -> str:
    """One sentence for the ops of a policy that cannot run here: {op name: (category, why)}.

    "Synonym replacement is unavailable: needs the WordNet data, ..." (what to do is in *why*).
    """
    parts = []
    for name, (category, why) in sorted(unavailable.items()):
        what = f"{op_title(name)} replacement" if category == "Synonyms" else op_title(name)
        parts.append(f"{what} is unavailable: {why}")
    return "\n\n".join(parts)


def unavailable_ops(steps: list[Any]) -> dict[str, tuple[str, str]]:
    """The switched-on ops of *steps* (a Policy's step tree) that cannot run here: {name: (category, why)}."""
    from genaug_desktop.core.policy import Group

    found: dict[str, tuple[str, str]] = {}
    for step in steps:
        if not step.enabled:
            continue
        if isinstance(step, Group):
            found.update(unavailable_ops(step.children))
            continue
        cls = type(step.op)
        ok, why = cls.availability()
        if not ok:
            found[cls.name] = (cls.category or "", why or "not available here")
    return found


def missing_source_message(path: str) -> str:
    return (f"The source file of this item is missing: {path}. It was moved, renamed or deleted; put it back, or "
            "open the dataset where it is now, to preview the policy on it.")


@dataclass(frozen=True, slots=True)
class PreviewSource:
    """The item to preview: an image file or a text."""

    key: str
    modality: str
    path: str | None = None
    text: str | None = None
    sha256: str | None = None
    label: str | None = None

    @property
    def seed_key(self) -> str:
        """What variant seeds derive from; the batch job uses the item's SHA-256."""
        return self.sha256 or self.key


@dataclass(frozen=True, slots=True)
class PreviewRequest:
    source: PreviewSource
    policy: dict[str, Any]
    seed: int = 0
    count: int = 8
    tile_side: int = 160
    #: index of the top-level step being edited: the image before it is cached per variant
    focus: int | None = None


@dataclass(slots=True)
class RenderedImage:
    """Packed RGB rows at display size, and the size of the full image they show."""

    width: int
    height: int
    data: bytes
    full_width: int
    full_height: int
    mode: str = "RGB"


@dataclass(slots=True)
class PreviewTile:
    """The source (``index == -1``) or one variant."""

    index: int
    seed: int | None = None
    image: RenderedImage | None = None
    text: str | None = None
    #: (start, length) of the changed words in ``text``
    spans: list[tuple[int, int]] = field(default_factory=list)
    chain: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


@dataclass(slots=True)
class PreviewResult:
    request: PreviewRequest
    source: PreviewTile | None
    variants: list[PreviewTile]
    seconds: float = 0.0
    #: the whole preview failed (unreadable source, invalid policy); tiles are empty then
    error: str | None = None
    prefix_hits: int = 0


# ---- caches -------------------------------------------------------------------------------------------
class _ByteLRU:
    """A thread-safe LRU of numpy arrays (or (array, extra) pairs) bounded by their bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Any, value: Any, size: int) -> None:
        if size > self.budget // 2:
            return  # one huge image must not flush everything else
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self.budget and self._items:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)


_sources = _ByteLRU(CACHE_BUDGET // 4)
_prepared = _ByteLRU(CACHE_BUDGET // 4)
_prefixes = _ByteLRU(CACHE_BUDGET // 2)


def clear_caches() -> None:
    for cache in (_sources, _prepared, _prefixes):
        cache.clear()


def _file_key(path: str) -> tuple[str, int, int]:
    st = os.stat(path)
    return path, st.st_mtime_ns, st.st_size


def _decoded(path: str) -> tuple[Any, tuple[str, int, int]]:
    from genaug_desktop.core.policy import load_image_array

    key = _file_key(path)
    array = _sources.get(key)
    if array is None:
        array = load_image_array(path)
        array.setflags(write=False)  # shared between renders: nobody may change it
        _sources.put(key, array, array.nbytes)
    return array, key


# ---- rendering ----------------------------------------------------------------------------------------
def shrink(x: Any, side: int) -> Any:
    """Fit an (H, W[, C]) uint8 array in *side* x *side*: halve with INTER_AREA, then one final resize."""
    import cv2

    h, w = x.shape[:2]
    while max(h, w) >= 2 * side and min(h, w) >= 2:
        x = cv2.resize(x, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        h, w = x.shape[:2]
    if max(h, w) > side:
        scale = side / max(h, w)
        x = cv2.resize(x, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return x


def render_image(x: Any, side: int) -> RenderedImage:
    """Display bytes (packed RGB) of an augmented image, fitted in *side* px."""
    import cv2
    import numpy as np

    full_h, full_w = x.shape[:2]
    small = shrink(x, side)
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2RGB)
    elif small.shape[2] == 4:
        small = cv2.cvtColor(small, cv2.COLOR_RGBA2RGB)
    small = np.ascontiguousarray(small)
    return RenderedImage(small.shape[1], small.shape[0], small.tobytes(), full_w, full_h)


_TOKEN = re.compile(r"\S+")


def changed_spans(before: str, after: str) -> list[tuple[int, int]]:
    """(start, length) of the words of *after* that are new or changed compared to *before*."""
    old = _TOKEN.findall(before)
    new = list(_TOKEN.finditer(after))
    matcher = difflib.SequenceMatcher(None, old, [m.group() for m in new], autojunk=False)
    spans = []
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert") and j2 > j1:
            start = new[j1].start()
            spans.append((start, new[j2 - 1].end() - start))
    return spans


def _run_from(
    policy: Any, x: Any, seed: int, focus: int | None, prefix_key: Any, label: str | None = None,
) -> tuple[Any, list[dict[str, Any]], bool]:
    """``policy.apply(x, seed, preprocessed=True, label=label)``, reusing the cached image before step *focus*.

    ``Policy.run_steps`` draws exactly as ``Policy.apply`` does, so the steps before *focus* do the
    same whatever happens at or after it. A test checks that the output equals ``Policy.apply``.
    """
    steps = policy.steps
    if focus is None or not 0 < focus < len(steps):
        out, chain = policy.apply(x, seed, preprocessed=True, label=label)
        return out, chain, False
    cached = _prefixes.get(prefix_key)
    hit = cached is not None
    if hit:
        x, chain_before = cached
        chain = list(chain_before)
    else:
        x, chain = policy.run_steps(x, seed, 0, focus, label=label)
        nbytes = getattr(x, "nbytes", 0) or len(x) * 4
        _prefixes.put(prefix_key, (x, list(chain)), nbytes)
    x, chain = policy.run_steps(x, seed, focus, None, chain, label=label)
    return x, chain, hit


def preview_job(request: PreviewRequest, cancel: CancelToken | None = None) -> Job[PreviewResult]:
    """Render the source and ``request.count`` variants (a Job: yields after each variant)."""
    from genaug_desktop.core.policy import Policy, PolicyError, derive_seed
    from genaug_desktop.gui.worker import describe_error

    cancel = cancel or CancelToken()
    started = time.perf_counter()
    source = request.source
    count = max(0, min(MAX_VARIANTS, request.count))
    try:
        policy = Policy.from_json(request.policy, check_available=False)
    except PolicyError as exc:
        return PreviewResult(request, None, [], time.perf_counter() - started, f"the policy is not valid: {exc}")

    # The source, decoded and pre-processed once per (file, pre-processing).
    pre_json = json.dumps(request.policy.get("preprocess", []), sort_keys=True)
    try:
        if source.modality == "image":
            if not source.path:
                raise ValueError("this item has no file")
            if not os.path.exists(source.path):
                return PreviewResult(request, None, [], time.perf_counter() - started, missing_source_message(source.path))
            raw, file_key = _decoded(source.path)
            prep_key: Any = (file_key, pre_json)
            x = _prepared.get(prep_key)
            if x is None:
                x = policy.run_preprocess(raw)
                if x is raw:
                    x = raw
                elif hasattr(x, "setflags"):
                    x.setflags(write=False)
                _prepared.put(prep_key, x, x.nbytes)
            source_tile = PreviewTile(-1, image=render_image(x, request.tile_side))
        else:
            text = source.text or ""
            prep_key = (source.key, text, pre_json)
            missing = next((op for op in policy.preprocess if op.name == "missing_values"), None)
            if missing is not None and missing.apply_item(text, source.label) is None:
                message = "pre-processing drops this item (missing values: drop); pick another item"
                return PreviewResult(request, PreviewTile(-1, text=text), [], time.perf_counter() - started, message)
            x = policy.run_preprocess(text)
            source_tile = PreviewTile(-1, text=x)
    except Exception as exc:  # an unreadable file, a pre-processing op that fails on this item
        return PreviewResult(request, None, [], time.perf_counter() - started, describe_error(exc))
    unavailable = unavailable_ops(policy.steps)
    if unavailable:  # one message, not the same failure on every tile
        return PreviewResult(request, None, [], time.perf_counter() - started, unavailable_message(unavailable))
    if source.modality == "text" and policy.steps and "nlpaug" not in sys.modules:
        yield Progress(0, count, LOADING_TEXT_OPS)  # nlpaug loads and builds its augmenters: seconds
    yield Progress(0, count, "Rendering preview")

    focus = request.focus
    prefix_json = json.dumps(request.policy.get("steps", [])[: focus or 0], sort_keys=True)
    variants: list[PreviewTile] = []
    hits = 0
    for k in range(count):
        cancel.raise_if_cancelled()
        seed = derive_seed(request.seed, source.seed_key, k)
        tile = PreviewTile(k, seed)
        try:
            # the label is in the key: steps before the focus may have conditions on it
            prefix_key = (prep_key, source.label, seed, prefix_json, len(policy.steps))
            out, chain, hit = _run_from(policy, x, seed, focus, prefix_key, source.label)
            hits += hit
            tile.chain = chain
            if source.modality == "image":
                tile.image = render_image(out, request.tile_side)
            else:
                tile.text = out
                tile.spans = changed_spans(x, out)
        except Exception as exc:  # one failing variant is a message on its tile, not a failed preview
            tile.error = describe_error(exc)
        variants.append(tile)
        yield Progress(k + 1, count, "Rendering preview")
    return PreviewResult(request, source_tile, variants, time.perf_counter() - started, None, hits)


def run_preview(request: PreviewRequest) -> PreviewResult:
    """Render synchronously (tests, benchmarks, scripts)."""
    from genaug_desktop.core.jobs import run_job

    return run_job(preview_job(request))


# ---- describing the op chain ---------------------------------------------------------------------------
def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list):
        if len(value) > 4:
            return f"[{', '.join(_short(v) for v in value[:3])}, …]"
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value)


def describe_chain(chain: list[dict[str, Any]]) -> str:
    """One line per applied op with its drawn values: ``rotate(angle=-7.31)``; a step skipped by
    its condition: ``hflip skipped (when: label '6' is in {6, 9})``."""
    if not any("skipped" not in link for link in chain):
        head = "No op fired for this seed: the variant equals the source."
        return "\n".join([head, *(f"{link.get('op')} skipped ({link['skipped']})" for link in chain)])
    lines = []
    for link in chain:
        if "skipped" in link:
            lines.append(f"{link.get('op')} skipped ({link['skipped']})")
            continue
        drawn = link.get("params") or {}
        inner = ", ".join(f"{k}={_short(v)}" for k, v in drawn.items() if k != "seed")
        lines.append(f"{link['op']}({inner})" if inner else link["op"])
    return "\n".join(lines)


def iter_ops(chain: list[dict[str, Any]]) -> Iterator[str]:
    """The ops that ran (steps skipped by their condition are left out)."""
    for link in chain:
        if "skipped" not in link:
            yield str(link.get("op"))
