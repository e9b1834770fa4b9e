"""The main window's curation parts, composed in one place so the window stays thin.

:class:`CurationWorkspace` adds to a window's workspace: the **Review** tab beside the items grid,
the **Rules**, **Statistics** and **Evaluate** docks (tabbed with the policy editor at the bottom),
the Review menu (with "Evaluate…") and View entries, and the wiring between them and the rest of
the window. Each panel is built when first shown (its tab or dock raised), when code reads it
(``workspace.review``, ``.rules``, ``.stats``, ``.evaluate``), or, for the review and the rules,
soon after a project opens (their counts and the filter need them); until then a stand-in
holds its place and the wiring waits for it:

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

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QWidget

from genaug_desktop.gui.lazy import LazyPanel

if TYPE_CHECKING:
    from genaug_desktop.core.jobs import Progress
    from genaug_desktop.core.rules import FilterResult
    from genaug_desktop.core.store.project import Project
    from genaug_desktop.gui.augmentation import AugmentationWorkspace
    from genaug_desktop.gui.evaluate_panel import EvaluatePanel
    from genaug_desktop.gui.main_window import MainWindow
    from genaug_desktop.gui.review import ReviewPanel
    from genaug_desktop.gui.rules_panel import RulesPanel
    from genaug_desktop.gui.stats_panel import StatsPanel

#: Between building the review and the rules panel after a project opens (one per loop turn).
BUILD_GAP_MS = 15


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
        self.project: Project | None = None
        self._review: ReviewPanel | None = None
        self._pending_builds: list[str] = []  # panels a project needs, built one per turn

        # The Review tab holds a stand-in until the review panel is built (see _on_tab_changed).
        self._review_stand_in = QWidget()
        self._review_stand_in.setObjectName("reviewStandIn")
        self.tabs = augmentation.grid_tabs if augmentation is not None else None
        if self.tabs is not None:
            self.tabs.addTab(self._review_stand_in, "Review")
            self.tabs.currentChanged.connect(self._on_tab_changed)
        self._rules_holder: LazyPanel[RulesPanel] = LazyPanel(self._make_rules, "rulesStandIn")
        self._stats_holder: LazyPanel[StatsPanel] = LazyPanel(self._make_stats, "statsStandIn")
        self._evaluate_holder: LazyPanel[EvaluatePanel] = LazyPanel(self._make_evaluate, "evaluateStandIn")

        self.rules_dock = _dock("Rules", "rulesDock", self._rules_holder, window)
        self.stats_dock = _dock("Statistics", "statsDock", self._stats_holder, window)
        self.evaluate_dock = _dock("Evaluate", "evaluateDock", self._evaluate_holder, window)
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

    # ---- the panels, built on first use ------------------------------------------------------------
    @property
    def review(self) -> ReviewPanel:
        """The review panel (built now if it was not)."""
        if self._review is None:
            self._build_review()
        assert self._review is not None
        return self._review

    @property
    def rules(self) -> RulesPanel:
        return self._rules_holder.ensure()

    @property
    def stats(self) -> StatsPanel:
        return self._stats_holder.ensure()

    @property
    def evaluate(self) -> EvaluatePanel:
        return self._evaluate_holder.ensure()

    def built_panels(self) -> list[QWidget]:
        """The panels built so far."""
        panels = [self._review, self._rules_holder.panel, self._stats_holder.panel, self._evaluate_holder.panel]
        return [p for p in panels if p is not None]

    def built_panel(self, name: str) -> QWidget | None:
        """The panel *name* ("review", "rules", "stats", "evaluate") if it is built, else None."""
        if name == "review":
            return self._review
        holder = {"rules": self._rules_holder, "stats": self._stats_holder, "evaluate": self._evaluate_holder}[name]
        return holder.panel

    def build_panels(self) -> None:
        """Build every panel now (the shortcuts dialog lists their keys)."""
        self._pending_builds = []
        _ = (self.review, self.rules, self.stats, self.evaluate)

    def _build_review(self) -> None:
        from genaug_desktop.gui.review import ReviewPanel

        w = self.window
        review = self._review = ReviewPanel(w.session.thumbnails)
        if w.has_workspace:
            review.set_thumbnail_size(w.grid.thumbnail_size)
            w.grid.thumbnail_size_changed.connect(review.set_thumbnail_size)
        review.notice.connect(w.message_bar.show_message)
        review.decided.connect(self._on_decided)
        review.model.counts_changed.connect(self._update_tab)
        if self.augmentation is not None:
            self.augmentation.controller.candidates_added.connect(review.candidates_added)
        # Its actions lead the Review menu.
        first = self.menu.actions()[0] if self.menu.actions() else None
        self.menu.insertActions(first, [review.accept_action, review.reject_action, review.accept_passed_action])
        self.menu.insertSeparator(first)
        self.menu.insertActions(first, [review.undo_action, review.redo_action])
        self.menu.insertSeparator(first)
        if self.tabs is not None:
            tabs, stand_in = self.tabs, self._review_stand_in
            index = tabs.indexOf(stand_in)
            current = tabs.currentIndex() == index
            tabs.blockSignals(True)  # the same tab stays current: nothing for the window to follow
            try:
                tabs.removeTab(index)
                tabs.insertTab(index, review, "Review")
                if current:
                    tabs.setCurrentIndex(index)
            finally:
                tabs.blockSignals(False)
            stand_in.deleteLater()
        review.set_project(self.project)
        self._update_tab()
        w.adopt_actions_soon()

    def _make_rules(self) -> RulesPanel:
        from genaug_desktop.gui.rules_panel import RulesPanel

        rules = RulesPanel()
        rules.notice.connect(self.window.message_bar.show_message)
        rules.filtered.connect(self._on_filtered)
        rules.rules_changed.connect(self._on_rules_changed)
        rules.browse_requested.connect(self._on_browse)
        rules.busy_changed.connect(self._on_filter_busy)
        rules.progress_changed.connect(self._on_filter_progress)
        rules.set_project(self.project)
        return rules

    def _make_stats(self) -> StatsPanel:
        from genaug_desktop.gui.stats_panel import StatsPanel

        stats = StatsPanel()
        stats.set_project(self.project)
        return stats

    def _make_evaluate(self) -> EvaluatePanel:
        from genaug_desktop.gui.evaluate_panel import EvaluatePanel

        evaluate = EvaluatePanel()
        evaluate.notice.connect(self.window.message_bar.show_message)
        evaluate.set_project(self.project)
        evaluate.set_dataset_open(self.window.session.is_open)
        return evaluate

    def _on_tab_changed(self, _index: int) -> None:
        if self.tabs is not None and self.tabs.currentWidget() is self._review_stand_in:
            self._build_review()

    def _on_review_menu(self) -> None:
        if self._review is None:
            self._build_review()

    def _build_for_project(self) -> None:
        """After a project opens: the review (its tab counts the pending candidates) and the rules
        (they filter new candidates), one per event-loop turn."""
        if not self._pending_builds or self.project is None:
            self._pending_builds = []
            return
        which = self._pending_builds.pop(0)
        if which == "review":
            _ = self.review
        else:
            _ = self.rules
        if self._pending_builds:
            QTimer.singleShot(BUILD_GAP_MS, self, self._build_for_project)

    # ---- construction ------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        w = self.window
        menu = QMenu("&Review", w)
        self.menu = menu
        # The review panel's actions (accept, reject, undo …) join at the top when it is built:
        # at the latest when this menu opens.
        menu.aboutToShow.connect(self._on_review_menu)
        self.propose_action = self._action("&Propose Rules", lambda: self.rules.propose(), None, menu)
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
        if self.augmentation is not None:
            self.augmentation.controller.finished.connect(self._on_augmented)

    # ---- project -----------------------------------------------------------------------------------
    def _on_session_changed(self) -> None:
        s = self.window.session
        project = s.project if s.state is not None and s.state.loaded else None
        self._set_project(project)
        self._update_docks()

    def _set_project(self, project: Project | None) -> None:
        if project is not self.project:
            self.project = project
            # Stop what reads the old project before it is closed (panels not built yet get the
            # project when they are).
            rules, stats, evaluate = self._rules_holder.panel, self._stats_holder.panel, self._evaluate_holder.panel
            for panel in (rules, self._review, stats, evaluate):
                if panel is not None:
                    panel.set_project(project)
            missing = [name for name, panel in (("review", self._review), ("rules", rules)) if panel is None]
            if project is not None and missing and not self._pending_builds:
                self._pending_builds = missing
                QTimer.singleShot(BUILD_GAP_MS, self, self._build_for_project)
        evaluate = self._evaluate_holder.panel
        if evaluate is not None:
            evaluate.set_dataset_open(self.window.session.is_open)
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
        review = self.review
        if self.tabs is not None:
            self.tabs.setCurrentWidget(review)
        review.view.setFocus()

    def show_evaluate(self) -> None:
        """Show the Evaluate dock (Review ▸ Evaluate…); a run starts only from its Run button."""
        self._wanted[self.evaluate_dock] = True
        self.evaluate_dock.show()
        self.evaluate_dock.raise_()
        evaluate = self._evaluate_holder.panel
        if self.project is None and evaluate is not None:
            evaluate.set_dataset_open(self.window.session.is_open)

    def is_settled(self) -> bool:
        if self._pending_builds:
            return False
        return all(panel.is_settled() for panel in self.built_panels())  # type: ignore[attr-defined]

    def shutdown(self) -> None:
        self._pending_builds = []
        for panel in (self._evaluate_holder.panel, self._rules_holder.panel, self._review, self._stats_holder.panel):
            if panel is not None:
                panel.shutdown()

    # ---- slots -------------------------------------------------------------------------------------
    def _on_augmented(self, _result: object) -> None:
        # Even after a cancel some candidates were stored: the filter checks every pending one
        # it has not checked yet, which is exactly the new ones. (A panel not built yet reads
        # everything when it is.)
        if self._review is not None:
            self._review.load_new()
        self._refresh_charts(soon=True)
        if self.project is not None:
            self.rules.run_filter()

    def _refresh_charts(self, soon: bool) -> None:
        stats, evaluate = self._stats_holder.panel, self._evaluate_holder.panel
        if stats is not None:
            stats.schedule_refresh() if soon else stats.refresh()
        if evaluate is not None and evaluate.isVisible():
            evaluate.refresh()

    def _on_filtered(self, result: FilterResult | None) -> None:
        review = self._review
        if review is not None and result is None:  # cancelled, or a rule's rejections released: read everything again
            review.refresh()
        elif review is not None and result is not None:
            review.load_new()  # candidates stored while it ran, if any
            review.show_changes(result.rejected_ids)
        stats = self._stats_holder.panel
        if stats is not None:
            stats.refresh()

    def _on_rules_changed(self) -> None:
        stats = self._stats_holder.panel
        if stats is not None:
            stats.refresh()

    def _on_decided(self, ids: list[int]) -> None:
        self._refresh_charts(soon=True)
        rules = self._rules_holder.panel
        if rules is not None:
            rules.note_decided(ids)

    def _update_tab(self) -> None:
        if self.tabs is None or self._review is None:
            return
        counts = self._review.model.counts
        text = f"Review ({counts.pending:,} pending)" if counts.total else "Review"
        self.tabs.setTabText(self.tabs.indexOf(self._review), text)

    def _on_browse(self, ids: list[int], title: str, hints: dict[int, str]) -> None:
        self.review.show_ids(ids, title, hints)
        self.show_review()

    def _on_filter_busy(self, busy: bool) -> None:
        if not busy:
            self.window.statusBar().clearMessage()

    def _on_filter_progress(self, progress: Progress) -> None:
        self.window.statusBar().showMessage(f"Filter: {progress.message}", 2000)
