"""The main window: a thin composition of the panels around one :class:`DatasetSession`.

Layout: a message bar on top; below it a stack with the welcome page and the workspace (dataset
browser | preview grid | details, in a splitter); menus; a status bar with counts, progress and a
Cancel button. Everything long runs in the session's jobs; this class only wires signals,
handles opening (menu, recent list, drag and drop, command line) and remembers window state.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QTimer
from PySide6.QtGui import QAction, QActionEvent, QActionGroup, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.gui.icons import icon
from genaug_desktop.gui.resources import app_icon_path, sample_images_dir, sample_texts_file
from genaug_desktop.gui.settings import DEFAULT_THUMBNAIL_SIZE, AppSettings
from genaug_desktop.gui.theme import ThemeController
from genaug_desktop.gui.welcome import WelcomePage

if TYPE_CHECKING:  # (types the first paint does not need: each PySide class builds its enums when first used)
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent, QPaintEvent
    from PySide6.QtWidgets import QSplitter

    from genaug_desktop.core.datasets.model import Item, Problem
    from genaug_desktop.core.jobs import Progress
    from genaug_desktop.gui.session import DatasetSession
    from genaug_desktop.gui.worker import JobWorker
    from genaug_desktop.gui.augmentation import AugmentationWorkspace
    from genaug_desktop.gui.curation import CurationWorkspace
    from genaug_desktop.gui.generator_panel import GeneratorWorkspace
    from genaug_desktop.gui.dataset_browser import DatasetBrowser
    from genaug_desktop.gui.message_bar import MessageBar
    from genaug_desktop.gui.details import DetailsPanel
    from genaug_desktop.gui.preview_grid import PreviewGrid

def _import_workspace(_cancel: object) -> None:
    """Import the modules of the browser, grid, details and augmentation workspace (no widget is made here)."""
    import genaug_desktop.gui.augmentation  # noqa: F401
    import genaug_desktop.gui.dataset_browser  # noqa: F401
    import genaug_desktop.gui.details  # noqa: F401
    import genaug_desktop.gui.preview_grid  # noqa: F401


def _preload(cancel: object) -> None:
    """After the first paint, while the welcome page waits: the scanner (multiprocessing, socket …:
    ~25 ms that the first open would otherwise spend in open_path) and the workspace's modules."""
    import genaug_desktop.core.datasets.scan  # noqa: F401

    _import_workspace(cancel)


def _import_panels(_cancel: object) -> None:
    """Import the modules of the docks built after the workspace (no widget is made here). Their
    panels, and what only those need (numpy, the generators' plug-ins), load when first shown."""
    import genaug_desktop.gui.curation  # noqa: F401
    import genaug_desktop.gui.generator_panel  # noqa: F401


#: What the first open builds, one step per event-loop turn, so that no turn stalls the window
#: (building it all at once took 0.1-0.45 s). "import:" steps load modules in a job thread; the
#: panels inside the curation and generator docks are built when first shown (see gui/lazy.py).
WORKSPACE_STAGES = ("import:workspace", "browser", "grid", "details", "augmentation", "splitter")
PANEL_STAGES = ("import:panels", "curation", "generators")
STAGE_IMPORTS = {"import:workspace": _import_workspace, "import:panels": _import_panels}
#: What each import step loads (it is skipped when all are loaded already).
STAGE_MODULES = {
    "import:workspace": tuple(f"genaug_desktop.gui.{m}" for m in ("augmentation", "dataset_browser", "details", "preview_grid")),
    "import:panels": ("genaug_desktop.gui.curation", "genaug_desktop.gui.generator_panel"),
}
#: Between two stages: not 0, since a zero timer runs before the paint and input that arrived
#: while the stage ran.
STAGE_GAP_MS = 15


APP_TITLE = "genaug-desktop"
TOOL_BUTTON_TEXT_BESIDE_ICON = 2  # Qt::ToolButtonTextBesideIcon (a test checks it against Qt)
WORKSPACE_MIN_HEIGHT = 400
#: the status bar shows a running job's progress at most this often (a scan reports every batch)
PROGRESS_INTERVAL_MS = 100
DEFAULT_SIZE = (1280, 800)
TEXT_FILE_FILTER = "Text datasets (*.txt *.csv *.tsv *.jsonl *.ndjson);;All files (*)"

#: The main toolbar, in order ("|" is a separator). Each key names an action of a menu: the
#: window's own, or one a workspace makes when a dataset opens (see _workspace_actions).
TOOLBAR_LAYOUT = ("open_dataset", "open_text", "open_project", "|", "augment", "review", "filter",
                  "generators", "evaluate", "|", "export")
#: Places that stay empty (not even a stand-in) until a panel provides the action.
OPTIONAL_TOOLS = frozenset({"evaluate"})

#: Icon, toolbar text and status tip of the workspaces' actions, by key. A workspace's own status
#: tip wins; these fill in what it left out, so every menu and toolbar action explains itself.
WORKSPACE_ACTIONS: dict[str, tuple[str, str, str]] = {
    "augment": ("augment", "Augment", "Run the policy over the dataset and store the variants as candidates"),
    "review": ("review", "Review", "Show the candidates to accept or reject, one by one, with the keyboard"),
    "filter": ("filter", "Filter", "Apply the approved rules to the pending candidates now"),
    "propose": ("propose-rules", "Propose", "Propose rules with thresholds learned from the real data"),
    "generators": ("generators", "Generators", "Show or hide the Generators panel: train a model and sample from it"),
    "evaluate": ("evaluate", "Evaluate", "Does training on the accepted candidates help a model? Compare on held-out real items"),
    "rules": ("rules", "Rules", "Show or hide the Rules panel: proposed, approved and disabled rules"),
    "statistics": ("statistics", "Statistics", "Show or hide the Statistics panel: counts, balance, distributions"),
    "accept": ("accept", "Accept", "Accept the selected candidates (A in the review grid)"),
    "reject": ("reject", "Reject", "Reject the selected candidates (R in the review grid)"),
    "accept_passed": ("accept-passed", "Accept Passed",
                      "Accept every pending candidate that passed the approved rules (asks first)"),
    "review_undo": ("undo", "Undo", "Undo the last review decision"),
    "review_redo": ("redo", "Redo", "Redo the review decision just undone"),
    "new_policy": ("new-policy", "New Policy", "Start an empty augmentation policy"),
    "open_policy": ("open-policy", "Open Policy", "Open a policy JSON file in the policy editor"),
    "save_policy": ("save", "Save Policy", "Save the policy to its file"),
    "save_policy_as": ("save-as", "Save As", "Save the policy to a new file"),
}


