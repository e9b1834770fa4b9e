"""GUI test setup: isolated settings per test, sample datasets on disk, and a leak check that
fails any test leaving a job thread, a running timer or a thumbnail pool behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import genaug_desktop.gui  # noqa: F401  (applies the PySide6 compatibility fix before any Qt call)
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from genaug_desktop.gui import timers, worker
from genaug_desktop.gui.settings import SETTINGS_DIR_ENV
from gui_helpers import write_png, write_undecodable_png


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own settings file; nothing touches the user's real settings."""
    folder = tmp_path / "settings"
    monkeypatch.setenv(SETTINGS_DIR_ENV, str(folder))
    # Belt and braces: code that builds a plain QSettings() lands in the temp folder too.
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    return folder


def _active_widget_timers() -> list[str]:
    found = []
    for widget in QApplication.topLevelWidgets():
        for timer in widget.findChildren(QTimer):
            if timer.isActive():
                found.append(f"{type(widget).__name__}/{timer.objectName() or 'QTimer'}")
    return found


@pytest.fixture(autouse=True)
def no_leftovers(qapp: QApplication) -> Iterator[None]:
    """Fail the test if it leaves a job thread running, a timer active or a pool alive.

    Autouse fixtures are set up first and torn down last, so pytest-qt has already closed the
    widgets the test registered with ``qtbot.addWidget`` when this runs.
    """
    from genaug_desktop.gui import thumbnails

    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    problems = []
    running = worker.live_threads()
    if running:
        problems.append(f"job threads still running: {[t.objectName() for t in running]}")
    active = [f"{type(t.parent()).__name__}/{t.objectName() or 'QTimer'}" for t in timers.active_timers()]
    active += _active_widget_timers()
    if active:
        problems.append(f"timers still active: {sorted(set(active))}")
    pools = [c for c in thumbnails.live_caches() if c.has_pool()]
    if pools:
        problems.append(f"{len(pools)} thumbnail process pool(s) still running")
    if problems:
        # Clean up so the next test starts from a clean slate, then report.
        for c in pools:
            c.shutdown()
        worker.shutdown_all(5000)
        for t in timers.active_timers():
            t.stop()
        pytest.fail("; ".join(problems))


# ---- datasets on disk ------------------------------------------------------------------------------

@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """Two classes (cat: 6, dog: 5 images), one truncated file (a scan problem) and one file that
    only fails when decoded (a thumbnail problem, counted as a dog item)."""
    root = tmp_path / "pets"
    for i in range(6):
        write_png(root / "cat" / f"cat_{i:02d}.png", (40 * i % 255, 90, 160))
    for i in range(4):
        write_png(root / "dog" / f"dog_{i:02d}.png", (180, 40 * i % 255, 70))
    write_undecodable_png(root / "dog" / "dog_corrupt.png")
    good = (root / "cat" / "cat_00.png").read_bytes()
    (root / "cat" / "cat_truncated.png").write_bytes(good[: len(good) // 2])
    return root


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    """A CSV of 8 labelled texts with one malformed row (a problem on line 5)."""
    path = tmp_path / "reviews.csv"
    rows = [
        "text,label",
        "Great value and it works as described.,positive",
        "Stopped working after a week.,negative",
        "It is fine; nothing special about it.,neutral",
        "broken row,with,too many fields",
        "The battery lasts for days and charges fast.,positive",
        "Arrived scratched and the box was crushed.,negative",
        "Colour as pictured.,neutral",
        "Would buy again without hesitation.,positive",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def make_window(qtbot: object) -> Callable[..., object]:
    """Build a shown MainWindow registered for closing at teardown."""
    from genaug_desktop.gui.main_window import MainWindow
    from genaug_desktop.gui.settings import AppSettings

    def make() -> MainWindow:
        window = MainWindow(AppSettings())
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        window.resize(1280, 800)  # the offscreen screen is 800 px wide; use the app's default size
        window.show()
        return window

    return make
