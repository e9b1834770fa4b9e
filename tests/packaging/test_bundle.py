"""Smoke test of the PyInstaller bundle (packaging/build.sh): it starts offscreen and saves a screenshot.

Skipped unless dist/genaug-desktop/genaug-desktop exists, or GENAUG_BUILD_BUNDLE=1 (which builds it
first: about 25 s and 400 MB on a 2-core machine).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "genaug-desktop" / "genaug-desktop"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle() -> Path:
    if os.environ.get("GENAUG_BUILD_BUNDLE") == "1":
        env = {**os.environ, "PYTHON": sys.executable}
        subprocess.run(["bash", str(ROOT / "packaging" / "build.sh")], cwd=ROOT, env=env, check=True, timeout=900)
    if not BUNDLE.is_file():
        pytest.skip(f"no bundle at {BUNDLE.relative_to(ROOT)}: run packaging/build.sh or set GENAUG_BUILD_BUNDLE=1")
    return BUNDLE


def _run(bundle: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", GENAUG_SETTINGS_DIR=str(tmp_path / "settings"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), HOME=str(tmp_path))
    return subprocess.run([str(bundle), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def _assert_non_blank_png(path: Path) -> None:
    from PIL import Image

    assert path.is_file(), f"no screenshot at {path}"
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width >= 640 and image.height >= 400
        lo, hi = image.convert("L").getextrema()
        assert hi - lo > 50, "the screenshot is blank"
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is None or len(colours) > 50, "the screenshot has almost no content"


def test_bundle_starts_and_saves_a_screenshot_of_the_sample(bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    result = _run(bundle, tmp_path, "--demo", "--screenshot", str(out))
    assert result.returncode == 0, result.stderr
    _assert_non_blank_png(out)


def test_bundle_starts_on_the_welcome_page(bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "welcome.png"
    result = _run(bundle, tmp_path, "--screenshot", str(out))
    assert result.returncode == 0, result.stderr
    _assert_non_blank_png(out)


def test_bundle_reports_a_missing_dataset(bundle: Path, tmp_path: Path) -> None:
    result = _run(bundle, tmp_path, str(tmp_path / "missing"), "--screenshot", str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert "error" in result.stderr
