"""Running ``genaug`` in a subprocess, and the exit-2 contract, shared by the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys


def genaug(*args: str, cwd: str | os.PathLike[str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``python -m genaug_desktop.cli ARGS`` with warnings as errors; stdout/stderr captured."""
    return subprocess.run(
        [sys.executable, "-m", "genaug_desktop.cli", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )


def assert_one_clear_line(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Bad usage: exit 2, exactly one non-blank line on stderr, no traceback; returns the line."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
