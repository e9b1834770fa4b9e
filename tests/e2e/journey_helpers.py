"""Driving the real main window as a person would, shared by the full-journey tests.

Everything goes through widgets: buttons are clicked, keys pressed, text typed, and modal dialogs
(the project question, the save dialog, the Augment and Export dialogs) are answered through their
own widgets while they run their event loop (:func:`answer_modal`). Waits are on conditions and
signals with time limits, never fixed sleeps. :class:`Stages` saves a screenshot of each stage.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QDialog,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QTabWidget,
    QWidget,
)

import genaug_desktop.gui  # noqa: F401  (the PySide6 compatibility fix, before any Qt call)

#: Each wait's limit (ms): generous for a shared 2-core machine; a journey takes far less in all.
WAIT_MS = 30_000


# ---- fixtures ---------------------------------------------------------------------------------------------
def _gui_test_setup() -> Any:
    """tests/gui/conftest.py, loaded under a name of its own: the journeys use the GUI tests' own
    isolated settings and leftover check (a job thread, an active timer or a thumbnail pool left
    running fails the test) rather than copies of them."""
    folder = Path(__file__).resolve().parents[1] / "gui"
    if str(folder) not in sys.path:
        sys.path.append(str(folder))  # its gui_helpers import
    name = "genaug_gui_test_setup"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, folder / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


#: autouse fixtures for the journey modules (import them there): own settings, no leftovers
isolated_settings = _gui_test_setup().isolated_settings
no_leftovers = _gui_test_setup().no_leftovers


@pytest.fixture
def journey_window(qtbot: Any) -> Iterator[Any]:
    """The real main window at its default size, shown and active; closed at the end as a person
    closes it. The test fails if a widget flashed up as a window of its own meanwhile."""
    from genaug_desktop.gui.main_window import MainWindow
    from genaug_desktop.gui.settings import AppSettings

    # With --headed a platform file dialog would not be a QFileDialog the journey can type into.
    app = QApplication.instance()
    native_before = app.testAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs)
    app.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, True)
    window = MainWindow(AppSettings())
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    activate(qtbot, window)
    strays = StrayWindows(window)
    yield window
    stray = strays.stop()
    window.close()  # closeEvent saves the state and stops every job
    window.deleteLater()
    app.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, native_before)
    assert not stray, f"widgets flashed up as windows of their own: {stray}"


def activate(qtbot: Any, window: QWidget) -> None:
    """Make *window* the active one, as a window manager does when it opens or a dialog closes
    (the offscreen platform has none): keys and clicks then move the focus as they would."""
    window.activateWindow()
    wait_until(qtbot, window.isActiveWindow, "the window to become active", timeout=5000)


# ---- files ------------------------------------------------------------------------------------------------
def tree_hashes(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under *root* (a folder, or one file): relative path -> (sha256, size)."""
    root = Path(root)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    out = {}
    for path in files:
        data = path.read_bytes()
        rel = path.name if path == root else path.relative_to(root).as_posix()
        out[rel] = (hashlib.sha256(data).hexdigest(), len(data))
    return out


def check_export_against_manifest(dest: Path) -> dict[str, Any]:
    """The export folder holds exactly the manifest's files (plus manifest.json), each with the
    recorded SHA-256 and size, every path inside the folder; returns the manifest."""
    dest = Path(dest).resolve()
    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    listed: dict[str, dict[str, Any]] = manifest["files"]
    assert listed, "the manifest lists no files"
    for rel in listed:
        assert not os.path.isabs(rel) and ".." not in Path(rel).parts, f"manifest path leaves the folder: {rel}"
        assert (dest / rel).resolve().is_relative_to(dest), rel
    on_disk = tree_hashes(dest)
    on_disk.pop("manifest.json")
    assert set(on_disk) == set(listed), (
        f"on disk, not listed: {sorted(set(on_disk) - set(listed))}; listed, missing: {sorted(set(listed) - set(on_disk))}")
    for rel, entry in listed.items():
        assert on_disk[rel] == (entry["sha256"], entry["size"]), f"{rel}: checksum or size differs from the manifest"
    for path in dest.rglob("*"):
        assert not path.is_symlink(), f"a link in the export: {path}"
    return manifest


