"""File > Relink Dataset…: point the open project at its dataset's new place (the dataset moved).

The dialog runs core :func:`relink_job` twice through the worker, never on the GUI thread: first as a
dry run, whose report (how many source files match, are missing or changed, and which) the person
reads; then, when they press Relink, for real (the job checks again and stores the new place in one
transaction). A place the core refuses (no file matches, a file where a folder belongs, the project
inside the dataset …) shows why, and nothing is stored. Cancel stops a check; nothing is changed.
"""

from __future__ import annotations

import html
import os
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.core.formatting import plural
from genaug_desktop.gui.colors import ERROR_INK, HINT_INK, SUCCESS_INK, WARNING_INK, ink_sheet, themed_style_sheet
from genaug_desktop.gui.worker import JobWorker

if TYPE_CHECKING:
    from PySide6.QtGui import QColor

    from genaug_desktop.core.jobs import Progress
    from genaug_desktop.core.store.project import Project
    from genaug_desktop.core.store.relink import RelinkReport

#: The list of files that do not match shows this many at most (the counts above it are complete).
MAX_LISTED = 500


def dataset_file(project: Project) -> str | None:
    """The file name of a one-file (text) dataset, or None for a folder dataset."""
    return project.get_meta("dataset_file")


def choose_new_place(project: Project, parent: QWidget | None = None) -> str | None:
    """Ask where the dataset is now: a folder for a folder dataset, the file for a one-file dataset.
    None when the person cancels."""
    start = _existing_parent(project.dataset_root)
    name = dataset_file(project)
    if name is None:
        path = QFileDialog.getExistingDirectory(parent, f"Where is the dataset of {project.name} now?", start)
    else:
        path, _ = QFileDialog.getOpenFileName(
            parent, f"Where is {name} now?", start, f"The project's dataset ({name});;All files (*)")
    return path or None


def _existing_parent(path: str) -> str:
    """The nearest folder of *path* that still exists (the dataset itself moved), or the home folder."""
    while path and not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path if path and os.path.isdir(path) else os.path.expanduser("~")


def mismatch_lines(report: RelinkReport, limit: int = MAX_LISTED) -> list[str]:
    """"missing  cat/cat_03.png", then "changed  …", at most *limit* lines and one saying how many more."""
    lines = [f"missing   {rel}" for rel in report.missing] + [f"changed   {rel}" for rel in report.changed]
    if len(lines) > limit:
        lines = lines[:limit] + [f"… and {len(lines) - limit:,} more"]
    return lines


