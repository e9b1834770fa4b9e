"""Text ops: nlpaug adapters (typos, word edits, WordNet synonyms/antonyms) and sentence shuffle.

Each op declares its parameters once; ``sample_params`` draws a seed from the policy's numpy
``Generator`` and ``apply(text, seed=...)`` is deterministic: the same (text, drawn params) gives the
same text in any process, whatever ``PYTHONHASHSEED`` is.

Seeding. nlpaug draws every random choice of the augmenters used here through one method,
``Augmenter.sample`` (``random.sample`` for lists, ``np.random.randint`` for the split point), which
reads Python's and numpy's *global* generators. Seeding and restoring those globals on every call
costs about 85 µs (numpy's ``get_state``/``set_state`` alone is 70 µs), more than nlpaug's own work
on a sentence. Instead each cached augmenter gets an instance-level ``sample`` that draws from a
private generator, re-seeded as ``random.Random(seed)`` for each call (under the module lock) and
set in a thread-local for the duration of the call. The global generators are never read or
written, other code's random streams are undisturbed, and two threads cannot see each other's
draws. ``tests/core/test_text_ops.py`` checks that scrambling both global generators changes
nothing and that they are left untouched, so an nlpaug version that starts drawing from the
globals directly fails the tests instead of silently losing reproducibility.
Calls still run under one module lock: nltk's WordNet reader shares seek/readline file handles,
the re-seeded generator is one per process, and augmenter construction must happen once.

Cost. Re-seeding the Mersenne Twister (about 3.5 µs, ``init_by_array``) is the one price of "the
same seed gives the same text" that cannot be avoided without changing every output. The adapter
pays for it by doing less than ``aug.augment(text)`` elsewhere: it calls the augmenter's action
method directly (:func:`_action_of`: what ``augment`` does for one string, minus its dispatch) and
its ``sample`` is ``Random.sample`` written out (the same draws, fewer Python calls).
``tests/core/test_text_ops_fast_path.py`` proves both give what the stock path gives.

Hash-seed independence. nlpaug's spelling model builds its candidate lists with ``list(set(...))``,
whose order depends on ``PYTHONHASHSEED``; the lists are sorted after loading.

Tokenisation. nlpaug's default tokenizer splits on every non-word character and re-joins with
spaces, so an untouched ``don't`` comes back as ``don ' t`` and ``$3.50`` as ``$ 3. 50``. The adapters
pass a tokenizer that keeps contractions, hyphenated words, numbers, e-mail addresses together and
a detokenizer that re-attaches punctuation. Runs of whitespace inside the text still come back as
one space (nlpaug re-joins tokens); leading and trailing whitespace is kept.

No network, ever. WordNet needs nltk and its data; availability is a look into nltk's data folders
(:func:`wordnet_status`: no download, and no nltk import, which would pull in scikit-learn and
pandas where they are installed), ``nltk.download`` is replaced by a function that raises before a
WordNet augmenter is built, and the part-of-speech tags nlpaug asks for come from WordNet
itself (see :func:`wordnet_pos_tags`) instead of nltk's perceptron tagger, whose data cannot be
installed offline from Debian. docs/wordnet.md gives the offline recipe;
:func:`install_wordnet_from_debian` performs it.

torch, nlpaug and nltk are imported only inside functions.
"""

from __future__ import annotations

import importlib.util
import os
import random
import re
import shutil
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from math import ceil as _ceil
from math import log as _log
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from genaug_desktop.core.ops.base import Op
from genaug_desktop.core.params import Param, ParamError, params

WORDNET_DOC = "docs/wordnet.md"
DEBIAN_WORDNET_DIR = "/usr/share/wordnet"

#: The 45 WordNet 3.0 lexicographer files, numbered 00-44, as listed in lexnames(5WN). Debian's
#: wordnet-base omits the ``lexnames`` file that nltk's reader opens first; this regenerates it.
WORDNET_LEXNAMES: tuple[str, ...] = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",
    "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person",
    "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
    "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition",
    "verb.communication", "verb.competition", "verb.consumption", "verb.contact", "verb.creation",
    "verb.emotion", "verb.motion", "verb.perception", "verb.possession", "verb.social", "verb.stative",
    "verb.weather", "adj.ppl",
)
_LEX_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}

#: What nltk's WordNetCorpusReader opens (besides ``lexnames``); all ship in wordnet-base except
#: ``index.sense`` (wordnet-sense-index).
_WORDNET_FILES = (
    "cntlist.rev", "index.sense", "index.adj", "index.adv", "index.noun", "index.verb",
    "data.adj", "data.adv", "data.noun", "data.verb", "adj.exc", "adv.exc", "noun.exc", "verb.exc",
)

_ENABLE_WORDNET = (
    "To enable it offline: `pip install nltk`; on Debian/Ubuntu `apt-get install wordnet-base "
    "wordnet-sense-index`, then `python -c \"from genaug_desktop.core.ops.text import "
    "install_wordnet_from_debian as i; print(i('~/nltk_data'))\"` and set NLTK_DATA to the folder it "
    f"prints (or copy nltk's own wordnet.zip into NLTK_DATA/corpora/). See {WORDNET_DOC}."
)


