"""Window start-up, this checkout against an earlier commit, interleaved in one run.

    python benchmarks/bench_startup_ab.py --base REV [--runs 15]

For each of --runs rounds, a fresh interpreter of each tree (REV exported with ``git archive``
into a temporary folder; this working tree) imports the main window, builds it, shows it and
paints it once offscreen, and reports those three times. Interleaving puts the same machine load
on both sides; the minimum over the rounds is the figure least moved by other processes, the
median is printed beside it. Use it to see what a change to the window costs at start-up (the
toolbar icons, say), next to ``bench_gui.py cold-start``'s ratio to a bare QMainWindow.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
t1 = time.perf_counter()
from genaug_desktop.gui.main_window import MainWindow
t2 = time.perf_counter()
stamp = []
_paint = MainWindow.paintEvent
def paintEvent(self, event):
    # The clock stops once the first paint (children included) is done: a zero timer queued at
    # the window's first paintEvent, ahead of whatever the window itself does after its paint.
    if not stamp:
        stamp.append(None)
        QTimer.singleShot(0, lambda: (stamp.append(time.perf_counter()), app.quit()))
    _paint(self, event)
MainWindow.paintEvent = paintEvent
window = MainWindow()
window.resize(1280, 800)
t3 = time.perf_counter()
window.show()
app.exec()
t4 = stamp[-1]
print("TIMES", (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t4 - t3) * 1e3, (t4 - t1) * 1e3)
window.close()
"""
PARTS = ("import", "construct", "show_and_paint", "total")


def export_tree(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    into.mkdir(parents=True)
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def probe(tree: Path, settings: str) -> list[float]:
    # -c puts the working directory first on sys.path, ahead of the editable install: each tree
    # imports its own genaug_desktop.
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GENAUG_SETTINGS_DIR": settings}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tree, env=env, capture_output=True, text=True,
                         timeout=120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("TIMES")), None)
    if line is None:
        raise RuntimeError(f"the probe failed in {tree}:\n{out.stderr[-2000:]}")
    return [float(v) for v in line.split()[1:]]


def summary(rows: list[list[float]]) -> dict[str, dict[str, float]]:
    columns = list(zip(*rows))
    return {part: {"min_ms": round(min(col), 1), "median_ms": round(statistics.median(col), 1)}
            for part, col in zip(PARTS, columns)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare with (e.g. HEAD~3)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="genaug-ab-") as tmp:
        base = export_tree(args.base, Path(tmp) / "base")
        settings = str(Path(tmp) / "settings")
        probe(base, settings), probe(ROOT, settings)  # warm the bytecode caches; not counted
        rows: dict[str, list[list[float]]] = {"base": [], "this": []}
        for _ in range(args.runs):
            rows["base"].append(probe(base, settings))
            rows["this"].append(probe(ROOT, settings))
    result = {"base": args.base, "runs": args.runs, "load_average": os.getloadavg()[0],
              **{name: summary(r) for name, r in rows.items()}}
    result["ratio_of_min_total"] = round(result["this"]["total"]["min_ms"] / result["base"]["total"]["min_ms"], 3)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
