"""Text files: ``.txt`` (a sample per line), ``.csv``/``.tsv`` and ``.jsonl``.

Readers stream: they never hold a whole file, and a line longer than the limit is skipped
in chunks, so a 10 MB single-line file costs a bounded amount of memory. Every bad line is a
:class:`Problem` with its line number and the rest of the file still loads. Encodings: UTF-8,
UTF-8/16/32 with a BOM; anything else is a clear problem unless the user names the encoding.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
from collections import deque
from collections.abc import Iterator
from typing import BinaryIO

from genaug_desktop.core.datasets.model import Item, Problem, ScanOptions

TEXT_COLUMN_NAMES = (
    "text", "sentence", "content", "review", "body", "document", "comment", "message",
    "utterance", "question", "prompt", "tweet", "title",
)
LABEL_COLUMN_NAMES = ("label", "labels", "class", "category", "target", "sentiment", "intent", "y")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"%PDF", "a PDF document"),
)
_CHUNK = 1 << 16


class _FileProblem(Exception):
    pass


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _sniff_encoding(head: bytes, user_encoding: str | None) -> str:
    if user_encoding:
        try:
            codecs.lookup(user_encoding)
        except LookupError:
            raise _FileProblem(f"unknown encoding '{user_encoding}'") from None
        return user_encoding
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise _FileProblem(f"this is {what}, not a text file")
    if b"\x00" in head:
        raise _FileProblem(
            "binary content (NUL bytes) and no byte-order mark: not UTF-8 text; "
            "if it is UTF-16 without a BOM, name the encoding (--encoding utf-16-le)"
        )
    return "utf-8"


def _skip_rest_of_line(fh: BinaryIO) -> None:
    while True:
        chunk = fh.readline(_CHUNK)
        if not chunk or chunk.endswith(b"\n"):
            return


def _utf8_lines(fh: BinaryIO, max_chars: int, keep_ends: bool) -> Iterator[tuple[int, str | Problem]]:
    """Decode line by line so one bad byte costs one line, not the file."""
    max_bytes = max_chars * 4 + 2
    number = 0
    first = True
    while True:
        raw = fh.readline(max_bytes)
        if not raw:
            return
        number += 1
        if len(raw) >= max_bytes and not raw.endswith(b"\n"):
            _skip_rest_of_line(fh)
            yield number, Problem("", f"line is longer than the limit of {max_chars:,} characters", number)
            continue
        if first and raw.startswith(codecs.BOM_UTF8):
            raw = raw[3:]
        first = False
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, Problem(
                "",
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02X} at column {exc.start + 1}); "
                "if the file uses another encoding, name it (--encoding cp1252)",
                number,
            )
            continue
        text = line.rstrip("\r\n")
        if len(text) > max_chars:  # the line ending does not count against the limit
            yield number, Problem("", f"line is longer than the limit of {max_chars:,} characters", number)
            continue
        yield number, (line if keep_ends else text)


def _codec_lines(fh: BinaryIO, encoding: str, max_chars: int, keep_ends: bool) -> Iterator[tuple[int, str | Problem]]:
    stream = io.TextIOWrapper(fh, encoding=encoding, errors="strict", newline="")
    number = 0
    try:
        while True:
            line = stream.readline(max_chars + 2)
            if not line:
                return
            number += 1
            if len(line) > max_chars and not line.endswith("\n"):
                while True:
                    rest = stream.readline(_CHUNK)
                    if not rest or rest.endswith("\n"):
                        break
                yield number, Problem("", f"line is longer than the limit of {max_chars:,} characters", number)
                continue
            text = line.rstrip("\r\n")
            if len(text) > max_chars:  # a whole line of max_chars + 1 fits in the read above
                yield number, Problem("", f"line is longer than the limit of {max_chars:,} characters", number)
                continue
            yield number, (line if keep_ends else text)
    except UnicodeError as exc:  # UnicodeDecodeError, or e.g. "UTF-16 stream does not start with BOM"
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        yield number + 1, Problem("", f"not valid {encoding} text ({reason}); the rest of the file was skipped", number + 1)
    finally:
        # Hand the binary file back unclosed. When a reader stops early (e.g. no text column)
        # the file may be closed before this generator is collected: nothing to hand back then.
        if not fh.closed:
            stream.detach()


def _lines(fh: BinaryIO, options: ScanOptions, keep_ends: bool = False) -> Iterator[tuple[int, str | Problem]]:
    head = fh.read(8192)
    fh.seek(0)
    encoding = _sniff_encoding(head, options.encoding)
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") :
        return _utf8_lines(fh, options.max_text_chars, keep_ends)
    return _codec_lines(fh, encoding, options.max_text_chars, keep_ends)


def _item(rel: str, line: int, text: str, label: str | None) -> Item:
    return Item(
        key=f"{rel}:{line}", path=rel, modality="text", label=label, sha256=text_hash(text),
        size=len(text), line=line, text=text,
    )


def _with_path(problem: Problem, rel: str) -> Problem:
    return Problem(rel, problem.reason, problem.line)


def read_txt(fh: BinaryIO, rel: str, label: str | None, options: ScanOptions) -> Iterator[Item | Problem]:
    for number, line in _lines(fh, options):
        if isinstance(line, Problem):
            yield _with_path(line, rel)
        elif line.strip():
            yield _item(rel, number, line, label)


def _pick(columns: list[str], wanted: str | None, names: tuple[str, ...], what: str, flag: str) -> str | None:
    if wanted is not None:
        if wanted in columns:
            return wanted
        raise _FileProblem(f"no {what} column '{wanted}'; columns are: {', '.join(columns) or '(none)'}")
    lowered = {c.strip().lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _label_value(value: object) -> tuple[str | None, str | None]:
    """(label, error) from a JSON value."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return str(value).lower(), None
    if isinstance(value, (str, int, float)):
        text = str(value).strip()
        return (text or None), None
    return None, f"is not a string or number (found {type(value).__name__})"