# ---- tokenisation ----------------------------------------------------------------------------------
# A word keeps inner apostrophes, hyphens, dots, commas, colons, slashes, @ and & (don't, well-known,
# 3.50, 1,000, 10:30, and/or, a@b.org); any other non-space character is a token of its own.
_TOKEN = re.compile(r"\w+(?:['’\-.,:/@&]\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = frozenset(".,;:!?%)]}…”’»")
_NO_SPACE_AFTER = frozenset("([{“‘«$£€¥#")
_STRAIGHT_QUOTES = frozenset("\"'")


def tokenize(text: str) -> list[str]:
    """Split text into words and punctuation (the tokenizer given to every nlpaug augmenter)."""
    return _TOKEN.findall(text)


def detokenize(tokens: list[str]) -> str:
    """Join tokens with single spaces, re-attaching punctuation, brackets and quotes."""
    out: list[str] = []
    glue_next = True  # no space before the first token
    open_quotes: set[str] = set()
    for tok in tokens:
        if not tok:
            continue
        if tok in _STRAIGHT_QUOTES:  # ambiguous: alternate opening and closing
            if tok in open_quotes:
                open_quotes.discard(tok)
                space, glue_after = False, False
            else:
                open_quotes.add(tok)
                space, glue_after = not glue_next, True
        elif tok in _NO_SPACE_BEFORE:
            space, glue_after = False, False
        elif tok in _NO_SPACE_AFTER:
            space, glue_after = not glue_next, True
        else:
            space, glue_after = not glue_next, False
        if space:
            out.append(" ")
        out.append(tok)
        glue_next = glue_after
    return "".join(out)


# ---- seeded sampling -------------------------------------------------------------------------------
_local = threading.local()
#: Serialises augmenter construction and every nlpaug call (nltk's WordNet reader is not thread-safe).
_LOCK = threading.Lock()


def _sample(x: Any, num: int | None = None) -> Any:
    """Drop-in for ``nlpaug.Augmenter.sample`` drawing from the current call's private generator.

    For a list and an int count this is ``rng.sample(x, num)`` written out: the same algorithm and
    the same ``getrandbits`` calls as CPython's ``Random.sample`` / ``_randbelow_with_getrandbits``,
    so the same draws, without the ABC check, the ``counts`` handling and one Python call per draw
    (about half the cost; char ops sample several times per text).
    ``tests/core/test_text_ops_fast_path.py`` checks it against ``random.Random.sample`` of the
    running Python. Anything else takes the stock path.
    """
    rng: random.Random = _local.rng
    if isinstance(x, list):
        n = len(x)
        if num.__class__ is not int or not 0 <= num <= n:
            return rng.sample(x, num)  # the stock errors for odd counts
        bits = rng.getrandbits
        if num == 1:
            k = n.bit_length()
            j = bits(k)
            while j >= n:
                j = bits(k)
            return [x[j]]
        result = []
        if n <= (21 + 4 ** _ceil(_log(num * 3, 4)) if num > 5 else 21):  # Random.sample's pool branch
            pool = list(x)
            for m in range(n, n - num, -1):
                k = m.bit_length()
                j = bits(k)
                while j >= m:
                    j = bits(k)
                result.append(pool[j])
                pool[j] = pool[m - 1]
        else:  # Random.sample's set branch: redraw an index already taken
            selected: set[int] = set()
            k = n.bit_length()
            for _ in range(num):
                j = bits(k)
                while j >= n or j in selected:
                    j = bits(k)
                selected.add(j)
                result.append(x[j])
        return result
    if isinstance(x, int):  # nlpaug: np.random.randint(1, x - 1), a split point inside a word
        m = x - 2
        if x.__class__ is not int or m <= 0:
            return rng.randrange(1, x - 1)  # the stock error for a word too short to split
        k = m.bit_length()
        j = rng.getrandbits(k)
        while j >= m:
            j = rng.getrandbits(k)
        return 1 + j  # rng.randrange(1, x - 1)
    return None


#: The generator every call re-seeds; only the thread holding ``_LOCK`` touches it.
_SPARE = random.Random()
#: ``_SPARE.seed`` without ``random.Random.seed``'s Python-level type dispatch (about 2 µs): an int
#: seeds it exactly as ``random.Random(seed)`` would, and re-seeding beats making a new generator.
_RESEED = super(random.Random, _SPARE).seed


def _draw_seed(rng: np.random.Generator) -> int:
    """A seed in [0, 2**31): the top bits of one raw draw (a quarter of the cost of ``rng.integers``)."""
    return int(rng.bit_generator.random_raw()) >> 33