# ---- waiting and input ------------------------------------------------------------------------------------
def wait_until(qtbot: Any, condition: Callable[[], Any], what: str, timeout: int = WAIT_MS) -> None:
    """qtbot.waitUntil with a sentence saying what did not happen."""
    try:
        qtbot.waitUntil(lambda: bool(condition()), timeout=timeout)
    except Exception as exc:  # pytest-qt's TimeoutError: say which stage hung
        raise AssertionError(f"timed out after {timeout} ms waiting for: {what}") from exc


def click(qtbot: Any, button: QAbstractButton) -> None:
    assert button.isVisible(), f"the button {button.text()!r} is not visible"
    assert button.isEnabled(), f"the button {button.text()!r} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_into(qtbot: Any, edit: QLineEdit | QWidget, text: str) -> None:
    """Select what the field holds and type *text* over it (as a person would)."""
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def set_spin(qtbot: Any, spin: Any, value: int | float) -> None:
    """Type *value* into a spin box and press Tab (Enter would also press a dialog's default button)."""
    editor = spin.lineEdit()
    type_into(qtbot, editor, str(value))
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert spin.value() == value, f"the spin box shows {spin.value()}, not {value}"


def click_index(qtbot: Any, view: QAbstractItemView, index: QModelIndex, double: bool = False) -> None:
    """Click (or double-click) the row *index* of *view*, scrolled into view first."""
    view.scrollTo(index)
    rect = view.visualRect(index)
    assert rect.isValid() and not rect.isEmpty(), "the row is not on screen"
    point: QPoint = rect.center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    if double:  # what a double-click sends: press, release, then a double-click event
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def find_row(model: Any, predicate: Callable[[QModelIndex], bool], parent: QModelIndex | None = None) -> QModelIndex:
    """The first index (depth first) of *model* that satisfies *predicate*, or an invalid one."""
    parent = parent if parent is not None else QModelIndex()
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        if predicate(index):
            return index
        found = find_row(model, predicate, index)
        if found.isValid():
            return found
    return QModelIndex()


def show_tab(qtbot: Any, tabs: QTabWidget, page: QWidget) -> None:
    """Click the tab of *page* in its tab bar."""
    bar = tabs.tabBar()
    index = tabs.indexOf(page)
    assert index >= 0, "no such tab"
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert tabs.currentWidget() is page


# ---- modal dialogs ----------------------------------------------------------------------------------------
class ModalAnswer:
    """Waits (on a timer, inside the modal's own event loop) for a visible modal of *kind* and
    calls *act(dialog)* once; ``seen`` holds what was found, ``error`` what *act* raised."""

    def __init__(self, kind: type[QWidget], act: Callable[[Any], None], timeout_ms: int = WAIT_MS) -> None:
        self.kind = kind
        self.act = act
        self.seen: QWidget | None = None
        self.error: BaseException | None = None
        self._deadline = time.monotonic() + timeout_ms / 1000
        self.timer = QTimer()
        self.timer.setObjectName(f"answer-{kind.__name__}")
        self.timer.setInterval(25)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, self.kind) and modal.isVisible():
            self.timer.stop()
            self.seen = modal
            try:
                self.act(modal)
            except BaseException as exc:  # noqa: BLE001  (reported by answer_modal, after the loop ends)
                self.error = exc
                modal.close()
        elif time.monotonic() > self._deadline:
            self.timer.stop()
            self.error = AssertionError(f"no {self.kind.__name__} appeared")

    def stop(self) -> None:
        self.timer.stop()


@contextmanager
def answer_modal(kind: type[QWidget], act: Callable[[Any], None], timeout_ms: int = WAIT_MS) -> Iterator[ModalAnswer]:
    """Inside the block something opens a modal *kind*; *act* answers it through its widgets.
    Fails when no such dialog appeared or *act* failed."""
    answer = ModalAnswer(kind, act, timeout_ms)
    try:
        yield answer
    finally:
        answer.stop()
    if answer.error is not None:
        raise answer.error
    assert answer.seen is not None, f"no {kind.__name__} appeared"


def message_box_button(box: QMessageBox, which: QMessageBox.StandardButton) -> QAbstractButton:
    button = box.button(which)
    assert button is not None, f"the message box {box.text()!r} has no {which} button"
    return button


