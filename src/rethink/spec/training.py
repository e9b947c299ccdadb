"""The training part of a run: the model and the protocol it is trained with.

    part = TrainingSpec(model="inception", weight_decay=5e-4)
    part.lr                          # 0.1: the model's learning rate (Appendix A)
    part.total_steps(50_000)         # 25,000 (Figure 1a's axis)

Every default is the paper's protocol (Zhang et al. 2017, Appendix A) or,
where the paper is silent, rethink's documented choice (README, "The
protocol, and the choices the paper leaves open"). Pure Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rethink.spec.architectures import (
    WEIGHT_DECAY_LAYERS,
    check_model,
    check_weight_decay_layers,
    learning_rate_of,
    parse_reference,
)
from rethink.spec.errors import SpecError, plain_strs, positive

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")

# spec.json format. Version 1 (before 0.2): `weight_decay` was the Keras L2
# coefficient (penalty wd * sum(w^2), gradient 2 wd w) and random crop was the
# padded one. Version 2: `weight_decay` is the gradient coefficient (penalty
# wd/2 * sum(w^2), gradient wd w, as in PyTorch's SGD and the paper's
# TensorFlow code). A spec.json without the field is version 1, so an old run
# resumes with exactly the penalty and crop it started with. Fields added since
# (`weight_decay_layers`) default to what version 2 always did, so a spec.json
# without them keeps its meaning without a new version.
SPEC_VERSION = 2


@dataclass(frozen=True, kw_only=True)
class TrainingSpec:
    """The model and its training protocol; validated on creation (SpecError)."""

    model: str
    steps: int | None = 25_000  # the x-axis of Figure 1a; None: use `epochs`
    epochs: int | None = None  # alternative to steps: whole passes over the data
    batch_size: int = 128
    learning_rate: float | None = None  # None: 0.1 Inception, 0.01 others (and yours)
    lr_decay: float = 0.95  # multiplied in after every epoch
    momentum: float = 0.9
    weight_decay: float = 0.0  # gradient wd * w on the kernels below (Table 1 uses 5e-4)
    # WEIGHT_DECAY_LAYERS: "all" conv/dense kernels, or "hidden_dense" (the dense layers
    # before the output only: the TF CIFAR-10 tutorial's AlexNet; run id "...-wd0.004-hd-s0").
    # Without weight decay it means nothing and is stored as "all".
    weight_decay_layers: str = "all"
    precision: str = "float32"
    stop_at_fit: bool = False  # stop once training accuracy reaches fit_threshold
    fit_threshold: float = 1.0  # training accuracy that counts as "fitted"
    loss_threshold: float = 0.01  # training loss for "steps to loss"
    log_every: int = 100  # a metrics row every N global steps, each the mean of N steps
    eval_train_every: int | None = None  # evaluate the whole training split every K epochs
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    spec_version: int = SPEC_VERSION  # spec.json format; see SPEC_VERSION

    def __post_init__(self) -> None:
        normalize_training(self)
        validate_training(self)

    @property
    def lr(self) -> float:
        """The initial learning rate, the model's paper default unless set."""
        if self.learning_rate is not None:
            return self.learning_rate
        return learning_rate_of(self.model)

    @property
    def weight_decay_gradient(self) -> float:
        """The coefficient of `w` in the weight-decay gradient (penalty: half of it times
        sum(w^2)); a version-1 spec's `weight_decay` was the penalty's coefficient."""
        return self.weight_decay if self.spec_version >= 2 else 2.0 * self.weight_decay

    def steps_per_epoch(self, n_train: int) -> int:
        """Whole batches per pass; the remainder of each shuffled epoch is dropped."""
        return max(1, n_train // self.batch_size)

    def total_steps(self, n_train: int) -> int:
        """Steps the run trains on `n_train` images: `steps`, or `epochs` whole passes."""
        if self.steps is not None:
            return self.steps
        assert self.epochs is not None
        return self.epochs * self.steps_per_epoch(n_train)


TRAINING_CHOICES = ("model", "precision", "weight_decay_layers")


def normalize_training(spec: TrainingSpec) -> None:
    """One spelling of what trains the same (CLI choices as plain strs; no weight decay:
    the layers it would apply to are "all")."""
    plain_strs(spec, TRAINING_CHOICES)
    ref = parse_reference(spec.model) if isinstance(spec.model, str) else None
    if ref is not None:  # one spelling of a model of yours: "./x.py:f" is "x.py:f"
        object.__setattr__(spec, "model", ref.text)
    if not spec.weight_decay and spec.weight_decay_layers in WEIGHT_DECAY_LAYERS:
        # No decay: every choice trains the same, so one spelling (ids, resume checks,
        # and a grid whose variants turn weight decay off).
        object.__setattr__(spec, "weight_decay_layers", "all")


def validate_training(spec: TrainingSpec) -> None:
    """Raise SpecError naming the first training setting that is wrong."""
    try:
        check_model(spec.model)
    except ValueError as e:
        raise SpecError(str(e)) from None
    if spec.steps is None and spec.epochs is None:
        raise SpecError("give steps or epochs")
    if spec.steps is not None and spec.epochs is not None:
        raise SpecError("give steps or epochs, not both")
    for name in ("steps", "epochs", "batch_size", "log_every", "eval_train_every"):
        positive(name, getattr(spec, name))
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
    if spec.spec_version not in (1, SPEC_VERSION):
        raise SpecError(f"unknown spec version {spec.spec_version}; this rethink reads 1 and 2")
