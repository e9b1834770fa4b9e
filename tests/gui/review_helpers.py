"""Small real projects for the review, rules and statistics tests, and a way to read decisions back
through a connection of our own (what another process, or the app after a kill, would see)."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store.blobs import write_blob
from genaug_desktop.core.store.project import Project, init_project_job

TEXTS = [
    ("The battery lasts for days and charges fast.", "positive"),
    ("Stopped working after a week and support never answered.", "negative"),
    ("It is fine for the price, nothing special about it.", "neutral"),
    ("Soft fabric, true to size, and the colour stayed bright.", "positive"),
    ("Arrived scratched and the box was crushed in transit.", "negative"),
    ("The manual is short but the setup took five minutes.", "neutral"),
    ("Would buy again without hesitation, great value overall.", "positive"),
    ("The lid cracked on the first day and it leaks water.", "negative"),
    ("Average build quality; time will tell how it holds up.", "neutral"),
    ("Quiet motor, strong suction and an easy filter to clean.", "positive"),
]


def make_text_project(root: Path) -> Path:
    """Ten real texts; candidates 1-8 are one-word variants of items 1-8 (pending), 9-10 are too
    short ("Ok.", "Bad"), 11-12 come from a generator (no source) in rounds 1 and 2."""
    dataset = root / "reviews.csv"
    root.mkdir(parents=True, exist_ok=True)
    with open(dataset, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(TEXTS)
    path = root / "texts.genaug"
    project = run_job(init_project_job(str(path), str(dataset)))
    try:
        items = project.items()
        rows = []
        for k in range(8):
            words = items[k].text.split()
            words[1] = "really" if words[1] != "really" else "truly"
            rows.append({"origin": "augmentation", "source": items[k].key, "label": items[k].label,
                         "text": " ".join(words), "provenance": {"ops": [{"op": "synonym", "params": {"k": 1}}]}})
        for text in ("Ok.", "Bad"):
            rows.append({"origin": "augmentation", "source": items[0].key, "label": items[0].label, "text": text,
                         "provenance": {"ops": [{"op": "random_word_delete", "params": {}}]}})
        for rnd, text in ((1, "A generated review that talks about the battery life."),
                          (2, "Another generated review about the colour and the fabric.")):
            rows.append({"origin": "generator", "source": None, "label": "positive", "text": text,
                         "provenance": {"generator": "tiny-lm"}, "round": rnd})
        project.add_candidates(rows)
    finally:
        project.close()
    return path


def png_bytes(color: tuple[int, int, int], size: tuple[int, int] = (48, 40), blank: bool = False) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, color)
    if not blank:
        ImageDraw.Draw(img).ellipse((8, 6, size[0] - 8, size[1] - 6), fill=(255 - color[0], 200, 60))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def make_image_project(root: Path) -> Path:
    """Six real images (two classes); candidates 1-6 are colour variants of them, 7 is blank
    (one flat colour: the not-blank rule rejects it)."""
    from gui_helpers import write_png

    dataset = root / "shapes"
    for i in range(3):
        write_png(dataset / "red" / f"red_{i}.png", (200, 40 + 30 * i, 40))
        write_png(dataset / "blue" / f"blue_{i}.png", (40, 60 + 30 * i, 200))
    path = root / "shapes.genaug"
    project = run_job(init_project_job(str(path), str(dataset)))
    try:
        rows = []
        for item in project.items():
            base = (200, 60, 40) if item.label == "red" else (40, 80, 200)
            data = png_bytes((base[0] + 10, base[1] + 5, base[2]))
            sha = write_blob(project.blobs_dir, data)
            rows.append({"origin": "augmentation", "source": item.key, "label": item.label, "blob": sha,
                         "provenance": {"ops": [{"op": "color_jitter", "params": {"brightness": 1.05}}]}})
        first = project.items()[0]
        sha = write_blob(project.blobs_dir, png_bytes((128, 128, 128), blank=True))
        rows.append({"origin": "augmentation", "source": first.key, "label": first.label, "blob": sha,
                     "provenance": {"ops": [{"op": "solarize", "params": {}}]}})
        project.add_candidates(rows)
    finally:
        project.close()
    return path


def db_states(project_path: Path) -> dict[int, tuple[str, str | None, str | None]]:
    """id -> (status, decided_by, rule_id), read through a fresh sqlite3 connection."""
    db = sqlite3.connect(str(project_path / "project.sqlite"))
    try:
        rows = db.execute("SELECT id, status, decided_by, rule_id FROM candidates ORDER BY id").fetchall()
    finally:
        db.close()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def approve_length_rule(project: Project, low: int = 20) -> str:
    """A text rule that rejects candidates shorter than *low* characters, approved."""
    from genaug_desktop.core.rules import add_rule, approve_rules

    rule = add_rule(project, "text_length", {"unit": "chars", "range": [low, 500]}, rule_id="length")
    approve_rules(project, [rule.id])
    return rule.id
