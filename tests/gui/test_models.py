"""List models over core items: streaming appends, custom roles, filtering, class counts, problems."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

from genaug_desktop.core.datasets.model import Item, Problem
from genaug_desktop.gui.models import (
    UNLABELED,
    ClassCountModel,
    ItemDataRole,
    ItemFilterProxy,
    ItemListModel,
    KeyRole,
    LabelRole,
    ModalityRole,
    NameRole,
    PathRole,
    ProblemListModel,
    TextRole,
    ThumbnailRole,
)


def image_item(rel: str, label: str | None) -> Item:
    return Item(key=rel, path=rel, modality="image", label=label, sha256="0" * 64, size=100, width=8, height=8,
                format="PNG", mode="RGB")


def text_item(line: int, text: str, label: str | None) -> Item:
    return Item(key=f"t.csv:{line}", path="t.csv", modality="text", label=label, sha256="1" * 64,
                size=len(text), line=line, text=text)


@pytest.fixture
def model(qapp) -> ItemListModel:
    m = ItemListModel()
    m.reset("/data")
    return m


def test_append_batches_inserts_rows_and_counts_labels(qtbot, model: ItemListModel) -> None:
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    model.append_items([image_item("cat/a.png", "cat"), image_item("cat/b.png", "cat")])
    model.append_items([image_item("dog/c.png", "dog")])
    model.append_items([])
    assert inserted == [(0, 1), (2, 2)]
    assert model.rowCount() == 3
    assert model.label_counts() == {"cat": 2, "dog": 1}
    assert model.rows_for_path(os.path.join("/data", "dog", "c.png")) == [2]


def test_custom_roles(model: ItemListModel) -> None:
    model.append_items([image_item("cat/a.png", "cat"), text_item(3, "hello there", "greeting")])
    image, text = model.index(0), model.index(1)
    assert image.data(ItemDataRole).key == "cat/a.png"
    assert image.data(KeyRole) == "cat/a.png"
    assert image.data(LabelRole) == "cat"
    assert image.data(PathRole) == os.path.join("/data", "cat", "a.png")
    assert image.data(NameRole) == "a.png"
    assert image.data(ModalityRole) == "image"
    assert image.data(ThumbnailRole) is None  # no cache: nothing to show, nothing requested
    assert text.data(TextRole) == "hello there"
    assert text.data(NameRole) == "t.csv:3"
    assert "greeting" in text.data(Qt.ItemDataRole.ToolTipRole)
    assert b"thumbnailRole" in [bytes(v.data()) for v in model.roleNames().values()]


def test_proxy_filters_by_text_and_class(model: ItemListModel) -> None:
    proxy = ItemFilterProxy()
    proxy.setSourceModel(model)
    model.append_items([
        image_item("cat/tabby.png", "cat"), image_item("cat/black.png", "cat"),
        image_item("dog/black_lab.png", "dog"), image_item("loose.png", None),
    ])
    assert proxy.rowCount() == 4
    proxy.set_filter_text("BLACK")
    assert [proxy.index(r, 0).data(KeyRole) for r in range(proxy.rowCount())] == ["cat/black.png", "dog/black_lab.png"]
    proxy.set_filter_label("dog")
    assert proxy.rowCount() == 1
    proxy.set_filter_text("")
    assert proxy.rowCount() == 1
    proxy.set_filter_label(UNLABELED)
    assert [proxy.index(r, 0).data(KeyRole) for r in range(proxy.rowCount())] == ["loose.png"]
    proxy.set_filter_label(None)
    assert proxy.rowCount() == 4 and not proxy.is_filtering()


def test_proxy_filters_rows_appended_while_filtering(model: ItemListModel) -> None:
    proxy = ItemFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_filter_label("cat")
    model.append_items([image_item("cat/a.png", "cat"), image_item("dog/b.png", "dog")])
    model.append_items([image_item("cat/c.png", "cat")])
    assert proxy.rowCount() == 2


def test_proxy_matches_text_content_and_label(model: ItemListModel) -> None:
    proxy = ItemFilterProxy()
    proxy.setSourceModel(model)
    model.append_items([text_item(2, "The battery died", "negative"), text_item(3, "Lovely colour", "positive")])
    proxy.set_filter_text("battery")
    assert proxy.rowCount() == 1
    proxy.set_filter_text("positive")
    assert proxy.index(0, 0).data(TextRole) == "Lovely colour"


def test_class_counts_keep_all_first_and_insert_new_classes_in_order(qapp) -> None:
    classes = ClassCountModel()
    classes.set_counts({"dog": 2})
    assert [classes.index(r, 0).data() for r in range(classes.rowCount())] == ["All", "dog"]
    inserted: list[int] = []
    classes.rowsInserted.connect(lambda _p, first, _last: inserted.append(first))
    classes.set_counts({"dog": 3, "cat": 1, None: 2})
    assert [classes.index(r, 0).data() for r in range(classes.rowCount())] == ["All", "cat", "dog", "(unlabeled)"]
    assert [classes.index(r, 1).data() for r in range(classes.rowCount())] == ["6", "1", "3", "2"]
    assert inserted == [1, 3]
    assert classes.index(3, 0).data(ClassCountModel.FilterRole) == UNLABELED
    assert classes.index(0, 0).data(ClassCountModel.FilterRole) is None
    assert classes.class_count() == 2
    assert classes.index(1, 0).data(Qt.ItemDataRole.DecorationRole) is not None


def test_problem_model_deduplicates_and_formats(qapp) -> None:
    problems = ProblemListModel()
    counts: list[int] = []
    problems.count_changed.connect(counts.append)
    p1 = Problem("reviews.csv", "expected 2 fields, found 3", 5)
    problems.append_problems([p1, Problem("a.png", "empty file")])
    problems.append_problems([p1])
    assert problems.rowCount() == 2
    assert counts == [2]
    assert problems.index(0).data() == "reviews.csv:5 — expected 2 fields, found 3"
    assert problems.index(1).data(ProblemListModel.WhereRole) == "a.png"
    assert problems.index(0).data(ProblemListModel.ProblemRole) == p1


def test_one_whole_file_problem_per_path(qapp) -> None:
    problems = ProblemListModel()
    problems.append_problems([Problem("a.png", "file is missing"), Problem("t.csv", "bad row", 3)])
    assert problems.has_path("a.png") and not problems.has_path("t.csv")
    problems.set_file_problem(Problem("a.png", "source file is missing (moved or deleted)"))
    problems.set_file_problem(Problem("b.png", "source file changed"))
    assert [p.reason for p in problems.problems()] == [
        "source file is missing (moved or deleted)", "bad row", "source file changed"]
