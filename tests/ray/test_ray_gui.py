"""The window runs augmentation on the engine chosen in the preferences (AppSettings.engine):
on Ray when it is installed, and with one clear message (no crash) when it is not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("pytestqt", reason="pytest-qt is not installed")

import genaug_desktop.gui  # noqa: E402,F401  (applies the PySide6 compatibility fix before any Qt call)
from PySide6.QtCore import QSettings  # noqa: E402

from genaug_desktop.core.store import Project  # noqa: E402
from genaug_desktop.gui.augment_dialog import AugmentController, AugmentDialog  # noqa: E402
from genaug_desktop.gui.settings import SETTINGS_DIR_ENV, AppSettings  # noqa: E402

SCREENSHOTS = os.environ.get("GENAUG_RAY_SCREENSHOTS")  # a folder: save what the window showed


@pytest.fixture()
def window_on_ray(qtbot, tmp_path, monkeypatch, image_project):
    """A main window with the engine preference set to "ray", on a project of 20 images."""
    from genaug_desktop.gui.main_window import MainWindow

    monkeypatch.setenv(SETTINGS_DIR_ENV, str(tmp_path / "settings"))
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    settings = AppSettings()
    settings.engine = "ray"

    def accept(dialog: AugmentDialog) -> bool:
        dialog.per_item_spin.setValue(2)
        return True

    monkeypatch.setattr(AugmentController, "ask_options", staticmethod(accept))
    path = image_project.path
    image_project.close()
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.open_path(path)
    session = window.session
    qtbot.waitUntil(lambda: session.state is not None and session.state.loaded and not session.is_busy, timeout=30000)
    qtbot.waitUntil(lambda: window.augmentation.has_editor, timeout=30000)
    yield window, path
    qtbot.waitUntil(lambda: not window.augmentation.controller.is_busy, timeout=30000)
    window.close()


def _augment(qtbot, window) -> tuple[str, str]:
    window.augmentation.editor.augment_button.click()
    qtbot.waitUntil(lambda: any(m.startswith("Augmentation") or "candidates made" in m
                                for _l, m in window.message_bar.history), timeout=120000)
    qtbot.waitUntil(lambda: not window.augmentation.controller.is_busy, timeout=30000)
    return window.message_bar.history[-1]


def _screenshot(window, name: str) -> None:
    if SCREENSHOTS:
        window.grab().save(str(Path(SCREENSHOTS) / name))


def test_without_ray_the_window_says_how_to_install_it(qtbot, window_on_ray, monkeypatch):
    import genaug_desktop.core.engine as engine

    monkeypatch.setattr(engine, "ray_installed", lambda: False)
    window, path = window_on_ray
    level, text = _augment(qtbot, window)
    _screenshot(window, "ray-missing.png")
    assert level == "error"
    assert text.startswith("Augmentation failed: the ray engine needs Ray Data") and 'pip install "genaug-desktop[ray]"' in text
    with Project.open(path) as project:
        assert project.query("SELECT COUNT(*) FROM candidates")[0][0] == 0


def test_with_ray_the_window_augments_on_ray(qtbot, window_on_ray, ray_session):
    window, path = window_on_ray
    progress = []
    window.augmentation.controller.progress_changed.connect(progress.append)
    level, text = _augment(qtbot, window)
    _screenshot(window, "ray-done.png")
    assert "40 candidates made" in text, (level, text)
    assert any(p.message == "Starting Ray" for p in progress)
    with Project.open(path) as project:
        assert project.query("SELECT COUNT(*) FROM candidates")[0][0] == 40


def test_setting_reads_back(tmp_path, monkeypatch):
    monkeypatch.setenv(SETTINGS_DIR_ENV, str(tmp_path / "settings"))
    assert AppSettings().engine == "local"
    AppSettings().engine = "ray"
    assert AppSettings().engine == "ray"


def test_the_filter_runs_on_ray_from_the_window(qtbot, window_on_ray, ray_session):
    from genaug_desktop.core.rules import approve_rules, list_rules, propose_rules, save_proposals

    window, path = window_on_ray
    _augment(qtbot, window)
    with Project.open(path) as project:
        save_proposals(project, propose_rules(project))
        approve_rules(project, [r.id for r in list_rules(project)])
    assert window.curation.run_filter()
    qtbot.waitUntil(lambda: any(m.startswith(("Filter:", "The filter failed")) for _l, m in window.message_bar.history),
                    timeout=120000)
    qtbot.waitUntil(lambda: not window.curation.rules.is_filtering, timeout=30000)
    level, text = next((lv, m) for lv, m in reversed(window.message_bar.history) if "ilter" in m)
    _screenshot(window, "ray-filter.png")
    assert text.startswith("Filter: checked 40 pending candidates"), (level, text)
    with Project.open(path) as project:
        checked = project.query("SELECT COUNT(*) FROM candidates WHERE rules_checked IS NOT NULL OR status = 'rejected'")
        assert checked[0][0] == 40
