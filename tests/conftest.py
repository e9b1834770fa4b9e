"""Shared test setup: Qt runs offscreen unless --headed is given."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--headed", action="store_true", help="show Qt windows on the real display")


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("--headed"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    # Never let a library reach for the network from a test.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("NLTK_DATA", os.path.join(os.path.dirname(__file__), "_no_nltk_data"))
