"""The policy editor panel: op palette, step tree, generated parameter forms and a live preview.

Layout, left to right: the palette of the registry's ops for the current modality (by category,
pre-processing last, with search; ops that cannot run here are greyed with the reason), the
policy's steps as a tree (pre-processing, then random steps with their one_of / some_of /
sequence groups; check boxes enable steps, the p column is editable, rows can be dragged), the
settings of the selected step (forms generated from the op's parameter declarations) and the
preview of the selected item beside N variants.

The policy is held as its JSON document (``policy_document``); every edit replaces the document
through a command on a ``QUndoStack`` (Ctrl+Z / Ctrl+Shift+Z), so undo and redo cover every change,
and consecutive moves of one slider merge into one undo step. Each modality keeps its own
document and undo history, so opening a text dataset never throws away an unsaved image policy.

Run alone: ``python -m genaug_desktop.gui.policy_editor [IMAGE_OR_TEXT_FILE]``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QFontMetrics,
    QKeySequence,
    QPainter,
    QPen,
    QUndoCommand,
    QUndoGroup,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.core.params import Param, ParamError, params
from genaug_desktop.gui import policy_document as pd
from genaug_desktop.gui.colors import (
    CONDITION_BORDER,
    CONDITION_FILL,
    CONDITION_INK,
    ERROR_INK,
    HINT_INK,
    WARNING_INK,
    ink_sheet,
    themed_style_sheet,
)
from genaug_desktop.gui.param_form import ParamForm
from genaug_desktop.gui.policy_conditions import ConditionsEditor
from genaug_desktop.gui.policy_preview import PolicyPreview
from genaug_desktop.gui.policy_steps import (
    GROUP_HELP,
    GROUP_TITLES,
    SECTION_HELP,
    SECTION_TITLES,
    ConditionRole,
    OpNameRole,
    OpPaletteModel,
    PaletteFilter,
    PolicyStepModel,
    group_title,
    op_title,
)
from genaug_desktop.gui.preview_render import PreviewSource, unavailable_message
from genaug_desktop.gui.resources import resource_dir

if TYPE_CHECKING:
    from genaug_desktop.core.datasets.model import Item
    from genaug_desktop.core.policy import Policy

#: Consecutive edits of one field within this many seconds are one undo step (a slider drag).
MERGE_WINDOW_S = 2.0
POLICY_FILTER = "Policy files (*.json);;All files (*)"
#: The document a modality starts with: a preset, so the preview shows something at once.
INITIAL_PRESETS = {"image": "image_light", "text": "text_typos"}
_MUTED = "color: palette(placeholder-text);"
NAME_TIP = "The policy's name (saved in the file)"
_PANEL_TITLE = "font-weight: 600; padding: 2px 0;"


# ---- presets ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    path: str
    modality: str


def presets_dir() -> str:
    return str(resource_dir() / "presets")


def list_presets(modality: str | None = None) -> list[Preset]:
    """The bundled presets (optionally of one modality), by file name."""
    found = []
    folder = presets_dir()
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    except OSError:
        return []
    for name in names:
        path = os.path.join(folder, name)
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and (modality is None or data.get("modality") == modality):
            found.append(Preset(str(data.get("name") or name[:-5]), path, str(data.get("modality"))))
    return found


def initial_document(modality: str) -> pd.Document:
    path = os.path.join(presets_dir(), f"{INITIAL_PRESETS.get(modality, '')}.json")
    try:
        with open(path, encoding="utf-8") as fh:
            return pd.canonical(json.load(fh))
    except (OSError, ValueError):  # PolicyError is a ValueError too
        return pd.empty_document(modality)


# ---- undo -----------------------------------------------------------------------------------------------
class _EditCommand(QUndoCommand):
    """One edit: the document and the selected steps before and after."""

    def __init__(
        self, editor: PolicyEditor, text: str, before: pd.Document, after: pd.Document,
        select_before: list[pd.Path], select_after: list[pd.Path], merge_key: Any = None,
    ) -> None:
        super().__init__(text)
        self.editor = editor
        self.before, self.after = before, after
        self.select_before, self.select_after = select_before, select_after
        self.merge_key = merge_key
        self.at = time.monotonic()

    def id(self) -> int:
        return 1 if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _EditCommand) or other.merge_key != self.merge_key:
            return False
        if other.at - self.at > MERGE_WINDOW_S:
            return False
        self.after, self.select_after, self.at = other.after, other.select_after, other.at
        if self.after == self.before:
            self.setObsolete(True)
        return True

    def redo(self) -> None:
        self.editor._apply(self.after, self.select_after)

    def undo(self) -> None:
        self.editor._apply(self.before, self.select_before)


@dataclass(slots=True)
class _Draft:
    """One modality's document, file and undo history."""

    stack: QUndoStack
    document: pd.Document
    file_path: str | None = None


