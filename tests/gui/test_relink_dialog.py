"""The Relink Dataset dialog on real projects whose dataset was moved: a dry run first (nothing stored),
then Relink stores the new place; refusals say why; Cancel stops a check and stores nothing."""

from __future__ import annotations

import importlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from genaug_desktop.core.datasets.model import ScanOptions
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store.project import Project, init_project_job
from genaug_desktop.gui.relink_dialog import RelinkDialog, mismatch_lines
from gui_helpers import write_png

SCREENSHOTS = os.environ.get("GENAUG_TEST_SCREENSHOTS")  # a folder: save what the tests show there


@pytest.fixture
def moved_images(tmp_path: Path, image_folder: Path) -> Iterator[tuple[Project, Path, Path]]:
    """A project of the image folder, whose folder then moved: (project, old place, new place)."""
    project = run_job(init_project_job(str(tmp_path / "pets.genaug"), str(image_folder)))
    new_place = tmp_path / "moved" / "pets"
    new_place.parent.mkdir()
    shutil.move(str(image_folder), str(new_place))
    try:
        yield project, image_folder, new_place
    finally:
        project.close()


def _dialog(qtbot, project: Project, path: str | None = None) -> RelinkDialog:
    dialog = RelinkDialog(project, path=path)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _wait_idle(qtbot, dialog: RelinkDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=15_000)


def test_the_check_is_a_dry_run_and_relink_stores_the_new_place(qtbot, moved_images) -> None:
    project, old, new = moved_images
    dialog = _dialog(qtbot, project, str(new))
    assert dialog.is_running() and not dialog.relink_button.isEnabled()
    assert dialog.cancel_button.text() == "Cancel"
    _wait_idle(qtbot, dialog)
    report = dialog.report
    assert report is not None and len(report.matched) == report.checked == 11 and not report.applied
    assert dialog.summary_label.text() == "11 of 11 source files match, 0 missing, 0 changed."
    assert not dialog.mismatch_list.isVisibleTo(dialog)
    assert dialog.relink_button.isEnabled() and dialog.cancel_button.text() == "Close"
    assert project.dataset_root == str(old)  # the check stored nothing
    assert Project.open(project.path).dataset_root == str(old)
    if SCREENSHOTS:
        dialog.grab().save(os.path.join(SCREENSHOTS, "relink-dialog-all-match.png"))

    with qtbot.waitSignal(dialog.relinked, timeout=15_000) as signal:
        dialog.relink_button.click()
    stored = signal.args[0]
    assert stored.applied and len(stored.matched) == 11
    assert dialog.result() == RelinkDialog.DialogCode.Accepted and dialog.result_report is stored
    again = Project.open(project.path)  # on disk, not just in this connection
    try:
        assert again.dataset_root == str(new)
        assert again.check_sources().ok
    finally:
        again.close()


def test_missing_and_changed_files_are_listed_before_relinking(qtbot, moved_images) -> None:
    project, _old, new = moved_images
    os.remove(new / "cat" / "cat_03.png")
    with open(new / "dog" / "dog_01.png", "ab") as fh:
        fh.write(b"edited")
    dialog = _dialog(qtbot, project, str(new))
    _wait_idle(qtbot, dialog)
    assert dialog.summary_label.text() == "9 of 11 source files match, 1 missing, 1 changed."
    assert "2 files listed below stay unusable" in dialog.detail_label.text()
    listed = [dialog.mismatch_list.item(i).text() for i in range(dialog.mismatch_list.count())]
    assert listed == ["missing   cat/cat_03.png", "changed   dog/dog_01.png"]
    assert dialog.mismatch_list.isVisibleTo(dialog) and dialog.relink_button.isEnabled()
    if SCREENSHOTS:
        dialog.grab().save(os.path.join(SCREENSHOTS, "relink-dialog-partial.png"))
    with qtbot.waitSignal(dialog.relinked, timeout=15_000):
        dialog.start_relink()
    assert project.dataset_root == str(new)


def test_a_place_where_nothing_matches_is_refused_and_says_why(qtbot, moved_images, tmp_path: Path) -> None:
    project, old, _new = moved_images
    other = tmp_path / "other"
    write_png(other / "cat" / "cat_00.png", (1, 2, 3))  # the same name, not the same content
    dialog = _dialog(qtbot, project, str(other))
    _wait_idle(qtbot, dialog)
    assert dialog.summary_label.text() == "Refused: this place cannot be used."
    why = dialog.detail_label.text()
    assert "none of the project's 11 source files is there" in why
    assert "nothing was changed" in why and "Traceback" not in why
    assert dialog.report is None and not dialog.relink_button.isEnabled()
    assert dialog.status_label.text() == "Choose another place."
    if SCREENSHOTS:
        dialog.grab().save(os.path.join(SCREENSHOTS, "relink-dialog-refused.png"))
    dialog.start_check(str(tmp_path / "nowhere"))
    _wait_idle(qtbot, dialog)
    assert "no such file or folder" in dialog.detail_label.text()
    assert project.dataset_root == str(old)


def test_an_empty_path_is_refused_in_place(qtbot, moved_images) -> None:
    project, _old, _new = moved_images
    dialog = _dialog(qtbot, project)
    assert not dialog.start_check("   ")
    assert "Choose where the dataset is now" in dialog.status_label.text()
    assert not dialog.is_running() and not dialog.relink_button.isEnabled()


