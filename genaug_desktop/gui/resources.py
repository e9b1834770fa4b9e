"""Where the bundled resources (sample datasets, icons) live, installed or in a source checkout.

``importlib.util.find_spec`` rather than ``importlib.resources``: the latter costs noticeable
startup time for what is, in every supported install, a folder on disk.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def resource_dir() -> Path:
    """The ``resources/`` folder: the ``genaug_desktop.resources`` package when installed, else the
    checkout's top-level ``resources/`` (running from the source tree before ``pip install -e``)."""
    try:
        spec = importlib.util.find_spec("genaug_desktop.resources")
    except (ImportError, ValueError):
        spec = None
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if os.path.isdir(os.path.join(location, "sample")):
            return Path(location)
    return Path(__file__).resolve().parents[2] / "resources"


def sample_images_dir() -> Path:
    return resource_dir() / "sample" / "images"


def sample_texts_file() -> Path:
    return resource_dir() / "sample" / "texts" / "reviews.csv"


def app_icon_path(size: int = 256) -> Path | None:
    """The PNG app icon of *size* pixels, or None when the resources do not ship it."""
    path = resource_dir() / "icons" / f"genaug-{size}.png"
    return path if path.is_file() else None
