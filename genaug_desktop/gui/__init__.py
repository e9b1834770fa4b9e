"""The Qt layer: panels, list models and delegates over core objects, and the one worker wrapper.

Nothing here is imported by ``core``; importing this package stays cheap (no torch, no nlpaug,
no numpy) so that the window opens fast.
"""

from genaug_desktop.gui import _pyside_compat

# Before any Qt call: PySide6 6.12.0 on Python 3.11 would otherwise abort the process after a
# few thousand calls (see _pyside_compat).
_pyside_compat.apply()
