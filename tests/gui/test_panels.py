"""Each panel on its own, over a real session on real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from genaug_desktop.core.datasets.model import Problem
from genaug_desktop.gui.dataset_browser import DatasetBrowser
from genaug_desktop.gui.details import DetailsPanel
from genaug_desktop.gui.models import UNLABELED, KeyRole
from genaug_desktop.gui.preview_grid import PreviewGrid
from genaug_desktop.gui.session import DatasetSession
from genaug_desktop.gui.thumbnails import ThumbnailCache
from genaug_desktop.gui.welcome import WelcomePage


@pytest.fixture
def session(qapp):
    s = DatasetSession(ThumbnailCache(workers=2))
    yield s
    s.shutdown()


def load(qtbot, session: DatasetSession, path: Path) -> None:
    session.open_path(str(path))
    qtbot.waitUntil(lambda: session.state is not None and session.state.loaded and not session.is_busy, timeout=15_000)


def test_dataset_browser_shows_classes_counts_and_problems(qtbot, session: DatasetSession, image_folder: Path) -> None:
    browser = DatasetBrowser(session)
    qtbot.addWidget(browser)
    browser.show()
    load(qtbot, session, image_folder)
    classes = session.classes
    rows = [(classes.index(r, 0).data(), classes.index(r, 1).data()) for r in range(classes.rowCount())]
    assert rows == [("All", "11"), ("cat", "6"), ("dog", "5")]
    assert browser.name_label.text() == "pets"
    assert browser.problems_label.text() == "Problems (1)"
    first = session.problems.index(0)
    assert first.data(Qt.ItemDataRole.DisplayRole).startswith("cat/cat_truncated.png — truncated PNG")
    assert browser.problem_view.isVisibleTo(browser)

    assert browser.select_class("dog")
    assert session.proxy.rowCount() == 5
    browser.set_filter_text("corrupt")
    assert [session.proxy.index(r, 0).data(KeyRole) for r in range(session.proxy.rowCount())] == ["dog/dog_corrupt.png"]
    browser.select_class(None)
    browser.set_filter_text("")
    assert session.proxy.rowCount() == 11


def test_filter_box_is_debounced(qtbot, session: DatasetSession, image_folder: Path) -> None:
    browser = DatasetBrowser(session)
    qtbot.addWidget(browser)
    load(qtbot, session, image_folder)
    qtbot.keyClicks(browser.filter_edit, "cat_0")
    assert session.proxy.rowCount() == 11  # not yet: typing is still going on
    qtbot.waitUntil(lambda: session.proxy.rowCount() == 6, timeout=3000)


def test_dataset_browser_shows_text_problems_with_line(qtbot, session: DatasetSession, csv_file: Path) -> None:
    browser = DatasetBrowser(session)
    qtbot.addWidget(browser)
    load(qtbot, session, csv_file)
    assert session.items.rowCount() == 7
    assert browser.problems_label.text() == "Problems (1)"
    assert session.problems.index(0).data(Qt.ItemDataRole.DisplayRole).startswith("reviews.csv:5 — ")


def test_unlabeled_class_row(qtbot, session: DatasetSession, tmp_path: Path) -> None:
    from gui_helpers import write_png

    write_png(tmp_path / "ds" / "loose.png", (1, 2, 3))
    write_png(tmp_path / "ds" / "cls" / "a.png", (1, 2, 3))
    browser = DatasetBrowser(session)
    qtbot.addWidget(browser)
    load(qtbot, session, tmp_path / "ds")
    assert browser.select_class(UNLABELED)
    assert session.proxy.rowCount() == 1


def test_preview_grid_streams_paints_thumbnails_and_multiselects(qtbot, session: DatasetSession, image_folder: Path) -> None:
    grid = PreviewGrid(session)
    qtbot.addWidget(grid)
    grid.resize(900, 600)
    grid.show()
    load(qtbot, session, image_folder)
    qtbot.waitUntil(lambda: grid.pending_visible_thumbnails() == 0 and len(grid.visible_items()) > 0, timeout=20_000)
    assert len(grid.visible_items()) == 11
    assert grid.count_label.text() == "11 items"
    # The corrupt file is only found when decoded: it shows a badge and joins the problems.
    qtbot.waitUntil(lambda: session.problems.rowCount() == 2, timeout=10_000)
    assert any(p.path == "dog/dog_corrupt.png" for p in session.problems.problems())

    grid.view.selectAll()
    assert len(grid.selected_items()) == 11
    assert "11 selected" in grid.count_label.text()
    grid.set_thumbnail_size(500)
    assert grid.thumbnail_size == 256 and grid.size_slider.value() == 256
    grid.set_thumbnail_size(64)
    assert grid.view.iconSize().width() == 64
    assert grid.select_key("dog/dog_02.png")
    assert grid.view.currentIndex().data(KeyRole) == "dog/dog_02.png"


def test_details_panel_decodes_in_background_and_shows_metadata(qtbot, session: DatasetSession, image_folder: Path) -> None:
    load(qtbot, session, image_folder)
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.resize(360, 700)
    panel.show()
    row = session.items.row_of_key("cat/cat_01.png")
    assert row is not None
    item = session.items.item(row)
    with qtbot.waitSignal(panel.preview_ready, timeout=10_000):
        panel.show_item(item, session.items.abspath(item))
        assert panel.preview.image is None  # decoding has not happened in this call
    assert panel.preview.image is not None and panel.preview.image.width() == 48
    assert panel.values["Label"].text() == "cat"
    assert panel.values["Dimensions"].text() == "48 × 40 px"
    assert panel.values["Format"].text() == "PNG"
    assert panel.values["SHA-256"].text().replace("\u200b", "") == item.sha256

    corrupt = session.items.item(session.items.row_of_key("dog/dog_corrupt.png"))  # type: ignore[arg-type]
    with qtbot.waitSignal(panel.preview_failed, timeout=10_000) as blocker:
        panel.show_item(corrupt, session.items.abspath(corrupt))
    assert "cannot decode" in blocker.args[1]
    assert "Cannot show" in panel.preview.text()


def test_details_panel_shows_full_text(qtbot, session: DatasetSession, csv_file: Path) -> None:
    load(qtbot, session, csv_file)
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    item = session.items.item(0)
    panel.show_item(item, session.items.abspath(item))
    assert panel.stack.currentWidget() is panel.text_view
    assert panel.text_view.toPlainText() == item.text
    assert panel.values["Line"].text() == "2"
    panel.show_item(None)
    assert panel.title.text() == "No item selected"


def test_welcome_page_emits_requests_and_lists_recent(qtbot, tmp_path: Path) -> None:
    page = WelcomePage()
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.open_sample_requested) as blocker:
        qtbot.mouseClick(page.sample_texts_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["texts"]
    with qtbot.waitSignal(page.open_dataset_requested):
        qtbot.mouseClick(page.open_dataset_button, Qt.MouseButton.LeftButton)
    existing = tmp_path / "exists"
    existing.mkdir()
    page.set_recent([str(existing), str(tmp_path / "gone")])
    assert page.recent_paths() == [str(existing), str(tmp_path / "gone")]
    assert not page.recent_empty.isVisibleTo(page)
    with qtbot.waitSignal(page.open_path_requested) as blocker:
        page.recent_list.itemActivated.emit(page.recent_list.item(0))
    assert blocker.args == [str(existing)]
    page.set_recent([])
    assert page.recent_empty.isVisibleTo(page)


def test_problem_model_is_shared_with_thumbnail_failures(qtbot, session: DatasetSession, image_folder: Path) -> None:
    load(qtbot, session, image_folder)
    path = session.items.abspath(session.items.item(session.items.row_of_key("dog/dog_corrupt.png")))  # type: ignore[arg-type]
    session.thumbnails.thumbnail_failed.emit(path, "cannot decode image: test")
    assert Problem("dog/dog_corrupt.png", "cannot decode image: test") in session.problems.problems()
    session.thumbnails.thumbnail_failed.emit("/elsewhere/x.png", "not ours")
    assert all(p.path != "/elsewhere/x.png" for p in session.problems.problems())
