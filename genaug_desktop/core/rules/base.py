"""The rule protocol: what a rule is, what it sees, and what it answers.

A rule class declares ``kind``, ``modality``, ``title``, ``help``, what its measured value is
(``measure``) and its parameters as a :class:`ParamSet` (the same mechanism as ops, so the JSON
format, validation with JSON paths and the GUI form all come from one declaration). An instance
holds validated parameters plus the project-level fields ``id``, ``state`` and ``explanation``.

Evaluation is batched: :meth:`Rule.evaluate` takes a list of :class:`Subject` (one candidate
each, with its text or lazily decoded image and its source item) and returns one
:class:`Verdict` per subject: passed or not, a reason a person can read, and the measured value.
Rules that compare a candidate with *other* samples (duplicates) are ``stateful``: they build an
index in :meth:`Rule.prepare` from a :class:`RuleContext`, run after every other rule, and
remember each candidate they pass (a later candidate is then compared with it), so their
verdicts depend on order: the engine feeds them candidates one at a time, oldest first, after a
vectorised :meth:`Rule.precompute` over the batch, which makes results independent of batch size.

Subclasses register themselves by being defined (``__init_subclass__``); the built-in rules are
in :mod:`genaug_desktop.core.rules.image_rules` and :mod:`genaug_desktop.core.rules.text_rules`.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from genaug_desktop.core.params import ParamError, ParamSet

if TYPE_CHECKING:
    from genaug_desktop.core.datasets.model import Item
    from genaug_desktop.core.store.project import Project

MODALITIES = ("image", "text")
RULE_STATES = ("proposed", "approved", "disabled")
RULE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MAX_EXPLANATION = 5000

_REGISTRY: dict[str, type[Rule]] = {}


class RuleError(ParamError):
    """A rule (or a rule set) is invalid; ``path`` is the JSON path of the bad field."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """One rule's answer for one candidate.

    ``reason`` says in plain words why it failed (or, for a pass, anything worth knowing, such as
    "no source to compare with"); ``value`` is the measured number the thresholds apply to, or
    None when the rule measures nothing (e.g. "decodes") or could not measure.
    """

    passed: bool
    reason: str = ""
    value: float | None = None


PASS = Verdict(True)


# ---- what rules see --------------------------------------------------------------------------------
class Subject:
    """One candidate as rules see it.

    Decoding is lazy and cached on the subject, so rules evaluated on the same batch decode
    each image once; ``cache`` holds derived values rules share (hashes, normalised text).
    Build subjects with :meth:`RuleContext.subject` (from the project) or directly (tests,
    previews): ``Subject(ctx, 1, text="...", source_key="a.txt:2")``.
    """

    __slots__ = ("ctx", "id", "origin", "label", "source_key", "blob", "_text", "_image", "_image_error", "cache")

    def __init__(
        self,
        ctx: RuleContext,
        id: int,
        *,
        text: str | None = None,
        blob: str | None = None,
        image: np.ndarray | None = None,
        source_key: str | None = None,
        label: str | None = None,
        origin: str = "augmentation",
    ) -> None:
        self.ctx = ctx
        self.id = int(id)
        self.origin = origin
        self.label = label
        self.source_key = source_key
        self.blob = blob
        self._text = text
        self._image = normalize_image(image) if image is not None else None
        self._image_error: str | None = None
        self.cache: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Subject(id={self.id}, source={self.source_key!r})"

    @property
    def text(self) -> str:
        return self._text or ""

    def _decode(self) -> None:
        if self._image is not None or self._image_error is not None:
            return
        if self.blob is None:
            self._image_error = "the candidate has no image"
            return
        try:
            self._image = self.ctx.load_blob_image(self.blob)
        except Exception as exc:  # any decoder failure is a verdict, not a crash
            self._image_error = _short_error(exc)

    @property
    def image(self) -> np.ndarray | None:
        """The decoded image as uint8 (H, W) or (H, W, 3|4), or None when it does not decode."""
        self._decode()
        return self._image

    @property
    def image_error(self) -> str | None:
        self._decode()
        return self._image_error

    @property
    def gray(self) -> np.ndarray | None:
        """Luminance (H, W) uint8, cached."""
        if "gray" not in self.cache:
            img = self.image
            self.cache["gray"] = None if img is None else to_gray(img)
        return self.cache["gray"]  # type: ignore[no-any-return]

    @property
    def source(self) -> Item | None:
        return self.ctx.item(self.source_key) if self.source_key is not None else None

    @property
    def source_text(self) -> str | None:
        item = self.source
        return item.text if item is not None else None

    @property
    def source_image(self) -> np.ndarray | None:
        return self.ctx.item_image(self.source_key) if self.source_key is not None else None

    def image_hash(self, algo: str) -> int | None:
        """The candidate's 64-bit perceptual hash (``phash`` or ``dhash``), cached by content."""
        key = "hash:" + algo
        if key not in self.cache:
            value = self.ctx.cached_hash(self.blob, algo) if self.blob else None
            if value is None:
                gray = self.gray
                if gray is not None:
                    from genaug_desktop.core.rules.imagehash import image_hash

                    value = image_hash(gray, algo)
                    if self.blob:
                        self.ctx.remember_hash(self.blob, algo, value)
            self.cache[key] = value
        return self.cache[key]  # type: ignore[no-any-return]


