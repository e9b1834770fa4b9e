"""File > Relink Dataset… in the whole window: a project whose dataset moved warns and names the
action; the dialog checks the new place, Relink stores it, and the project opens again with its
source files found."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store.project import init_project_job
from genaug_desktop.gui.main_window import MainWindow
from genaug_desktop.gui.relink_dialog import RelinkDialog
from gui_helpers import wait_loaded

SCREENSHOTS = os.environ.get("GENAUG_TEST_SCREENSHOTS")  # a folder: save what the tests show there


def _moved_project(tmp_path: Path, image_folder: Path) -> tuple[Path, Path]:
    project_dir = tmp_path / "pets.genaug"
    run_job(init_project_job(str(project_dir), str(image_folder))).close()
    new_place = tmp_path / "archive" / "pets"
    new_place.parent.mkdir()
    shutil.move(str(image_folder), str(new_place))
    return project_dir, new_place


def _drive_modal_dialog(qtbot, act: Callable[[RelinkDialog], None]) -> list[str]:
    """Run *act* on the Relink dialog once its check is done (it is modal: exec() runs its own loop)."""
    log: list[str] = []
    tries = [750]  # 15 s at most: a dialog that never shows fails the test, not the next one

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, RelinkDialog) and not dialog.is_running() and dialog.report is not None:
            log.append("acted")
            QTimer.singleShot(100, lambda: act(dialog))  # (after the layout caught up with the report)
        elif tries[0] > 0:
            tries[0] -= 1
            QTimer.singleShot(20, poll)

    QTimer.singleShot(20, poll)
    return log


def test_relink_from_the_file_menu_finds_the_moved_sources(qtbot, make_window, image_folder: Path,
                                                           tmp_path: Path, monkeypatch) -> None:
    import genaug_desktop.gui.relink_dialog as relink_dialog

    project_dir, new_place = _moved_project(tmp_path, image_folder)
    # The file dialog is the platform's: the person picks the new place in it.
    monkeypatch.setattr(relink_dialog, "choose_new_place", lambda project, parent: str(new_place))
    window: MainWindow = make_window()
    assert not window.relink_action.isEnabled()  # nothing open
    window.open_path(str(project_dir))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.session.source_check is not None, timeout=15_000)
    assert window.relink_action.isEnabled()
    assert window.message_bar.level == "warning"
    assert "11 source files are missing" in window.message_bar.message
    assert "File > Relink Dataset…" in window.message_bar.message
    reasons = [p.reason for p in window.session.problems.problems()]
    assert sum(r.startswith("source file is missing") for r in reasons) == 11
    if SCREENSHOTS:
        window.grab().save(os.path.join(SCREENSHOTS, "window-before-relink.png"))

    def relink(dialog: RelinkDialog) -> None:
        assert dialog.summary_label.text() == "11 of 11 source files match, 0 missing, 0 changed."
        if SCREENSHOTS:
            dialog.grab().save(os.path.join(SCREENSHOTS, "window-relink-dialog.png"))
        dialog.relink_button.click()

    log = _drive_modal_dialog(qtbot, relink)
    window.relink_action.trigger()
    assert log == ["acted"]

    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.session.source_check is not None, timeout=15_000)
    assert window.session.project is not None and window.session.project.dataset_root == str(new_place)
    assert window.session.items.root == str(new_place)
    assert window.session.source_check.ok
    # 11 source items again; the one truncated file the scan skipped is the only problem left
    assert window.session.items.rowCount() == 11
    assert [p.path for p in window.session.problems.problems()] == ["cat/cat_truncated.png"]
    assert window.message_bar.level == "info"
    assert window.message_bar.message == f"Relinked to {new_place}: 11 of 11 source files match, 0 missing, 0 changed."
    qtbot.waitUntil(window.is_settled, timeout=20_000)
    if SCREENSHOTS:
        window.grab().save(os.path.join(SCREENSHOTS, "window-after-relink.png"))


def test_closing_the_dialog_without_relinking_changes_nothing(qtbot, make_window, image_folder: Path,
                                                              tmp_path: Path) -> None:
    project_dir, new_place = _moved_project(tmp_path, image_folder)
    window: MainWindow = make_window()
    window.open_path(str(project_dir))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.session.source_check is not None, timeout=15_000)
    project = window.session.project
    log = _drive_modal_dialog(qtbot, lambda dialog: dialog.cancel_button.click())  # "Close"
    window.relink_dataset(str(new_place))
    assert log == ["acted"]
    assert window.session.project is project  # not opened again
    assert project.dataset_root == str(image_folder)
    assert window.message_bar.level == "warning"  # the missing-files warning stays


def test_relink_needs_a_project(qtbot, make_window, image_folder: Path, monkeypatch) -> None:
    import genaug_desktop.gui.relink_dialog as relink_dialog

    asked: list[object] = []
    monkeypatch.setattr(relink_dialog, "choose_new_place", lambda *args: asked.append(args))
    window: MainWindow = make_window()
    window.open_path(str(image_folder))  # a dataset, not a project
    wait_loaded(qtbot, window)
    assert not window.relink_action.isEnabled()
    window.relink_dataset()  # (a shortcut or script could still call it)
    assert asked == []
    assert window.message_bar.level == "info" and "open its NAME.genaug folder" in window.message_bar.message
    qtbot.waitUntil(window.is_settled, timeout=20_000)


def test_the_file_chooser_cancelled_opens_no_dialog(qtbot, make_window, image_folder: Path, tmp_path: Path,
                                                    monkeypatch) -> None:
    import genaug_desktop.gui.relink_dialog as relink_dialog

    project_dir, _new_place = _moved_project(tmp_path, image_folder)
    asked: list[str] = []

    def chooser(project, parent) -> None:
        asked.append(project.dataset_root)
        return None  # the person pressed Cancel

    monkeypatch.setattr(relink_dialog, "choose_new_place", chooser)
    window: MainWindow = make_window()
    window.open_path(str(project_dir))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.session.source_check is not None, timeout=15_000)
    window.relink_action.trigger()
    assert asked == [str(image_folder)]
    assert window.findChild(RelinkDialog) is None
