"""Text readers: .txt, .csv/.tsv, .jsonl; encodings; limits. Files are written in ``tmp_path``."""

from __future__ import annotations

import codecs
import hashlib
import tracemalloc
from pathlib import Path

import pytest

from genaug_desktop.core.datasets import scan
from genaug_desktop.core.datasets.model import Item, Problem, ScanOptions
from genaug_desktop.core.datasets.text import read_text_file


def read(path: Path, **options: object) -> tuple[list[Item], list[Problem]]:
    """Items and problems of one file, each in file order."""
    items: list[Item] = []
    problems: list[Problem] = []
    for entry in read_text_file(str(path), path.name, None, ScanOptions(**options)):  # type: ignore[arg-type]
        (items if isinstance(entry, Item) else problems).append(entry)
    return items, problems


def texts(items: list[Item]) -> list[str | None]:
    return [i.text for i in items]


def lines(items: list[Item]) -> list[int | None]:
    return [i.line for i in items]


def labels(items: list[Item]) -> list[str | None]:
    return [i.label for i in items]


# ---------------------------------------------------------------------------------------------
# .txt
# ---------------------------------------------------------------------------------------------


def test_txt_one_item_per_non_blank_line(write_file) -> None:
    path = write_file("s.txt", b"first line\n\n   \nsecond, with comma\r\n\t\n  indented  \nlast without newline")
    items, problems = read(path)
    assert problems == []
    assert texts(items) == ["first line", "second, with comma", "  indented  ", "last without newline"]
    assert lines(items) == [1, 4, 6, 7]


def test_txt_item_fields(write_file) -> None:
    path = write_file("s.txt", "héllo wörld\n")
    (item,) = read(path)[0]
    assert item == Item(
        key="s.txt:1", path="s.txt", modality="text", label=None,
        sha256=hashlib.sha256("héllo wörld".encode()).hexdigest(), size=len("héllo wörld"),
        line=1, text="héllo wörld",
    )


def test_txt_keys_are_unique_and_stable(write_file) -> None:
    path = write_file("s.txt", "same\nsame\n\nsame\n")
    first = read(path)[0]
    assert [i.key for i in first] == ["s.txt:1", "s.txt:2", "s.txt:4"]
    assert len({i.sha256 for i in first}) == 1  # same text, same hash
    assert read(path)[0] == first


def test_txt_folder_label_is_passed_through(write_file) -> None:
    path = write_file("pos/s.txt", "good\n")
    (item,) = list(read_text_file(str(path), "pos/s.txt", "pos", ScanOptions()))
    assert isinstance(item, Item)
    assert (item.label, item.key) == ("pos", "pos/s.txt:1")


# ---------------------------------------------------------------------------------------------
# .csv / .tsv
# ---------------------------------------------------------------------------------------------


def test_csv_finds_text_and_label_columns_by_name(write_file) -> None:
    path = write_file("d.csv", "id,Review,extra,Sentiment\n1,great film,x,pos\n2,dull,y,neg\n")
    items, problems = read(path)
    assert problems == []
    assert texts(items) == ["great film", "dull"]
    assert labels(items) == ["pos", "neg"]
    assert lines(items) == [2, 3]
    assert [i.key for i in items] == ["d.csv:2", "d.csv:3"]


def test_csv_without_label_column_has_no_labels(write_file) -> None:
    items, problems = read(write_file("d.csv", "text,source\nhello,web\n"))
    assert problems == []
    assert labels(items) == [None]


def test_csv_empty_label_cell_is_no_label(write_file) -> None:
    items, _ = read(write_file("d.csv", "text,label\na,  \nb,x\n"))
    assert labels(items) == [None, "x"]


def test_csv_semicolon_delimiter(write_file) -> None:
    path = write_file("eu.csv", "text;label\nhallo, welt;de\nbonjour;fr\n")
    items, problems = read(path)
    assert problems == []
    assert texts(items) == ["hallo, welt", "bonjour"]
    assert labels(items) == ["de", "fr"]


def test_csv_quoted_fields_with_newlines_and_commas(write_file) -> None:
    path = write_file(
        "q.csv",
        'text,label\n'
        '"one, two, three",a\n'
        '"first line\nsecond line\nthird line",b\n'
        '"she said ""hi""",c\n'
        'plain,d\n',
    )
    items, problems = read(path)
    assert problems == []
    assert texts(items) == ["one, two, three", "first line\nsecond line\nthird line", 'she said "hi"', "plain"]
    # A row's line is where it starts; the multi-line field moves the later rows down.
    assert lines(items) == [2, 3, 6, 7]
    assert labels(items) == ["a", "b", "c", "d"]