def _short_error(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def normalize_image(x: np.ndarray) -> np.ndarray:
    """uint8 (H, W), (H, W, 3) or (H, W, 4); 16-bit and float images are scaled to 8 bits."""
    x = np.asarray(x)
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[..., 0]
    if x.dtype == np.uint8:
        return x
    if x.dtype == np.uint16:
        return (x >> 8).astype(np.uint8)
    if x.dtype.kind == "f":
        scale = 255.0 if float(np.nanmax(x, initial=0.0)) <= 1.0 else 1.0
        return np.clip(np.nan_to_num(x) * scale, 0, 255).astype(np.uint8)
    return np.clip(x, 0, 255).astype(np.uint8)


def to_gray(img: np.ndarray) -> np.ndarray:
    """Luminance of an RGB/RGBA image (ITU-R BT.601, as OpenCV and Pillow compute it)."""
    if img.ndim == 2:
        return img
    import cv2

    code = cv2.COLOR_RGBA2GRAY if img.shape[2] == 4 else cv2.COLOR_RGB2GRAY
    return cv2.cvtColor(np.ascontiguousarray(img), code)


def color_mode(img: np.ndarray) -> str:
    if img.ndim == 2:
        return "L"
    return {2: "LA", 3: "RGB", 4: "RGBA"}.get(img.shape[2], f"{img.shape[2]}-channel")


class RuleContext:
    """What rules may read, with caches: the real items (texts, decoded images, image hashes)
    and the candidates already kept.

    One context serves one evaluation run (a filter job or a dry run); the GUI may keep one
    per project between dry runs so vocabularies and source hashes are computed once.
    ``RuleContext(project)`` reads the project; ``RuleContext.in_memory(...)`` serves tests and
    previews with plain lists.
    """

    #: decoded source images kept, in bytes (a 64 px RGB image is 12 KiB, a 1024 px one 3 MiB)
    IMAGE_CACHE_BYTES = 256 * 1024 * 1024

    def __init__(
        self,
        project: Project | None = None,
        *,
        modality: str | None = None,
        items: Sequence[Item] | None = None,
        item_images: Mapping[str, np.ndarray] | None = None,
        kept: Sequence[Subject] | None = None,
    ) -> None:
        if project is None and modality is None:
            raise ValueError("give a project or a modality")
        self.project = project
        self.modality: str = modality or (project.modality if project is not None else "")
        self._items: list[Item] | None = list(items) if items is not None else None
        self._by_key: dict[str, Item] | None = None
        self._memory_images = dict(item_images or {})
        self._memory_kept = list(kept) if kept is not None else None
        self._images: OrderedDict[str, np.ndarray | None] = OrderedDict()
        self._image_bytes = 0
        self._hashes: dict[str, dict[str, int]] = {}
        self._new_hashes: list[tuple[str, str, int]] = []
        self._memo: dict[str, Any] = {}
        #: candidate ids being checked in this run; they are never "kept" while being checked
        self.checking: set[int] = set()

    @classmethod
    def in_memory(
        cls,
        modality: str,
        items: Sequence[Item] = (),
        item_images: Mapping[str, np.ndarray] | None = None,
        kept: Sequence[Subject] = (),
    ) -> RuleContext:
        """A context over plain lists (tests, previews): *kept* are subjects already kept."""
        return cls(None, modality=modality, items=items, item_images=item_images, kept=kept)

    # ---- real items ------------------------------------------------------------------------------
    def items(self) -> list[Item]:
        if self._items is None:
            self._items = self.project.items() if self.project is not None else []
        return self._items

    def item(self, key: str) -> Item | None:
        if self._by_key is None:
            self._by_key = {i.key: i for i in self.items()}
        return self._by_key.get(key)

    def item_image(self, key: str) -> np.ndarray | None:
        """The decoded source image (uint8), or None when it cannot be read; cached (least recently
        used first out, up to :attr:`IMAGE_CACHE_BYTES`)."""
        if key in self._images:
            self._images.move_to_end(key)
            return self._images[key]
        img: np.ndarray | None
        if key in self._memory_images:
            img = normalize_image(self._memory_images[key])
        else:
            item = self.item(key)
            img = None
            if item is not None and self.project is not None and item.modality == "image":
                from genaug_desktop.core.policy import load_image_array

                try:
                    img = normalize_image(load_image_array(self.project.source_path(item)))
                except Exception:  # a vanished or broken source cannot be compared with
                    img = None
        self._images[key] = img
        self._image_bytes += img.nbytes if img is not None else 0
        while self._image_bytes > self.IMAGE_CACHE_BYTES and len(self._images) > 1:
            _key, old = self._images.popitem(last=False)
            self._image_bytes -= old.nbytes if old is not None else 0
        return img

    def item_hash(self, key: str, algo: str, mirrored: bool = False) -> int | None:
        """The perceptual hash of a real item's image (or of its mirror image), cached by content."""
        item = self.item(key)
        content = item.sha256 if item is not None and item.sha256 else "key:" + key
        if mirrored:
            content += ":mirrored"
        value = self.cached_hash(content, algo)
        if value is None:
            img = self.item_image(key)
            if img is None:
                return None
            from genaug_desktop.core.rules.imagehash import image_hash

            gray = to_gray(img)
            value = image_hash(np.ascontiguousarray(gray[:, ::-1]) if mirrored else gray, algo)
            self.remember_hash(content, algo, value)
        return value

    # ---- hashes by content (persisted by the filter job) -----------------------------------------
    def _hash_table(self, algo: str) -> dict[str, int]:
        table = self._hashes.get(algo)
        if table is None:
            table = {}
            if self.project is not None:
                for sha, signed in self.project.query("SELECT sha256, hash FROM image_hashes WHERE algo = ?", (algo,)):
                    table[sha] = signed & 0xFFFFFFFFFFFFFFFF
            self._hashes[algo] = table
        return table

    def cached_hash(self, content_sha: str | None, algo: str) -> int | None:
        if content_sha is None:
            return None
        return self._hash_table(algo).get(content_sha)

    def remember_hash(self, content_sha: str, algo: str, value: int) -> None:
        self._hash_table(algo)[content_sha] = value
        self._new_hashes.append((content_sha, algo, value))

    @property
    def has_new_hashes(self) -> bool:
        return bool(self._new_hashes)

    def take_new_hashes(self) -> list[tuple[str, str, int]]:
        """Hashes computed since the last call, for the filter job to persist."""
        out, self._new_hashes = self._new_hashes, []
        return out

    # ---- candidates --------------------------------------------------------------------------------
    def load_blob_image(self, sha: str) -> np.ndarray:
        if self.project is None:
            raise ValueError("no project to read the image from")
        from genaug_desktop.core.policy import decode_png

        with open(self.project.blob_file(sha), "rb") as fh:
            data = fh.read()
        img = normalize_image(decode_png(data))
        if img.size == 0:
            raise ValueError("the image is empty")
        return img

    def _decode_for_prefetch(self, sha: str) -> tuple[np.ndarray | None, np.ndarray | None, str | None]:
        try:
            img = self.load_blob_image(sha)
        except Exception as exc:
            return None, None, _short_error(exc)
        return img, to_gray(img), None

    def prefetch(self, subjects: Sequence[Subject], workers: int | None = None) -> None:
        """Decode the subjects' images in a few threads (OpenCV releases the GIL while decoding)."""
        todo = [s for s in subjects if s.blob and s._image is None and s._image_error is None]
        if len(todo) < 8:
            return
        import os
        from concurrent.futures import ThreadPoolExecutor

        n = workers or min(4, os.cpu_count() or 1)
        if n < 2:
            return
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="rules-decode") as pool:
            decoded = list(pool.map(self._decode_for_prefetch, [s.blob for s in todo]))
        for s, (img, gray, error) in zip(todo, decoded):
            s._image, s._image_error = img, error
            s.cache["gray"] = gray

    def subject(self, row: Mapping[str, Any]) -> Subject:
        """A subject from a candidate row (``id``, ``text``, ``blob``, ``source``, ``label``, ``origin``)."""
        return Subject(
            self, row["id"], text=row.get("text"), blob=row.get("blob"), source_key=row.get("source"),
            label=row.get("label"), origin=row.get("origin") or "augmentation",
        )

    def kept_subjects(self, batch: int = 1000) -> Iterator[list[Subject]]:
        """Candidates already kept (accepted, or pending and not being checked now), oldest first."""
        if self._memory_kept is not None:
            kept = [s for s in self._memory_kept if s.id not in self.checking]
            for start in range(0, len(kept), batch):
                yield kept[start : start + batch]
            return
        if self.project is None:
            return
        last = 0
        while True:
            rows = self.project.query(
                "SELECT c.id, c.origin, i.key, c.label, c.blob, c.text FROM candidates c"
                " LEFT JOIN items i ON i.id = c.source_item"
                " WHERE c.id > ? AND c.status IN ('pending', 'accepted') ORDER BY c.id LIMIT ?",
                (last, batch),
            )
            if not rows:
                return
            last = rows[-1][0]
            out = [
                Subject(self, r[0], origin=r[1], source_key=r[2], label=r[3], blob=r[4], text=r[5])
                for r in rows if r[0] not in self.checking
            ]
            if out:
                yield out

    # ---- shared derived data -------------------------------------------------------------------------
    def memo(self, key: str, factory: Callable[[], Any]) -> Any:
        """A value computed once per context (e.g. the real data's vocabulary)."""
        if key not in self._memo:
            self._memo[key] = factory()
        return self._memo[key]


