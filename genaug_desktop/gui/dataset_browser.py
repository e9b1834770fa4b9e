"""The dataset browser: the classes with their counts, a filter box, and every problem found.

Picking a class or typing in the filter box narrows the session's filter proxy (so the grid
follows); typing is debounced so a 100,000-item dataset is filtered once per pause, not per key.

Run alone: ``python -m genaug_desktop.gui.dataset_browser [DATASET]``.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.gui.colors import SUCCESS_INK, ink_sheet, themed_style_sheet
from genaug_desktop.gui.delegates import ProblemDelegate
from genaug_desktop.gui.models import ClassCountModel, ProblemListModel
from genaug_desktop.gui.session import DatasetSession
from genaug_desktop.gui.timers import tracked_timer

if TYPE_CHECKING:
    from genaug_desktop.core.datasets.model import Problem

FILTER_DELAY_MS = 150
#: The same problem activated again within this many seconds is the same gesture (a double-click).
REPEAT_S = 0.6


def _section_label(text: str) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    label.setStyleSheet("color: palette(window-text); padding: 6px 2px 2px 2px;")
    return label


class DatasetBrowser(QWidget):
    """Dataset name, filter box, class list ("All" + each class with its count) and problems.

    ``problem_activated(Problem)`` fires when a problem is clicked, double-clicked or activated (once a gesture);
    :meth:`problem_file` says where its file is, for the details panel (:meth:`DetailsPanel.show_problem`).
    """

    problem_activated = Signal(object)

    def __init__(self, session: DatasetSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._last_shown: tuple[Problem | None, float] = (None, 0.0)

        self.name_label = QLabel("No dataset")
        name_font = QFont(self.name_label.font())
        name_font.setPointSizeF(name_font.pointSizeF() + 2)
        name_font.setBold(True)
        self.name_label.setFont(name_font)
        self.name_label.setWordWrap(True)
        self.path_label = QLabel("")
        self.path_label.setStyleSheet("color: palette(placeholder-text);")
        self.path_label.setWordWrap(True)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: name, label or text")
        self.filter_edit.setClearButtonEnabled(True)
        self._filter_timer = tracked_timer(self, FILTER_DELAY_MS, timeout=self._apply_filter)
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        self.filter_edit.returnPressed.connect(self._apply_filter)

        self.class_view = QTreeView()
        self.class_view.setModel(session.classes)
        self.class_view.setRootIsDecorated(False)
        self.class_view.setUniformRowHeights(True)
        self.class_view.setAlternatingRowColors(False)
        self.class_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.class_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.class_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.class_view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.class_view.selectionModel().currentRowChanged.connect(self._on_class_changed)

        self.problems_label = _section_label("Problems")
        self.problem_view = QListView()
        self.problem_view.setModel(session.problems)
        self.problem_view.setItemDelegate(ProblemDelegate(self.problem_view))
        self.problem_view.setUniformItemSizes(True)
        self.problem_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.problem_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.problem_view.setMouseTracking(True)
        # A click shows the problem (the details panel, or its item in the grid); so do Enter and a double-click.
        self.problem_view.clicked.connect(self._on_problem_activated)
        self.problem_view.activated.connect(self._on_problem_activated)
        self.problem_view.doubleClicked.connect(self._on_problem_activated)
        self.no_problems = QLabel("No problems found.")
        themed_style_sheet(self.no_problems, ink_sheet(SUCCESS_INK, "padding: 2px 4px;"))  # (#15803d was 2.7:1 on dark)

        classes_box = QWidget()
        classes_layout = QVBoxLayout(classes_box)
        classes_layout.setContentsMargins(0, 0, 0, 0)
        classes_layout.setSpacing(2)
        classes_layout.addWidget(_section_label("Classes"))
        classes_layout.addWidget(self.class_view)
        problems_box = QWidget()
        problems_layout = QVBoxLayout(problems_box)
        problems_layout.setContentsMargins(0, 0, 0, 0)
        problems_layout.setSpacing(2)
        problems_layout.addWidget(self.problems_label)
        problems_layout.addWidget(self.no_problems)
        problems_layout.addWidget(self.problem_view, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(classes_box)
        self.splitter.addWidget(problems_box)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([260, 240])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(6)
        layout.addWidget(self.name_label)
        layout.addWidget(self.path_label)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.splitter, 1)
        for view in (self.class_view, self.problem_view):
            view.setFrameShape(QFrame.Shape.StyledPanel)

        session.opened.connect(self._on_opened)
        session.closed.connect(self._on_closed)
        session.problems.count_changed.connect(self._update_problem_count)
        session.loaded.connect(self._on_loaded)
        session.classes.modelReset.connect(self._select_current_filter)
        self._update_problem_count(session.problems.rowCount())
        self._select_current_filter()

    # ---- public ----------------------------------------------------------------------------------
    def select_class(self, label: str | None) -> bool:
        """Select the class *label* (None: All); False if there is no such class."""
        row = self.session.classes.row_of(label)
        if row is None:
            return False
        self.class_view.setCurrentIndex(self.session.classes.index(row, 0))
        return True

    def set_filter_text(self, text: str) -> None:
        """Set the filter box and apply it at once (no debounce)."""
        self.filter_edit.setText(text)
        self._apply_filter()

    def shutdown(self) -> None:
        self._filter_timer.stop()

    # ---- slots -----------------------------------------------------------------------------------
    def _apply_filter(self) -> None:
        self._filter_timer.stop()
        self.session.proxy.set_filter_text(self.filter_edit.text())

    def _on_class_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        label = current.data(ClassCountModel.FilterRole) if current.isValid() else None
        self.session.proxy.set_filter_label(label)

    def _select_current_filter(self) -> None:
        row = self.session.classes.row_of(self.session.proxy.filter_label)
        if row is not None:
            self.class_view.selectionModel().setCurrentIndex(
                self.session.classes.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
            )

    def _on_opened(self, title: str) -> None:
        self.name_label.setText(title)
        state = self.session.state
        self.path_label.setText(state.path if state is not None else "")
        self.path_label.setToolTip(state.path if state is not None else "")
        self.filter_edit.blockSignals(True)
        self.filter_edit.clear()
        self.filter_edit.blockSignals(False)
        self._filter_timer.stop()
        self._select_current_filter()

    def _on_closed(self) -> None:
        self.name_label.setText("No dataset")
        self.path_label.setText("")
        self._filter_timer.stop()

    def _on_loaded(self) -> None:
        self._update_problem_count(self.session.problems.rowCount())

    def _update_problem_count(self, count: int) -> None:
        self.problems_label.setText(f"Problems ({count:,})")
        # "No problems" only once everything is read; while loading, more may still come.
        finished = self.session.state is not None and self.session.state.loaded
        self.no_problems.setVisible(count == 0 and finished)
        self.problem_view.setVisible(not (count == 0 and finished))

    def _on_problem_activated(self, index: QModelIndex) -> None:
        problem = index.data(ProblemListModel.ProblemRole)
        if problem is None:
            return
        now = time.monotonic()
        if problem == self._last_shown[0] and now - self._last_shown[1] < REPEAT_S:
            return  # a double-click is also a click (and Enter both activates and ...): say it once
        self._last_shown = (problem, now)
        self.problem_activated.emit(problem)

    def problem_file(self, problem: Problem) -> str:
        """Where *problem*'s file is on disk (problem paths are relative to the dataset's folder)."""
        root = self.session.items.root
        return os.path.join(root, *problem.path.split("/")) if root else problem.path


def main(argv: list[str] | None = None) -> int:
    from genaug_desktop.gui.demo import run_panel_demo

    return run_panel_demo(lambda session: DatasetBrowser(session), argv, title="Dataset browser", size=(340, 640))


if __name__ == "__main__":
    raise SystemExit(main())
