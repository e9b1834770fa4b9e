"""Cancelling while Ray is starting (``ray.init``, 10-15 s on 2 cores): the job stops with a clear
message as soon as ``ray.init`` returns, before any work is sent, and the Ray it started is shut
down (no Ray process left); Ctrl+C is held back until then.
Each test runs in a fresh interpreter: the other Ray tests share one session-wide Ray, which a
job never starts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("ray.data", reason='Ray Data is not installed (pip install "genaug-desktop[ray]")')

POLICY = str(Path(__file__).resolve().parents[1] / "data" / "policies" / "image_light_v1.json")

#: the end of each script: every process Ray started (pids in ``seen``) is gone
NO_RAY_LEFT = """
deadline = time.monotonic() + 20
while any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in seen):
    assert time.monotonic() < deadline, "Ray processes left running"
    time.sleep(0.2)
print("ok")
"""

SCRIPT = textwrap.dedent("""
    import os, threading, time
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ.pop("RAY_ADDRESS", None)
    import psutil, ray
    from genaug_desktop.core.engine import Engine
    from genaug_desktop.core.engine.ray_data import START_CANCELLED, RaySession
    from genaug_desktop.core.jobs import CancelToken, Cancelled

    cancel = CancelToken()
    seen = set()

    def watch():  # cancel once Ray's own processes exist, i.e. in the middle of ray.init
        while not cancel.cancelled:
            kids = psutil.Process().children(recursive=True)
            seen.update(k.pid for k in kids)
            if any(k.name() in ("gcs_server", "raylet") for k in kids):
                cancel.cancel()
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    try:
        with RaySession(Engine("ray", workers=1), cancel):
            raise SystemExit("not cancelled")
    except Cancelled as exc:
        assert str(exc) == START_CANCELLED, exc
    assert cancel.cancelled and not ray.is_initialized()
""") + NO_RAY_LEFT


@pytest.mark.slow
def test_cancel_while_ray_starts_stops_the_job_and_shuts_that_ray_down() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), (done.stdout[-1000:], done.stderr[-2000:])


@pytest.mark.slow
def test_ctrl_c_while_ray_starts_ends_the_command_with_one_line(tmp_path, interrupt) -> None:
    import psutil

    from genaug_desktop.cli import main
    from genaug_desktop.core.engine.ray_data import START_CANCELLED

    from PIL import Image

    data = tmp_path / "data" / "a"
    data.mkdir(parents=True)
    for i in range(4):
        Image.new("RGB", (16, 16), (i * 40, 0, 0)).save(data / f"{i}.png")
    project = tmp_path / "p.genaug"
    assert main(["init", str(project), str(data.parent)]) == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "genaug_desktop.cli", "augment", str(project), "--policy", POLICY, "--engine", "ray",
         "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    seen: set[int] = set()

    def ray_starting() -> bool:
        kids = psutil.Process(proc.pid).children(recursive=True)
        seen.update(k.pid for k in kids)
        return any(k.name() in ("gcs_server", "raylet") for k in kids)

    out, err = interrupt(proc, ray_starting)
    assert proc.returncode == 130, (out, err)
    assert [line for line in err.splitlines() if line.strip()] == [f"genaug augment: {START_CANCELLED}"]
    exec(NO_RAY_LEFT, {"psutil": psutil, "time": time, "seen": seen})  # the Ray started for the command is gone
    with __import__("sqlite3").connect(f"file:{project / 'project.sqlite'}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT COUNT(*) FROM candidates").fetchone()[0] == 0


GUI_SCRIPT = textwrap.dedent("""
    import os, sys, time
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.pop("RAY_ADDRESS", None)
    import psutil, ray
    import genaug_desktop.gui  # the PySide6 compatibility fix first
    from PySide6.QtCore import QCoreApplication, QTimer
    from genaug_desktop.core.engine import ray_data
    from genaug_desktop.core.export import ExportOptions, export_job
    from genaug_desktop.core.store import Project
    from genaug_desktop.gui.worker import JobWorker

    ray_data.keep_local_ray(True)  # as the window does: still, a Ray whose start was cancelled is stopped
    project_path, out = sys.argv[1], sys.argv[2]
    app = QCoreApplication([])
    project = Project.open(project_path)
    options = ExportOptions(format="webdataset", include_originals=True, statuses=())
    worker = JobWorker(lambda token: export_job(project, options, out, cancel=token, engine="ray"), name="export")
    seen, outcome, when = set(), [], {}
    worker.aborted.connect(lambda: outcome.append("aborted"))
    worker.returned.connect(lambda _r: outcome.append("returned"))
    worker.errored.connect(lambda m: outcome.append(m))
    worker.finished.connect(app.quit)

    def watch():  # the user presses Cancel while Ray's processes are starting
        kids = psutil.Process().children(recursive=True)
        seen.update(k.pid for k in kids)
        if "abort" not in when and any(k.name() in ("gcs_server", "raylet") for k in kids):
            when["abort"] = time.monotonic()
            worker.abort()

    timer = QTimer(interval=50, timeout=watch)
    timer.start()
    worker.start()
    QTimer.singleShot(120000, app.quit)
    app.exec()
    timer.stop()
    worker.wait(30000)
    assert outcome == ["aborted"] and "abort" in when, (outcome, when)
    assert not ray.is_initialized() and not os.path.exists(out)
    assert [f for f in os.listdir(os.path.dirname(out)) if f.startswith(".out")] == []
""") + NO_RAY_LEFT


@pytest.mark.slow
def test_cancel_in_the_window_while_ray_starts_aborts_the_job(image_project, tmp_path) -> None:
    pytest.importorskip("PySide6", reason="PySide6 is not installed")
    path = image_project.path
    image_project.close()
    out = tmp_path / "exports" / "out"
    out.parent.mkdir()
    done = subprocess.run([sys.executable, "-c", GUI_SCRIPT, path, str(out)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), (done.stdout[-1000:], done.stderr[-2000:])
