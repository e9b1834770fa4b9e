"""The rules panel: propose rules from the real data, try them, approve them, run the filter.

The list shows every rule of the project with its state (proposed, approved, disabled), how many
pending candidates it would reject on its own (a dry run of each rule, in the background) and how
many it has rejected. The selected rule shows its explanation and a form for its thresholds
(generated from the rule's parameter declaration by :class:`ParamForm`); every edit starts a new
dry run of the edited rule (debounced; newest wins), and "Show in Review" narrows the review grid
to the candidates it would reject. Approve saves the edits and approves; Disable, Dismiss and
Save do what they say, each one committed by the core rule store.

"Run filter now" applies the approved rules to the pending candidates (core ``filter_job``, with
progress and Cancel); the window also calls :meth:`RulesPanel.run_filter` after every
augmentation job.

Dry runs share one core :class:`RuleContext` per project (decoded sources, hashes and
vocabularies are computed once). A context serves one run at a time, so a newer request aborts
the running dry run and starts when it has stopped.

Run alone: ``python -m genaug_desktop.gui.rules_panel PROJECT.genaug``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.core.jobs import Progress
from genaug_desktop.gui import roles
from genaug_desktop.gui.colors import (
    MUTED_TEXT,
    RULE_APPROVED,
    RULE_STATE_COLORS,
    WARNING_INK,
    follow_theme,
    rule_chip_style,
)
from genaug_desktop.core.formatting import plural
from genaug_desktop.gui.settings import AppSettings
from genaug_desktop.gui.timers import tracked_timer
from genaug_desktop.gui.worker import JobSlot, JobWorker

if TYPE_CHECKING:
    from genaug_desktop.core.jobs import CancelToken, Job
    from genaug_desktop.core.rules import DryRunResult, FilterResult, Rejection, Rule, RuleContext
    from genaug_desktop.core.store.project import Project
    from genaug_desktop.gui.param_form import ParamForm

AnyIndex = QModelIndex | QPersistentModelIndex
RuleObjectRole = roles.USER + 60
EDIT_DEBOUNCE_MS = 300
SURVEY_DEBOUNCE_MS = 1500

STATE_COLORS = RULE_STATE_COLORS  # switched with the theme, in place


def params_key(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, default=list)


@dataclass(frozen=True, slots=True)
class DryRunOutcome:
    """One rule's dry run, as the panel keeps it: for which thresholds, and what it found."""

    rule_id: str
    params: str
    result: DryRunResult
    checked_ids: frozenset[int] = frozenset()  # the pending candidates it looked at

    def rejections(self, gone: set[int] | frozenset[int] = frozenset()) -> list[Rejection]:
        """What it would reject, less the candidates decided since (*gone*)."""
        return [r for r in self.result.rejections if r.candidate_id not in gone]

    def checked(self, gone: set[int] | frozenset[int] = frozenset()) -> int:
        return len(self.checked_ids - gone) if gone else len(self.checked_ids)


def survey_job(
    project: Project, rules: Sequence[Rule], ctx: RuleContext, cancel: CancelToken,
) -> Job[list[DryRunOutcome]]:
    """Dry-run each rule on its own over the pending candidates (one after the other, sharing
    *ctx*); each finished rule arrives as a progress payload."""
    from genaug_desktop.core.rules import dry_run_job

    out: list[DryRunOutcome] = []
    for n, rule in enumerate(rules):
        job = dry_run_job(project, [rule], ctx=ctx, cancel=cancel)
        while True:
            try:
                next(job)
            except StopIteration as stop:
                result = stop.value
                break
        checked = frozenset(result.measured.get(rule.id, ((), ()))[0])  # a rule alone looks at every one
        outcome = DryRunOutcome(rule.id, params_key(rule.values), result, checked)
        out.append(outcome)
        yield Progress(n + 1, len(rules), f"Dry run: {rule.id}", payload=[outcome])
    return out


