"""Opening a path that cannot be opened leaves what is open as it was: the path is checked (exists,
readable, dataset-like or project-like) before the session closes the current dataset."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from genaug_desktop.gui.main_window import MainWindow
from genaug_desktop.gui.session import unusable_reason
from gui_helpers import wait_loaded, write_png


def _bad_paths(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    (tmp_path / "empty").mkdir()
    (tmp_path / "only-hidden").mkdir()
    (tmp_path / "only-hidden" / ".DS_Store").write_bytes(b"x")
    (tmp_path / "photo.png").write_bytes(b"not read")
    garbage = tmp_path / "garbage.genaug"
    garbage.mkdir()
    (garbage / "project.sqlite").write_bytes(b"garbage\n")
    (tmp_path / "no-db.genaug").mkdir()
    return {
        "missing": (tmp_path / "nope", "no such file or folder"),
        "empty": (tmp_path / "empty", "no images or text files found"),
        "hidden only": (tmp_path / "only-hidden", "no images or text files found"),
        "image file": (tmp_path / "photo.png", "a single file must be a text dataset"),
        "damaged project": (garbage, "damaged or not a project database"),
        "project without db": (tmp_path / "no-db.genaug", "is not a genaug project (no project.sqlite)"),
    }


@pytest.mark.parametrize("case", ["missing", "empty", "hidden only", "image file", "damaged project", "project without db"])
def test_unusable_reason_says_why(tmp_path: Path, case: str) -> None:
    path, expected = _bad_paths(tmp_path)[case]
    reason = unusable_reason(str(path))
    assert reason is not None and expected in reason and str(path) in reason


def test_usable_paths_pass_the_quick_check(tmp_path: Path, image_folder: Path, csv_file: Path) -> None:
    nested = tmp_path / "deep" / "a" / "b"
    write_png(nested / "x.png", (1, 2, 3))
    for path in (image_folder, csv_file, tmp_path / "deep"):
        assert unusable_reason(str(path)) is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_folder_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        assert "permission denied" in (unusable_reason(str(locked)) or "")
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("case", ["missing", "empty", "image file", "damaged project"])
def test_a_wrong_path_keeps_the_open_dataset(qtbot, make_window, image_folder: Path, tmp_path: Path, case: str) -> None:
    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(window.is_settled, timeout=15_000)
    items = window.session.items.rowCount()
    title = window.windowTitle()
    path, expected = _bad_paths(tmp_path)[case]
    window.open_path(str(path))
    qtbot.waitUntil(lambda: window.message_bar.level == "error", timeout=5000)
    assert expected in window.message_bar.message
    qtbot.wait(200)  # (nothing queued may close it a moment later)
    assert window.session.state is not None and window.session.state.path == str(image_folder)
    assert window.session.items.rowCount() == items
    assert window.stack.currentWidget() is not window.welcome
    assert window.windowTitle() == title
    assert window.settings.recent_paths() == [str(image_folder)]


def test_a_recent_item_deleted_since_says_so_and_keeps_the_open_dataset(qtbot, make_window, image_folder: Path,
                                                                        csv_file: Path, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    shutil.copytree(image_folder, gone)
    window: MainWindow = make_window()
    window.open_path(str(gone))
    wait_loaded(qtbot, window)
    window.open_path(str(csv_file))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(window.is_settled, timeout=15_000)
    shutil.rmtree(gone)
    window.welcome.open_path_requested.emit(str(gone))  # what a click on the recent item does
    qtbot.waitUntil(lambda: window.message_bar.level == "error", timeout=5000)
    message = window.message_bar.message
    assert str(gone) in message and "no such file or folder" in message and "moved, renamed or deleted" in message
    assert window.session.state is not None and window.session.state.path == str(csv_file)
    assert window.stack.currentWidget() is not window.welcome
