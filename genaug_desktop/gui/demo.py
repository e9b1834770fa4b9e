"""Run one panel on its own with sample data: ``python -m genaug_desktop.gui.<panel>``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QApplication, QWidget

from genaug_desktop.gui.resources import sample_images_dir, sample_texts_file
from genaug_desktop.gui.session import DatasetSession


def run_panel_demo(
    build: Callable[[DatasetSession], QWidget], argv: list[str] | None = None, *, title: str,
    size: tuple[int, int] = (900, 640),
) -> int:
    """Show the widget *build* makes for a session holding the sample (or a given) dataset."""
    parser = argparse.ArgumentParser(description=f"{title}, on its own with sample data")
    parser.add_argument("dataset", nargs="?", help="dataset folder, text file or project (default: sample images)")
    parser.add_argument("--text", action="store_true", help="open the sample texts instead of the sample images")
    parser.add_argument("--screenshot", metavar="FILE.png", help="save a picture once loaded, then exit")
    args = parser.parse_args(argv)

    from genaug_desktop.gui.qt_messages import quiet_platform_noise

    quiet_platform_noise()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    session = DatasetSession()
    widget = build(session)
    widget.setWindowTitle(f"{title} — genaug-desktop")
    widget.resize(*size)
    widget.show()
    session.error_occurred.connect(lambda message: print(f"error: {message}", file=sys.stderr))
    session.open_path(args.dataset or str(sample_texts_file() if args.text else sample_images_dir()))
    rc = 0
    if args.screenshot:
        from genaug_desktop.gui.screenshot import ScreenshotWhenReady

        def ready() -> bool:
            return not session.is_busy and session.thumbnails.pending() == 0

        shot = ScreenshotWhenReady(widget, args.screenshot, ready)

        def done(ok: bool, message: str) -> None:
            nonlocal rc
            rc = 0 if ok else 1
            if not ok or shot.timed_out:
                print(message, file=sys.stderr)
            widget.close()
            app.quit()

        shot.saved.connect(done)
        shot.start()
    app.exec()
    session.shutdown()
    return rc


def run_project_panel(
    module: str, title: str, size: tuple[int, int], build: Callable[[Any], QWidget], argv: list[str] | None = None,
) -> int:
    """Run a project panel on its own: ``python -m genaug_desktop.gui.MODULE PROJECT.genaug``.

    *build(project)* makes the panel (and may connect it); the panel's ``shutdown()`` runs when
    the window closes, then the project is closed. Returns the process exit status.
    """
    from genaug_desktop.core.store.project import Project

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(f"usage: python -m genaug_desktop.gui.{module} PROJECT.genaug", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    project = Project.open(args[0])
    panel = build(project)
    panel.resize(*size)
    panel.setWindowTitle(f"{title} {project.name} — genaug-desktop")
    panel.show()
    rc = app.exec()
    shutdown = getattr(panel, "shutdown", None)
    if shutdown is not None:
        shutdown()
    project.close()
    return rc