def type_file_name(qtbot: Any, dialog: QFileDialog, path: str) -> None:
    """Type a full path into a (Qt, not native) file dialog's name field and press Enter."""
    edit = dialog.findChild(QLineEdit, "fileNameEdit")
    assert edit is not None, "the file dialog has no file name field"
    type_into(qtbot, edit, path)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


# ---- windows that should not be there --------------------------------------------------------------------
class StrayWindows(QObject):
    """Records every widget that shows as a window of its own but is neither the main window, a
    dialog, a menu nor a tooltip: e.g. a label shown before it was given a parent, which flashes
    on screen and takes the focus from the main window."""

    def __init__(self, main: QWidget) -> None:
        super().__init__()
        self.main = main
        self.seen: list[str] = []
        QApplication.instance().installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and isinstance(obj, QWidget) and obj.isWindow() and obj is not self.main:
            kind = obj.windowType()
            if not isinstance(obj, QDialog) and kind not in (Qt.WindowType.Popup, Qt.WindowType.ToolTip):
                text = obj.text() if hasattr(obj, "text") else ""
                where = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in traceback.extract_stack()
                         if "/genaug_desktop/" in f.filename][-2:]
                self.seen.append(f"{type(obj).__name__} {text!r} shown at {' < '.join(reversed(where))}")
        return False

    def stop(self) -> list[str]:
        QApplication.instance().removeEventFilter(self)
        return self.seen


# ---- screenshots ------------------------------------------------------------------------------------------
class Stages:
    """Numbered screenshots of the window (and of a dialog, when one is up) in *folder*."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.saved: list[Path] = []

    def shot(self, widget: QWidget, name: str) -> Path:
        for _ in range(3):  # pending layouts (a label's new text) settle before the picture
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            QApplication.processEvents()
        path = self.folder / f"{len(self.saved) + 1:02d}-{name}.png"
        image = widget.grab()
        assert not image.isNull() and image.width() > 0, f"empty screenshot of {name}"
        assert image.save(str(path)), f"cannot save {path}"
        self.saved.append(path)
        return path


def top_dialog() -> QDialog | None:
    modal = QApplication.activeModalWidget()
    return modal if isinstance(modal, QDialog) else None


# ---- the journey's steps, as a person does them -------------------------------------------------------------
def open_sample_from_welcome(qtbot: Any, window: Any, kind: str) -> None:
    """Click "Open Sample Images/Texts" on the welcome page and wait until it has loaded."""
    assert window.stack.currentWidget() is window.welcome
    button = window.welcome.sample_images_button if kind == "images" else window.welcome.sample_texts_button
    click(qtbot, button)
    session = window.session
    wait_until(qtbot, lambda: session.state is not None and session.state.loaded and not session.is_busy,
               f"the sample {kind} to load")
    assert window.stack.currentWidget() is window.splitter
    assert session.items.rowCount() > 0


def wait_for_editor(qtbot: Any, window: Any) -> Any:
    """The policy editor, once it is made (in the background after the dataset loads) and shown."""
    workspace = window.augmentation
    wait_until(qtbot, lambda: workspace.has_editor, "the policy editor to be made")
    editor = workspace.editor
    assert workspace.dock.isVisible(), "the policy editor dock is hidden"
    assert editor.isVisible()
    return editor


def new_policy(qtbot: Any, editor: Any) -> None:
    """Press the editor toolbar's New Policy button: an empty policy to build on."""
    from PySide6.QtWidgets import QToolButton

    buttons = [b for b in editor.toolbar.findChildren(QToolButton) if b.defaultAction() is editor.new_action]
    assert len(buttons) == 1, "no New Policy button in the editor's toolbar"
    click(qtbot, buttons[0])
    wait_until(qtbot, lambda: not editor.document["steps"], "an empty policy")


def add_op_from_palette(qtbot: Any, editor: Any, search: str, op: str) -> Any:
    """Search the palette, double-click *op*; returns the parameter form of the added step."""
    from genaug_desktop.gui.policy_steps import OpNameRole

    before = len(editor.document["steps"])
    type_into(qtbot, editor.search_edit, search)
    view = editor.palette_view
    index = find_row(view.model(), lambda i: i.data(OpNameRole) == op)
    assert index.isValid(), f"the palette does not list {op} for {search!r}"
    click_index(qtbot, view, index, double=True)
    wait_until(qtbot, lambda: len(editor.document["steps"]) == before + 1, f"{op} to be added")
    assert editor.document["steps"][-1]["op"] == op
    wait_until(qtbot, lambda: editor.param_form is not None, f"the settings of {op}")
    type_into(qtbot, editor.search_edit, "")
    return editor.param_form


