"""The compare view: an image candidate beside its source with the difference computed in the
background, and a text candidate beside its source with a word-level diff."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genaug_desktop.core.store.project import Project
from genaug_desktop.gui.compare import CompareView, difference_image, tokens, word_diff
from genaug_desktop.gui.review_models import load_review_rows
from review_helpers import make_image_project, make_text_project


@pytest.fixture
def view(qtbot):
    v = CompareView()
    qtbot.addWidget(v, before_close_func=lambda view: view.shutdown())  # pytest-qt closes widgets first
    v.resize(900, 400)
    v.show()
    return v


def test_word_diff_marks_removed_and_added_words() -> None:
    diff = word_diff("The paint chipped within days and rust appeared soon after.",
                     "The paint chipped within days and rust soon.")
    assert diff.removed == 2 and diff.added == 0
    assert 'line-through;">appeared</span> soon' in diff.source_html  # the space stays outside the mark
    assert "<span" not in diff.candidate_html
    assert "2 words removed or changed" in diff.summary()
    swapped = word_diff("a quick brown fox", "a slow brown fox")
    assert swapped.removed == 1 and swapped.added == 1 and "slow" in swapped.candidate_html
    same = word_diff("same <b>text</b>", "same <b>text</b>")
    assert same.summary() == "Same words as the source." and "&lt;b&gt;" in same.source_html  # escaped
    assert "".join(tokens("Hello,  world!\n")) == "Hello,  world!\n"


def test_difference_image_is_a_heat_map() -> None:
    a = np.zeros((20, 30, 3), np.uint8)
    b = a.copy()
    b[5:10, 5:10] = 200
    heat, mean, share = difference_image(a, b)
    assert heat.shape == (20, 30, 3) and heat.dtype == np.uint8
    assert share == pytest.approx(25 / 600)
    assert mean == pytest.approx(200 * 25 / 600)
    assert heat[7, 7].sum() > heat[0, 0].sum()  # changed pixels are bright, unchanged ones dark
    resized, _m, _s = difference_image(a, np.zeros((10, 15, 3), np.uint8))  # other size: resized first
    assert resized.shape == (20, 30, 3)


def test_image_candidate_beside_its_source_with_difference(qtbot, view: CompareView, tmp_path: Path) -> None:
    path = make_image_project(tmp_path / "i")
    with Project.open(str(path)) as project:
        rows = load_review_rows(project).rows
        view.set_project(project)
        view.show_row(rows[0])
        assert view.pages.currentWidget() is view._image_page
        assert view.difference_check.isVisible() and not view.difference_image.isVisible()
        qtbot.waitUntil(lambda: view.comparison is not None and not view.is_loading(), timeout=10000)
        assert view.comparison.source is not None and view.comparison.candidate is not None
        assert view.source_image.body.image is not None and view.candidate_image.body.image is not None
        assert view.candidate_image.caption.text() == "Candidate #1 · 48 × 40 px"
        assert "color_jitter" in view.footer.text()

        view.difference_check.setChecked(True)  # computed in the background
        assert view.difference_image.isVisible()
        qtbot.waitUntil(lambda: view.comparison is not None and view.comparison.difference is not None, timeout=10000)
        assert "mean change" in view.difference_image.caption.text()
        assert view.difference_image.body.image is not None

        view.show_row(rows[-1])  # newest wins: the blank candidate
        qtbot.waitUntil(lambda: view.comparison is not None and not view.is_loading(), timeout=10000)
        assert view.title.text().startswith("Candidate #7")
        view.show_row(None)
        assert view.pages.currentWidget() is view.empty
        view.set_project(None)


def test_text_candidate_beside_its_source(qtbot, view: CompareView, tmp_path: Path) -> None:
    path = make_text_project(tmp_path / "t")
    with Project.open(str(path)) as project:
        rows = load_review_rows(project).rows
        view.set_project(project)
        view.show_row(rows[0])
        assert view.pages.currentWidget() is view._text_page
        assert not view.difference_check.isVisible()
        diff = view.text_diff
        assert diff is not None and diff.removed == 1 and diff.added == 1
        assert "really" in view.candidate_text.body.toPlainText()
        assert "#d1fadf" in view.candidate_text.body.toHtml().lower()  # the added word is marked green
        assert view.candidate_text.caption.text().startswith("Candidate #1 · 1 word removed or changed")
        assert view.status.text() == "Pending"

        generated = rows[-1]  # no source: shown alone
        view.show_row(generated)
        assert view.text_diff is None
        assert view.source_text.caption.text().startswith("Source: none")
        assert "generator tiny-lm" in view.footer.text()
        view.set_project(None)
