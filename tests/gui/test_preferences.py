"""Edit > Preferences: loads the settings, validates, saves on OK only, applies theme and sizes live."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from genaug_desktop.gui.main_window import MainWindow
from genaug_desktop.gui.preferences import RESTART_NOTE, PreferencesDialog
from genaug_desktop.gui.settings import MAX_CACHE_MB, MAX_THUMBNAIL_SIZE, MAX_WORKERS, AppSettings
from genaug_desktop.gui.theme import is_dark
from gui_helpers import wait_loaded
from theme_helpers import light_afterwards  # noqa: F401  (fixture)


def _dialog(qtbot, settings: AppSettings) -> PreferencesDialog:
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    return dialog


def test_shows_the_saved_values_and_bounds(qtbot) -> None:
    settings = AppSettings()
    settings.theme, settings.engine, settings.thumbnail_cache_mb, settings.thumbnail_workers = "dark", "ray", 512, 2
    settings.thumbnail_size = 96
    dialog = _dialog(qtbot, settings)
    assert dialog.values() == {"thumbnail_size": 96, "thumbnail_cache_mb": 512, "thumbnail_workers": 2,
                               "theme": "dark", "engine": "ray"}
    # Out-of-range input cannot be typed: the spin boxes hold the settings' bounds.
    assert dialog.thumbnail_size.maximum() == MAX_THUMBNAIL_SIZE
    assert (dialog.cache_mb.maximum(), dialog.workers.maximum()) == (MAX_CACHE_MB, MAX_WORKERS)
    dialog.cache_mb.setValue(10**6)
    assert dialog.cache_mb.value() == MAX_CACHE_MB
    assert dialog.workers.specialValueText() == "One per CPU"
    notes = " ".join(label.text() for label in dialog.findChildren(type(dialog.error_label)))
    assert f"Worker processes: {RESTART_NOTE}" in notes and "Engine: applies from the next augmentation" in notes


def test_ok_saves_and_cancel_does_not(qtbot) -> None:
    settings = AppSettings()
    dialog = _dialog(qtbot, settings)
    dialog.cache_mb.setValue(1024)
    dialog.engine.setCurrentIndex(dialog.engine.findData("ray"))
    dialog.reject()
    assert (settings.thumbnail_cache_mb, settings.engine) == (256, "local")

    dialog = _dialog(qtbot, settings)
    dialog.cache_mb.setValue(1024)
    dialog.workers.setValue(3)
    dialog.engine.setCurrentIndex(dialog.engine.findData("ray"))
    with qtbot.waitSignal(dialog.applied, timeout=1000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    again = AppSettings()
    assert (again.thumbnail_cache_mb, again.thumbnail_workers, again.engine) == (1024, 3, "ray")


def test_restore_defaults_fills_the_fields_only(qtbot) -> None:
    settings = AppSettings()
    settings.engine = "ray"
    dialog = _dialog(qtbot, settings)
    dialog.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    assert dialog.values() == {"thumbnail_size": 128, "thumbnail_cache_mb": 256, "thumbnail_workers": 0,
                               "theme": "system", "engine": "local"}
    assert settings.engine == "ray"  # saved only with OK


def test_a_refused_value_is_shown_and_nothing_is_applied(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = AppSettings()
    dialog = _dialog(qtbot, settings)
    dialog.engine.addItem("Spark", "spark")  # a choice the settings do not know
    dialog.engine.setCurrentIndex(dialog.engine.count() - 1)
    applied: list[bool] = []
    dialog.applied.connect(lambda: applied.append(True))
    dialog.accept()
    assert not applied and dialog.result() != PreferencesDialog.DialogCode.Accepted
    assert dialog.error_label.text() == "Not saved: engine must be one of local, ray, not 'spark'."
    assert settings.engine == "local"


@pytest.mark.usefixtures("light_afterwards")
def test_window_applies_theme_size_and_cache_live(qtbot, make_window, image_folder: Path) -> None:
    window: MainWindow = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    assert window.preferences_action.shortcuts()[0].toString() == "Ctrl+,"
    settings = window.settings
    settings.theme = "dark"
    settings.thumbnail_size = 192
    settings.thumbnail_cache_mb = 64
    window.apply_preferences()
    assert is_dark() and window.theme.theme == "dark"
    assert window.grid.thumbnail_size == 192
    assert window.session.thumbnails.byte_budget == 64 * 1024 * 1024
    settings.theme = "light"
    window.apply_preferences()
    assert not is_dark()
    qtbot.waitUntil(window.is_settled, timeout=20_000)
