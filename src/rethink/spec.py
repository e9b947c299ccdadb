"""What one training run is: a frozen `RunSpec`, its validation and its id.

Pure Python, importable without Keras. Every default is the paper's protocol
(Zhang et al. 2017, Appendix A) or, where the paper is silent, rethink's
documented choice (README, "The protocol, and the choices the paper leaves open"; docs/paper.md):

    spec = RunSpec(model="inception", corruption="random_labels")
    spec.run_id            # 'inception-random_labels-s0'
    spec.resolved(50_000)  # learning rate and step count filled in
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from rethink.models import MODELS, REGISTRY, WEIGHT_DECAY_LAYERS, check_weight_decay_layers

CORRUPTIONS = (
    "true_labels",
    "partial_labels",
    "random_labels",
    "shuffled_pixels",
    "random_pixels",
    "gaussian",
)
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
# Random crop: "window" takes a random 28x28 window of the 32x32 image (the
# paper's pipeline); "padded" pads the centre 28x28 crop by 4 and crops 28x28.
AUGMENT_CROPS = ("window", "padded")

# spec.json format. Version 1 (before 0.2): `weight_decay` was the Keras L2
# coefficient (penalty wd * sum(w^2), gradient 2 wd w) and random crop was the
# padded one. Version 2: `weight_decay` is the gradient coefficient (penalty
# wd/2 * sum(w^2), gradient wd w, as in PyTorch's SGD and the paper's
# TensorFlow code). A spec.json without the field is version 1, so an old run
# resumes with exactly the penalty and crop it started with. Fields added since
# (`weight_decay_layers`) default to what version 2 always did, so a spec.json
# without them keeps its meaning without a new version.
SPEC_VERSION = 2


class SpecError(ValueError):
    """A setting that cannot describe a run (unknown name, value out of range)."""


@dataclass(frozen=True)
class RunSpec:
    """Every setting of one training run; `resolved()` fills in the defaults."""

    model: str
    corruption: str = "true_labels"
    level: float | None = None  # label-corruption probability, partial_labels only
    seed: int = 0  # corruption, subset, init and data order all derive from it
    steps: int | None = 25_000  # the x-axis of Figure 1a; None: use `epochs`
    epochs: int | None = None  # alternative to steps: whole passes over the data
    batch_size: int = 128
    learning_rate: float | None = None  # None: 0.1 Inception, 0.01 others
    lr_decay: float = 0.95  # multiplied in after every epoch
    momentum: float = 0.9
    weight_decay: float = 0.0  # gradient wd * w on the kernels below (Table 1 uses 5e-4)
    # WEIGHT_DECAY_LAYERS: "all" conv/dense kernels, or "hidden_dense" (the dense layers
    # before the output only: the TF CIFAR-10 tutorial's AlexNet; run id "...-wd0.004-hd-s0").
    # Without weight decay it means nothing and is stored as "all".
    weight_decay_layers: str = "all"
    augment: bool = False  # random crop + horizontal flip (Table 1)
    augment_crop: str = "window"  # AUGMENT_CROPS: random 28x28 of 32x32, or pad 4
    train_subset: int | None = None  # seeded class-balanced subset, for CPUs
    test_subset: int | None = None  # first-N-by-seed subset of the test split
    subset_seed: int = 0  # the same subset for every run of a grid
    precision: str = "float32"
    stop_at_fit: bool = False  # stop once training accuracy reaches fit_threshold
    fit_threshold: float = 1.0  # training accuracy that counts as "fitted"
    loss_threshold: float = 0.01  # training loss for "steps to loss"
    log_every: int = 100  # a metrics row every N global steps, each the mean of N steps
    eval_train_every: int | None = None  # evaluate the whole training split every K epochs
    data: str | None = None  # data source (path); None: RETHINK_DATA or Keras download
    dataset: str | None = None  # a KNOWN data set's name, checked against the data; None: any
    crop: int | None = None  # side of the centre crop; None: 28 for CIFAR, else whole images
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    spec_version: int = SPEC_VERSION  # spec.json format; see SPEC_VERSION

    def __post_init__(self) -> None:
        # Plain strs: a CLI choice arrives as a str Enum member, which some writers
        # (h5py, inside model.save on TensorFlow) cannot store.
        for name in (
            "model",
            "corruption",
            "precision",
            "augment_crop",
            "dataset",
            "weight_decay_layers",
        ):
            value = getattr(self, name)
            if isinstance(value, str) and type(value) is not str:
                object.__setattr__(self, name, str(value))
        if not self.weight_decay and self.weight_decay_layers in WEIGHT_DECAY_LAYERS:
            # No decay: every choice trains the same, so one spelling (ids, resume checks,
            # and a grid whose variants turn weight decay off).
            object.__setattr__(self, "weight_decay_layers", "all")
        validate(self)

    @property
    def run_id(self) -> str:
        """Folder name derived from the settings that distinguish runs of a grid."""
        parts = [self.model, self.corruption]
        if self.corruption == "partial_labels" and self.level is not None:
            parts.append(f"p{self.level:g}")
        if self.weight_decay:
            parts.append(f"wd{self.weight_decay:g}")
            if self.weight_decay_layers == "hidden_dense":
                parts.append("hd")
        if self.augment:
            parts.append("aug")
        if self.precision != "float32":
            parts.append(self.precision.replace("mixed_", ""))
        parts.append(f"s{self.seed}")
        return "-".join(parts)

    @property
    def lr(self) -> float:
        """The initial learning rate, the model's paper default unless set."""
        if self.learning_rate is not None:
            return self.learning_rate
        return REGISTRY[self.model].learning_rate

    @property
    def weight_decay_gradient(self) -> float:
        """The coefficient of `w` in the weight-decay gradient (penalty: half of it times
        sum(w^2)); a version-1 spec's `weight_decay` was the penalty's coefficient."""
        return self.weight_decay if self.spec_version >= 2 else 2.0 * self.weight_decay

    def continuing(self, stored: RunSpec) -> RunSpec:
        """This spec as it applies to a run folder whose spec.json is `stored`.

        A run started under an older spec version keeps its meaning (penalty,
        crop) when resumed: the version-dependent fields are taken from it.
        """
        if stored.spec_version >= self.spec_version:
            return self
        return dataclasses.replace(
            self, spec_version=stored.spec_version, augment_crop=stored.augment_crop
        )

    def steps_per_epoch(self, n_train: int) -> int:
        """Whole batches per pass; the remainder of each shuffled epoch is dropped."""
        return max(1, n_train // self.batch_size)

    def total_steps(self, n_train: int) -> int:
        if self.steps is not None:
            return self.steps
        assert self.epochs is not None
        return self.epochs * self.steps_per_epoch(n_train)

    def resolved(self, n_train: int) -> RunSpec:
        """A copy with the learning rate and step count made explicit."""
        return dataclasses.replace(
            self, learning_rate=self.lr, steps=self.total_steps(n_train), epochs=None
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise SpecError(f"unknown spec field(s): {', '.join(unknown)}")
        d = dict(d)
        if "spec_version" not in d:  # written before versions: version 1
            d["spec_version"] = 1
            d.setdefault("augment_crop", "padded")
        return cls(**d)


def _positive(name: str, value: int | None) -> None:
    if value is not None and value <= 0:
        raise SpecError(f"{name} must be positive, got {value}")


def validate(spec: RunSpec) -> None:
    """Raise SpecError naming the first setting that is wrong."""
    if spec.model not in MODELS:
        raise SpecError(f"unknown model {spec.model!r}; choose from {', '.join(MODELS)}")
    if spec.corruption not in CORRUPTIONS:
        raise SpecError(
            f"unknown corruption {spec.corruption!r}; choose from {', '.join(CORRUPTIONS)}"
        )
    if spec.corruption == "partial_labels":
        if spec.level is None:
            raise SpecError("partial_labels needs a corruption level (--level p, 0 <= p <= 1)")
        if not (isinstance(spec.level, int | float) and 0.0 <= spec.level <= 1.0):
            raise SpecError(f"corruption level must be in [0, 1], got {spec.level}")
    elif spec.level is not None:
        raise SpecError(f"a corruption level applies to partial_labels only, not {spec.corruption}")
    if spec.steps is None and spec.epochs is None:
        raise SpecError("give steps or epochs")
    if spec.steps is not None and spec.epochs is not None:
        raise SpecError("give steps or epochs, not both")
    for name in (
        "steps",
        "epochs",
        "batch_size",
        "train_subset",
        "test_subset",
        "log_every",
        "eval_train_every",
    ):
        _positive(name, getattr(spec, name))
    if spec.learning_rate is not None and not (
        math.isfinite(spec.learning_rate) and spec.learning_rate > 0
    ):
        raise SpecError(f"learning rate must be positive, got {spec.learning_rate}")
    if not 0.0 < spec.lr_decay <= 1.0:
        raise SpecError(f"lr decay must be in (0, 1], got {spec.lr_decay}")
    if not 0.0 <= spec.momentum < 1.0:
        raise SpecError(f"momentum must be in [0, 1), got {spec.momentum}")
    if spec.weight_decay < 0:
        raise SpecError(f"weight decay must be >= 0, got {spec.weight_decay}")
    try:
        check_weight_decay_layers(spec.model, spec.weight_decay, spec.weight_decay_layers)
    except ValueError as e:
        raise SpecError(str(e)) from None
    if spec.precision not in PRECISIONS:
        raise SpecError(
            f"unknown precision {spec.precision!r}; choose from {', '.join(PRECISIONS)}"
        )
    if not 0.0 < spec.fit_threshold <= 1.0:
        raise SpecError(f"fit threshold must be in (0, 1], got {spec.fit_threshold}")
    if spec.loss_threshold <= 0:
        raise SpecError(f"loss threshold must be positive, got {spec.loss_threshold}")
    if spec.seed < 0:
        raise SpecError(f"seed must be >= 0, got {spec.seed}")
    if spec.augment_crop not in AUGMENT_CROPS:
        raise SpecError(
            f"unknown random crop {spec.augment_crop!r}; choose from {', '.join(AUGMENT_CROPS)}"
        )
    from rethink.data.datasets import NAMES as DATASETS  # lazy: rethink.data imports spec

    if spec.dataset is not None and spec.dataset not in DATASETS:
        raise SpecError(f"unknown data set {spec.dataset!r}; choose from {', '.join(DATASETS)}")
    if spec.crop is not None and not (isinstance(spec.crop, int) and spec.crop > 0):
        raise SpecError(f"crop must be a positive number of pixels, got {spec.crop}")
    if spec.spec_version not in (1, SPEC_VERSION):
        raise SpecError(f"unknown spec version {spec.spec_version}; this rethink reads 1 and 2")
