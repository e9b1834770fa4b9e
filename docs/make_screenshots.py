"""Re-make the user guide's screenshots (docs/images/*.png) with the app itself.

    QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py [--out docs/images] [--theme light|dark]

Drives the real MainWindow: opens the bundled sample images, then a project made in a temporary
folder (init_project_job + augment_job with the "image_light" preset), and grabs the window at each
step of docs/user-guide.md. Settings and caches go to a temporary folder, never the user's own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"), help="folder for the PNGs")
    parser.add_argument("--theme", choices=("light", "dark"), default="light",
                        help="the theme to show (dark: to check every panel stays readable)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix="genaug-shots-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["GENAUG_SETTINGS_DIR"] = str(tmp / "settings")
    os.environ["XDG_CACHE_HOME"] = str(tmp / "cache")
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    sys.path.insert(0, str(ROOT))

    from PySide6.QtWidgets import QApplication

    from genaug_desktop.core.augment import augment_job
    from genaug_desktop.core.jobs import run_job
    from genaug_desktop.core.policy import Policy
    from genaug_desktop.core.store import init_project_job
    from genaug_desktop.gui.main_window import DEFAULT_SIZE, MainWindow
    from genaug_desktop.gui.resources import resource_dir, sample_images_dir
    from genaug_desktop.gui.settings import AppSettings

    app = QApplication.instance() or QApplication(["genaug-desktop"])
    app.setApplicationName("genaug-desktop")

    def pump(seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def wait(condition, timeout: float = 60.0, what: str = "") -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError(f"timed out waiting for {what or condition}")
            app.processEvents()
            time.sleep(0.02)
        pump(0.4)  # let the last thumbnails paint

    def shot(name: str, widget=None) -> None:
        pump(0.3)
        image = (widget or window).grab()
        path = out / f"{name}.png"
        if image.isNull() or not image.save(str(path)):
            raise RuntimeError(f"cannot save {path}")
        _shrink(path)
        print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    settings = AppSettings()
    settings.theme = args.theme  # the window's theme controller applies it
    window = MainWindow(settings)
    window.resize(*DEFAULT_SIZE)
    window.show()
    pump(0.5)
    shot("01-welcome")

    # 1. Open the sample image folder and browse it (with its problems in the browser).
    window.open_path(str(sample_images_dir()))
    wait(window.is_settled, what="the sample dataset")
    for dock in (window.augmentation.dock, window.curation.rules_dock, window.curation.stats_dock,
                 window.generators.dock):
        dock.hide()  # the bottom docks: shown from step 3 on
    shot("02-browse")
    window.toggle_details_action.setChecked(True)
    window.grid.setFocus()
    pump(0.3)

    # 2. A project: scan the sample into a project, augment it with a preset through core.
    project_path = tmp / "sample.genaug"
    project = run_job(init_project_job(str(project_path), str(sample_images_dir())))
    preset = json.loads((resource_dir() / "presets" / "image_light.json").read_text(encoding="utf-8"))
    policy = Policy.from_json(preset.get("policy", preset))
    run_job(augment_job(project, policy, per_item=2, seed=0, workers=1))
    project.close()
    window.open_path(str(project_path))
    wait(window.is_settled, what="the project")

    # 3. The policy editor with its live preview of the current item.
    aug = window.augmentation
    aug.dock.show()
    aug.dock.raise_()
    wait(lambda: aug.has_editor, what="the policy editor")
    editor = aug.editor
    editor.load_policy(policy) if hasattr(editor, "load_policy") else None
    window.grid.setCurrentIndex(window.grid.model().index(0, 0)) if hasattr(window.grid, "model") else None
    wait(window.is_settled, what="the live preview")
    pump(1.0)
    shot("03-policy-editor")

    # 4. The candidates the augmentation made.
    tabs = aug.grid_tabs
    tabs.setCurrentIndex(1)
    wait(window.is_settled, what="the candidates")
    shot("04-candidates")

    # 5. Rules: propose, shown in the Rules dock.
    cur = window.curation
    cur.rules_dock.show()
    cur.rules_dock.raise_()
    cur.rules.propose()
    wait(window.is_settled, what="proposed rules")
    shot("05-rules")

    # 6. Review with the keyboard.
    cur.show_review()
    wait(window.is_settled, what="the review")
    shot("06-review")

    # 7. Statistics.
    cur.stats_dock.show()
    cur.stats_dock.raise_()
    wait(window.is_settled, what="the statistics")
    shot("07-statistics")

    # 8. Generators (a bundle without torch lists them as not available, with the reason).
    window.generators.dock.show()
    window.generators.dock.raise_()
    wait(window.is_settled, what="the generators")
    shot("08-generators")

    # 9. The export dialog (grabbed on its own; not run).
    from genaug_desktop.gui.export_dialog import ExportDialog

    dialog = ExportDialog(window.session.project, window, destination=str(tmp / "export"))
    dialog.show()
    from PySide6.QtWidgets import QCheckBox

    pending = dialog.findChild(QCheckBox, "status:pending")
    if pending is not None:  # nothing is accepted in this scripted run: show what pending would give
        pending.setChecked(True)
    pump(1.5)
    shot("09-export", dialog)
    dialog.close()

    # 10-12. Everyday use: preferences, the shortcuts (searched), About; then the dark theme.
    from genaug_desktop.gui.about import AboutDialog
    from genaug_desktop.gui.preferences import PreferencesDialog
    from genaug_desktop.gui.shortcuts import ShortcutsDialog

    preferences = PreferencesDialog(window.settings, window)
    preferences.show()
    shot("10-preferences", preferences)
    preferences.close()
    shortcuts = ShortcutsDialog(window, window)
    shortcuts.resize(560, 520)
    shortcuts.show()
    shortcuts.search.setText("review")
    shot("11-shortcuts", shortcuts)
    shortcuts.close()
    about = AboutDialog(window)
    about.show()
    shot("12-about", about)
    about.close()
    if args.theme == "light":
        window.theme.set_preference("dark")
        cur.show_review()
        cur.rules_dock.raise_()
        wait(window.is_settled, what="the dark theme")
        shot("13-dark-theme")

    window.close()
    window.shutdown()
    return 0


def _shrink(path: Path) -> None:
    """Re-save *path* as a 256-colour PNG (a third of the size; the UI has few colours)."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


if __name__ == "__main__":
    sys.exit(main())
