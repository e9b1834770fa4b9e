"""A problem of the dataset clicked in the browser shows in the details panel: its path, reason, line
and size, and the file itself when it can be shown (the image, or the text around the bad line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from genaug_desktop.core.datasets.model import Problem
from genaug_desktop.core.jobs import CancelToken
from genaug_desktop.gui.dataset_browser import DatasetBrowser
from genaug_desktop.gui.details import DetailsPanel, inspect_problem_file
from genaug_desktop.gui.session import DatasetSession
from genaug_desktop.gui.thumbnails import ThumbnailCache
from gui_helpers import write_png


@pytest.fixture
def session(qapp):
    s = DatasetSession(ThumbnailCache(workers=1))
    yield s
    s.shutdown()


# ---- what can be shown of a file (no Qt) ---------------------------------------------------------------------
def test_text_file_shows_the_lines_around_the_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("".join(f"row {n}\n" for n in range(1, 41)), encoding="utf-8")
    found = inspect_problem_file(str(path), 20, CancelToken())
    assert found.size == path.stat().st_size and found.image is None
    lines = found.text.splitlines()
    assert lines[0].split() == ["14", "row", "14"] and lines[-1].split() == ["26", "row", "26"]
    assert [line for line in lines if line.startswith("›")] == ["› 20  row 20"]
    whole = inspect_problem_file(str(path), None, CancelToken())
    assert whole.text.startswith("row 1\nrow 2\n")


def test_files_that_cannot_be_shown_say_why(tmp_path: Path) -> None:
    good = write_png(tmp_path / "good.png", (10, 20, 30))
    truncated = tmp_path / "broken.png"
    truncated.write_bytes(good.read_bytes()[:40])
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 8)
    shown = inspect_problem_file(str(good), None, CancelToken())
    assert shown.image is not None and shown.image[:2] == (48, 40)
    broken = inspect_problem_file(str(truncated), None, CancelToken())
    assert broken.image is None and broken.text is None and broken.note.startswith("The file cannot be shown: ")
    assert broken.size == 40
    assert inspect_problem_file(str(tmp_path / "empty.jpg"), None, CancelToken()).note.startswith("The file is empty")
    assert inspect_problem_file(str(tmp_path / "blob.bin"), None, CancelToken()).note.startswith("The file cannot be shown: ")
    gone = inspect_problem_file(str(tmp_path / "gone.png"), None, CancelToken())
    assert gone.size is None and gone.note.startswith("The file cannot be read: No such file")


# ---- the panel ---------------------------------------------------------------------------------------------
def test_details_panel_shows_a_problem_with_its_file(qtbot, tmp_path: Path) -> None:
    notes = tmp_path / "triangle" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("these are my notes\nabout the triangles\n", encoding="utf-8")
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.resize(380, 700)
    panel.show()
    problem = Problem("triangle/notes.txt", "text file in an image dataset; skipped")
    panel.show_problem(problem, str(notes))
    qtbot.waitUntil(lambda: not panel.is_loading(), timeout=10_000)
    assert panel.title.text() == "notes.txt" and "problem" in panel.subtitle.text()
    assert panel.values["Problem"].text() == problem.reason and panel.values["Problem"].isVisibleTo(panel)
    assert panel.values["Path"].text().replace("\u200b", "") == str(notes)
    assert panel.values["Size"].text() == "39 bytes" and panel.values["Size"].isVisibleTo(panel)
    assert not panel.values["SHA-256"].isVisibleTo(panel)
    assert panel.stack.currentWidget() is panel.text_view
    assert panel.text_view.toPlainText().startswith("these are my notes")
    # Back to an item: the problem's rows go.
    write_png(tmp_path / "a.png", (1, 2, 3))
    from genaug_desktop.core.datasets.model import Item

    panel.show_item(Item("a.png", "a.png", "image", None, "0" * 64, 10, 48, 40), str(tmp_path / "a.png"))
    qtbot.waitUntil(lambda: not panel.is_loading(), timeout=10_000)
    assert panel.problem is None and not panel.values["Problem"].isVisibleTo(panel)


def test_a_problem_with_a_line_and_one_that_cannot_show(qtbot, tmp_path: Path) -> None:
    csv = tmp_path / "reviews.csv"
    csv.write_text("text,label\ngood,pos\nbroken row,with,too many\n", encoding="utf-8")
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_problem(Problem("reviews.csv", "3 fields, expected 2", 3), str(csv))
    qtbot.waitUntil(lambda: not panel.is_loading(), timeout=10_000)
    assert panel.values["Line"].text() == "3"
    assert "› 3  broken row,with,too many" in panel.text_view.toPlainText()
    broken = tmp_path / "broken.png"
    broken.write_bytes(write_png(tmp_path / "g.png", (1, 2, 3)).read_bytes()[:30])
    panel.show_problem(Problem("broken.png", "truncated PNG (no IEND chunk)"), str(broken))
    qtbot.waitUntil(lambda: not panel.is_loading(), timeout=10_000)
    assert panel.stack.currentWidget() is panel.preview and panel.preview.image is None
    assert panel.preview.text().startswith("⚠ The file cannot be shown: ")


def test_clicking_a_problem_in_the_browser_says_which_file_once(qtbot, session: DatasetSession,
                                                                image_folder: Path) -> None:
    browser = DatasetBrowser(session)
    qtbot.addWidget(browser)
    browser.resize(300, 700)
    browser.show()
    session.open_path(str(image_folder))
    qtbot.waitUntil(lambda: session.state is not None and session.state.loaded and not session.is_busy, timeout=15_000)
    got: list[Problem] = []
    browser.problem_activated.connect(got.append)
    view = browser.problem_view
    rect = view.visualRect(session.problems.index(0))
    from PySide6.QtCore import Qt

    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert [p.path for p in got] == ["cat/cat_truncated.png"]
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(got) == 1  # the same gesture: said once
    assert browser.problem_file(got[0]) == str(image_folder / "cat" / "cat_truncated.png")