# ---- availability ----------------------------------------------------------------------------------
def _nlpaug_dir() -> Path | None:
    spec = importlib.util.find_spec("nlpaug")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def nlpaug_status() -> tuple[bool, str | None]:
    if _nlpaug_dir() is None:
        return False, "needs nlpaug, which is not installed: `pip install nlpaug`"
    return True, None


def spelling_dictionary() -> Path | None:
    """nlpaug's bundled misspelling list (from Belinkov & Bisk's natural-noise data), if present."""
    root = _nlpaug_dir()
    path = root / "res" / "word" / "spelling" / "spelling_en.txt" if root else None
    return path if path is not None and path.is_file() else None


def _nltk_with_env_paths() -> Any:
    """Import nltk and make sure every NLTK_DATA entry is searched (nltk reads it only at import)."""
    import nltk

    for entry in reversed(_env_data_dirs()):
        if entry not in nltk.data.path:
            nltk.data.path.insert(0, entry)
    return nltk


def _env_data_dirs() -> list[str]:
    return [os.path.expanduser(d) for d in os.environ.get("NLTK_DATA", "").split(os.pathsep) if d]


def nltk_data_dirs() -> list[str]:
    """Where nltk looks for data, in its order, without importing nltk if it is not loaded yet.

    Importing nltk pulls in scikit-learn, scipy and pandas when they are installed (about a second),
    so listing the ops must not do it: before the import this repeats nltk.data's defaults.
    """
    data = getattr(sys.modules.get("nltk"), "data", None)
    if isinstance(getattr(data, "path", None), list):
        paths = [str(p) for p in data.path]  # type: ignore[union-attr]
    else:
        paths = []
        if "APPENGINE_RUNTIME" not in os.environ and os.path.expanduser("~/") != "~/":
            paths.append(os.path.expanduser("~/nltk_data"))
        paths += [os.path.join(sys.prefix, "nltk_data"), os.path.join(sys.prefix, "share", "nltk_data"),
                  os.path.join(sys.prefix, "lib", "nltk_data")]
        if os.name == "nt":
            paths += [os.path.join(os.environ.get("APPDATA", "C:\\"), "nltk_data"),
                      r"C:\nltk_data", r"D:\nltk_data", r"E:\nltk_data"]
        else:
            paths += ["/usr/share/nltk_data", "/usr/local/share/nltk_data", "/usr/lib/nltk_data",
                      "/usr/local/lib/nltk_data"]
    return [p for p in _env_data_dirs() if p not in paths] + paths


def wordnet_status() -> tuple[bool, str | None]:
    """Whether nltk and the English WordNet data are here: a few file checks, no import, no download."""
    ok, why = nlpaug_status()
    if not ok:
        return ok, why
    if importlib.util.find_spec("nltk") is None:
        return False, "needs nltk and the WordNet data; nltk is not installed. " + _ENABLE_WORDNET
    dirs = nltk_data_dirs()
    for d in dirs:  # like nltk.data.find: a folder anywhere wins over a zip
        root = os.path.join(d, "corpora", "wordnet")
        if not os.path.isdir(root):
            continue
        links = (["the folder"] if os.path.islink(root) else []) + [
            f for f in ("lexnames", *_WORDNET_FILES) if os.path.islink(os.path.join(root, f))
        ]
        if links:
            return False, (
                f"the WordNet data in {root} is symlinked ({', '.join(links)}); "
                "nltk refuses symlinks out of its data folder: copy the files instead. " + _ENABLE_WORDNET
            )
        missing = [f for f in ("lexnames", *_WORDNET_FILES) if not os.path.isfile(os.path.join(root, f))]
        if missing:
            return False, f"the WordNet data in {root} lacks {', '.join(missing)}. " + _ENABLE_WORDNET
        return True, None
    if any(os.path.isfile(os.path.join(d, "corpora", "wordnet.zip")) for d in dirs):
        return True, None
    searched = ", ".join(dirs) or "nowhere"
    return False, f"needs the WordNet data, which is not in any NLTK data folder (searched {searched}). " + (
        _ENABLE_WORDNET
    )


def install_wordnet_from_debian(target_dir: str | os.PathLike[str], source: str = DEBIAN_WORDNET_DIR) -> str:
    """Copy Debian's WordNet 3.0 (wordnet-base + wordnet-sense-index) into an NLTK data folder.

    Writes ``TARGET/corpora/wordnet/`` with copies (nltk refuses symlinks that leave its data
    folder) plus the ``lexnames`` file Debian lacks, and returns ``TARGET`` to use as NLTK_DATA.
    Raises FileNotFoundError, saying which package to install, when the Debian files are absent.
    """
    src = Path(source)
    missing = [f for f in _WORDNET_FILES if not (src / f).is_file()]
    if missing:
        packages = "wordnet-base wordnet-sense-index" if "index.sense" not in missing or len(missing) > 1 else (
            "wordnet-sense-index"
        )
        raise FileNotFoundError(
            f"WordNet files missing from {src}: {', '.join(missing)}; install them with "
            f"`apt-get install {packages}` (Debian/Ubuntu)"
        )
    target = Path(target_dir).expanduser().resolve()
    dest = target / "corpora" / "wordnet"
    dest.mkdir(parents=True, exist_ok=True)
    for entry in sorted(src.iterdir()):
        if entry.is_file():
            shutil.copyfile(entry, dest / entry.name)
    (dest / "lexnames").write_text(
        "".join(f"{i:02d}\t{name}\t{_LEX_CATEGORY[name.split('.')[0]]}\n" for i, name in enumerate(WORDNET_LEXNAMES)),
        encoding="ascii",
    )
    licence = Path("/usr/share/doc/wordnet-base/copyright")
    if licence.is_file():
        shutil.copyfile(licence, dest / "LICENSE")
    return str(target)


