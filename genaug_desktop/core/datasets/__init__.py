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
from genaug_desktop.core.datasets.scan import scan, scan_job

__all__ = [
    "DatasetError", "Item", "Modality", "Problem", "ScanBatch", "ScanOptions", "ScanResult", "scan", "scan_job",
]
