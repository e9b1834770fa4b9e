"""Forms generated from parameter declarations: one for every op in the registry, every kind of field,
slider/spin sync, linked ranges, inline errors, no signal loops."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from genaug_desktop.core.ops.base import registry
from genaug_desktop.core.params import Param, ParamError, params
from genaug_desktop.gui.param_form import (
    BoolField,
    ChoiceField,
    ColorField,
    NumberField,
    ParamForm,
    RangeField,
    RangeSlider,
    TextField,
    make_field,
)

ALL_KINDS = ("float", "int", "bool", "choice", "float_range", "int_range", "color", "str", "str_list")
OPS = sorted(registry())


def other_value(p: Param) -> Any:
    """A valid value different from the default, from the declaration alone."""
    kind = p.kind
    if kind == "bool":
        return not p.default
    if kind == "choice":
        assert p.choices
        return p.choices[-1] if p.choices[-1] != p.default else p.choices[0]
    if kind == "color":
        return [12, 34, 56]
    if kind == "str":
        return "hello"
    if kind == "str_list":
        return ["alpha", "beta"]
    lo = p.low if p.low is not None else -10.0
    hi = p.high if p.high is not None else lo + 100.0
    step = p.step or (1 if kind in ("int", "int_range") else 0.01)

    def at(fraction: float) -> float:
        value = lo + round((hi - lo) * fraction / step) * step
        return int(round(value)) if kind in ("int", "int_range") else round(value, 6)

    if kind in ("int", "float"):
        return at(0.75)
    return [at(0.25), at(0.75)]


def make_op_form(qtbot, name: str) -> tuple[ParamForm, Any]:
    cls = registry()[name]
    form = ParamForm(cls.params, validator=lambda v: cls(v).values)
    qtbot.addWidget(form)
    return form, cls


def test_every_kind_has_a_field() -> None:
    for kind in ALL_KINDS:
        extra: dict[str, Any] = {"choices": ("a", "b")} if kind == "choice" else {}
        default = {"float": 0.5, "int": 1, "bool": False, "choice": "a", "float_range": [0.0, 1.0],
                   "int_range": [0, 1], "color": [0, 0, 0], "str": "", "str_list": []}[kind]
        field = make_field(Param("x", kind, default, "help", low=0 if "range" in kind or kind in ("int", "float") else None,
                                 high=10 if "range" in kind or kind in ("int", "float") else None, **extra))
        assert field.value() == default
        field.deleteLater()


@pytest.mark.parametrize("name", OPS)
def test_form_for_every_op_round_trips_values(qtbot, name: str) -> None:
    form, cls = make_op_form(qtbot, name)
    assert set(form.fields) == set(cls.params.names())
    assert form.values() == cls(None).values  # starts at the declared defaults
    wanted = {p.name: other_value(p) for p in cls.params}
    try:
        expected = cls(wanted).values
    except ParamError:  # a cross-field rule forbids this combination: change one field at a time below
        expected = cls(None).values
        wanted = expected
    with qtbot.assertNotEmitted(form.values_changed):
        form.set_values(wanted)
    assert form.values() == expected
    for p in cls.params:
        assert form.field(p.name).value() == expected[p.name]
        assert form.labels[p.name].toolTip() == p.help
    cls(form.values())  # what the form holds validates


@pytest.mark.parametrize("name", OPS)
def test_editing_each_field_of_every_op_emits_validated_values(qtbot, name: str, monkeypatch) -> None:
    form, cls = make_op_form(qtbot, name)
    monkeypatch.setattr(ColorField, "pick_color", staticmethod(lambda initial, parent, title: QColor(200, 100, 50)))
    emitted: list[dict[str, Any]] = []
    form.values_changed.connect(emitted.append)
    for p in cls.params:
        field = form.field(p.name)
        before = len(emitted)
        new = other_value(p)
        if isinstance(field, NumberField):
            field.spin.setValue(new)
        elif isinstance(field, RangeField):
            field.high_spin.setValue(new[1])
            field.low_spin.setValue(new[0])
        elif isinstance(field, BoolField):
            field.check.setChecked(new)
        elif isinstance(field, ChoiceField):
            field.combo.setCurrentIndex(list(field.choices).index(new))
        elif isinstance(field, ColorField):
            field.choose_color()
            new = [200, 100, 50]
        elif isinstance(field, TextField):
            field.edit.setText(", ".join(new) if isinstance(new, list) else new)
            field.edit.textEdited.emit(field.edit.text())
        if form.error is not None:  # a cross-field rule: the message is inline and nothing was emitted
            assert form.error_label.isVisibleTo(form) and form.error_text
            assert len(emitted) == before
            form.set_values(cls(None).values)
            continue
        assert len(emitted) > before, p.name
        assert emitted[-1][p.name] == new
        assert cls(emitted[-1]).values == emitted[-1]


def test_slider_and_spin_box_stay_in_sync(qtbot) -> None:
    form = ParamForm(params(Param("sigma", "float", 1.0, "blur", low=0.0, high=5.0, step=0.05),
                            Param("count", "int", 3, "n", low=0, high=20)))
    qtbot.addWidget(form)
    sigma = form.field("sigma")
    assert isinstance(sigma, NumberField) and sigma.slider is not None
    with qtbot.waitSignal(form.values_changed) as blocker:
        sigma.slider.setValue(40)  # 40 steps of 0.05
    assert blocker.args[0]["sigma"] == pytest.approx(2.0)
    assert sigma.spin.value() == pytest.approx(2.0)
    sigma.spin.setValue(3.5)
    assert sigma.slider.value() == 70
    assert form.values()["sigma"] == pytest.approx(3.5)
    count = form.field("count")
    assert isinstance(count, NumberField) and count.slider is not None
    count.slider.setValue(7)
    assert count.spin.value() == 7 and form.values()["count"] == 7 and isinstance(form.values()["count"], int)
    # set_values moves both widgets and emits nothing
    with qtbot.assertNotEmitted(form.values_changed):
        form.set_values({"sigma": 0.25, "count": 11})
    assert sigma.slider.value() == 5 and sigma.spin.value() == pytest.approx(0.25)
    assert count.slider.value() == 11


def test_value_finer_than_the_spin_box_survives(qtbot) -> None:
    form = ParamForm(params(Param("p", "float", 0.5, "", low=0.0, high=1.0, step=0.01)))
    qtbot.addWidget(form)
    form.set_values({"p": 0.0375})
    assert form.values()["p"] == 0.0375
    assert form.field("p").spin.decimals() >= 4  # shown exactly, not rounded to 0.04


def test_unbounded_number_is_a_spin_box_only(qtbot) -> None:
    form = ParamForm(params(Param("offset", "float", 0.0, "no bounds"), Param("huge", "int", 5, "", low=1, high=10**6)))
    qtbot.addWidget(form)
    assert form.field("offset").slider is None
    assert form.field("huge").slider is None  # a million positions is no slider
    form.field("offset").spin.setValue(-123.5)
    assert form.values()["offset"] == -123.5


def test_range_spins_are_linked_and_the_range_slider_follows(qtbot) -> None:
    form = ParamForm(params(Param("angle", "float_range", [-10.0, 10.0], "deg", low=-180, high=180, step=1)))
    qtbot.addWidget(form)
    field = form.field("angle")
    assert isinstance(field, RangeField) and isinstance(field.slider, RangeSlider)
    assert field.slider.values() == (170, 190)
    field.low_spin.setValue(30)  # above high: high follows instead of an invalid range
    assert form.values()["angle"] == [30.0, 30.0]
    assert field.high_spin.value() == 30
    with qtbot.waitSignal(form.values_changed) as blocker:
        field.slider._move_handle(1, 300)  # drag the high handle to +120
    assert blocker.args[0]["angle"] == [30.0, 120.0]
    assert field.high_spin.value() == 120


def test_range_slider_mouse_and_keys(qtbot) -> None:
    slider = RangeSlider(100)
    qtbot.addWidget(slider)
    slider.resize(220, 24)
    slider.show()
    seen: list[tuple[int, int]] = []
    slider.range_changed.connect(lambda lo, hi: seen.append((lo, hi)))
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=slider.rect().center())
    assert seen and seen[-1][0] == 50 or seen[-1][1] == 50
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert len(seen) >= 2


def test_cross_field_error_is_shown_inline_and_not_emitted(qtbot) -> None:
    form, cls = make_op_form(qtbot, "resize")
    emitted: list[dict[str, Any]] = []
    form.values_changed.connect(emitted.append)
    form.field("width").spin.setValue(0)
    assert emitted and emitted[-1]["width"] == 0
    form.field("height").spin.setValue(0)  # both 0: the op's own check refuses
    assert form.error is not None and "both be 0" in form.error_text
    assert form.error_label.isVisibleTo(form)
    assert "color" in form.labels["width"].styleSheet()  # the field named by the error is marked
    assert len(emitted) == 1
    form.field("height").spin.setValue(64)
    assert form.error is None and not form.error_label.isVisibleTo(form)
    assert emitted[-1] == cls({"width": 0, "height": 64}).values


def test_text_fields_and_lists(qtbot) -> None:
    form = ParamForm(params(Param("fill", "str", "", "text", max_len=5), Param("stop", "str_list", [], "words")))
    qtbot.addWidget(form)
    text, words = form.field("fill"), form.field("stop")
    qtbot.keyClicks(text.edit, "abc")
    assert form.values()["fill"] == "abc"
    qtbot.keyClicks(text.edit, "defg")  # longer than max_len: the core's message, inline
    assert form.error is not None and "longer than 5" in form.error_text
    assert form.values()["fill"] == "abcde"  # the last valid text
    qtbot.keyClick(text.edit, Qt.Key.Key_Backspace)
    qtbot.keyClick(text.edit, Qt.Key.Key_Backspace)
    assert form.error is None and form.values()["fill"] == "abcde"
    qtbot.keyClicks(words.edit, "the, a ,")
    assert form.values()["stop"] == ["the", "a"]
    assert words.edit.text() == "the, a ,"  # the model's echo does not rewrite what is being typed


def test_choice_with_booleans_and_numbers(qtbot) -> None:
    form = ParamForm(params(Param("flag", "choice", True, "", choices=(True, False)),
                            Param("bits", "choice", 4, "", choices=(2, 4, 8))))
    qtbot.addWidget(form)
    form.field("bits").combo.setCurrentIndex(2)
    form.field("flag").combo.setCurrentIndex(1)
    assert form.values() == {"flag": False, "bits": 8}


def test_color_button_uses_the_dialog_result(qtbot, monkeypatch) -> None:
    form = ParamForm(params(Param("bg", "color", [255, 255, 255], "background")))
    qtbot.addWidget(form)
    monkeypatch.setattr(ColorField, "pick_color", staticmethod(lambda initial, parent, title: QColor()))
    with qtbot.assertNotEmitted(form.values_changed):
        form.field("bg").choose_color()  # cancelled: nothing changes
    monkeypatch.setattr(ColorField, "pick_color", staticmethod(lambda initial, parent, title: QColor("#102030")))
    form.field("bg").button.click()
    assert form.values()["bg"] == [16, 32, 48]
    assert form.field("bg").button.text() == "#102030"


def test_empty_param_set(qtbot) -> None:
    form = ParamForm(params())
    qtbot.addWidget(form)
    assert form.values() == {} and form.empty_label.isVisibleTo(form)
