"""Stage 2, the models: the paper's five CIFAR-10 networks (Table 1), in one registry.

    from rethink.models import REGISTRY, MODELS, build
    REGISTRY["alexnet"].learning_rate        # 0.01 (Appendix A)
    REGISTRY["alexnet"].paper_parameters     # 1,387,786 (Table 1)
    model = build("inception")               # input 28x28x3, 10 logits (Keras imported here)
    model = build("alexnet", weight_decay=5e-4)
    model = build("alexnet", weight_decay=0.004, weight_decay_layers="hidden_dense")
    register("tiny", tiny_builder, learning_rate=0.05)   # a model of yours, by name
    model = build("tiny")                    # or build("nets.py:resnet20"), build("pkg.nets:f")
    model = load("runs/resnet20-1a2b3c4d-random_labels-s0")   # its model.keras

`REGISTRY` is the one table of models: name -> builder, learning rate and
the paper's parameter count, and what the model is made of where other
stages need to know it (hidden dense layers for weight decay, BatchNorm for
the grid's view). Importing this package does not import Keras (the run spec
validates names against it); `build` does. Every model ends
in a float32 Dense layer producing LOGITS (no softmax): train with
`from_logits=True`; the float32 head keeps the loss in float32 when a
mixed-precision policy is set before `build`. The local response
normalization layer of AlexNet is `rethink.models.lrn`. Models of yours
(`register`, or a "module:builder" / "file.py:builder" reference) are
`rethink.models.custom`: built, then checked (a keras.Model, one output per class).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from rethink.models.custom import ModelError, builder_of, configure, register, unregister
from rethink.spec.architectures import (
    BATCH_NORM_MOMENTUM,
    BATCH_NORM_SETTLED_STEPS,
    CUSTOM,
    DEFAULT_LEARNING_RATE,
    MODEL_OUTPUTS,
    MODELS,
    REGISTRY,
    WEIGHT_DECAY_LAYERS,
    ModelInfo,
    batch_norm_settled,
    check_model,
    check_weight_decay_layers,
    is_custom,
)


def build(
    name: str,
    input_shape: tuple[int, ...] = (28, 28, 3),
    num_classes: int = 10,
    weight_decay: float = 0.0,
    weight_decay_layers: str = "all",
) -> Any:
    """A new functional Keras model `name` that maps images to `num_classes` logits.

    `weight_decay` > 0 is weight decay as PyTorch's SGD and the paper's
    TensorFlow code mean it: the gradient of each decayed kernel (never
    biases or BatchNorm offsets) gains `weight_decay * w`, through the
    penalty `weight_decay / 2 * sum(w**2)` (Keras `L2(weight_decay / 2)`),
    which the reported loss includes. `weight_decay_layers` says which
    kernels: "all" (every conv and dense layer) or "hidden_dense" (the dense
    layers before the output layer only, as the TensorFlow CIFAR-10 tutorial
    decays its AlexNet). Raises ValueError for an unknown name or choice, a
    negative weight decay, or hidden_dense on a model without hidden dense layers.

    A model of yours (`register`ed, or a reference "module:builder" or
    "file.py:builder") is built by its builder and checked
    (`rethink.models.custom.build_custom`; ModelError, a ValueError, if it is not
    a keras.Model with one output per class); weight decay is not for it.
    """
    check_model(name)
    if weight_decay < 0:
        raise ValueError(f"weight decay must be >= 0, got {weight_decay}")
    check_weight_decay_layers(name, weight_decay, weight_decay_layers)
    if is_custom(name):
        from rethink.models.custom import build_custom

        return build_custom(name, tuple(input_shape), num_classes)
    from rethink.models.decay import layer_regularizers

    info = REGISTRY[name]
    module, function = info.builder.split(":")
    make = getattr(importlib.import_module(f"rethink.models.{module}"), function)
    regularizers = layer_regularizers(weight_decay, weight_decay_layers)
    return make(tuple(input_shape), num_classes, regularizers, name=name, **info.options)


def load(path: str | Path) -> Any:
    """The trained model of a run folder (its model.keras) or of a .keras file, read with
    `keras.saving.load_model` once rethink's layers and, for a run of a model of yours,
    the copy of its file the run kept (model.py: its own custom layers) are imported."""
    import keras

    from rethink.models import logits, lrn  # noqa: F401  (registers their layers)

    path = Path(path)
    folder = path if path.is_dir() else path.parent
    from rethink.models.custom import SOURCE_COPY, file_module

    source = folder / SOURCE_COPY
    if source.is_file():
        file_module(source)
    return keras.saving.load_model(path / "model.keras" if path.is_dir() else path)


__all__ = [
    "BATCH_NORM_MOMENTUM",
    "BATCH_NORM_SETTLED_STEPS",
    "CUSTOM",
    "DEFAULT_LEARNING_RATE",
    "MODELS",
    "MODEL_OUTPUTS",
    "REGISTRY",
    "WEIGHT_DECAY_LAYERS",
    "ModelError",
    "ModelInfo",
    "batch_norm_settled",
    "build",
    "builder_of",
    "check_model",
    "check_weight_decay_layers",
    "configure",
    "is_custom",
    "load",
    "register",
    "unregister",
]