def read_csv(fh: BinaryIO, rel: str, folder_label: str | None, options: ScanOptions, tsv: bool) -> Iterator[Item | Problem]:
    # A deque: a file of many undecodable lines queues them all before the next good row, and
    # popping a list from the front made that quadratic (80k bad lines took 20x 20k's time).
    problems: deque[Problem] = deque()
    number_of: dict[int, int] = {}

    def decoded() -> Iterator[str]:
        for number, line in _lines(fh, options, keep_ends=True):
            if isinstance(line, Problem):
                problems.append(_with_path(line, rel))
                continue
            number_of[len(number_of) + 1] = number
            yield line

    csv.field_size_limit(max(options.max_text_chars, 131072))
    lines = decoded()
    delimiter = "\t" if tsv else ","
    if not tsv:
        # Peek at the header line to tell ',' from ';' (common in European exports).
        head: list[str] = []
        for line in lines:
            head.append(line)
            if line.strip():
                break
        if not head or not head[-1].strip():
            yield from problems
            yield Problem(rel, "empty file")
            return
        first = head[-1]
        if first.count(";") > first.count(",") and first.count(";") > 0:
            delimiter = ";"
        lines = _chain_head(head, lines)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        while len(header) <= 1 and not "".join(header).strip():  # blank lines before the header
            header = next(reader)
    except StopIteration:
        yield from problems
        yield Problem(rel, "empty file")
        return
    except csv.Error as exc:
        yield Problem(rel, f"cannot read the CSV header: {exc}", 1)
        return
    header = [h.strip() for h in header]
    text_col = _pick(header, options.text_column, TEXT_COLUMN_NAMES, "text", "--text-column")
    if text_col is None:
        if len(header) == 1:
            text_col = header[0]
        else:
            raise _FileProblem(
                f"no text column found; columns are: {', '.join(header)}; choose one (--text-column NAME)"
            )
    label_col = _pick(header, options.label_column, LABEL_COLUMN_NAMES, "label", "--label-column")
    text_idx = header.index(text_col)
    label_idx = header.index(label_col) if label_col is not None else None
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield from _drain(problems)
            if "unexpected end of data" in str(exc):
                # The quote opened on the record's first line; the error surfaced at the end of
                # the file, which would point the user at the wrong place.
                start = number_of.get(previous_end + 1, previous_end + 1)
                yield Problem(rel, "malformed CSV: unterminated quoted field (a '\"' is never closed); "
                              "the rest of the file was read into this field", start)
            else:
                line = number_of.get(reader.line_num, reader.line_num)
                yield Problem(rel, f"malformed CSV: {exc}", line)
            previous_end = reader.line_num
            continue
        yield from _drain(problems)
        start = number_of.get(previous_end + 1, previous_end + 1)
        previous_end = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            yield Problem(rel, f"expected {len(header)} fields, found {len(row)}", start)
            continue
        text = row[text_idx]
        label = folder_label
        if label_idx is not None:
            label = row[label_idx].strip() or None
        yield _item(rel, start, text, label)
    yield from _drain(problems)


