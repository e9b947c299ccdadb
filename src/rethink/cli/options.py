"""The options that set a run, each declared once, for `rethink run` and `rethink grid`.

    SETTING["weight_decay"].default          # 0.0: RunSpec's
    SETTING["learning_rate"].option()        # its typer.Option, as `rethink run` shows it
    SETTING["learning_rate"].option(grid=True)   # "... Default: the preset's."

A run's settings are its protocol (steps ... eval_train_every), its data (data,
dataset, crop) and how its steps execute (loop, steps_per_execution,
torch_compile): one `Setting` each in SETTINGS, with its help text, type and
flag; its default is RunSpec's or Execution's (the one source of defaults:
DEFAULTS). `rethink.cli.settings.with_settings` puts all of them on `rethink
run`, which shows the defaults, and `rethink grid`, which says "Default: the
preset's" and groups them in panels.

Choices are str Enums generated from the registries (models, randomizations,
precisions, crops, weight-decay layers, loops, data sets, presets): Typer lists
them in --help and refuses any other value (one line, exit 2: see
`rethink.cli`); the members are strs, so RunSpec takes them as they are. The
options that other commands share one at a time (model, corruption, level,
seed, subsets, data) are the Annotated aliases at the end.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import typer

from rethink.models import MODEL_OUTPUTS, MODELS, WEIGHT_DECAY_LAYERS
from rethink.spec import AUGMENT_CROPS, CORRUPTIONS, PRECISIONS, RunSpec
from rethink.spec.datasets import NAMES as DATASET_NAMES
from rethink.train.steppers import LOOPS, TORCH_COMPILE, Execution


def choices(name: str, values: tuple[str, ...]) -> type[StrEnum]:
    """A str Enum of `values`, generated from a registry: Typer lists them in --help
    and refuses others with one line (rethink.cli's error handling)."""
    return StrEnum(name, {v: v for v in values})  # type: ignore[return-value]


# Typed as str for mypy (the members are strs); Enums for Typer at run time.
if TYPE_CHECKING:
    Model: TypeAlias = str
    ModelOutput: TypeAlias = str
    Corruption: TypeAlias = str
    Precision: TypeAlias = str
    Crop: TypeAlias = str
    DecayLayers: TypeAlias = str
    Loop: TypeAlias = str
    TorchCompile: TypeAlias = str
    DatasetName: TypeAlias = str
else:
    Model = choices("Model", MODELS)
    ModelOutput = choices("ModelOutput", MODEL_OUTPUTS)
    Corruption = choices("Corruption", CORRUPTIONS)
    Precision = choices("Precision", PRECISIONS)
    Crop = choices("Crop", AUGMENT_CROPS)
    DecayLayers = choices("DecayLayers", WEIGHT_DECAY_LAYERS)
    Loop = choices("Loop", LOOPS)
    TorchCompile = choices("TorchCompile", TORCH_COMPILE)
    DatasetName = choices("DatasetName", DATASET_NAMES)

DEFAULTS: dict[str, Any] = {
    f.name: f.default
    for cls in (RunSpec, Execution)
    for f in dataclasses.fields(cls)
    if f.default is not dataclasses.MISSING
}

# Where `rethink grid` shows a setting: the preset decides a run's protocol; the data
# go with the folder; how steps execute is the same as for `rethink run`.
PROTOCOL, DATA, EXECUTION = "protocol", "data", "execution"
PROTOCOL_PANEL = "Protocol of every run (default: the preset's)"
FOLDER_PANEL = "Folder and data"
DATA_HELP = (
    "Data source: the CIFAR-10 archive or folder, an official CIFAR-100 or MNIST copy, "
    "or any image folder train/<class>/*, test/<class>/* (or a tar of one) "
    "(default: Keras's download of --dataset, fetched once)."
)


@dataclass(frozen=True)
class Setting:
    """One option that sets a run: a RunSpec field, or how its steps execute."""

    name: str  # the RunSpec (or Execution) field, and the command's parameter
    type: Any  # what Typer parses: a type, or an Enum of choices; `| None` if default None
    help: str
    kind: str = PROTOCOL  # PROTOCOL, DATA or EXECUTION: where `rethink grid` shows it
    flag: str | None = None  # the flag where it is not --name
    envvar: str | None = None
    show_default: bool = True  # False where the help text says the default

    @property
    def default(self) -> Any:
        return DEFAULTS[self.name]

    @property
    def flag_text(self) -> str:
        return self.flag or f"--{self.name.replace('_', '-')}"

    def option(self, grid: bool = False) -> Any:
        """Its typer.Option, as `rethink run` shows it or (`grid`) as `rethink grid` does."""
        text, panel = self.help, None
        shown = self.show_default and self.default is not None
        if grid and self.kind == PROTOCOL:
            text, panel, shown = f"{text} Default: the preset's.", PROTOCOL_PANEL, False
        elif grid and self.kind == DATA:
            panel = FOLDER_PANEL
        flags = [self.flag] if self.flag else []
        return typer.Option(
            *flags, help=text, show_default=shown, envvar=self.envvar, rich_help_panel=panel
        )

    def parameter(self, grid: bool) -> inspect.Parameter:
        annotation = Annotated[self.type, self.option(grid)]  # type: ignore[name-defined]
        kind = inspect.Parameter.KEYWORD_ONLY
        return inspect.Parameter(self.name, kind, default=self.default, annotation=annotation)


SETTINGS = (
    Setting("steps", int | None, "Training steps (default: 25000, Figure 1a's axis).",
            show_default=False),
    Setting("epochs", int | None, "Train whole epochs instead of --steps."),
    Setting("batch_size", int, "Images per step."),
    Setting("learning_rate", float | None,
            "Initial learning rate (default: the model's, 0.1 Inception, 0.01 others).",
            flag="--lr"),
    Setting("lr_decay", float, "Learning-rate factor after every epoch."),
    Setting("momentum", float, "SGD momentum."),
    Setting("weight_decay", float,
            "Weight decay L: gradient + L*w on the kernels of --weight-decay-layers "
            "(penalty L/2*sum w^2; Table 1: 5e-4)."),
    Setting("weight_decay_layers", DecayLayers,
            "Which kernels weight decay applies to: all (every conv and dense layer) or "
            "hidden_dense (the dense layers before the output only, as the TensorFlow CIFAR-10 "
            "tutorial's AlexNet: --weight-decay 0.004); not the Inceptions, which have none."),
    Setting("augment", bool, "Random crop + horizontal flip (Table 1's 'random crop')."),
    Setting("augment_crop", Crop,
            "window: a random window of the crop's size in the whole image (CIFAR: 28x28 of "
            "32x32); padded: the image trained on, padded by 4, then cropped."),
    Setting("train_subset", int | None, "Train on a seeded class-balanced subset of N images."),
    Setting("test_subset", int | None, "Evaluate on a class-balanced subset of N test images."),
    Setting("precision", Precision, "Keras dtype policy (the paper: float32)."),
    Setting("stop_at_fit", bool,
            "Stop once a full window's training accuracy reaches --fit-threshold."),
    Setting("fit_threshold", float, "Training accuracy (window mean) that counts as fitted."),
    Setting("loss_threshold", float, "Training loss (window mean) for 'steps to loss'."),
    Setting("log_every", int, "A metrics row every N steps, the mean of those N steps."),
    Setting("eval_train_every", int | None,
            "Also evaluate the whole training split every K epochs (always at the end)."),
    Setting("data", str | None, DATA_HELP, DATA, envvar="RETHINK_DATA"),
    Setting("dataset", DatasetName | None,
            "The data set: Keras's download of it without --data, else checked against the "
            "data (default: what --data holds; CIFAR-10 without --data).", DATA),
    Setting("crop", int | None,
            "Train on the centre NxN of every image (default: 28 for CIFAR-10 and CIFAR-100, "
            "the paper's; whole images for other data sets).", DATA),
    Setting("loop", Loop,
            "How steps run: keras (fit()), native (JAX/torch: data on the device, several "
            "steps per dispatch) or auto (native where it exists). Same metrics.", EXECUTION),
    Setting("steps_per_execution", int | None,
            "Most steps per dispatch (default: chosen per loop and device). Same metrics.",
            EXECUTION),
    Setting("torch_compile", TorchCompile,
            "How the native torch step runs: graph (the whole step as one CUDA graph), off "
            "(eager, the reference), a torch.compile backend (cudagraphs, inductor, aot_eager) "
            "or auto (graph on a CUDA GPU, else off); falls back to eager if it fails.",
            EXECUTION),
)  # fmt: skip
SETTING = {s.name: s for s in SETTINGS}


def _shown(name: str, text: str) -> Any:
    return typer.Option(help=text, show_default=DEFAULTS.get(name) is not None)


# The options other commands take one at a time (run, kernel, construct, bench).
ModelOption = Annotated[
    str | None,
    typer.Option(
        metavar="MODEL", show_default=False,
        help=f"The model to train: {', '.join(MODELS)}, or your own as module.path:builder or "
        "path/to/file.py:builder (builder(input_shape, num_classes) -> keras.Model).",
    ),
]  # fmt: skip
ModelOutputOption = Annotated[
    ModelOutput, typer.Option(help="What your own model outputs: logits, or probabilities.")
]
CorruptionOption = Annotated[
    Corruption, _shown("corruption", "The randomization of the training set.")
]
Level = Annotated[
    float | None, _shown("level", "Label-corruption probability p, partial_labels only.")
]
Seed = Annotated[int, _shown("seed", "Seed of the corruption, initialization and data order.")]
TrainSubset = Annotated[int | None, SETTING["train_subset"].option()]
TestSubset = Annotated[int | None, SETTING["test_subset"].option()]
DataOption = Annotated[str | None, SETTING["data"].option()]
DatasetOption = Annotated[DatasetName | None, SETTING["dataset"].option()]
CropOption = Annotated[int | None, SETTING["crop"].option()]
StepsOption = Annotated[int | None, SETTING["steps_per_execution"].option()]