def test_editing_the_place_after_a_check_needs_a_new_check(qtbot, moved_images, tmp_path: Path) -> None:
    project, _old, new = moved_images
    dialog = _dialog(qtbot, project, str(new))
    _wait_idle(qtbot, dialog)
    assert dialog.relink_button.isEnabled()
    qtbot.keyClicks(dialog.path_edit, "/elsewhere")
    assert not dialog.relink_button.isEnabled()  # the report is for the place it checked
    assert not dialog.start_relink() and not dialog.is_running()
    assert project.dataset_root != str(new)
    dialog.start_check(dialog.path_edit.text())  # checked again: refused, and Relink stays off
    _wait_idle(qtbot, dialog)
    assert "no such file or folder" in dialog.detail_label.text() and not dialog.relink_button.isEnabled()


def test_the_dialog_runs_alone_and_says_how(capsys) -> None:
    from genaug_desktop.gui.relink_dialog import main

    assert main([]) == 2
    assert "usage: python -m genaug_desktop.gui.relink_dialog PROJECT.genaug" in capsys.readouterr().err


def test_the_place_the_project_already_uses_has_nothing_to_relink(qtbot, tmp_path: Path, image_folder: Path) -> None:
    project = run_job(init_project_job(str(tmp_path / "pets.genaug"), str(image_folder)))
    try:
        dialog = _dialog(qtbot, project, str(image_folder))
        _wait_idle(qtbot, dialog)
        assert "already points at this place" in dialog.detail_label.text()
        assert not dialog.relink_button.isEnabled() and not dialog.start_relink()
    finally:
        project.close()


@pytest.mark.parametrize("dry_run", [True, False])
def test_cancel_stops_the_check_and_stores_nothing(qtbot, moved_images, monkeypatch, dry_run: bool) -> None:
    relink = importlib.import_module("genaug_desktop.core.store.relink")  # (the package exports a function of that name)

    project, old, new = moved_images
    real = relink._file_sha256

    def slow(path: str) -> str | None:
        time.sleep(0.15)
        return real(path)

    dialog = _dialog(qtbot, project)
    if not dry_run:
        dialog.start_check(str(new))
        _wait_idle(qtbot, dialog)
        assert dialog.relink_button.isEnabled()
    monkeypatch.setattr(relink, "_file_sha256", slow)
    if dry_run:
        dialog.start_check(str(new))
    else:
        dialog.relink_button.click()
    qtbot.waitUntil(lambda: dialog.progress_bar.maximum() == 11, timeout=10_000)  # it is checking files
    dialog.cancel_button.click()
    _wait_idle(qtbot, dialog)
    assert dialog.status_label.text() == "Cancelled: nothing was changed."
    assert dialog.isVisible() and dialog.result_report is None
    assert project.dataset_root == str(old)
    assert dialog.relink_button.isEnabled() is (not dry_run)  # the dry run's report still stands


def test_a_moved_csv_is_relinked_by_its_file_and_a_renamed_one_is_refused(qtbot, tmp_path: Path,
                                                                        csv_file: Path) -> None:
    options = ScanOptions(text_column="text", label_column="label")
    project = run_job(init_project_job(str(tmp_path / "reviews.genaug"), str(csv_file), options))
    try:
        (tmp_path / "new").mkdir()
        renamed = tmp_path / "new" / "reviews-2.csv"
        shutil.move(str(csv_file), str(renamed))
        dialog = _dialog(qtbot, project, str(renamed))
        _wait_idle(qtbot, dialog)
        assert "rename the moved file back to that name" in dialog.detail_label.text()
        assert not dialog.relink_button.isEnabled()
        moved = renamed.rename(tmp_path / "new" / "reviews.csv")
        dialog.start_check(str(moved))
        _wait_idle(qtbot, dialog)
        assert dialog.summary_label.text() == "1 of 1 source files match, 0 missing, 0 changed."
        with qtbot.waitSignal(dialog.relinked, timeout=15_000):
            dialog.start_relink()
        assert project.dataset_path == str(moved)
    finally:
        project.close()


def test_the_mismatch_list_is_capped_and_says_how_many_more() -> None:
    from genaug_desktop.core.store.relink import RelinkReport

    report = RelinkReport("/x", None, matched=["a"], missing=[f"m{i}" for i in range(4)], changed=["c"])
    assert mismatch_lines(report, limit=3) == ["missing   m0", "missing   m1", "missing   m2", "… and 2 more"]
    assert mismatch_lines(report)[-1] == "changed   c"


def test_the_chooser_asks_for_a_folder_or_the_file_starting_near_the_old_place(moved_images, tmp_path: Path,
                                                                                csv_file: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QFileDialog

    from genaug_desktop.gui.relink_dialog import choose_new_place

    project, old, new = moved_images
    asked: list[tuple[str, ...]] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda parent, title, start: asked.append(("folder", title, start)) or str(new))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda parent, title, start, filt: asked.append(("file", title, start, filt)) or ("", ""))
    assert choose_new_place(project) == str(new)
    assert asked == [("folder", "Where is the dataset of pets now?", str(old.parent))]  # the old folder is gone
    text = run_job(init_project_job(str(tmp_path / "reviews.genaug"), str(csv_file)))
    try:
        assert choose_new_place(text) is None  # the person cancelled
    finally:
        text.close()
    assert asked[1] == ("file", "Where is reviews.csv now?", str(csv_file.parent),
                        "The project's dataset (reviews.csv);;All files (*)")