# ---- small widgets -----------------------------------------------------------------------------------------
class _ProbabilityDelegate(QStyledItemDelegate):
    """Edits the p column with a 0-1 spin box."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex) -> QWidget:
        spin = QDoubleSpinBox(parent)
        spin.setRange(0.0, 1.0)
        spin.setSingleStep(0.05)
        spin.setDecimals(2)
        spin.setFrame(False)
        return spin

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        value = index.data(Qt.ItemDataRole.EditRole)
        if isinstance(editor, QDoubleSpinBox) and isinstance(value, float):
            editor.setValue(value)

    def setModelData(self, editor: QWidget, model: Any, index: QModelIndex) -> None:
        if isinstance(editor, QDoubleSpinBox):
            editor.interpretText()
            model.setData(index, editor.value(), Qt.ItemDataRole.EditRole)


class _StepDelegate(QStyledItemDelegate):
    """Paints the step as usual, plus a badge at the right end for a step with conditions
    (``when label not in {6, 9}``), so they are visible without selecting the step."""

    # The shared colours, switched in place with the theme.
    BADGE_BG = CONDITION_FILL
    BADGE_FG = CONDITION_INK
    BADGE_BORDER = CONDITION_BORDER

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        summary = index.data(ConditionRole)
        if not summary:
            super().paint(painter, option, index)
            return
        text = compact_condition(summary)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        metrics = QFontMetrics(option.font)
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, opt.widget)
        # The step's title keeps its width (up to half the row); the badge takes what is left.
        title_w = min(metrics.horizontalAdvance(opt.text) + 8, option.rect.width() // 2)
        left = max(text_rect.left() + title_w, option.rect.left() + option.rect.width() // 3)
        room = option.rect.right() - left - 2
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(16, room - 10))
        badge_w = min(room, metrics.horizontalAdvance(shown) + 10)
        # The selection/hover background spans the whole row; the item's own text stops at the badge.
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, opt.widget)
        narrowed = QStyleOptionViewItem(option)
        narrowed.rect = option.rect.adjusted(0, 0, -(badge_w + 4), 0)
        super().paint(painter, narrowed, index)
        rect = option.rect.adjusted(option.rect.width() - badge_w - 2, 2, -2, -2)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.BADGE_BORDER))
        painter.setBrush(self.BADGE_BG)
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(self.BADGE_FG)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), shown)
        painter.restore()


def compact_condition(summary: str) -> str:
    """The badge's short form of a condition summary: ``label not in {6, 9}`` -> ``label ∉ {6, 9}``."""
    return summary.replace("label not in ", "label ∉ ").replace("label in ", "label ∈ ")