class MainWindow(QMainWindow):
    """The application window. ``open_path(path)`` opens a dataset folder, text file or project.

    The workspace (browser, grid, details) is built when it is first needed: the welcome page
    then paints without loading the list views, delegates and their Qt classes, which is most of
    the difference between this window's start-up time and an empty window's.
    """

    def __init__(self, settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.setWindowTitle(APP_TITLE)
        icon = app_icon_path(256)
        if icon is not None:
            self.setWindowIcon(QIcon(str(icon)))
        self.setAcceptDrops(True)
        self._pending_recent: str | None = None
        self._shut_down = False
        self._adopt_pending = False
        self._deep_tips_pending = False
        self.theme = ThemeController(self.settings.theme, self)

        #: made right after the first paint, or when first needed (see session)
        self._session: DatasetSession | None = None
        self._painted = False
        self._preloader: JobWorker | None = None

        self._message_bar: MessageBar | None = None  # made after the first paint (see message_bar)
        self.welcome = WelcomePage()
        self._browser: DatasetBrowser | None = None
        self._grid: PreviewGrid | None = None
        self._details: DetailsPanel | None = None
        self._splitter: QSplitter | None = None
        self._augmentation: AugmentationWorkspace | None = None  # editor dock, the grid's tabs, Augment…
        self._curation: CurationWorkspace | None = None  # review tab, rules and statistics docks
        self._generators: GeneratorWorkspace | None = None  # the Generators dock
        #: what the first open still has to build, one per event-loop turn (see _start_stages)
        self._stages: list[str] = []
        self._stage_loader: JobWorker | None = None
        self._stage_timer_pending = False
        self._in_stage = False

        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self._column = column  # the message bar goes on top of it
        column.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self._build_status_bar()
        self._build_menus()
        self._build_toolbar()
        self._connect()
        self._restore_state()
        self._refresh_recent()
        self._show_page()

    # ---- the workspace, built on first use ------------------------------------------------------
    @property
    def has_workspace(self) -> bool:
        return self._splitter is not None

    @property
    def browser(self) -> DatasetBrowser:
        self._ensure_workspace()
        assert self._browser is not None
        return self._browser

    @property
    def grid(self) -> PreviewGrid:
        self._ensure_workspace()
        assert self._grid is not None
        return self._grid

    @property
    def details(self) -> DetailsPanel:
        self._ensure_workspace()
        assert self._details is not None
        return self._details

    @property
    def splitter(self) -> QSplitter:
        self._ensure_workspace()
        assert self._splitter is not None
        return self._splitter

    @property
    def augmentation(self) -> AugmentationWorkspace | None:
        """The policy editor dock, the grid's tabs and the Augment… flow (None before the first open;
        built now if the first open is still building it)."""
        if self._augmentation is None and self._stages:
            self._finish_stages(until="augmentation")
        return self._augmentation

    @property
    def curation(self) -> CurationWorkspace | None:
        """The review tab, rules, statistics and evaluate docks (their panels build when first shown)."""
        self._finish_stages()
        return self._curation

    @property
    def generators(self) -> GeneratorWorkspace | None:
        """The Generators dock (its panel builds when first shown)."""
        self._finish_stages()
        return self._generators

    def build_panels(self) -> None:
        """Build every panel now, the ones still hidden included (the shortcuts dialog lists their
        keys); nothing when no dataset was ever opened."""
        if self._splitter is None and not self._stages:
            return
        self._finish_stages()
        if self._curation is not None:
            self._curation.build_panels()
        if self._generators is not None:
            self._generators.build_panel()
        self._adopt_workspace_actions()

    # ---- the first open, in stages -------------------------------------------------------------
    def _ensure_workspace(self) -> None:
        """Build the browser, grid and details now (and the augmentation workspace), whatever stages
        are still pending: code that needs them at once."""
        if self._splitter is None:
            self._start_stages()
            self._finish_stages(until="splitter")

    def _start_stages(self) -> None:
        """Begin building the workspace and the panels, one stage per event-loop turn."""
        if self._splitter is not None or self._stages or self._shut_down:
            return
        self._stages = [*WORKSPACE_STAGES, *PANEL_STAGES]
        self._next_stage()

    @property
    def is_building(self) -> bool:
        """Whether stages of the first open are still pending."""
        return bool(self._stages)

    def _schedule_stage(self) -> None:
        if not self._stage_timer_pending:
            self._stage_timer_pending = True
            QTimer.singleShot(STAGE_GAP_MS, self, self._on_stage_timer)

    def _on_stage_timer(self) -> None:
        self._stage_timer_pending = False
        self._next_stage()

    def _next_stage(self) -> None:
        if self._shut_down or not self._stages or self._stage_loader is not None:
            return
        stage = self._stages.pop(0)
        if stage in STAGE_IMPORTS:
            if all(name in sys.modules for name in STAGE_MODULES[stage]):  # (preloaded: see _preload)
                self._schedule_stage()
                return
            # The modules load in a job thread; the next stage runs when it is done.
            from genaug_desktop.gui.worker import JobWorker

            loader = self._stage_loader = JobWorker(STAGE_IMPORTS[stage], name=f"load-{stage[7:]}")
            loader.finished.connect(lambda job=loader: self._on_stage_imported(job))
            loader.start()
            return
        self._run_stage(stage)
        if self._stages:
            self._schedule_stage()

    def _on_stage_imported(self, job: JobWorker) -> None:
        if job is self._stage_loader:
            self._stage_loader = None
            self._schedule_stage()  # (a turn of its own, not the one that delivered this signal)

    def _finish_stages(self, until: str | None = None) -> None:
        """Run, now, the pending stages up to *until* (all of them by default): for code that needs
        a panel at once. The modules a loader is still importing load on this thread instead."""
        if self._shut_down or not self._stages or self._in_stage:
            return  # (a stage's own code asking: it gets what exists)
        if self._stage_loader is not None:
            self._stage_loader.wait()
            self._stage_loader = None
        while self._stages:
            stage = self._stages.pop(0)
            if stage not in STAGE_IMPORTS:
                self._run_stage(stage)
            if stage == until:
                break
        if self._stages:
            self._schedule_stage()

    def _run_stage(self, stage: str) -> None:
        self._in_stage = True
        try:
            self._build_stage(stage)
        finally:
            self._in_stage = False

    def _build_stage(self, stage: str) -> None:
        if stage == "browser":
            from genaug_desktop.gui.dataset_browser import DatasetBrowser

            browser = self._browser = DatasetBrowser(self.session)
            browser.setMinimumWidth(200)
            browser.problem_activated.connect(self._on_problem_activated)
            # Built after the dataset opened (and maybe loaded): it missed those signals.
            if self.session.is_open:
                browser._on_opened(self.session.title)  # noqa: SLF001
                if self.session.state is not None and self.session.state.loaded:
                    browser._on_loaded()  # noqa: SLF001
        elif stage == "grid":
            from genaug_desktop.gui.preview_grid import PreviewGrid

            grid = self._grid = PreviewGrid(self.session)
            grid.set_thumbnail_size(self.settings.thumbnail_size)
            grid.current_item_changed.connect(self._on_current_item)
            grid.selection_changed.connect(self._on_selection)
            grid.thumbnail_size_changed.connect(self._on_size_changed)
        elif stage == "details":
            from genaug_desktop.gui.details import DetailsPanel

            details = self._details = DetailsPanel()
            details.setMinimumWidth(240)
            details.preview_failed.connect(self._on_preview_failed)
        elif stage == "augmentation":
            from genaug_desktop.gui.augmentation import AugmentationWorkspace

            assert self._grid is not None
            augmentation = self._augmentation = AugmentationWorkspace(self, self._grid)  # the grid's tabs, the editor dock
            if self.session.state is not None and self.session.state.loaded:
                augmentation._on_loaded()  # noqa: SLF001  (it missed the signal: modality, classes)
        elif stage == "splitter":
            self._build_splitter()
        elif stage == "curation":
            from genaug_desktop.gui.curation import CurationWorkspace

            self._curation = CurationWorkspace(self, self._augmentation)
        elif stage == "generators":
            from genaug_desktop.gui.generator_panel import GeneratorWorkspace

            self._generators = GeneratorWorkspace(self)

    def _build_splitter(self) -> None:
        """Put the browser, the grid's tabs and the details side by side and show them."""
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QSplitter

        assert self._browser is not None and self._details is not None and self._augmentation is not None
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("workspaceSplitter")
        # The grid and the review need room the bottom docks must not take; small enough that the
        # window still fits a 768-pixel screen.
        splitter.setMinimumHeight(WORKSPACE_MIN_HEIGHT)
        splitter.addWidget(self._browser)
        splitter.addWidget(self._augmentation.grid_tabs)  # the grid, and the review tab
        splitter.addWidget(self._details)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        self.stack.addWidget(splitter)
        state = self.settings.byte_array("window/splitter")
        if state is None or not splitter.restoreState(state):
            # First run: share the width by proportion, so a small screen still gets a usable grid.
            width = max(self.width(), 600)
            side, right = int(width * 0.22), int(width * 0.27)
            splitter.setSizes([side, width - side - right, right])
        self._browser.setVisible(self.toggle_browser_action.isChecked())
        self._details.setVisible(self.toggle_details_action.isChecked())
        self._splitter = splitter
        if self.session.is_open:
            self._show_page()
            self._focus_grid()
            if self.session.state is not None and self.session.state.loaded:
                self._select_first_item()

    def _set_panel_visible(self, which: str, shown: bool) -> None:
        if which == "editor":
            if self._augmentation is not None:
                self._augmentation.update_dock()
            return
        panel = {"browser": self._browser, "details": self._details}[which]
        if panel is not None:
            panel.setVisible(shown)

    # ---- construction ----------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setSizeGripEnabled(True)
        self.summary_label = QLabel("")
        self.summary_label.setObjectName("summary")
        self.progress_label = QLabel("")
        self.progress_label.setStyleSheet("color: palette(placeholder-text);")
        self.progress_bar = QProgressBar()
        self.progress_bar.setFixedWidth(180)
        self.progress_bar.setMaximumHeight(16)
        self.progress_bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop loading; the items read so far stay")
        bar.addWidget(self.summary_label, 1)
        bar.addPermanentWidget(self.progress_label)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)
        self._pending_progress: Progress | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setInterval(PROGRESS_INTERVAL_MS)
        self._progress_timer.timeout.connect(self._show_progress)
        self._set_busy(False)

    def _build_menus(self) -> None:
        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        self.open_dataset_action = self._action(
            "&Open Dataset…", self.open_dataset_dialog, QKeySequence.StandardKey.Open, file_menu,
            "Open a folder of images (flat, or one subfolder per class)", "open-dataset", "Open Dataset")
        self.open_text_action = self._action(
            "Open &Text File…", self.open_text_dialog, "Ctrl+Shift+T", file_menu,
            "Open a text dataset: .txt, .csv, .tsv or .jsonl", "open-text", "Open Text")
        self.open_project_action = self._action(
            "Open &Project…", self.open_project_dialog, "Ctrl+Shift+O", file_menu,
            "Open a project (a NAME.genaug folder) with its candidates, rules and decisions",
            "open-project", "Open Project")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.setIcon(icon("recent"))
        self.recent_menu.menuAction().setStatusTip("Open a dataset or project opened before")
        self.recent_menu.aboutToShow.connect(self._refresh_recent)
        sample_menu = file_menu.addMenu("Open &Sample")
        sample_menu.setIcon(icon("open-sample"))
        sample_menu.menuAction().setStatusTip("Open a small dataset that comes with the app, to try things out")
        self._action("&Images", lambda: self.open_sample("images"), None, sample_menu,
                     "Open the bundled shapes dataset (3 classes of images)")
        self._action("&Texts", lambda: self.open_sample("texts"), None, sample_menu,
                     "Open the bundled product reviews (3 classes of texts)")
        file_menu.addSeparator()
        self.export_action = self._action(
            "&Export…", self.open_export_dialog, "Ctrl+E", file_menu,
            "Export the accepted candidates (and the originals, if you like) with a manifest", "export", "Export")
        self.export_action.setEnabled(False)  # needs a project (see _update_project_actions)
        self.relink_action = self._action(
            "Relin&k Dataset…", lambda: self.relink_dataset(), None, file_menu,  # (not triggered's bool)
            "Point the project at its dataset's new place, after the dataset folder or file was moved",
            "open-dataset")
        self.relink_action.setEnabled(False)
        self.close_action = self._action(
            "&Close", self.close_dataset, QKeySequence.StandardKey.Close, file_menu,
            "Close the dataset or project and go back to the welcome page", "close")
        file_menu.addSeparator()
        quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit, file_menu,
                                   "Quit genaug-desktop (every decision is already saved)", "quit")
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        edit_menu = self.edit_menu = menus.addMenu("&Edit")
        self.preferences_action = self._action(
            "&Preferences…", self.show_preferences, "Ctrl+,", edit_menu,
            "Thumbnail size and cache, worker processes, theme and engine", "preferences")
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)

        view_menu = self.view_menu = menus.addMenu("&View")
        self._action("&Larger Thumbnails", lambda: self._step_size(+32), QKeySequence.StandardKey.ZoomIn, view_menu,
                     "Make the thumbnails in the grids larger", "zoom-in")
        self._action("&Smaller Thumbnails", lambda: self._step_size(-32), QKeySequence.StandardKey.ZoomOut,
                     view_menu, "Make the thumbnails in the grids smaller", "zoom-out")
        self._action("&Default Thumbnail Size", lambda: self.grid.set_thumbnail_size(DEFAULT_THUMBNAIL_SIZE),
                     "Ctrl+0", view_menu, f"Back to the default thumbnail size ({DEFAULT_THUMBNAIL_SIZE} px)",
                     "zoom-reset")
        view_menu.addSeparator()
        self.toggle_browser_action = self._toggle(
            "Dataset &Browser", "browser", "Ctrl+1", view_menu,
            "Show or hide the dataset browser: classes, filter and problems", "browser")
        self.toggle_details_action = self._toggle(
            "&Details", "details", "Ctrl+2", view_menu,
            "Show or hide the details of the current item", "details")
        self.toggle_editor_action = self._toggle(
            "&Policy Editor", "editor", "Ctrl+3", view_menu,
            "Show or hide the policy editor with its live preview", "policy-editor")
        view_menu.addSeparator()
        self._action("&Find…", self._focus_filter, QKeySequence.StandardKey.Find, view_menu,
                     "Filter the items by name, label or text", "find")

        self.policy_menu = menus.addMenu("P&olicy")  # filled by the augmentation workspace
        self.policy_menu.setEnabled(False)

        help_menu = self.help_menu = menus.addMenu("&Help")
        self._action("&User Guide", self.show_user_guide, QKeySequence.StandardKey.HelpContents, help_menu,
                     "Open the user guide: from opening a dataset to exporting", "user-guide")
        self.shortcuts_action = self._action(
            "&Keyboard Shortcuts", self.show_shortcuts, "Ctrl+/", help_menu,
            "List every keyboard shortcut, with a search box", "shortcuts")
        help_menu.addSeparator()
        about = self._action("&About genaug-desktop", self.show_about, None, help_menu,
                             "Versions of the app, Python, Qt, torch and nlpaug; licence", "about")
        about.setMenuRole(QAction.MenuRole.AboutRole)

    def _action(self, text: str, slot: object, shortcut: object, menu: QMenu, tip: str,
                icon_name: str | None = None, icon_text: str | None = None) -> QAction:
        action = QAction(text, self)
        # setShortcuts, not setShortcut: resolving setShortcut's overloads makes PySide load every
        # enum of the Qt namespace (~50 ms), which the first paint does not otherwise need.
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(shortcut)
        elif shortcut is not None:
            action.setShortcuts([QKeySequence(str(shortcut))])
        action.setStatusTip(tip)
        _tooltip_with_keys(action)
        if icon_name is not None:
            action.setIcon(icon(icon_name))
        if icon_text is not None:
            action.setIconText(icon_text)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _toggle(self, text: str, which: str, shortcut: str, menu: QMenu, tip: str, icon_name: str) -> QAction:
        action = self._action(text, lambda on: self._set_panel_visible(which, on), shortcut, menu, tip, icon_name)
        action.setCheckable(True)
        action.setChecked(True)
        return action

    # ---- the main toolbar ------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        """Open, augment, review, filter, generators, export: the actions of the menus, with icons.

        The workspace's actions exist once a dataset is open; until then a disabled stand-in with
        the same icon and text keeps each place, so the toolbar does not change shape.
        """
        from PySide6.QtCore import QSize

        bar = self.toolbar = QToolBar("Main Toolbar", self)
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setIconSize(QSize(20, 20))
        # Qt::ToolButtonTextBesideIcon (2), through the property: the first use of PySide's Qt
        # namespace builds all its ~90 enums (~30 ms), which the first paint does without.
        bar.setProperty("toolButtonStyle", TOOL_BUTTON_TEXT_BESIDE_ICON)
        self.addToolBar(bar)  # (the top area)
        own = {"open_dataset": self.open_dataset_action, "open_text": self.open_text_action,
               "open_project": self.open_project_action, "export": self.export_action}
        self._toolbar_slots: dict[str, QAction] = {}
        self._workspace_tools = QActionGroup(self)
        self._workspace_tools.setExclusionPolicy(QActionGroup.ExclusionPolicy.None_)
        for key in TOOLBAR_LAYOUT:
            if key == "|":
                bar.addSeparator()
                continue
            action = own.get(key)
            if action is None:
                icon_name, short, tip = WORKSPACE_ACTIONS[key]
                action = QAction(icon(icon_name), short, self)
                action.setStatusTip(f"{tip} (open a dataset first)")
                action.setEnabled(False)
                action.setObjectName(f"placeholder:{key}")
                action.setVisible(key not in OPTIONAL_TOOLS)  # holds the place, takes no room
            bar.addAction(action)
            self._toolbar_slots[key] = action
        toggle = bar.toggleViewAction()
        toggle.setText("&Toolbar")
        toggle.setStatusTip("Show or hide the main toolbar")
        self.view_menu.insertAction(self.view_menu.actions()[0], toggle)
        self.view_menu.insertSeparator(self.view_menu.actions()[1])

    def _workspace_actions(self) -> dict[str, QAction]:
        """The workspaces' menu actions that exist now, by key (see WORKSPACE_ACTIONS)."""
        found: dict[str, QAction | None] = {}
        aug = self._augmentation
        editor = aug.editor if aug is not None and aug.has_editor else None  # (never builds it)
        if editor is not None:
            found.update(augment=editor.augment_action, new_policy=editor.new_action,
                         open_policy=editor.open_action, save_policy=editor.save_action,
                         save_policy_as=editor.save_as_action)
        cur = self._curation  # (not self.curation: that builds pending panels at once)
        if cur is not None:
            found.update(review=cur.show_review_action, filter=cur.filter_action, propose=cur.propose_action,
                         rules=cur.rules_toggle, statistics=cur.stats_toggle)
            review = cur.built_panel("review")  # (not cur.review: that builds it)
            if review is not None:
                found.update(accept=review.accept_action, reject=review.reject_action,
                             accept_passed=review.accept_passed_action, review_undo=review.undo_action,
                             review_redo=review.redo_action)
        if self._generators is not None:
            found["generators"] = self._generators.toggle_action
        if cur is not None:  # the Evaluate panel, where there is one
            found["evaluate"] = getattr(cur, "evaluate_action", None)
        return {key: action for key, action in found.items() if isinstance(action, QAction)}

    def actionEvent(self, event: QActionEvent) -> None:
        # The workspaces add their actions to the window as they build; adopt them once the
        # workspace is assigned (after its constructor returns), on the next turn of the loop.
        super().actionEvent(event)
        if event.type() == QActionEvent.Type.ActionAdded:
            self.adopt_actions_soon()

    def adopt_actions_soon(self) -> None:
        """Adopt the workspaces' actions on the next turn (a panel built later added some)."""
        if not self._adopt_pending:
            self._adopt_pending = True
            QTimer.singleShot(0, self, self._adopt_workspace_actions)

    def _adopt_workspace_actions(self) -> None:
        """Icons, toolbar texts and status tips for the workspaces' actions; real actions in place of
        the toolbar's stand-ins; and a status tip for every menu action still without one."""
        self._adopt_pending = False
        if self._shut_down:
            return
        for key, action in self._workspace_actions().items():
            icon_name, short, tip = WORKSPACE_ACTIONS[key]
            if action.icon().isNull() or key in ("new_policy", "open_policy", "save_policy"):
                action.setIcon(icon(icon_name))  # one icon set: the editor's style icons included
            if not action.statusTip():
                action.setStatusTip(tip)
            _tooltip_with_keys(action)
            if action.iconText() == action.text().replace("&", "").rstrip("…"):
                action.setIconText(short)
            slot = self._toolbar_slots.get(key)
            if slot is not None:
                # Disabled with the group while nothing is open; each keeps its own state otherwise.
                self._workspace_tools.addAction(action)
            if slot is not None and slot is not action:
                self.toolbar.insertAction(slot, action)
                self.toolbar.removeAction(slot)
                self._toolbar_slots[key] = action
                if slot.objectName().startswith("placeholder:"):
                    slot.deleteLater()
        self._tip_menus(self._menus())
        if not self._deep_tips_pending:
            # The panels' own drop-down menus too, a moment later: finding them walks every
            # widget of the window (~10 ms), which the turn that adopts the actions need not pay.
            self._deep_tips_pending = True
            QTimer.singleShot(250, self, self._tip_all_menus)

    def _tip_all_menus(self) -> None:
        self._deep_tips_pending = False
        if not self._shut_down:
            self._tip_menus(self.findChildren(QMenu))

    def _tip_menus(self, menus: list[QMenu]) -> None:
        for menu in menus:
            if not menu.property("genaugTips"):
                menu.setProperty("genaugTips", True)
                menu.aboutToShow.connect(lambda m=menu: self._fill_status_tips(m))
            self._fill_status_tips(menu)

    def _menus(self) -> list[QMenu]:
        """The menus of the menu bar and their submenus, and the menus the window holds itself (not
        findChildren over the whole window: it walks every widget of every panel, ~10 ms)."""
        from PySide6.QtCore import Qt

        found: list[QMenu] = []
        todo = [a.menu() for a in self.menuBar().actions()]
        todo += self.findChildren(QMenu, options=Qt.FindChildOption.FindDirectChildrenOnly)
        while todo:
            menu = todo.pop()
            if isinstance(menu, QMenu) and menu not in found:
                found.append(menu)
                todo.extend(a.menu() for a in menu.actions() if a.menu() is not None)
        return found

    @staticmethod
    def _fill_status_tips(menu: QMenu) -> None:
        """A status tip for each action of *menu* that has none: its tooltip, when that says more."""
        for action in menu.actions():
            if action.isSeparator() or action.statusTip():
                continue
            text = action.text().replace("&", "").rstrip("…")
            tip = action.toolTip()
            if tip and tip.replace("&", "").rstrip("…") != text:
                action.setStatusTip(tip)
            elif action.menu() is not None:
                action.setStatusTip(f"{text} menu")
            else:  # an entry of a list made on the fly (presets): say where it is
                action.setStatusTip(f"{menu.title().replace('&', '')}: {text}")

    # ---- the session, made after the first paint ------------------------------------------------
    @property
    def session(self) -> DatasetSession:
        """What is open, shared by every panel. The welcome page does not need it: it is made right
        after the window's first paint (its modules, the list models, the thumbnail cache), or
        when something asks for it first."""
        if self._session is None:
            self._make_session()
        assert self._session is not None
        return self._session

    @property
    def message_bar(self) -> MessageBar:
        """The bar above the page for errors and notes. It is hidden until it has something to
        say, and its module loads the shared colours (and with them every enum of PySide's ``Qt``
        namespace, ~30 ms): it is made right after the first paint, or when first used."""
        if self._message_bar is None:
            from genaug_desktop.gui.message_bar import MessageBar

            bar = self._message_bar = MessageBar()
            self._column.insertWidget(0, bar)
        return self._message_bar

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self, self._after_first_paint)

    def _after_first_paint(self) -> None:
        """What the first frame does not show: the message bar, the session, the system's colour
        scheme (the theme guessed it from the palette; see ThemeController)."""
        if self._shut_down:
            return
        _ = self.message_bar
        if self._session is None:
            self._make_session()
        self.theme.follow_system()
        if self._splitter is None and not self._stages:
            from genaug_desktop.gui.worker import JobWorker

            preloader = self._preloader = JobWorker(_preload, name="preload")
            preloader.finished.connect(lambda: setattr(self, "_preloader", None))
            preloader.start()

    def _make_session(self) -> None:
        from genaug_desktop.gui.session import DatasetSession
        from genaug_desktop.gui.thumbnails import ThumbnailCache

        cache = ThumbnailCache(
            workers=self.settings.thumbnail_workers or None,
            byte_budget=self.settings.thumbnail_cache_mb * 1024 * 1024,
            parent=self,
        )
        s = self._session = DatasetSession(cache, self)
        self.cancel_button.clicked.connect(s.cancel)
        s.opened.connect(self._on_opened)
        s.closed.connect(self._show_page)
        s.progress_changed.connect(self._on_progress)
        s.busy_changed.connect(self._set_busy)
        s.loaded.connect(self._on_loaded)
        s.summary_changed.connect(self._update_summary)
        s.error_occurred.connect(self._on_error)
        for signal in (s.opened, s.loaded, s.closed):
            signal.connect(self._update_project_actions)
        s.notice.connect(self.message_bar.show_message)

    def _connect(self) -> None:
        self.theme.theme_changed.connect(lambda _theme: self.welcome.restyle())
        w = self.welcome
        w.open_dataset_requested.connect(self.open_dataset_dialog)
        w.open_text_requested.connect(self.open_text_dialog)
        w.open_project_requested.connect(self.open_project_dialog)
        w.open_sample_requested.connect(self.open_sample)
        w.open_path_requested.connect(self.open_path)

    # ---- opening ---------------------------------------------------------------------------------
    def open_path(self, path: str) -> None:
        """Open a dataset folder, a text file or a ``NAME.genaug`` project."""
        path = os.path.abspath(os.path.expanduser(path))
        if os.path.isdir(path):
            # The decoding processes take 0.2-1 s to start: begin before building the workspace.
            self.session.thumbnails.warm_up()
        self.message_bar.dismiss()
        self._pending_recent = path
        # A recent item deleted since: the session says so; the list then forgets it.
        gone = not os.path.exists(path) and path in self.settings.recent_paths()
        # The scan starts now; at the first open the workspace builds over the next turns of the
        # event loop (see _start_stages) and shows what was read by then.
        self.session.open_path(path)
        if gone:
            self.settings.remove_recent(path)
            self._refresh_recent()

    def open_sample(self, kind: str) -> None:
        path = sample_texts_file() if kind == "texts" else sample_images_dir()
        if not path.exists():
            self._on_error(f"the bundled sample {kind} are missing ({path}); reinstall genaug-desktop")
            return
        self.open_path(str(path))

    def open_dataset_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # dialogs load on first use, not at startup

        path = QFileDialog.getExistingDirectory(self, "Open Dataset Folder", self._dialog_dir())
        if path:
            self.open_path(path)

    def open_text_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, "Open Text Dataset", self._dialog_dir(), TEXT_FILE_FILTER)
        if path:
            self.open_path(path)

    def open_project_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path = QFileDialog.getExistingDirectory(self, "Open Project (a NAME.genaug folder)", self._dialog_dir())
        if path:
            self.open_path(path)

    def open_export_dialog(self) -> None:
        from genaug_desktop.gui.export_dialog import ExportDialog  # core export loads on first use

        if self.session.project is None:
            self.message_bar.show_message("info", "Export works on a project: use Policy > Augment… to create one.")
            return
        dialog = ExportDialog(self.session.project, self)
        dialog.exported.connect(lambda result: self.message_bar.show_message("info", result.summary()))
        dialog.exec()
        dialog.deleteLater()

    def relink_dataset(self, path: str | None = None) -> None:
        """File > Relink Dataset…: ask where the project's dataset is now (unless *path* says), check
        it in a dialog and, when the person confirms, store it; the project then opens again, so the
        source files are checked at their new place."""
        from genaug_desktop.gui.relink_dialog import RelinkDialog, choose_new_place  # loads on first use

        project = self.session.project
        if project is None or self.session.state is None:
            self.message_bar.show_message("info", "Relink works on a project: open its NAME.genaug folder first.")
            return
        path = path or choose_new_place(project, self)
        if not path:
            return
        dialog = RelinkDialog(project, self, path)
        dialog.exec()
        report = dialog.result_report
        dialog.deleteLater()
        if report is None:
            return
        self.open_path(self.session.state.path)  # reads the items again, and checks them where they are now
        self.message_bar.show_message("info", f"Relinked to {report.dataset_path}: {report.counts()}.")

    def _update_project_actions(self, *_args: object) -> None:
        has = self.session.project is not None
        self.export_action.setEnabled(has)
        self.export_action.setToolTip("" if has else "Export needs a project (a NAME.genaug folder)")
        self.relink_action.setEnabled(has)

    def close_dataset(self) -> None:
        self.message_bar.dismiss()  # what it said was about the dataset that closes
        if self._details is not None:
            self._details.show_item(None)
        self.session.close()

    def _dialog_dir(self) -> str:
        recent = self.settings.recent_paths()
        return os.path.dirname(recent[0]) if recent else os.path.expanduser("~")

    # ---- queries ---------------------------------------------------------------------------------
    def is_settled(self) -> bool:
        """Nothing loading and every visible thumbnail painted (the screenshot waits for this)."""
        if self._session is not None and self._session.is_busy:
            return False
        if self._details is not None and self._details.is_loading():
            return False
        if self._augmentation is not None and not self._augmentation.is_settled():
            return False
        if self._stages or (self._curation is not None and not self._curation.is_settled()):
            return False
        if self._generators is not None and not self._generators.is_settled():
            return False
        if self.stack.currentWidget() is self.welcome or self._grid is None:
            return True
        return self._grid.pending_visible_thumbnails() == 0

    def status_text(self) -> str:
        return self.summary_label.text()

    # ---- drag and drop ---------------------------------------------------------------------------
    @staticmethod
    def _dropped_path(urls: list[QUrl]) -> str | None:
        for url in urls:
            if url.isLocalFile() and url.toLocalFile():
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and self._dropped_path(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_path(event.mimeData().urls()) if event.mimeData().hasUrls() else None
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(path)

    # ---- session signals ---------------------------------------------------------------------------
    def _show_page(self) -> None:
        open_ = self._session is not None and self._session.is_open
        if open_ and self._splitter is None:
            self._start_stages()  # the workspace shows when its last stage is built
        else:
            self.stack.setCurrentWidget(self._splitter if open_ and self._splitter is not None else self.welcome)
        self.close_action.setEnabled(open_)
        self._workspace_tools.setEnabled(open_)
        if self._augmentation is not None:
            self._augmentation.update_dock()
        self.setWindowTitle(f"{self.session.title} — {APP_TITLE}" if open_ else APP_TITLE)
        if not open_:
            self._set_busy(False)
            self.summary_label.setText("")
            self._refresh_recent()

    def _on_opened(self, _title: str) -> None:
        if self._details is not None:
            self._details.show_item(None)
        self._show_page()  # (starts building the workspace at the first open)
        self._update_summary()
        self._focus_grid()

    def _focus_grid(self) -> None:
        if self._grid is not None and self._splitter is not None:
            self._grid.view.setFocus()

    def _on_loaded(self) -> None:
        if self._pending_recent:
            self.settings.add_recent(self._pending_recent)
            self._pending_recent = None
            self._refresh_recent()
        # A small dataset loads before the workspace's stages are done: what is loaded shows now
        # (the stages then build it in one go, much as before they existed).
        self._ensure_workspace()
        self._select_first_item()

    def _select_first_item(self) -> None:
        """Show something in the details panel straight away: the first item."""
        if self._grid is None:  # (the window is closing)
            return
        view = self._grid.view
        if not view.currentIndex().isValid() and self.session.proxy.rowCount():
            view.setCurrentIndex(self.session.proxy.index(0, 0))

    def _on_error(self, message: str) -> None:
        self.message_bar.show_error(message)
        self._pending_recent = None
        if self.session.is_open and self.session.items.rowCount() == 0:
            # Nothing could be read: back to the welcome page, with the error in view.
            self.session.close()

    def _on_progress(self, progress: Progress) -> None:
        """Show the job's progress, at most every PROGRESS_INTERVAL_MS.

        A scan reports every batch (dozens a second); each report re-lays out the status bar and
        repaints the bar (~6 ms), so reports in between are coalesced: the latest one is shown
        when the interval is up. The first report is shown at once.
        """
        self._pending_progress = progress
        if not self._progress_timer.isActive():
            self._show_progress()
            self._progress_timer.start()

    def _show_progress(self) -> None:
        progress, self._pending_progress = self._pending_progress, None
        if progress is None:
            self._progress_timer.stop()
            return
        if self.progress_label.text() != progress.message:
            self.progress_label.setText(progress.message)
        bar = self.progress_bar
        total = progress.total or 0
        if bar.maximum() != total or bar.minimum() != 0:
            bar.setRange(0, total)
        if total:
            bar.setValue(min(progress.done, total))

    def _set_busy(self, busy: bool) -> None:
        if not busy:
            self._pending_progress = None
            self._progress_timer.stop()
        self.progress_bar.setVisible(busy)
        self.progress_label.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if not busy:
            self.progress_label.setText("")
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)

    def _update_summary(self) -> None:
        self.summary_label.setText(self.session.summary_text() if self.session.is_open else "")

    def _on_current_item(self, item: Item | None) -> None:
        selected = len(self.grid.view.selectionModel().selectedIndexes())
        path = self.session.items.abspath(item) if item is not None else None
        self.details.show_item(item, path, max(1, selected))
        if self._augmentation is not None:
            self._augmentation.show_item(item, path)

    def _on_selection(self, items: list[Item]) -> None:
        current = self.details.item
        if current is not None and len(items) > 1:
            self.details.subtitle.setText(f"{len(items):,} items selected · showing {current.key}")

    def _on_problem_activated(self, problem: Problem) -> None:
        if not self.grid.select_key(problem.path):
            # A file the scan skipped has no cell: the details panel says why, and shows what it can.
            self.details.show_problem(problem, self.browser.problem_file(problem))

    def _on_preview_failed(self, path: str, reason: str) -> None:
        from genaug_desktop.core.datasets.model import Problem

        root = self.session.items.root
        rel = os.path.relpath(path, root).replace(os.sep, "/") if root else path
        self.session.problems.append_problems([Problem(rel, reason)])

    def _on_size_changed(self, size: int) -> None:
        self.settings.thumbnail_size = size

    def _step_size(self, delta: int) -> None:
        self.grid.set_thumbnail_size(self.grid.thumbnail_size + delta)

    def _focus_filter(self) -> None:
        if self.session.is_open:
            self.browser.filter_edit.setFocus()
            self.browser.filter_edit.selectAll()

    # ---- recent files ----------------------------------------------------------------------------
    def _refresh_recent(self) -> None:
        paths = self.settings.recent_paths()
        self.welcome.set_recent(paths)
        menu = self.recent_menu
        menu.clear()
        for path in paths:
            action = menu.addAction(path)
            exists = os.path.exists(path)
            action.setEnabled(exists)
            action.setStatusTip(f"Open {path}" if exists else f"{path} no longer exists")
            action.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
        if paths:
            menu.addSeparator()
            menu.addAction("Clear Recent", self._clear_recent).setStatusTip("Forget the recent datasets and projects")
        else:
            empty = menu.addAction("No recent items")
            empty.setStatusTip("Datasets and projects you open appear here")
            empty.setEnabled(False)

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self._refresh_recent()

    # ---- help, about, preferences -----------------------------------------------------------------
    def show_about(self) -> None:
        from genaug_desktop.gui.about import AboutDialog  # dialogs load on first use

        dialog = AboutDialog(self)
        dialog.exec()
        dialog.deleteLater()

    def show_shortcuts(self) -> None:
        from genaug_desktop.gui.shortcuts import ShortcutsDialog

        dialog = ShortcutsDialog(self, self)
        dialog.exec()
        dialog.deleteLater()

    def show_user_guide(self) -> None:
        from PySide6.QtGui import QDesktopServices

        from genaug_desktop.gui.about import user_guide_url

        url = user_guide_url()
        if not QDesktopServices.openUrl(url):
            self.message_bar.show_message("info", f"Could not open a browser; the user guide is at {url.toString()}")

    def show_preferences(self) -> None:
        from genaug_desktop.gui.preferences import PreferencesDialog

        dialog = PreferencesDialog(self.settings, self)
        dialog.applied.connect(self.apply_preferences)
        dialog.exec()
        dialog.deleteLater()

    def apply_preferences(self) -> None:
        """Apply what can change while running: theme, thumbnail size, thumbnail cache budget."""
        self.theme.set_preference(self.settings.theme)
        if self._session is not None:  # (one made later reads the settings then)
            self._session.thumbnails.byte_budget = self.settings.thumbnail_cache_mb * 1024 * 1024
        if self._grid is not None:
            self._grid.set_thumbnail_size(self.settings.thumbnail_size)

    # ---- window state ----------------------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self.settings.byte_array("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
            screen = QGuiApplication.primaryScreen()
            if screen is not None:
                area = screen.availableGeometry()
                self.resize(min(DEFAULT_SIZE[0], area.width()), min(DEFAULT_SIZE[1], area.height()))
                self.move(area.center() - self.rect().center())
        self.toolbar.setVisible(self.settings.bool_value("window/show_toolbar", True))
        for key, action in (
            ("window/show_browser", self.toggle_browser_action),
            ("window/show_details", self.toggle_details_action),
            ("window/show_editor", self.toggle_editor_action),
        ):
            action.setChecked(self.settings.bool_value(key, True))

    def save_state(self) -> None:
        s = self.settings
        s.set_byte_array("window/geometry", self.saveGeometry())
        s.set_value("window/show_toolbar", not self.toolbar.isHidden())
        s.set_value("window/show_browser", self.toggle_browser_action.isChecked())
        s.set_value("window/show_details", self.toggle_details_action.isChecked())
        s.set_value("window/show_editor", self.toggle_editor_action.isChecked())
        if self._augmentation is not None:
            s.set_byte_array("window/state", QByteArray(self.saveState()))  # the editor dock's place
        if self._splitter is not None and self._grid is not None:
            s.set_byte_array("window/splitter", QByteArray(self._splitter.saveState()))
            s.thumbnail_size = self._grid.thumbnail_size
        s.sync()

    def shutdown(self) -> None:
        """Stop every background job and worker process; safe to call more than once."""
        if self._shut_down:
            return
        self._shut_down = True
        if self._browser is not None:
            self._browser.shutdown()
        if self._details is not None:
            self._details.shutdown()
        for loader in (self._stage_loader, self._preloader):
            if loader is not None:
                loader.wait()
        self._stage_loader = self._preloader = None
        self._stages = []
        if self._curation is not None:
            self._curation.shutdown()
        if self._generators is not None:
            self._generators.shutdown()
        if self._augmentation is not None:
            self._augmentation.shutdown()
        if self._message_bar is not None:
            self._message_bar.shutdown()
        if self._session is not None:
            self._session.shutdown()
        worker = sys.modules.get("genaug_desktop.gui.worker")
        if worker is not None:  # (no job ever ran without it)
            worker.shutdown_all()
        ray_data = sys.modules.get("genaug_desktop.core.engine.ray_data")
        if ray_data is not None:  # (never imported when no job ran on Ray)
            ray_data.stop_local_ray()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.shutdown()
        super().closeEvent(event)


def _tooltip_with_keys(action: QAction) -> None:
    """"Export… (Ctrl+E)": the toolbar tooltip names the shortcut, unless the tooltip was written
    by hand (it then differs from the action's text)."""
    text = action.text().replace("&", "")
    keys = action.shortcuts()
    if keys and action.toolTip().replace("&", "") in (text, text.rstrip("…")):
        native = keys[0].toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{text.rstrip('…')} ({native})")


def main(argv: list[str] | None = None) -> int:
    from genaug_desktop.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