def _forbid_nltk_downloads(nltk: Any) -> None:
    """Replace nltk.download so that nothing nlpaug or nltk calls can reach the network."""
    if getattr(nltk.download, "_genaug_offline", False):
        return

    def download(info_or_id: Any = None, *args: Any, **kwargs: Any) -> bool:
        raise RuntimeError(
            f"genaug-desktop never downloads NLTK data (something asked for {info_or_id!r}); "
            f"install it offline instead, see {WORDNET_DOC}"
        )

    download._genaug_offline = True  # type: ignore[attr-defined]
    nltk.download = download
    if hasattr(nltk, "downloader"):
        nltk.downloader.download = download


# ---- WordNet part-of-speech tags ------------------------------------------------------------------
#: Closed-class words: never replaced by a synonym or antonym (nlpaug skips the tag "DT").
_FUNCTION_WORDS = frozenset(
    """
    a an the this that these those some any each every either neither no all both half such what which
    whose whatever whichever i me my mine myself you your yours yourself yourselves he him his himself she
    her hers herself it its itself we us our ours ourselves they them their theirs themselves one ones
    who whom whoever someone somebody something anyone anybody anything everyone everybody everything
    nobody nothing none other another
    about above across after against along amid among around as at before behind below beneath beside
    besides between beyond but by despite down during except for from in inside into like near of off on
    onto out outside over past per since than through throughout till to toward towards under underneath
    unlike until up upon via with within without
    and or nor so yet if unless because although though while whereas whether then also too not n't
    am is are was were be been being have has had having do does did done doing will would shall should
    can could may might must ought let lets
    there here where when why how very just only even
    's 're 've 'd 'll 'm
    """.split()
)
_PENN = {"n": "NN", "v": "VB", "a": "JJ", "r": "RB"}
_pos_cache: dict[str, str] = {}
_sense_counts: dict[str, int] = {}


def _load_sense_counts(wn: Any) -> None:
    if _sense_counts:
        return
    with wn.open("cntlist.rev") as fh:  # "sense_key sense_number tag_count", from the sense-tagged SemCor
        for line in fh:
            parts = line.split()
            if len(parts) == 3:
                _sense_counts[parts[0]] = int(parts[2])


def _word_pos(wn: Any, word: str) -> str:
    low = word.lower()
    if low in _FUNCTION_WORDS:
        return "DT"
    if not any(c.isalpha() for c in low):
        return "CD" if any(c.isdigit() for c in low) else word
    best: tuple[int, int, int] | None = None
    best_pos = ""
    for rank, pos in enumerate("nvar"):
        synsets = wn.synsets(low, pos=pos)
        if not synsets:
            continue
        base = wn.morphy(low, pos) or low
        tagged = sum(
            _sense_counts.get(lemma.key(), 0)
            for s in synsets for lemma in s.lemmas() if lemma.name().lower() in (low, base)
        )
        score = (tagged, len(synsets), -rank)  # tagged frequency, then number of senses, then n>v>a>r
        if best is None or score > best:
            best, best_pos = score, pos
    return _PENN.get(best_pos, "NN")


def wordnet_pos_tags(wn: Any, tokens: list[str]) -> list[tuple[str, str]]:
    """Part-of-speech tags from WordNet alone, for nlpaug's synonym/antonym augmenters.

    Each word gets the part of speech under which WordNet's sense-tagged corpus counts (cntlist.rev)
    see it most often, falling back to the number of senses; closed-class words are tagged "DT",
    which nlpaug never replaces. A unigram tagger, so context is ignored ("the run" is a verb), but it
    needs no data beyond WordNet and gives the same tags everywhere.
    """
    _load_sense_counts(wn)
    if len(_pos_cache) > 200_000:
        _pos_cache.clear()
    out = []
    for tok in tokens:
        tag = _pos_cache.get(tok)
        if tag is None:
            tag = _pos_cache[tok] = _word_pos(wn, tok)
        out.append((tok, tag))
    return out


# ---- the adapter ---------------------------------------------------------------------------------
_CACHE: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_CACHE_SIZE = 64


def _freeze(values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(values.items()))


