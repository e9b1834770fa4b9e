"""The export dialog on small real projects: the planned counts before writing, real exports
(imagefolder, jsonl) read back, the report with Open Folder, cancel leaving nothing, and errors
shown next to their field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genaug_desktop.core.export import verify_export
from genaug_desktop.core.store.project import Project
from genaug_desktop.gui import export_dialog as export_module
from genaug_desktop.gui.export_dialog import ExportDialog
from review_helpers import make_image_project, make_text_project


@pytest.fixture
def image_project(tmp_path: Path):
    project = Project.open(str(make_image_project(tmp_path / "img")))
    ids = [c.id for c in project.candidates()]
    project.decide(ids[:4], "accepted")  # 4 accepted variants; the rest pending
    project.decide(ids[4:5], "rejected")
    yield project
    project.close()


@pytest.fixture
def text_project(tmp_path: Path):
    project = Project.open(str(make_text_project(tmp_path / "txt")))
    ids = [c.id for c in project.candidates()]
    project.decide(ids[:6], "accepted")
    yield project
    project.close()


@pytest.fixture
def make_dialog(qtbot):
    def make(project: Project, destination: str | None = None) -> ExportDialog:
        dialog = ExportDialog(project, destination=destination)
        qtbot.addWidget(dialog, before_close_func=lambda d: d.shutdown())
        dialog.show()
        return dialog

    return make


def planned(qtbot, dialog: ExportDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.is_planning() and dialog.plan is not None, timeout=20000)


def table_rows(dialog: ExportDialog) -> list[list[str]]:
    t = dialog.plan_table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_counts_are_shown_before_writing_and_follow_the_options(qtbot, make_dialog, image_project, tmp_path) -> None:
    dest = tmp_path / "out"
    dialog = make_dialog(image_project, str(dest))
    planned(qtbot, dialog)
    assert dialog.plan.total == 4
    assert dialog.plan_summary.text().startswith("4 samples in 2 classes")
    assert table_rows(dialog)[-1][0] == "Total" and table_rows(dialog)[-1][-1] == "4"
    assert not dest.exists()  # planning writes nothing
    assert dialog.export_button.isEnabled()

    dialog.originals_check.setChecked(True)  # +6 originals; the newest plan wins
    dialog.status_checks["pending"].setChecked(True)  # +2 pending
    # Until the new counts arrive the old ones are not passed off as current.
    assert dialog.plan_summary.text() == "Counting…" and not dialog.plan_table.isEnabled()
    assert not dialog.export_button.isEnabled()
    planned(qtbot, dialog)
    assert dialog.plan_table.isEnabled() and dialog.plan_summary.text().startswith("12 samples")
    assert dialog.plan.total == 12
    assert dialog.plan.by_origin()["original"] == 6
    rows = table_rows(dialog)
    assert rows[-1][2:] == ["6", "6", "0", "12"]
    assert {r[0] for r in rows[:-1]} - {""} == {"train", "val"}


def test_bad_options_and_destination_show_next_to_the_field(qtbot, make_dialog, image_project, tmp_path) -> None:
    dialog = make_dialog(image_project, str(tmp_path / "out"))
    planned(qtbot, dialog)
    dialog.split_spins["val"].setValue(30)  # 80 + 30
    qtbot.waitUntil(lambda: dialog.field_errors["splits"].isVisible(), timeout=5000)
    assert "add up to 110 %" in dialog.field_errors["splits"].text()
    assert not dialog.export_button.isEnabled()
    dialog.split_spins["val"].setValue(20)
    planned(qtbot, dialog)
    assert not dialog.field_errors["splits"].isVisible()

    # inside the source dataset: refused at once, next to the folder field
    dialog.destination_edit.setText(str(Path(image_project.dataset_root) / "export"))
    label = dialog.field_errors["destination"]
    assert label.isVisible() and "inside the" in label.text()
    assert not dialog.export_button.isEnabled()
    # a non-empty folder that is no export
    other = tmp_path / "busy"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    dialog.destination_edit.setText(str(other))
    assert "not empty" in label.text()
    dialog.overwrite_check.setChecked(True)
    assert "not an export made by genaug-desktop" in label.text()
    assert (other / "notes.txt").read_text() == "mine"

    # nothing selected at all: the core's error names the statuses field
    dialog.destination_edit.setText(str(tmp_path / "fresh"))
    dialog.overwrite_check.setChecked(False)
    dialog.status_checks["accepted"].setChecked(False)
    qtbot.waitUntil(lambda: dialog.field_errors["content"].isVisible(), timeout=5000)
    assert "nothing to export" in dialog.field_errors["content"].text().lower()
    assert not dialog.export_button.isEnabled()


def test_imagefolder_export_for_real_then_report_and_open_folder(qtbot, make_dialog, image_project, tmp_path,
                                                                 monkeypatch) -> None:
    dest = tmp_path / "shapes-export"
    dialog = make_dialog(image_project, str(dest))
    dialog.originals_check.setChecked(True)
    planned(qtbot, dialog)
    shown = dialog.plan.by_split()
    exported: list[object] = []
    dialog.exported.connect(exported.append)
    assert dialog.start_export()
    assert dialog.cancel_button.text() == "Cancel"
    qtbot.waitUntil(lambda: not dialog.is_exporting(), timeout=30000)

    assert dialog.pages.currentIndex() == 1, dialog.status_label.text()
    result = dialog.result
    assert exported == [result]
    assert result.by_split() == shown  # exactly what the dialog showed
    assert "Exported 10 samples" in dialog.report_summary.text()
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["counts"]
    rows = [(split, json.loads(line)) for split in shown
            for line in (dest / split / "metadata.jsonl").read_text().splitlines()]
    assert len(rows) == 10
    for split, row in rows:
        assert (dest / split / row["file_name"]).is_file()
    assert verify_export(str(dest)).ok

    opened: list[str] = []
    monkeypatch.setattr(export_module.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    dialog.open_folder_button.click()
    assert opened == [result.destination]


def test_jsonl_export_of_a_text_project(qtbot, make_dialog, text_project, tmp_path) -> None:
    dest = tmp_path / "reviews-export"
    dialog = make_dialog(text_project, str(dest))
    assert dialog.image_box.isHidden()
    # A text project opens on its own formats; WebDataset (shared with images) comes last.
    formats = [dialog.format_combo.itemData(i) for i in range(dialog.format_combo.count())]
    assert formats[0] == "jsonl" and formats[-1] == "webdataset" and dialog.format == "jsonl"
    dialog.set_format("jsonl")
    dialog.dedupe_check.setChecked(True)
    planned(qtbot, dialog)
    assert dialog.plan.total == 6
    assert dialog.start_export()
    qtbot.waitUntil(lambda: not dialog.is_exporting(), timeout=30000)
    assert dialog.pages.currentIndex() == 1, dialog.status_label.text()
    lines = [json.loads(line) for split in ("train", "val") for line in
             ((dest / f"{split}.jsonl").read_text().splitlines() if (dest / f"{split}.jsonl").exists() else [])]
    assert len(lines) == 6
    assert all(line["text"] for line in lines)
    assert verify_export(str(dest)).ok


def test_cancel_leaves_nothing(qtbot, make_dialog, image_project, tmp_path, monkeypatch) -> None:
    from genaug_desktop.core.jobs import Progress

    real_export_job = export_module.export_job
    stop_here = {}

    def slow_export_job(*args, **kwargs):
        job = real_export_job(*args, **kwargs)
        for progress in job:
            yield progress
            stop_here["reached"] = True
            while True:  # wait for the cancel between two progress reports, staging folder open
                yield Progress(0, None, "waiting")

    monkeypatch.setattr(export_module, "export_job", slow_export_job)
    dest = tmp_path / "cancelled"
    dialog = make_dialog(image_project, str(dest))
    planned(qtbot, dialog)
    assert dialog.start_export()
    qtbot.waitUntil(lambda: stop_here.get("reached", False), timeout=10000)
    dialog.cancel_button.click()  # Cancel while exporting aborts, the dialog stays
    qtbot.waitUntil(lambda: not dialog.is_exporting(), timeout=10000)
    assert dialog.isVisible()
    assert "nothing was written" in dialog.status_label.text()
    assert not dest.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith((".cancelled", "cancelled"))] == []
    assert dialog.pages.currentIndex() == 0 and dialog.export_button.isEnabled()
