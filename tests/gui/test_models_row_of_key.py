"""``ItemListModel.row_of_key`` is a dict look-up kept in step with appends and resets."""

from __future__ import annotations

import time

from genaug_desktop.core.datasets.model import Item
from genaug_desktop.gui.models import ItemListModel


def text_item(line: int, path: str = "t.csv") -> Item:
    return Item(key=f"{path}:{line}", path=path, modality="text", label=None, sha256="1" * 64, size=4,
                line=line, text=f"text {line}")


def brute_force(model: ItemListModel, key: str) -> int | None:
    return next((row for row in range(model.rowCount()) if model.item(row).key == key), None)


def test_row_of_key_follows_every_append_and_reset(qapp) -> None:
    model = ItemListModel()
    model.reset("/data")
    model.append_items([text_item(i) for i in range(5)])
    assert model.row_of_key("t.csv:3") == 3  # builds the index
    model.append_items([text_item(i) for i in range(5, 9)])  # after it was built: kept in step
    model.append_items([])
    model.append_items([text_item(2)])  # a repeated key: the first row is the answer, as before
    keys = [f"t.csv:{i}" for i in range(10)] + ["missing"]
    assert [model.row_of_key(k) for k in keys] == [brute_force(model, k) for k in keys]
    assert model.row_of_key("t.csv:8") == 8 and model.row_of_key("t.csv:2") == 2

    model.reset("/other")
    assert model.row_of_key("t.csv:3") is None  # nothing left of the old rows
    model.append_items([text_item(i, "u.csv") for i in range(3)])
    assert model.row_of_key("t.csv:0") is None
    assert model.row_of_key("u.csv:2") == 2
    model.reset("/again")
    model.append_items([text_item(7, "v.csv")])  # appended before any look-up since the reset
    assert model.row_of_key("v.csv:7") == 0


def test_row_of_key_does_not_scan_the_rows(qapp) -> None:
    model = ItemListModel()
    model.reset("/data")
    n = 200_000
    model.append_items([text_item(i) for i in range(n)])
    model.row_of_key("t.csv:0")  # the one pass that builds the index
    start = time.perf_counter()
    for _ in range(2000):
        assert model.row_of_key(f"t.csv:{n - 1}") == n - 1
    elapsed = time.perf_counter() - start
    # A scan per look-up is 2000 x 200,000 comparisons (tens of seconds); a dict look-up, ~1 ms.
    assert elapsed < 0.5, f"2,000 look-ups took {elapsed:.2f} s"
