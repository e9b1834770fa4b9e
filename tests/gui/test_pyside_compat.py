"""The PySide6 6.12.0 reference-count workaround: applied only where needed, and effective."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from genaug_desktop.gui import _pyside_compat


def test_affected_versions() -> None:
    assert _pyside_compat.is_affected("6.12.0", (3, 11))
    assert not _pyside_compat.is_affected("6.12.0", (3, 12))
    assert not _pyside_compat.is_affected("6.11.3", (3, 11))


def test_many_void_calls_do_not_crash_the_interpreter(qtbot) -> None:
    # With PySide6 6.12.0 on Python 3.11 and no workaround, this aborts the process
    # ("Fatal Python error: none_dealloc") after about 5,000 calls.
    label = QLabel()
    qtbot.addWidget(label)
    for _ in range(30_000):
        label.setText("x")
        label.isVisible()
    assert label.text() == "x"
