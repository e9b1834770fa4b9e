"""Downstream evaluation: does training on accepted synthetic samples help a small model on
held-out real data? See :func:`evaluate_job`."""

from genaug_desktop.core.evaluation.job import (
    CONDITIONS,
    EvaluationError,
    EvaluationResult,
    Split,
    evaluate_job,
    holdout_split,
    stored_evaluations,
)

__all__ = [
    "CONDITIONS", "EvaluationError", "EvaluationResult", "Split", "evaluate_job", "holdout_split",
    "stored_evaluations",
]
