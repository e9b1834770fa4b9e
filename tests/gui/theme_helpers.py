"""A fixture for tests that switch the theme: the application palette is process-wide, so each such
test puts the light theme back when it ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication


@pytest.fixture
def light_afterwards(qapp: QApplication) -> Iterator[None]:
    yield
    from genaug_desktop.gui import colors

    colors.use_dark(False)
    qapp.setStyle("Fusion")
    qapp.setPalette(qapp.style().standardPalette())
