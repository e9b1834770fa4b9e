"""Safe file and folder names from labels and source names.

Labels and source file names are user data: ``../../etc/passwd``, ``/abs/path``, ``CON``, ``-rf``
or a name in decomposed Unicode must never produce a path outside the export, a hidden file,
an option-looking name, or a name Windows cannot open. :func:`sanitize_name` turns any string
into one safe path component; :class:`NameAllocator` resolves collisions (ignoring case and
Unicode form, since macOS and Windows do) deterministically, in the order names are asked for.
"""

from __future__ import annotations

import re
import unicodedata

#: Windows device names, reserved with any extension and in any case
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"0123456789", "\u00b9", "\u00b2", "\u00b3")}
)
#: forbidden on Windows (and '/' everywhere)
_FORBIDDEN = frozenset('<>:"/\\|?*')
#: control, format (e.g. right-to-left override), surrogate, private-use, unassigned, line/paragraph separators
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: bytes (UTF-8) a name may take; file systems allow 255, this leaves room for suffixes
MAX_NAME_BYTES = 120
_MIN_NAME_BYTES = 16
FALLBACK_NAME = "unnamed"


def _clean_chars(name: str) -> str:
    out = []
    for ch in name:
        if ch in _FORBIDDEN:
            out.append("_")
            continue
        cat = unicodedata.category(ch)
        if cat in _BAD_CATEGORIES:
            out.append("_")
        elif cat == "Zs":
            out.append(" ")  # no-break and ideographic spaces look like spaces but are not
        else:
            out.append(ch)
    return "".join(out)


def _truncate(name: str, max_bytes: int) -> str:
    encoded = name.encode("utf-8")
    if len(encoded) <= max_bytes:
        return name
    return encoded[:max_bytes].decode("utf-8", "ignore")


def _unreserve(name: str) -> str:
    stem, dot, rest = name.partition(".")
    if stem.rstrip(" ").upper() in _RESERVED:
        return f"{stem}_{dot}{rest}"
    return name


def _once(name: str, max_bytes: int) -> str:
    # Lone surrogates cannot be stored in a UTF-8 file name: mark them before normalising.
    name = "".join("_" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in name)
    name = unicodedata.normalize("NFC", name)
    name = _clean_chars(name)
    name = name.lstrip(" .-").rstrip(" .")  # no hidden files, no options, no Windows-trimmed ends
    name = _unreserve(name)
    name = _truncate(name, max_bytes).rstrip(" .")
    name = unicodedata.normalize("NFC", name)
    return name


def sanitize_name(name: str, max_bytes: int = MAX_NAME_BYTES, fallback: str = FALLBACK_NAME) -> str:
    """One safe path component for *name*; never empty, idempotent.

    Path separators and characters Windows forbids become ``_``; control and invisible format
    characters become ``_``; leading dots, dashes and spaces and trailing dots and spaces are
    dropped; Windows device names (``CON``, ``nul.txt``, ``COM1``) get a ``_`` after the stem;
    the result is NFC and at most *max_bytes* bytes of UTF-8.
    """
    max_bytes = max(int(max_bytes), _MIN_NAME_BYTES)
    current = str(name)
    for _ in range(8):
        cleaned = _once(current, max_bytes)
        if cleaned == current:
            break
        current = cleaned
    if not current:
        current = _once(fallback, max_bytes) or FALLBACK_NAME
    return current


def collision_key(name: str) -> str:
    """Two names clash on some file system when their keys are equal (case and Unicode form ignored)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+=@,~-]*\Z")


def is_safe_component(name: str) -> bool:
    """True for a name :func:`sanitize_name` leaves unchanged (the last check before writing)."""
    if not name or name in (".", ".."):
        return False
    if _PLAIN.match(name) and not name.endswith(".") and len(name) <= 255:  # the common case, fast
        return name.partition(".")[0].upper() not in _RESERVED
    return sanitize_name(name, max(len(name.encode("utf-8", "surrogatepass")), _MIN_NAME_BYTES)) == name


class NameAllocator:
    """Unique, safe names within one folder, handed out deterministically in request order.

    The first request for a name gets it; later clashes (ignoring case and Unicode form) get
    ``name_2``, ``name_3``, ... before the extension.
    """

    def __init__(self, reserved: tuple[str, ...] | list[str] = (), max_bytes: int = MAX_NAME_BYTES) -> None:
        self._used = {collision_key(r) for r in reserved}
        self._max_bytes = max_bytes

    def allocate(self, wanted: str, ext: str = "", fallback: str = FALLBACK_NAME) -> str:
        """A free name for *wanted* (sanitised) followed by *ext* (e.g. ``.png``, trusted)."""
        room = max(self._max_bytes - len(ext.encode("utf-8")) - 8, _MIN_NAME_BYTES)
        base = sanitize_name(wanted, room, fallback)
        candidate = base + ext
        n = 1
        while collision_key(candidate) in self._used:
            n += 1
            candidate = f"{base}_{n}{ext}"
        self._used.add(collision_key(candidate))
        return candidate

    def __contains__(self, name: str) -> bool:
        return collision_key(name) in self._used