class RuleTableModel(QAbstractTableModel):
    """The project's rules: title and id, state, would reject (dry run), has rejected."""

    HEADERS = ("Rule", "Checks", "State", "Would reject", "Rejected")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rules: list[Rule] = []
        self.rejected: dict[str, int] = {}
        self.would: dict[str, int] = {}
        self.edited: set[str] = set()

    def set_rules(self, rules: list[Rule], rejected: dict[str, int]) -> None:
        self.beginResetModel()
        self.rules = list(rules)
        self.rejected = dict(rejected)
        self.would = {k: v for k, v in self.would.items() if any(r.id == k for r in rules)}
        self.endResetModel()

    def set_would(self, rule_id: str, count: int | None) -> None:
        if count is None:
            self.would.pop(rule_id, None)
        else:
            self.would[rule_id] = count
        row = self.row_of(rule_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, 3), self.index(row, 3))

    def set_edited(self, rule_id: str, edited: bool) -> None:
        (self.edited.add if edited else self.edited.discard)(rule_id)
        row = self.row_of(rule_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, 0))

    def row_of(self, rule_id: str) -> int | None:
        return next((i for i, r in enumerate(self.rules) if r.id == rule_id), None)

    def rule(self, row: int) -> Rule:
        return self.rules[row]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rules)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = roles.DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == roles.DISPLAY:
            return self.HEADERS[section]
        if orientation == Qt.Orientation.Horizontal and role == roles.TEXT_ALIGNMENT and section >= 3:
            return roles.ALIGN_RIGHT_VCENTER
        return None

    def data(self, index: AnyIndex, role: int = roles.DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rules):
            return None
        rule = self.rules[index.row()]
        col = index.column()
        if role == RuleObjectRole:
            return rule
        if role == roles.DISPLAY:
            if col == 0:
                return rule.id + (" *" if rule.id in self.edited else "")
            if col == 1:
                return rule.title
            if col == 2:
                return rule.state
            if col == 3:
                n = self.would.get(rule.id)
                return "…" if n is None else f"{n:,}"
            return f"{self.rejected.get(rule.id, 0):,}"
        if role == roles.FOREGROUND:
            if col == 2:
                return STATE_COLORS.get(rule.state)
            if col == 3 and self.would.get(rule.id):
                return WARNING_INK
            if col == 1 or rule.state == "disabled":
                return MUTED_TEXT
        if role == roles.FONT and col in (0, 2):
            font = QFont()
            font.setBold(col == 2)
            font.setItalic(col == 0 and rule.id in self.edited)
            return font
        if role == roles.TEXT_ALIGNMENT and col >= 3:
            return roles.ALIGN_RIGHT_VCENTER
        if role == roles.TOOLTIP:
            return f"{rule.title} ({rule.kind})\n\n{rule.explanation}" if rule.explanation else rule.title
        return None


