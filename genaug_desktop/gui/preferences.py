"""Edit > Preferences: thumbnail size and cache, worker processes, theme, engine.

Every field is a bounded widget (spin box or list), so nothing out of range can be typed; the
values are still checked by :class:`AppSettings`' setters when saved, and a refusal is shown in the
dialog rather than raised. Theme, thumbnail size and cache size apply at once (``applied`` is
emitted after saving); the worker count says that it applies after a restart, the engine from the next job.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.gui.settings import (
    DEFAULT_CACHE_MB,
    DEFAULT_THUMBNAIL_SIZE,
    ENGINES,
    MAX_CACHE_MB,
    MAX_THUMBNAIL_SIZE,
    MAX_WORKERS,
    MIN_CACHE_MB,
    MIN_THUMBNAIL_SIZE,
    THEMES,
    AppSettings,
)

THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
ENGINE_LABELS = {"local": "Local (worker processes on this computer)", "ray": "Ray (a cluster, or a local Ray)"}
RESTART_NOTE = "applies after restart"


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(placeholder-text);")  # muted, readable in light and dark
    return label


class PreferencesDialog(QDialog):
    """Edits *settings*; OK saves and emits ``applied()``, Cancel leaves everything as it was."""

    applied = Signal()

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Preferences")

        self.thumbnail_size = QSpinBox()
        self.thumbnail_size.setRange(MIN_THUMBNAIL_SIZE, MAX_THUMBNAIL_SIZE)
        self.thumbnail_size.setSingleStep(16)
        self.thumbnail_size.setSuffix(" px")
        self.thumbnail_size.setToolTip(f"Side of a thumbnail in the grids ({MIN_THUMBNAIL_SIZE} to "
                                       f"{MAX_THUMBNAIL_SIZE} px; default {DEFAULT_THUMBNAIL_SIZE}). Applies at once.")

        self.cache_mb = QSpinBox()
        self.cache_mb.setRange(MIN_CACHE_MB, MAX_CACHE_MB)
        self.cache_mb.setSingleStep(64)
        self.cache_mb.setSuffix(" MB")
        self.cache_mb.setToolTip(f"Memory for decoded thumbnails ({MIN_CACHE_MB} to {MAX_CACHE_MB} MB; default "
                                 f"{DEFAULT_CACHE_MB}). Applies at once; a smaller cache decodes again more often.")

        self.workers = QSpinBox()
        self.workers.setRange(0, MAX_WORKERS)
        self.workers.setSpecialValueText("One per CPU")
        self.workers.setToolTip("Processes that decode thumbnails in the background (0: one per CPU)")

        self.theme = QComboBox()
        for key in THEMES:
            self.theme.addItem(THEME_LABELS[key], key)
        self.theme.setToolTip("Light or dark; “Follow the system” switches with the desktop. Applies at once.")

        self.engine = QComboBox()
        for key in ENGINES:
            self.engine.addItem(ENGINE_LABELS[key], key)
        self.engine.setToolTip("Where batch jobs (augmentation, rules, export) run")

        form = QFormLayout()
        form.addRow("Thumbnail size:", self.thumbnail_size)
        form.addRow("Thumbnail cache:", self.cache_mb)
        form.addRow("Worker processes:", self.workers)
        form.addRow("", _note(f"Worker processes: {RESTART_NOTE}."))
        form.addRow("Theme:", self.theme)
        form.addRow("Engine:", self.engine)
        form.addRow("", _note(
            "Engine: applies from the next augmentation, filter or export. Ray needs the ray extra "
            "(pip install \"genaug-desktop[ray]\"); without RAY_ADDRESS it starts a local Ray for each job (10-15 s)."))

        self.error_label = QLabel()
        self.error_label.setObjectName("preferencesError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d9480f;")  # orange-red: readable on light and dark
        self.error_label.hide()

        buttons = self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.load()

    def load(self) -> None:
        """Show the values saved in the settings."""
        s = self.settings
        self.thumbnail_size.setValue(s.thumbnail_size)
        self.cache_mb.setValue(s.thumbnail_cache_mb)
        self.workers.setValue(s.thumbnail_workers)
        self.theme.setCurrentIndex(max(0, self.theme.findData(s.theme)))
        self.engine.setCurrentIndex(max(0, self.engine.findData(s.engine)))

    def restore_defaults(self) -> None:
        """Put the defaults in the fields (saved only with OK)."""
        self.thumbnail_size.setValue(DEFAULT_THUMBNAIL_SIZE)
        self.cache_mb.setValue(DEFAULT_CACHE_MB)
        self.workers.setValue(0)
        self.theme.setCurrentIndex(self.theme.findData("system"))
        self.engine.setCurrentIndex(self.engine.findData("local"))

    def values(self) -> dict[str, object]:
        return {
            "thumbnail_size": self.thumbnail_size.value(),
            "thumbnail_cache_mb": self.cache_mb.value(),
            "thumbnail_workers": self.workers.value(),
            "theme": self.theme.currentData(),
            "engine": self.engine.currentData(),
        }

    def save(self) -> bool:
        """Save every value; False, with the reason shown in the dialog, when the settings refuse one."""
        s = self.settings
        try:
            for name, value in self.values().items():
                setattr(s, name, value)
        except ValueError as error:
            self.error_label.setText(f"Not saved: {error}.")
            self.error_label.show()
            return False
        s.sync()
        self.error_label.hide()
        return True

    def accept(self) -> None:
        if self.save():
            self.applied.emit()
            super().accept()
