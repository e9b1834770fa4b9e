"""Datasets: items and problems, and the readers that find them (never modifying the source)."""

from genaug_desktop.core.datasets.model import (
    DatasetError,
    Item,
    Modality,
    Problem,
    ScanBatch,
    ScanOptions,
    ScanResult,
)

def __getattr__(name: str) -> object:
    # The scanner pulls in multiprocessing and concurrent.futures; load it only when used,
    # so importing the data types stays cheap (the window imports them at start-up).
    if name in ("scan", "scan_job"):
        import importlib

        module = importlib.import_module("genaug_desktop.core.datasets.scan")
        # Importing the submodule set the package attribute `scan` to the module; the public
        # names are the functions.
        globals()["scan"] = module.scan
        globals()["scan_job"] = module.scan_job
        return globals()[name]
    raise AttributeError(name)


__all__ = [
    "DatasetError", "Item", "Modality", "Problem", "ScanBatch", "ScanOptions", "ScanResult", "scan", "scan_job",
]
