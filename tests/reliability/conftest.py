"""Fixtures for the reliability tests: a real image project and text project, built once per
module through the command line (the way a user makes them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import genaug, image_tree, text_csv

LIGHT_IMAGE_POLICY = (
    '{"schema_version": 1, "modality": "image", "preprocess": [], "steps": '
    '[{"op": "hflip", "p": 0.5}, {"op": "brightness", "p": 1.0, "params": {}}]}'
)
TEXT_POLICY = '{"schema_version": 1, "modality": "text", "preprocess": [], "steps": [{"op": "random_word_delete", "p": 1.0}]}'


@pytest.fixture(scope="module")
def image_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("imgproj")
    data = image_tree(base / "data", {"cat": 3, "dog": 3})
    proc = genaug("init", str(base / "p.genaug"), str(data))
    assert proc.returncode == 0, proc.stderr
    return base / "p.genaug"


@pytest.fixture(scope="module")
def text_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("txtproj")
    data = text_csv(base / "reviews.csv", 12)
    proc = genaug("init", str(base / "t.genaug"), str(data))
    assert proc.returncode == 0, proc.stderr
    return base / "t.genaug"
