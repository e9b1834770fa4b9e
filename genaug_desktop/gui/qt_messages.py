"""Route Qt's own log lines to stderr, minus noise that means nothing to a user."""

from __future__ import annotations

import sys

from PySide6.QtCore import QtMsgType, qInstallMessageHandler

#: Printed once per window by the offscreen platform (headless runs, CI); harmless.
_NOISE = ("does not support propagateSizeHints",)


def quiet_platform_noise() -> None:
    """Install a Qt message handler that drops known-harmless platform lines."""

    def handler(_kind: QtMsgType, _context: object, message: str) -> None:
        if any(noise in message for noise in _NOISE):
            return
        print(message, file=sys.stderr)

    qInstallMessageHandler(handler)
