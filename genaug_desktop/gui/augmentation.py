"""The main window's augmentation parts, composed in one place so the window stays thin.

:class:`AugmentationWorkspace` adds to a window's workspace: the grid area as tabs (the items
grid; the curation workspace adds the Review tab, where the candidates are), the policy editor
in a bottom dock (View > Policy Editor, Ctrl+3), the Policy menu (new/open/save, presets,
Augment…) and the Augment… flow, whose progress, ETA and Cancel use the window's status bar and
whose messages use its message bar.

The editor needs the op registry (numpy and every op module: a few hundred milliseconds). That
import, and the editor's own modules, run in a background job when the workspace is built, and
the editor is made once it is done and the dataset has finished loading, in two event-loop turns
(its widgets; then the dock and menus), so opening a dataset paints at once, the scan has the GUI
thread to itself and no turn stalls the window; anything that needs the editor sooner
(:attr:`AugmentationWorkspace.editor`) makes it on the spot.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QTabWidget, QToolButton, QWidget

from genaug_desktop.gui.augment_dialog import AugmentController
from genaug_desktop.gui.worker import JobWorker

#: Settings key of the policies that had unsaved changes when the window closed.
DRAFTS_KEY = "policy_editor/unsaved"

if TYPE_CHECKING:
    from genaug_desktop.core.datasets.model import Item
    from genaug_desktop.gui.main_window import MainWindow
    from genaug_desktop.gui.policy_editor import PolicyEditor
    from genaug_desktop.gui.preview_grid import PreviewGrid


def load_ops(_cancel: Any) -> int:
    """Import the op registry (and OpenCV, which the preview needs) off the GUI thread, and the
    editor's own modules (~50 ms of imports the GUI thread would otherwise spend when it makes
    the editor; nothing in them makes a widget or pixmap at import)."""
    import cv2  # noqa: F401

    import genaug_desktop.gui.policy_editor  # noqa: F401
    from genaug_desktop.core.ops.base import registry

    return len(registry())


class PolicyEditorDock(QDockWidget):
    """The dock holding the editor; ``closed()`` when its close button hides it."""

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Policy editor", parent)
        self.setObjectName("policyEditorDock")
        self.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.TopDockWidgetArea)
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        waiting = QLabel("Loading the policy editor…")
        waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        waiting.setStyleSheet("color: palette(placeholder-text);")
        self.setWidget(waiting)

    def set_editor(self, editor: PolicyEditor) -> None:
        old = self.widget()
        self.setWidget(editor)
        if old is not None:
            old.deleteLater()
        # The editor's toolbar is the title bar (drag it to move the dock): one row less than a
        # title of its own, and the preview's tiles get that height.
        toolbar = editor.take_toolbar()
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide the policy editor (View > Policy Editor brings it back)")
        close.clicked.connect(self.close)
        editor.toolbar_layout.addWidget(close)
        self.setTitleBarWidget(toolbar)

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self.closed.emit()


class AugmentationWorkspace(QObject):
    """Builds and wires the editor dock, the grid tabs and the Augment… flow for *window*."""

    def __init__(self, window: MainWindow, grid: PreviewGrid) -> None:
        super().__init__(window)
        self.window = window
        session = window.session
        self._editor: PolicyEditor | None = None
        # Made in two event-loop turns once it may be (the widgets; then the dock, the menus and
        # the dataset's state), so neither turn stalls the window (together ~45 ms, and its
        # first paint follows in a turn of its own).
        self._made_editor: PolicyEditor | None = None
        self._build_scheduled = False
        self._item: tuple[Item | None, str | None] = (None, None)
        self._restored_note = False

        # The candidates are reviewed in one place, the Review tab (gui/curation.py adds it): a
        # second list of them here showed states that went stale as soon as the filter ran.
        self.grid_tabs = QTabWidget()
        self.grid_tabs.setObjectName("gridTabs")
        self.grid_tabs.setDocumentMode(True)
        self.grid_tabs.addTab(grid, "Items")
        self._items_grid = grid
        self.grid_tabs.currentChanged.connect(lambda _index: self._follow_tab())

        self.dock = PolicyEditorDock(window)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        state = window.settings.byte_array("window/state")
        if state is None or not window.restoreState(state):
            window.resizeDocks([self.dock], [max(300, int(window.height() * 0.43))], Qt.Orientation.Vertical)
        self.dock.closed.connect(lambda: window.toggle_editor_action.setChecked(False))

        self.controller = AugmentController(
            session, lambda: self.editor.policy(), grid.selected_items, lambda: self.editor.preview.seed,
            lambda: self.editor.display_name, window, window.open_path,
        )
        session.opened.connect(lambda _title: self.show_item(None, None))
        session.loaded.connect(self._on_loaded)
        session.busy_changed.connect(self._on_session_busy)
        session.project_closing.connect(self._on_project_closing)
        c = self.controller
        c.notice.connect(window.message_bar.show_message)
        c.progress_changed.connect(window._on_progress)
        c.busy_changed.connect(self._on_busy)
        c.finished.connect(self._on_finished)
        window.cancel_button.clicked.connect(c.cancel)
        self.update_dock()

        self._ops_ready = False  # the op registry and the editor's modules are imported
        self._loader: JobWorker | None = JobWorker(load_ops, name="load-ops")
        self._loader.finished.connect(self._on_ops_loaded)
        self._loader.start()

    # ---- the editor, made once the op registry is imported ---------------------------------------------
    @property
    def editor(self) -> PolicyEditor:
        if self._editor is None:
            self._build_editor()
        assert self._editor is not None
        return self._editor

    @property
    def has_editor(self) -> bool:
        return self._editor is not None

    def _on_ops_loaded(self) -> None:
        self._loader = None
        self._ops_ready = True
        # While a dataset streams in, the GUI thread is kept for it (Cancel must answer at once):
        # the editor is made when loading ends (see _on_loaded), or now if nothing is loading.
        if not self.window.session.is_busy:
            self._maybe_build_editor()

    def _maybe_build_editor(self) -> None:
        if self._editor is None and self._ops_ready and not self.window._shut_down and not self._build_scheduled:
            self._build_scheduled = True
            QTimer.singleShot(0, self, self._make_editor_widgets)

    def _make_editor_widgets(self) -> None:
        """First turn: the editor's widgets."""
        if self._editor is not None or self.window._shut_down:
            self._build_scheduled = False
            return
        from genaug_desktop.gui.policy_editor import PolicyEditor

        if self._made_editor is None:
            self._made_editor = PolicyEditor()
        QTimer.singleShot(0, self, self._finish_scheduled_build)

    def _finish_scheduled_build(self) -> None:
        """Second turn: the editor goes into the dock and the menus."""
        self._build_scheduled = False
        if self._editor is None and not self.window._shut_down:
            self._build_editor()

    def _build_editor(self) -> None:
        from genaug_desktop.gui.policy_editor import PolicyEditor

        window = self.window
        made, self._made_editor = self._made_editor, None
        editor = self._editor = made if made is not None else PolicyEditor()
        self._restore_drafts()
        self.dock.set_editor(editor)
        menu = window.policy_menu
        menu.addActions([editor.new_action, editor.open_action, editor.save_action, editor.save_as_action])
        self.presets_menu = menu.addMenu("Pre&sets")
        self.presets_menu.aboutToShow.connect(self._fill_presets)
        menu.addSeparator()
        menu.addAction(editor.augment_action)
        menu.setEnabled(True)
        window.addActions([editor.save_action, editor.save_as_action, editor.augment_action])
        editor.message.connect(window.message_bar.show_message)
        editor.augment_requested.connect(self.controller.request)
        state = window.session.state
        if state is not None and state.modality:
            editor.set_modality(state.modality)
        editor.set_item(*self._item)
        self._offer_classes()

    def _offer_classes(self) -> None:
        """The editor's label conditions offer the open dataset's classes."""
        if self._editor is not None:
            self._editor.set_classes(sorted(str(k) for k in self.window.session.items.label_counts() if k))

    # ---- window hooks -------------------------------------------------------------------------------
    def update_dock(self) -> None:
        """Show the dock when a dataset is open and View > Policy Editor is checked."""
        self.dock.setVisible(self.window.toggle_editor_action.isChecked() and self.window.session.is_open)

    def show_item(self, item: Item | None, path: str | None) -> None:
        self._item = (item, path)
        if self._editor is not None:
            self._editor.set_item(item, path)

    def is_settled(self) -> bool:
        return not self.dock.isVisible() or (self._editor is not None and self._editor.is_settled())

    def shutdown(self) -> None:
        if self._loader is not None:
            self._loader.wait()
        if self._made_editor is not None:  # made, not yet in the dock
            self._made_editor.shutdown()
            self._made_editor.deleteLater()
            self._made_editor = None
        if self._editor is not None:
            self._save_drafts()
            self._editor.shutdown()
        self.controller.shutdown()

    # ---- unsaved policies outlive the window (no modal question while it closes) ---------------------------
    def _save_drafts(self) -> None:
        drafts = self.editor.unsaved_drafts()
        self.window.settings.set_value(DRAFTS_KEY, json.dumps(drafts) if drafts else "")
        self.window.settings.sync()

    def _restore_drafts(self) -> None:
        raw = self.window.settings.store.value(DRAFTS_KEY, "")
        try:
            drafts = json.loads(raw) if isinstance(raw, str) and raw else {}
        except ValueError:
            drafts = {}
        restored = [m for m, d in drafts.items() if isinstance(d, dict)
                    and self.editor.restore_draft(m, d.get("document"), d.get("file_path"))]
        # Said once the dataset has loaded: opening clears the message bar.
        self._restored_note = bool(restored)
        if restored and self.window.session.state is not None and self.window.session.state.loaded:
            self._say_restored()

    def _say_restored(self) -> None:
        self._restored_note = False
        self.window.message_bar.show_message(
            "info", "Restored the unsaved policy from the last session (Undo returns to where it started).")

    # ---- slots ----------------------------------------------------------------------------------------
    def _fill_presets(self) -> None:
        from genaug_desktop.gui.policy_editor import list_presets

        self.presets_menu.clear()
        for preset in list_presets(self.editor.modality):
            self.presets_menu.addAction(preset.name, lambda p=preset.path: self.editor.load_preset(p))

    def _on_loaded(self) -> None:
        self._maybe_build_editor()
        if self._restored_note:
            self._say_restored()
        state = self.window.session.state
        if self._editor is not None and state is not None and state.modality:
            self._editor.set_modality(state.modality)
        self._offer_classes()

    def _on_project_closing(self) -> None:
        # Jobs that read the project stop (and their threads end) before its database closes.
        self.controller.shutdown()

    def _follow_tab(self) -> None:
        """The details panel describes the item selected in the Items tab: beside the Review tab
        (whose compare view shows each candidate with its source) it would describe an item the
        person no longer sees, so it gives the review its room until the Items tab is back."""
        on_items = self.grid_tabs.currentWidget() is self._items_grid
        self.window.details.setVisible(on_items and self.window.toggle_details_action.isChecked())

    def _on_session_busy(self, busy: bool) -> None:
        if busy:
            return
        self._maybe_build_editor()  # e.g. loading was cancelled
        if self.controller.is_busy:
            # The window hid its progress and Cancel because the session is done loading; an
            # augmentation is still running (it started as the project finished opening).
            self._on_busy(True)

    def _on_busy(self, busy: bool) -> None:
        self.window._set_busy(busy)
        self.window.cancel_button.setToolTip(
            "Stop augmenting; the candidates made so far stay" if busy else "Stop loading; the items read so far stay")

    def _on_finished(self, result: object) -> None:
        # What was made is shown where it is reviewed (the review grid reads the new candidates itself).
        curation = getattr(self.window, "curation", None)
        if result is not None and curation is not None:
            self.grid_tabs.setCurrentWidget(curation.review)
