"""Application settings (QSettings) with a schema version and chained migrators.

Tests and scripted runs point ``GENAUG_SETTINGS_DIR`` at a folder to get an isolated INI file;
otherwise the platform's native store for organisation "genaug", application "genaug-desktop"
is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "genaug"
APPLICATION = "genaug-desktop"
SETTINGS_DIR_ENV = "GENAUG_SETTINGS_DIR"
SCHEMA_VERSION = 1
MAX_RECENT = 10

DEFAULT_THUMBNAIL_SIZE = 128
MIN_THUMBNAIL_SIZE = 64
MAX_THUMBNAIL_SIZE = 256
DEFAULT_CACHE_MB = 256
MIN_CACHE_MB = 16
MAX_CACHE_MB = 8192
MAX_WORKERS = 64  # thumbnail decoding processes; 0 means one per CPU

THEMES = ("system", "light", "dark")
ENGINES = ("local", "ray")  # where batch jobs run: worker processes here, or a Ray cluster


def make_qsettings() -> QSettings:
    """The QSettings store: an INI file in ``$GENAUG_SETTINGS_DIR`` when set, else the native one."""
    folder = os.environ.get(SETTINGS_DIR_ENV)
    if folder:
        os.makedirs(folder, exist_ok=True)
        return QSettings(os.path.join(folder, f"{APPLICATION}.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def _migrate_0_to_1(store: QSettings) -> None:
    # Version 0 had no version key; recent files were one comma-joined value under "recent"
    # (which an INI file reads back as a list). "recent" becomes a group, so remove it first.
    old = store.value("recent")
    store.remove("recent")
    paths = old.split(",") if isinstance(old, str) else [str(p) for p in old] if isinstance(old, list) else []
    if any(paths):
        store.setValue("recent/paths", [p for p in paths if p])


_MIGRATORS: dict[int, Callable[[QSettings], None]] = {0: _migrate_0_to_1}


def _checked_int(what: str, value: object, low: int, high: int) -> int:
    """*value* as an int in [low, high], or a ValueError that says what is allowed."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{what} must be a whole number from {low} to {high}, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{what} must be a whole number from {low} to {high}, not {value!r}") from None
    if not low <= number <= high:
        raise ValueError(f"{what} must be from {low} to {high}, not {number}")
    return number


def _checked_choice(what: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}, not {value!r}")
    return str(value)


class AppSettings:
    """Typed access to what the app remembers: recent files, window state, thumbnail options,
    theme and engine. Getters fall back to the default for a missing or corrupt stored value;
    setters refuse values out of range with a ValueError that names the allowed range."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else make_qsettings()
        self._migrate()

    def _migrate(self) -> None:
        version = self._int("schema_version", 0 if self.store.allKeys() else SCHEMA_VERSION)
        while version < SCHEMA_VERSION:
            _MIGRATORS[version](self.store)
            version += 1
        self.store.setValue("schema_version", SCHEMA_VERSION)

    def _int(self, key: str, default: int) -> int:
        value = self.store.value(key, default)
        if not isinstance(value, (int, str)):
            return default
        try:
            return int(value)  # INI stores every value as text
        except ValueError:
            return default

    # ---- recent files ----------------------------------------------------------------------------
    def recent_paths(self) -> list[str]:
        value = self.store.value("recent/paths", [])
        if isinstance(value, str):  # an INI list of one element reads back as a plain string
            value = [value] if value else []
        if not isinstance(value, list):
            return []
        return [str(v) for v in value if v][:MAX_RECENT]

    def add_recent(self, path: str) -> list[str]:
        path = os.path.abspath(path)
        paths = [path] + [p for p in self.recent_paths() if p != path]
        self.store.setValue("recent/paths", paths[:MAX_RECENT])
        return paths[:MAX_RECENT]

    def remove_recent(self, path: str) -> None:
        self.store.setValue("recent/paths", [p for p in self.recent_paths() if p != path])

    def clear_recent(self) -> None:
        self.store.setValue("recent/paths", [])

    # ---- thumbnails ------------------------------------------------------------------------------
    @property
    def thumbnail_size(self) -> int:
        size = self._int("thumbnails/size", DEFAULT_THUMBNAIL_SIZE)
        return max(MIN_THUMBNAIL_SIZE, min(MAX_THUMBNAIL_SIZE, size))

    @thumbnail_size.setter
    def thumbnail_size(self, size: int) -> None:
        self.store.setValue("thumbnails/size", int(size))

    @property
    def thumbnail_workers(self) -> int:
        """Processes decoding thumbnails; 0 (the default) means one per CPU."""
        return max(0, min(MAX_WORKERS, self._int("thumbnails/workers", 0)))

    @thumbnail_workers.setter
    def thumbnail_workers(self, count: int) -> None:
        self.store.setValue("thumbnails/workers", _checked_int("worker count", count, 0, MAX_WORKERS))

    @property
    def thumbnail_cache_mb(self) -> int:
        """Memory for decoded thumbnails, in MB."""
        return max(MIN_CACHE_MB, min(MAX_CACHE_MB, self._int("thumbnails/cache_mb", DEFAULT_CACHE_MB)))

    @thumbnail_cache_mb.setter
    def thumbnail_cache_mb(self, megabytes: int) -> None:
        self.store.setValue("thumbnails/cache_mb",
                            _checked_int("thumbnail cache size (MB)", megabytes, MIN_CACHE_MB, MAX_CACHE_MB))

    # ---- appearance and engine -------------------------------------------------------------------
    @property
    def theme(self) -> str:
        """The theme: "system" (follow the desktop's light or dark scheme), "light" or "dark"."""
        return self._choice("appearance/theme", THEMES)

    @theme.setter
    def theme(self, theme: str) -> None:
        self.store.setValue("appearance/theme", _checked_choice("theme", theme, THEMES))

    @property
    def engine(self) -> str:
        """Where batch jobs run: "local" (worker processes on this machine, the default) or "ray"."""
        return self._choice("jobs/engine", ENGINES)

    @engine.setter
    def engine(self, engine: str) -> None:
        self.store.setValue("jobs/engine", _checked_choice("engine", engine, ENGINES))

    def job_engine(self) -> str:
        """:attr:`engine`, for a job about to start. With "ray", the local Ray the job starts stays
        up for the next ones (10-15 s to start on 2 cores); the window stops it when it closes."""
        engine = self.engine
        if engine == "ray":
            from genaug_desktop.core.engine.ray_data import keep_local_ray

            keep_local_ray(True)
        return engine

    def _choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.store.value(key, choices[0])
        return value if isinstance(value, str) and value in choices else choices[0]

    # ---- window ----------------------------------------------------------------------------------
    def byte_array(self, key: str) -> QByteArray | None:
        value = self.store.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_byte_array(self, key: str, value: QByteArray) -> None:
        self.store.setValue(key, value)

    def bool_value(self, key: str, default: bool) -> bool:
        value = self.store.value(key, default)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def set_value(self, key: str, value: object) -> None:
        self.store.setValue(key, value)

    def sync(self) -> None:
        self.store.sync()
