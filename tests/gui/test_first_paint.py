"""What the window's first frame costs: no PySide ``Qt`` namespace (its ~90 enums take ~30 ms to
build), no session or message bar before it; both are there right after it (issue 2, cold start)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import Qt

from genaug_desktop.gui import main_window
from gui_helpers import env_without_display

ROOT = Path(__file__).resolve().parents[2]


def _run_fresh(script: str, settings: Path) -> subprocess.CompletedProcess[str]:
    """*script* in a fresh interpreter (this one has long loaded everything), offscreen."""
    env = env_without_display()
    env["GENAUG_SETTINGS_DIR"] = str(settings)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_the_toolbar_style_number_is_qts() -> None:
    assert main_window.TOOL_BUTTON_TEXT_BESIDE_ICON == Qt.ToolButtonStyle.ToolButtonTextBesideIcon.value


def test_the_toolbar_shows_text_beside_its_icons(make_window) -> None:
    window = make_window()
    assert window.toolbar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    assert window.toolBarArea(window.toolbar) == Qt.ToolBarArea.TopToolBarArea


def test_session_and_message_bar_come_right_after_the_first_paint(qtbot, make_window) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: window._session is not None and window._message_bar is not None, timeout=5000)
    assert window._column.itemAt(0).widget() is window.message_bar  # on top of the page
    assert not window.message_bar.isVisible()  # until it has something to say
    window.message_bar.show_message("info", "hello")
    assert window.message_bar.isVisible()
    qtbot.waitUntil(window.is_settled, timeout=5000)


def test_first_paint_builds_no_qt_namespace_and_no_session(isolated_settings: Path) -> None:
    # A fresh interpreter: other tests here have long built the Qt namespace.
    script = textwrap.dedent("""
        import enum, sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        made = []
        _new = enum.EnumType.__new__
        def new(*args, **kwargs):
            cls = _new(*args, **kwargs)
            made.append(cls.__qualname__)
            return cls
        enum.EnumType.__new__ = new
        app = QApplication([])
        from genaug_desktop.gui.main_window import MainWindow
        seen = {}
        _paint = MainWindow.paintEvent
        def paintEvent(self, event):
            if not seen:
                seen["enums"] = None
                def after():
                    seen["enums"] = list(made)
                    seen["session"] = self._session is not None or "genaug_desktop.gui.session" in sys.modules
                    seen["bar"] = self._message_bar is not None
                    app.quit()
                QTimer.singleShot(0, after)
            _paint(self, event)
        MainWindow.paintEvent = paintEvent
        window = MainWindow()
        window.resize(1280, 800)
        window.show()
        QTimer.singleShot(20000, app.quit)
        app.exec()
        names = seen["enums"]
        print("PAINTED", names is not None)
        print("QT_NAMESPACE", [n for n in names or [] if n in ("ToolButtonStyle", "AlignmentFlag", "ColorScheme")])
        print("SESSION", seen.get("session"), "BAR", seen.get("bar"))
        window.close()
    """)
    result = _run_fresh(script, isolated_settings)
    assert "PAINTED True" in result.stdout, result.stdout
    assert "QT_NAMESPACE []" in result.stdout, result.stdout
    assert "SESSION False BAR False" in result.stdout, result.stdout


def test_the_scanner_and_workspace_load_while_the_welcome_page_waits(isolated_settings: Path) -> None:
    script = textwrap.dedent("""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from genaug_desktop.gui.main_window import MainWindow
        window = MainWindow()
        window.show()
        wanted = ("genaug_desktop.core.datasets.scan", "genaug_desktop.gui.dataset_browser",
                  "genaug_desktop.gui.preview_grid", "genaug_desktop.gui.augmentation")
        print("BEFORE", [m for m in wanted if m in sys.modules])
        poll = QTimer(); poll.setInterval(20)
        poll.timeout.connect(lambda: app.quit() if window._session is not None and window._preloader is None else None)
        poll.start()
        QTimer.singleShot(20000, app.quit)
        app.exec()
        print("AFTER", [m for m in wanted if m not in sys.modules], "torch" in sys.modules, "numpy" in sys.modules)
        window.close()
    """)
    result = _run_fresh(script, isolated_settings)
    assert "BEFORE []" in result.stdout, result.stdout
    assert "AFTER [] False False" in result.stdout, result.stdout
