"""Settings: isolated per test, recent files, typed values, schema migration."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from genaug_desktop.gui.settings import MAX_RECENT, SCHEMA_VERSION, AppSettings, make_qsettings


def test_settings_live_in_the_test_folder(isolated_settings: Path) -> None:
    store = make_qsettings()
    assert Path(store.fileName()).parent == isolated_settings


def test_recent_paths_newest_first_without_duplicates(tmp_path: Path) -> None:
    settings = AppSettings()
    for name in ("a", "b", "a"):
        settings.add_recent(str(tmp_path / name))
    assert settings.recent_paths() == [str(tmp_path / "a"), str(tmp_path / "b")]
    for i in range(MAX_RECENT + 5):
        settings.add_recent(str(tmp_path / f"x{i}"))
    assert len(settings.recent_paths()) == MAX_RECENT
    settings.remove_recent(str(tmp_path / f"x{MAX_RECENT + 4}"))
    assert str(tmp_path / f"x{MAX_RECENT + 4}") not in settings.recent_paths()
    settings.clear_recent()
    assert settings.recent_paths() == []


def test_single_recent_path_survives_a_reload(tmp_path: Path) -> None:
    AppSettings().add_recent(str(tmp_path / "only"))
    AppSettings().sync()
    assert AppSettings().recent_paths() == [str(tmp_path / "only")]


def test_thumbnail_size_is_clamped() -> None:
    settings = AppSettings()
    settings.thumbnail_size = 9999
    assert settings.thumbnail_size == 256
    settings.store.setValue("thumbnails/size", "not a number")
    assert settings.thumbnail_size == 128


def test_version_0_settings_are_migrated(isolated_settings: Path) -> None:
    old = QSettings(str(isolated_settings / "genaug-desktop.ini"), QSettings.Format.IniFormat)
    old.setValue("recent", "/data/one,/data/two")
    old.sync()
    settings = AppSettings()
    assert settings.recent_paths() == ["/data/one", "/data/two"]
    assert int(settings.store.value("schema_version")) == SCHEMA_VERSION
    assert settings.store.value("recent") is None
