"""Generators: the protocol, the built-ins (char_gru for text, conv_vae for images), plug-ins
through the ``genaug_desktop.generators`` entry-point group, TorchScript files, and the
project-level jobs for self-training rounds. Nothing here imports torch at import time."""

from genaug_desktop.core.generators.base import (
    PAYLOAD_KEYS,
    CheckpointError,
    Example,
    FitResult,
    Generator,
    GeneratorError,
    Sample,
    TrainingData,
    TrustRequired,
)
from genaug_desktop.core.generators.registry import (
    ENTRY_POINT_GROUP,
    GeneratorEntry,
    describe_generators,
    get_generator,
    load_generator,
    registry,
)
from genaug_desktop.core.generators.rounds import (
    DATA_PARAMS,
    CheckpointRecord,
    SampleResult,
    TrainResult,
    find_checkpoint,
    list_checkpoints,
    next_round,
    round_summary,
    sample_job,
    train_job,
    training_data,
)
from genaug_desktop.core.generators.torchscript import TorchScriptInfo, inspect_torchscript, load_torchscript

__all__ = [
    "DATA_PARAMS", "ENTRY_POINT_GROUP", "PAYLOAD_KEYS", "CheckpointError", "CheckpointRecord", "Example", "FitResult",
    "Generator", "GeneratorEntry", "GeneratorError", "Sample", "SampleResult", "TorchScriptInfo", "TrainResult",
    "TrainingData", "TrustRequired", "describe_generators", "find_checkpoint", "get_generator", "inspect_torchscript",
    "list_checkpoints", "load_generator", "load_torchscript", "next_round", "registry", "round_summary", "sample_job",
    "train_job", "training_data",
]
