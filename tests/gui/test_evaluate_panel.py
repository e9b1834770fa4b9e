"""The Evaluate panel on tiny projects: a run shows the sentence, the bars with error bars and the
per-class changes and is listed; Cancel stores nothing; Run Again repeats a past run's settings;
projects without candidates or labels, and a dataset without a project, get hints. The charts
alone, and the Review ▸ Evaluate… entry of the main window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtGui import QColor

from genaug_desktop.core.evaluation import stored_evaluations
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store import init_project_job
from genaug_desktop.core.store.project import Project
from genaug_desktop.gui.charts import DeltaBarChart, ErrorBar, ErrorBarChart, Series
from genaug_desktop.gui.evaluate_panel import EvaluatePanel
from review_helpers import make_text_project


def colours(widget) -> int:
    image = widget.grab().toImage()
    return len({image.pixelColor(x, y).name() for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)})


@pytest.fixture
def project(tmp_path: Path):
    p = Project.open(str(make_text_project(tmp_path / "t")))
    yield p
    p.close()


@pytest.fixture
def panel(qtbot):
    w = EvaluatePanel()
    qtbot.addWidget(w)
    w.resize(1100, 620)
    w.show()
    yield w
    w.shutdown()


def _settle(qtbot, panel: EvaluatePanel, timeout: int = 120_000) -> None:
    qtbot.waitUntil(panel.is_settled, timeout=timeout)


def _start(panel: EvaluatePanel, seeds: int, epochs: int) -> None:
    panel.seeds_spin.setValue(seeds)
    panel.epochs_spin.setValue(epochs)
    assert panel.run()


def test_a_run_shows_the_sentence_the_chart_and_is_stored(qtbot, panel, project) -> None:
    panel.set_project(project)
    _settle(qtbot, panel)
    assert panel.pages.currentIndex() == 1
    assert "None of the 12 candidates is accepted" in panel.note_label.text()
    assert panel.history.rowCount() == 0 and panel.chart.is_empty()
    empty_colours = colours(panel.chart)

    project.decide([1, 2, 3, 4, 5, 6], "accepted")
    panel.refresh()
    _settle(qtbot, panel)
    assert panel.note_label.text() == ""
    _start(panel, seeds=2, epochs=3)
    assert not panel.run_button.isEnabled() and panel.cancel_button.isVisibleTo(panel)
    assert panel.run() is False  # one run at a time
    _settle(qtbot, panel)

    stored = stored_evaluations(project)
    assert len(stored) == 1
    text = panel.sentence_label.text()
    assert text == stored[0]["summary"][:1].upper() + stored[0]["summary"][1:] + "."
    assert "held-out accuracy" in text and "over 2 seeds" in text
    assert [b.label for b in panel.chart.bars] == ["Real only", "Real + accepted", "Real + all"]
    assert [b.mean for b in panel.chart.bars] == [stored[0][k]["mean"] for k in ("real_only", "with_accepted", "with_all")]
    assert [b.spread for b in panel.chart.bars] == [stored[0][k]["std"] for k in ("real_only", "with_accepted", "with_all")]
    assert panel.chart.y_max == 1.0 and "higher is better" in panel.chart.title
    assert panel.delta_chart.categories == ["negative", "neutral", "positive"]
    assert [s.name for s in panel.delta_chart.series] == ["Real + accepted − real only", "Real + all − real only"]
    assert colours(panel.chart) > empty_colours + 3  # bars and whiskers were painted
    assert panel.history.rowCount() == 1 and panel.history.item(0, 1).text() == "accuracy"
    assert panel.history.item(0, 2).text() == str(stored[0]["counts"]["accepted"])
    assert panel.status_label.text() == f"Stored as run {stored[0]['id']}."
    assert panel.run_button.isEnabled() and not panel.cancel_button.isVisibleTo(panel)


def test_cancel_leaves_no_half_result(qtbot, panel, project) -> None:
    project.decide([1, 2, 3], "accepted")
    panel.set_project(project)
    _settle(qtbot, panel)
    _start(panel, seeds=20, epochs=400)
    qtbot.waitUntil(lambda: "Seed" in panel.status_label.text(), timeout=60_000)
    panel.cancel()
    _settle(qtbot, panel, timeout=30_000)
    assert "cancelled: nothing was stored" in panel.status_label.text()
    assert stored_evaluations(project) == []
    assert project.query("SELECT COUNT(*) FROM evaluations")[0][0] == 0
    assert panel.history.rowCount() == 0 and panel.sentence_label.text() == "" and panel.chart.is_empty()
    assert panel.run_button.isEnabled()


def test_run_again_repeats_the_selected_settings(qtbot, panel, project) -> None:
    project.decide([1, 2], "accepted")
    panel.set_project(project)
    _settle(qtbot, panel)
    panel.holdout_spin.setValue(30)
    panel.all_check.setChecked(False)
    _start(panel, seeds=1, epochs=2)
    _settle(qtbot, panel)
    panel.holdout_spin.setValue(10)  # changed since: Run Again uses the stored settings
    panel.history.selectRow(0)
    assert panel.run_again()
    _settle(qtbot, panel)
    first, second = stored_evaluations(project)
    for key in ("holdout", "seeds", "epochs", "include_all", "split_seed"):
        assert second["params"][key] == first["params"][key]
    assert second["params"]["holdout"] == 0.3 and second["with_all"] is None
    assert second["real_only"]["runs"] == first["real_only"]["runs"]
    assert panel.history.rowCount() == 2
    assert panel.shown is not None and panel.shown["id"] == second["id"]
    assert panel.holdout_spin.value() == 30
    panel.history.selectRow(1)  # the older run shows again
    assert panel.shown["id"] == first["id"]


def test_hints_for_no_project_no_candidates_and_no_labels(qtbot, panel, tmp_path) -> None:
    assert panel.pages.currentIndex() == 0 and "Open a project" in panel.hint_label.text()
    panel.set_dataset_open(True)
    assert "Create Project" in panel.hint_label.text()

    data = tmp_path / "plain.jsonl"
    data.write_text("\n".join(json.dumps({"text": f"line number {i} of a plain text"}) for i in range(12)) + "\n",
                    encoding="utf-8")
    with run_job(init_project_job(str(tmp_path / "plain.genaug"), str(data))) as plain:
        panel.set_project(plain)
        _settle(qtbot, panel)
        note = panel.note_label.text()
        assert "no labels" in note and "char_gru" in note and "lower is better" in note
        assert "No candidates yet" in note
        _start(panel, seeds=1, epochs=1)
        _settle(qtbot, panel)
        assert "held-out loss (lower is better)" in panel.sentence_label.text()
        assert "no accepted synthetic samples" in panel.sentence_label.text()
        assert "lower is better" in panel.chart.title and panel.chart.y_max is None
        assert panel.delta_chart.is_empty() and "no labels" in panel.delta_chart.empty_text
        assert panel.history.item(0, 1).text() == "char_gru loss"
        panel.grab().save(str(tmp_path / "unlabeled.png"))
        panel.set_project(None)
    assert panel.pages.currentIndex() == 0


def test_charts_alone(qtbot) -> None:
    chart = ErrorBarChart("t")
    qtbot.addWidget(chart)
    chart.resize(400, 240)
    assert chart.is_empty()
    blank = colours(chart)
    chart.set_bars([ErrorBar("a", 0.5, 0.1, QColor("#12b76a")), ErrorBar("b", 0.8, 0.0, QColor("#2e90fa"))],
                   lambda v: f"{v:.0%}", y_max=1.0)
    assert not chart.is_empty() and colours(chart) > blank
    assert [t for _r, t in chart._hits] == ["a: 50% ± 10%", "b: 80% ± 0%"]

    delta = DeltaBarChart("d")
    qtbot.addWidget(delta)
    delta.resize(400, 200)
    delta.set_data(["x", "y"], [Series("s", QColor("#12b76a"))], [[2.5, None]], lambda v: f"{v:+.1f}")
    delta.grab()
    assert [t for _r, t in delta._hits] == ["x\ns: +2.5", "y\ns: no held-out items"]


def test_main_window_review_menu_opens_the_evaluate_dock(qtbot, tmp_path) -> None:
    from genaug_desktop.gui.main_window import MainWindow
    from gui_helpers import wait_loaded

    path = make_text_project(tmp_path / "w")
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.session.open_path(str(path))
    wait_loaded(qtbot, window)
    curation = window.curation
    curation.evaluate_dock.hide()
    assert curation.evaluate_action.text() == "&Evaluate…"
    assert curation.evaluate_action in curation.menu.actions()
    curation.evaluate_action.trigger()
    assert curation.evaluate_dock.isVisible()
    qtbot.waitUntil(lambda: curation.evaluate.facts is not None, timeout=20_000)
    assert curation.evaluate.pages.currentIndex() == 1
    window.close()