def test_csv_crlf_line_endings(write_file) -> None:
    items, problems = read(write_file("w.csv", b'text,label\r\na,x\r\n"b\r\nc",y\r\nd,z\r\n'))
    assert problems == []
    assert texts(items) == ["a", "b\r\nc", "d"]
    assert lines(items) == [2, 3, 5]


def test_csv_wrong_field_count_is_a_problem_with_its_line(write_file) -> None:
    path = write_file("bad.csv", 'text,label\nok,a\n"multi\nline",b\ntoo,many,fields\nfew\nfine,c\n')
    items, problems = read(path)
    assert texts(items) == ["ok", "multi\nline", "fine"]
    assert lines(items) == [2, 3, 7]
    assert [(p.line, p.reason) for p in problems] == [
        (5, "expected 2 fields, found 3"),
        (6, "expected 2 fields, found 1"),
    ]
    assert all(p.path == "bad.csv" for p in problems)


def test_csv_unterminated_quote_points_at_the_opening_line(write_file) -> None:
    path = write_file("open.csv", 'text,label\nok,a\n"never closed,b\nmore,c\nlast,d\n')
    items, problems = read(path)
    assert texts(items) == ["ok"]
    (problem,) = problems
    assert problem.path == "open.csv"
    assert problem.line == 3
    assert "unterminated" in problem.reason


def test_csv_stray_quote_is_a_problem_and_the_rest_loads(write_file) -> None:
    items, problems = read(write_file("q.csv", 'text,label\n"a"x,1\nb,2\n'))
    assert texts(items) == ["b"]
    (problem,) = problems
    assert problem.line == 2
    assert "malformed CSV" in problem.reason


def test_csv_known_text_names_are_tried_in_order(write_file) -> None:
    # "text" comes before "title" in the list of known names, whatever the column order.
    items, _ = read(write_file("d.csv", "title,TEXT\nheadline,the body\n"))
    assert texts(items) == ["the body"]


def test_csv_text_column_chosen_explicitly(write_file) -> None:
    path = write_file("d.csv", "id,title,passage,grade,label\n1,short,the long passage,5,x\n")
    items, _ = read(path)
    assert (texts(items), labels(items)) == (["short"], ["x"])  # "title", "label": known names
    items, problems = read(path, text_column="passage", label_column="grade")
    assert problems == []
    assert texts(items) == ["the long passage"]
    assert labels(items) == ["5"]
    items, _ = read(path, text_column="passage")
    assert labels(items) == ["x"]  # the label column is still found by name


def test_csv_missing_chosen_column_lists_the_columns(write_file) -> None:
    path = write_file("d.csv", "id,passage,grade\n1,x,5\n")
    items, problems = read(path, text_column="text")
    assert items == []
    (problem,) = problems
    assert problem.reason == "no text column 'text'; columns are: id, passage, grade"

    items, problems = read(path, text_column="passage", label_column="class")
    assert items == []
    assert problems[0].reason == "no label column 'class'; columns are: id, passage, grade"


def test_csv_without_a_known_text_column_asks_for_one(write_file) -> None:
    items, problems = read(write_file("d.csv", "id,passage,grade\n1,x,5\n"))
    assert items == []
    (problem,) = problems
    assert "no text column found" in problem.reason
    assert "id, passage, grade" in problem.reason
    assert "--text-column" in problem.reason


def test_csv_single_unnamed_column_is_the_text(write_file) -> None:
    items, problems = read(write_file("one.csv", "phrase\nhello\nworld\n"))
    assert problems == []
    assert texts(items) == ["hello", "world"]


def test_csv_blank_rows_are_skipped(write_file) -> None:
    items, problems = read(write_file("b.csv", "text,label\na,1\n\n\nb,2\n"))
    assert problems == []
    assert texts(items) == ["a", "b"]
    assert lines(items) == [2, 5]


def test_csv_blank_lines_before_the_header(write_file) -> None:
    items, problems = read(write_file("b.csv", "\n\ntext;label\na;1\nb;2\n"))
    assert problems == []
    assert texts(items) == ["a", "b"]
    assert labels(items) == ["1", "2"]
    assert lines(items) == [4, 5]


def test_csv_of_only_blank_lines_is_empty(write_file) -> None:
    items, problems = read(write_file("b.csv", "\n  \n\n"))
    assert items == []
    assert [p.reason for p in problems] == ["empty file"]


def test_csv_header_only_has_no_items_and_no_problems(write_file) -> None:
    assert read(write_file("h.csv", "text,label\n")) == ([], [])


