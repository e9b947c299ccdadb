"""Stage 2, the models: the paper's five CIFAR-10 networks (Table 1), in one registry.

    from rethink.models import REGISTRY, MODELS, build
    REGISTRY["alexnet"].learning_rate        # 0.01 (Appendix A)
    REGISTRY["alexnet"].paper_parameters     # 1,387,786 (Table 1)
    model = build("inception")               # input 28x28x3, 10 logits (Keras imported here)
    model = build("alexnet", weight_decay=5e-4)

`REGISTRY` is the one table of models: name -> builder, learning rate and
the paper's parameter count. Importing this package does not import Keras
(the run spec validates names against it); `build` does. Every model ends
in a float32 Dense layer producing LOGITS (no softmax): train with
`from_logits=True`; the float32 head keeps the loss in float32 when a
mixed-precision policy is set before `build`. The local response
normalization layer of AlexNet is `rethink.models.lrn`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelInfo:
    """One model of the paper: how to build it and the paper's numbers for it."""

    name: str
    builder: str  # "module:function" under rethink.models, called (shape, classes, regularizer)
    learning_rate: float  # Appendix A: 0.1 for the Inceptions, 0.01 for AlexNet and the MLPs
    paper_parameters: int  # trainable parameters in Table 1 (input 28x28x3, 10 classes)
    options: Mapping[str, Any] = field(default_factory=dict)


REGISTRY: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        ModelInfo("inception", "inception:inception", 0.1, 1_649_402, {"batch_norm": True}),
        ModelInfo("inception_no_bn", "inception:inception", 0.1, 1_649_402, {"batch_norm": False}),
        ModelInfo("alexnet", "alexnet:alexnet", 0.01, 1_387_786),
        ModelInfo("mlp_1x512", "mlp:mlp", 0.01, 1_209_866, {"depth": 1}),
        ModelInfo("mlp_3x512", "mlp:mlp", 0.01, 1_735_178, {"depth": 3}),
    )
}
MODELS: tuple[str, ...] = tuple(REGISTRY)  # the paper's order


def build(
    name: str,
    input_shape: tuple[int, ...] = (28, 28, 3),
    num_classes: int = 10,
    weight_decay: float = 0.0,
) -> Any:
    """A new functional Keras model `name` that maps images to `num_classes` logits.

    `weight_decay` > 0 is weight decay as PyTorch's SGD and the paper's
    TensorFlow code mean it: the gradient of every conv and dense kernel
    (not biases or BatchNorm offsets) gains `weight_decay * w`, through the
    penalty `weight_decay / 2 * sum(w**2)` (Keras `L2(weight_decay / 2)`),
    which the reported loss includes. Raises ValueError for an unknown name
    or a negative weight decay.
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    if weight_decay < 0:
        raise ValueError(f"weight decay must be >= 0, got {weight_decay}")
    import keras

    info = REGISTRY[name]
    module, function = info.builder.split(":")
    make = getattr(importlib.import_module(f"rethink.models.{module}"), function)
    regularizer = keras.regularizers.L2(weight_decay / 2) if weight_decay > 0 else None
    return make(tuple(input_shape), num_classes, regularizer, name=name, **info.options)


__all__ = ["MODELS", "REGISTRY", "ModelInfo", "build"]
