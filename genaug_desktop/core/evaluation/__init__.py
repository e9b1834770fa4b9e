"""Downstream evaluation: does training on accepted synthetic samples help a small model on
held-out real data? See :func:`evaluate_job`. Data without labels is compared by the built-in
generator's held-out loss instead (:mod:`genaug_desktop.core.evaluation.generator_loss`)."""

from genaug_desktop.core.evaluation.job import (
    CONDITIONS,
    EvaluationError,
    EvaluationResult,
    Split,
    evaluate_job,
    evaluation_for_manifest,
    holdout_split,
    latest_evaluation,
    stored_evaluations,
)

__all__ = [
    "CONDITIONS", "EvaluationError", "EvaluationResult", "Split", "evaluate_job", "evaluation_for_manifest",
    "holdout_split", "latest_evaluation", "stored_evaluations",
]