def augment_from_editor(qtbot: Any, window: Any, project: Path, per_item: int, stages: Stages) -> int:
    """Press the editor's Augment… button: answer "Create a project?" with Yes, type the project's
    path into the save dialog, set the variants per item in the Augment dialog and press Augment;
    wait for the job. Returns how many candidates the job made."""
    editor = window.augmentation.editor
    controller = window.augmentation.controller

    def create(box: QMessageBox) -> None:
        stages.shot(box, "create-project-question")
        click(qtbot, message_box_button(box, QMessageBox.StandardButton.Yes))

    def save_as(dialog: QFileDialog) -> None:
        from genaug_desktop.gui.resources import resource_dir

        # The bundled samples live in the app's own folder: the project is suggested elsewhere.
        suggested = Path(dialog.directory().absolutePath())
        assert not suggested.resolve().is_relative_to(resource_dir().resolve()), suggested
        stages.shot(dialog, "project-save-dialog")
        type_file_name(qtbot, dialog, str(project))

    def options(dialog: Any) -> None:
        set_spin(qtbot, dialog.per_item_spin, per_item)
        wait_until(qtbot, lambda: dialog.estimate() > 0, "an estimate in the Augment dialog")
        stages.shot(dialog, "augment-dialog")
        click(qtbot, dialog.buttons.button(dialog.buttons.StandardButton.Ok))

    from genaug_desktop.gui.augment_dialog import AugmentDialog

    # While the job reported: (progress shown, Cancel shown, the report's text). The status bar shows
    # the reports at most every PROGRESS_INTERVAL_MS, so the label may lag the report; the text is
    # taken from the report itself.
    seen: list[tuple[bool, bool, str]] = []
    controller.progress_changed.connect(lambda progress: seen.append(
        (window.progress_bar.isVisible(), window.cancel_button.isVisible(), progress.message)))
    with answer_modal(QMessageBox, create), answer_modal(QFileDialog, save_as), answer_modal(AugmentDialog, options):
        click(qtbot, editor.augment_button)
        wait_until(qtbot, lambda: window.session.project is not None and controller.is_busy or
                   controller.last_result is not None, "the augmentation to start")
    activate(qtbot, window)
    wait_until(qtbot, lambda: not controller.is_busy and controller.last_result is not None,
               "the augmentation to finish", timeout=120_000)
    augmenting = [s for s in seen if "of" in s[2]]  # the job's own reports ("… 12 of 102 …")
    assert augmenting and all(bar and cancel for bar, cancel, _text in augmenting), seen
    assert not window.progress_bar.isVisible() and not window.cancel_button.isVisible(), "progress left on screen"
    assert window.message_bar.message.startswith("Augmentation:"), window.message_bar.message
    assert project.is_dir() and (project / "project.sqlite").is_file()
    assert window.session.project is not None and Path(window.session.project.path) == project
    result = controller.last_result
    assert not result.failures, result.summary()
    assert result.created == len(result.candidate_ids)
    return result.created


def dock_tab(window: Any, title: str) -> tuple[Any, int]:
    """The tab bar and index of the tabbed dock titled *title* (the docks at the bottom)."""
    from PySide6.QtWidgets import QTabBar

    for bar in window.findChildren(QTabBar):
        if bar.parent() is window:  # the main window's dock tab bars, not a panel's own tabs
            for i in range(bar.count()):
                if bar.tabText(i) == title and bar.isVisible():
                    return bar, i
    raise AssertionError(f"no dock tab titled {title!r}")


