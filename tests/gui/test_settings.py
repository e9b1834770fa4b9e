"""Settings: isolated per test, recent files, typed values, schema migration."""

from __future__ import annotations

from pathlib import Path

import pytest
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


def test_theme_engine_cache_and_workers_default_and_persist() -> None:
    settings = AppSettings()
    assert (settings.theme, settings.engine) == ("system", "local")
    assert (settings.thumbnail_cache_mb, settings.thumbnail_workers) == (256, 0)
    settings.theme = "dark"
    settings.engine = "ray"
    settings.thumbnail_cache_mb = 1024
    settings.thumbnail_workers = 3
    settings.sync()
    again = AppSettings()
    assert (again.theme, again.engine, again.thumbnail_cache_mb, again.thumbnail_workers) == ("dark", "ray", 1024, 3)


@pytest.mark.parametrize(("name", "bad", "message"), [
    ("theme", "purple", "theme must be one of system, light, dark, not 'purple'"),
    ("engine", "spark", "engine must be one of local, ray, not 'spark'"),
    ("thumbnail_cache_mb", 4, "thumbnail cache size (MB) must be from 16 to 8192, not 4"),
    ("thumbnail_cache_mb", "lots", "thumbnail cache size (MB) must be a whole number from 16 to 8192, not 'lots'"),
    ("thumbnail_workers", -1, "worker count must be from 0 to 64, not -1"),
    ("thumbnail_workers", True, "worker count must be a whole number from 0 to 64, not True"),
])
def test_setters_refuse_bad_values_with_the_allowed_range(name: str, bad: object, message: str) -> None:
    settings = AppSettings()
    before = getattr(settings, name)
    with pytest.raises(ValueError) as error:
        setattr(settings, name, bad)
    assert str(error.value) == message
    assert getattr(settings, name) == before


def test_corrupt_stored_values_read_back_as_defaults() -> None:
    settings = AppSettings()
    for key, value in (("appearance/theme", "neon"), ("jobs/engine", 3), ("thumbnails/cache_mb", "x"),
                       ("thumbnails/workers", "-5")):
        settings.store.setValue(key, value)
    assert (settings.theme, settings.engine, settings.thumbnail_cache_mb, settings.thumbnail_workers) == (
        "system", "local", 256, 0)
    settings.store.setValue("thumbnails/cache_mb", 10**9)
    assert settings.thumbnail_cache_mb == 8192
