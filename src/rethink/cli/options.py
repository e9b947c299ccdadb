"""The training options of `rethink run` and `rethink grid`, declared once.

Each option's help text is written here, its default is `RunSpec`'s (the one
source of defaults: `DEFAULTS`), and its choices are Enums generated from the
registries (models, randomizations, precisions, crops, weight-decay layers, loops): Typer lists
them in --help and refuses any other value (one line, exit 2: see
`rethink.cli`); the members are strs, so `RunSpec` takes them as they are.
`rethink run` shows
the defaults (`Steps`, `BatchSize`, ...); `rethink grid` takes the same
option unset (`Given...`, None), so that the preset decides, and passes
only what was given through to each run.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import typer

from rethink.models import MODELS, WEIGHT_DECAY_LAYERS
from rethink.spec import AUGMENT_CROPS, CORRUPTIONS, PRECISIONS, RunSpec
from rethink.spec.datasets import NAMES as DATASET_NAMES
from rethink.train.steppers import LOOPS, TORCH_COMPILE


def choices(name: str, values: tuple[str, ...]) -> type[StrEnum]:
    """A str Enum of `values`, generated from a registry: Typer lists them in --help
    and refuses others with one line (rethink.cli's error handling)."""
    return StrEnum(name, {v: v for v in values})  # type: ignore[return-value]


# Typed as str for mypy (the members are strs); Enums for Typer at run time.
if TYPE_CHECKING:
    Model: TypeAlias = str
    Corruption: TypeAlias = str
    Precision: TypeAlias = str
    Crop: TypeAlias = str
    DecayLayers: TypeAlias = str
    Loop: TypeAlias = str
    TorchCompile: TypeAlias = str
    DatasetName: TypeAlias = str
else:
    Model = choices("Model", MODELS)
    Corruption = choices("Corruption", CORRUPTIONS)
    Precision = choices("Precision", PRECISIONS)
    Crop = choices("Crop", AUGMENT_CROPS)
    DecayLayers = choices("DecayLayers", WEIGHT_DECAY_LAYERS)
    Loop = choices("Loop", LOOPS)
    TorchCompile = choices("TorchCompile", TORCH_COMPILE)
    DatasetName = choices("DatasetName", DATASET_NAMES)

DEFAULTS: dict[str, Any] = {
    f.name: f.default for f in dataclasses.fields(RunSpec) if f.default is not dataclasses.MISSING
}


HELP = {
    "model": "The model to train.",
    "corruption": "The randomization of the training set.",
    "level": "Label-corruption probability p, partial_labels only.",
    "seed": "Seed of the corruption, initialization and data order.",
    "steps": "Training steps (default: 25000, Figure 1a's axis).",
    "epochs": "Train whole epochs instead of --steps.",
    "batch_size": "Images per step.",
    "learning_rate": "Initial learning rate (default: the model's, 0.1 Inception, 0.01 others).",
    "lr_decay": "Learning-rate factor after every epoch.",
    "momentum": "SGD momentum.",
    "weight_decay": (
        "Weight decay L: gradient + L*w on the kernels of --weight-decay-layers "
        "(penalty L/2*sum w^2; Table 1: 5e-4)."
    ),
    "weight_decay_layers": (
        "Which kernels weight decay applies to: all (every conv and dense layer) or "
        "hidden_dense (the dense layers before the output only, as the TensorFlow CIFAR-10 "
        "tutorial's AlexNet: --weight-decay 0.004); not the Inceptions, which have none."
    ),
    "augment": "Random crop + horizontal flip (Table 1's 'random crop').",
    "augment_crop": (
        "window: a random window of the crop's size in the whole image (CIFAR: 28x28 of "
        "32x32); padded: the image trained on, padded by 4, then cropped."
    ),
    "dataset": (
        "The data set: Keras's download of it without --data, else checked against the "
        "data (default: what --data holds; CIFAR-10 without --data)."
    ),
    "crop": (
        "Train on the centre NxN of every image (default: 28 for CIFAR-10 and CIFAR-100, "
        "the paper's; whole images for other data sets)."
    ),
    "train_subset": "Train on a seeded class-balanced subset of N images.",
    "test_subset": "Evaluate on a class-balanced subset of N test images.",
    "precision": "Keras dtype policy (the paper: float32).",
    "stop_at_fit": "Stop once a full window's training accuracy reaches --fit-threshold.",
    "fit_threshold": "Training accuracy (window mean) that counts as fitted.",
    "loss_threshold": "Training loss (window mean) for 'steps to loss'.",
    "log_every": "A metrics row every N steps, the mean of those N steps.",
    "eval_train_every": "Also evaluate the whole training split every K epochs (always at the end).",
}


def _option(name: str, given: bool, flag: str | None = None) -> Any:
    """typer.Option for a RunSpec field: `run` shows RunSpec's default, `grid` leaves it unset."""
    names = [flag] if flag else []
    text = HELP[name]
    if given:
        return typer.Option(
            *names,
            help=text + " Default: the preset's.",
            show_default=False,
            rich_help_panel="Protocol of every run (default: the preset's)",
        )
    show = DEFAULTS.get(name) is not None and name != "steps"  # steps: None means 25,000
    return typer.Option(*names, help=text, show_default=show)


ModelOption = Annotated[Model | None, _option("model", False)]
CorruptionOption = Annotated[Corruption, _option("corruption", False)]
Level = Annotated[float | None, _option("level", False)]
Seed = Annotated[int, _option("seed", False)]

# `rethink run`: defaults shown (the values are DEFAULTS[name], given at the signature).
Steps = Annotated[int | None, _option("steps", False)]
Epochs = Annotated[int | None, _option("epochs", False)]
BatchSize = Annotated[int, _option("batch_size", False)]
LearningRate = Annotated[float | None, _option("learning_rate", False, "--lr")]
LrDecay = Annotated[float, _option("lr_decay", False)]
Momentum = Annotated[float, _option("momentum", False)]
WeightDecay = Annotated[float, _option("weight_decay", False)]
WeightDecayLayers = Annotated[DecayLayers, _option("weight_decay_layers", False)]
Augment = Annotated[bool, _option("augment", False)]
AugmentCrop = Annotated[Crop, _option("augment_crop", False)]
TrainSubset = Annotated[int | None, _option("train_subset", False)]
TestSubset = Annotated[int | None, _option("test_subset", False)]
PrecisionOption = Annotated[Precision, _option("precision", False)]
StopAtFit = Annotated[bool, _option("stop_at_fit", False)]
FitThreshold = Annotated[float, _option("fit_threshold", False)]
LossThreshold = Annotated[float, _option("loss_threshold", False)]
LogEvery = Annotated[int, _option("log_every", False)]
EvalTrainEvery = Annotated[int | None, _option("eval_train_every", False)]

# `rethink grid`: unset unless given (None), the preset's value otherwise.
GivenSteps = Annotated[int | None, _option("steps", True)]
GivenEpochs = Annotated[int | None, _option("epochs", True)]
GivenBatchSize = Annotated[int | None, _option("batch_size", True)]
GivenLearningRate = Annotated[float | None, _option("learning_rate", True, "--lr")]
GivenLrDecay = Annotated[float | None, _option("lr_decay", True)]
GivenMomentum = Annotated[float | None, _option("momentum", True)]
GivenWeightDecay = Annotated[float | None, _option("weight_decay", True)]
GivenWeightDecayLayers = Annotated[DecayLayers | None, _option("weight_decay_layers", True)]
GivenAugment = Annotated[bool | None, _option("augment", True)]
GivenAugmentCrop = Annotated[Crop | None, _option("augment_crop", True)]
GivenTrainSubset = Annotated[int | None, _option("train_subset", True)]
GivenTestSubset = Annotated[int | None, _option("test_subset", True)]
GivenPrecision = Annotated[Precision | None, _option("precision", True)]
GivenStopAtFit = Annotated[bool | None, _option("stop_at_fit", True)]
GivenFitThreshold = Annotated[float | None, _option("fit_threshold", True)]
GivenLossThreshold = Annotated[float | None, _option("loss_threshold", True)]
GivenLogEvery = Annotated[int | None, _option("log_every", True)]
GivenEvalTrainEvery = Annotated[int | None, _option("eval_train_every", True)]

# The data of one run (run, construct, kernel); `rethink grid` declares its own,
# in its "Folder and data" panel.
DATA_HELP = (
    "Data source: the CIFAR-10 archive or folder, an official CIFAR-100 or MNIST copy, "
    "or any image folder train/<class>/*, test/<class>/* (or a tar of one)"
)
DataOption = Annotated[
    str | None,
    typer.Option(
        envvar="RETHINK_DATA",
        help=DATA_HELP + " (default: Keras's download of --dataset).",
        show_default=False,
    ),
]
DatasetOption = Annotated[
    DatasetName | None, typer.Option(help=HELP["dataset"], show_default=False)
]
CropOption = Annotated[int | None, typer.Option(help=HELP["crop"], show_default=False)]
