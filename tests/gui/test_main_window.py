"""The whole window on real files: datasets, projects, welcome, drag and drop, recent files, errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store.project import init_project_job
from genaug_desktop.gui.main_window import MainWindow
from genaug_desktop.gui.models import KeyRole
from genaug_desktop.gui.settings import AppSettings
from gui_helpers import wait_loaded


def test_starts_on_the_welcome_page(make_window) -> None:
    window: MainWindow = make_window()
    assert window.stack.currentWidget() is window.welcome
    assert window.windowTitle() == "genaug-desktop"
    assert not window.close_action.isEnabled()
    assert window.welcome.recent_empty.isVisibleTo(window.welcome)


def test_open_image_folder_streams_items_and_shows_problems(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    busy_at_first_insert: list[bool] = []
    window.session.items.rowsInserted.connect(lambda *_: busy_at_first_insert.append(window.session.is_busy))
    window.open_path(str(image_folder))
    assert window.session.is_busy and window.progress_bar.isVisible()  # the scan starts at once
    # The workspace builds over the next turns of the event loop, then shows.
    qtbot.waitUntil(lambda: window.has_workspace and window.stack.currentWidget() is window.splitter, timeout=5000)
    wait_loaded(qtbot, window)
    assert busy_at_first_insert[0], "items arrive while the scan is still running"
    assert window.session.items.rowCount() == 11
    assert window.windowTitle() == "pets — genaug-desktop"
    # The truncated file is a scan problem; the corrupt one shows up once its thumbnail fails.
    # Thumbnails are decoded for what is on screen: bring the last items into view.
    window.grid.view.scrollToBottom()
    qtbot.waitUntil(lambda: window.status_text() == "11 items · 2 classes · 2 problems", timeout=20_000)
    assert window.browser.problems_label.text() == "Problems (2)"
    # The first item is shown in the details panel.
    assert window.details.item is not None and window.details.item.key == "cat/cat_00.png"
    qtbot.waitUntil(window.is_settled, timeout=20_000)
    assert not window.progress_bar.isVisible() and not window.cancel_button.isVisible()


def test_open_csv_dataset(qtbot, make_window, csv_file: Path) -> None:
    window: MainWindow = make_window()
    window.open_path(str(csv_file))
    wait_loaded(qtbot, window)
    assert window.status_text() == "7 items · 3 classes · 1 problem"
    assert window.session.state is not None and window.session.state.modality == "text"
    assert window.details.stack.currentWidget() is window.details.text_view
    window.browser.set_filter_text("battery")
    assert window.status_text() == "7 items · 1 shown · 3 classes · 1 problem"
    assert window.grid.count_label.text() == "1 of 7 items"


def test_open_project_reports_changed_and_missing_sources(qtbot, make_window, image_folder: Path, tmp_path: Path) -> None:
    project_dir = tmp_path / "pets.genaug"
    run_job(init_project_job(str(project_dir), str(image_folder))).close()
    os.remove(image_folder / "cat" / "cat_03.png")
    with open(image_folder / "dog" / "dog_01.png", "ab") as fh:
        fh.write(b"extra bytes")

    window: MainWindow = make_window()
    window.open_path(str(project_dir))
    wait_loaded(qtbot, window)
    assert window.windowTitle() == "pets (project) — genaug-desktop"
    assert window.session.project is not None
    assert window.session.items.rowCount() == 11
    assert window.session.items.root == str(image_folder)
    check = window.session.source_check
    assert check is not None and check.missing == ["cat/cat_03.png"] and check.changed == ["dog/dog_01.png"]
    assert window.message_bar.level == "warning"
    message = window.message_bar.message
    assert "missing" in message and "cat/cat_03.png" in message and "changed" in message
    reasons = {p.path: p.reason for p in window.session.problems.problems()}
    assert reasons["cat/cat_03.png"].startswith("source file is missing")
    assert reasons["dog/dog_01.png"] == "source file changed since the project was made"
    assert reasons["cat/cat_truncated.png"].startswith("truncated PNG")


def test_bad_path_shows_an_error_and_stays_on_welcome(qtbot, make_window, tmp_path: Path) -> None:
    window: MainWindow = make_window()
    window.open_path(str(tmp_path / "does-not-exist"))
    qtbot.waitUntil(lambda: window.message_bar.level == "error", timeout=10_000)
    assert "no such file or folder" in window.message_bar.message
    assert "Traceback" not in window.message_bar.message
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.welcome, timeout=5000)
    assert window.settings.recent_paths() == []


def test_empty_folder_is_an_error_the_user_sees(qtbot, make_window, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    window: MainWindow = make_window()
    window.open_path(str(tmp_path / "empty"))
    qtbot.waitUntil(lambda: window.message_bar.level == "error", timeout=10_000)
    assert "no images or text files found" in window.message_bar.message


def test_drag_and_drop_a_folder_opens_it(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image_folder))])
    enter = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(window.rect().center()), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    assert drop.isAccepted()
    wait_loaded(qtbot, window)
    assert window.session.items.rowCount() == 11


def test_drag_of_non_file_urls_is_refused(make_window) -> None:
    window: MainWindow = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.org/data.zip")])
    enter = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert not enter.isAccepted()


def test_recent_files_and_window_state_persist(qtbot, make_window, image_folder: Path, csv_file: Path) -> None:
    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    window.open_path(str(csv_file))
    wait_loaded(qtbot, window)
    window.grid.set_thumbnail_size(200)
    window.close()

    again: MainWindow = make_window()
    assert again.settings.recent_paths() == [str(csv_file), str(image_folder)]
    assert again.welcome.recent_paths() == [str(csv_file), str(image_folder)]
    assert [a.text() for a in again.recent_menu.actions()[:2]] == [str(csv_file), str(image_folder)]
    assert again.grid.thumbnail_size == 200
    assert AppSettings().byte_array("window/geometry") is not None

    again.recent_menu.actions()[1].trigger()
    wait_loaded(qtbot, again)
    assert again.session.items.rowCount() == 11


def test_close_returns_to_welcome_and_clears(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    window.close_action.trigger()
    assert window.stack.currentWidget() is window.welcome
    assert window.session.items.rowCount() == 0 and window.session.problems.rowCount() == 0
    assert window.status_text() == ""


def test_closing_leaves_no_stale_message_or_live_workspace_tools(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    tools = ("augment", "review", "filter")
    qtbot.waitUntil(lambda: all(not window._toolbar_slots[k].objectName().startswith("placeholder:") for k in tools),
                    timeout=10_000)
    assert window._toolbar_slots["review"].isEnabled()
    window.message_bar.show_message("info", "Exported 3 samples")
    window.close_action.trigger()
    assert not window.message_bar.isVisible()
    assert not any(window._toolbar_slots[k].isEnabled() for k in tools), "nothing to augment or review"
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    assert window._toolbar_slots["review"].isEnabled()


def test_window_fits_a_768_pixel_screen_with_a_dataset_open(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    assert window.curation is not None and window.generators is not None  # every dock built
    # The welcome page shares the stack with the workspace: it scrolls instead of setting a minimum.
    assert window.welcome.minimumSizeHint().height() < 200
    assert window.minimumSizeHint().height() <= 700


def test_cancel_keeps_what_was_read(qtbot, make_window, tmp_path: Path, monkeypatch) -> None:
    import time

    import genaug_desktop.core.datasets.text as text_readers

    big = tmp_path / "lines.txt"
    big.write_text("".join(f"sample number {i}\n" for i in range(400_000)), encoding="utf-8")
    # Pace the reader (about 4 s for the file), so the cancel always lands before the end,
    # however fast or busy the machine is.
    real_reader = text_readers.read_text_file

    def paced(*args, **kwargs):
        for n, entry in enumerate(real_reader(*args, **kwargs)):
            if n % 100 == 0:
                time.sleep(0.001)
            yield entry

    monkeypatch.setattr(text_readers, "read_text_file", paced)
    window: MainWindow = make_window()
    window.session.progress_changed.connect(
        lambda p: window.cancel_button.click() if window.session.items.rowCount() and window.cancel_button.isVisible() else None
    )
    window.open_path(str(big))
    qtbot.waitUntil(lambda: not window.session.is_busy, timeout=20_000)
    assert window.message_bar.level == "info"
    assert "Loading cancelled" in window.message_bar.message
    assert 0 < window.session.items.rowCount() < 400_000
    assert window.session.state is not None and window.session.state.cancelled


def test_closing_the_window_while_scanning_stops_everything(qtbot, make_window, tmp_path: Path) -> None:
    big = tmp_path / "lines.txt"
    big.write_text("".join(f"line {i}\n" for i in range(300_000)), encoding="utf-8")
    window: MainWindow = make_window()
    window.open_path(str(big))
    window.close()  # the leak check fails this test if a thread, timer or pool survives
    assert not window.session.is_busy or window.session._jobs.current.abort_requested


def test_problem_activation_selects_the_item(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    window.grid.view.scrollToBottom()  # the corrupt file becomes a problem when its thumbnail fails
    qtbot.waitUntil(lambda: window.session.problems.rowCount() == 2, timeout=20_000)
    row = next(r for r, p in enumerate(window.session.problems.problems()) if p.path == "dog/dog_corrupt.png")
    window.browser.problem_view.doubleClicked.emit(window.session.problems.index(row))
    assert window.grid.view.currentIndex().data(KeyRole) == "dog/dog_corrupt.png"


def test_open_sample_images_from_the_menu(qtbot, make_window) -> None:
    window: MainWindow = make_window()
    window.open_sample("images")
    wait_loaded(qtbot, window)
    assert window.session.items.rowCount() > 0
    assert window.session.classes.class_count() == 3


def test_view_menu_toggles_panels_and_sizes(qtbot, make_window) -> None:
    window: MainWindow = make_window()
    window.toggle_details_action.trigger()
    assert not window.details.isVisibleTo(window)
    size = window.grid.thumbnail_size
    window._step_size(+32)
    assert window.grid.thumbnail_size == min(256, size + 32)
    window.close()
    again: MainWindow = make_window()
    assert not again.toggle_details_action.isChecked()


def test_missing_sample_is_reported(qtbot, make_window, monkeypatch, tmp_path: Path) -> None:
    import genaug_desktop.gui.main_window as mw

    monkeypatch.setattr(mw, "sample_images_dir", lambda: tmp_path / "nope")
    window: MainWindow = make_window()
    window.open_sample("images")
    assert window.message_bar.level == "error" and "missing" in window.message_bar.message


def test_project_open_of_damaged_project_is_an_error(qtbot, make_window, tmp_path: Path) -> None:
    broken = tmp_path / "broken.genaug"
    broken.mkdir()
    (broken / "project.sqlite").write_bytes(b"this is not sqlite" * 100)
    window: MainWindow = make_window()
    window.open_path(str(broken))
    qtbot.waitUntil(lambda: window.message_bar.level == "error", timeout=10_000)
    assert "not a project database" in window.message_bar.message or "damaged" in window.message_bar.message
    shutil.rmtree(broken)


# ---- toolbar, status tips, high DPI ---------------------------------------------------------------

def _menu_actions(menu) -> list:
    found = []
    for action in menu.actions():
        if action.isSeparator():
            continue
        found.append(action)
        if action.menu() is not None:
            action.menu().aboutToShow.emit()  # lists made on the fly (recent, presets) fill now
            found.extend(_menu_actions(action.menu()))
    return found


def _all_menu_and_toolbar_actions(window: MainWindow) -> list:
    actions = []
    for top in window.menuBar().actions():
        if top.menu() is not None:
            top.menu().aboutToShow.emit()
            actions.extend(_menu_actions(top.menu()))
    return actions + [a for a in window.toolbar.actions() if not a.isSeparator() and a.isVisible()]


def test_toolbar_holds_the_menus_actions_with_icons(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    bar = window.toolbar

    def tools() -> list:
        return [a for a in bar.actions() if not a.isSeparator() and a.isVisible()]

    texts = [a.iconText() for a in tools()]
    assert texts == ["Open Dataset", "Open Text", "Open Project", "Augment", "Review", "Filter", "Generators",
                     "Export"]
    assert all(not a.icon().isNull() for a in tools())
    assert bar.actions()[0] is window.open_dataset_action
    # Before a dataset is open, the workspace's places hold disabled stand-ins that say why.
    augment = next(a for a in bar.actions() if a.iconText() == "Augment")
    assert not augment.isEnabled() and "open a dataset first" in augment.statusTip()

    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.augmentation is not None and window.augmentation.has_editor, timeout=20_000)
    curation, generators = window.curation, window.generators
    assert curation is not None and generators is not None
    qtbot.waitUntil(lambda: window._toolbar_slots["generators"] is generators.toggle_action, timeout=5000)
    slots = window._toolbar_slots
    assert slots["augment"] is window.augmentation.editor.augment_action
    assert slots["review"] is curation.show_review_action and slots["filter"] is curation.filter_action
    menu_actions = {id(a) for a in _all_menu_and_toolbar_actions(window)[: -len(tools())]}
    for action in tools():
        assert id(action) in menu_actions, f"{action.text()} is on the toolbar but in no menu"
    # Same places, same texts; the Evaluate panel, where there is one, joins after Generators.
    if getattr(curation, "evaluate_action", None) is not None:
        texts.insert(texts.index("Generators") + 1, "Evaluate")
        assert slots["evaluate"] is curation.evaluate_action
    assert texts == [a.iconText() for a in tools()]
    assert not [a.objectName() for a in tools() if a.objectName().startswith("placeholder:")]
    qtbot.waitUntil(window.is_settled, timeout=20_000)


def test_every_menu_and_toolbar_action_explains_itself(qtbot, make_window, image_folder: Path) -> None:
    from genaug_desktop.gui.shortcuts import collect_shortcuts, key_texts

    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.augmentation is not None and window.augmentation.has_editor, timeout=20_000)
    assert window.generators is not None
    qtbot.wait(50)  # the adoption of the workspace's actions runs on the next loop turn
    listed = {id(e.action) for e in collect_shortcuts(window)}
    actions = _all_menu_and_toolbar_actions(window)
    assert len(actions) > 40
    missing = [a.text() for a in actions if not a.statusTip()]
    assert missing == [], f"actions without a status tip: {missing}"
    unlisted = [a.text() for a in actions if key_texts(a) and id(a) not in listed]
    assert unlisted == [], f"shortcuts missing from the shortcuts dialog: {unlisted}"
    # The status tip reaches the status bar (what a menu or toolbar does when the pointer is on it).
    window.open_text_action.showStatusText(window)
    assert window.statusBar().currentMessage() == window.open_text_action.statusTip()
    qtbot.waitUntil(window.is_settled, timeout=20_000)


def test_toolbar_visibility_is_remembered(qtbot, make_window) -> None:
    window: MainWindow = make_window()
    window.toolbar.toggleViewAction().trigger()
    assert window.toolbar.isHidden()
    window.save_state()
    again = MainWindow(AppSettings())
    qtbot.addWidget(again)
    assert again.toolbar.isHidden()


def test_icons_and_thumbnails_are_sharp_at_device_pixel_ratio_2(isolated_settings: Path, image_folder: Path,
                                                                tmp_path: Path) -> None:
    import subprocess
    import sys
    import textwrap

    from PySide6.QtGui import QImage

    from gui_helpers import env_without_display

    shot = tmp_path / "hidpi.png"
    script = textwrap.dedent(f"""
        from PySide6.QtCore import QEventLoop, QSize, QTimer
        from PySide6.QtWidgets import QApplication
        from genaug_desktop.gui.main_window import MainWindow

        def main():
            app = QApplication([])
            window = MainWindow()
            window.resize(1280, 800)
            window.show()
            window.open_path({str(image_folder)!r})
            loop = QEventLoop()
            poll = QTimer(); poll.setInterval(20)
            poll.timeout.connect(lambda: loop.quit() if window.is_settled() and window.session.state.loaded else None)
            poll.start(); QTimer.singleShot(30000, loop.quit); loop.exec(); poll.stop()
            ratio = window.devicePixelRatioF()
            grid = window.grid
            image = window.grab()
            image.save({str(shot)!r})
            pixmap = window.open_dataset_action.icon().pixmap(QSize(20, 20), ratio)
            print("RATIO", ratio, image.devicePixelRatio(), grid.thumbnail_size,
                  window.session.items.thumbnail_size, pixmap.width(), pixmap.devicePixelRatio())
            window.close()

        if __name__ == "__main__":
            main()
    """)
    env = env_without_display()
    env["GENAUG_SETTINGS_DIR"] = str(isolated_settings)
    env["QT_SCALE_FACTOR"] = "2"
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    ratio, grab_ratio, size, decoded, icon_px, icon_ratio = result.stdout.split("RATIO")[-1].split()
    assert float(ratio) == 2.0 and float(grab_ratio) == 2.0
    # Thumbnails are decoded at twice the logical size, icons drawn at twice their size.
    assert int(decoded) == 2 * int(size)
    assert (int(icon_px), float(icon_ratio)) == (40, 2.0)
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (2560, 1600)


def test_toolbar_tooltips_name_the_shortcut(make_window) -> None:
    from PySide6.QtGui import QKeySequence

    window: MainWindow = make_window()
    ctrl_o = QKeySequence("Ctrl+O").toString(QKeySequence.SequenceFormat.NativeText)
    assert window.open_dataset_action.toolTip() == f"Open Dataset ({ctrl_o})"
    assert window.export_action.toolTip() == "Export (Ctrl+E)"
    assert window.open_text_action.toolTip() == "Open Text File (Ctrl+Shift+T)"


def test_user_guide_opens_in_the_browser_or_says_where_it_is(make_window, monkeypatch) -> None:
    from PySide6.QtGui import QDesktopServices

    window: MainWindow = make_window()
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()) or True)
    window.show_user_guide()
    assert opened and opened[0].endswith("docs/user-guide.md")
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    window.show_user_guide()
    message = window.message_bar.message
    assert "user guide is at" in message and message.endswith("docs/user-guide.md")


def test_the_window_names_projects_as_the_store_does(tmp_path: Path) -> None:
    """The session tells a project from a dataset without importing the store (sqlite3): its
    copies of the store's names must stay the same."""
    from genaug_desktop.core.store import project as store
    from genaug_desktop.gui import session

    assert (session.PROJECT_SUFFIX, session.PROJECT_DB) == (store.PROJECT_SUFFIX, store.DB_NAME)
    from PIL import Image

    (tmp_path / "data").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "data" / "a.png")
    made = run_job(init_project_job(str(tmp_path / "p.genaug"), str(tmp_path / "data")))
    assert session.looks_like_project(made.path) and store.is_project_dir(made.path)
    assert not session.looks_like_project(str(tmp_path))


