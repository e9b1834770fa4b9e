"""The welcome page shown when nothing is open: ways to open something, and recent items.

Run alone: ``python -m genaug_desktop.gui.welcome``.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.gui import roles
from genaug_desktop.gui.resources import app_icon_path

# The page's colours, light and dark; the page restyles itself when the palette changes.
_INKS = {
    "light": {"page": "#f4f5f7", "card": "#fbfbfc", "card_border": "#e3e6ea", "button": "white",
              "border": "#d7dbe1", "ink": "#1f2937", "hover": "#eef4ff", "hover_border": "#9bb8f0",
              "pressed": "#dde9ff", "muted": "#6b7280", "gone": "#9ca3af", "list": "white"},
    "dark": {"page": "#2b2d31", "card": "#313338", "card_border": "#44474e", "button": "#383b41",
             "border": "#4a4d54", "ink": "#e4e6ea", "hover": "#34405a", "hover_border": "#5b7fc7",
             "pressed": "#2c3850", "muted": "#a3a9b3", "gone": "#7c818a", "list": "#26282c"},
}


def _page_style(ink: dict[str, str]) -> str:
    return f"""
#welcome, #welcomeScroll, #welcomeBody {{ background: {ink['page']}; }}
#welcomeCard {{ background: {ink['card']}; border: 1px solid {ink['card_border']}; border-radius: 10px; }}
#welcomeCard QLabel {{ color: {ink['ink']}; }}
#welcomeCard QLabel[muted="true"] {{ color: {ink['muted']}; }}
QPushButton {{
    text-align: left; padding: 9px 14px; border: 1px solid {ink['border']}; border-radius: 6px;
    background: {ink['button']}; color: {ink['ink']};
}}
QPushButton:hover {{ background: {ink['hover']}; border-color: {ink['hover_border']}; }}
QPushButton:pressed {{ background: {ink['pressed']}; }}
QPushButton#primary {{ background: #2563eb; color: white; border-color: #1d4ed8; font-weight: bold; }}
QPushButton#primary:hover {{ background: #1d4ed8; }}
#recent {{ background: {ink['list']}; border: 1px solid {ink['border']}; border-radius: 6px; padding: 4px; }}
#recent::item {{ padding: 2px; border-radius: 4px; }}
#recent::item:hover {{ background: {ink['hover']}; }}
"""


class WelcomePage(QWidget):
    """Buttons to open a dataset, a text file, a project or a bundled sample, and the recent list.

    Signals: ``open_dataset_requested()``, ``open_text_requested()``, ``open_project_requested()``,
    ``open_sample_requested(kind)`` ("images" / "texts"), ``open_path_requested(path)``.
    """

    open_dataset_requested = Signal()
    open_text_requested = Signal()
    open_project_requested = Signal()
    open_sample_requested = Signal(str)
    open_path_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self._ink = _INKS["light"]
        self._restyling = False

        logo = QLabel()
        icon = app_icon_path(128) or app_icon_path(256)
        if icon is not None:
            logo.setPixmap(QIcon(str(icon)).pixmap(72, 72))
        title = QLabel("genaug-desktop")
        title_font = QFont(title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 2.2)
        title_font.setBold(True)
        title.setFont(title_font)
        subtitle = QLabel(
            "Curate augmented and synthetic datasets of images and text.\n"
            "Open a dataset to browse it; every file that cannot be used is listed with the reason."
        )
        subtitle.setProperty("muted", True)
        head_text = QVBoxLayout()
        head_text.setSpacing(4)
        head_text.addWidget(title)
        head_text.addWidget(subtitle)
        logo_column = QVBoxLayout()
        logo_column.addWidget(logo)
        logo_column.addStretch(1)
        head = QHBoxLayout()
        head.setSpacing(16)
        head.addLayout(logo_column, 0)
        head.addLayout(head_text, 1)

        def button(text: str, hint: str, primary: bool = False) -> QPushButton:
            b = QPushButton(text)
            b.setToolTip(hint)
            b.setMinimumWidth(260)
            if primary:
                b.setObjectName("primary")
            return b

        self.open_dataset_button = button("Open Dataset Folder…", "An image folder (flat or one subfolder per class)", True)
        self.open_text_button = button("Open Text File…", "A .txt, .csv, .tsv or .jsonl file")
        self.open_project_button = button("Open Project…", "A NAME.genaug project folder")
        self.sample_images_button = button("Open Sample Images", "The bundled shapes dataset (3 classes)")
        self.sample_texts_button = button("Open Sample Texts", "The bundled product reviews (3 classes)")
        self.open_dataset_button.clicked.connect(self.open_dataset_requested)
        self.open_text_button.clicked.connect(self.open_text_requested)
        self.open_project_button.clicked.connect(self.open_project_requested)
        self.sample_images_button.clicked.connect(lambda: self.open_sample_requested.emit("images"))
        self.sample_texts_button.clicked.connect(lambda: self.open_sample_requested.emit("texts"))

        actions = QVBoxLayout()
        actions.setSpacing(8)
        actions.addWidget(_heading("Start"))
        for b in (self.open_dataset_button, self.open_text_button, self.open_project_button):
            actions.addWidget(b)
        actions.addSpacing(10)
        actions.addWidget(_heading("Try it"))
        actions.addWidget(self.sample_images_button)
        actions.addWidget(self.sample_texts_button)
        actions.addStretch(1)

        self.recent_list = QListWidget()
        self.recent_list.setObjectName("recent")
        # Activation only (double-click or Enter): connecting clicks too would open an item twice.
        self.recent_list.itemActivated.connect(self._on_recent_activated)
        self.recent_empty = QLabel("Nothing opened yet. Datasets and projects you open appear here.")
        self.recent_empty.setProperty("muted", True)
        self.recent_empty.setWordWrap(True)
        recent = QVBoxLayout()
        recent.setSpacing(8)
        recent.addWidget(_heading("Recent"))
        # Either the note or the list shows; each takes the height, so the heading stays on top.
        recent.addWidget(self.recent_empty)
        recent.addWidget(self.recent_list, 1)
        self._recent_layout, self._recent_gap = recent, recent.count()
        recent.addStretch(1)  # under the note, so it stays on top, when there is no list

        columns = QHBoxLayout()
        columns.setSpacing(32)
        columns.addLayout(actions, 0)
        columns.addLayout(recent, 1)

        card = QFrame()
        card.setObjectName("welcomeCard")
        card.setMaximumWidth(980)
        card.setMaximumHeight(620)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(36, 32, 36, 32)
        inner.setSpacing(24)
        inner.addLayout(head)
        inner.addLayout(columns, 1)

        # The page scrolls when the window is smaller than the card: the welcome page shares the
        # window's stack with the workspace, so its size would otherwise be the window's minimum.
        body = QWidget()
        body.setObjectName("welcomeBody")
        column = QVBoxLayout(body)
        column.setContentsMargins(40, 40, 40, 40)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card, 10)
        row.addStretch(1)
        column.addStretch(1)
        column.addLayout(row, 10)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("welcomeScroll")
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.restyle()

    def restyle(self) -> None:
        """Colours for the palette of the moment (light or dark theme), and the recent list again."""
        from genaug_desktop.gui.theme import is_dark

        self._restyling = True  # setStyleSheet sends a palette change of its own
        try:
            self._ink = _INKS["dark" if is_dark() else "light"]
            self.setStyleSheet(_page_style(self._ink))
            self.set_recent(self.recent_paths())
        finally:
            self._restyling = False

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) and not self._restyling:
            from genaug_desktop.gui.theme import is_dark

            if (self._ink is _INKS["dark"]) != is_dark():
                self.restyle()
        super().changeEvent(event)

    def set_recent(self, paths: list[str]) -> None:
        """Show *paths* (newest first): the name in bold, the folder below; gone ones greyed out."""
        self.recent_list.clear()
        if paths:
            import html  # (not at import: the first frame of a first start does without its 3-4 ms)
        for path in paths:
            exists = os.path.exists(path)
            trimmed = path.rstrip("/\\")
            name = html.escape(os.path.basename(trimmed) or path)
            folder = html.escape(os.path.dirname(trimmed))
            note = "" if exists else " · no longer exists"
            ink = self._ink["ink"] if exists else self._ink["gone"]
            label = QLabel(
                f"<div style='color:{ink}'><b>{name}</b></div>"
                f"<div style='color:{self._ink['muted']}'>{folder}{note}</div>"
            )
            label.setContentsMargins(6, 4, 6, 4)
            item = QListWidgetItem()
            item.setData(roles.USER, path)
            item.setToolTip(path if exists else f"{path}\n(no longer exists)")
            hint = label.sizeHint()
            hint.setHeight(hint.height() + 10)  # room for the item's own padding (style sheet)
            item.setSizeHint(hint)
            self.recent_list.addItem(item)
            self.recent_list.setItemWidget(item, label)
        self.recent_empty.setVisible(not paths)
        self.recent_list.setVisible(bool(paths))
        self._recent_layout.setStretch(self._recent_gap, 0 if paths else 1)

    def recent_paths(self) -> list[str]:
        return [self.recent_list.item(i).data(roles.USER) for i in range(self.recent_list.count())]

    def _on_recent_activated(self, item: QListWidgetItem) -> None:
        self.open_path_requested.emit(str(item.data(roles.USER)))


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    font = QFont(label.font())
    font.setBold(True)
    font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
    label.setFont(font)
    label.setProperty("muted", True)
    return label


def main(argv: list[str] | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    page = WelcomePage()
    page.setWindowTitle("Welcome — genaug-desktop")
    page.resize(1100, 700)
    page.open_path_requested.connect(lambda p: print("open", p))
    page.open_sample_requested.connect(lambda k: print("open sample", k))
    page.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