class RelinkDialog(QDialog):
    """Check a new place for *project*'s dataset and store it once the person confirms.

    ``relinked(RelinkReport)`` after the new place is stored (the dialog then closes with Accepted).
    With *path* the check starts at once.
    """

    relinked = Signal(object)

    def __init__(self, project: Project, parent: QWidget | None = None, path: str | None = None) -> None:
        super().__init__(parent)
        self.project = project
        #: the dry run's report for :attr:`checked_path`; Relink stores that place
        self.report: RelinkReport | None = None
        self.checked_path: str | None = None
        #: the stored report, once Relink succeeded
        self.result_report: RelinkReport | None = None
        self._worker: JobWorker | None = None
        self._committing = False
        self.setWindowTitle(f"Relink Dataset — {project.name}")
        self.setObjectName("relinkDialog")
        self.resize(640, 460)

        one_file = dataset_file(project)
        what = f"the file {one_file}" if one_file else "the dataset folder"
        intro = QLabel(
            f"This project's dataset was at <b>{html.escape(project.dataset_path, quote=False)}</b>. Choose where {what} is now: "
            "each source file there is compared with the content the project recorded. Nothing is stored "
            "until you press <b>Relink</b>, and the dataset itself is never written to.")
        intro.setWordWrap(True)
        intro.setObjectName("relinkIntro")

        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("The dataset's new place")
        self.path_edit.setClearButtonEnabled(True)
        self.path_edit.textEdited.connect(self._on_path_edited)
        self.path_edit.returnPressed.connect(lambda: self.start_check(self.path_edit.text()))
        self.choose_button = QPushButton("Choose…")
        self.choose_button.setToolTip("Pick the folder (or file) where the dataset is now")
        self.choose_button.clicked.connect(self._choose)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Compare the files at this place with the project (nothing is stored)")
        self.check_button.clicked.connect(lambda: self.start_check(self.path_edit.text()))
        place = QHBoxLayout()
        place.addWidget(self.path_edit, 1)
        place.addWidget(self.choose_button)
        place.addWidget(self.check_button)

        self.summary_label = QLabel("")
        self.summary_label.setObjectName("relinkSummary")
        self.summary_label.setWordWrap(True)
        bold = QFont(self.summary_label.font())
        bold.setBold(True)
        self.summary_label.setFont(bold)
        self.detail_label = QLabel("")
        self.detail_label.setObjectName("relinkDetail")
        self.detail_label.setWordWrap(True)
        self.mismatch_list = QListWidget()
        self.mismatch_list.setObjectName("relinkMismatches")
        fixed = QFont("monospace")
        fixed.setStyleHint(QFont.StyleHint.Monospace)
        self.mismatch_list.setFont(fixed)
        self.mismatch_list.hide()

        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(14)
        self.progress_bar.hide()
        self.status_label = QLabel("")
        self.status_label.setObjectName("relinkStatus")
        self.status_label.setWordWrap(True)
        self.cancel_button = QPushButton("Close")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.relink_button = QPushButton("Relink")
        self.relink_button.setToolTip("Store the new place in the project (checks the files once more)")
        self.relink_button.setEnabled(False)
        self.relink_button.clicked.connect(self.start_relink)
        footer = QHBoxLayout()
        footer.setSpacing(10)
        footer.addWidget(self.status_label, 1)
        footer.addWidget(self.progress_bar, 1)
        footer.addWidget(self.cancel_button)
        footer.addWidget(self.relink_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(10)
        layout.addWidget(intro)
        layout.addLayout(place)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.detail_label)
        layout.addWidget(self.mismatch_list, 1)
        layout.addStretch(0)
        layout.addLayout(footer)

        self._set_status("Choose where the dataset is now.")
        if path:
            self.path_edit.setText(path)
            self.start_check(path)

    # ---- state -----------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._worker is not None

    def can_relink(self) -> bool:
        """A check found the place in the path field usable, and it is not the place already stored."""
        return (not self.is_running() and self.report is not None and not self.report.unchanged_location
                and self.checked_path is not None and self.checked_path == self.path_edit.text())

    def _update_buttons(self) -> None:
        running = self.is_running()
        ready = self.can_relink()
        self.relink_button.setEnabled(ready and not running)
        self.relink_button.setDefault(ready and not running)
        self.check_button.setDefault(not ready and not running)
        for widget in (self.path_edit, self.choose_button, self.check_button):
            widget.setEnabled(not running)
        self.cancel_button.setText("Cancel" if running else "Close")

    def _set_status(self, text: str, ink: QColor = HINT_INK) -> None:
        self.status_label.setText(text)
        themed_style_sheet(self.status_label, ink_sheet(ink))

    def _show_report(self, report: RelinkReport | None) -> None:
        self.report = report
        self.mismatch_list.clear()
        if report is None:
            self.summary_label.setText("")
            self.detail_label.setText("")
            self.mismatch_list.hide()
            return
        self.summary_label.setText(report.counts()[:1].upper() + report.counts()[1:] + ".")
        themed_style_sheet(self.summary_label, ink_sheet(SUCCESS_INK if report.checked == len(report.matched)
                                                         else WARNING_INK))
        unusable = len(report.missing) + len(report.changed)
        if report.unchanged_location:
            self.detail_label.setText("The project already points at this place; there is nothing to relink.")
        elif unusable:
            self.detail_label.setText(
                f"Relink points the project at {report.dataset_path}. The {plural(unusable, 'file')} listed "
                "below stay unusable, as they are now (their candidates keep their history):")
        else:
            self.detail_label.setText(f"Every source file is at {report.dataset_path}, unchanged.")
        lines = mismatch_lines(report)
        self.mismatch_list.addItems(lines)
        self.mismatch_list.setVisible(bool(lines))

    # ---- choosing a place ----------------------------------------------------------------------------
    def _choose(self) -> None:
        path = choose_new_place(self.project, self)
        if path:
            self.path_edit.setText(path)
            self.start_check(path)

    def _on_path_edited(self, _text: str) -> None:
        self._update_buttons()  # a report is for the place it checked: Relink waits for a new check

    # ---- the dry run, then the real one --------------------------------------------------------------
    def start_check(self, path: str) -> bool:
        """Check the dataset at *path* against the project (a dry run in a job thread)."""
        path = path.strip()
        if self.is_running():
            return False
        if not path:
            self._set_status("Choose where the dataset is now, or type its path.", ERROR_INK)
            return False
        self.path_edit.setText(path)
        self._show_report(None)
        self.checked_path = None
        self._start(path, dry_run=True)
        self._set_status("Checking the files at the new place…")
        return True

    def start_relink(self) -> bool:
        """Store the place the last check found (the person confirmed by pressing Relink)."""
        if not self.can_relink():
            return False
        assert self.checked_path is not None
        self._start(self.checked_path, dry_run=False)
        self._set_status("Relinking: checking the files once more, then storing the new place…")
        return True

    def _start(self, path: str, dry_run: bool) -> None:
        from genaug_desktop.core.store.relink import relink_job  # (the store loads with the dialog's first job)

        project = self.project
        worker = JobWorker(lambda cancel: relink_job(project, path, cancel, dry_run=dry_run),
                           name="relink-check" if dry_run else "relink")
        worker.progress.connect(self._on_progress)
        worker.returned.connect(lambda report: self._on_returned(path, report, dry_run))
        worker.errored.connect(lambda message: self._on_errored(message, dry_run))
        worker.aborted.connect(lambda: self._on_aborted(dry_run))
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self._committing = not dry_run
        self.progress_bar.setRange(0, 0)
        self.progress_bar.show()
        self._update_buttons()
        worker.start()

    def _on_progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress_bar.setRange(0, progress.total)
            self.progress_bar.setValue(min(progress.done, progress.total))
        self._set_status(progress.message)

    def _on_returned(self, path: str, report: RelinkReport, dry_run: bool) -> None:
        self._show_report(report)
        if dry_run:
            self.checked_path = path
            if report.unchanged_location:
                self._set_status("Nothing to relink.")
            else:
                self._set_status("Press Relink to point the project at this place.")
            return
        if report.applied:
            self.result_report = report
            self._set_status("Relinked.", SUCCESS_INK)
            self.relinked.emit(report)
            self.accept()
        else:
            self._set_status("The project already points at this place; nothing was changed.")

    def _on_errored(self, message: str, dry_run: bool) -> None:
        # Where the report would be: the person looks there for the outcome of the check.
        self._show_report(None)
        self.checked_path = None
        self.summary_label.setText("Refused: this place cannot be used." if dry_run else "Not relinked.")
        themed_style_sheet(self.summary_label, ink_sheet(ERROR_INK))
        self.detail_label.setText(message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))
        self._set_status("Choose another place." if dry_run else "The project was not changed.")

    def _on_aborted(self, dry_run: bool) -> None:
        if dry_run:
            self._show_report(None)
            self.checked_path = None
        self._set_status("Cancelled: nothing was changed.")

    def _on_finished(self) -> None:
        self._worker = None
        self._committing = False
        self.progress_bar.hide()
        self._update_buttons()

    # ---- closing ---------------------------------------------------------------------------------------
    def cancel_job(self) -> None:
        if self._worker is not None:
            self._set_status("Cancelling…")
            self._worker.abort()

    def _on_cancel_clicked(self) -> None:
        if self.is_running():
            self.cancel_job()
        else:
            self.reject()

    def shutdown(self) -> None:
        """Stop the check and wait for it (the window may close the project right after)."""
        if self._worker is not None:
            self._worker.abort()
            self._worker.wait()

    def done(self, result: int) -> None:
        self.shutdown()
        super().done(result)


def main(argv: list[str] | None = None) -> int:
    """Show the dialog alone: ``python -m genaug_desktop.gui.relink_dialog PROJECT.genaug [NEW_PLACE]``."""
    import sys

    from genaug_desktop.gui.demo import run_project_panel

    args = sys.argv[1:] if argv is None else argv
    place = args[1] if len(args) > 1 else None
    return run_project_panel("relink_dialog", "Relink the dataset of", (640, 460),
                             lambda project: RelinkDialog(project, path=place), args[:1])


if __name__ == "__main__":
    raise SystemExit(main())
