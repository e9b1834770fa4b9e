"""Help > About: the versions of the app and of what it runs on, the user guide and the licence.

Versions come from the installed distributions' metadata (``importlib.metadata``): torch and
nlpaug are never imported to show a number, so the dialog opens at once and loads nothing heavy.
"""

from __future__ import annotations

import html
import platform
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop import __version__
from genaug_desktop.gui.resources import app_icon_path

PROJECT_URL = "https://github.com/genaug/genaug-desktop"
USER_GUIDE_URL = f"{PROJECT_URL}/blob/main/docs/user-guide.md"
LICENCE_URL = f"{PROJECT_URL}/blob/main/LICENSE"
NOT_INSTALLED = "not installed"


def distribution_version(name: str) -> str:
    """The installed version of distribution *name*, or "not installed"; never imports it."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def versions() -> dict[str, str]:
    """What a bug report needs: the app, Python, Qt and PySide6, torch, nlpaug, OS."""
    import PySide6
    from PySide6.QtCore import qVersion

    app = distribution_version("genaug-desktop")
    return {
        "genaug-desktop": __version__ if app == NOT_INSTALLED else app,  # a frozen bundle has no metadata
        "Python": platform.python_version(),
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "torch": distribution_version("torch"),
        "nlpaug": distribution_version("nlpaug"),
        "System": platform.platform(terse=True),
    }


def licence_name() -> str:
    """The licence the installed distribution declares (SPDX), MIT when it says nothing."""
    from importlib import metadata

    try:
        meta = metadata.metadata("genaug-desktop")
    except metadata.PackageNotFoundError:
        return "MIT"
    return str(meta.get("License-Expression") or meta.get("License") or "MIT")


def user_guide_url() -> QUrl:
    """The user guide: the local copy in a source checkout, else the one on the project's site."""
    local = Path(__file__).resolve().parents[2] / "docs" / "user-guide.md"
    return QUrl.fromLocalFile(str(local)) if local.is_file() else QUrl(USER_GUIDE_URL)


class AboutDialog(QDialog):
    """The app, its versions (with a Copy button for bug reports), links to the guide and licence."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About genaug-desktop")
        self.versions = versions()

        logo = QLabel()
        icon = app_icon_path(128) or app_icon_path(256)
        if icon is not None:
            from PySide6.QtGui import QIcon

            logo.setPixmap(QIcon(str(icon)).pixmap(64, 64))  # QIcon picks the size for the screen's ratio
        logo.setAlignment(Qt.AlignmentFlag.AlignTop)
        title = QLabel(f"<h2 style='margin:0'>genaug-desktop {html.escape(self.versions['genaug-desktop'])}</h2>"
                       "<p>Curate augmented and synthetic datasets of images and text: open a dataset, see "
                       "every problem, build augmentation policies, sample generators, let approved rules "
                       "filter, review and export with a manifest.</p>")
        title.setWordWrap(True)
        title.setMinimumWidth(380)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.version_labels: dict[str, QLabel] = {}
        for name, version in self.versions.items():
            value = QLabel(version)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setObjectName(f"version:{name}")
            if version == NOT_INSTALLED and name in ("torch", "nlpaug"):
                value.setText(f"{version} (needed by {'generators' if name == 'torch' else 'text ops'})")
            self.version_labels[name] = value
            form.addRow(f"{name}:", value)

        self.links = QLabel(
            f"<a href='{user_guide_url().toString()}'>User guide</a> · "
            f"<a href='{PROJECT_URL}'>Project page</a> · "
            f"Licence: <a href='{LICENCE_URL}'>{html.escape(licence_name())}</a>"
        )
        self.links.setOpenExternalLinks(True)
        self.links.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)

        text = QVBoxLayout()
        text.addWidget(title)
        text.addLayout(form)
        text.addSpacing(6)
        text.addWidget(self.links)
        head = QHBoxLayout()
        head.setSpacing(16)
        head.addWidget(logo, 0)
        head.addLayout(text, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy Versions")
        self.copy_button.setToolTip("Copy the versions to the clipboard, for a bug report")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_versions)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(buttons)

    def versions_text(self) -> str:
        return "\n".join(f"{name}: {version}" for name, version in self.versions.items())

    def copy_versions(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.versions_text())
        self.copy_button.setText("Copied")