#: nlpaug versions whose ``Augmenter.augment`` was read line by line for :func:`_action_of`.
_DIRECT_CALL_NLPAUG = frozenset({"1.1.11"})
_ACTIONS = frozenset({"insert", "substitute", "swap", "delete", "crop", "split"})
#: the augmenter bases whose ``clean`` is ``str.strip`` for a string
_STRIPPING_BASES = frozenset({
    ("nlpaug.augmenter.char.char_augmenter", "CharAugmenter"),
    ("nlpaug.augmenter.word.word_augmenter", "WordAugmenter"),
})


def _action_of(aug: Any) -> Callable[[str], Any]:
    """One call computing what ``aug.augment(text)`` gives for one stripped, non-empty text.

    For a string and ``n=1``, nlpaug 1.1.11's ``Augmenter.augment`` checks the length (never 0
    here), cleans the text with ``str.strip`` (a no-op: the adapter passes stripped text), picks the
    method named by ``aug.action`` (``delete``, ``substitute``...), calls it once and returns
    ``[result]``; its retry loop ends after that one call and no duplicate check runs. For the
    character and word augmenters of a verified nlpaug version the adapter therefore calls that
    method itself: the same result, without 1.5-2 µs of dispatch per text. Anything else (another
    nlpaug version, an overridden ``augment`` or ``clean``, detail output) goes through
    ``augment()``. ``tests/core/test_text_ops_fast_path.py`` compares both paths over every op.
    """
    import nlpaug
    from nlpaug.base_augmenter import Augmenter

    cls = type(aug)
    # The base is found by name: importing nlpaug.augmenter.word for a character op would load torch.
    base = next((c for c in cls.__mro__ if (c.__module__, c.__qualname__) in _STRIPPING_BASES), None)
    if (
        getattr(nlpaug, "__version__", None) in _DIRECT_CALL_NLPAUG
        and base is not None
        and cls.augment is Augmenter.augment and "augment" not in vars(aug)
        and getattr(cls.clean, "__func__", None) is vars(base)["clean"].__func__
        and aug.action in _ACTIONS and not aug.include_detail
    ):
        return getattr(aug, aug.action)  # type: ignore[no-any-return]

    def via_augment(text: str) -> Any:
        out = aug.augment(text)
        if out.__class__ is list:  # nlpaug >= 1.1.11 returns a list; older versions a str
            return out[0] if out else text
        return out

    return via_augment


class NlpaugOp(Op):
    """An op that runs one nlpaug augmenter, built once per parameter set and process."""

    modality = "text"
    #: the values that, at their upper end, allow no change at all (e.g. at most 0 words)
    _count_params: ClassVar[tuple[str, ...]] = ("aug_word_count",)
    #: the augmenter's action as one call, set on first use (see :func:`_action_of`)
    _act: Callable[[str], Any] | None = None

    @classmethod
    def availability(cls) -> tuple[bool, str | None]:
        return nlpaug_status()

    def check(self, path: str) -> None:
        # nlpaug reads a maximum of 0 as "no maximum"; here it means what it says: change nothing.
        self._changes_nothing = any(self.values[p][1] == 0 for p in self._count_params)

    def _build(self) -> Any:
        """A new nlpaug augmenter for ``self.values`` (the cache calls it under the module lock)."""
        raise NotImplementedError

    def _augmenter(self) -> Any:
        """This op's augmenter: memoised on the instance, shared through a small LRU by parameter set."""
        aug = self.__dict__.get("_aug")
        if aug is not None:
            return aug
        key = (self.name, _freeze(self.values))
        with _LOCK:
            aug = _CACHE.get(key)
            if aug is None:
                ok, why = self.availability()
                if not ok:
                    raise RuntimeError(f"{self.name} is unavailable: {why}")
                aug = self._build()
                aug.sample = _sample  # every draw goes through the per-call generator
                _CACHE[key] = aug
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.popitem(last=False)
            else:
                _CACHE.move_to_end(key)
        self._aug = aug
        return aug

    def _action(self) -> Callable[[str], Any]:
        """The augmenter's action as one call (see :func:`_action_of`), memoised on the instance."""
        act = self._act = _action_of(self._augmenter())
        return act

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_aug", None)  # rebuilt (or taken from the cache) in the receiving process
        state.pop("_act", None)
        return state

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        return {"seed": _draw_seed(rng)}

    def apply(self, x: str, seed: int = 0, **_: Any) -> str:
        if not isinstance(x, str):
            raise TypeError(f"{self.name} works on text, not {type(x).__name__}")
        core = x.strip()
        if not core or self._changes_nothing:
            return x
        act = self._act or self._action()
        with _LOCK:
            _RESEED(seed)
            _local.rng = _SPARE
            try:
                out = act(core)
            finally:
                _local.rng = None
        if not isinstance(out, str) or not out.strip():
            return x
        if len(core) != len(x):
            out = x[: len(x) - len(x.lstrip())] + out + x[len(x.rstrip()):]
        return out


def _stopwords(values: dict[str, Any]) -> list[str] | None:
    return list(values["stopwords"]) or None