def approve_a_rule_and_filter(qtbot: Any, window: Any, stages: Stages) -> Any:
    """Open the Rules dock's tab, press Propose Rules, select the proposal whose dry run rejects
    the most, press Approve, then Run Filter Now and wait for it. Returns the approved rule."""
    rules = window.curation.rules
    bar, index = dock_tab(window, "Rules")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    wait_until(qtbot, rules.isVisible, "the Rules panel to show")
    stages.shot(window, "rules-empty")
    click(qtbot, rules.propose_button)
    wait_until(qtbot, lambda: rules.model.rowCount() > 0, "proposed rules")
    wait_until(qtbot, rules.is_settled, "the dry runs of the proposals")
    counts = {rules.model.rule(r).id: rules.model.would.get(rules.model.rule(r).id) or 0
              for r in range(rules.model.rowCount())}
    best = max(range(rules.model.rowCount()), key=lambda r: counts[rules.model.rule(r).id])
    click_index(qtbot, rules.table, rules.model.index(best, 1))
    rule = rules.current_rule()
    assert rule is not None and rule.state == "proposed"
    wait_until(qtbot, lambda: rules.outcome_for(rule) is not None, f"the dry run of {rule.id}")
    assert "Dry run" in rules.dry_label.text()
    stages.shot(window, "rules-proposed")
    click(qtbot, rules.approve_button)
    wait_until(qtbot, lambda: rules.current_rule() is not None and rules.current_rule().state == "approved",
               f"{rule.id} to be approved")
    assert "approved" in window.message_bar.message
    filtered: list[Any] = []
    rules.filtered.connect(filtered.append)
    shown: list[tuple[bool, bool, str]] = []  # the panel's progress, its Cancel, the status bar
    rules.progress_changed.connect(lambda _p: shown.append(
        (rules.progress.isVisible(), rules.cancel_button.isVisible(), window.statusBar().currentMessage())))
    click(qtbot, rules.filter_button)
    wait_until(qtbot, lambda: filtered and rules.is_settled() and window.curation.review.is_settled(),
               "the filter to finish", timeout=120_000)
    result = filtered[-1]
    assert result is not None, "the filter was cancelled"
    assert shown and all(bar and cancel and text.startswith("Filter:") for bar, cancel, text in shown), shown
    assert not rules.progress.isVisible() and not rules.cancel_button.isVisible(), "the filter's progress stayed"
    assert "Filter:" in window.message_bar.message
    stages.shot(window, "rules-filtered")
    return rules.current_rule()


def review_with_keyboard(qtbot: Any, window: Any, stages: Stages) -> dict[int, str]:
    """Click the Review tab, show the pending candidates, click the first card and decide with the
    documented keys: A accept, R reject, Space skip, Ctrl+Z undo, Shift+Space back (and change a
    decision). Returns {id: decision} of what a person decided, read from the cards as the keys
    were pressed."""
    review = window.curation.review
    show_tab(qtbot, window.augmentation.grid_tabs, review)
    # The details panel describes the Items tab's item: it gives the review its room meanwhile.
    assert not window.details.isVisible()
    wait_until(qtbot, review.is_settled, "the review grid to load")
    assert "A accept" in review.keys_label.text() and "R reject" in review.keys_label.text()
    combo = review.status_combo
    pending_at = combo.findData("pending")
    assert pending_at >= 0, "the status filter has no Pending entry"
    combo.setFocus()
    for _ in range(combo.count()):  # the arrow keys step through a focused combo box's entries
        if combo.currentIndex() == pending_at:
            break
        qtbot.keyClick(combo, Qt.Key.Key_Down if combo.currentIndex() < pending_at else Qt.Key.Key_Up)
    assert combo.currentData() == "pending", combo.currentText()
    wait_until(qtbot, lambda: review.model.rowCount() > 0, "pending candidates in the review grid")
    stages.shot(window, "review-pending")
    view = review.view
    click_index(qtbot, view, review.model.index(0, 0))
    assert QApplication.focusWidget() is view, (
        f"the review grid does not have the focus after a click: {QApplication.focusWidget()} in {QApplication.activeWindow()}")

    decided: dict[int, str] = {}
    keys = [("A", "accepted"), ("A", "accepted"), ("R", "rejected"), ("Space", None), ("A", "accepted"),
            ("R", "rejected"), ("A", "accepted"), ("undo", None), ("R", "rejected"), ("Shift+Space", None),
            ("A", "accepted")]
    last: int | None = None
    for key, status in keys:
        if key == "undo":
            qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
            assert last is not None
            decided.pop(last)
            wait_until(qtbot, lambda: _status_of(review, last) == "pending", "the undo to show")
            continue
        row = review.current_row()
        assert row is not None, "no current card"
        if key == "Shift+Space":  # back one card: the next A changes the decision just made
            qtbot.keyClick(view, Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier)
            wait_until(qtbot, lambda r=row.id: review.current_row() is not None and review.current_row().id != r,
                       "Shift+Space to move back")
            continue
        qt_key = {"A": Qt.Key.Key_A, "R": Qt.Key.Key_R, "Space": Qt.Key.Key_Space}[key]
        qtbot.keyClick(view, qt_key)
        if status is not None:
            decided[row.id] = status
            last = row.id
            wait_until(qtbot, lambda r=row.id, s=status: _status_of(review, r) == s, f"#{row.id} to show {status}")
        next_row = review.current_row()
        assert next_row is not None and next_row.id != row.id, f"{key} did not move on from #{row.id}"
    wait_until(qtbot, review.is_settled, "the review to settle")
    stages.shot(window, "reviewed")
    return decided


