"""Foundation GUI figures (issue 2, point 9), each side by side with its reference in one run.

    python benchmarks/bench_gui.py cold-start [--repeat 7]
    python benchmarks/bench_gui.py open DATASET [--seconds 30]      # e.g. 100,000 PNGs
    python benchmarks/bench_gui.py turns DATASET [--seconds 3] [--top 8] [--profile N]
    python benchmarks/bench_gui.py thumbs DATASET [--count 5000]

cold-start  wall time from process launch to the first painted window: the app (welcome page)
            vs a bare script that imports PySide6 and shows an empty QMainWindow (target <= 1.5x).
open        open a big folder in the real window: scan finished, first visible thumbnails
            painted, the longest GUI event-loop stall (a 5 ms QTimer probe) while scanning and
            while scrolling with thumbnails loading, every stall over 50 ms with the CPU time the GUI
            thread and the whole process got inside it (GUI CPU ~ wall: its own work; process CPU ~
            wall with little GUI CPU: waiting for the GIL; both low: not scheduled), peak RSS of the
            app and of its workers. The window has painted once before the open (a running
            window); --before-first-paint opens first, as `genaug-desktop DATASET` does.
turns       a per-turn profile of the same open: the longest event-loop turns and what ran in
            them (the window's build stages, panels built, actions adopted, the GUI thread's CPU time;
            --profile N: the N functions with the most cumulative time in each turn over 30 ms,
            from a cProfile of that turn, which slows it down).
thumbs      thumbnail throughput of ThumbnailCache (process pool + QImage) vs bare Pillow
            decode+thumbnail in a multiprocessing pool with the same number of processes.

Runs offscreen (QT_QPA_PLATFORM=offscreen) with settings in a temporary folder. Python's bytecode
cache is kept (a user's installed app has it); the first, cache-warming launch is not counted.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
ENV.pop("PYTHONDONTWRITEBYTECODE", None)

# The clock stops after the window's first paint: the main window's first paintEvent schedules a
# zero timer, which runs once that paint (its children's included) is done. (A zero timer started
# right after show() runs before any paint: it measured the time to the first loop turn.)
BARE = r"""
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
class Window(QMainWindow):
    painted = False
    def paintEvent(self, event):
        super().paintEvent(event)
        if not self.painted:
            self.painted = True
            QTimer.singleShot(0, done)
def done():
    print("PAINTED", time.time(), flush=True); app.quit()
w = Window(); w.resize(1280, 800); w.show()
app.exec()
"""

OURS = r"""
import sys, time
from genaug_desktop import app
from genaug_desktop.gui import main_window as mw
_paint = mw.MainWindow.paintEvent
def paintEvent(self, event):
    if not getattr(self, "_bench_painted", False):
        # Queued before the window's own after-the-first-paint work, so that is not counted.
        self._bench_painted = True
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        def done():
            print("PAINTED", time.time(), flush=True); QApplication.quit()
        QTimer.singleShot(0, done)
    _paint(self, event)
mw.MainWindow.paintEvent = paintEvent
app.main([])
loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'nlpaug', 'numpy', 'PIL', 'cv2'))
print("HEAVY", ",".join(m for m in loaded if '.' not in m), flush=True)
"""


def _launch(code: str, settings: str) -> tuple[float, str]:
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={**ENV, "GENAUG_SETTINGS_DIR": settings},
    )
    painted = next((line for line in out.stdout.splitlines() if line.startswith("PAINTED")), None)
    if painted is None:
        raise RuntimeError(f"no paint: {out.stdout}\n{out.stderr}")
    heavy = next((line[6:] for line in out.stdout.splitlines() if line.startswith("HEAVY")), "")
    return float(painted.split()[1]) - t0, heavy


def cold_start(repeat: int) -> dict[str, object]:
    settings = tempfile.mkdtemp(prefix="genaug-settings-")
    _launch(BARE, settings)
    _launch(OURS, settings)  # warm the bytecode cache, as an installed app has it
    bare, ours, heavy = [], [], ""
    for _ in range(repeat):  # interleaved, so load on the machine hits both alike
        bare.append(_launch(BARE, settings)[0])
        t, heavy = _launch(OURS, settings)
        ours.append(t)
    b, o = statistics.median(bare), statistics.median(ours)
    return {
        "bare_qmainwindow_ms": round(b * 1000), "genaug_desktop_ms": round(o * 1000), "ratio": round(o / b, 2),
        "target_ratio": 1.5, "repeat": repeat, "heavy_modules_loaded_at_start": heavy or "none",
    }


def _settle(app: object, seconds: float) -> None:
    """Run the event loop for *seconds* (the window paints and does what follows its first paint)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.005)


