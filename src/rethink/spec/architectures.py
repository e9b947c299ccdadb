"""The models a run can name: the paper's five networks as facts, without Keras.

    REGISTRY["alexnet"].learning_rate        # 0.01 (Appendix A)
    REGISTRY["alexnet"].paper_parameters     # 1,387,786 (Table 1)
    MODELS                                    # the names, in the paper's order

`REGISTRY` is the one table of models: name -> where its builder is (a
"module:function" under `rethink.models`, imported only by `rethink.models.build`),
its learning rate and the paper's parameter count, and what the model is made
of where other stages need to know it (hidden dense layers for weight decay,
BatchNorm for the grid's view). Pure Python: the run spec validates names and
takes its default learning rate from here; the builders live in `rethink.models`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Which layers weight decay applies to (RunSpec.weight_decay_layers): "all" decays
# every conv and dense kernel; "hidden_dense" only the dense layers before the
# output layer, as the TensorFlow CIFAR-10 tutorial (the paper's AlexNet) does.
# Biases and BatchNorm are never decayed.
WEIGHT_DECAY_LAYERS = ("all", "hidden_dense")

# Keras BatchNormalization's moving averages (momentum 0.99, which the Inception
# uses) keep 0.99**n of their initial values (mean 0, variance 1) after n
# training steps: more than 1% before 459 steps. Until then, inference-mode
# numbers of a BatchNorm model (test split, training-split evaluation) come from
# statistics that have not settled.
BATCH_NORM_MOMENTUM = 0.99
BATCH_NORM_SETTLED_STEPS = math.ceil(math.log(0.01) / math.log(BATCH_NORM_MOMENTUM))  # 459


@dataclass(frozen=True)
class ModelInfo:
    """One model of the paper: how to build it and the paper's numbers for it."""

    name: str
    builder: str  # "module:function" under rethink.models, called (shape, classes, regularizers)
    learning_rate: float  # Appendix A: 0.1 for the Inceptions, 0.01 for AlexNet and the MLPs
    paper_parameters: int  # trainable parameters in Table 1 (input 28x28x3, 10 classes)
    options: Mapping[str, Any] = field(default_factory=dict)
    hidden_dense: int = 0  # dense layers before the output layer (weight_decay_layers)

    @property
    def batch_norm(self) -> bool:
        """Whether the model has BatchNorm layers (moving statistics in inference mode)."""
        return bool(self.options.get("batch_norm", False))


REGISTRY: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        ModelInfo("inception", "inception:inception", 0.1, 1_649_402, {"batch_norm": True}),
        ModelInfo("inception_no_bn", "inception:inception", 0.1, 1_649_402, {"batch_norm": False}),
        ModelInfo("alexnet", "alexnet:alexnet", 0.01, 1_387_786, hidden_dense=2),
        ModelInfo("mlp_1x512", "mlp:mlp", 0.01, 1_209_866, {"depth": 1}, hidden_dense=1),
        ModelInfo("mlp_3x512", "mlp:mlp", 0.01, 1_735_178, {"depth": 3}, hidden_dense=3),
    )
}
MODELS: tuple[str, ...] = tuple(REGISTRY)  # the paper's order


def check_weight_decay_layers(name: str, weight_decay: float, layers: str) -> None:
    """Raise ValueError if weight decay cannot apply to `layers` of model `name`:
    an unknown choice, or `hidden_dense` with weight decay on a model without
    hidden dense layers (the Inceptions), where it would decay nothing."""
    if layers not in WEIGHT_DECAY_LAYERS:
        raise ValueError(
            f"unknown weight-decay layers {layers!r}; choose from {', '.join(WEIGHT_DECAY_LAYERS)}"
        )
    if layers == "hidden_dense" and weight_decay > 0 and not REGISTRY[name].hidden_dense:
        with_dense = ", ".join(m.name for m in REGISTRY.values() if m.hidden_dense)
        raise ValueError(
            f"{name} has no hidden dense layer: weight decay on hidden_dense would decay "
            f"nothing (models with them: {with_dense})"
        )


def batch_norm_settled(name: str, steps: int) -> bool:
    """Whether model `name`'s inference-mode numbers after `steps` training steps come
    from settled statistics: True without BatchNorm, else from
    BATCH_NORM_SETTLED_STEPS steps on."""
    return not REGISTRY[name].batch_norm or steps >= BATCH_NORM_SETTLED_STEPS