def _status_of(review: Any, candidate_id: int) -> str | None:
    row = review.model.row_of_id(candidate_id)
    return review.model.review_row(row).status if row is not None else None


def export_through_dialog(qtbot: Any, window: Any, dest: Path, fmt: str, stages: Stages) -> Any:
    """Press Ctrl+E, pick *fmt*, type *dest* as the destination, wait for the counts, press Export,
    wait for the report and close the dialog. Returns the dialog's ExportResult."""
    from genaug_desktop.gui.export_dialog import ExportDialog

    results: list[Any] = []

    def export(dialog: ExportDialog) -> None:
        combo = dialog.format_combo
        at = combo.findData(fmt)
        assert at >= 0, f"the format list has no {fmt}"
        combo.setCurrentIndex(at)
        # A slip first: a folder inside the project is refused next to the field, Export disabled.
        inside = Path(window.session.project.path) / "export"
        type_into(qtbot, dialog.destination_edit, str(inside))
        qtbot.keyClick(dialog.destination_edit, Qt.Key.Key_Tab)
        error = dialog.field_errors["destination"]
        wait_until(qtbot, error.isVisible, "the destination error")
        assert "is inside the project" in error.text() and "export somewhere else" in error.text(), error.text()
        assert not dialog.export_button.isEnabled()
        stages.shot(dialog, "export-destination-refused")
        type_into(qtbot, dialog.destination_edit, str(dest))
        qtbot.keyClick(dialog.destination_edit, Qt.Key.Key_Tab)
        wait_until(qtbot, lambda: not error.isVisible(), "the destination error to go")
        wait_until(qtbot, dialog.plan_is_current, "the export plan (counts) to match the form")
        assert dialog.plan_summary.text().endswith(f" as {fmt}"), dialog.plan_summary.text()
        stages.shot(dialog, "export-dialog")
        click(qtbot, dialog.export_button)
        running = (dialog.progress_bar.isVisible(), dialog.cancel_button.text(), dialog.export_button.isEnabled())
        assert running == (True, "Cancel", False) or dialog.result is not None, running  # progress, Cancel
        wait_until(qtbot, lambda: dialog.result is not None or "failed" in dialog.status_label.text(),
                   "the export to finish", timeout=120_000)
        assert dialog.result is not None, dialog.status_label.text()
        results.append(dialog.result)
        wait_until(qtbot, lambda: not dialog.is_exporting(), "the export job to end")
        stages.shot(dialog, "export-report")
        assert dialog.cancel_button.text() == "Close" and not dialog.progress_bar.isVisible()
        assert result_summary_shown(dialog)
        click(qtbot, dialog.cancel_button)

    with answer_modal(ExportDialog, export):
        qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    activate(qtbot, window)
    assert results, "the export did not finish"
    return results[0]


def result_summary_shown(dialog: Any) -> bool:
    """The report page is up with the summary, the counts and how to verify the files."""
    result = dialog.result
    return (dialog.pages.currentIndex() == 1 and dialog.report_summary.text() == result.summary()
            and dialog.report_table.rowCount() > 0 and "genaug verify" in dialog.report_hint.text())


