"""The window keeps the local Ray its first job starts (10-15 s on 2 cores) for the jobs after
it, and stops it when it closes; the command line starts and stops one per job. Run in a fresh
interpreter: the other Ray tests share one session-wide Ray, which a job never owns."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("ray", reason='Ray Data is not installed (pip install "genaug-desktop[ray]")')

SCRIPT = textwrap.dedent("""
    import os, time
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ.pop("RAY_ADDRESS", None)
    import ray
    from genaug_desktop.core.engine import Engine
    from genaug_desktop.core.engine import ray_data

    engine = Engine("ray", workers=1)
    with ray_data.RaySession(engine) as first:
        assert first.owned
    assert not ray.is_initialized(), "by default a job stops the Ray it started"

    ray_data.keep_local_ray(True)
    with ray_data.RaySession(engine):
        pass
    assert ray.is_initialized(), "kept for the next job"
    t0 = time.perf_counter()
    with ray_data.RaySession(engine) as again:
        assert not again.owned
    assert time.perf_counter() - t0 < 1.0, "the next job starts at once"
    ray_data.stop_local_ray()
    assert not ray.is_initialized()
    ray_data.stop_local_ray()  # nothing kept: no error
    print("ok")
""")


@pytest.mark.slow
def test_a_kept_local_ray_serves_the_next_job_and_stops_on_request() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
