"""The card delegate paints thumbnails, placeholders, broken badges and text cards."""

from __future__ import annotations

import os
from collections import Counter

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage

from genaug_desktop.core.datasets.model import Item
from genaug_desktop.gui.colors import BROKEN_FILL, PLACEHOLDER_FILL
from genaug_desktop.gui.delegates import ItemDelegate
from genaug_desktop.gui.models import ItemListModel
from genaug_desktop.gui.preview_grid import ItemGridView
from genaug_desktop.gui.thumbnails import ThumbnailCache

ROOT = os.path.abspath("/data")


def image_item(rel: str, label: str) -> Item:
    return Item(key=rel, path=rel, modality="image", label=label, sha256="0" * 64, size=10, width=64, height=64)


def render(view: ItemGridView) -> QImage:
    return view.viewport().grab().toImage()


def colour_counts(img: QImage) -> Counter[tuple[int, int, int]]:
    counts: Counter[tuple[int, int, int]] = Counter()
    for y in range(0, img.height(), 2):
        for x in range(0, img.width(), 2):
            c = img.pixelColor(x, y)
            counts[(c.red(), c.green(), c.blue())] += 1
    return counts


def make_view(qtbot, model: ItemListModel) -> ItemGridView:
    view = ItemGridView()
    view.setItemDelegate(ItemDelegate(view))
    view.setModel(model)
    view.setIconSize(QSize(96, 96))
    view.resize(620, 420)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_cards_show_thumbnail_placeholder_and_broken_badge(qtbot) -> None:
    cache = ThumbnailCache(workers=1)
    try:
        model = ItemListModel(cache)
        model.reset(ROOT)
        model.append_items([image_item("a/red.png", "a"), image_item("a/waiting.png", "a"), image_item("b/bad.png", "b")])
        red = QImage(64, 64, QImage.Format.Format_RGB32)
        red.fill(QColor(255, 0, 0))
        cache._store((os.path.join(ROOT, "a", "red.png"), 128), red)
        cache._fail(os.path.join(ROOT, "b", "bad.png"), "cannot decode image: broken data stream")
        cache.shutdown()  # nothing may be decoded here: the waiting card stays a placeholder
        view = make_view(qtbot, model)
        qtbot.waitUntil(lambda: view.visualRect(model.index(2)).isValid(), timeout=5000)
        counts = colour_counts(render(view))
        assert counts[(255, 0, 0)] > 300, "the thumbnail is painted"
        placeholder = (PLACEHOLDER_FILL.red(), PLACEHOLDER_FILL.green(), PLACEHOLDER_FILL.blue())
        assert counts[placeholder] > 300, "the loading placeholder is painted"
        broken = (BROKEN_FILL.red(), BROKEN_FILL.green(), BROKEN_FILL.blue())
        assert counts[broken] > 100, "the broken badge area is painted"
        assert len(counts) > 20, "labels and names are drawn"
    finally:
        cache.shutdown()


def test_thumbnail_size_changes_card_size(qtbot) -> None:
    model = ItemListModel()
    model.reset(ROOT)
    model.append_items([image_item(f"a/{i}.png", "a") for i in range(4)])
    view = make_view(qtbot, model)
    small = view.sizeHintForIndex(model.index(0))
    view.setIconSize(QSize(200, 200))
    large = view.sizeHintForIndex(model.index(0))
    assert large.height() > small.height() + 90


def test_text_cards_show_their_text(qtbot) -> None:
    model = ItemListModel()
    model.reset(ROOT)
    text = "A long review that goes on and on about the product " * 6
    model.append_items([
        Item(key=f"r.csv:{n}", path="r.csv", modality="text", label="positive", sha256="1" * 64, size=len(text),
             line=n, text=text)
        for n in range(2, 6)
    ])
    view = make_view(qtbot, model)
    qtbot.waitUntil(lambda: view.visualRect(model.index(3)).isValid(), timeout=5000)
    hint = view.sizeHintForIndex(model.index(0))
    assert hint.width() > hint.height()  # text cards are wide
    img = render(view)
    counts = colour_counts(img)
    dark = sum(n for (r, g, b), n in counts.items() if r + g + b < 200)
    assert dark > 200, "text is drawn in dark ink"