def test_tsv(write_file) -> None:
    path = write_file("d.tsv", 'text\tlabel\ncommas, stay, together\tpos\n"quoted\ttab"\tneg\n')
    items, problems = read(path)
    assert problems == []
    assert texts(items) == ["commas, stay, together", "quoted\ttab"]
    assert labels(items) == ["pos", "neg"]
    assert lines(items) == [2, 3]


def test_tsv_never_guesses_semicolons(write_file) -> None:
    items, _ = read(write_file("d.tsv", "text\tlabel\na;b;c\tx\n"))
    assert texts(items) == ["a;b;c"]


# ---------------------------------------------------------------------------------------------
# .jsonl
# ---------------------------------------------------------------------------------------------


def test_jsonl_valid_rows(write_file) -> None:
    path = write_file(
        "d.jsonl",
        '{"text": "first", "label": "a"}\n'
        '\n'
        '{"text": "second \\u00e9", "label": "b", "extra": [1, 2]}\n'
        '{"text": "no label"}\n',
    )
    items, problems = read(path)
    assert problems == []
    assert texts(items) == ["first", "second é", "no label"]
    assert labels(items) == ["a", "b", None]
    assert lines(items) == [1, 3, 4]
    assert [i.key for i in items] == ["d.jsonl:1", "d.jsonl:3", "d.jsonl:4"]


def test_jsonl_bad_lines_are_problems_with_line_numbers(write_file) -> None:
    path = write_file(
        "d.jsonl",
        '{"text": "ok", "label": "a"}\n'       # 1
        '{"text": "also ok"}\n'                # 2
        '{"text": "broken",\n'                 # 3: not valid JSON
        '["text", "a list"]\n'                 # 4: not an object
        '"just a string"\n'                    # 5: not an object
        '{"text": 42}\n'                       # 6: text not a string
        '{"label": "a"}\n'                     # 7: no text field
        '{"text": "x", "label": [1]}\n'        # 8: label not a string or number
        '{"text": "last", "label": "z"}\n',    # 9
    )
    items, problems = read(path)
    assert texts(items) == ["ok", "also ok", "last"]
    assert lines(items) == [1, 2, 9]
    by_line = {p.line: p.reason for p in problems}
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8]
    assert by_line[3].startswith("not valid JSON")
    assert Problem("d.jsonl", by_line[3], 3).describe().startswith("d.jsonl:3: not valid JSON")
    assert by_line[4] == "not a JSON object (found list)"
    assert by_line[5] == "not a JSON object (found str)"
    assert by_line[6] == "field 'text' is not a string (found number)"
    assert by_line[7] == "no field 'text'"
    assert by_line[8] == "field 'label' is not a string or number (found list)"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", "1"), ("0", "0"), ("-3", "-3"), ("2.5", "2.5"), ("true", "true"), ("null", None), ('"  pos "', "pos"), ('""', None)],
)
def test_jsonl_label_values(write_file, raw, expected) -> None:
    items, problems = read(write_file("d.jsonl", f'{{"text": "t", "label": {raw}}}\n'))
    assert problems == []
    assert labels(items) == [expected]


def test_jsonl_fields_chosen_explicitly(write_file) -> None:
    path = write_file("d.jsonl", '{"q": "what?", "a": "that", "topic": "x"}\n{"q": "why?", "topic": 7}\n')
    items, problems = read(path)
    assert items == []
    assert "no text field found" in problems[0].reason
    assert "q, a, topic" in problems[0].reason
    assert "--text-column" in problems[0].reason

    items, problems = read(path, text_column="q", label_column="topic")
    assert problems == []
    assert texts(items) == ["what?", "why?"]
    assert labels(items) == ["x", "7"]


def test_jsonl_label_found_on_a_later_row(write_file) -> None:
    path = write_file("d.jsonl", '{"text": "a"}\n{"text": "b", "label": "x"}\n{"text": "c", "label": "y"}\n')
    items, problems = read(path)
    assert problems == []
    assert labels(items) == [None, "x", "y"]


def test_jsonl_label_found_by_name_when_only_the_text_field_is_chosen(write_file) -> None:
    items, problems = read(write_file("d.jsonl", '{"q": "why?", "label": "x"}\n'), text_column="q")
    assert problems == []
    assert (texts(items), labels(items)) == (["why?"], ["x"])


def test_ndjson_extension(write_file) -> None:
    items, problems = read(write_file("d.ndjson", '{"sentence": "hi", "intent": "greet"}\n'))
    assert problems == []
    assert (texts(items), labels(items)) == (["hi"], ["greet"])


