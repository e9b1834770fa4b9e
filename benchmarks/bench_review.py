"""From key press to persisted decision (issue 5, point 9: target under 20 ms).

    python benchmarks/bench_review.py [--presses 400] [--candidates 1000] [--modality text|image|both]
                                      [--out benchmarks/results/review.md]

The real review panel (``gui.review.ReviewPanel``) runs offscreen on a project made for the run
(text: real items from the bundled sample plus one-word variants; image: 64 px PNG blobs). For
each key press (A or R, alternating, with a Space every fifth press to skip a card) the clock
starts just before ``QTest.keyClick`` on the grid and stops when a separate ``sqlite3``
connection (what another process, or the app after a kill, would read) sees the candidate's new
status. Between presses the event loop runs, so painting, the compare view's background decode
and thumbnail deliveries compete with the next press as they would in use.

Reported per modality: median, p90, p99 and max of key-press-to-commit, and of ``Project.decide``
alone (the SQLite transaction with synchronous=FULL, i.e. the fsync), so the GUI's share is
visible. Run it on the disk the projects will live on: the commit is an fsync.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLE_TEXTS = ROOT / "resources" / "sample" / "texts" / "reviews.csv"
SAMPLE_IMAGES = ROOT / "resources" / "sample" / "images"


def make_project(where: Path, modality: str, count: int) -> Path:
    """A project over the bundled sample with *count* pending candidates."""
    from genaug_desktop.core.jobs import run_job
    from genaug_desktop.core.store.blobs import write_blob
    from genaug_desktop.core.store.project import init_project_job

    dataset = SAMPLE_TEXTS if modality == "text" else SAMPLE_IMAGES
    path = where / f"bench_{modality}.genaug"
    project = run_job(init_project_job(str(path), str(dataset)))
    items = project.items()
    rows = []
    if modality == "text":
        for k in range(count):
            item = items[k % len(items)]
            words = (item.text or "").split()
            if words:
                words[k % len(words)] = words[k % len(words)].upper()
            rows.append({"origin": "augmentation", "source": item.key, "label": item.label, "text": " ".join(words),
                         "provenance": {"ops": [{"op": "bench", "params": {"k": k}}]}})
    else:
        from PIL import Image, ImageDraw

        items = [i for i in items if i.width]
        for k in range(count):
            item = items[k % len(items)]
            img = Image.new("RGB", (64, 64), (k * 7 % 255, k * 13 % 255, k * 29 % 255))
            ImageDraw.Draw(img).ellipse((8 + k % 8, 8, 56, 56), fill=(255 - k % 255, 200, 60))
            buf = io.BytesIO()
            img.save(buf, "PNG")
            sha = write_blob(project.blobs_dir, buf.getvalue(), fsync=False)
            rows.append({"origin": "augmentation", "source": item.key, "label": item.label, "blob": sha,
                         "provenance": {"ops": [{"op": "bench", "params": {"k": k}}]}})
    project.add_candidates(rows)
    project.close()
    return path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1)))))
    return ordered[k]


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "p90": percentile(values, 90), "p99": percentile(values, 99),
            "max": max(values), "n": len(values)}


def run(modality: str, presses: int, count: int, workdir: Path) -> dict[str, dict[str, float]]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from genaug_desktop.core.store.project import Project
    from genaug_desktop.gui.review import ReviewPanel
    from genaug_desktop.gui.review_models import CandidateIdRole
    from genaug_desktop.gui.thumbnails import ThumbnailCache

    app = QApplication.instance() or QApplication([])
    path = make_project(workdir, modality, count)
    project = Project.open(str(path))
    commit_ms: list[float] = []
    decide = project.decide

    def timed_decide(*args, **kwargs):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return decide(*args, **kwargs)
        finally:
            commit_ms.append((time.perf_counter() - t) * 1000)

    project.decide = timed_decide  # type: ignore[method-assign]
    cache = ThumbnailCache(workers=2)
    panel = ReviewPanel(cache)
    panel.resize(1280, 800)
    panel.show()
    panel.set_project(project)

    def pump(until, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
        end = time.monotonic() + timeout
        while not until() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.002)

    pump(lambda: panel.is_settled() and panel.model.rowCount() == count)
    pump(lambda: cache.pending() == 0, 10)
    panel.activateWindow()
    panel.view.setFocus()
    reader = sqlite3.connect(str(path / "project.sqlite"), isolation_level=None)
    latencies: list[float] = []
    done = 0
    for n in range(presses + presses // 4):
        if done >= presses or panel.view.currentIndex().row() >= count - 1:
            break
        if n % 5 == 4:
            QTest.keyClick(panel.view, Qt.Key.Key_Space)
            app.processEvents()
            continue
        candidate = panel.view.currentIndex().data(CandidateIdRole)
        key, status = (Qt.Key.Key_A, "accepted") if done % 2 == 0 else (Qt.Key.Key_R, "rejected")
        t0 = time.perf_counter()
        QTest.keyClick(panel.view, key)
        while reader.execute("SELECT status FROM candidates WHERE id = ?", (candidate,)).fetchone()[0] != status:
            if time.perf_counter() - t0 > 5:
                raise RuntimeError(f"candidate {candidate} was not {status} within 5 s")
        latencies.append((time.perf_counter() - t0) * 1000)
        done += 1
        # Let the window do what it does between presses (paint, compare view, thumbnails), as a
        # person's ~100-300 ms between keys would; the next press may still meet some of it.
        end = time.perf_counter() + 0.03
        while time.perf_counter() < end:
            app.processEvents()
    reader.close()
    panel.shutdown()
    cache.shutdown()
    project.close()
    panel.deleteLater()
    app.processEvents()
    return {"key press -> committed (ms)": summary(latencies), "Project.decide alone (ms)": summary(commit_ms)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presses", type=int, default=400)
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--modality", choices=("text", "image", "both"), default="both")
    parser.add_argument("--dir", help="where to make the projects (default: a temporary folder; the disk matters)")
    parser.add_argument("--out", help="write a Markdown table here")
    args = parser.parse_args(argv)
    import genaug_desktop.gui  # noqa: F401  (PySide6 compatibility fix first)

    modalities = ("text", "image") if args.modality == "both" else (args.modality,)
    results = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for modality in modalities:
            results[modality] = run(modality, args.presses, max(args.candidates, args.presses * 2), Path(tmp))
    lines = [
        "# Review: from key press to persisted decision",
        "",
        f"`python benchmarks/bench_review.py --presses {args.presses} --candidates {args.candidates}` · "
        f"{platform.system()} {platform.machine()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · "
        f"offscreen · SQLite WAL, synchronous=FULL · target: under 20 ms",
        "",
        "| modality | measure | n | median | p90 | p99 | max |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for modality, measures in results.items():
        for name, s in measures.items():
            lines.append(f"| {modality} | {name} | {int(s['n'])} | {s['median']:.2f} | {s['p90']:.2f} | "
                         f"{s['p99']:.2f} | {s['max']:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