class RulesPanel(QWidget):
    """Proposals, approval with dry runs, and the filter.

    Signals: ``browse_requested(ids, title, hints)`` (show these candidates in the review grid),
    ``filtered(FilterResult | None)`` after a filter run (None: cancelled, or rejections released),
    ``progress_changed(Progress)`` while filtering (proposing shows its progress in the panel only),
    ``rules_changed()`` after any rule edit or state change, ``notice(level, message)``,
    ``busy_changed(bool)`` (the filter running).
    """

    browse_requested = Signal(list, str, object)  # ids, title, {id: hint}
    filtered = Signal(object)
    progress_changed = Signal(object)
    rules_changed = Signal()
    notice = Signal(str, str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rulesPanel")
        self.project: Project | None = None
        self.model = RuleTableModel(self)
        self.outcomes: dict[str, DryRunOutcome] = {}
        self.edit_outcome: DryRunOutcome | None = None
        self.last_filter: FilterResult | None = None
        self._ctx: RuleContext | None = None
        self._edits: dict[str, dict[str, Any]] = {}
        self._form: ParamForm | None = None
        self._form_rule: str | None = None
        self._dry_slot = JobSlot(self)  # dry runs and surveys: one at a time (they share the context)
        self._running: tuple[str, list[Rule]] | None = None
        self._queued: dict[str, list[Rule]] = {}  # "edit" / "survey" -> rules, started when the running one ends
        self._propose_slot = JobSlot(self)
        self._filter_slot = JobSlot(self)
        self._edit_timer = tracked_timer(self, EDIT_DEBOUNCE_MS, timeout=self._dry_run_edit)
        self._edit_timer.setObjectName("rulesEditDebounce")
        self._survey_timer = tracked_timer(self, SURVEY_DEBOUNCE_MS, timeout=self.survey)
        self._survey_timer.setObjectName("rulesSurveyDebounce")
        self._survey_pending = False
        #: candidates decided (by people or the filter) since the dry runs: no longer pending
        self._gone: set[int] = set()
        self._build()
        self._show_empty()

    # ---- construction -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.propose_button = QPushButton("Propose Rules")
        self.propose_button.setToolTip("Measure the real data and propose rules with thresholds it passes (nothing is applied)")
        self.propose_button.clicked.connect(self.propose)
        self.filter_button = QPushButton("Run Filter Now")
        self.filter_button.setToolTip("Apply the approved rules to the pending candidates no person decided")
        self.filter_button.clicked.connect(lambda: self.run_filter())
        self.summary = QLabel()
        self.summary.setStyleSheet("color: palette(placeholder-text);")
        self.progress = QProgressBar()
        self.progress.setFixedWidth(140)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel()
        self.progress_label.setStyleSheet("color: palette(placeholder-text);")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the filter; candidates it already checked keep their verdicts")
        self.cancel_button.clicked.connect(self.cancel_filter)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.propose_button)
        top.addWidget(self.filter_button)
        top.addWidget(self.summary, 1)
        top.addWidget(self.progress_label)
        top.addWidget(self.progress)
        top.addWidget(self.cancel_button)

        self.table = QTableView()
        self.table.setObjectName("rulesTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col in (2, 3, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setHighlightSections(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_rule)

        # ---- the selected rule
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600; font-size: 11pt;")
        self.title.setWordWrap(True)
        self.state_label = QLabel()
        follow_theme(self.state_label, self._style_state_chip)
        self.kind_label = QLabel()
        self.kind_label.setStyleSheet("color: palette(placeholder-text);")
        self.kind_label.setWordWrap(True)
        heading = QHBoxLayout()
        heading.setContentsMargins(0, 0, 0, 0)
        heading.setSpacing(6)
        heading.addWidget(self.title)
        heading.addWidget(self.state_label)
        heading.addStretch(1)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explanation.setStyleSheet("color: palette(window-text);")
        self.form_holder = QVBoxLayout()
        self.form_holder.setContentsMargins(0, 4, 0, 4)

        self.dry_label = QLabel()
        self.dry_label.setObjectName("dryRunResult")
        self.dry_label.setWordWrap(True)
        self.browse_button = QPushButton("Show in Review")
        self.browse_button.setToolTip("Show the candidates this rule would reject in the review grid")
        self.browse_button.clicked.connect(self.browse_selected)
        dry = QFrame()
        dry.setObjectName("dryRunBox")
        dry.setStyleSheet("#dryRunBox { background: palette(alternate-base); border: 1px solid palette(midlight); border-radius: 6px; }")
        dry_row = QHBoxLayout(dry)
        dry_row.setContentsMargins(10, 6, 6, 6)
        dry_row.addWidget(self.dry_label, 1)
        dry_row.addWidget(self.browse_button)

        self.approve_button = QPushButton("Approve")
        def style_approve() -> None:  # the "approved" colour of the theme now (dark green was unreadable in dark)
            sheet = f"QPushButton:enabled {{ color: {RULE_APPROVED.name()}; font-weight: 600; }}"
            if sheet != self.approve_button.styleSheet():
                self.approve_button.setStyleSheet(sheet)

        style_approve()
        follow_theme(self.approve_button, style_approve)
        self.approve_button.setToolTip("Save the thresholds and let the filter apply this rule")
        self.approve_button.clicked.connect(self.approve_selected)
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Save the edited thresholds (the state stays as it is)")
        self.save_button.clicked.connect(self.save_selected)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Forget the edits")
        self.revert_button.clicked.connect(self.revert_selected)
        self.disable_button = QPushButton("Disable")
        self.disable_button.setToolTip("Stop applying this rule (what it rejected stays rejected unless you release it)")
        self.disable_button.clicked.connect(self.disable_selected)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Delete this proposal")
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        for b in (self.approve_button, self.save_button, self.revert_button, self.disable_button, self.dismiss_button):
            heading.addWidget(b)

        details = QWidget()
        column = QVBoxLayout(details)
        column.setContentsMargins(12, 8, 12, 8)
        column.setSpacing(6)
        column.addLayout(heading)
        column.addWidget(dry)  # first: what the rule would do is what a person decides on
        column.addWidget(self.kind_label)
        column.addWidget(self.explanation)
        column.addLayout(self.form_holder)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(details)
        self.no_rule = QLabel("Select a rule to see why it was proposed, try its thresholds and approve it.")
        self.no_rule.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_rule.setWordWrap(True)
        self.no_rule.setStyleSheet("color: palette(placeholder-text); padding: 16px;")
        self.detail_stack = QStackedWidget()
        self.detail_stack.addWidget(self.no_rule)
        self.detail_stack.addWidget(scroll)
        self._details_page = scroll

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail_stack)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 5)
        self.splitter.setChildrenCollapsible(False)
        self._sized = False

        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: palette(placeholder-text); padding: 24px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.splitter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self._set_filter_busy(False)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._sized and self.width() > 200:
            # First layout: the list gets 45%, the rule's details the rest (not the size hints' split).
            self._sized = True
            width = self.splitter.width() or self.width()
            self.splitter.setSizes([int(width * 0.45), width - int(width * 0.45)])

    # ---- project -------------------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        self._edit_timer.stop()
        self._survey_timer.stop()
        self._queued = {}
        for slot in (self._dry_slot, self._propose_slot, self._filter_slot):
            slot.abort()
        self._wait_dry_run()  # the old context must not be in use when it is dropped
        self.project = project
        self._ctx = None
        self._edits = {}
        self.outcomes = {}
        self.edit_outcome = None
        self._gone = set()
        self._survey_pending = False
        self.model.would = {}
        self.model.edited = set()
        self.reload()
        self._show_empty()
        if project is not None and self.model.rowCount():
            self.survey()

    def reload(self) -> None:
        """Read the rules and their rejection counts again (keeps the selected rule)."""
        from genaug_desktop.core.rules import list_rules, rejection_counts

        current = self.current_rule()
        if self.project is None:
            self.model.set_rules([], {})
        else:
            try:
                self.model.set_rules(list_rules(self.project), rejection_counts(self.project))
            except Exception as exc:  # a damaged rule row: say which, keep the panel usable
                self.model.set_rules([], {})
                self.notice.emit("error", f"Cannot read the project's rules: {exc}")
        for rule_id, outcome in self.outcomes.items():
            self.model.would[rule_id] = len(outcome.rejections(self._gone))
        self._update_summary()
        if self.model.rowCount():
            row = self.model.row_of(current.id) if current is not None else None
            self.select_rule(self.model.rule(row if row is not None else 0).id)
        else:
            self._show_rule(None)
        self._show_empty()

    def _show_empty(self) -> None:
        if self.project is None:
            self.empty.setText("Rules live in a project. Open a project (or press Augment…, which offers to create one) "
                               "to propose rules from the real data.")
            self.stack.setCurrentWidget(self.empty)
        elif not self.model.rowCount():
            self.empty.setText("No rules yet. Press Propose Rules: thresholds are learned from the real data, each one "
                               "explained, and nothing is rejected until you approve a rule.")
            self.stack.setCurrentWidget(self.empty)
        else:
            self.stack.setCurrentWidget(self.splitter)
        has = self.project is not None
        self.propose_button.setEnabled(has and not self._propose_slot.is_busy())
        self.filter_button.setEnabled(has and not self._filter_slot.is_busy())

    def _update_summary(self) -> None:
        states = [r.state for r in self.model.rules]
        if not states:
            self.summary.setText("")
            return
        parts = [f"{states.count(s):,} {s}" for s in ("approved", "proposed", "disabled") if states.count(s)]
        self.summary.setText(" · ".join(parts))

    def is_settled(self) -> bool:
        busy = any(s.is_busy() for s in (self._dry_slot, self._propose_slot, self._filter_slot))
        return not busy and not self._queued and not self._edit_timer.isActive() and not self._survey_timer.isActive()

    @property
    def is_filtering(self) -> bool:
        return self._filter_slot.is_busy()

    def shutdown(self) -> None:
        self._edit_timer.stop()
        self._survey_timer.stop()
        self._queued = {}
        for slot in (self._dry_slot, self._propose_slot, self._filter_slot):
            slot.abort()
            if slot.current is not None:
                slot.current.wait()

    # ---- selection ---------------------------------------------------------------------------------
    def current_rule(self) -> Rule | None:
        index = self.table.currentIndex()
        return self.model.rule(index.row()) if index.isValid() else None

    def select_rule(self, rule_id: str) -> bool:
        row = self.model.row_of(rule_id)
        if row is None:
            return False
        self.table.selectionModel().setCurrentIndex(
            self.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
        )
        self._show_rule(self.model.rule(row))  # also when it was already current (after a reload)
        return True

    def edited_rule(self) -> Rule | None:
        """The selected rule with the form's thresholds."""
        rule = self.current_rule()
        if rule is None:
            return None
        values = self._edits.get(rule.id)
        return rule.copy(values=values) if values is not None else rule

    def _on_current_rule(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_rule(self.model.rule(current.row()) if current.isValid() else None)

    def _style_state_chip(self) -> None:
        state = self.state_label.text().lower()
        sheet = f"QLabel {{ {rule_chip_style(state)} border-radius: 9px; padding: 1px 9px; font-weight: 600; }}"
        if state and sheet != self.state_label.styleSheet():
            self.state_label.setStyleSheet(sheet)

    def _show_rule(self, rule: Rule | None) -> None:
        from genaug_desktop.gui.param_form import ParamForm

        self._edit_timer.stop()
        if rule is None:
            self.detail_stack.setCurrentWidget(self.no_rule)
            self._form_rule = None
            return
        self.detail_stack.setCurrentWidget(self._details_page)
        self.title.setText(rule.title)
        self.state_label.setText(rule.state.capitalize())
        self._style_state_chip()
        measure = f" · measures {rule.measure}" if rule.measure else ""
        self.kind_label.setText(f"{rule.id} · {rule.kind}{measure}")
        self.explanation.setText(rule.explanation or rule.help)
        if self._form_rule != rule.id or (self._form is not None and self._form.param_set is not rule.params):
            if self._form is not None:
                self._form.hide()
                self.form_holder.removeWidget(self._form)
                self._form.deleteLater()
            self._form = None
            self._form_rule = rule.id
            # A rule without thresholds gets no form: ParamForm shows its "No parameters." label
            # before giving it a parent, which flashes a window of its own and takes the focus
            # from the main window (the keyboard review then stops answering).
            if rule.params.names():
                rule_type = type(rule)
                rule_id = rule.id
                self._form = ParamForm(rule.params, rule.values,
                                       validator=lambda v: rule_type(v, id=rule_id).values)
                self._form.setObjectName("ruleForm")
                self._form.values_changed.connect(self._on_values_changed)
                self.form_holder.addWidget(self._form)
        if self._form is not None:
            self._form.set_values(self._edits.get(rule.id, rule.values))
        self._update_buttons()
        self._show_dry_run()

    def _update_buttons(self) -> None:
        rule = self.current_rule()
        edited = rule is not None and rule.id in self._edits
        busy = self._filter_slot.is_busy()
        state = rule.state if rule is not None else ""
        self.approve_button.setEnabled(rule is not None and (state != "approved" or edited) and not busy)
        self.approve_button.setText("Save and Approve" if edited and state != "approved" else
                                    "Save" if edited else "Approve")
        self.save_button.setVisible(edited and state != "approved")
        self.revert_button.setEnabled(edited)
        self.revert_button.setVisible(edited)
        self.disable_button.setEnabled(state == "approved" and not busy)
        self.disable_button.setVisible(state == "approved")
        rejected = self.model.rejected.get(rule.id, 0) if rule is not None else 0
        self.dismiss_button.setEnabled(rule is not None and state != "approved" and not rejected)
        self.dismiss_button.setToolTip("Delete this rule" if not rejected else
                                       f"This rule rejected {plural(rejected, 'candidate')}: disable it instead")

    # ---- dry runs ----------------------------------------------------------------------------------
    def _context(self) -> RuleContext:
        from genaug_desktop.core.rules import RuleContext

        assert self.project is not None
        if self._ctx is None:
            self._ctx = RuleContext(self.project)
        return self._ctx

    def survey(self, force: bool = False) -> None:
        """Dry-run every rule on its own, to fill the "would reject" column. While the panel is
        hidden this waits until it is shown (a survey decodes every pending image once per rule)."""
        self._survey_timer.stop()
        if self.project is None or not self.model.rules:
            return
        if not force and not self.isVisible():
            self._survey_pending = True
            return
        self._survey_pending = False
        rules = [r.copy(values=self._edits[r.id]) if r.id in self._edits else r for r in self.model.rules]
        self._request_dry_run("survey", rules)

    def schedule_survey(self) -> None:
        """New candidates (a filter run after augmenting): redo the survey a little later."""
        if self.project is not None and self.model.rules:
            self._survey_timer.start()

    def note_decided(self, ids: list[int]) -> None:
        """People decided these candidates: no filter checks them again, so no dry run counts them;
        one that an undo made undecided again counts again.

        Cheaper than a new survey, and exact.
        """
        from genaug_desktop.gui.review_models import read_states

        if self.project is None:
            return
        try:
            states = read_states(self.project, [int(i) for i in ids])
        except Exception as exc:  # the database went away: the next survey corrects the counts
            self.notice.emit("error", f"Cannot read the decided candidates: {exc}")
            return
        for state in states:
            if state.status == "pending" and state.decided_by is None:
                self._gone.discard(state.id)
            else:
                self._gone.add(state.id)
        for rule_id, outcome in self.outcomes.items():
            self.model.set_would(rule_id, len(outcome.rejections(self._gone)))
        self._show_dry_run()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._survey_pending:
            self.survey()

    def _on_values_changed(self, values: dict[str, Any]) -> None:
        rule = self.current_rule()
        if rule is None:
            return
        if values == rule.values:
            self._edits.pop(rule.id, None)
        else:
            self._edits[rule.id] = values
        self.model.set_edited(rule.id, rule.id in self._edits)
        self._update_buttons()
        self.dry_label.setText("Checking the new thresholds…")
        self.browse_button.setEnabled(False)
        self._edit_timer.start()

    def _dry_run_edit(self) -> None:
        rule = self.edited_rule()
        if rule is None or self.project is None:
            return
        self._request_dry_run("edit", [rule])

    def _request_dry_run(self, kind: str, rules: list[Rule]) -> None:
        """Newest wins: a new edit aborts the running dry run and starts once it has stopped (an
        aborted survey runs again afterwards); a new survey replaces a queued one."""
        running = self._running
        if running is None or not self._dry_slot.is_busy():
            self._start_dry_run(kind, rules)
            return
        self._queued[kind] = rules
        if kind == "edit" or running[0] == "survey":
            if running[0] == "survey" and "survey" not in self._queued:
                self._queued["survey"] = running[1]
            self._dry_slot.abort()

    def _start_dry_run(self, kind: str, rules: list[Rule]) -> None:
        project = self.project
        if project is None:
            return
        self._running = (kind, rules)
        ctx = self._context()
        worker = JobWorker(lambda cancel: survey_job(project, rules, ctx, cancel), name=f"dry-run-{kind}")
        worker.progress.connect(lambda p, k=kind: self._on_dry_progress(k, p))
        worker.errored.connect(lambda message: self.notice.emit("error", f"Dry run failed: {message}"))
        worker.finished.connect(self._on_dry_finished)
        if kind == "survey":
            for r in rules:
                if r.id not in self.outcomes:
                    self.model.set_would(r.id, None)
        self._dry_slot.start(worker)

    def _wait_dry_run(self) -> None:
        current = self._dry_slot.current
        if current is not None:
            current.wait()

    def _on_dry_progress(self, kind: str, progress: Progress) -> None:
        if not isinstance(progress.payload, list):
            return
        for outcome in progress.payload:
            if kind == "edit":
                self.edit_outcome = outcome
            else:
                self.outcomes[outcome.rule_id] = outcome
                self.model.set_would(outcome.rule_id, len(outcome.rejections(self._gone)))
        self._show_dry_run()

    def _on_dry_finished(self) -> None:
        self._running = None
        for kind in ("edit", "survey"):  # the person's edit first
            rules = self._queued.pop(kind, None)
            if rules is not None and self.project is not None:
                self._start_dry_run(kind, rules)
                return

    def outcome_for(self, rule: Rule) -> DryRunOutcome | None:
        """The dry run of *rule* with exactly these thresholds, if one finished."""
        key = params_key(rule.values)
        for outcome in (self.edit_outcome, self.outcomes.get(rule.id)):
            if outcome is not None and outcome.rule_id == rule.id and outcome.params == key:
                return outcome
        return None

    def _show_dry_run(self) -> None:
        rule = self.edited_rule()
        if rule is None:
            return
        outcome = self.outcome_for(rule)
        if outcome is None:
            self.dry_label.setText("Dry run: checking what this rule would reject…")
            self.browse_button.setEnabled(False)
            return
        count = len(outcome.rejections(self._gone))
        checked = outcome.checked(self._gone)
        if not checked:
            text = "Dry run: there are no pending candidates to check."
        elif count:
            text = (f"Dry run: <b>would reject {count:,}</b> of {plural(checked, 'pending candidate')} "
                    f"({count / checked:.0%}).")
        else:
            text = f"Dry run: would reject none of the {plural(checked, 'pending candidate')}."
        rejected = self.model.rejected.get(rule.id, 0)
        if rejected:
            text += f" It has rejected {plural(rejected, 'candidate')} so far."
        self.dry_label.setText(text)
        self.browse_button.setEnabled(count > 0)

    def browse_selected(self) -> None:
        rule = self.edited_rule()
        outcome = self.outcome_for(rule) if rule is not None else None
        if rule is None or outcome is None:
            return
        rejections = outcome.rejections(self._gone)
        edited = " (with the edited thresholds)" if rule.id in self._edits else ""
        title = (f"Dry run: the {plural(len(rejections), 'candidate')} rule {rule.id}{edited} would reject. "
                 "Nothing was changed.")
        hints = {r.candidate_id: f"would reject: {r.reason}" for r in rejections}
        self.browse_requested.emit([r.candidate_id for r in rejections], title, hints)

    # ---- rule actions --------------------------------------------------------------------------------
    def _guard(self, action: str, fn: Any) -> bool:
        try:
            fn()
        except Exception as exc:  # the store says why (approved rule, rule in use, bad values)
            self.notice.emit("error", f"Cannot {action}: {exc}")
            return False
        return True

    def _save_edits(self, rule: Rule) -> bool:
        from genaug_desktop.core.rules import update_rule

        values = self._edits.get(rule.id)
        if values is None:
            return True
        assert self.project is not None
        project = self.project
        if not self._guard(f"save {rule.id}", lambda: update_rule(project, rule.id, values)):
            return False
        self._edits.pop(rule.id, None)
        self.model.set_edited(rule.id, False)
        if self.edit_outcome is not None and self.edit_outcome.rule_id == rule.id:
            self.outcomes[rule.id] = self.edit_outcome
        return True

    def approve_selected(self) -> bool:
        from genaug_desktop.core.rules import approve_rules

        rule = self.current_rule()
        if rule is None or self.project is None:
            return False
        project = self.project
        if not self._save_edits(rule):
            return False
        if rule.state != "approved" and not self._guard(f"approve {rule.id}", lambda: approve_rules(project, [rule.id])):
            return False
        self.notice.emit("info", f"Rule {rule.id} is approved: Run Filter Now applies it to the pending candidates "
                                 "(it also runs after every augmentation).")
        self._changed()
        return True

    def save_selected(self) -> bool:
        rule = self.current_rule()
        if rule is None or self.project is None or not self._save_edits(rule):
            return False
        self._changed()
        return True

    def revert_selected(self) -> None:
        rule = self.current_rule()
        if rule is None:
            return
        self._edits.pop(rule.id, None)
        self.model.set_edited(rule.id, False)
        self.edit_outcome = None
        self._show_rule(rule)

    def disable_selected(self) -> bool:
        from genaug_desktop.core.rules import disable_rules, release_rejections

        rule = self.current_rule()
        if rule is None or self.project is None:
            return False
        project = self.project
        if not self._guard(f"disable {rule.id}", lambda: disable_rules(project, [rule.id])):
            return False
        rejected = self.model.rejected.get(rule.id, 0)
        if rejected:
            answer = QMessageBox.question(
                self, "Disable rule",
                f"Rule {rule.id} rejected {plural(rejected, 'candidate')}. Put them back to pending for review?\n\n"
                "Candidates a person decided are left alone.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
            )
            if answer == QMessageBox.StandardButton.Yes:
                released = [0]

                def release() -> None:
                    released[0] = release_rejections(project, rule.id)

                if self._guard(f"release the rejections of {rule.id}", release):
                    self._gone.clear()  # released candidates are pending and checkable again
                    self.schedule_survey()
                    self.notice.emit("info", f"{plural(released[0], 'candidate')} rejected by {rule.id} "
                                             "are pending again.")
                    self.filtered.emit(None)  # the candidates changed
        self._changed()
        return True

    def dismiss_selected(self) -> bool:
        from genaug_desktop.core.rules import dismiss_rules

        rule = self.current_rule()
        if rule is None or self.project is None:
            return False
        project = self.project
        if not self._guard(f"dismiss {rule.id}", lambda: dismiss_rules(project, [rule.id])):
            return False
        self._edits.pop(rule.id, None)
        self.outcomes.pop(rule.id, None)
        self._changed()
        return True

    def _changed(self) -> None:
        self.reload()
        self.rules_changed.emit()

    # ---- proposing -----------------------------------------------------------------------------------
    def propose(self) -> None:
        from genaug_desktop.core.rules import propose_job

        project = self.project
        if project is None or self._propose_slot.is_busy():
            return
        worker = JobWorker(lambda cancel: propose_job(project, cancel), name="propose-rules")
        # Shown in the panel only: the window labels progress_changed as the filter's.
        worker.progress.connect(self._show_progress)
        worker.returned.connect(self._on_proposed)
        worker.errored.connect(lambda message: self.notice.emit("error", f"Cannot propose rules: {message}"))
        worker.finished.connect(lambda: self._set_filter_busy(self._filter_slot.is_busy()))
        self._propose_slot.start(worker)
        self._set_filter_busy(True, cancellable=False)

    def _on_proposed(self, rules: list[Rule]) -> None:
        from genaug_desktop.core.rules import save_proposals

        project = self.project
        if project is None:
            return
        outcome = None

        def save() -> None:
            nonlocal outcome
            outcome = save_proposals(project, rules)

        if not self._guard("save the proposals", save) or outcome is None:
            return
        parts = [f"{len(outcome.added):,} new"]
        if outcome.updated:
            parts.append(f"{len(outcome.updated):,} updated")
        if outcome.kept:
            parts.append(f"{len(outcome.kept):,} you already approved or disabled kept as they are")
        self.notice.emit("info", f"Proposed {plural(len(rules), 'rule')} from the real data ({', '.join(parts)}). "
                                 "Nothing is rejected until you approve a rule.")
        for rule_id in outcome.updated:
            self.outcomes.pop(rule_id, None)
        self._changed()
        self.survey()

    # ---- filtering ------------------------------------------------------------------------------------
    def run_filter(self, candidate_ids: list[int] | None = None) -> bool:
        """Apply the approved rules in the background (to *candidate_ids*, or every pending
        candidate not yet checked by them). Returns False when there is nothing to apply."""
        from genaug_desktop.core.rules import approved_rules, filter_job

        project = self.project
        if project is None:
            return False
        try:
            if not approved_rules(project):
                return False
        except Exception as exc:
            self.notice.emit("error", f"Cannot read the approved rules: {exc}")
            return False
        ids = list(candidate_ids) if candidate_ids is not None else None
        engine = AppSettings().job_engine()  # Preferences: "local" or "ray"
        worker = JobWorker(lambda cancel: filter_job(project, cancel, candidate_ids=ids, engine=engine), name="filter")
        worker.progress.connect(self._on_filter_progress)
        worker.returned.connect(self._on_filtered)
        worker.errored.connect(lambda message: self.notice.emit("error", f"The filter failed: {message}"))
        worker.aborted.connect(self._on_filter_aborted)
        worker.finished.connect(self._on_filter_finished)
        self._filter_slot.start(worker)
        self._set_filter_busy(True)
        self.busy_changed.emit(True)
        return True

    def cancel_filter(self) -> None:
        self._filter_slot.abort()

    def _set_filter_busy(self, busy: bool, cancellable: bool = True) -> None:
        self.progress.setVisible(busy)
        self.progress_label.setVisible(busy)
        self.cancel_button.setVisible(busy and cancellable)
        if not busy:
            self.progress_label.setText("")
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
        else:
            self.progress.setRange(0, 0)
        has = self.project is not None
        self.filter_button.setEnabled(has and not self._filter_slot.is_busy())
        self.propose_button.setEnabled(has and not self._propose_slot.is_busy())
        if self.current_rule() is not None:
            self._update_buttons()

    def _on_filter_progress(self, progress: Progress) -> None:
        self.progress_changed.emit(progress)
        self._show_progress(progress)

    def _show_progress(self, progress: Progress) -> None:
        self.progress_label.setText(progress.message)
        if progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(min(progress.done, progress.total))

    def _on_filtered(self, result: FilterResult) -> None:
        self.last_filter = result
        self._gone.update(result.rejected_ids)
        level = "info"
        self.notice.emit(level, f"Filter: {result.summary()}.")
        self.filtered.emit(result)

    def _on_filter_aborted(self) -> None:
        self.notice.emit("info", "Filter cancelled: the candidates it already checked keep their verdicts; "
                                 "the next run goes on from there.")
        self.filtered.emit(None)

    def _on_filter_finished(self) -> None:
        if not self._filter_slot.is_busy():
            self._set_filter_busy(self._propose_slot.is_busy(), cancellable=False)
            self.busy_changed.emit(False)
            self.reload()
            self.schedule_survey()


def main(argv: list[str] | None = None) -> int:
    import sys

    from genaug_desktop.gui.demo import run_project_panel

    def build(project: Project) -> RulesPanel:
        panel = RulesPanel()
        panel.set_project(project)
        panel.notice.connect(lambda level, message: print(f"{level}: {message}", file=sys.stderr))
        panel.browse_requested.connect(lambda ids, title, _h: print(f"{title}: {ids}"))
        return panel

    return run_project_panel("rules_panel", "Rules of", (1100, 420), build, argv)

if __name__ == "__main__":
    raise SystemExit(main())