def _chain_head(head: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from head
    yield from rest


def _drain(problems: deque[Problem]) -> Iterator[Problem]:
    while problems:
        yield problems.popleft()


_MAX_FIELDS_NAMED = 30


def _names(fields: dict[str, None]) -> str:
    if not fields:
        return "(none)"
    shown = list(fields)[:_MAX_FIELDS_NAMED]
    more = len(fields) - len(shown)
    return ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")


def read_jsonl(fh: BinaryIO, rel: str, folder_label: str | None, options: ScanOptions) -> Iterator[Item | Problem]:
    text_field = options.text_column
    label_field = options.label_column
    resolved = text_field is not None
    # A field the user named (--text-column) that no line has is one problem for the file, naming
    # the fields there are, as for a CSV column; not one "no field" per line. Lines without it are
    # kept as runs [first, last] until a line has it (then each is a problem of its own).
    named_text = options.text_column is not None
    text_seen = False
    missing_runs: list[list[int]] = []
    label_seen = options.label_column is None
    fields: dict[str, None] = {}  # every field name met, in order (capped), for the messages
    made = 0
    for number, line in _lines(fh, options):
        if isinstance(line, Problem):
            yield _with_path(line, rel)
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Problem(rel, f"not valid JSON ({exc.msg} at column {exc.colno})", number)
            continue
        except RecursionError:
            yield Problem(rel, "not valid JSON (nested too deeply)", number)
            continue
        except ValueError as exc:  # e.g. an integer of more digits than Python converts
            yield Problem(rel, f"not valid JSON ({exc})", number)
            continue
        if not isinstance(obj, dict):
            yield Problem(rel, f"not a JSON object (found {type(obj).__name__})", number)
            continue
        if len(fields) <= _MAX_FIELDS_NAMED:
            for key in obj:
                fields.setdefault(key)
        if not resolved:
            keys = list(obj.keys())
            text_field = _pick(keys, None, TEXT_COLUMN_NAMES, "text", "--text-column")
            if text_field is None:
                raise _FileProblem(
                    f"line {number}: no text field found; fields are: {', '.join(keys) or '(none)'}; "
                    "choose one (--text-column NAME)"
                )
            resolved = True
        if label_field is None:
            # Looked for on every row until found: a first row without a label must not make
            # the labels of all the other rows disappear.
            label_field = _pick(list(obj.keys()), None, LABEL_COLUMN_NAMES, "label", "--label-column")
        assert text_field is not None
        if text_field not in obj:
            if named_text and not text_seen:
                if missing_runs and missing_runs[-1][1] == number - 1:
                    missing_runs[-1][1] = number
                else:
                    missing_runs.append([number, number])
                continue
            yield Problem(rel, f"no field '{text_field}'", number)
            continue
        if not text_seen:
            text_seen = True
            for first, last in missing_runs:
                for missing in range(first, last + 1):
                    yield Problem(rel, f"no field '{text_field}'", missing)
            missing_runs = []
        if not label_seen and label_field in obj:
            label_seen = True
        text = obj[text_field]
        if text is None:
            text = ""
        if not isinstance(text, str):
            yield Problem(rel, f"field '{text_field}' is not a string (found {_json_type(text)})", number)
            continue
        label = folder_label
        if label_field is not None and label_field in obj:
            label, error = _label_value(obj[label_field])
            if error:
                yield Problem(rel, f"field '{label_field}' {error}", number)
                continue
        made += 1
        yield _item(rel, number, text, label)
    if missing_runs:
        lacking = sum(last - first + 1 for first, last in missing_runs)
        yield Problem(
            rel,
            f"no text field '{text_field}' in any of its {lacking:,} JSON lines; fields are: {_names(fields)}; "
            "choose one (--text-column NAME)",
        )
    elif made and not label_seen:
        yield Problem(
            rel,
            f"no label field '{label_field}' in any line, so its texts have no label; "
            f"fields are: {_names(fields)} (--label-column NAME)",
        )


def _json_type(value: object) -> str:
    return {bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def read_text_file(path: str, rel: str, folder_label: str | None, options: ScanOptions) -> Iterator[Item | Problem]:
    """Yield every item and problem of one text file, in file order."""
    ext = os.path.splitext(path)[1].lower()
    try:
        size = os.path.getsize(path)
        if size == 0:
            yield Problem(rel, "empty file")
            return
        if size > options.max_file_bytes:
            yield Problem(rel, f"file of {size:,} bytes is over the limit of {options.max_file_bytes:,}")
            return
        with open(path, "rb") as fh:
            if ext in (".csv", ".tsv"):
                yield from read_csv(fh, rel, folder_label, options, tsv=ext == ".tsv")
            elif ext in (".jsonl", ".ndjson"):
                yield from read_jsonl(fh, rel, folder_label, options)
            else:
                yield from read_txt(fh, rel, folder_label, options)
    except _FileProblem as exc:
        yield Problem(rel, str(exc))
    except PermissionError:
        yield Problem(rel, "permission denied")
    except OSError as exc:
        yield Problem(rel, f"cannot read file: {exc.strerror or exc}")
