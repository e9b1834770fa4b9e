"""The main window's curation parts, composed in one place so the window stays thin.

:class:`CurationWorkspace` adds to a window's workspace: the **Review** tab beside the items grid,
the **Rules**, **Statistics** and **Evaluate** docks (tabbed with the policy editor at the bottom),
the Review menu (with "Evaluate…") and View entries, and the wiring between them and the rest of
the window:

- a project opens or closes: every panel follows (a plain dataset shows each panel's hint to
  create a project);
- an augmentation job stores candidates: the review grid refreshes; when it finishes, the
  approved rules run over the new candidates in the background (:meth:`run_filter`, which a
  sampling job can call the same way);
- a filter run, a decision or a rule change: the grid, the rule counts and the charts follow;
- "Show in Review" in the rules panel narrows the grid to what a rule would reject;
- decisions and new candidates: the Evaluate panel's hints follow (an evaluation is only ever
  run on request).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QWidget

from genaug_desktop.gui.evaluate_panel import EvaluatePanel
from genaug_desktop.gui.review import ReviewPanel
from genaug_desktop.gui.rules_panel import RulesPanel
from genaug_desktop.gui.stats_panel import StatsPanel

if TYPE_CHECKING:
    from genaug_desktop.core.jobs import Progress
    from genaug_desktop.core.rules import FilterResult
    from genaug_desktop.core.store.project import Project
    from genaug_desktop.gui.augmentation import AugmentationWorkspace
    from genaug_desktop.gui.main_window import MainWindow


def _dock(title: str, name: str, widget: QWidget, parent: QWidget) -> QDockWidget:
    dock = QDockWidget(title, parent)
    dock.setObjectName(name)
    dock.setWidget(widget)
    dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetClosable | QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
    )
    return dock


class CurationWorkspace(QObject):
    """Builds and wires the review tab, the rules and statistics docks and the Review menu."""

    def __init__(self, window: MainWindow, augmentation: AugmentationWorkspace | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.augmentation = augmentation
        session = window.session
        self.project: Project | None = None

        self.review = ReviewPanel(session.thumbnails)
        self.rules = RulesPanel()
        self.stats = StatsPanel()
        self.evaluate = EvaluatePanel()
        self.tabs = augmentation.grid_tabs if augmentation is not None else None
        if self.tabs is not None:
            self.tabs.addTab(self.review, "Review")
        if window.has_workspace:
            self.review.set_thumbnail_size(window.grid.thumbnail_size)
            window.grid.thumbnail_size_changed.connect(self.review.set_thumbnail_size)

        self.rules_dock = _dock("Rules", "rulesDock", self.rules, window)
        self.stats_dock = _dock("Statistics", "statsDock", self.stats, window)
        self.evaluate_dock = _dock("Evaluate", "evaluateDock", self.evaluate, window)
        editor_dock = augmentation.dock if augmentation is not None else None
        #: whether each dock should show while a dataset is open (the person's choice)
        self._wanted: dict[QDockWidget, bool] = {}
        for dock in (self.rules_dock, self.stats_dock, self.evaluate_dock):
            # Docks made after the window restored its state get their saved place here.
            if window.restoreDockWidget(dock):
                self._wanted[dock] = not dock.isHidden()
            else:
                self._wanted[dock] = True
                if editor_dock is not None:
                    window.tabifyDockWidget(editor_dock, dock)
                else:
                    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            dock.toggleViewAction().triggered.connect(lambda on, d=dock: self._wanted.__setitem__(d, on))
        if editor_dock is not None:
            editor_dock.raise_()

        self._build_menus()
        self._connect()
        self._on_session_changed()

    # ---- construction ------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        w = self.window
        review = self.review
        menu = QMenu("&Review", w)
        self.menu = menu
        menu.addAction(review.accept_action)
        menu.addAction(review.reject_action)
        menu.addAction(review.accept_passed_action)
        menu.addSeparator()
        menu.addAction(review.undo_action)
        menu.addAction(review.redo_action)
        menu.addSeparator()
        self.propose_action = self._action("&Propose Rules", self.rules.propose, None, menu)
        self.filter_action = self._action("Run &Filter Now", lambda: self.run_filter(), "Ctrl+Shift+F", menu)
        menu.addSeparator()
        self.evaluate_action = self._action("&Evaluate…", self.show_evaluate, None, menu)
        self.evaluate_action.setToolTip("Does training on the accepted candidates help a model on held-out real items?")
        menus = w.menuBar()
        help_action = next((a for a in menus.actions() if a.text() == "&Help"), None)
        menus.insertMenu(help_action, menu) if help_action is not None else menus.addMenu(menu)

        view = getattr(w, "view_menu", None)
        target = view if isinstance(view, QMenu) else menu
        target.addSeparator()
        self.show_review_action = self._action("&Review Candidates", self.show_review, "Ctrl+4", target)
        for dock, shortcut in ((self.rules_dock, "Ctrl+5"), (self.stats_dock, "Ctrl+6")):
            toggle = dock.toggleViewAction()
            toggle.setShortcuts([QKeySequence(shortcut)])
            target.addAction(toggle)
        self.rules_toggle = self.rules_dock.toggleViewAction()
        self.stats_toggle = self.stats_dock.toggleViewAction()
        target.addAction(self.evaluate_dock.toggleViewAction())

    def _action(self, text: str, slot: Any, shortcut: str | None, menu: QMenu) -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcuts([QKeySequence(shortcut)])
        action.triggered.connect(slot)
        menu.addAction(action)
        self.window.addAction(action)
        return action

    def _connect(self) -> None:
        w = self.window
        s = w.session
        s.opened.connect(lambda _title: self._set_project(None))
        s.loaded.connect(self._on_session_changed)
        s.closed.connect(self._on_session_changed)
        closing = getattr(s, "project_closing", None)
        if closing is not None:
            closing.connect(lambda: self._set_project(None))
        notice = w.message_bar.show_message
        self.review.notice.connect(notice)
        self.rules.notice.connect(notice)
        self.evaluate.notice.connect(notice)
        self.review.decided.connect(self._on_decided)
        self.review.model.counts_changed.connect(self._update_tab)
        self.rules.filtered.connect(self._on_filtered)
        self.rules.rules_changed.connect(self.stats.refresh)
        self.rules.browse_requested.connect(self._on_browse)
        self.rules.busy_changed.connect(self._on_filter_busy)
        self.rules.progress_changed.connect(self._on_filter_progress)
        if self.augmentation is not None:
            controller = self.augmentation.controller
            controller.candidates_added.connect(self.review.candidates_added)
            controller.finished.connect(self._on_augmented)

    # ---- project -----------------------------------------------------------------------------------
    def _on_session_changed(self) -> None:
        s = self.window.session
        project = s.project if s.state is not None and s.state.loaded else None
        self._set_project(project)
        self._update_docks()

    def _set_project(self, project: Project | None) -> None:
        if project is not self.project:
            self.project = project
            # Stop what reads the old project before it is closed.
            self.rules.set_project(project)
            self.review.set_project(project)
            self.stats.set_project(project)
            self.evaluate.set_project(project)
        self.evaluate.set_dataset_open(self.window.session.is_open)
        has = project is not None
        self.propose_action.setEnabled(has)
        self.filter_action.setEnabled(has)

    def _update_docks(self) -> None:
        """The docks show while a dataset or project is open, unless the person closed them."""
        open_ = self.window.session.is_open
        for dock, wanted in self._wanted.items():
            dock.setVisible(open_ and wanted)

    # ---- public slots ------------------------------------------------------------------------------
    def run_filter(self, candidate_ids: list[int] | None = None) -> bool:
        """Apply the approved rules in the background: to *candidate_ids* (a sampling job's new
        candidates; quietly nothing when no rule is approved), or, on demand, to every pending
        candidate they have not checked. False when nothing runs."""
        if self.project is None:
            if candidate_ids is None:
                self.window.message_bar.show_message("info", "Filtering needs a project with approved rules.")
            return False
        started = self.rules.run_filter(candidate_ids)
        if not started and candidate_ids is None:
            self.window.message_bar.show_message(
                "info", "No rule is approved yet: propose rules in the Rules panel, check them and approve them.")
        return started

    def show_review(self) -> None:
        if self.tabs is not None:
            self.tabs.setCurrentWidget(self.review)
        self.review.view.setFocus()

    def show_evaluate(self) -> None:
        """Show the Evaluate dock (Review ▸ Evaluate…); a run starts only from its Run button."""
        self._wanted[self.evaluate_dock] = True
        self.evaluate_dock.show()
        self.evaluate_dock.raise_()
        if self.project is None:
            self.evaluate.set_dataset_open(self.window.session.is_open)

    def is_settled(self) -> bool:
        return (self.review.is_settled() and self.rules.is_settled() and self.stats.is_settled()
                and self.evaluate.is_settled())

    def shutdown(self) -> None:
        self.evaluate.shutdown()
        self.rules.shutdown()
        self.review.shutdown()
        self.stats.shutdown()

    # ---- slots -------------------------------------------------------------------------------------
    def _on_augmented(self, _result: object) -> None:
        # Even after a cancel some candidates were stored: the filter checks every pending one
        # it has not checked yet, which is exactly the new ones.
        self.review.load_new()
        self.stats.schedule_refresh()
        if self.evaluate.isVisible():
            self.evaluate.refresh()
        if self.project is not None:
            self.rules.run_filter()

    def _on_filtered(self, result: FilterResult | None) -> None:
        if result is None:  # cancelled, or a rule's rejections released: read everything again
            self.review.refresh()
        else:
            self.review.load_new()  # candidates stored while it ran, if any
            self.review.show_changes(result.rejected_ids)
        self.stats.refresh()

    def _on_decided(self, ids: list[int]) -> None:
        self.stats.schedule_refresh()
        if self.evaluate.isVisible():
            self.evaluate.refresh()
        self.rules.note_decided(ids)

    def _update_tab(self) -> None:
        if self.tabs is None:
            return
        counts = self.review.model.counts
        text = f"Review ({counts.pending:,} pending)" if counts.total else "Review"
        self.tabs.setTabText(self.tabs.indexOf(self.review), text)

    def _on_browse(self, ids: list[int], title: str, hints: dict[int, str]) -> None:
        self.review.show_ids(ids, title, hints)
        self.show_review()

    def _on_filter_busy(self, busy: bool) -> None:
        if not busy:
            self.window.statusBar().clearMessage()

    def _on_filter_progress(self, progress: Progress) -> None:
        self.window.statusBar().showMessage(f"Filter: {progress.message}", 2000)
