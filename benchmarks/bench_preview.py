"""Live-preview latency of the policy editor: from a parameter edit to the 8 variant tiles painted.

Runs the real :class:`PolicyEditor` offscreen on a 512 x 512 image with a preset policy. Each edit
changes a parameter through the generated form's widgets (the same signals a person's slider or
spin box sends), and the clock stops when the preview view has painted the tiles of that edit.
The debounce is included. Three scenarios:

- ``isolated``: one edit, then a pause (a click on a spin box arrow, a typed value);
- ``drag``: five edits 16 ms apart (a slider drag at 60 Hz); measured from the last edit, so
  the 50 ms debounce is in the figure;
- ``first-step``: isolated edits of the first step with parameters, where no step before it can
  be reused (the worst case for the renderer's prefix cache).

Target (issue 3): refreshed within 150 ms of the last edit for 8 variants of a 512 px image.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_preview.py [--edits 20] [--preset image_medium] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_image(path: str, side: int = 512) -> None:
    """A photo-like test image: smooth gradients, shapes and fine noise (not a flat colour)."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    base = np.stack([200 * x + 30, 160 * y + 40, 120 * (1 - x) * y + 60], axis=-1)
    base += rng.normal(0, 6, base.shape)
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = rng.integers(0, side - 80, 2)
        size = int(rng.integers(30, 160))
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x0 + size, y0 + size), fill=color)
    img.filter(ImageFilter.GaussianBlur(1.2)).save(path)


def _step_name(step: dict[str, Any]) -> str:
    return str(step.get("op") or next(k for k in ("one_of", "some_of", "sequence") if k in step))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(len(ordered) - 1, int(k) + 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--preset", default="image_medium")
    parser.add_argument("--variants", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    sys.setswitchinterval(0.001)  # as the app does (genaug_desktop.app)
    import genaug_desktop.gui  # noqa: F401
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from genaug_desktop.core.datasets.model import Item
    from genaug_desktop.gui.param_form import NumberField, RangeField
    from genaug_desktop.gui.policy_editor import PolicyEditor, presets_dir

    app = QApplication.instance() or QApplication([])  # noqa: F841 (kept alive for the run)
    folder = tempfile.mkdtemp(prefix="bench-preview-")
    image = os.path.join(folder, "photo.png")
    make_image(image)

    editor = PolicyEditor("image")
    editor.resize(1280, 420)
    editor.show()
    editor.load_preset(os.path.join(presets_dir(), f"{args.preset}.json"))
    editor.preview.set_count(args.variants)
    view = editor.preview.view
    painted: list[float] = []
    view.tiles_painted.connect(lambda _generation: painted.append(time.perf_counter()))

    def wait_painted(count: int, timeout_s: float = 10.0) -> None:
        loop = QEventLoop()
        poll = QTimer()
        poll.setInterval(1)
        poll.timeout.connect(lambda: loop.quit() if len(painted) >= count and editor.is_settled() else None)
        poll.start()
        deadline = QTimer()
        deadline.setSingleShot(True)
        deadline.timeout.connect(loop.quit)
        deadline.start(int(timeout_s * 1000))
        loop.exec()
        poll.stop()
        deadline.stop()
        if len(painted) < count:
            raise SystemExit(f"the preview did not paint in time ({len(painted)} of {count}; {editor.preview.status_label.text()})")

    def pause(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    editor.set_item(Item("photo.png", "photo.png", "image", None, "0" * 64, os.path.getsize(image), 512, 512), image)
    wait_painted(1)

    def numeric_field(path: tuple[Any, ...]) -> Any:
        """The step's first number parameter, else its probability p (groups, ops without numbers)."""
        editor.select_path(path)
        for form in (editor.param_form, editor.step_form):
            for field in (form.fields.values() if form is not None else ()):
                if isinstance(field, (NumberField, RangeField)):
                    return field
        raise SystemExit(f"step {path} has nothing numeric to edit")

    steps = editor.document["steps"]
    middle = len(steps) // 2  # a step in the middle: the steps before it are reused
    first = 0  # the first step: nothing before it to reuse, every op runs again

    def edit(field: Any, k: int) -> None:
        # One spin-box step up, then down again: every edit changes the value.
        sign = 1 if k % 2 == 0 else -1
        if isinstance(field, RangeField):
            field.high_spin.setValue(field.value()[1] + sign * field.high_spin.singleStep())
        else:
            field.spin.setValue(field.value() + sign * field.spin.singleStep())

    def run(name: str, path: tuple[Any, ...], burst: int) -> dict[str, Any]:
        field = numeric_field(path)
        wait_painted(len(painted))  # the selection change renders nothing; settle anyway
        pause(150)
        latencies, renders = [], []
        for k in range(args.edits):
            before = len(painted)
            for j in range(burst):
                t0 = time.perf_counter()
                edit(field, k * burst + j)
                if j < burst - 1:
                    pause(16)
            wait_painted(before + 1)
            latencies.append((painted[-1] - t0) * 1000)
            result = editor.preview.last_result
            renders.append(result.seconds * 1000 if result else float("nan"))
            pause(120)
        return {
            "scenario": name, "step": _step_name(editor.document["steps"][path[1]]), "edits": args.edits,
            "median_ms": statistics.median(latencies), "p90_ms": percentile(latencies, 0.9),
            "max_ms": max(latencies), "render_median_ms": statistics.median(renders),
            "aborted_jobs": editor.preview.aborted_count,
        }

    results = [
        run("isolated", ("steps", middle), 1),
        run("drag", ("steps", middle), 5),
        run("first-step", ("steps", first), 1),
    ]
    editor.shutdown()
    editor.close()
    info = {"preset": args.preset, "variants": args.variants, "image": "512x512 RGB", "cpus": os.cpu_count(),
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None, "results": results}
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(f"preview latency, {args.variants} variants of a 512 px image, preset {args.preset}, "
              f"{os.cpu_count()} CPUs, load {info['load_average']:.1f}")
        print(f"{'scenario':<12} {'step':<16} {'median':>8} {'p90':>8} {'max':>8} {'render':>8}")
        for r in results:
            print(f"{r['scenario']:<12} {r['step']:<16} {r['median_ms']:>6.0f}ms {r['p90_ms']:>6.0f}ms "
                  f"{r['max_ms']:>6.0f}ms {r['render_median_ms']:>6.0f}ms")
        print("target: within 150 ms of the last edit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
