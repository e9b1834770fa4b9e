"""The project store: SQLite (WAL) + content-addressed blobs, with schema versions and migrations."""

from genaug_desktop.core.store.project import (
    Candidate,
    Project,
    ProjectError,
    SourceCheck,
    init_project_job,
    is_project_dir,
)

__all__ = ["Candidate", "Project", "ProjectError", "SourceCheck", "init_project_job", "is_project_dir"]
