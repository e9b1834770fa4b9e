"""The entry point in fresh interpreters: import weight, --screenshot, bad paths, --help."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from genaug_desktop.gui.resources import sample_images_dir
from gui_helpers import env_without_display

ROOT = Path(__file__).resolve().parents[2]


def run_python(args: list[str], settings: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = env_without_display()
    env["GENAUG_SETTINGS_DIR"] = str(settings)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_window_and_dataset_do_not_load_torch_or_nlpaug(isolated_settings: Path, image_folder: Path) -> None:
    # Other tests in this process may have imported torch; a fresh interpreter tells the truth.
    script = textwrap.dedent(f"""
        import sys
        from PySide6.QtCore import QEventLoop, QTimer
        from PySide6.QtWidgets import QApplication
        from genaug_desktop.gui.main_window import MainWindow

        app = QApplication([])
        window = MainWindow()
        window.show()
        window.open_path({str(image_folder)!r})
        loop = QEventLoop()
        poll = QTimer(); poll.setInterval(20)
        poll.timeout.connect(lambda: loop.quit() if window.is_settled() and window.session.state.loaded else None)
        poll.start()
        QTimer.singleShot(30000, loop.quit)
        loop.exec()
        poll.stop()
        assert window.session.items.rowCount() == 11, window.session.items.rowCount()
        heavy = sorted(m for m in ("torch", "nlpaug", "torchvision", "pandas") if m in sys.modules)
        window.close()
        print("HEAVY=" + ",".join(heavy))
    """)
    result = run_python(["-c", script], isolated_settings)
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stdout or result.stdout.strip().endswith("HEAVY=")


def test_welcome_window_loads_only_what_it_shows(isolated_settings: Path) -> None:
    # Start-up time: the dataset readers, the project store and the workspace panels load when
    # something is opened, not before the first paint.
    script = textwrap.dedent("""
        import sys
        from PySide6.QtWidgets import QApplication
        from genaug_desktop.gui.main_window import MainWindow

        app = QApplication([])
        window = MainWindow()
        window.show()
        app.processEvents()
        loaded = [m for m in ("genaug_desktop.core.datasets", "genaug_desktop.core.store", "sqlite3",
                              "multiprocessing", "numpy", "PIL", "genaug_desktop.gui.delegates",
                              "genaug_desktop.gui.preview_grid") if m in sys.modules]
        window.close()
        print("LOADED=" + ",".join(loaded))
    """)
    result = run_python(["-c", script], isolated_settings)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "LOADED="


def test_demo_screenshot_is_saved_and_not_blank(isolated_settings: Path, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    shot = tmp_path / "shot.png"
    result = run_python(["-m", "genaug_desktop", "--demo", "--screenshot", str(shot)], isolated_settings)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    img = QImage(str(shot))
    assert (img.width(), img.height()) == (1280, 800)
    colours = {img.pixel(x, y) for x in range(0, img.width(), 16) for y in range(0, img.height(), 16)}
    assert len(colours) > 50, "the screenshot shows thumbnails, not a blank window"


def test_welcome_screenshot_without_arguments(isolated_settings: Path, tmp_path: Path) -> None:
    shot = tmp_path / "welcome.png"
    result = run_python(["-m", "genaug_desktop", "--screenshot", str(shot)], isolated_settings)
    assert result.returncode == 0, result.stderr
    assert shot.stat().st_size > 1000


@pytest.mark.parametrize("target", ["does-not-exist", "empty-folder"])
def test_screenshot_of_unusable_path_exits_2_with_one_line(isolated_settings: Path, tmp_path: Path, target: str) -> None:
    path = tmp_path / target
    if target == "empty-folder":
        path.mkdir()
    result = run_python(["-m", "genaug_desktop", str(path), "--screenshot", str(tmp_path / "x.png")], isolated_settings)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genaug-desktop: error: "), result.stderr
    assert "Traceback" not in result.stderr


def test_help_and_bad_usage(isolated_settings: Path) -> None:
    result = run_python(["-m", "genaug_desktop", "--help"], isolated_settings)
    assert result.returncode == 0 and "--demo" in result.stdout and "--screenshot" in result.stdout
    result = run_python(["-m", "genaug_desktop", "--demo", str(sample_images_dir())], isolated_settings)
    assert result.returncode == 2 and "not both" in result.stderr


def test_main_parser_accepts_the_documented_forms() -> None:
    from genaug_desktop.app import build_parser

    args = build_parser().parse_args(["data", "--screenshot", "out.png"])
    assert args.path == "data" and args.screenshot == "out.png" and not args.demo
    assert build_parser().parse_args(["--demo-text"]).demo_text
