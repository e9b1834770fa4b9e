"""Help > About: versions from the installed metadata, without importing torch or nlpaug."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication

from genaug_desktop.gui.about import AboutDialog, distribution_version, user_guide_url, versions
from gui_helpers import env_without_display

ROOT = Path(__file__).resolve().parents[2]


def test_versions_come_from_the_installed_distributions() -> None:
    found = versions()
    assert found["torch"] == metadata.version("torch")
    assert found["nlpaug"] == metadata.version("nlpaug")
    assert found["Qt"] == qVersion()
    assert found["Python"] == ".".join(map(str, sys.version_info[:3]))
    assert distribution_version("no-such-distribution-xyz") == "not installed"


def test_dialog_shows_versions_links_and_copies_them(qtbot) -> None:
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    assert dialog.version_labels["torch"].text() == metadata.version("torch")
    assert dialog.version_labels["PySide6"].text() == metadata.version("PySide6-Essentials")
    links = dialog.links.text()
    assert "User guide" in links and "Licence" in links and "MIT" in links
    dialog.copy_versions()
    copied = QGuiApplication.clipboard().text()
    assert f"torch: {metadata.version('torch')}" in copied and f"Qt: {qVersion()}" in copied


def test_user_guide_is_the_local_copy_in_a_checkout() -> None:
    url = user_guide_url()
    assert url == QUrl.fromLocalFile(str(ROOT / "docs" / "user-guide.md"))


def test_about_does_not_import_torch_or_nlpaug(isolated_settings: Path) -> None:
    script = textwrap.dedent("""
        import sys
        from PySide6.QtWidgets import QApplication
        from genaug_desktop.gui.about import AboutDialog
        app = QApplication([])
        dialog = AboutDialog()
        dialog.show()
        app.processEvents()
        assert dialog.version_labels["torch"].text() not in ("", "not installed")
        print("HEAVY=" + ",".join(m for m in ("torch", "nlpaug") if m in sys.modules))
    """)
    env = env_without_display()
    env["GENAUG_SETTINGS_DIR"] = str(isolated_settings)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "HEAVY="
