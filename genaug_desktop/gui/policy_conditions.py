"""The conditions editor of a policy step (``"when"``): label in / not in a set, size or length bounds.

A compact form under the step's settings::

    Label   [All labels except ▾] [Classes ▾]
            [6, 9                            ]
    Width   [any] to [any] px
    Height  [any] to [any] px          (text policies: Characters, Words)
    Runs only when label not in {6, 9}

The label set is typed (comma-separated) or ticked from the dataset's classes when they are known.
Each edit is validated with the core (:func:`genaug_desktop.core.policy.parse_when`) and emits
``when_changed(dict | None)`` with the whole new ``when`` (None: no condition); an invalid one
shows the core's message and emits nothing. Only the part the person touched is rewritten, so a
hand-written ``when`` with both ``in`` and ``not_in`` keeps the part the form does not show.
``set_when`` never emits, so the editor can sync the form without a signal loop.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.core.policy import MEASURES, PolicyError, label_warnings, parse_when
from genaug_desktop.gui.colors import ERROR_INK, HINT_INK, WARNING_INK, ink_sheet, themed_style_sheet

#: label mode shown in the combo box -> key in ``when.label``
LABEL_MODES = (("Any label", None), ("Only these labels", "in"), ("All labels except", "not_in"))
TITLES = {"width": "Width", "height": "Height", "chars": "Characters", "words": "Words"}
UNITS = {"width": "px", "height": "px", "chars": "chars", "words": "words"}
#: a spin box at this value means "no bound"
NO_BOUND = -1
MAX_BOUND = 10_000_000


def split_labels(text: str) -> list[str]:
    """Comma-separated labels, blanks dropped, duplicates once, order kept."""
    out: list[str] = []
    for part in text.split(","):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


def _bound_box() -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(NO_BOUND, MAX_BOUND)
    spin.setSpecialValueText("any")
    spin.setValue(NO_BOUND)
    spin.setKeyboardTracking(False)
    spin.setAccelerated(True)
    spin.setMinimumWidth(72)
    return spin


class ConditionsEditor(QWidget):
    """Edits one step's ``when`` for a policy of *modality*; *classes* are the dataset's labels."""

    when_changed = Signal(object)

    def __init__(self, modality: str, classes: list[str] | None = None, when: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.modality = modality
        self.classes = list(classes or [])
        self.when: dict[str, Any] = copy.deepcopy(when) if when else {}
        self._syncing = False

        self.mode_combo = QComboBox()
        for title, _key in LABEL_MODES:
            self.mode_combo.addItem(title)
        self.mode_combo.setToolTip("Run this step for every label, only for some labels, or for all but some")
        self.labels_edit = QLineEdit()
        self.labels_edit.setPlaceholderText("labels, comma-separated")
        self.labels_edit.setToolTip("The labels, separated by commas (e.g. 6, 9)")
        self.classes_button = QToolButton()
        self.classes_button.setText("Classes")
        self.classes_button.setToolTip("Tick the dataset's classes")
        self.classes_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.classes_menu = QMenu(self)
        self.classes_menu.aboutToShow.connect(self._fill_classes_menu)
        self.classes_button.setMenu(self.classes_menu)
        mode_row = QHBoxLayout()
        mode_row.setContentsMargins(0, 0, 0, 0)
        mode_row.setSpacing(4)
        mode_row.addWidget(self.mode_combo, 1)
        mode_row.addWidget(self.classes_button)
        label_row = QVBoxLayout()
        label_row.setContentsMargins(0, 0, 0, 0)
        label_row.setSpacing(2)
        label_row.addLayout(mode_row)
        label_row.addWidget(self.labels_edit)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(4)
        form.addRow("Label", label_row)
        self.bound_boxes: dict[str, tuple[QSpinBox, QSpinBox]] = {}
        for name, (measure_modality, what) in MEASURES.items():
            if measure_modality != modality:
                continue
            low, high = _bound_box(), _bound_box()
            low.setToolTip(f"Run only when the {what} is at least this (any: no minimum)")
            high.setToolTip(f"Run only when the {what} is at most this (any: no maximum)")
            row = QHBoxLayout()
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(4)
            row.addWidget(low)
            row.addWidget(QLabel("to"))
            row.addWidget(high)
            row.addWidget(QLabel(UNITS[name]))
            row.addStretch(1)
            form.addRow(TITLES[name], row)
            self.bound_boxes[name] = (low, high)
            low.valueChanged.connect(lambda _v, n=name: self._on_bound(n))
            high.valueChanged.connect(lambda _v, n=name: self._on_bound(n))

        self.summary_label = QLabel()
        self.summary_label.setObjectName("conditionsSummary")
        self.summary_label.setWordWrap(True)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addLayout(form)
        column.addWidget(self.summary_label)

        self.mode_combo.currentIndexChanged.connect(lambda _i: self._on_label())
        self.labels_edit.editingFinished.connect(self._on_label)
        self._show(self.when)

    # ---- showing ----------------------------------------------------------------------------------
    def set_when(self, when: dict[str, Any] | None) -> None:
        """Show *when* (no signal)."""
        if (when or {}) == self.when:
            return
        self.when = copy.deepcopy(when) if when else {}
        self._show(self.when)

    def set_classes(self, classes: list[str]) -> None:
        self.classes = list(classes)
        self.classes_button.setEnabled(bool(self.classes))

    def _show(self, when: dict[str, Any]) -> None:
        self._syncing = True
        try:
            label = when.get("label") if isinstance(when.get("label"), dict) else {}
            key = "in" if "in" in label else "not_in" if "not_in" in label else None
            self.mode_combo.setCurrentIndex([k for _t, k in LABEL_MODES].index(key))
            self.labels_edit.setText(", ".join(str(v) for v in label.get(key, [])) if key else "")
            self.labels_edit.setEnabled(key is not None)
            for name, (low, high) in self.bound_boxes.items():
                bound = when.get(name) if isinstance(when.get(name), dict) else {}
                low.setValue(int(bound.get("min", NO_BOUND)))
                high.setValue(int(bound.get("max", NO_BOUND)))
        finally:
            self._syncing = False
        self.classes_button.setEnabled(bool(self.classes))
        self._set_message(self._summary(when), error=False)

    def _summary(self, when: dict[str, Any]) -> str:
        if not when:
            return "Runs for every item."
        try:
            text = "Runs only when " + parse_when(when, self.modality, "$").summary()
        except PolicyError as exc:
            return f"Not valid: {exc.message}"
        if self.classes:  # a label the dataset does not have: the condition is valid but a typo
            found = label_warnings({"steps": [{"when": when}]}, self.classes)
            if found:
                text += "\n⚠ " + found[0].message
        return text

    def _set_message(self, text: str, error: bool) -> None:
        self.summary_label.setText(text)
        ink = ERROR_INK if error else WARNING_INK if "⚠" in text else HINT_INK
        themed_style_sheet(self.summary_label, ink_sheet(ink))

    # ---- editing ----------------------------------------------------------------------------------
    def label_mode(self) -> str | None:
        return LABEL_MODES[self.mode_combo.currentIndex()][1]

    def _on_label(self) -> None:
        if self._syncing:
            return
        key = self.label_mode()
        self.labels_edit.setEnabled(key is not None)
        labels = split_labels(self.labels_edit.text())
        if key is not None and not labels:
            # an emptied set drops the label condition; the form waits for labels
            self._change("label", None)
            self._set_message("Type the labels (comma-separated)" + (" or tick them under Classes." if self.classes
                                                                     else "."), error=False)
            return
        self._change("label", {key: labels} if key is not None else None)

    def _on_bound(self, name: str) -> None:
        if self._syncing:
            return
        low, high = (box.value() for box in self.bound_boxes[name])
        bound = {k: v for k, v in (("min", low), ("max", high)) if v != NO_BOUND}
        self._change(name, bound or None)

    def _change(self, part: str, value: Any) -> None:
        new = copy.deepcopy(self.when)
        if value is None:
            new.pop(part, None)
        else:
            new[part] = value
        if new == self.when:
            self._set_message(self._summary(new), error=False)
            return
        if new:
            try:
                parse_when(new, self.modality, "when")
            except PolicyError as exc:
                self._set_message(f"{exc.path.replace('when.', '', 1)}: {exc.message}", error=True)
                return
        self.when = new
        self._set_message(self._summary(new), error=False)
        self.when_changed.emit(copy.deepcopy(new) if new else None)

    def toggle_class(self, label: str, on: bool) -> None:
        """Add or remove *label* in the label set (the Classes menu); picks "Only these labels" when
        no mode is chosen yet."""
        labels = split_labels(self.labels_edit.text())
        if on and label not in labels:
            labels.append(label)
        elif not on and label in labels:
            labels.remove(label)
        self._syncing = True
        try:
            if not labels:
                self.mode_combo.setCurrentIndex(0)
            elif self.label_mode() is None:
                self.mode_combo.setCurrentIndex(1)
            self.labels_edit.setText(", ".join(labels))
        finally:
            self._syncing = False
        self._on_label()

    def _fill_classes_menu(self) -> None:
        self.classes_menu.clear()
        chosen = set(split_labels(self.labels_edit.text()))
        for label in self.classes:
            action = self.classes_menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(label in chosen)
            action.toggled.connect(lambda on, name=label: self.toggle_class(name, on))
        if not self.classes:
            self.classes_menu.addAction("The dataset's classes are not known").setEnabled(False)


def main() -> int:
    import sys

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    editor = ConditionsEditor("image", ["0", "1", "6", "8", "9"], {"label": {"not_in": ["6", "9"]}, "width": {"min": 16}})
    editor.when_changed.connect(lambda when: print(when))
    editor.resize(420, 120)
    editor.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
