"""Export: writers, manifest, atomic publish, verification.

For a dialog::

    options = ExportOptions(format="imagefolder", include_originals=True, splits={"train": 0.8, "val": 0.2})
    formats_for(project.modality)                        # the format picker
    plan = plan_export(project, options, destination)   # counts per split / class / origin; nothing written
                                                         # (plan_job(...) does the same as a Job)
    plan.table(), plan.warnings, plan.dropped
    job = export_job(project, options, destination, cancel, plan=plan)   # a core Job -> ExportResult
    result.summary(), result.destination                                 # the closing report
    check_plan_destination(project, path, overwrite)                     # validate the folder field

and ``verify_job(path)`` / ``verify_export(path)`` -> :class:`VerifyReport`.
"""

from genaug_desktop.core.export.job import ExportResult, export, export_job
from genaug_desktop.core.export.manifest import SCHEMA_VERSION as MANIFEST_SCHEMA_VERSION
from genaug_desktop.core.export.manifest import ExportUnusable, ManifestDamaged, load_manifest
from genaug_desktop.core.export.names import NameAllocator, sanitize_name
from genaug_desktop.core.export.options import (
    COLOR_MODES,
    FORMATS,
    IMAGE_FORMATS,
    NORMALIZATIONS,
    RESIZE_MODES,
    ExportError,
    ExportOptions,
    formats_for,
)
from genaug_desktop.core.export.plan import ExportPlan, Sample, check_plan_destination, plan_export, plan_job
from genaug_desktop.core.export.verify import VerifyReport, verify_export, verify_job

__all__ = [
    "COLOR_MODES", "FORMATS", "IMAGE_FORMATS", "MANIFEST_SCHEMA_VERSION", "NORMALIZATIONS", "RESIZE_MODES",
    "ExportError", "ExportOptions", "ExportPlan", "ExportResult", "ExportUnusable", "ManifestDamaged",
    "NameAllocator", "Sample", "VerifyReport", "check_plan_destination", "export", "export_job", "formats_for",
    "load_manifest", "plan_export", "plan_job", "sanitize_name", "verify_export", "verify_job",
]