_STOPWORDS = Param(
    "stopwords", "str_list", [], "Words never changed (exact, case-sensitive match)", max_len=10_000,
)
_MIN_CHAR_HELP = "Leave words shorter than this many characters alone"


def _word_p(what: str) -> Param:
    return Param("aug_word_p", "float", 0.3, f"Share of the words that get {what} (rounded up)",
                 low=0.0, high=1.0, step=0.01, label="Share of words")


def _word_count(what: str, default: tuple[int, int] = (1, 10)) -> Param:
    return Param("aug_word_count", "int_range", list(default),
                 f"Fewest and most words that get {what} per text (a minimum of 0 means none)",
                 low=0, high=1000, step=1, label="Words (min-max)")


def _char_p() -> Param:
    return Param("aug_char_p", "float", 0.3, "Share of the characters changed in each chosen word (rounded up)",
                 low=0.0, high=1.0, step=0.01, label="Share of characters")


def _char_count(default: tuple[int, int] = (1, 10)) -> Param:
    return Param("aug_char_count", "int_range", list(default),
                 "Fewest and most characters changed in each chosen word (a minimum of 0 means none)",
                 low=0, high=1000, step=1, label="Characters per word (min-max)")


# ---- typos: character level ----------------------------------------------------------------------
class _CharOp(NlpaugOp):
    category = "Typos"
    _count_params = ("aug_word_count", "aug_char_count")

    def _char_kwargs(self) -> dict[str, Any]:
        v = self.values
        return {
            "aug_char_p": v["aug_char_p"], "aug_char_min": v["aug_char_count"][0],
            "aug_char_max": v["aug_char_count"][1], "aug_word_p": v["aug_word_p"],
            "aug_word_min": v["aug_word_count"][0], "aug_word_max": v["aug_word_count"][1], "min_char": v["min_char"],
            "stopwords": _stopwords(v), "tokenizer": tokenize, "reverse_tokenizer": detokenize,
        }


_KEYBOARD_LANGS = ("en", "de", "es", "fr", "he", "it", "nl", "pl", "th", "tr", "uk")


class KeyboardTypo(_CharOp):
    name = "keyboard_typo"
    help = "Typing errors: characters replaced by a neighbouring key on the keyboard."
    params = params(
        _char_p(), _char_count(), _word_p("typos"), _word_count("typos"),
        Param("min_char", "int", 4, _MIN_CHAR_HELP, low=1, high=100),
        Param("include_special_char", "bool", True, "May type punctuation keys"),
        Param("include_numeric", "bool", True, "May type digit keys"),
        Param("include_upper_case", "bool", True, "May type upper-case letters"),
        Param("lang", "choice", "en", "Keyboard layout", choices=_KEYBOARD_LANGS),
        _STOPWORDS,
    )

    def _build(self) -> Any:
        import nlpaug.augmenter.char as nac

        v = self.values
        return nac.KeyboardAug(
            **self._char_kwargs(), include_special_char=v["include_special_char"],
            include_numeric=v["include_numeric"], include_upper_case=v["include_upper_case"], lang=v["lang"],
        )


class OcrError(_CharOp):
    name = "ocr_error"
    help = "OCR errors: characters replaced by look-alikes (0/O/D, 1/l/I, 2/Z, 8/B/S, o/u, r/k...)."
    params = params(
        _char_p(), _char_count((2, 10)), _word_p("OCR errors"), _word_count("OCR errors"),
        Param("min_char", "int", 1, _MIN_CHAR_HELP, low=1, high=100),
        _STOPWORDS,
    )

    def _build(self) -> Any:
        import nlpaug.augmenter.char as nac

        return nac.OcrAug(**self._char_kwargs())


_RANDOM_CHAR_CLASSES = (
    Param("include_upper_case", "bool", True, "May use upper-case letters"),
    Param("include_lower_case", "bool", True, "May use lower-case letters"),
    Param("include_numeric", "bool", True, "May use digits"),
    Param("spec_char", "str", "!@#$%^&*()_+", "Special characters that may be used", max_len=200),
    Param("candidates", "str_list", [], "If not empty, use exactly these strings instead of the classes above",
          max_len=10_000),
)


class _RandomCharOp(_CharOp):
    action: ClassVar[str] = ""

    def check(self, path: str) -> None:
        super().check(path)
        v = self.values
        if "candidates" in v and not (
            v["candidates"] or v["include_upper_case"] or v["include_lower_case"] or v["include_numeric"]
            or v["spec_char"]
        ):
            raise ParamError(f"{path}.candidates", "no characters to choose from: enable a class or list candidates")

    def _build(self) -> Any:
        import nlpaug.augmenter.char as nac

        v = self.values
        extra: dict[str, Any] = {}
        if "candidates" in v:
            extra = {
                "include_upper_case": v["include_upper_case"], "include_lower_case": v["include_lower_case"],
                "include_numeric": v["include_numeric"], "spec_char": v["spec_char"],
                "candidates": list(v["candidates"]) or None,
            }
        if "swap_mode" in v:
            extra["swap_mode"] = v["swap_mode"]
        return nac.RandomCharAug(action=self.action, **self._char_kwargs(), **extra)


