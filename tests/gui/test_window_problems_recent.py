"""The window's wiring of two small things: a problem of the dataset clicked in the browser shows in
the details panel when it has no cell in the grid, and a recent item deleted since leaves the lists."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from genaug_desktop.gui.main_window import MainWindow
from genaug_desktop.gui.models import KeyRole
from gui_helpers import wait_loaded

SCREENSHOTS = os.environ.get("GENAUG_TEST_SCREENSHOTS")  # a folder: save what the tests show there


def _activate_problem(window: MainWindow, path: str) -> None:
    problems = window.session.problems
    row = next(r for r, p in enumerate(problems.problems()) if p.path == path)
    window.browser.problem_view.doubleClicked.emit(problems.index(row))


def test_a_skipped_file_clicked_in_the_problems_list_shows_in_the_details(qtbot, make_window,
                                                                         image_folder: Path) -> None:
    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.details.item is not None, timeout=10_000)  # the first item shows
    current = window.grid.view.currentIndex().data(KeyRole)

    _activate_problem(window, "cat/cat_truncated.png")  # the scan skipped it: no cell in the grid

    details = window.details
    assert details.item is None and details.problem is not None
    assert details.problem.path == "cat/cat_truncated.png"
    assert details.path == str(image_folder / "cat" / "cat_truncated.png")
    assert details.title.text() == "cat_truncated.png"
    assert "the scan skipped it" in details.subtitle.text()
    assert details.values["Problem"].text() == details.problem.reason
    qtbot.waitUntil(lambda: not details.is_loading(), timeout=10_000)
    assert details.preview.text().startswith("⚠ The file cannot be shown: ")
    assert window.grid.view.currentIndex().data(KeyRole) == current  # the grid's selection stays
    if SCREENSHOTS:
        window.grab().save(os.path.join(SCREENSHOTS, "problem-in-details.png"))


def test_a_problem_that_is_an_item_still_selects_its_cell(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    window.grid.view.scrollToBottom()  # the corrupt file becomes a problem when its thumbnail fails
    qtbot.waitUntil(lambda: window.session.problems.has_path("dog/dog_corrupt.png"), timeout=20_000)
    _activate_problem(window, "dog/dog_corrupt.png")
    assert window.grid.view.currentIndex().data(KeyRole) == "dog/dog_corrupt.png"
    qtbot.waitUntil(lambda: window.details.item is not None, timeout=5000)
    assert window.details.item.key == "dog/dog_corrupt.png" and window.details.problem is None


def _recent_menu_paths(window: MainWindow) -> list[str]:
    window.recent_menu.aboutToShow.emit()
    return [a.text() for a in window.recent_menu.actions() if os.sep in a.text()]


def test_a_recent_item_deleted_since_leaves_the_recent_lists(qtbot, make_window, image_folder: Path,
                                                            csv_file: Path, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    shutil.copytree(image_folder, gone)
    window: MainWindow = make_window()
    window.settings.add_recent(str(gone))  # opened in an earlier run
    window.open_path(str(csv_file))
    wait_loaded(qtbot, window)
    assert window.settings.recent_paths() == [str(csv_file), str(gone)]
    assert _recent_menu_paths(window) == [str(csv_file), str(gone)]
    shutil.rmtree(gone)

    window.welcome.open_path_requested.emit(str(gone))  # what a click on the recent item does

    qtbot.waitUntil(lambda: window.message_bar.level == "error", timeout=5000)
    assert "no such file or folder" in window.message_bar.message  # it still says why
    assert window.settings.recent_paths() == [str(csv_file)]
    assert window.welcome.recent_paths() == [str(csv_file)]
    assert _recent_menu_paths(window) == [str(csv_file)]
    assert window.session.state is not None and window.session.state.path == str(csv_file)


def test_only_a_missing_recent_item_is_forgotten(qtbot, make_window, image_folder: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    window.settings.add_recent(str(empty))  # (a folder emptied since it was opened)
    window.open_path(str(tmp_path / "never-opened"))  # a typo, not a recent item
    qtbot.waitUntil(lambda: window.message_bar.level == "error", timeout=5000)
    assert window.settings.recent_paths() == [str(empty), str(image_folder)]
    window.open_path(str(empty))  # refused, but it exists: it may fill again, so it stays listed
    qtbot.waitUntil(lambda: "no images or text files" in window.message_bar.message, timeout=5000)
    assert window.settings.recent_paths() == [str(empty), str(image_folder)]
