"""What keeps the GUI event loop from stalling while a big dataset opens (issue 2, point 9): the
grid's delegate scales a thumbnail once and then only copies it, item paths are made without a
join per item, the class table's header runs no import per call, and the policy editor is made in turns of its own, never inside the turn that
reports the dataset loaded."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from genaug_desktop.core.datasets.model import Item
from genaug_desktop.gui import delegates
from genaug_desktop.gui.delegates import ItemDelegate
from genaug_desktop.gui.models import ItemListModel
from genaug_desktop.gui.thumbnails import ThumbnailCache
from gui_helpers import wait_loaded

ROOT = os.path.abspath("/data")


def image_item(rel: str) -> Item:
    return Item(key=rel, path=rel, modality="image", label="a", sha256="0" * 64, size=10, width=64, height=64)


def image_model(cache: ThumbnailCache | None, *names: str) -> ItemListModel:
    """A model of the images a/<name>.png under ROOT."""
    model = ItemListModel(cache)
    model.reset(ROOT)
    model.append_items([image_item(f"a/{name}.png") for name in names])
    return model


def paint_card(delegate: ItemDelegate, model: ItemListModel, row: int, side: int = 96, selected: bool = False) -> QImage:
    out = QImage(200, 200, QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(QColor(255, 255, 255))
    option = QStyleOptionViewItem()
    option.rect = out.rect()
    option.decorationSize = QSize(side, side)
    if selected:
        option.state |= QStyle.StateFlag.State_Selected
    painter = QPainter(out)
    delegate.paint(painter, option, model.index(row))
    painter.end()
    return out


def test_abspath_is_the_join_of_root_and_item_path() -> None:
    for root in (ROOT, ROOT + os.sep, ""):
        model = ItemListModel()
        model.reset(root)
        for rel in ("a.png", "cls/b.png", "x/y/z c.png"):
            assert model.abspath(image_item(rel)) == os.path.join(root, *rel.split("/"))


def test_class_table_header_reads_the_orientation_once() -> None:
    from PySide6.QtCore import Qt

    from genaug_desktop.gui import roles
    from genaug_desktop.gui.models import ClassCountModel

    model = ClassCountModel()
    horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
    assert [model.headerData(s, horizontal) for s in (0, 1)] == ["Class", "Items"]
    assert ClassCountModel._horizontal == horizontal
    assert model.headerData(1, horizontal, roles.TEXT_ALIGNMENT) == roles.ALIGN_RIGHT_VCENTER
    assert model.headerData(0, horizontal, roles.TEXT_ALIGNMENT) is None
    assert model.headerData(0, vertical) is None


def test_delegate_scales_a_thumbnail_once_and_paints_it_where_it_did(qtbot) -> None:
    cache = ThumbnailCache(workers=1)
    try:
        model = image_model(cache, "red", "blue")
        for name, colour, w, h in (("red", QColor(255, 0, 0), 64, 64), ("blue", QColor(0, 0, 255), 64, 32)):
            img = QImage(w, h, QImage.Format.Format_RGB32)
            img.fill(colour)
            cache._store((os.path.join(ROOT, "a", f"{name}.png"), 128), img)
        delegate = ItemDelegate()
        first = paint_card(delegate, model, 0)
        assert len(delegate._scaled_cache) == 1
        (pixmap,) = delegate._scaled_cache.values()
        assert (pixmap.width(), pixmap.height()) == (96, 96)  # fitted into the thumbnail square
        again = paint_card(delegate, model, 0)
        assert len(delegate._scaled_cache) == 1 and next(iter(delegate._scaled_cache.values())) is pixmap
        assert again == first
        # Centred in the square (card top + PAD = 12 .. 108): red inside, not outside.
        assert first.pixelColor(100, 60) == QColor(255, 0, 0)
        assert first.pixelColor(100, 12 + 96 + 3) != QColor(255, 0, 0)
        wide = paint_card(delegate, model, 1)
        assert len(delegate._scaled_cache) == 2
        assert wide.pixelColor(100, 60) == QColor(0, 0, 255)
        assert wide.pixelColor(100, 20) != QColor(0, 0, 255)  # 96x48, letterboxed in the square
        paint_card(delegate, model, 0, side=64)  # another thumbnail size: scaled again
        assert len(delegate._scaled_cache) == 3
    finally:
        cache.shutdown()


def test_image_cards_are_drawn_once_per_look_and_then_copied(qtbot) -> None:
    cache = ThumbnailCache(workers=1)
    try:
        model = image_model(cache, "red", "waiting")
        cache.shutdown()  # nothing is decoded here: the second card stays a placeholder
        delegate = ItemDelegate()
        placeholder = paint_card(delegate, model, 0)
        assert len(delegate._card_cache) == 1
        assert paint_card(delegate, model, 0) == placeholder and len(delegate._card_cache) == 1  # copied
        paint_card(delegate, model, 1)  # another name: a card of its own
        assert len(delegate._card_cache) == 2
        selected = paint_card(delegate, model, 0, selected=True)
        assert len(delegate._card_cache) == 3 and selected != placeholder
        red = QImage(64, 64, QImage.Format.Format_RGB32)
        red.fill(QColor(255, 0, 0))
        cache._store((os.path.join(ROOT, "a", "red.png"), 128), red)  # the thumbnail arrives
        with_thumb = paint_card(delegate, model, 0)
        assert len(delegate._card_cache) == 4 and with_thumb.pixelColor(100, 60) == QColor(255, 0, 0)
        assert placeholder.pixelColor(100, 60) != QColor(255, 0, 0)
    finally:
        cache.shutdown()


def test_drawn_cards_kept_are_bounded(qtbot, monkeypatch) -> None:
    monkeypatch.setattr(delegates, "CARD_CACHE", 2)
    model = image_model(None, *(str(n) for n in range(4)))
    delegate = ItemDelegate()
    for row in range(4):
        paint_card(delegate, model, row)
    assert len(delegate._card_cache) == 2
    assert [k[-1] for k in delegate._card_cache] == ["2.png", "3.png"]


def test_scaled_thumbnails_kept_are_bounded(qtbot, monkeypatch) -> None:
    monkeypatch.setattr(delegates, "SCALED_CACHE", 3)
    delegate = ItemDelegate()
    images = []
    for n in range(5):
        img = QImage(32, 32, QImage.Format.Format_RGB32)
        img.fill(QColor(n * 40, 0, 0))
        images.append(img)
        delegate._scaled(img, 64, 1.0)
    assert len(delegate._scaled_cache) == 3
    assert [k[0] for k in delegate._scaled_cache] == [i.cacheKey() for i in images[2:]]


def test_editor_is_made_in_turns_after_loading(qtbot, make_window, image_folder: Path) -> None:
    window = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    aug = window.augmentation
    qtbot.waitUntil(lambda: aug.has_editor, timeout=20000)
    assert aug.dock.widget() is aug.editor and aug._made_editor is None and not aug._build_scheduled
    assert aug.editor.modality == "image"
    labels = [a.text() for a in window.policy_menu.actions()]
    assert labels.count("Pre&sets") == 1 and window.policy_menu.isEnabled()


def hold_editor_build(monkeypatch):
    """Keep the workspace from starting the editor's turns by itself; returns the real starter."""
    from genaug_desktop.gui.augmentation import AugmentationWorkspace

    real = AugmentationWorkspace._maybe_build_editor
    monkeypatch.setattr(AugmentationWorkspace, "_maybe_build_editor", lambda self: None)
    return real