# ---- the rule base class ------------------------------------------------------------------------------
class Rule:
    """Base of every rule. Subclasses set the class attributes and implement :meth:`evaluate`."""

    kind: ClassVar[str] = ""
    modality: ClassVar[str] = ""
    title: ClassVar[str] = ""
    help: ClassVar[str] = ""
    #: what the measured value is, for charts ("characters", "share of dark pixels")
    measure: ClassVar[str] = ""
    params: ClassVar[ParamSet] = ParamSet()
    #: compares a candidate with other samples: runs after every other rule, keeps an index
    stateful: ClassVar[bool] = False
    #: rough cost; cheaper rules run first so expensive ones see fewer candidates
    cost: ClassVar[int] = 10

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            if cls.kind in _REGISTRY:
                raise RuntimeError(f"two rules are of kind {cls.kind!r}")
            if cls.modality not in MODALITIES:
                raise RuntimeError(f"rule {cls.kind!r} has no modality")
            _REGISTRY[cls.kind] = cls

    def __init__(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        id: str | None = None,
        state: str = "proposed",
        explanation: str = "",
        path: str = "$",
    ) -> None:
        rule_id = id if id is not None else self.kind
        check_rule_id(rule_id, f"{path}.id")
        if state not in RULE_STATES:
            raise RuleError(f"{path}.state", f"must be one of {', '.join(RULE_STATES)}, not {state!r}")
        if not isinstance(explanation, str):
            raise RuleError(f"{path}.explanation", "must be text")
        if len(explanation) > MAX_EXPLANATION:
            raise RuleError(f"{path}.explanation", f"is longer than {MAX_EXPLANATION} characters")
        try:
            self.values: dict[str, Any] = self.params.validate(values, f"{path}.params")
            self.check(f"{path}.params")
        except RuleError:
            raise
        except ParamError as exc:
            raise RuleError(exc.path, exc.message) from None
        except (OverflowError, TypeError, ValueError) as exc:  # e.g. a whole number too large for a float
            raise RuleError(f"{path}.params", f"has a value this rule cannot use ({exc})") from None
        self.id = rule_id
        self.state = state
        self.explanation = explanation

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, state={self.state!r}, params={self.values!r})"

    def check(self, path: str) -> None:
        """Cross-field validation; raise :class:`RuleError` with the JSON path."""

    # ---- evaluation ----------------------------------------------------------------------------------
    def prepare(self, ctx: RuleContext) -> None:
        """Called once per run before any :meth:`evaluate` (build vocabularies, indexes)."""

    def evaluate(self, batch: Sequence[Subject]) -> list[Verdict]:
        raise NotImplementedError

    def precompute(self, batch: Sequence[Subject]) -> None:
        """Stateful rules: compute per-subject features for a whole batch at once (vectorised),
        into ``subject.cache``, before the engine checks the subjects one by one."""

    def discard(self, subjects: Sequence[Subject]) -> None:
        """Stateful rules: forget *subjects* this rule passed but a later rule rejected."""

    def bounds(self) -> tuple[float | None, float | None]:
        """The pass interval of the measured value (None: unbounded), for charts.

        Rules whose threshold is a ``range`` parameter get it from there; others override this.
        """
        pair = self.values.get("range")
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            return float(pair[0]), float(pair[1])
        return None, None

    # ---- description and copies -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md shape: ``{"id", "kind", "state", "params", "explanation"}``."""
        return {
            "id": self.id, "kind": self.kind, "state": self.state,
            "params": {k: _plain(v) for k, v in self.values.items()}, "explanation": self.explanation,
        }

    def copy(self, **changes: Any) -> Rule:
        """A fresh instance (no run state) with the same fields, or some changed."""
        fields = {"values": self.values, "id": self.id, "state": self.state, "explanation": self.explanation}
        fields.update(changes)
        values = fields.pop("values")
        return type(self)(values, **fields)

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "kind": cls.kind, "modality": cls.modality, "title": cls.title, "help": cls.help,
            "measure": cls.measure, "params": cls.params.schema(), "stateful": cls.stateful,
        }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def check_rule_id(rule_id: Any, path: str) -> str:
    if not isinstance(rule_id, str) or not RULE_ID_PATTERN.match(rule_id):
        shown = repr(rule_id) if isinstance(rule_id, str) and len(rule_id) <= 70 else "this value"
        raise RuleError(
            path, f"{shown} is not a rule id (use 1-64 lower-case letters, digits, '_', '.' or '-')"
        )
    return rule_id


def _load_builtin() -> None:
    # Importing the modules registers their rules; heavy libraries load inside functions.
    from genaug_desktop.core.rules import image_rules, text_rules  # noqa: F401


def rule_kinds(modality: str | None = None) -> dict[str, type[Rule]]:
    """Every rule kind by name (built-ins loaded on first use), optionally for one modality."""
    _load_builtin()
    return {k: v for k, v in _REGISTRY.items() if modality is None or v.modality == modality}


def get_rule_kind(kind: Any, path: str = "$.kind") -> type[Rule]:
    kinds = rule_kinds()
    if not isinstance(kind, str) or kind not in kinds:
        shown = repr(kind) if isinstance(kind, str) and len(kind) <= 60 else "this value"
        raise RuleError(path, f"unknown rule kind {shown}; known: {', '.join(sorted(kinds))}")
    return kinds[kind]


def build_rule(
    kind: str, values: Mapping[str, Any] | None = None, *, id: str | None = None, state: str = "proposed",
    explanation: str = "", path: str = "$",
) -> Rule:
    """A validated rule of *kind*; raises :class:`RuleError` naming the JSON path."""
    return get_rule_kind(kind, f"{path}.kind")(values, id=id, state=state, explanation=explanation, path=path)