def export_rows(dest: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-sample rows of an export (imagefolder metadata.jsonl, or the jsonl data files)."""
    rows = []
    for rel in manifest["files"]:
        if rel.endswith(".jsonl"):
            for line in (dest / rel).read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rows.append(json.loads(line))
    return rows


def check_journey_export(window: Any, dest: Path, result: Any, decided: dict[int, str]) -> dict[str, Any]:
    """The export matches its manifest, and it holds exactly the candidates accepted by hand."""
    manifest = check_export_against_manifest(dest)
    accepted = sorted(i for i, s in decided.items() if s == "accepted")
    assert manifest["counts"]["total"] == len(accepted) == result.samples
    assert Path(result.destination) == Path(dest) and not result.skipped
    rows = export_rows(dest, manifest)
    assert sorted(r["candidate_id"] for r in rows) == accepted
    assert all(r["decision"] == "accepted" for r in rows)
    return manifest


# ---- the whole journey ------------------------------------------------------------------------------------
def edit_step_param(qtbot: Any, editor: Any, step: int, field: str, value: float, spin: Callable[[Any], Any]) -> None:
    """Click step *step* in the step tree and type *value* into *spin(field widget)* of its form."""
    click_index(qtbot, editor.steps_view, editor.step_model.index_of(("steps", step)))
    wait_until(qtbot, lambda: editor.param_form is not None and field in editor.param_form.fields,
               f"the form of step {step}")
    set_spin(qtbot, spin(editor.param_form.fields[field]), value)


def run_journey(qtbot: Any, window: Any, tmp_path: Path, kind: str, build_policy: Callable[[Any], None],
                fmt: str) -> dict[str, Any]:
    """The whole journey with the bundled sample *kind* ("images" / "texts"); *build_policy(editor)*
    adds ops to an empty policy and edits a parameter. Screenshots of each stage go to
    tmp_path/screens. Returns the export's manifest, checked against the files and the decisions."""
    from genaug_desktop.gui.resources import resource_dir, sample_images_dir, sample_texts_file

    stages = Stages(tmp_path / "screens")
    dataset = sample_images_dir() if kind == "images" else sample_texts_file()
    assert dataset.exists()
    samples = resource_dir() / "sample"  # the dataset and its siblings: nothing may appear there either
    before = tree_hashes(samples)

    stages.shot(window, "welcome")
    open_sample_from_welcome(qtbot, window, kind)
    assert window.session.state.modality == kind.rstrip("s")
    wait_until(qtbot, window.is_settled, "the thumbnails and the preview")
    stages.shot(window, "sample-open")

    editor = wait_for_editor(qtbot, window)
    new_policy(qtbot, editor)
    build_policy(editor)
    wait_until(qtbot, lambda: editor.status_label.text().startswith("✓ valid"), "a valid policy")
    built = [(step["op"], step["params"]) for step in editor.document["steps"]]
    wait_until(qtbot, window.is_settled, "the live preview")
    stages.shot(window, "policy-built")

    made = augment_from_editor(qtbot, window, tmp_path / f"{kind}.genaug", per_item=2, stages=stages)
    assert made > 0
    assert window.augmentation.grid_tabs.currentWidget() is window.curation.review, "the new candidates are not shown"
    stages.shot(window, "augmented")

    approve_a_rule_and_filter(qtbot, window, stages)
    decisions = review_with_keyboard(qtbot, window, stages)
    # Every count a person sees agrees: the tab, the review's counter and the approved rule's dry run.
    review, rules = window.curation.review, window.curation.rules
    pending = review.model.counts.pending
    tabs = window.augmentation.grid_tabs
    assert tabs.tabText(tabs.indexOf(review)) == f"Review ({pending:,} pending)"
    wait_until(qtbot, rules.is_settled, "the rules' dry runs")
    assert f" {pending:,} pending candidates" in rules.dry_label.text(), (pending, rules.dry_label.text())
    check_statistics(qtbot, window, stages)

    dest = tmp_path / "export"
    result = export_through_dialog(qtbot, window, dest, fmt, stages)
    manifest = check_journey_export(window, dest, result, decisions)
    assert manifest["modality"] == kind.rstrip("s") and manifest["format"] == fmt
    # The policy that ran is the one built in the editor, edited parameter and all.
    policies = [p for p in manifest["policies"].values() if p is not None]
    assert [[(step["op"], step["params"]) for step in p["steps"]] for p in policies] == [built]
    check_exported_content(dest, manifest, tmp_path / f"{kind}.genaug")
    assert result.summary() in window.message_bar.message, "the export's summary is not in the message bar"
    stages.shot(window, "done")
    # Back on the Items tab the details panel describes the selected item again, at its width.
    show_tab(qtbot, window.augmentation.grid_tabs, window.grid)
    assert window.details.isVisible() and window.details.width() >= window.details.minimumWidth()
    reopen_from_recent(qtbot, window, tmp_path / f"{kind}.genaug", decisions, stages)

    # What a person decided is what the project holds (read through a connection of our own).
    db = sqlite3.connect(str(tmp_path / f"{kind}.genaug" / "project.sqlite"))
    try:
        stored = dict(db.execute("SELECT id, status || '/' || COALESCE(decided_by, '') FROM candidates").fetchall())
    finally:
        db.close()
    assert {i: stored[i] for i in decisions} == {i: f"{s}/person" for i, s in decisions.items()}
    assert tree_hashes(samples) == before, "the bundled sample dataset (or its folder) changed"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["screens", "settings", "qsettings", f"{kind}.genaug", "export"]), "files written outside the export and project"
    return manifest