def test_progress_reports_are_coalesced_and_the_latest_is_shown(qtbot, make_window) -> None:
    """A scan reports every batch; the status bar takes the first at once, then the latest per interval."""
    from genaug_desktop.core.jobs import Progress
    from genaug_desktop.gui.main_window import PROGRESS_INTERVAL_MS

    window: MainWindow = make_window()
    window._set_busy(True)
    repaints: list[int] = []
    original = window.progress_label.setText
    window.progress_label.setText = lambda text: (repaints.append(1), original(text))  # type: ignore[method-assign]
    window._on_progress(Progress(1, 100, "Found 1 files"))
    assert window.progress_label.text() == "Found 1 files" and window.progress_bar.value() == 1
    for n in range(2, 51):
        window._on_progress(Progress(n, 100, f"Found {n} files"))
    assert len(repaints) == 1, "reports within the interval wait for it"
    qtbot.waitUntil(lambda: window.progress_label.text() == "Found 50 files", timeout=PROGRESS_INTERVAL_MS * 20)
    assert window.progress_bar.value() == 50 and window.progress_bar.maximum() == 100
    assert len(repaints) == 2, "the 49 reports in between were shown once, as the latest"
    window._on_progress(Progress(0, 0, "Working"))  # an open-ended report: a busy bar
    qtbot.waitUntil(lambda: window.progress_bar.maximum() == 0, timeout=PROGRESS_INTERVAL_MS * 20)
    window._set_busy(False)
    assert not window._progress_timer.isActive() and window.progress_label.text() == ""