def test_jsonl_folder_label_used_when_the_row_has_none(write_file) -> None:
    path = write_file("pos/d.jsonl", '{"text": "a"}\n{"text": "b", "label": "own"}\n')
    entries = list(read_text_file(str(path), "pos/d.jsonl", "pos", ScanOptions()))
    assert [e.label for e in entries if isinstance(e, Item)] == ["pos", "own"]


# ---------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------

SAMPLE = "héllo wörld\n\nçà et là — ok\n"
SAMPLE_TEXTS = ["héllo wörld", "çà et là — ok"]


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(codecs.BOM_UTF8 + SAMPLE.encode("utf-8"), id="utf-8-bom"),
        pytest.param(SAMPLE.encode("utf-8"), id="utf-8"),
        pytest.param(codecs.BOM_UTF16_LE + SAMPLE.encode("utf-16-le"), id="utf-16-le-bom"),
        pytest.param(codecs.BOM_UTF16_BE + SAMPLE.encode("utf-16-be"), id="utf-16-be-bom"),
        pytest.param(codecs.BOM_UTF32_LE + SAMPLE.encode("utf-32-le"), id="utf-32-le-bom"),
        pytest.param(codecs.BOM_UTF32_BE + SAMPLE.encode("utf-32-be"), id="utf-32-be-bom"),
    ],
)
def test_unicode_encodings_with_bom(write_file, encoded) -> None:
    items, problems = read(write_file("u.txt", encoded))
    assert problems == []
    assert texts(items) == SAMPLE_TEXTS  # and no BOM character in the first text
    assert lines(items) == [1, 3]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_csv_and_jsonl_with_bom(write_file, encoding) -> None:
    csv_items, csv_problems = read(write_file("d.csv", "text,label\nçà,x\n".encode(encoding)))
    assert csv_problems == []
    assert (texts(csv_items), labels(csv_items)) == (["çà"], ["x"])
    jsonl_items, jsonl_problems = read(write_file("d.jsonl", '{"text": "çà"}\n'.encode(encoding)))
    assert jsonl_problems == []
    assert texts(jsonl_items) == ["çà"]


def test_cp1252_without_encoding_is_a_problem_per_line(write_file) -> None:
    path = write_file("win.txt", "café\nplain ascii\nnaïve\n".encode("cp1252"))
    items, problems = read(path)
    assert texts(items) == ["plain ascii"]
    assert lines(items) == [2]
    assert [p.line for p in problems] == [1, 3]
    for problem in problems:
        assert problem.path == "win.txt"
        assert "UTF-8" in problem.reason
        assert "--encoding" in problem.reason


def test_cp1252_with_encoding_loads(write_file) -> None:
    path = write_file("win.txt", "café\nplain ascii\nnaïve — “quoted”\n".encode("cp1252"))
    items, problems = read(path, encoding="cp1252")
    assert problems == []
    assert texts(items) == ["café", "plain ascii", "naïve — “quoted”"]
    assert lines(items) == [1, 2, 3]


def test_cp1252_csv_with_encoding(write_file) -> None:
    items, problems = read(write_file("win.csv", "text;label\ncafé;boisson\n".encode("cp1252")), encoding="cp1252")
    assert problems == []
    assert (texts(items), labels(items)) == (["café"], ["boisson"])


def test_unknown_encoding_is_a_problem(write_file) -> None:
    items, problems = read(write_file("a.txt", "x\n"), encoding="klingon-8")
    assert items == []
    assert [p.reason for p in problems] == ["unknown encoding 'klingon-8'"]


def test_wrong_named_encoding_stops_with_a_line_number(write_file) -> None:
    path = write_file("a.txt", "ok\nalso ok\n".encode("utf-8") + b"\xff\xfe\xfa bad\n")
    items, problems = read(path, encoding="utf-8")
    assert texts(items) == ["ok", "also ok"]
    (problem,) = problems
    assert problem.line == 3


def test_png_bytes_named_txt_is_a_clear_problem(write_file, make_image) -> None:
    png = make_image("img.png", size=(4, 4)).read_bytes()
    for name in ("pic.txt", "pic.csv", "pic.jsonl"):
        items, problems = read(write_file(name, png))
        assert items == []
        assert [p.reason for p in problems] == ["this is a PNG image, not a text file"]


def test_nul_bytes_without_bom_are_binary(write_file) -> None:
    items, problems = read(write_file("b.txt", "no bom".encode("utf-16-le")))
    assert items == []
    (problem,) = problems
    assert "binary content" in problem.reason
    assert "--encoding" in problem.reason
    items, problems = read(write_file("b.txt", "no bom\n".encode("utf-16-le")), encoding="utf-16-le")
    assert (texts(items), problems) == (["no bom"], [])


