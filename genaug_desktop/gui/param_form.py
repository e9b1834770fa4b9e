"""Forms generated from parameter declarations (core :class:`ParamSet`): no form is written per op.

Each :class:`Param` kind has one field widget:

============  =====================================================================
float, int    slider + spin box kept in sync (spin box only when unbounded or huge)
*_range       two linked spin boxes under a :class:`RangeSlider` (two handles)
bool          check box
choice        combo box
color         colour button (QColorDialog)
str           line edit
str_list      line edit of comma-separated values
============  =====================================================================

A field keeps the exact value it was given (``set_value``) and only replaces it when the person
edits the widget, so a value finer than a spin box's decimals survives a round trip.
:class:`ParamForm` validates every edit with the core declaration (plus an optional validator for
cross-field checks, e.g. an op's ``check``) and emits ``values_changed(dict)`` only for valid
values; an invalid edit shows the core's message inline and emits nothing. ``set_values`` never
emits, so a model can sync the form without a signal loop.

Run alone: ``python -m genaug_desktop.gui.param_form [OP_NAME]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.core.params import Param, ParamError, ParamSet
from genaug_desktop.gui.colors import ERROR_INK, ink_sheet, themed_style_sheet

#: Sliders get at most this many positions; a finer or wider parameter gets a spin box only.
MAX_SLIDER_STEPS = 10_000
#: Spin boxes of unbounded numbers still need limits.
UNBOUNDED = 1e9

Validator = Callable[[dict[str, Any]], dict[str, Any]]


def _decimals_for(step: float) -> int:
    """Decimals that show a value on a grid of *step* (0.01 -> 2, 0.5 -> 1, 5 -> 0)."""
    if step <= 0 or step >= 1 and float(step).is_integer():
        return 0
    return min(6, max(1, -math.floor(math.log10(step) + 1e-9)))


def _decimals_of(value: float) -> int:
    """Decimals needed to show *value* exactly (at most 6)."""
    text = f"{value:.6f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def default_step(param: Param) -> float:
    """The declared step, else a round step giving about 100 slider positions (1 for ints)."""
    if param.step:
        return float(param.step)
    if param.kind in ("int", "int_range"):
        return 1.0
    if param.low is not None and param.high is not None and param.high > param.low:
        return float(10 ** math.floor(math.log10((param.high - param.low) / 100)))
    return 0.01


def has_slider(param: Param) -> bool:
    if param.low is None or param.high is None or param.high <= param.low:
        return False
    return (param.high - param.low) / default_step(param) <= MAX_SLIDER_STEPS


# ---- the range slider ------------------------------------------------------------------------------
class RangeSlider(QWidget):
    """A horizontal slider with two handles over integer positions ``0 .. maximum``.

    ``range_changed(low, high)`` is emitted when the person moves a handle (mouse or keys), never
    by :meth:`set_range_values`. The handles cannot cross.
    """

    range_changed = Signal(int, int)

    HANDLE = 14
    GROOVE = 4

    def __init__(self, maximum: int = 100, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._maximum = max(1, maximum)
        self._low = 0
        self._high = self._maximum
        self._dragging: int | None = None  # 0: low handle, 1: high handle
        self._focus_handle = 0
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(80)

    def sizeHint(self) -> QSize:
        return QSize(160, self.HANDLE + 6)

    def minimumSizeHint(self) -> QSize:
        return QSize(80, self.HANDLE + 6)

    @property
    def maximum(self) -> int:
        return self._maximum

    def values(self) -> tuple[int, int]:
        return self._low, self._high

    def set_range_values(self, low: int, high: int) -> None:
        low = max(0, min(self._maximum, int(low)))
        high = max(low, min(self._maximum, int(high)))
        if (low, high) != (self._low, self._high):
            self._low, self._high = low, high
            self.update()

    # ---- geometry ----------------------------------------------------------------------------------
    def _span(self) -> tuple[float, float]:
        left = self.HANDLE / 2 + 1
        return left, max(1.0, self.width() - self.HANDLE - 2)

    def _x_of(self, position: int) -> float:
        left, width = self._span()
        return left + width * position / self._maximum

    def _position_at(self, x: float) -> int:
        left, width = self._span()
        return max(0, min(self._maximum, round((x - left) / width * self._maximum)))

    # ---- painting ----------------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        enabled = self.isEnabled()
        # The palette's colours: the slider follows a light or dark theme when it repaints.
        accent = palette.color(QPalette.ColorGroup.Normal if enabled else QPalette.ColorGroup.Disabled,
                               QPalette.ColorRole.Highlight)
        cy = self.height() / 2
        left, width = self._span()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Midlight))
        painter.drawRoundedRect(QRectF(left, cy - self.GROOVE / 2, width, self.GROOVE), 2, 2)
        x0, x1 = self._x_of(self._low), self._x_of(self._high)
        painter.setBrush(accent)
        painter.drawRoundedRect(QRectF(x0, cy - self.GROOVE / 2, max(1.0, x1 - x0), self.GROOVE), 2, 2)
        for which, x in enumerate((x0, x1)):
            focused = self.hasFocus() and which == self._focus_handle
            painter.setPen(QPen(accent.darker(120) if focused else QColor("#8a93a0"), 2.0 if focused else 1.0))
            painter.setBrush(palette.color(QPalette.ColorRole.Light))
            painter.drawEllipse(QPointF(x, cy), self.HANDLE / 2 - 1, self.HANDLE / 2 - 1)
        painter.end()

    # ---- interaction -------------------------------------------------------------------------------
    def _move_handle(self, which: int, position: int) -> None:
        low, high = self._low, self._high
        if which == 0:
            low = min(position, high)
        else:
            high = max(position, low)
        if (low, high) != (self._low, self._high):
            self._low, self._high = low, high
            self.update()
            self.range_changed.emit(low, high)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        x = event.position().x()
        d0, d1 = abs(x - self._x_of(self._low)), abs(x - self._x_of(self._high))
        # Both handles on one spot: pick by side, so they can always be pulled apart.
        which = (1 if x > self._x_of(self._high) else 0) if math.isclose(d0, d1) else (0 if d0 < d1 else 1)
        self._dragging = self._focus_handle = which
        self._move_handle(which, self._position_at(x))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging is not None:
            self._move_handle(self._dragging, self._position_at(event.position().x()))
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._dragging = None
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        step = max(1, self._maximum // 20) if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
        current = self._low if self._focus_handle == 0 else self._high
        if key == Qt.Key.Key_Tab and self._focus_handle == 0 or key == Qt.Key.Key_Backtab and self._focus_handle == 1:
            self._focus_handle = 1 - self._focus_handle
            self.update()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Down):
            self._move_handle(self._focus_handle, current - step)
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Up):
            self._move_handle(self._focus_handle, current + step)
        else:
            return super().keyPressEvent(event)
        event.accept()


# ---- fields ----------------------------------------------------------------------------------------
class ParamField(QWidget):
    """The editor of one parameter. ``edited`` fires on every change the person makes."""

    edited = Signal()

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self._value: Any = param.default
        self.setToolTip(param.help)

    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any) -> None:
        """Show *value* (already valid); emits nothing."""
        self._value = value
        self._show(value)

    def _show(self, value: Any) -> None:
        raise NotImplementedError

    def _user_changed(self, value: Any) -> None:
        self._value = value
        self.edited.emit()

    @staticmethod
    def _row(parent: QWidget) -> QHBoxLayout:
        row = QHBoxLayout(parent)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        return row


class _NumberScale:
    """Maps a number parameter onto integer slider positions."""

    def __init__(self, param: Param) -> None:
        self.is_int = param.kind in ("int", "int_range")
        self.step = default_step(param)
        self.low = float(param.low) if param.low is not None else -UNBOUNDED
        self.high = float(param.high) if param.high is not None else UNBOUNDED
        self.positions = max(1, round((self.high - self.low) / self.step)) if has_slider(param) else 0

    def to_position(self, value: float) -> int:
        return max(0, min(self.positions, round((value - self.low) / self.step)))

    def from_position(self, position: int) -> float | int:
        value = self.low + position * self.step
        value = min(self.high, max(self.low, value))
        if self.is_int:
            return int(round(value))
        return round(value, _decimals_for(self.step) + 2)

    def spin_box(self) -> QSpinBox | QDoubleSpinBox:
        if self.is_int:
            spin: QSpinBox | QDoubleSpinBox = QSpinBox()
            spin.setRange(int(max(self.low, -2**31 + 1)), int(min(self.high, 2**31 - 1)))
            spin.setSingleStep(max(1, int(self.step)))
        else:
            spin = QDoubleSpinBox()
            spin.setDecimals(max(2, _decimals_for(self.step)))
            spin.setRange(self.low, self.high)
            spin.setSingleStep(self.step)
        spin.setKeyboardTracking(False)  # typed numbers apply on Enter or focus out, not per key
        spin.setAccelerated(True)
        spin.setMinimumWidth(64)
        return spin


def _set_spin(spin: QSpinBox | QDoubleSpinBox, value: float) -> None:
    if isinstance(spin, QDoubleSpinBox):
        needed = _decimals_of(float(value))
        if needed > spin.decimals():
            low, high = spin.minimum(), spin.maximum()
            spin.setDecimals(needed)  # (setDecimals rounds the range; put it back)
            spin.setRange(low, high)
    spin.blockSignals(True)
    spin.setValue(value)
    spin.blockSignals(False)


class NumberField(ParamField):
    """``float``/``int``: a slider and a spin box in sync; a spin box only when unbounded."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.scale = _NumberScale(param)
        self.spin = self.scale.spin_box()
        self.spin.setToolTip(param.help)
        self.slider: QSlider | None = None
        row = self._row(self)
        if self.scale.positions:
            self.slider = QSlider(Qt.Orientation.Horizontal)
            self.slider.setRange(0, self.scale.positions)
            self.slider.setToolTip(param.help)
            self.slider.setPageStep(max(1, self.scale.positions // 10))
            self.slider.valueChanged.connect(self._on_slider)
            row.addWidget(self.slider, 1)
        else:
            row.addStretch(1)
        row.addWidget(self.spin)
        self.spin.valueChanged.connect(self._on_spin)
        self.set_value(param.default)

    def _show(self, value: Any) -> None:
        _set_spin(self.spin, value)
        if self.slider is not None:
            self.slider.blockSignals(True)
            self.slider.setValue(self.scale.to_position(float(value)))
            self.slider.blockSignals(False)

    def _on_slider(self, position: int) -> None:
        value = self.scale.from_position(position)
        _set_spin(self.spin, value)
        self._user_changed(value)

    def _on_spin(self, value: float) -> None:
        value = int(value) if self.scale.is_int else float(value)
        if self.slider is not None:
            self.slider.blockSignals(True)
            self.slider.setValue(self.scale.to_position(float(value)))
            self.slider.blockSignals(False)
        self._user_changed(value)


class RangeField(ParamField):
    """``float_range``/``int_range``: low and high spin boxes, linked, under a two-handle slider."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.scale = _NumberScale(param)
        self.low_spin = self.scale.spin_box()
        self.high_spin = self.scale.spin_box()
        self.low_spin.setToolTip(f"{param.help} (low end)")
        self.high_spin.setToolTip(f"{param.help} (high end)")
        self.slider: RangeSlider | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        if self.scale.positions:
            self.slider = RangeSlider(self.scale.positions)
            self.slider.setToolTip(param.help)
            self.slider.range_changed.connect(self._on_slider)
            column.addWidget(self.slider)
        spins = QHBoxLayout()
        spins.setContentsMargins(0, 0, 0, 0)
        spins.setSpacing(4)
        spins.addWidget(self.low_spin, 1)
        dash = QLabel("–")
        dash.setAlignment(Qt.AlignmentFlag.AlignCenter)
        spins.addWidget(dash)
        spins.addWidget(self.high_spin, 1)
        column.addLayout(spins)
        self.low_spin.valueChanged.connect(lambda v: self._on_spin(0, v))
        self.high_spin.valueChanged.connect(lambda v: self._on_spin(1, v))
        self.set_value(param.default)

    def _number(self, value: float) -> float | int:
        return int(value) if self.scale.is_int else float(value)

    def _show(self, value: Any) -> None:
        lo, hi = (value, value) if isinstance(value, (int, float)) else value
        _set_spin(self.low_spin, lo)
        _set_spin(self.high_spin, hi)
        if self.slider is not None:
            self.slider.set_range_values(self.scale.to_position(float(lo)), self.scale.to_position(float(hi)))

    def _on_slider(self, low: int, high: int) -> None:
        lo, hi = self.scale.from_position(low), self.scale.from_position(high)
        old_lo, old_hi = self._value
        # Keep the end that did not move exactly as it was (the slider grid may be coarser).
        if self.scale.to_position(float(old_lo)) == low:
            lo = old_lo
        if self.scale.to_position(float(old_hi)) == high:
            hi = old_hi
        _set_spin(self.low_spin, lo)
        _set_spin(self.high_spin, hi)
        self._user_changed([lo, hi])

    def _on_spin(self, which: int, value: float) -> None:
        lo, hi = list(self._value)
        if which == 0:
            lo = self._number(value)
            if lo > hi:  # linked: the other end follows instead of making an invalid range
                hi = lo
                _set_spin(self.high_spin, hi)
        else:
            hi = self._number(value)
            if hi < lo:
                lo = hi
                _set_spin(self.low_spin, lo)
        if self.slider is not None:
            self.slider.set_range_values(self.scale.to_position(float(lo)), self.scale.to_position(float(hi)))
        self._user_changed([lo, hi])


class BoolField(ParamField):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.check = QCheckBox()
        self.check.setToolTip(param.help)
        self._row(self).addWidget(self.check)
        self.check.toggled.connect(self._user_changed)
        self.set_value(param.default)

    def _show(self, value: Any) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(bool(value))
        self.check.blockSignals(False)


class ChoiceField(ParamField):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.choices = tuple(param.choices or ())
        self.combo = QComboBox()
        self.combo.setToolTip(param.help)
        for choice in self.choices:
            self.combo.addItem(str(choice).lower() if isinstance(choice, bool) else str(choice))
        self._row(self).addWidget(self.combo, 1)
        self.combo.currentIndexChanged.connect(self._on_index)
        self.set_value(param.default)

    def _index_of(self, value: Any) -> int:
        for i, choice in enumerate(self.choices):
            if choice == value and isinstance(choice, bool) == isinstance(value, bool):
                return i
        return -1

    def _show(self, value: Any) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(self._index_of(value))
        self.combo.blockSignals(False)

    def _on_index(self, index: int) -> None:
        if 0 <= index < len(self.choices):
            self._user_changed(self.choices[index])


def _swatch(color: QColor, size: int = 14) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("#8a93a0"), 1.0))
    painter.setBrush(color)
    painter.drawRoundedRect(QRectF(0.5, 0.5, size - 1, size - 1), 3, 3)
    painter.end()
    return QIcon(pixmap)


class ColorField(ParamField):
    """An ``[r, g, b]`` colour: a button with a swatch that opens a colour dialog."""

    #: Replaceable for tests and scripted runs: (initial colour, parent, title) -> colour (invalid = cancelled).
    pick_color: Callable[[QColor, QWidget, str], QColor] = staticmethod(QColorDialog.getColor)  # type: ignore[assignment]

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.button = QPushButton()
        self.button.setToolTip(param.help)
        self.button.clicked.connect(self.choose_color)
        row = self._row(self)
        row.addWidget(self.button)
        row.addStretch(1)
        self.set_value(param.default)

    def _show(self, value: Any) -> None:
        color = QColor(*value)
        self.button.setIcon(_swatch(color))
        self.button.setText(color.name())

    def choose_color(self) -> None:
        chosen = self.pick_color(QColor(*self._value), self, f"Choose {self.param.title.lower()}")
        if chosen.isValid():
            value = [chosen.red(), chosen.green(), chosen.blue()]
            self._show(value)
            self._user_changed(value)


class TextField(ParamField):
    """``str`` (the text as is) or ``str_list`` (comma-separated values, blanks dropped)."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.is_list = param.kind == "str_list"
        self.edit = QLineEdit()
        self.edit.setToolTip(param.help + (" (separate values with commas)" if self.is_list else ""))
        if self.is_list:
            self.edit.setPlaceholderText("comma, separated, values")
        self._row(self).addWidget(self.edit, 1)
        self.edit.textEdited.connect(self._on_text)
        self.set_value(param.default)

    @staticmethod
    def split(text: str) -> list[str]:
        return [part.strip() for part in text.split(",") if part.strip()]

    def _show(self, value: Any) -> None:
        shown = self.edit.text()
        if (self.split(shown) if self.is_list else shown) == value:
            return  # the text says this already (maybe mid-typing, e.g. "a, b,"): leave the cursor alone
        self.edit.setText(", ".join(value) if self.is_list else str(value))

    def _on_text(self, text: str) -> None:
        self._user_changed(self.split(text) if self.is_list else text)


_FIELDS: dict[str, type[ParamField]] = {
    "float": NumberField, "int": NumberField, "float_range": RangeField, "int_range": RangeField,
    "bool": BoolField, "choice": ChoiceField, "color": ColorField, "str": TextField, "str_list": TextField,
}


def make_field(param: Param) -> ParamField:
    """The field widget for *param*'s kind."""
    try:
        return _FIELDS[param.kind](param)
    except KeyError:
        raise ValueError(f"no form field for parameter kind {param.kind!r}") from None


# ---- the form --------------------------------------------------------------------------------------
class ParamForm(QWidget):
    """A form for a :class:`ParamSet`; emits ``values_changed(dict)`` with validated values.

    *validator* (optional) takes the values and returns them validated or raises ParamError,
    e.g. ``lambda v: op_class(v).values`` for cross-field checks; by default the ParamSet
    validates. *path* prefixes error paths (``$.steps[2].params``).
    """

    values_changed = Signal(dict)

    def __init__(
        self,
        param_set: ParamSet,
        values: Mapping[str, Any] | None = None,
        *,
        validator: Validator | None = None,
        path: str = "$.params",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.param_set = param_set
        self.validator = validator
        self.path = path
        self.fields: dict[str, ParamField] = {}
        self.labels: dict[str, QLabel] = {}
        self._values = param_set.validate(values or {}, path)
        self._error: ParamError | None = None

        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(10)
        layout.setVerticalSpacing(6)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # In a narrow panel a field goes under its label instead of forcing a horizontal scroll bar.
        layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        layout.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for param in param_set:
            field = make_field(param)
            field.setObjectName(f"param:{param.name}")
            field.set_value(self._values[param.name])
            field.edited.connect(self._on_edited)
            label = QLabel(param.title)
            label.setToolTip(param.help)
            label.setBuddy(field)
            self.fields[param.name] = field
            self.labels[param.name] = label
            layout.addRow(label, field)
        self.empty_label = QLabel("No parameters.")
        self.empty_label.setStyleSheet("color: palette(placeholder-text);")
        layout.addRow(self.empty_label)  # parented first: a parentless label made visible is a window
        self.empty_label.setVisible(not self.fields)
        self.error_label = QLabel()
        self.error_label.setObjectName("paramError")
        self.error_label.setWordWrap(True)
        themed_style_sheet(self.error_label, ink_sheet(ERROR_INK))
        self.error_label.hide()
        layout.addRow(self.error_label)

    # ---- values ------------------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The last valid values (a copy)."""
        return {k: list(v) if isinstance(v, list) else v for k, v in self._values.items()}

    def raw_values(self) -> dict[str, Any]:
        """What the fields show now, valid or not."""
        return {name: field.value() for name, field in self.fields.items()}

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show *values* (validated; missing ones take defaults). Emits nothing; clears any error."""
        validated = self.param_set.validate(values, self.path)
        self._values = validated
        for name, field in self.fields.items():
            field.set_value(validated[name])
        self._set_error(None)

    @property
    def error(self) -> ParamError | None:
        return self._error

    @property
    def error_text(self) -> str:
        return self.error_label.text() if self._error is not None else ""

    def field(self, name: str) -> ParamField:
        return self.fields[name]

    # ---- edits -------------------------------------------------------------------------------------
    def validate(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        if self.validator is not None:
            return self.validator(dict(raw))
        return self.param_set.validate(raw, self.path)

    def _on_edited(self) -> None:
        raw = self.raw_values()
        try:
            validated = self.validate(raw)
        except ParamError as exc:
            self._set_error(exc)
            return
        except (ValueError, TypeError, OverflowError) as exc:  # a validator's own complaint
            self._set_error(ParamError(self.path, str(exc)))
            return
        self._set_error(None)
        if validated != self._values:
            self._values = validated
            self.values_changed.emit(self.values())

    def _set_error(self, error: ParamError | None) -> None:
        self._error = error
        for name, label in self.labels.items():
            bad = error is not None and (error.path.endswith(f".{name}") or f".{name}[" in error.path)
            themed_style_sheet(label, ink_sheet(ERROR_INK, "font-weight: 600;") if bad else lambda: "")
        if error is None:
            self.error_label.hide()
            self.error_label.clear()
            return
        name = error.path.rsplit(".", 1)[-1].split("[")[0]
        field = next((p for p in self.param_set if p.name == name), None)
        prefix = f"{field.title}: " if field is not None else ""
        self.error_label.setText(f"{prefix}{error.message}")
        self.error_label.setToolTip(str(error))
        self.error_label.show()


def main(argv: list[str] | None = None) -> int:
    import sys

    from PySide6.QtWidgets import QApplication, QScrollArea

    from genaug_desktop.core.ops.base import get_op

    args = sys.argv[1:] if argv is None else argv
    app = QApplication.instance() or QApplication(sys.argv[:1])
    op = get_op(args[0] if args else "affine")
    form = ParamForm(op.params, validator=lambda v: op(v).values)
    form.values_changed.connect(lambda values: print(values, flush=True))
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(form)
    scroll.setWindowTitle(f"{op.name} — parameter form")
    scroll.resize(420, 480)
    scroll.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
