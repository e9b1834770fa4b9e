"""The plain role numbers used before the first paint match Qt's enums."""

from __future__ import annotations

from PySide6.QtCore import Qt

from genaug_desktop.gui import roles


def test_role_numbers_match_qt() -> None:
    assert Qt.ItemDataRole.DisplayRole.value == roles.DISPLAY
    assert Qt.ItemDataRole.DecorationRole.value == roles.DECORATION
    assert Qt.ItemDataRole.ToolTipRole.value == roles.TOOLTIP
    assert Qt.ItemDataRole.FontRole.value == roles.FONT
    assert Qt.ItemDataRole.TextAlignmentRole.value == roles.TEXT_ALIGNMENT
    assert Qt.ItemDataRole.ForegroundRole.value == roles.FOREGROUND
    assert Qt.ItemDataRole.UserRole.value == roles.USER
    assert (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value == roles.ALIGN_RIGHT_VCENTER