def open_with_editor_held(qtbot, make_window, image_folder: Path, monkeypatch):
    """A window with *image_folder* loaded and its op registry imported, the editor not made."""
    start = hold_editor_build(monkeypatch)
    window = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    aug = window.augmentation
    qtbot.waitUntil(lambda: aug._ops_ready, timeout=20000)
    assert aug._loader is None
    return window, aug, start


def test_editor_turns_make_the_widgets_then_dock_them(qtbot, make_window, image_folder: Path, monkeypatch) -> None:
    _window, aug, start = open_with_editor_held(qtbot, make_window, image_folder, monkeypatch)
    assert not aug.has_editor
    start(aug)
    assert not aug.has_editor and aug._made_editor is None  # nothing made inside the caller's turn
    qtbot.waitUntil(lambda: aug._made_editor is not None or aug.has_editor, timeout=5000)
    qtbot.waitUntil(lambda: aug.has_editor, timeout=5000)
    assert aug.dock.widget() is aug.editor and aug._made_editor is None and not aug._build_scheduled


def test_editor_asked_for_while_its_turns_are_pending_is_made_once(
        qtbot, make_window, image_folder: Path, monkeypatch) -> None:
    window, aug, start = open_with_editor_held(qtbot, make_window, image_folder, monkeypatch)
    start(aug)
    assert not aug.has_editor  # scheduled, not made inside the caller's turn
    editor = aug.editor  # asked for now: made at once
    qtbot.wait(100)  # the pending turns run and must not make a second one
    assert aug.editor is editor and aug.dock.widget() is editor and aug._made_editor is None
    assert not aug._build_scheduled
    assert [a.text() for a in window.policy_menu.actions()].count("Pre&sets") == 1