class StepTreeView(QTreeView):
    """The step tree: drag to reorder (moves go through the model as document edits)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(False)
        self.setIndentation(16)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegateForColumn(0, _StepDelegate(self))
        self.setItemDelegateForColumn(1, _ProbabilityDelegate(self))


def _panel(title: str, *widgets: QWidget, header_extra: QWidget | None = None) -> QWidget:
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(6, 4, 6, 4)
    column.setSpacing(4)
    head = QHBoxLayout()
    head.setContentsMargins(0, 0, 0, 0)
    label = QLabel(title)
    label.setStyleSheet(_PANEL_TITLE)
    head.addWidget(label)
    head.addStretch(1)
    if header_extra is not None:
        head.addWidget(header_extra)
    column.addLayout(head)
    for widget in widgets:
        column.addWidget(widget, 1 if isinstance(widget, (QTreeView, QScrollArea)) else 0)
    return box


def _tool(action: QAction) -> QToolButton:
    button = QToolButton()
    button.setDefaultAction(action)
    button.setAutoRaise(True)
    return button


def _labelled_tool(action: QAction, text: str) -> QToolButton:
    """A button with a fixed label for an action whose text changes (``Undo Edit Rotate``)."""
    button = QToolButton()
    button.setText(text)
    button.setAutoRaise(True)
    button.clicked.connect(action.trigger)

    def sync() -> None:
        button.setEnabled(action.isEnabled())
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        button.setToolTip(action.text() + (f" ({keys})" if keys else ""))

    action.changed.connect(sync)
    sync()
    return button


def _ask_unsaved(parent: QWidget, name: str) -> str:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved policy")
    box.setText(f"The policy “{name}” has changes that are not saved.")
    box.setInformativeText("Save them first?")
    box.setStandardButtons(
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
        QMessageBox.StandardButton(answer), "cancel")


# ---- the editor -----------------------------------------------------------------------------------------
class PolicyEditor(QWidget):
    """Builds an augmentation policy with a live preview.

    Signals: ``message(level, text)`` for the window's message bar (file errors with their JSON
    path, saves), ``augment_requested()`` (the Augment… button), ``document_changed()``.
    """

    message = Signal(str, str)
    augment_requested = Signal()
    document_changed = Signal()

    #: Replaceable for tests: (parent, policy name) -> "save" | "discard" | "cancel".
    ask_unsaved: Callable[[QWidget, str], str] = staticmethod(_ask_unsaved)  # type: ignore[assignment]

    def __init__(self, modality: str = "image", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.modality = ""
        self.document: pd.Document = pd.empty_document(modality)
        self.file_path: str | None = None
        self.modality_locked = False
        self._drafts: dict[str, _Draft] = {}
        self._form_key: Any = None
        #: the dataset's class labels, offered by the conditions editor
        self.classes: list[str] = []
        self._applying = False
        self._shut_down = False
        self.undo_group = QUndoGroup(self)

        self._build_actions()
        self._build_widgets()
        self._connect()
        self.set_modality(modality, locked=False)

    # ---- construction ----------------------------------------------------------------------------------
    def _action(self, text: str, slot: Callable[..., Any], shortcut: Any = None, tip: str = "",
                icon: QStyle.StandardPixmap | None = None, context: Qt.ShortcutContext | None = None) -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(shortcut)
        elif isinstance(shortcut, (list, tuple)):
            action.setShortcuts([QKeySequence(s) for s in shortcut])
        elif shortcut:
            action.setShortcuts([QKeySequence(shortcut)])
        if tip or shortcut:
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip or text.replace('&', '').rstrip('…')}" + (f" ({keys})" if keys else ""))
        action.triggered.connect(lambda _checked=False: slot())
        if context is not None:
            action.setShortcutContext(context)
        return action

    def _build_actions(self) -> None:
        here = Qt.ShortcutContext.WidgetWithChildrenShortcut
        sp = QStyle.StandardPixmap
        self.new_action = self._action("&New Policy", self.new_policy, None, "Start an empty policy", sp.SP_FileIcon)
        self.open_action = self._action("&Open Policy…", self.open_dialog, None, "Open a policy JSON file",
                                        sp.SP_DialogOpenButton)
        self.save_action = self._action("&Save Policy", self.save, QKeySequence.StandardKey.Save, "Save the policy",
                                        sp.SP_DialogSaveButton)
        self.save_as_action = self._action("Save Policy &As…", self.save_as, "Ctrl+Shift+S", "Save the policy to a new file")
        self.undo_action = self.undo_group.createUndoAction(self, "Undo")
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.undo_action.setShortcutContext(here)
        self.redo_action = self.undo_group.createRedoAction(self, "Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.setShortcutContext(here)
        self.add_action = self._action("&Add Op", self.add_selected_op, None, "Add the op selected in the palette "
                                       "(or double-click it)")
        self.duplicate_action = self._action("D&uplicate", self.duplicate_selected, "Ctrl+D", "Duplicate the selected steps",
                                             context=here)
        self.delete_action = self._action("&Delete", self.delete_selected, QKeySequence.StandardKey.Delete,
                                          "Delete the selected steps", sp.SP_TrashIcon, here)
        self.move_up_action = self._action("Move &Up", lambda: self.move_selected(-1), "Ctrl+Up", "Move the step up",
                                           sp.SP_ArrowUp, here)
        self.move_down_action = self._action("Move Do&wn", lambda: self.move_selected(+1), "Ctrl+Down",
                                             "Move the step down", sp.SP_ArrowDown, here)
        self.group_one_of_action = self._action("Group as &One Of", lambda: self.group_selected("one_of"), "Ctrl+G",
                                                "Run exactly one of the selected steps", context=here)
        self.group_some_of_action = self._action("Group as &Some Of", lambda: self.group_selected("some_of"), None,
                                                 "Run a random number of the selected steps")
        self.group_sequence_action = self._action("Group as Se&quence", lambda: self.group_selected("sequence"), None,
                                                  "Run the selected steps together, with one probability")
        self.ungroup_action = self._action("U&ngroup", self.ungroup_selected, "Ctrl+Shift+G",
                                           "Replace the group by its steps", context=here)
        self.augment_action = self._action("&Augment…", self.augment_requested.emit, "Ctrl+Shift+A",
                                           "Run this policy over the dataset and store the variants as candidates")
        # Undo and redo work anywhere in the editor; the step shortcuts (Delete, Ctrl+D, ...) only in
        # the step tree (see _build_widgets), so Delete in the palette or a form deletes no step.
        self.addActions([self.undo_action, self.redo_action])
        self._step_actions = [self.duplicate_action, self.delete_action, self.move_up_action, self.move_down_action,
                              self.group_one_of_action, self.ungroup_action]
        for action in self._step_actions:
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)

    def _build_widgets(self) -> None:
        # Toolbar: file, presets, undo/redo, name, status, Augment.
        self.presets_menu = QMenu("Presets", self)
        self.presets_menu.aboutToShow.connect(self._fill_presets_menu)
        presets_button = QToolButton()
        presets_button.setText("Presets")
        presets_button.setMenu(self.presets_menu)
        presets_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        presets_button.setAutoRaise(True)
        presets_button.setToolTip("Start from a bundled policy")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Untitled policy")
        self.name_edit.setToolTip(NAME_TIP)
        self.name_edit.setMaximumWidth(220)
        self.file_label = QLabel()
        self.file_label.setStyleSheet(_MUTED)
        self.status_label = QLabel()
        self.status_label.setObjectName("policyStatus")
        self.status_label.setWordWrap(False)
        self.augment_button = QPushButton("Augment…")
        self._augment_tip = self.augment_action.toolTip()
        self.augment_button.setToolTip(self._augment_tip)
        self.augment_button.setDefault(False)
        self.augment_button.setStyleSheet(
            "QPushButton { background: #2563eb; color: white; border: 1px solid #1d4ed8; border-radius: 4px;"
            " padding: 3px 12px; font-weight: 600; } QPushButton:hover { background: #1d4ed8; }"
            # (white on the pale blue it had when disabled was 1.8:1; the palette's colours follow the theme)
            " QPushButton:disabled { background: palette(midlight); border-color: palette(mid);"
            " color: palette(placeholder-text); }")
        self.augment_button.clicked.connect(self.augment_requested.emit)

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 3, 6, 3)
        bar.setSpacing(2)
        for action in (self.new_action, self.open_action, self.save_action):
            bar.addWidget(_tool(action))
        bar.addWidget(presets_button)
        bar.addSpacing(8)
        bar.addWidget(_labelled_tool(self.undo_action, "Undo"))
        bar.addWidget(_labelled_tool(self.redo_action, "Redo"))
        bar.addSpacing(10)
        bar.addWidget(self.name_edit)
        bar.addSpacing(6)
        bar.addWidget(self.file_label)
        bar.addStretch(1)
        bar.addWidget(self.status_label)
        bar.addSpacing(10)
        bar.addWidget(self.augment_button)
        toolbar = self.toolbar = QFrame()
        toolbar.setObjectName("policyToolbar")
        toolbar.setStyleSheet("#policyToolbar { border-bottom: 1px solid palette(midlight); }")
        toolbar.setLayout(bar)
        self.toolbar_layout = bar

        # Palette.
        self.palette_model = OpPaletteModel(self)
        self.palette_filter = PaletteFilter(self)
        self.palette_filter.setSourceModel(self.palette_model)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search ops…")
        self.search_edit.setClearButtonEnabled(True)
        self.palette_view = QTreeView()
        self.palette_view.setModel(self.palette_filter)
        self.palette_view.setHeaderHidden(True)
        self.palette_view.setIndentation(10)
        self.palette_view.setUniformRowHeights(True)
        self.palette_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # "Random char s…" twice could not be told apart: cut in the middle if at all ("Random…swap").
        self.palette_view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        add_button = _tool(self.add_action)
        add_button.setText("+ Add")
        add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        palette_panel = _panel("Ops", self.search_edit, self.palette_view, header_extra=add_button)

        # Steps.
        self.step_model = PolicyStepModel(self)
        self.steps_view = StepTreeView()
        self.steps_view.setModel(self.step_model)
        self.steps_view.addActions(self._step_actions)
        header = self.steps_view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(1, 44)
        self.group_menu = QMenu("Group", self)
        self.group_menu.addActions([self.group_one_of_action, self.group_some_of_action, self.group_sequence_action])
        self.group_menu.addSeparator()
        self.group_menu.addAction(self.ungroup_action)
        group_button = QToolButton()
        group_button.setText("Group")
        group_button.setToolTip("Group the selected steps into one of / some of / sequence")
        group_button.setMenu(self.group_menu)
        group_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        group_button.setAutoRaise(True)
        step_tools = QWidget()
        tools = QHBoxLayout(step_tools)
        tools.setContentsMargins(0, 0, 0, 0)
        tools.setSpacing(0)
        tools.addWidget(group_button)
        dup = _tool(self.duplicate_action)
        dup.setText("Duplicate")
        tools.addWidget(dup)
        tools.addWidget(_tool(self.delete_action))  # moving: drag, Ctrl+Up/Down or the context menu
        steps_panel = _panel("Steps", self.steps_view, header_extra=step_tools)

        # Settings of the selected step.
        self.settings_title = QLabel()
        self.settings_title.setStyleSheet("font-weight: 600; font-size: 11pt;")
        self.settings_help = QLabel()
        self.settings_help.setWordWrap(True)
        self.settings_help.setStyleSheet(_MUTED)
        self.forms_box = QWidget()
        self.forms_layout = QVBoxLayout(self.forms_box)
        self.forms_layout.setContentsMargins(0, 4, 4, 4)
        self.forms_layout.setSpacing(8)
        self.forms_layout.addWidget(self.settings_title)
        self.forms_layout.addWidget(self.settings_help)
        self.forms_layout.addStretch(1)
        self.step_form: ParamForm | None = None
        self.param_form: ParamForm | None = None
        self.conditions_form: ConditionsEditor | None = None
        self._form_widgets: list[QWidget] = []
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.forms_box)
        settings_panel = _panel("Settings", scroll)

        # Preview.
        self.preview = PolicyPreview()

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("policyEditorSplitter")
        for widget in (palette_panel, steps_panel, settings_panel, self.preview):
            self.splitter.addWidget(widget)
        self.splitter.setChildrenCollapsible(False)
        palette_panel.setMinimumWidth(150)
        steps_panel.setMinimumWidth(200)
        settings_panel.setMinimumWidth(230)
        self.preview.setMinimumWidth(260)
        self.splitter.setStretchFactor(3, 1)
        # The palette's extra width comes from the steps and settings: the preview keeps its room
        # (its status line, "8 variants in 35 ms", fits at the default window size).
        extra = self._palette_width() - 160
        self.splitter.setSizes([160 + extra, 270 - extra // 2, 300 - (extra - extra // 2), 550])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(toolbar)
        layout.addWidget(self.splitter, 1)
        self._layout = layout

    def _palette_width(self) -> int:
        """Wide enough for the longest op name of the registry in full (the categories indent it)."""
        from genaug_desktop.core.ops.base import registry

        metrics = QFontMetrics(self.palette_view.font())
        longest = max((metrics.horizontalAdvance(op_title(name)) for name in registry()), default=100)
        scrollbar = self.palette_view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return max(160, longest + 2 * self.palette_view.indentation() + scrollbar + 24)

    def take_toolbar(self) -> QFrame:
        """Remove the toolbar from the panel (a dock shows it as its title bar) and return it."""
        self._layout.removeWidget(self.toolbar)
        return self.toolbar

    def _connect(self) -> None:
        self.search_edit.textChanged.connect(self._on_search)
        self.palette_view.doubleClicked.connect(self._on_palette_activated)
        self.palette_view.selectionModel().currentChanged.connect(lambda *_: self._update_actions())
        self.step_model.edit_requested.connect(lambda text, doc, sel: self.edit(text, doc, sel))
        self.steps_view.selectionModel().selectionChanged.connect(self._on_step_selection)
        self.steps_view.customContextMenuRequested.connect(self._step_menu)
        self.name_edit.editingFinished.connect(self._on_name_edited)
        self.undo_group.cleanChanged.connect(lambda _clean: self._update_title())
        self.undo_group.indexChanged.connect(lambda _i: self._update_actions())

    # ---- state -----------------------------------------------------------------------------------------
    @property
    def undo_stack(self) -> QUndoStack:
        stack = self.undo_group.activeStack()
        assert stack is not None
        return stack

    @property
    def is_dirty(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def name(self) -> str:
        return str(self.document.get("name") or "")

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        return os.path.basename(self.file_path) if self.file_path else "Untitled policy"

    def policy(self, check_available: bool = True) -> Policy:
        """The policy being edited, validated (raises PolicyError with the JSON path)."""
        from genaug_desktop.core.policy import Policy

        return Policy.from_json(self.document, check_available=check_available)

    def set_modality(self, modality: str, locked: bool = True) -> None:
        """Work on *modality*'s policy (each modality keeps its own document and undo history).

        *locked*: a dataset of this modality is open, so files of the other modality are refused.
        """
        self.modality_locked = locked
        if modality == self.modality:
            return
        if self.modality:
            current = self._drafts[self.modality]
            current.document, current.file_path = self.document, self.file_path
        draft = self._drafts.get(modality)
        if draft is None:
            draft = self._drafts[modality] = _Draft(QUndoStack(self.undo_group), initial_document(modality))
        self.modality = modality
        self.undo_group.setActiveStack(draft.stack)
        self.palette_model.set_modality(modality)
        self.palette_view.expandAll()
        self.file_path = draft.file_path
        self._apply(draft.document, self._first_step(draft.document))

    # ---- drafts: unsaved work survives closing the window -----------------------------------------------
    def unsaved_drafts(self) -> dict[str, dict[str, Any]]:
        """Each modality's document with unsaved changes: ``{modality: {"document", "file_path"}}``."""
        current = self._drafts.get(self.modality)
        if current is not None:
            current.document, current.file_path = self.document, self.file_path
        return {m: {"document": d.document, "file_path": d.file_path}
                for m, d in self._drafts.items() if not d.stack.isClean()}

    def restore_draft(self, modality: str, document: pd.Document, file_path: str | None = None) -> bool:
        """Bring back unsaved work (one undo step away from the modality's starting document)."""
        try:
            document = pd.canonical(document)
        except ValueError:  # PolicyError: a draft from another version that no longer validates
            return False
        if document.get("modality") != modality:
            return False
        previous = self.modality
        self.set_modality(modality, locked=self.modality_locked)
        self.file_path = file_path
        self.edit("Restore unsaved changes", document, self._first_step(document))
        if previous and previous != modality:
            self.set_modality(previous, locked=self.modality_locked)
        return True

    def set_classes(self, classes: list[str]) -> None:
        """The open dataset's class labels, offered when editing a step's label condition."""
        self.classes = [str(c) for c in classes]
        if self.conditions_form is not None:
            self.conditions_form.set_classes(self.classes)

    def set_item(self, item: Item | None, path: str | None = None) -> None:
        """Preview the policy on *item* (an image at *path*, or a text item)."""
        if item is None:
            self.preview.set_source(None)
            return
        if item.modality != self.modality:
            self.set_modality(item.modality)
        self.preview.set_source(PreviewSource(
            item.key, item.modality, path=path if item.modality == "image" else None,
            text=item.text if item.modality == "text" else None, sha256=item.sha256, label=item.label,
        ))

    def is_settled(self) -> bool:
        return self.preview.is_settled()

    def shutdown(self) -> None:
        if not self._shut_down:
            self._shut_down = True
            self.preview.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    # ---- applying documents ----------------------------------------------------------------------------
    def edit(self, text: str, document: pd.Document, select: list[pd.Path] | None = None, merge_key: Any = None) -> None:
        """Replace the document by *document* as one undoable step."""
        if document == self.document:
            return
        before_sel = self.selected_paths()
        after_sel = before_sel if select is None else [tuple(p) for p in select]
        self.undo_stack.push(_EditCommand(self, text, self.document, document, before_sel, after_sel, merge_key))

    def _apply(self, document: pd.Document, select: list[pd.Path]) -> None:
        reshaped = pd.structure_key(document) != pd.structure_key(self.step_model.document)
        self._applying = True
        try:
            self.document = document
            self.step_model.set_document(document)
            if reshaped:
                self.steps_view.expandAll()
            if reshaped or (select and select != self.selected_paths()):
                self.select_paths(select)
        finally:
            self._applying = False
        if self.name_edit.text() != self.name and not self.name_edit.hasFocus():
            self.name_edit.setText(self.name)
            self._show_name_start()
        self._refresh_settings()
        self._validate()
        self._update_title()
        self._update_actions()
        self.document_changed.emit()

    def _load(self, document: pd.Document, file_path: str | None) -> None:
        """Start over with *document* (New, Open, a preset): no undo history, nothing unsaved."""
        self.undo_stack.clear()
        self.file_path = file_path
        self._apply(document, self._first_step(document))
        self.undo_stack.setClean()
        self._update_title()

    @staticmethod
    def _first_step(document: pd.Document) -> list[pd.Path]:
        """Select something useful after loading: the first step with parameters to show, else the
        first random step, else the first pre-processing step."""
        for path, node in pd.walk(document):
            if path[0] == "steps" and node.get("params"):
                return [path]
        for section in ("steps", "preprocess"):
            if document.get(section):
                return [(section, 0)]
        return []

    # ---- selection --------------------------------------------------------------------------------------
    def selected_paths(self) -> list[pd.Path]:
        rows = self.steps_view.selectionModel().selectedRows(0)
        paths = [self.step_model.path_of(i) for i in rows]
        return sorted(p for p in paths if p is not None)

    def current_path(self) -> pd.Path | None:
        return self.step_model.path_of(self.steps_view.currentIndex())

    def select_paths(self, paths: list[pd.Path]) -> None:
        selection = self.steps_view.selectionModel()
        selection.clearSelection()
        last = QModelIndex()
        for path in paths:
            index = self.step_model.index_of(path)
            if index.isValid():
                selection.select(index, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
                last = index
        if last.isValid():
            selection.setCurrentIndex(last, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.steps_view.scrollTo(last)
        else:
            selection.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)

    def select_path(self, path: pd.Path) -> None:
        self.select_paths([path])

    def _on_step_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self._applying:
            return
        paths = self.selected_paths()
        current = self.current_path()
        if current is not None and current not in paths and paths:
            self.steps_view.selectionModel().setCurrentIndex(
                self.step_model.index_of(paths[-1]), QItemSelectionModel.SelectionFlag.NoUpdate)
        self._refresh_settings()
        self._update_actions()
        self.preview.set_focus(self._focus())

    def _focus(self) -> int | None:
        path = self.current_path()
        return int(path[1]) if path is not None and path[0] == "steps" and len(path) > 1 else None

    # ---- the settings panel --------------------------------------------------------------------------
    def _settings_path(self) -> pd.Path | None:
        paths = self.selected_paths()
        current = self.current_path()
        if current is not None and current in paths:
            return current
        return paths[-1] if paths else None

    def _refresh_settings(self) -> None:
        from genaug_desktop.core.ops.base import registry

        path = self._settings_path()
        node = self.step_model.node_of(path) if path is not None else None
        if path is None or node is None:
            section = path[0] if path else None
            key: Any = ("section", section)
            if key != self._form_key:
                self._clear_forms()
                self._form_key = key
                self.settings_title.setText(SECTION_TITLES[section] if section else "No step selected")
                self.settings_help.setText(SECTION_HELP[section] if section else
                                           "Select a step to edit its settings, or double-click an op in the "
                                           "palette to add it.")
            return
        kind = pd.group_kind(node)
        random_step = path[0] == "steps"
        n_children = len(pd.children(node)) if kind else 0
        key = (path, kind or node.get("op"), n_children)
        step_values = {"p": float(node.get("p", 1.0))}
        if kind == "some_of":
            step_values["n"] = list(node.get("n", [1, 1]))
        if key == self._form_key:  # same step: sync the values, keep the widgets
            if self.step_form is not None:
                self.step_form.set_values(step_values)
            if self.param_form is not None and not kind:
                self.param_form.set_values(node.get("params") or {})
            if self.conditions_form is not None:
                self.conditions_form.set_when(node.get("when"))
            return
        self._clear_forms()
        self._form_key = key
        location = pd.json_path_in(self.document, path)
        if kind:
            self.settings_title.setText(group_title(node))
            self.settings_help.setText(GROUP_HELP[kind])
        else:
            cls = registry().get(node.get("op", ""))
            self.settings_title.setText(op_title(node.get("op", "?")))
            help_text = cls.help if cls is not None else "This op is not known to this version of genaug-desktop."
            available, why = cls.availability() if cls is not None else (False, "unknown op")
            if not available:
                help_text += f"\n\nNot available here: {why}"
            self.settings_help.setText(help_text)
        if random_step:
            declared = [Param("p", "float", 1.0, "Chance that this step runs for a sample", low=0.0, high=1.0,
                              step=0.01, label="Probability")]
            if kind == "some_of":
                declared.append(Param("n", "int_range", [1, 1], "How many of the group's steps run (fewest, most)",
                                      low=0, high=n_children, step=1, label="Steps run (n)"))
            self.step_form = ParamForm(params(*declared), step_values, path=location)
            self.step_form.setObjectName("stepForm")
            self.step_form.values_changed.connect(lambda values, p=path: self._on_step_form(p, values))
            self._add_form("Step", self.step_form)
        if not kind:
            cls = registry().get(node.get("op", ""))
            if cls is not None:
                def validate(values: dict[str, Any], op_cls: Any = cls, where: str = f"{location}.params") -> dict[str, Any]:
                    return op_cls(values, where).values

                try:
                    self.param_form = ParamForm(cls.params, node.get("params") or {}, validator=validate,
                                                path=f"{location}.params")
                except ParamError as exc:
                    self.settings_help.setText(f"{self.settings_help.text()}\n\n{exc}")
                    return
                self.param_form.setObjectName("paramForm")
                self.param_form.values_changed.connect(lambda values, p=path: self._on_param_form(p, values))
                self._add_form("Parameters", self.param_form)
        if random_step:
            self.conditions_form = ConditionsEditor(self.modality, self.classes, node.get("when"))
            self.conditions_form.setObjectName("conditionsForm")
            self.conditions_form.when_changed.connect(lambda when, p=path: self._on_when(p, when))
            self._add_form("Conditions", self.conditions_form)

    def _add_form(self, title: str, form: ParamForm) -> None:
        label = QLabel(title.upper())
        themed_style_sheet(label, ink_sheet(HINT_INK, "font-size: 8pt; font-weight: 600; padding-top: 4px;"))
        at = self.forms_layout.count() - 1  # before the stretch
        self.forms_layout.insertWidget(at, label)
        self.forms_layout.insertWidget(at + 1, form)
        self._form_widgets += [label, form]

    def _clear_forms(self) -> None:
        for widget in self._form_widgets:
            widget.hide()
            widget.setParent(None)  # type: ignore[call-overload]
            widget.deleteLater()
        self._form_widgets = []
        self.step_form = self.param_form = None
        self.conditions_form = None
        self._form_key = None

    def _on_step_form(self, path: pd.Path, values: dict[str, Any]) -> None:
        node = self.step_model.node_of(path)
        if node is None:
            return
        changed = {k: v for k, v in values.items() if node.get(k) != v}
        if not changed:
            return
        what = "probability" if list(changed) == ["p"] else "steps run"
        self.edit(f"Change {what}", pd.set_fields(self.document, path, **changed), [path], merge_key=("step", path, tuple(changed)))

    def _on_when(self, path: pd.Path, when: dict[str, Any] | None) -> None:
        node = self.step_model.node_of(path)
        if node is None:
            return
        verb = "Edit conditions" if when else "Remove conditions"
        self.edit(verb, pd.set_when(self.document, path, when), [path], merge_key=("when", path))

    def _on_param_form(self, path: pd.Path, values: dict[str, Any]) -> None:
        node = self.step_model.node_of(path)
        if node is None:
            return
        changed = sorted(k for k, v in values.items() if (node.get("params") or {}).get(k) != v)
        self.edit(f"Edit {op_title(node.get('op', ''))}", pd.set_fields(self.document, path, params=values), [path],
                  merge_key=("params", path, tuple(changed)))

    # ---- validation and preview ---------------------------------------------------------------------
    def _validate(self) -> None:
        from genaug_desktop.core.ops.base import registry
        from genaug_desktop.core.policy import PolicyError, label_warnings

        problem: PolicyError | None = None
        try:
            self.policy(check_available=False)
        except PolicyError as exc:
            problem = exc
        ops = registry()
        unavailable: dict[str, str] = {}
        categories: dict[str, str] = {}
        for _path, node in pd.walk(self.document):
            cls = ops.get(node.get("op", ""))
            if cls is not None:
                ok, why = cls.availability()
                if not ok:
                    unavailable[cls.name] = why or "not available"
                    categories[cls.name] = cls.category or ""
        self.step_model.unavailable = unavailable
        # Augment… cannot run such a policy: say why on the button instead of failing after a click.
        self._set_augment_block(unavailable_message({n: (categories[n], w) for n, w in unavailable.items()}))
        self.step_model.set_problem(
            (pd.path_of_json_path(self.document, problem.path) or ("steps",), problem.message) if problem else None)
        if problem is not None:
            self._set_status(f"⚠ {problem}", "error")
            self.preview.set_policy(None, problem=f"The policy is not valid: {problem}")
            return
        labels = label_warnings(self.document, self.classes) if self.classes else []
        if unavailable:
            names = ", ".join(sorted(unavailable))
            self._set_status(f"⚠ not available here: {names}", "warning")
        elif labels:  # a typo in a step's label condition: valid, but the step would never run
            first = labels[0]
            hint = f"; did you mean {first.suggestion!r}?" if first.suggestion else ""
            more = f" (+{len(labels) - 1} more)" if len(labels) > 1 else ""
            self._set_status(f"⚠ label {first.label!r} is not a class of this dataset{hint}{more}", "warning")
        else:
            random_steps = sum(1 for path, node in pd.walk(self.document) if path[0] == "steps" and "op" in node)
            pre = len(self.document.get("preprocess", []))
            text = f"{random_steps} op{'s' if random_steps != 1 else ''}"
            if pre:
                text += f" + {pre} pre-processing"
            self._set_status(f"✓ valid · {text}", "ok")
        self.preview.set_policy(self.document, self._focus())

    def _set_augment_block(self, reason: str) -> None:
        """Disable Augment… (button, menu and toolbar action) with *reason* as its tooltip; "" enables it."""
        tip = reason or self._augment_tip
        self.augment_action.setEnabled(not reason)
        self.augment_action.setToolTip(tip)
        self.augment_button.setEnabled(not reason)
        self.augment_button.setToolTip(tip)

    def _set_status(self, text: str, level: str) -> None:
        color = {"error": ERROR_INK, "warning": WARNING_INK}.get(level, HINT_INK)
        themed_style_sheet(self.status_label, ink_sheet(color))
        self.status_label.setText(text if len(text) < 90 else text[:87] + "…")
        self.status_label.setToolTip(text)

    def _update_title(self) -> None:
        dirty = "•" if self.is_dirty else ""
        where = os.path.basename(self.file_path) if self.file_path else "not saved"
        self.file_label.setText(f"{where} {dirty}".strip())
        self.file_label.setToolTip(self.file_path or "This policy has not been saved to a file yet")
        self.setWindowTitle(f"{self.display_name}{' *' if self.is_dirty else ''} — policy editor")

    def _update_actions(self) -> None:
        paths = self.selected_paths()
        steps = [p for p in paths if len(p) > 1]
        siblings = bool(steps) and all(p[:-1] == steps[0][:-1] for p in steps) and steps[0][0] == "steps"
        one = len(steps) == 1
        self.duplicate_action.setEnabled(bool(steps))
        self.delete_action.setEnabled(bool(steps))
        self.move_up_action.setEnabled(one and steps[0][-1] > 0)
        if one:
            size = len(pd.container(self.document, steps[0][:-1]))
            self.move_down_action.setEnabled(steps[0][-1] < size - 1)
        else:
            self.move_down_action.setEnabled(False)
        for action in (self.group_one_of_action, self.group_some_of_action, self.group_sequence_action):
            action.setEnabled(siblings)
        self.ungroup_action.setEnabled(one and pd.is_group_path(self.document, steps[0]))
        index = self.palette_view.currentIndex()
        self.add_action.setEnabled(bool(index.isValid() and index.data(OpNameRole)
                                        and index.flags() & Qt.ItemFlag.ItemIsEnabled))

    # ---- step edits -----------------------------------------------------------------------------------
    def add_op(self, name: str) -> pd.Path | None:
        """Add op *name* with its default parameters after the selected step (or into the selected
        group, or at the end of its section); returns its path."""
        from genaug_desktop.core.ops.base import registry

        cls = registry().get(name)
        if cls is None or cls.modality != self.modality:
            return None
        ok, why = cls.availability()
        if not ok:
            self.message.emit("warning", f"{op_title(name)} is not available here: {why}")
            return None
        section = "preprocess" if cls.preprocess else "steps"
        parent: pd.Path = (section,)
        index = len(self.document.get(section, []))
        current = self._settings_path()
        if current is not None and current[0] == section:
            if len(current) == 1:
                pass
            elif section == "steps" and pd.is_group_path(self.document, current):
                parent = current
                index = len(pd.container(self.document, current))
            else:
                parent, index = current[:-1], current[-1] + 1
        node = pd.op_node(name, cls(None).values, cls.preprocess)
        new, made = pd.insert(self.document, parent, index, [node])
        self.edit(f"Add {op_title(name)}", new, made)
        return made[0]

    def add_selected_op(self) -> None:
        index = self.palette_view.currentIndex()
        if index.isValid() and index.flags() & Qt.ItemFlag.ItemIsEnabled and index.data(OpNameRole):
            self.add_op(index.data(OpNameRole))

    def _on_palette_activated(self, index: QModelIndex) -> None:
        if index.flags() & Qt.ItemFlag.ItemIsEnabled and index.data(OpNameRole):
            self.add_op(index.data(OpNameRole))

    def _on_search(self, text: str) -> None:
        self.palette_filter.setFilterFixedString(text.strip())
        self.palette_view.expandAll()

    def delete_selected(self) -> None:
        paths = [p for p in self.selected_paths() if len(p) > 1]
        if not paths:
            return
        top = pd.top_level(paths)
        after = top[0][:-1] + (top[0][-1] - 1,) if top[0][-1] > 0 else top[0][:-1]
        new = pd.remove(self.document, top)
        what = "step" if len(top) == 1 else f"{len(top)} steps"
        self.edit(f"Delete {what}", new, [after])

    def duplicate_selected(self) -> None:
        paths = [p for p in self.selected_paths() if len(p) > 1]
        if paths:
            new, copies = pd.duplicate(self.document, paths)
            self.edit("Duplicate", new, copies)

    def move_selected(self, delta: int) -> None:
        paths = [p for p in self.selected_paths() if len(p) > 1]
        if len(paths) != 1:
            return
        path = paths[0]
        siblings = pd.container(self.document, path[:-1])
        target = path[-1] + (2 if delta > 0 else -1)
        if not 0 <= target <= len(siblings):
            return
        new, moved = pd.move(self.document, [path], path[:-1], target)
        self.edit("Move step", new, moved)

    def group_selected(self, kind: str) -> None:
        paths = [p for p in self.selected_paths() if len(p) > 1]
        if not paths:
            return
        k = len(pd.top_level(paths))
        try:
            new, made = pd.group(self.document, paths, kind, [1, max(1, k - 1)] if kind == "some_of" else None)
        except pd.DocumentError as exc:
            self.message.emit("warning", str(exc))
            return
        self.edit(f"Group as {GROUP_TITLES[kind].lower()}", new, [made])

    def ungroup_selected(self) -> None:
        paths = [p for p in self.selected_paths() if len(p) > 1]
        if len(paths) == 1 and pd.is_group_path(self.document, paths[0]):
            new, made = pd.ungroup(self.document, paths[0])
            self.edit("Ungroup", new, made)

    def set_enabled(self, path: pd.Path, enabled: bool) -> None:
        index = self.step_model.index_of(path)
        state = Qt.CheckState.Checked if enabled else Qt.CheckState.Unchecked
        self.step_model.setData(index, state, Qt.ItemDataRole.CheckStateRole)

    def _on_name_edited(self) -> None:
        name = self.name_edit.text().strip()
        if name != self.name:
            self.edit("Rename policy", pd.set_name(self.document, name))
        if not self.name_edit.hasFocus():
            self._show_name_start()

    def _show_name_start(self) -> None:
        """A name longer than the box shows its start (setText leaves the end in view), in full as a tooltip."""
        self.name_edit.setCursorPosition(0)
        name = self.name_edit.text()
        self.name_edit.setToolTip(f"The policy's name (saved in the file): {name}" if name else NAME_TIP)

    def _step_menu(self, point: QPoint) -> None:
        menu = QMenu(self)
        menu.addActions([self.duplicate_action, self.delete_action])
        menu.addSeparator()
        menu.addActions([self.move_up_action, self.move_down_action])
        menu.addSeparator()
        menu.addActions([self.group_one_of_action, self.group_some_of_action, self.group_sequence_action,
                         self.ungroup_action])
        menu.exec(self.steps_view.viewport().mapToGlobal(point))
        menu.deleteLater()

    # ---- files ----------------------------------------------------------------------------------------------
    def confirm_discard(self) -> bool:
        """True when the current document may be replaced (saved, discarded, or nothing unsaved)."""
        if not self.is_dirty:
            return True
        answer = self.ask_unsaved(self, self.display_name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_policy(self) -> None:
        if self.confirm_discard():
            self._load(pd.empty_document(self.modality), None)

    def _dialog_dir(self) -> str:
        return os.path.dirname(self.file_path) if self.file_path else os.path.expanduser("~")

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open Policy", self._dialog_dir(), POLICY_FILTER)
        if path:
            self.open_file(path, confirm=False)

    def open_file(self, path: str, confirm: bool = True) -> bool:
        """Load a policy file; a PolicyError reaches ``message`` with its JSON path."""
        from genaug_desktop.core.policy import Policy, PolicyError

        if confirm and not self.confirm_discard():
            return False
        try:
            policy = Policy.load(path, check_available=False)
        except PolicyError as exc:
            self.message.emit("error", f"Cannot open {os.path.basename(path)}: {exc}")
            return False
        if policy.modality != self.modality and self.modality_locked:
            self.message.emit("error", f"Cannot open {os.path.basename(path)}: it is a {policy.modality} policy, "
                                       f"but the open dataset holds {self.modality}s")
            return False
        if policy.modality != self.modality:
            self.set_modality(policy.modality, locked=False)
        self._load(policy.to_json(), os.path.abspath(path))
        return True

    def load_preset(self, path: str) -> bool:
        from genaug_desktop.core.policy import Policy, PolicyError

        if not self.confirm_discard():
            return False
        try:
            policy = Policy.load(path, check_available=False)
        except PolicyError as exc:
            self.message.emit("error", f"The preset {os.path.basename(path)} is broken: {exc}")
            return False
        if policy.modality != self.modality:
            self.set_modality(policy.modality, locked=self.modality_locked)
        self._load(policy.to_json(), None)
        return True

    def _fill_presets_menu(self) -> None:
        self.presets_menu.clear()
        found = list_presets(self.modality)
        for preset in found:
            action = self.presets_menu.addAction(preset.name)
            action.triggered.connect(lambda _checked=False, p=preset.path: self.load_preset(p))
        if not found:
            self.presets_menu.addAction("No presets for this modality").setEnabled(False)

    def save(self) -> bool:
        if self.file_path is None:
            return self.save_as()
        return self.save_to(self.file_path)

    def save_as(self) -> bool:
        suggested = os.path.join(self._dialog_dir(), (self.name or "policy").replace("/", "-").replace(":", "") + ".json")
        path, _ = QFileDialog.getSaveFileName(self, "Save Policy As", suggested, POLICY_FILTER)
        if not path:
            return False
        if not path.lower().endswith(".json"):
            path += ".json"
        return self.save_to(path)

    def save_to(self, path: str) -> bool:
        """Write the policy (validated, canonical JSON) atomically; errors reach ``message``."""
        from genaug_desktop.core.policy import PolicyError

        try:
            text = pd.dumps(pd.canonical(self.document))
        except PolicyError as exc:
            self.message.emit("error", f"Cannot save: the policy is not valid: {exc}")
            return False
        path = os.path.abspath(path)
        temp = f"{path}.part"
        try:
            with open(temp, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, path)
        except OSError as exc:
            try:
                os.remove(temp)
            except OSError:
                pass
            self.message.emit("error", f"Cannot save the policy to {path}: {exc.strerror or exc}")
            return False
        self.file_path = path
        self._drafts[self.modality].file_path = path
        self.undo_stack.setClean()
        self._update_title()
        self.message.emit("info", f"Saved the policy to {path}")
        return True


def main(argv: list[str] | None = None) -> int:
    import sys

    from PySide6.QtWidgets import QApplication

    from genaug_desktop.core.datasets.model import Item

    args = sys.argv[1:] if argv is None else argv
    app = QApplication.instance() or QApplication(sys.argv[:1])
    target = args[0] if args else str(resource_dir() / "sample" / "images" / "circle" / "circle_000.png")
    editor = PolicyEditor("text" if target.lower().endswith(".txt") else "image")
    editor.message.connect(lambda level, text: editor._set_status(text, level))
    editor.resize(1280, 420)
    editor.show()
    if target.lower().endswith(".txt"):
        with open(target, encoding="utf-8") as fh:
            text = fh.readline().strip()
        editor.set_item(Item("sample:1", target, "text", None, "", 0, line=1, text=text))
    else:
        editor.set_item(Item(os.path.basename(target), target, "image", None, "", 0), target)
    rc = app.exec()
    editor.shutdown()
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
