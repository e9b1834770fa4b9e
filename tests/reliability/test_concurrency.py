"""Augmentation, filtering and review decisions at once on the same project, the way the
window (threads sharing one Project) and the command line (separate processes) would run
them: no lost update, no duplicate, and no "database is locked" ever reaches anyone."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

from genaug_desktop.core.store import Project

from .conftest import LIGHT_IMAGE_POLICY
from .helpers import genaug, image_tree, tree_hashes

PER_ITEM = 6
ITEMS = 40


def _popen(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "error"})


def test_augment_filter_and_review_at_once(tmp_path: Path) -> None:
    data = image_tree(tmp_path / "data", {"a": ITEMS // 2, "b": ITEMS // 2}, size=(40, 40))
    hashes = tree_hashes(data)
    project_path = tmp_path / "p.genaug"
    assert genaug("init", str(project_path), str(data)).returncode == 0
    assert genaug("rules", str(project_path), "propose").returncode == 0
    rule_ids = [r["id"] for r in json.loads(genaug("rules", str(project_path), "list", "--json").stdout)]
    assert rule_ids and genaug("rules", str(project_path), "approve", *rule_ids).returncode == 0
    policy = tmp_path / "policy.json"
    policy.write_text(LIGHT_IMAGE_POLICY)

    # processes, as separate CLI commands would be
    augment = _popen("-m", "genaug_desktop.cli", "augment", str(project_path), "--policy", str(policy),
                     "--per-item", str(PER_ITEM), "--workers", "2")
    cli_filter = _popen("-c", f"""
import subprocess, sys, time
outs = []
for _ in range(6):
    p = subprocess.run([sys.executable, "-m", "genaug_desktop.cli", "filter", {str(project_path)!r}],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print("FAILED", p.returncode, p.stderr.strip()); sys.exit(1)
    time.sleep(0.2)
""")

    # threads sharing one Project, as the window's panels and worker threads do
    project = Project.open(str(project_path))
    errors: list[str] = []
    acknowledged: dict[int, str] = {}
    stop = threading.Event()

    def reviewer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                pending = [c.id for c in project.candidates(status="pending", limit=50)]
                for cid in rng.sample(pending, min(5, len(pending))):
                    status = rng.choice(["accepted", "rejected"])
                    project.decide([cid], status, decided_by="person")
                    acknowledged[cid] = status  # only after decide() returned
                time.sleep(0.01)
        except Exception as exc:  # anything reaching a person is a failure
            errors.append(f"reviewer: {type(exc).__name__}: {exc}")

    def filterer() -> None:
        from genaug_desktop.core.rules import run_filter

        try:
            while not stop.is_set():
                run_filter(project)
                time.sleep(0.05)
        except Exception as exc:
            errors.append(f"filter thread: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=reviewer, args=(s,)) for s in (1, 2)] + [threading.Thread(target=filterer)]
    for t in threads:
        t.start()
    try:
        out, err = augment.communicate(timeout=240)
        filter_out, filter_err = cli_filter.communicate(timeout=240)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert augment.returncode == 0, err
    assert cli_filter.returncode == 0, filter_out + filter_err
    for text in (err, filter_out, filter_err, *errors):
        assert "locked" not in text.lower() and "busy" not in text.lower(), text
    assert not errors, errors

    # a person's decision made by the CLI while the window has the project open
    some = [c.id for c in project.candidates(limit=3)]
    assert genaug("decide", str(project_path), "--reject", *map(str, some), "--reason", "cli").returncode == 0
    for cid in some:
        acknowledged[cid] = "rejected"

    cands = {c.id: c for c in project.candidates()}
    assert len(cands) == ITEMS * PER_ITEM  # every variant, once
    assert len({(c.source_item, c.provenance["variant"]) for c in cands.values()}) == ITEMS * PER_ITEM
    # no lost update: each candidate's status is the last one its decision log says
    last = {cid: status for cid, status in project.query(
        "SELECT candidate_id, status FROM decisions ORDER BY id")}
    for cid, c in cands.items():
        assert c.status == last.get(cid, "pending"), (cid, c.status, last.get(cid))
    # and every person's acknowledged decision is in the log as a person's decision
    person = {(cid, status) for cid, status in project.query(
        "SELECT candidate_id, status FROM decisions WHERE decided_by = 'person'")}
    assert {(cid, s) for cid, s in acknowledged.items()} <= person
    assert project.integrity_check() == "ok"
    project.close()
    assert tree_hashes(data) == hashes


def test_a_write_blocked_past_the_busy_timeout_is_a_clear_message(tmp_path: Path, monkeypatch) -> None:
    """If another program holds the write lock for longer than the wait, the person gets a
    sentence (and nothing half-saved), never sqlite3's 'database is locked'."""
    import sqlite3

    from genaug_desktop.core.store import ProjectError
    from genaug_desktop.core.store import project as project_module

    data = image_tree(tmp_path / "data", {"a": 2})
    project_path = tmp_path / "p.genaug"
    assert genaug("init", str(project_path), str(data)).returncode == 0
    monkeypatch.setattr(project_module, "BUSY_TIMEOUT_S", 0.3)
    with Project.open(str(project_path)) as project:
        key = project.items()[0].key
        (cid,) = project.add_candidates([{"origin": "augmentation", "source": key}])
        blocker = sqlite3.connect(str(project_path / "project.sqlite"), isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another program writing, and not letting go
        try:
            t0 = time.monotonic()
            try:
                project.decide([cid], "accepted")
            except ProjectError as exc:
                message = str(exc)
            else:
                raise AssertionError("the write went through a held lock")
            assert time.monotonic() - t0 >= 0.25  # it waited before giving up
            assert "busy in another program" in message and "database is locked" not in message
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert project.candidates()[0].status == "pending"
        assert project.decide([cid], "accepted") == 1  # and works once the other program is done