def _random_char_params(what: str, *extra: Param) -> Any:
    return params(
        _char_p(), _char_count(), _word_p(what), _word_count(what),
        Param("min_char", "int", 4, _MIN_CHAR_HELP, low=2, high=100), *extra, _STOPWORDS,
    )


class RandomCharInsert(_RandomCharOp):
    name = "random_char_insert"
    action = "insert"
    help = "Insert random characters inside words."
    params = _random_char_params("inserted characters", *_RANDOM_CHAR_CLASSES)


class RandomCharSubstitute(_RandomCharOp):
    name = "random_char_substitute"
    action = "substitute"
    help = "Replace characters inside words by random characters."
    params = _random_char_params("replaced characters", *_RANDOM_CHAR_CLASSES)


class RandomCharSwap(_RandomCharOp):
    name = "random_char_swap"
    action = "swap"
    help = "Swap characters inside words (adjacent, inner, or anywhere in the word)."
    params = _random_char_params(
        "swapped characters",
        Param("swap_mode", "choice", "adjacent", "adjacent: a neighbour; middle: an inner character "
              "(first and last stay); random: any character of the word", choices=("adjacent", "middle", "random")),
    )


class RandomCharDelete(_RandomCharOp):
    name = "random_char_delete"
    action = "delete"
    help = "Delete characters inside words."
    params = _random_char_params("deleted characters")


# ---- words -------------------------------------------------------------------------------------------
class _WordOp(NlpaugOp):
    category = "Words"

    def _word_kwargs(self) -> dict[str, Any]:
        v = self.values
        out = {
            "aug_p": v["aug_word_p"], "aug_min": v["aug_word_count"][0], "aug_max": v["aug_word_count"][1],
            "tokenizer": tokenize, "reverse_tokenizer": detokenize,
        }
        if "stopwords" in v:
            out["stopwords"] = _stopwords(v)
        return out


class _RandomWordOp(_WordOp):
    action: ClassVar[str] = ""

    def _build(self) -> Any:
        import nlpaug.augmenter.word as naw

        extra = {"target_words": list(self.values["target_words"])} if "target_words" in self.values else {}
        return naw.RandomWordAug(action=self.action, **self._word_kwargs(), **extra)


class RandomWordSwap(_RandomWordOp):
    name = "random_word_swap"
    action = "swap"
    help = "Swap words with their neighbours."
    params = params(_word_p("swapped"), _word_count("swapped"), _STOPWORDS)


class RandomWordDelete(_RandomWordOp):
    name = "random_word_delete"
    action = "delete"
    help = "Delete random words (word dropout)."
    params = params(_word_p("deleted"), _word_count("deleted"), _STOPWORDS)


class RandomWordCrop(_RandomWordOp):
    name = "random_word_crop"
    action = "crop"
    help = "Delete one run of consecutive words."
    params = params(_word_p("cropped"), _word_count("cropped"))

    def _build(self) -> Any:
        aug = super()._build()
        aug.crop = lambda data: _crop(aug, data)
        return aug


def _crop(aug: Any, data: str) -> str:
    """nlpaug's count rule, then one contiguous run of words removed.

    Replaces nlpaug 1.1.11's ``RandomWordAug.crop``, which raises when the run is one word long and
    goes "right", removes words from both ends when it goes "left" (negative indices), and brings
    the second word back when the run starts at the first one (capitalisation fix-up).
    """
    tokens = aug.tokenizer(data)
    n = len(tokens)
    count = min(aug.generate_aug_cnt(n), n - 1)  # never remove everything
    if count <= 0:
        return data
    start = aug.sample(list(range(n - count + 1)), 1)[0]
    kept = tokens[:start] + tokens[start + count:]
    if start == 0:
        kept[0] = aug.align_capitalization(tokens[0], kept[0])
    return aug.reverse_tokenizer(kept)


class RandomWordSubstitute(_RandomWordOp):
    name = "random_word_substitute"
    action = "substitute"
    help = "Replace random words by one of the target words (e.g. a mask token)."
    params = params(
        _word_p("replaced"), _word_count("replaced"),
        Param("target_words", "str_list", ["_"], "Replacement words, one chosen at random each time", max_len=10_000),
        _STOPWORDS,
    )

    def check(self, path: str) -> None:
        super().check(path)
        if not self.values["target_words"]:
            raise ParamError(f"{path}.target_words", "needs at least one replacement word")


