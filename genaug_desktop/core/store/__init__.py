"""The project store: SQLite (WAL) + content-addressed blobs, with schema versions and migrations."""

from genaug_desktop.core.store.project import (
    Candidate,
    Project,
    ProjectError,
    SourceCheck,
    init_project_job,
    is_project_dir,
)
from genaug_desktop.core.store.relink import RelinkReport, relink, relink_job

__all__ = ["Candidate", "Project", "ProjectError", "SourceCheck", "init_project_job", "is_project_dir", "RelinkReport", "relink",
           "relink_job"]
