"""STYLE habit 1: core never imports Qt, and loads torch/nlpaug only inside functions."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import genaug_desktop.core

FORBIDDEN = ("PySide6", "shiboken6", "torch", "nlpaug", "pandas")


def core_modules() -> list[str]:
    return sorted(
        m.name for m in pkgutil.walk_packages(genaug_desktop.core.__path__, prefix="genaug_desktop.core.")
    )


def test_core_has_modules():
    assert "genaug_desktop.core.datasets.scan" in core_modules()
    assert "genaug_desktop.core.store.project" in core_modules()


def test_importing_every_core_module_loads_no_qt_torch_or_nlpaug():
    modules = core_modules() + ["genaug_desktop.cli"]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        f"bad = sorted(k for k in sys.modules if k.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "", f"core imported: {out.stdout.strip()}"


def test_package_list_in_pyproject_covers_every_package():
    """pyproject lists packages by hand (resources/ is mapped in); a new subpackage must be added."""
    import os
    import tomllib

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "pyproject.toml"), "rb") as fh:
        listed = set(tomllib.load(fh)["tool"]["setuptools"]["packages"])
    found = {"genaug_desktop"}
    for dirpath, _dirs, files in os.walk(os.path.join(root, "genaug_desktop")):
        if "__init__.py" in files:
            rel = os.path.relpath(dirpath, root).replace(os.sep, ".")
            found.add(rel)
    found.add("genaug_desktop.resources")
    assert found == listed
