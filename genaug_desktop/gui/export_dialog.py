"""File > Export…: choose a format and options, see what will be written, export, read the report.

:class:`ExportDialog` is a view over core ``genaug_desktop.core.export``:

- the form builds an :class:`ExportOptions`; ``ExportOptions.validated`` checks it at once and an
  :class:`ExportError` is shown next to the field it names (``error.field``);
- the counts per split, class and origin come from core ``plan_job``, run through the worker after
  each (debounced) change; a newer change aborts the older plan (newest request wins), so the
  table always matches the form;
- the destination is checked as it is typed (``check_plan_destination``: not inside the dataset
  or the project, empty unless Overwrite);
- Export runs core ``export_job`` with the plan that was shown, with progress and Cancel (the
  core writes into a temporary sibling folder, so a cancel leaves nothing behind); the dialog
  then shows a short report (``ExportResult.summary()``, warnings) with "Open folder".

Every failure is a sentence in the dialog, never a traceback.

Run alone: ``python -m genaug_desktop.gui.export_dialog PROJECT.genaug``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.core.export import (
    COLOR_MODES,
    IMAGE_FORMATS,
    NORMALIZATIONS,
    RESIZE_MODES,
    ExportError,
    ExportOptions,
    check_plan_destination,
    export_job,
    formats_for,
    plan_job,
)
from genaug_desktop.core.formatting import human_bytes, plural
from genaug_desktop.gui.colors import ERROR_INK, HINT_INK, SUCCESS_INK, boxed_message_sheet, ink_sheet, themed_style_sheet
from genaug_desktop.gui.settings import AppSettings
from genaug_desktop.gui.timers import tracked_timer
from genaug_desktop.gui.worker import JobSlot, JobWorker

if TYPE_CHECKING:
    from genaug_desktop.core.export import ExportPlan, ExportResult
    from genaug_desktop.core.jobs import Job, Progress
    from genaug_desktop.core.store.project import Project

#: Edits are debounced before a new plan starts.
PLAN_DELAY_MS = 250

FORMAT_TITLES = {
    "imagefolder": "ImageFolder (class folders + metadata.jsonl)",
    "webdataset": "WebDataset (tar shards)",
    "npz": "NumPy arrays (npz shards)",
    "jsonl": "JSON Lines (.jsonl)",
    "csv": "CSV (.csv)",
    "txt": "Plain text (one file per class)",
}
IMAGE_FORMAT_TITLES = {"keep": "Keep (copy PNG/JPEG/WebP as is)", "png": "PNG", "jpeg": "JPEG", "webp": "WebP"}
COLOR_TITLES = {"keep": "Keep", "rgb": "RGB", "grey": "Greyscale"}
NORMALIZATION_TITLES = {"none": "None (uint8 pixels)", "0-1": "0–1 (x / 255)", "mean/std": "Mean / std per channel",
                        "l1": "L1 per sample", "l2": "L2 per sample"}
BALANCE_MODES = (("none", "No balancing"), ("min", "Down to the smallest class"), ("cap", "At most N per class"))
STATUS_TITLES = (("accepted", "Accepted"), ("pending", "Pending"), ("rejected", "Rejected"))
ORIGIN_COLUMNS = (("original", "Originals"), ("augmentation", "Augmented"), ("generator", "Generated"))
#: ExportError.field -> the error label of the form section that shows it
FIELD_SECTION = {
    "format": "format", "statuses": "content", "origins": "content", "classes": "content", "balance": "content",
    "dedupe": "content", "splits": "splits", "seed": "splits", "image_format": "image", "quality": "image",
    "size": "image", "resize": "image", "color": "image", "normalize": "image", "destination": "destination",
}


def _guarded(job: Callable[[], Job[Any]]) -> Job[Any]:
    """Run *job* and return an :class:`ExportError` instead of raising it, so the dialog keeps
    ``error.field`` (the worker passes only a message on)."""
    try:
        return (yield from job())
    except ExportError as exc:
        return exc


def default_destination(project: Project) -> str:
    """A new folder beside the project (or beside the dataset) that the export may use."""
    name = os.path.basename(project.path.rstrip("/\\"))
    stem = name[: -len(".genaug")] if name.endswith(".genaug") else name
    parents = [os.path.dirname(project.path.rstrip("/\\"))]
    root = getattr(project, "dataset_root", "") or ""
    if root:
        parents.append(os.path.dirname(root.rstrip("/\\")))
    first = ""
    for parent in parents:
        for n in range(1, 100):
            path = os.path.join(parent, f"{stem}-export" + (f"-{n}" if n > 1 else ""))
            first = first or path
            try:
                check_plan_destination(project, path, False)
            except ExportError:
                continue
            return path
    return first


def count_rows(counts: dict[str, dict[str, dict[str, int]]]) -> list[dict[str, Any]]:
    """Rows like ``ExportPlan.table()`` from an ``ExportResult.counts`` mapping."""
    return [{"split": split, "class": label, **origins, "total": sum(origins.values())}
            for split, classes in counts.items() for label, origins in classes.items()]


def make_counts_table(name: str) -> QTableWidget:
    table = QTableWidget(0, 2 + len(ORIGIN_COLUMNS) + 1)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(["Split", "Class", *(t for _k, t in ORIGIN_COLUMNS), "Total"])
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return table


def fill_counts(table: QTableWidget, rows: list[dict[str, Any]]) -> None:
    """Split | Class | one column per origin | Total, with a bold total row."""
    totals = {key: 0 for key, _t in ORIGIN_COLUMNS}
    table.setRowCount(len(rows) + (1 if rows else 0))
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    previous = None
    for r, row in enumerate(rows):
        split = str(row["split"])
        cells = [split if split != previous else "", str(row["class"]) or "(no label)"]
        previous = split
        for key, _title in ORIGIN_COLUMNS:
            totals[key] += int(row.get(key, 0))
            cells.append(f"{int(row.get(key, 0)):,}")
        cells.append(f"{int(row['total']):,}")
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c >= 2:
                item.setTextAlignment(right)
            table.setItem(r, c, item)
    if rows:
        bold = QFont(table.font())
        bold.setBold(True)
        cells = ["Total", "", *(f"{totals[k]:,}" for k, _t in ORIGIN_COLUMNS), f"{sum(totals.values()):,}"]
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setFont(bold)
            if c >= 2:
                item.setTextAlignment(right)
            table.setItem(len(rows), c, item)
    table.resizeRowsToContents()


class ExportDialog(QDialog):
    """Export a project. ``exported(ExportResult)`` after a successful export."""

    exported = Signal(object)

    def __init__(self, project: Project, parent: QWidget | None = None, destination: str | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.modality = project.modality
        self.plan: ExportPlan | None = None
        self.result: ExportResult | None = None
        self._plan_key: tuple[Any, ...] | None = None
        self._dest_error: str | None = None
        self._export_worker: JobWorker | None = None
        self._plans = JobSlot(self)
        self._plan_timer = tracked_timer(self, PLAN_DELAY_MS, timeout=self._start_plan)
        self._plan_timer.setObjectName("exportPlanDelay")
        self.setWindowTitle(f"Export {project.name}")
        self.setObjectName("exportDialog")
        self.resize(980, 640)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_options_page())
        self.pages.addWidget(self._build_report_page())

        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(14)
        self.progress_bar.hide()
        self.status_label = QLabel("")
        self.status_label.setObjectName("exportStatus")
        self.status_label.setWordWrap(True)
        themed_style_sheet(self.status_label, ink_sheet(HINT_INK))
        self.cancel_button = QPushButton("Close")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)

        footer = QHBoxLayout()
        footer.setSpacing(10)
        footer.addWidget(self.status_label, 1)
        footer.addWidget(self.progress_bar, 1)
        footer.addWidget(self.cancel_button)
        footer.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(10)
        layout.addWidget(self.pages, 1)
        layout.addLayout(footer)

        self.destination_edit.setText(destination if destination is not None else default_destination(project))
        self._connect_form()
        self._on_format_changed()
        self._check_destination()
        self._start_plan()

    # ---- construction ----------------------------------------------------------------------------------
    def _error_label(self, name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(f"error:{name}")
        label.setWordWrap(True)
        themed_style_sheet(label, ink_sheet(ERROR_INK))
        label.hide()
        self.field_errors[name] = label
        return label

    def _build_options_page(self) -> QWidget:
        self.field_errors: dict[str, QLabel] = {}
        form_column = QWidget()
        column = QVBoxLayout(form_column)
        column.setContentsMargins(0, 0, 8, 0)
        column.setSpacing(10)

        # -- format and content
        content = QGroupBox("What to export")
        grid = QFormLayout(content)
        grid.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.format_combo = QComboBox()
        self.format_combo.setObjectName("format")
        # The modality's own formats first (ImageFolder, JSON Lines): a text project opened on
        # WebDataset tar shards, the one format both modalities share.
        for fmt in sorted(formats_for(self.modality), key=lambda f: f == "webdataset"):
            self.format_combo.addItem(FORMAT_TITLES.get(fmt, fmt), fmt)
        grid.addRow("Format", self.format_combo)
        grid.addRow(self._error_label("format"))
        statuses = QHBoxLayout()
        self.status_checks: dict[str, QCheckBox] = {}
        for status, title in STATUS_TITLES:
            check = QCheckBox(title)
            check.setObjectName(f"status:{status}")
            check.setChecked(status == "accepted")
            self.status_checks[status] = check
            statuses.addWidget(check)
        statuses.addStretch(1)
        grid.addRow("Candidates", statuses)
        self.originals_check = QCheckBox("Include the original items")
        self.originals_check.setObjectName("includeOriginals")
        grid.addRow("", self.originals_check)
        balance = QHBoxLayout()
        self.balance_combo = QComboBox()
        self.balance_combo.setObjectName("balance")
        for key, title in BALANCE_MODES:
            self.balance_combo.addItem(title, key)
        self.balance_spin = QSpinBox()
        self.balance_spin.setRange(1, 10_000_000)
        self.balance_spin.setValue(100)
        self.balance_spin.setSuffix(" per class")
        self.balance_spin.setEnabled(False)
        balance.addWidget(self.balance_combo, 1)
        balance.addWidget(self.balance_spin)
        grid.addRow("Balance", balance)
        self.dedupe_check = QCheckBox("Drop duplicate texts across the export")
        self.dedupe_check.setObjectName("dedupe")
        if self.modality == "text":
            grid.addRow("", self.dedupe_check)
        grid.addRow(self._error_label("content"))
        column.addWidget(content)

        # -- splits
        splits_box = QGroupBox("Splits")
        splits = QGridLayout(splits_box)
        self.split_spins: dict[str, QSpinBox] = {}
        for col, (name, value) in enumerate((("train", 80), ("val", 20), ("test", 0))):
            spin = QSpinBox()
            spin.setObjectName(f"split:{name}")
            spin.setRange(0, 100)
            spin.setSuffix(" %")
            spin.setValue(value)
            self.split_spins[name] = spin
            splits.addWidget(QLabel(name.capitalize()), 0, col * 2)
            splits.addWidget(spin, 0, col * 2 + 1)
        self.seed_spin = QSpinBox()
        self.seed_spin.setObjectName("seed")
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("The same seed gives the same split every time")
        splits.addWidget(QLabel("Seed"), 1, 0)
        splits.addWidget(self.seed_spin, 1, 1)
        hint = QLabel("Stratified by class; a variant always lands in its source item's split.")
        hint.setWordWrap(True)
        themed_style_sheet(hint, ink_sheet(HINT_INK))
        splits.addWidget(hint, 1, 2, 1, 4)
        splits.addWidget(self._error_label("splits"), 2, 0, 1, 6)
        column.addWidget(splits_box)

        # -- images
        self.image_box = QGroupBox("Images")
        image = QFormLayout(self.image_box)
        image.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        encode = QHBoxLayout()
        self.image_format_combo = QComboBox()
        self.image_format_combo.setObjectName("imageFormat")
        for fmt in IMAGE_FORMATS:
            self.image_format_combo.addItem(IMAGE_FORMAT_TITLES.get(fmt, fmt), fmt)
        self.quality_spin = QSpinBox()
        self.quality_spin.setObjectName("quality")
        self.quality_spin.setRange(1, 100)
        self.quality_spin.setValue(95)
        self.quality_spin.setPrefix("quality ")
        encode.addWidget(self.image_format_combo, 1)
        encode.addWidget(self.quality_spin)
        image.addRow("File format", encode)
        size = QHBoxLayout()
        self.resize_check = QCheckBox("Resize to")
        self.resize_check.setObjectName("resize")
        self.width_spin = QSpinBox()
        self.height_spin = QSpinBox()
        for spin in (self.width_spin, self.height_spin):
            spin.setRange(1, 16384)
            spin.setValue(64)
            spin.setSuffix(" px")
        self.resize_mode_combo = QComboBox()
        for mode in RESIZE_MODES:
            self.resize_mode_combo.addItem(mode.capitalize(), mode)
        size.addWidget(self.resize_check)
        size.addWidget(self.width_spin)
        size.addWidget(QLabel("×"))
        size.addWidget(self.height_spin)
        size.addWidget(self.resize_mode_combo, 1)
        image.addRow("Size", size)
        self.color_combo = QComboBox()
        for mode in COLOR_MODES:
            self.color_combo.addItem(COLOR_TITLES.get(mode, mode), mode)
        image.addRow("Colour", self.color_combo)
        self.normalize_combo = QComboBox()
        self.normalize_combo.setObjectName("normalize")
        for norm in NORMALIZATIONS:
            self.normalize_combo.addItem(NORMALIZATION_TITLES.get(norm, norm), norm)
        self.normalize_combo.setToolTip("Per-sample normalisation of the exported arrays (npz only)")
        image.addRow("Normalisation", self.normalize_combo)
        image.addRow(self._error_label("image"))
        column.addWidget(self.image_box)
        # Only once it has a parent: shown before, the group box flashes up as a window of its own.
        self.image_box.setVisible(self.modality == "image")

        # -- destination
        dest_box = QGroupBox("Destination")
        dest = QVBoxLayout(dest_box)
        row = QHBoxLayout()
        self.destination_edit = QLineEdit()
        self.destination_edit.setObjectName("destination")
        self.destination_edit.setPlaceholderText("A new or empty folder outside the dataset and the project")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse)
        row.addWidget(self.destination_edit, 1)
        row.addWidget(self.browse_button)
        dest.addLayout(row)
        self.overwrite_check = QCheckBox("Overwrite an earlier export in this folder (replaced in one step)")
        self.overwrite_check.setObjectName("overwrite")
        dest.addWidget(self.overwrite_check)
        dest.addWidget(self._error_label("destination"))
        column.addWidget(dest_box)
        column.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidget(form_column)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMinimumWidth(470)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        # -- the plan
        plan_box = QGroupBox("What will be written")
        plan = QVBoxLayout(plan_box)
        self.plan_summary = QLabel("Counting…")
        self.plan_summary.setObjectName("planSummary")
        self.plan_summary.setWordWrap(True)
        bold = QFont(self.plan_summary.font())
        bold.setBold(True)
        self.plan_summary.setFont(bold)
        self.plan_table = make_counts_table("planTable")
        self.plan_details = QLabel("")
        self.plan_details.setObjectName("planDetails")
        self.plan_details.setWordWrap(True)
        themed_style_sheet(self.plan_details, ink_sheet(HINT_INK))
        self.plan_warnings = QLabel("")
        self.plan_warnings.setObjectName("planWarnings")
        self.plan_warnings.setWordWrap(True)
        themed_style_sheet(self.plan_warnings, boxed_message_sheet("warning"))
        self.plan_warnings.hide()
        plan.addWidget(self.plan_summary)
        plan.addWidget(self.plan_table, 1)
        plan.addWidget(self.plan_details)
        plan.addWidget(self.plan_warnings)

        page = QWidget()
        layout = QHBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(scroll, 5)
        layout.addWidget(plan_box, 6)
        return page

    def _build_report_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.setSpacing(10)
        self.report_title = QLabel("✓ Export complete")
        themed_style_sheet(self.report_title, ink_sheet(SUCCESS_INK))
        font = QFont(self.report_title.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.report_title.setFont(font)
        self.report_summary = QLabel("")
        self.report_summary.setObjectName("reportSummary")
        self.report_summary.setWordWrap(True)
        self.report_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report_warnings = QLabel("")
        self.report_warnings.setObjectName("reportWarnings")
        self.report_warnings.setWordWrap(True)
        themed_style_sheet(self.report_warnings, boxed_message_sheet("warning"))
        self.report_warnings.hide()
        self.open_folder_button = QPushButton("Open Folder")
        self.open_folder_button.setObjectName("openFolder")
        self.open_folder_button.clicked.connect(self.open_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_folder_button)
        buttons.addStretch(1)
        self.report_table = make_counts_table("reportTable")
        self.report_hint = QLabel("")
        self.report_hint.setObjectName("reportHint")
        self.report_hint.setWordWrap(True)
        themed_style_sheet(self.report_hint, ink_sheet(HINT_INK))
        self.report_hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.report_title)
        layout.addWidget(self.report_summary)
        layout.addWidget(self.report_warnings)
        layout.addLayout(buttons)
        layout.addWidget(self.report_table, 1)
        layout.addWidget(self.report_hint)
        return page

    def _connect_form(self) -> None:
        changed = self._schedule_plan
        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        for check in (*self.status_checks.values(), self.originals_check, self.dedupe_check, self.resize_check):
            check.toggled.connect(changed)
        self.balance_combo.currentIndexChanged.connect(self._on_balance_changed)
        for spin in (*self.split_spins.values(), self.seed_spin, self.balance_spin, self.quality_spin,
                     self.width_spin, self.height_spin):
            spin.valueChanged.connect(changed)
        for combo in (self.image_format_combo, self.resize_mode_combo, self.color_combo, self.normalize_combo):
            combo.currentIndexChanged.connect(changed)
        self.image_format_combo.currentIndexChanged.connect(self._update_enabled)
        self.resize_check.toggled.connect(self._update_enabled)
        self.destination_edit.textChanged.connect(self._on_destination_edited)
        self.overwrite_check.toggled.connect(self._on_destination_edited)

    # ---- the form --------------------------------------------------------------------------------------
    @property
    def format(self) -> str:
        return str(self.format_combo.currentData())

    @property
    def destination(self) -> str:
        return self.destination_edit.text().strip()

    def set_format(self, fmt: str) -> None:
        index = self.format_combo.findData(fmt)
        if index < 0:
            raise ValueError(f"{fmt} cannot hold a {self.modality} project")
        self.format_combo.setCurrentIndex(index)

    def options(self) -> ExportOptions:
        """The options the form shows (not validated)."""
        balance: Any = {"none": None, "min": "min", "cap": self.balance_spin.value()}[self.balance_combo.currentData()]
        splits = {name: spin.value() / 100.0 for name, spin in self.split_spins.items() if spin.value() > 0}
        kwargs: dict[str, Any] = {
            "format": self.format,
            "statuses": tuple(s for s, check in self.status_checks.items() if check.isChecked()),
            "include_originals": self.originals_check.isChecked(),
            "splits": splits,
            "seed": self.seed_spin.value(),
            "balance": balance,
            "overwrite": self.overwrite_check.isChecked(),
        }
        if self.modality == "text":
            kwargs["dedupe"] = self.dedupe_check.isChecked()
        else:
            kwargs.update(
                image_format=str(self.image_format_combo.currentData()),
                quality=self.quality_spin.value(),
                size=(self.width_spin.value(), self.height_spin.value()) if self.resize_check.isChecked() else None,
                resize=str(self.resize_mode_combo.currentData()),
                color=str(self.color_combo.currentData()),
                normalize=str(self.normalize_combo.currentData()) if self.format == "npz" else "none",
            )
        return ExportOptions(**kwargs)

    def validated_options(self) -> ExportOptions:
        """The form's options, validated; raises :class:`ExportError` naming the field."""
        splits = [spin.value() for spin in self.split_spins.values()]
        if sum(splits) != 100:
            raise ExportError(f"the split percentages add up to {sum(splits)} %; they must add up to 100 %", "splits")
        return self.options().validated(self.modality)

    def _on_format_changed(self) -> None:
        if self.format == "npz" and not self.resize_check.isChecked():
            self.resize_check.setChecked(True)  # npz stacks images: they need one size
        self._update_enabled()
        self._schedule_plan()

    def _on_balance_changed(self) -> None:
        self.balance_spin.setEnabled(self.balance_combo.currentData() == "cap")
        self._schedule_plan()

    def _update_enabled(self) -> None:
        self.quality_spin.setEnabled(self.image_format_combo.currentData() in ("jpeg", "webp"))
        sized = self.resize_check.isChecked()
        for widget in (self.width_spin, self.height_spin, self.resize_mode_combo):
            widget.setEnabled(sized)
        self.normalize_combo.setEnabled(self.format == "npz")

    def _browse(self) -> None:
        start = self.destination or os.path.dirname(self.project.path)
        path = QFileDialog.getExistingDirectory(self, "Export to Folder", os.path.dirname(start.rstrip("/\\")) or start)
        if path:
            self.destination_edit.setText(path)

    def _on_destination_edited(self) -> None:
        self._check_destination()
        self._schedule_plan()

    def _check_destination(self) -> bool:
        try:
            check_plan_destination(self.project, self.destination, self.overwrite_check.isChecked())
        except ExportError as exc:
            self._dest_error = str(exc)
            self._show_field_error("destination", str(exc))
        else:
            self._dest_error = None
            self._show_field_error("destination", None)
        self._update_buttons()
        return self._dest_error is None

    def _show_field_error(self, section: str, message: str | None) -> None:
        label = self.field_errors[section]
        label.setText(message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".") if message else "")
        label.setVisible(bool(message))

    def _show_error(self, exc: ExportError | str) -> None:
        """An error next to its field when it names one, else in the footer."""
        section = FIELD_SECTION.get(getattr(exc, "field", None) or "")
        if section == "image" and self.modality != "image":
            section = None
        if section is not None:
            self._show_field_error(section, str(exc))
            if section != "destination":
                self._set_status(f"Fix the option marked in red: {exc}", error=True)
        else:
            self._set_status(str(exc), error=True)

    def _clear_errors(self) -> None:
        for name in self.field_errors:
            if name != "destination":
                self._show_field_error(name, None)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        themed_style_sheet(self.status_label, ink_sheet(ERROR_INK if error else HINT_INK))

    # ---- the plan --------------------------------------------------------------------------------------
    def _schedule_plan(self) -> None:
        if self.is_exporting():
            return
        self.plan = None
        self._plan_key = None
        # The counts shown are for the old options until the new plan arrives: say so.
        self.plan_summary.setText("Counting…")
        for stale in (self.plan_table, self.plan_details):
            stale.setEnabled(False)
        self._update_buttons()
        self._plan_timer.start()

    def _start_plan(self) -> None:
        self._plan_timer.stop()
        self._clear_errors()
        try:
            options = self.validated_options()
        except ExportError as exc:
            self._plans.abort()
            self._show_error(exc)
            self.plan_summary.setText("Nothing to count until the options are valid.")
            self._fill_table(None)
            self._update_buttons()
            return
        self._set_status("")
        destination = self.destination if self._dest_error is None else None
        key = self._key(options)
        project = self.project
        self.plan_summary.setText("Counting…")
        worker = JobWorker(lambda cancel: _guarded(lambda: plan_job(project, options, destination, cancel)),
                           name="export-plan")
        worker.returned.connect(lambda value, k=key: self._on_planned(value, k))
        worker.errored.connect(self._on_plan_failed)
        self._plans.start(worker)

    def _key(self, options: ExportOptions) -> tuple[Any, ...]:
        return (repr(options), self.destination if self._dest_error is None else None)

    def _on_planned(self, value: object, key: tuple[Any, ...]) -> None:
        if isinstance(value, ExportError):
            if value.field == "destination":  # the folder changed between the check and the plan
                self._check_destination()
                self._schedule_plan()
                return
            self._show_error(value)
            self.plan_summary.setText("Nothing to count until the options are valid.")
            self._fill_table(None)
            return
        plan: ExportPlan = value  # type: ignore[assignment]
        self.plan = plan
        self._plan_key = key
        self.plan_summary.setText(
            f"{plural(plan.total, 'sample')} in {plural(len(plan.by_class()), 'class', 'classes')} "
            f"as {plan.options.format}" if plan.total else "Nothing matches these options.")
        splits = " · ".join(f"{name} {n:,}" for name, n in plan.by_split().items())
        details = [f"Splits: {splits}", f"About {human_bytes(plan.estimated_bytes)}"]
        if plan.dropped:
            details.append("Left out: " + ", ".join(f"{n:,} {why}" for why, n in sorted(plan.dropped.items())))
        self.plan_details.setText(" · ".join(details[:2]) + ("\n" + details[2] if len(details) > 2 else ""))
        self.plan_warnings.setText("\n".join(f"⚠ {w[:1].upper() + w[1:]}" for w in plan.warnings))
        self.plan_warnings.setVisible(bool(plan.warnings))
        self._fill_table(plan)
        self._update_buttons()

    def _on_plan_failed(self, message: str) -> None:
        self.plan_summary.setText("The export could not be planned.")
        self._fill_table(None)
        self._set_status(message, error=True)

    def _fill_table(self, plan: ExportPlan | None) -> None:
        for current in (self.plan_table, self.plan_details):
            current.setEnabled(True)
        if plan is None:
            self.plan_details.setText("")
            self.plan_warnings.hide()
        fill_counts(self.plan_table, plan.table() if plan is not None else [])

    def is_planning(self) -> bool:
        return self._plan_timer.isActive() or self._plans.is_busy()

    def plan_is_current(self) -> bool:
        if self.plan is None or self.is_planning():
            return False
        try:
            return self._plan_key == self._key(self.validated_options())
        except ExportError:
            return False

    # ---- export ----------------------------------------------------------------------------------------
    def is_exporting(self) -> bool:
        return self._export_worker is not None

    def _update_buttons(self) -> None:
        exporting = self.is_exporting()
        ready = self.plan is not None and self.plan.total > 0 and self._dest_error is None
        self.export_button.setEnabled(ready and not exporting and self.pages.currentIndex() == 0)
        self.cancel_button.setText("Cancel" if exporting else "Close")

    def start_export(self) -> bool:
        """Export with the current options (the plan shown, when it is current)."""
        if self.is_exporting():
            return False
        self._plan_timer.stop()
        try:
            options = self.validated_options()
        except ExportError as exc:
            self._show_error(exc)
            return False
        if not self._check_destination():
            return False
        plan = self.plan if self.plan_is_current() else None
        self._plans.abort()
        project, destination = self.project, self.destination
        engine = AppSettings().job_engine()  # Preferences: "local" or "ray"
        worker = JobWorker(
            lambda cancel: _guarded(lambda: export_job(project, options, destination, cancel, plan=plan, engine=engine)), name="export")
        worker.progress.connect(self._on_export_progress)
        worker.returned.connect(self._on_export_returned)
        worker.errored.connect(self._on_export_failed)
        worker.aborted.connect(self._on_export_aborted)
        worker.finished.connect(self._on_export_finished)
        self._export_worker = worker
        self.pages.widget(0).setEnabled(False)
        self.progress_bar.setRange(0, 0)
        self.progress_bar.show()
        self._set_status("Starting the export…")
        self._update_buttons()
        worker.start()
        return True

    def cancel_export(self) -> None:
        if self._export_worker is not None:
            self._set_status("Cancelling…")
            self._export_worker.abort()

    def _on_export_progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress_bar.setRange(0, progress.total)
            self.progress_bar.setValue(min(progress.done, progress.total))
        self._set_status(progress.message)

    def _on_export_returned(self, value: object) -> None:
        if isinstance(value, ExportError):
            self._show_error(value)
            return
        result: ExportResult = value  # type: ignore[assignment]
        self.result = result
        self.report_summary.setText(result.summary())
        warnings = list(result.warnings)
        if result.skipped:
            warnings.append(f"{plural(len(result.skipped), 'sample')} could not be read and were skipped")
        self.report_warnings.setText("\n".join(f"⚠ {w[:1].upper() + w[1:]}" for w in warnings))
        self.report_warnings.setVisible(bool(warnings))
        fill_counts(self.report_table, count_rows(result.counts))
        self.report_hint.setText(
            f"Every file is listed with its SHA-256 in {result.manifest_path}; "
            f"check them any time with: genaug verify {result.destination}")
        self.pages.setCurrentIndex(1)
        self.export_button.hide()
        self._set_status("")
        self.exported.emit(result)

    def _on_export_failed(self, message: str) -> None:
        self._set_status(f"The export failed: {message}", error=True)

    def _on_export_aborted(self) -> None:
        self._set_status("Export cancelled: nothing was written.")

    def _on_export_finished(self) -> None:
        self._export_worker = None
        self.progress_bar.hide()
        self.pages.widget(0).setEnabled(True)
        if self.pages.currentIndex() == 0:
            self._check_destination()  # the folder may exist now (a cancelled export leaves none)
        self._update_buttons()

    def open_folder(self) -> bool:
        if self.result is None:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(self.result.destination))

    # ---- closing ---------------------------------------------------------------------------------------
    def _on_cancel_clicked(self) -> None:
        if self.is_exporting():
            self.cancel_export()
        else:
            self.reject()

    def shutdown(self) -> None:
        """Stop the plan and the export and wait for them (the project must not be in use after)."""
        self._plan_timer.stop()
        self._plans.abort()
        current = self._plans.current
        if current is not None:
            current.wait()
        if self._export_worker is not None:
            self._export_worker.abort()
            self._export_worker.wait()

    def done(self, result: int) -> None:
        self.shutdown()
        super().done(result)


def main(argv: list[str] | None = None) -> int:
    import sys

    from PySide6.QtWidgets import QApplication

    from genaug_desktop.core.store.project import Project

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m genaug_desktop.gui.export_dialog PROJECT.genaug", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication([])
    project = Project.open(args[0])
    try:
        dialog = ExportDialog(project)
        dialog.show()
        app.exec()
    finally:
        project.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
