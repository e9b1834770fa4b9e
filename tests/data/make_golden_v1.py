"""Re-make the golden schema-v1 project (run once; the output is committed and never changed).

It stands for a project written by the first release, so every later version must keep
opening it (tests/core/test_store.py::test_golden_v1_project_migrates).
"""

import os
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from genaug_desktop.core.store import schema  # noqa: E402

out = os.path.join(HERE, "golden_v1.genaug")
os.makedirs(os.path.join(out, "blobs"), exist_ok=True)
os.makedirs(os.path.join(out, "checkpoints"), exist_ok=True)
db_path = os.path.join(out, "project.sqlite")
if os.path.exists(db_path):
    os.remove(db_path)
db = sqlite3.connect(db_path, isolation_level=None)
schema.create_v1(db)
db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
    ("dataset_root", "/data/shapes"), ("modality", "image"),
    ("scan_options", "{}"), ("created_at", "2026-01-01T00:00:00.000+00:00"),
    ("created_by", "genaug-desktop 0.0.1"),
])
db.executemany(
    "INSERT INTO items(key, path, modality, label, sha256, size, width, height, format, mode) VALUES (?,?,?,?,?,?,?,?,?,?)",
    [
        ("circle/a.png", "circle/a.png", "image", "circle", "a" * 64, 1234, 64, 64, "PNG", "RGB"),
        ("square/b.png", "square/b.png", "image", "square", "b" * 64, 2345, 64, 48, "PNG", "RGBA"),
    ],
)
db.executemany(
    "INSERT INTO candidates(origin, source_item, label, status, reason, blob, provenance, created_at) VALUES (?,?,?,?,?,?,?,?)",
    [
        ("augmentation", 1, "circle", "accepted", None, "c" * 64, '{"ops": [["hflip", {}]], "seed": 7}', "2026-01-01T00:00:01.000+00:00"),
        ("augmentation", 2, "square", "rejected", "blurry", "d" * 64, '{"seed": 8}', "2026-01-01T00:00:02.000+00:00"),
        ("generator", None, "circle", "pending", None, "e" * 64, '{"generator": "vae"}', "2026-01-01T00:00:03.000+00:00"),
    ],
)
db.executemany(
    "INSERT INTO decisions(candidate_id, status, previous, reason, at) VALUES (?,?,?,?,?)",
    [(1, "accepted", "pending", None, "2026-01-01T00:01:00.000+00:00"),
     (2, "rejected", "pending", "blurry", "2026-01-01T00:01:01.000+00:00")],
)
db.execute("PRAGMA journal_mode=DELETE")
db.close()
print("wrote", db_path)
