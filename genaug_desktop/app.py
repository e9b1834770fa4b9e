"""``genaug-desktop``: the desktop app's entry point.

``genaug-desktop [DATASET_OR_PROJECT] [--demo | --demo-text] [--screenshot FILE.png]``.
With no argument the welcome page opens. ``--screenshot`` waits until loading has finished and
the visible thumbnails are painted (at most ~20 s), saves the window, and exits 0; when the
dataset cannot be opened it exits 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genaug-desktop",
        description="Curate augmented and synthetic datasets of images and text.",
    )
    parser.add_argument("path", nargs="?", metavar="DATASET_OR_PROJECT",
                        help="an image folder, a text file (.txt/.csv/.tsv/.jsonl) or a NAME.genaug project")
    demo = parser.add_mutually_exclusive_group()
    demo.add_argument("--demo", action="store_true", help="open the bundled sample images")
    demo.add_argument("--demo-text", action="store_true", help="open the bundled sample texts")
    parser.add_argument("--screenshot", metavar="FILE.png",
                        help="save a picture of the window once loaded, then exit")
    parser.add_argument("--screenshot-timeout", type=float, default=20.0, metavar="SECONDS",
                        help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the app; returns the process exit status."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.path and (args.demo or args.demo_text):
        print("genaug-desktop: error: give a dataset or --demo, not both", file=sys.stderr)
        return 2

    # Background jobs (a scan walking 100,000 files) run Python in another thread; every paint
    # callback from Qt must then win the GIL back. A shorter switch interval bounds that wait.
    sys.setswitchinterval(0.001)

    # Imported here so that `genaug-desktop --help` answers without loading Qt.
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from genaug_desktop import __version__
    from genaug_desktop.gui.main_window import MainWindow
    from genaug_desktop.gui.resources import app_icon_path, sample_images_dir, sample_texts_file
    from genaug_desktop.gui.settings import APPLICATION, ORGANIZATION

    from genaug_desktop.gui.qt_messages import quiet_platform_noise

    quiet_platform_noise()
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0] if sys.argv else "genaug-desktop"])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("genaug-desktop")
    app.setApplicationVersion(__version__)
    if hasattr(app, "setDesktopFileName"):
        app.setDesktopFileName("genaug-desktop")
    icon = app_icon_path(256)
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))

    window = MainWindow()
    if args.screenshot:
        # Same picture on every machine: the default size, whatever geometry was saved or the screen.
        from genaug_desktop.gui.main_window import DEFAULT_SIZE

        window.resize(*DEFAULT_SIZE)
    window.show()
    target = args.path
    if args.demo:
        target = str(sample_images_dir())
    elif args.demo_text:
        target = str(sample_texts_file())

    status = {"rc": 0}
    if args.screenshot:
        _arrange_screenshot(app, window, args.screenshot, args.screenshot_timeout, status)
    if target:
        window.open_path(os.path.expanduser(target))
    app.exec()
    window.shutdown()
    return status["rc"]


def _arrange_screenshot(app: object, window: object, path: str, timeout: float, status: dict[str, int]) -> None:
    """Save *window* once settled, then quit; a dataset error ends the run with exit status 2."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from genaug_desktop.gui.main_window import MainWindow
    from genaug_desktop.gui.screenshot import ScreenshotWhenReady

    assert isinstance(window, MainWindow)
    shot = ScreenshotWhenReady(window, path, window.is_settled, timeout, parent=window)

    def finish(rc: int, message: str | None) -> None:
        shot.stop()
        status["rc"] = rc
        if message:
            print(message, file=sys.stderr)
        window.close()
        # On the next turn of the loop: a path refused at once reports its error inside
        # open_path, before app.exec() runs, and a quit() then would be lost.
        QTimer.singleShot(0, QApplication.quit)

    def on_error(message: str) -> None:
        finish(2, f"genaug-desktop: error: {message}")

    def on_saved(ok: bool, message: str) -> None:
        if not ok:
            finish(1, f"genaug-desktop: error: {message}")
        else:
            finish(0, f"genaug-desktop: {message}" if shot.timed_out else None)

    window.session.error_occurred.connect(on_error)
    shot.saved.connect(on_saved)
    shot.start()


if __name__ == "__main__":
    raise SystemExit(main())
