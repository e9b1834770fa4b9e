"""The statistics panel renders real counts, class balance and a rule's measured distribution with
its threshold; the charts on their own (ticks, bins, empty states)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor

from genaug_desktop.core.rules import run_filter
from genaug_desktop.core.store.project import Project
from genaug_desktop.gui.charts import Bar, BarChart, Histogram, PairedBarChart, Series, nice_step
from genaug_desktop.gui.stats_panel import StatsPanel, load_statistics
from review_helpers import approve_length_rule, make_text_project


def distinct_colours(widget) -> int:
    image = widget.grab().toImage()
    return len({image.pixelColor(x, y).name() for x in range(0, image.width(), 5) for y in range(0, image.height(), 5)})


@pytest.fixture
def project(tmp_path: Path):
    p = Project.open(str(make_text_project(tmp_path / "t")))
    approve_length_rule(p)
    run_filter(p)
    p.decide([1, 2, 3], "accepted")
    p.decide([4], "rejected")
    yield p
    p.close()


def test_statistics_are_read_from_the_project(project: Project) -> None:
    s = load_statistics(project)
    assert s.items == 10 and s.candidates == 12
    assert s.by_status == {"pending": 6, "accepted": 3, "rejected": 1, "rule": 2}
    assert s.by_origin == {"augmentation": 10, "generator": 2}
    assert s.by_round == {"1": 1, "2": 1}
    assert s.by_rule == {"length": 2}
    assert s.real_classes == {"negative": 3, "neutral": 3, "positive": 4}
    assert s.accepted_classes == {"positive": 1, "negative": 1, "neutral": 1}


def test_panel_renders_every_chart_with_data(qtbot, project: Project) -> None:
    panel = StatsPanel()
    qtbot.addWidget(panel)
    panel.resize(1200, 560)
    panel.show()
    panel.set_project(project)
    qtbot.waitUntil(lambda: panel.stats is not None and panel.measurements is not None and panel.is_settled(),
                    timeout=20000)
    assert panel.stack.currentWidget() is panel._content
    assert "10 real items · 12 candidates · 6 reviewed · 3 accepted" == panel.summary.text()
    assert [(b.label, b.value) for b in panel.status_chart.bars] == [
        ("Pending", 6), ("Accepted", 3), ("Rejected", 1), ("Rule-rejected", 2)]
    assert [(b.label, b.value) for b in panel.origin_chart.bars] == [
        ("Augmentation", 10), ("Generator", 2), ("Round 1", 1), ("Round 2", 1)]
    assert [(b.label, b.value) for b in panel.rule_chart.bars] == [("length", 2)]
    assert panel.class_chart.categories == ["negative", "neutral", "positive"]
    assert panel.class_chart.values == [[3, 3, 4], [1, 1, 1]]
    # The measured value of the rule that rejected most, over every candidate, with its bounds.
    m = panel.measurements
    assert m.rule_id == "length" and m.bounds == (20.0, 500.0) and len(m.values) == 12
    assert panel.histogram.outside() == 2 and "2 outside" in panel.histogram.subtitle
    for chart in (panel.status_chart, panel.origin_chart, panel.rule_chart, panel.class_chart, panel.histogram):
        assert not chart.is_empty()
        assert distinct_colours(chart) > 8, chart.title  # painted bars and text, not a blank card

    # A decision elsewhere: the panel refreshes (debounced) and the counts follow.
    project.decide([5, 6], "accepted")
    panel.schedule_refresh()
    qtbot.waitUntil(lambda: panel.is_settled() and panel.stats.by_status["accepted"] == 5, timeout=10000)
    panel.set_project(None)
    assert panel.stack.currentWidget() is panel.empty
    panel.shutdown()


def test_hidden_panel_refreshes_when_shown(qtbot, project: Project) -> None:
    panel = StatsPanel()
    qtbot.addWidget(panel)
    panel.set_project(project)  # loads once even while hidden
    qtbot.waitUntil(lambda: panel.stats is not None and panel.is_settled(), timeout=20000)
    project.decide([5], "accepted")
    panel.refresh()
    assert panel.is_settled() and panel.stats.by_status["accepted"] == 3  # hidden: postponed
    panel.show()
    qtbot.waitUntil(lambda: panel.is_settled() and panel.stats.by_status["accepted"] == 4, timeout=10000)
    panel.shutdown()


def test_charts_on_their_own(qtbot) -> None:
    assert nice_step(100, 5) == 20 and nice_step(7, 4) == 2 and nice_step(0.3, 3) == 0.1

    bars = BarChart("Bars")
    qtbot.addWidget(bars)
    bars.resize(300, 180)
    assert bars.is_empty()
    blank = distinct_colours(bars)
    bars.set_bars([Bar("a", 3, QColor("#12b76a")), Bar("b", 1, QColor("#f04438"))])
    assert distinct_colours(bars) > blank

    pairs = PairedBarChart("Pairs")
    qtbot.addWidget(pairs)
    pairs.resize(300, 180)
    pairs.set_data(["x", "y"], [Series("real", QColor("#98a2b3")), Series("kept", QColor("#12b76a"))], [[1, 3], [2, 2]])
    assert not pairs.is_empty() and distinct_colours(pairs) > 8

    hist = Histogram("Lengths")
    qtbot.addWidget(hist)
    hist.resize(400, 200)
    hist.set_values([1, 2, 2, 3, 9, None], bounds=(2, 5))
    assert hist.counts and sum(hist.counts) == 5  # None is not measured
    assert hist.outside() == 2  # 1 and 9
    assert hist.edges[0] <= 1 and hist.edges[-1] >= 9
    hist.set_values([0.1, 0.15, 0.2, 0.9], bounds=(None, 0.5))
    assert len(hist.counts) == hist.bins and hist.outside() == 1
    assert distinct_colours(hist) > 8
    hist.set_values([4.0, 4.0])  # one value: still a sensible range
    assert sum(hist.counts) == 2
