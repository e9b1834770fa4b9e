"""Qt item-data roles and flags as plain numbers, for the modules loaded before the first paint.

The first use of ``PySide6.QtCore.Qt`` makes PySide build every enum of the ``Qt`` namespace
(about 90 Python enum classes, ~50 ms); the welcome page does not need them, so the modules on
its path use these values instead. They are fixed by Qt's API (``Qt::UserRole`` is 0x0100 and
so on); a test checks each against ``Qt``.
"""

from __future__ import annotations

DISPLAY = 0
DECORATION = 1
TOOLTIP = 3
FONT = 6
TEXT_ALIGNMENT = 7
FOREGROUND = 9
USER = 0x0100

#: ``Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter``
ALIGN_RIGHT_VCENTER = 0x0002 | 0x0080