def reopen_from_recent(qtbot: Any, window: Any, project: Path, decisions: dict[int, str], stages: Stages) -> None:
    """Close with Ctrl+W, find the new project first under Recent on the welcome page, open it
    with Enter: every decision and the approved rule are there as they were left."""
    review, rules = window.curation.review, window.curation.rules
    counts = (review.model.counts.accepted, review.model.counts.rejected, review.model.counts.pending)
    approved = sorted(r.id for r in rules.model.rules if r.state == "approved")
    qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    wait_until(qtbot, lambda: window.stack.currentWidget() is window.welcome, "the welcome page")
    recent = window.welcome.recent_list
    assert window.welcome.recent_paths()[:1] == [str(project)], window.welcome.recent_paths()
    stages.shot(window, "welcome-recent")
    recent.setFocus()
    recent.setCurrentRow(0)
    qtbot.keyClick(recent, Qt.Key.Key_Return)
    session = window.session
    wait_until(qtbot, lambda: session.project is not None and session.state.loaded and not session.is_busy
               and review.is_settled() and rules.is_settled(), "the project to open again")
    assert Path(session.project.path) == project
    assert (review.model.counts.accepted, review.model.counts.rejected, review.model.counts.pending) == counts
    assert sorted(r.id for r in rules.model.rules if r.state == "approved") == approved
    for candidate_id, status in decisions.items():
        assert _status_of(review, candidate_id) == status, candidate_id


def check_statistics(qtbot: Any, window: Any, stages: Stages) -> None:
    """Open the Statistics dock's tab: its counts are the review's."""
    stats, counts = window.curation.stats, window.curation.review.model.counts
    bar, index = dock_tab(window, "Statistics")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    wait_until(qtbot, lambda: stats.isVisible() and stats.is_settled() and stats.stats is not None, "the statistics")
    s = stats.stats
    assert s.by_status.get("accepted", 0) == counts.accepted and s.by_status.get("pending", 0) == counts.pending
    assert f"{counts.reviewed:,} reviewed · {counts.accepted:,} accepted" in stats.summary.text(), stats.summary.text()
    stages.shot(window, "statistics")


def check_exported_content(dest: Path, manifest: dict[str, Any], project: Path) -> None:
    """Each exported sample is its candidate: the same image bytes (the blob) or the same text."""
    db = sqlite3.connect(str(project / "project.sqlite"))
    try:
        stored = {row[0]: (row[1], row[2]) for row in db.execute("SELECT id, blob, text FROM candidates")}
    finally:
        db.close()
    rows = export_rows(dest, manifest)
    assert rows
    for row in rows:
        blob, text = stored[row["candidate_id"]]
        if manifest["modality"] == "image":
            folder = next(Path(rel).parent for rel in manifest["files"] if rel.endswith("metadata.jsonl")
                          and (dest / Path(rel).parent / row["file_name"]).is_file())
            data = (dest / folder / row["file_name"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == blob, row["file_name"]
        else:
            assert row["text"] == text, row["candidate_id"]