def open_dataset(path: str, seconds: float, before_first_paint: bool = False) -> dict[str, object]:
    import psutil
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    import genaug_desktop.gui  # noqa: F401  (compat shims)
    from genaug_desktop.gui.main_window import MainWindow

    os.environ["GENAUG_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="genaug-settings-")
    sys.setswitchinterval(0.001)  # as app.main does
    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    if not before_first_paint:
        # A running window (the person opens from the welcome page, the menu, the recent list):
        # it has painted and had half a second, less than anyone takes to choose a dataset,
        # before the dataset opens. With --before-first-paint the dataset opens before the window
        # ever painted, as on the command line, and the first probe gap is the window's first
        # frame plus the open.
        _settle(app, 0.5)
    me = psutil.Process()
    stats: dict[str, object] = {"phase": "scan"}
    worst = {"scan": 0.0, "scroll": 0.0}
    # (at s, wall ms, GUI-thread CPU ms, process CPU ms, phase) of every stall over 50 ms. The CPU
    # the GUI thread got inside a stall tells its own work (CPU ~ wall) from waiting: with the
    # process's CPU high too, for the GIL (another thread of the app ran); with both low, to be
    # scheduled at all (2 shared cores: other people's work).
    long_turns: list[tuple[float, float, float, float, str]] = []
    worst_cpu = {"scan": 0.0, "scroll": 0.0}
    peak = {"main": 0, "workers": 0}
    last = [time.perf_counter()]
    last_cpu = [time.thread_time()]
    last_proc = [time.process_time()]
    t0 = time.perf_counter()

    def probe() -> None:
        now, cpu, proc = time.perf_counter(), time.thread_time(), time.process_time()
        gap, last[0] = now - last[0], now
        gap_cpu, last_cpu[0] = cpu - last_cpu[0], cpu
        gap_proc, last_proc[0] = proc - last_proc[0], proc
        phase = str(stats["phase"])
        if gap > 0.05:
            long_turns.append((round(now - gap - t0, 3), round(gap * 1000, 1), round(gap_cpu * 1000, 1),
                               round(gap_proc * 1000, 1), phase))
        if phase in worst and gap > worst[phase]:
            worst[phase] = gap
            stats[f"worst_{phase}_at_s"] = round(now - t0, 2)
        if phase in worst_cpu and gap_cpu > worst_cpu[phase]:
            worst_cpu[phase] = gap_cpu
        # (window.grid would build the workspace at once: the probe looks only once it is there)
        grid = window.grid if window.has_workspace else None
        if ("first_thumbs_s" not in stats and grid is not None and window.session.thumbnails.decoded > 0
                and grid.pending_visible_thumbnails() == 0):
            stats["first_thumbs_s"] = round(now - t0, 2)
        state = window.session.state
        if "scan_s" not in stats and state is not None and state.loaded:
            stats["scan_s"] = round(now - t0, 2)
            stats["phase"] = "scroll"

    def sample_memory() -> None:
        peak["main"] = max(peak["main"], me.memory_info().rss)
        try:
            kids = sum(c.memory_info().rss for c in me.children(recursive=True))
        except psutil.Error:
            kids = 0
        peak["workers"] = max(peak["workers"], kids)

    def scroll() -> None:
        if stats["phase"] == "scroll" and window.has_workspace:
            bar = window.grid.view.verticalScrollBar()
            bar.setValue(bar.value() + 600)

    probe_timer = QTimer()
    probe_timer.timeout.connect(probe)
    probe_timer.start(5)
    mem_timer = QTimer()
    mem_timer.timeout.connect(sample_memory)
    mem_timer.start(200)
    scroll_timer = QTimer()
    scroll_timer.timeout.connect(scroll)
    scroll_timer.start(100)
    window.open_path(path)
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    for t in (probe_timer, mem_timer, scroll_timer):
        t.stop()
    result = {
        "items": window.session.items.rowCount(),
        "scan_s": stats.get("scan_s"), "target_scan_s": 10,
        "first_visible_thumbnails_s": stats.get("first_thumbs_s"), "target_first_thumbnails_s": 1.0,
        "worst_stall_while_scanning_ms": round(worst["scan"] * 1000, 1),
        "worst_stall_while_scrolling_ms": round(worst["scroll"] * 1000, 1), "target_stall_ms": 50,
        "worst_stall_while_scanning_at_s": stats.get("worst_scan_at_s"),
        "worst_gui_cpu_in_one_gap_scanning_ms": round(worst_cpu["scan"] * 1000, 1),
        "worst_gui_cpu_in_one_gap_scrolling_ms": round(worst_cpu["scroll"] * 1000, 1),
        "stalls_over_50ms": [f"{ms} ms wall (CPU: GUI thread {cpu} ms, process {proc} ms) at {at} s ({phase})"
                             for at, ms, cpu, proc, phase in long_turns],
        "load_average_1min": round(os.getloadavg()[0], 2),
        "thumbnails_decoded": window.session.thumbnails.decoded,
        "peak_rss_app_mb": round(peak["main"] / 2**20), "peak_rss_workers_mb": round(peak["workers"] / 2**20),
        "target_rss_mb": 800,
        "opened_before_first_paint": before_first_paint,
    }
    window.shutdown()
    window.close()
    return result


def _profile_text(prof: cProfile.Profile, lines: int) -> str:
    """The *lines* functions with the most cumulative time in one turn (the event loop's own
    frames left out)."""
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(lines + 4)
    body = out.getvalue().splitlines()
    rows = [line for line in body if line.strip() and line.strip()[0].isdigit() and "processEvents" not in line]
    return "\n".join("        " + r.strip() for r in rows[:lines])


def turns(path: str, seconds: float, top: int, before_first_paint: bool, profile: int = 0) -> dict[str, object]:
    """Per-turn profile of opening *path*: the event loop is run by hand (one processEvents call
    per turn), each turn timed, with the window's build stages, panel builds and action adoption
    that ran in it, so the worst turn can be named."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    import genaug_desktop.gui  # noqa: F401
    from genaug_desktop.gui import curation, generator_panel, lazy
    from genaug_desktop.gui.main_window import MainWindow

    os.environ["GENAUG_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="genaug-settings-")
    sys.setswitchinterval(0.001)
    app = QApplication.instance() or QApplication([])
    events: list[tuple[float, str, float]] = []

    def timed(cls: type, name: str, label: str) -> None:
        real = getattr(cls, name)

        def run(self: object, *args: object) -> object:
            start = time.perf_counter()
            try:
                return real(self, *args)
            finally:
                what = f"{label}:{args[0]}" if label == "stage" and args else label
                events.append((start, what, (time.perf_counter() - start) * 1000))

        setattr(cls, name, run)

    timed(MainWindow, "_run_stage", "stage")
    timed(MainWindow, "_adopt_workspace_actions", "adopt actions")
    timed(MainWindow, "_make_session", "session")
    timed(lazy.LazyPanel, "ensure", "lazy panel")
    timed(curation.CurationWorkspace, "_build_review", "review panel")
    timed(generator_panel.GeneratorWorkspace, "_make_panel", "generator panel")
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    if not before_first_paint:
        _settle(app, 0.5)
    spans: list[tuple[float, float, str]] = []
    cpu_ms: dict[float, float] = {}  # turn start -> the GUI thread's CPU time in it
    profiles: dict[float, str] = {}  # turn start -> its profile (with --profile, turns over 30 ms)
    start = time.perf_counter()
    window.open_path(path)
    spans.append((start, time.perf_counter(), "open_path"))
    end = start + seconds
    while time.perf_counter() < end:
        t, c = time.perf_counter(), time.thread_time()
        prof = cProfile.Profile() if profile else None
        if prof is not None:
            prof.enable()
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
        if prof is not None:
            prof.disable()
        spans.append((t, time.perf_counter(), ""))
        cpu_ms[t] = (time.thread_time() - c) * 1000
        if prof is not None and spans[-1][1] - t > 0.03:
            profiles[t] = _profile_text(prof, profile)
        if spans[-1][1] - t < 0.004:
            time.sleep(0.004)  # an idle loop, not a busy one
    worst = sorted(spans, key=lambda s: s[0] - s[1])[:top]
    rows = []
    for t, e, label in sorted(worst):
        inside = [f"{what} {ms:.1f} ms" for at, what, ms in events if t <= at <= e and ms >= 1]
        cpu = f"(GUI-thread CPU {cpu_ms[t]:.1f} ms)" if t in cpu_ms else ""
        rows.append(f"{(t - start) * 1000:7.0f} ms: {(e - t) * 1000:6.1f} ms {cpu} {label} {'; '.join(inside)}".rstrip())
        if t in profiles:
            rows.append(profiles[t])
    stages = [f"{what} {ms:.1f} ms at {(at - start) * 1000:.0f} ms" for at, what, ms in events if what.startswith("stage")]
    result = {
        "load_average_1min": round(os.getloadavg()[0], 2), "turns": len(spans),
        "turns_over_30ms": sum(1 for t, e, _ in spans if e - t > 0.03),
        "turns_over_50ms": sum(1 for t, e, _ in spans if e - t > 0.05),
        "worst_turns": rows, "stages": stages,
        "panels_built": [f"{what} {ms:.1f} ms" for _at, what, ms in events if "panel" in what],
    }
    window.shutdown()
    window.close()
    return result


def _bare_batch(paths: list[str], size: int) -> list[tuple[int, int, str, bytes]]:
    from PIL import Image

    out = []
    for p in paths:
        with Image.open(p) as img:
            img.thumbnail((size, size))
            rgb = img.convert("RGB")
            out.append((rgb.width, rgb.height, rgb.mode, rgb.tobytes()))
    return out


def thumbs(path: str, count: int) -> dict[str, object]:
    import concurrent.futures as cf
    import multiprocessing

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    import genaug_desktop.gui  # noqa: F401
    from genaug_desktop.gui.thumbnails import ThumbnailCache

    paths: list[str] = []
    for dirpath, _dirs, files in os.walk(path):
        paths.extend(os.path.join(dirpath, f) for f in sorted(files))
        if len(paths) >= count:
            break
    paths = paths[:count]
    for p in paths:  # page cache warm for both
        with open(p, "rb") as fh:
            fh.read()
    workers = os.cpu_count() or 1
    size = 128

    # Bare Pillow, same processes, batches of 64.
    ctx = multiprocessing.get_context("forkserver")
    with cf.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        list(pool.map(time.sleep, [0.01] * workers))  # processes up before timing
        t0 = time.perf_counter()
        batches = [paths[i : i + 64] for i in range(0, len(paths), 64)]
        n = sum(len(r) for r in pool.map(_bare_batch, batches, [size] * len(batches)))
        bare_s = time.perf_counter() - t0
    assert n == len(paths)

    app = QApplication.instance() or QApplication([])
    cache = ThumbnailCache(workers=workers)
    done = {"n": 0}

    def got(keys: list[object]) -> None:
        done["n"] += len(keys)
        if done["n"] >= len(paths):
            app.quit()

    cache.thumbnails_ready.connect(got)
    cache.thumbnail_failed.connect(lambda *_: got([None]))
    cache.warm_up()
    # Wait until the pool is up, so both sides are timed from ready processes.
    while cache._pool is None:  # noqa: SLF001 (benchmark)
        app.processEvents()
        time.sleep(0.005)
    t0 = time.perf_counter()
    cache.request(paths, size)
    QTimer.singleShot(600_000, app.quit)
    app.exec()
    ours_s = time.perf_counter() - t0
    cache.shutdown()
    return {
        "files": len(paths), "processes": workers, "size": size,
        "bare_pillow_per_s": round(len(paths) / bare_s), "thumbnail_cache_per_s": round(len(paths) / ours_s),
        "ratio": round(bare_s / ours_s, 2), "target_ratio": 0.8,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("cold-start")
    c.add_argument("--repeat", type=int, default=7)
    o = sub.add_parser("open")
    o.add_argument("dataset")
    o.add_argument("--seconds", type=float, default=30)
    o.add_argument("--before-first-paint", action="store_true",
                   help="open before the window has painted once (the command-line flow)")
    u = sub.add_parser("turns")
    u.add_argument("dataset")
    u.add_argument("--seconds", type=float, default=3)
    u.add_argument("--top", type=int, default=8)
    u.add_argument("--before-first-paint", action="store_true")
    u.add_argument("--profile", type=int, default=0, metavar="N",
                   help="profile each turn; list the N most expensive calls of every turn over 30 ms")
    t = sub.add_parser("thumbs")
    t.add_argument("dataset")
    t.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if args.what == "cold-start":
        result = cold_start(args.repeat)
    elif args.what == "open":
        result = open_dataset(args.dataset, args.seconds, args.before_first_paint)
    elif args.what == "turns":
        result = turns(args.dataset, args.seconds, args.top, args.before_first_paint, args.profile)
    else:
        result = thumbs(args.dataset, args.count)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
