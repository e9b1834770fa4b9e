"""Ray engine tests: the modules that need Ray Data (the ``ray`` extra) skip with the reason
when it is not installed (``pytest.importorskip`` at their top); test_ray_missing.py runs
either way. One local Ray (``num_cpus=2``) serves the whole session; the jobs find it already
running and leave it running."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
from PIL import Image

from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store import init_project_job

RAY_MISSING = 'Ray Data is not installed (pip install "genaug-desktop[ray]")'


@pytest.fixture(scope="session")
def ray_session():
    ray = pytest.importorskip("ray", reason=RAY_MISSING)
    pytest.importorskip("ray.data", reason=RAY_MISSING)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield ray
    ray.shutdown()


def make_images(root, counts: dict[str, int], size: tuple[int, int] = (24, 20), seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for label, n in counts.items():
        (root / label).mkdir(parents=True)
        for i in range(n):
            arr = (rng.random((size[1], size[0], 3)) * 255).astype(np.uint8)
            arr[: size[1] // 2] //= 3  # some structure, so perceptual hashes differ between images
            Image.fromarray(arr).save(root / label / f"{i}.png")


@pytest.fixture()
def image_project(tmp_path):
    root = tmp_path / "shapes"
    make_images(root, {"circle": 12, "square": 8})
    p = run_job(init_project_job(str(tmp_path / "p.genaug"), str(root)))
    yield p
    p.close()


def interrupt_when(proc, ready, timeout: float = 120) -> tuple[str, str]:
    """Send Ctrl+C (SIGINT) to *proc* once ``ready()`` is true; its (stdout, stderr). Fails
    when *proc* ends first; kills it if it does not end after the interrupt."""
    import signal
    import subprocess
    import time

    deadline = time.monotonic() + timeout
    try:
        while not ready() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the command ended before it could be interrupted"
        assert ready(), "the command was never ready to be interrupted"
        proc.send_signal(signal.SIGINT)
        return proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        raise AssertionError("the command did not stop after Ctrl+C") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.fixture()
def interrupt():
    """:func:`interrupt_when`, for the tests that press Ctrl+C on a real ``genaug`` command."""
    return interrupt_when