class SplitWord(_WordOp):
    name = "split_word"
    help = "Split words in two at a random inner position (\"weather\" -> \"wea ther\")."
    params = params(
        _word_p("split"), _word_count("split"),
        # nlpaug draws the split point in [1, len - 2], so a word needs at least 3 characters.
        Param("min_char", "int", 4, "Only split words with at least this many characters", low=3, high=100),
        _STOPWORDS,
    )

    def _build(self) -> Any:
        import nlpaug.augmenter.word as naw

        return naw.SplitAug(min_char=self.values["min_char"], **self._word_kwargs())


class SpellingMistake(_WordOp):
    name = "spelling_mistake"
    category = "Typos"
    help = "Real-world misspellings from nlpaug's English list (e.g. \"because\" -> \"becuase\")."
    params = params(_word_p("misspelt"), _word_count("misspelt"), _STOPWORDS)

    @classmethod
    def availability(cls) -> tuple[bool, str | None]:
        ok, why = nlpaug_status()
        if ok and spelling_dictionary() is None:
            return False, "nlpaug's misspelling list (res/word/spelling/spelling_en.txt) is missing; reinstall nlpaug"
        return ok, why

    def _build(self) -> Any:
        import nlpaug.augmenter.word as naw
        import nlpaug.model.word_dict as nmwd

        path = str(spelling_dictionary())
        aug = naw.SpellingAug(dict_path=path, **self._word_kwargs())
        model = aug.model  # nlpaug keeps one process-wide model, whatever dict_path a later caller passes
        if getattr(model, "dict_path", None) != path or not getattr(model, "include_reverse", False):
            model = aug.model = nmwd.Spelling(path, include_reverse=True)
        for key, words in model.dict.items():  # built with list(set(...)): order depends on the hash seed
            model.dict[key] = sorted(set(words))
        return aug


# ---- synonyms (WordNet) ------------------------------------------------------------------------------
class _WordNetOp(_WordOp):
    category = "Synonyms"

    @classmethod
    def availability(cls) -> tuple[bool, str | None]:
        return wordnet_status()

    def _wordnet_augmenter(self, factory: Callable[..., Any]) -> Any:
        nltk = _nltk_with_env_paths()
        _forbid_nltk_downloads(nltk)
        aug = factory(**self._word_kwargs())
        wn = aug.model.model
        wn.synsets("dog")  # resolve nltk's lazy loader now, under the lock
        aug.model.pos_tag = lambda tokens: wordnet_pos_tags(wn, tokens)
        return aug


class Synonym(_WordNetOp):
    name = "synonym"
    help = "Replace words by WordNet synonyms of the same part of speech."
    params = params(_word_p("a synonym"), _word_count("a synonym"), _STOPWORDS)

    def _build(self) -> Any:
        import nlpaug.augmenter.word as naw

        return self._wordnet_augmenter(lambda **kw: naw.SynonymAug(aug_src="wordnet", lang="eng", **kw))


class Antonym(_WordNetOp):
    name = "antonym"
    help = "Replace verbs, adjectives and adverbs by WordNet antonyms (this can flip the meaning and the label)."
    params = params(_word_p("an antonym"), _word_count("an antonym"), _STOPWORDS)

    def _build(self) -> Any:
        import nlpaug.augmenter.word as naw

        return self._wordnet_augmenter(lambda **kw: naw.AntonymAug(lang="eng", **kw))


# ---- sentences ---------------------------------------------------------------------------------------
# A sentence ends with . ! ? or … (optionally followed by a closing quote or bracket) and whitespace.
_SENTENCE_BREAK = re.compile(r"((?<=[.!?…])\s+|(?<=[.!?…][\"'”’)\]])\s+)")


def split_sentences(text: str) -> tuple[list[str], list[str]]:
    """Sentences and the whitespace between them (``len(gaps) == len(sentences) - 1``)."""
    parts = _SENTENCE_BREAK.split(text)
    return parts[0::2], parts[1::2]


class SentenceShuffle(Op):
    name = "sentence_shuffle"
    modality = "text"
    category = "Sentences"
    help = (
        "Shuffle the order of the sentences (split after . ! ? or … followed by a space; abbreviations "
        "such as \"Dr.\" also end a sentence). The whitespace between sentences stays in place."
    )

    def sample_params(self, rng: np.random.Generator, x: Any) -> dict[str, Any]:
        core = x.strip() if isinstance(x, str) else ""
        n = len(split_sentences(core)[0]) if core else 0
        return {"order": [int(i) for i in rng.permutation(n)] if n > 1 else list(range(n))}

    def apply(self, x: str, order: list[int] | None = None, **_: Any) -> str:
        if not isinstance(x, str):
            raise TypeError(f"{self.name} works on text, not {type(x).__name__}")
        core = x.strip()
        if not core or not order:
            return x
        sentences, gaps = split_sentences(core)
        if sorted(order) != list(range(len(sentences))):  # drawn for another text: leave this one alone
            return x
        out = [sentences[order[0]]]
        for gap, i in zip(gaps, order[1:]):
            out.append(gap)
            out.append(sentences[i])
        lead = x[: len(x) - len(x.lstrip())]
        return lead + "".join(out) + x[len(x.rstrip()):]