# ---------------------------------------------------------------------------------------------
# Limits and empty files
# ---------------------------------------------------------------------------------------------

TEN_MB = 10 * 1024 * 1024


def _huge_line_file(write_file, name: str, tail: str) -> Path:
    return write_file(name, b"a" * TEN_MB + b"\n" + tail.encode())


@pytest.mark.parametrize(
    ("name", "tail", "expected"),
    [
        ("huge.txt", "short\n", ["short"]),
        ("huge.jsonl", '{"text": "short"}\n', ["short"]),
    ],
)
def test_ten_megabyte_line_over_a_lowered_limit_is_a_problem(write_file, name, tail, expected) -> None:
    path = _huge_line_file(write_file, name, tail)
    items, problems = read(path, max_text_chars=1000)
    assert texts(items) == expected
    assert lines(items) == [2]
    (problem,) = problems
    assert problem.line == 1
    assert "longer than the limit of 1,000 characters" in problem.reason


def test_ten_megabyte_csv_row_is_a_problem(write_file) -> None:
    path = write_file("huge.csv", b"text,label\n" + b"a" * TEN_MB + b",x\nshort,y\n")
    items, problems = read(path, max_text_chars=1000)
    assert texts(items) == ["short"]
    assert lines(items) == [3]
    assert [(p.line, "longer than the limit" in p.reason) for p in problems] == [(2, True)]


def test_long_utf16_line_over_the_limit(write_file) -> None:
    path = write_file("huge16.txt", ("b" * 50_000 + "\nshort\n").encode("utf-16"))
    items, problems = read(path, max_text_chars=1000)
    assert texts(items) == ["short"]
    assert [p.line for p in problems] == [1]
    assert "longer than the limit" in problems[0].reason


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_limit_is_exact_and_the_line_ending_does_not_count(write_file, encoding, newline) -> None:
    lengths = [1000, 1001, 999, 1002, 1000, 1001]
    content = newline.join(chr(ord("a") + i) * n for i, n in enumerate(lengths))  # last: no newline
    options = {"encoding": "cp1252"} if encoding == "cp1252" else {}
    items, problems = read(write_file("edge.txt", content.encode(encoding)), max_text_chars=1000, **options)
    assert [len(t or "") for t in texts(items)] == [1000, 999, 1000]
    assert lines(items) == [1, 3, 5]
    assert [p.line for p in problems] == [2, 4, 6]


def test_ten_megabyte_line_costs_bounded_memory_with_the_default_limit(write_file) -> None:
    path = _huge_line_file(write_file, "huge.txt", "short\n")
    tracemalloc.start()
    try:
        items, problems = read(path)  # default: 1,000,000 characters
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert texts(items) == ["short"]
    assert [p.line for p in problems] == [1]
    assert "longer than the limit of 1,000,000 characters" in problems[0].reason
    assert peak < 50 * 1024 * 1024


def test_file_over_the_size_limit(write_file) -> None:
    items, problems = read(write_file("big.txt", "x\n" * 100), max_file_bytes=100)
    assert items == []
    assert "over the limit" in problems[0].reason


@pytest.mark.parametrize("name", ["e.txt", "e.csv", "e.tsv", "e.jsonl"])
def test_empty_file(write_file, name) -> None:
    items, problems = read(write_file(name, b""))
    assert items == []
    assert [(p.path, p.reason) for p in problems] == [(name, "empty file")]


def test_whitespace_only_txt_has_no_items(write_file) -> None:
    assert read(write_file("w.txt", "\n  \n\t\n")) == ([], [])


def test_missing_file_is_a_problem(tmp_path) -> None:
    entries = list(read_text_file(str(tmp_path / "gone.txt"), "gone.txt", None, ScanOptions()))
    assert len(entries) == 1
    assert isinstance(entries[0], Problem)
    assert "cannot read file" in entries[0].reason


# ---------------------------------------------------------------------------------------------
# Through the scan
# ---------------------------------------------------------------------------------------------


def test_scan_passes_options_to_the_readers(tmp_path, write_file) -> None:
    write_file("d.csv", "id;body;grade\n1;café;5\n".encode("cp1252"))
    result = scan(str(tmp_path / "data" / "d.csv"), ScanOptions(text_column="body", label_column="grade", encoding="cp1252"))
    assert result.modality == "text"
    assert result.problems == []
    (item,) = result.items
    assert (item.key, item.text, item.label) == ("d.csv:2", "café", "5")
