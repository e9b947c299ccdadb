"""The paper's five CIFAR-10 models (Zhang et al. 2017, Table 1), by name.

    from rethink.models import build, names, PAPER_PARAMETERS
    model = build("inception")            # input 28x28x3, 10 logits
    model = build("alexnet", weight_decay=5e-4)

Every model ends in a float32 Dense layer producing LOGITS (no softmax):
train with `from_logits=True`. The float32 head keeps the loss in float32
when a mixed-precision policy is set globally before `build`.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from rethink.models.alexnet import alexnet
from rethink.models.inception import inception
from rethink.models.mlp import mlp

Builder = Callable[[tuple[int, ...], int, keras.regularizers.Regularizer | None], keras.Model]

# Trainable parameter counts of Table 1 (input 28x28x3, 10 classes).
PAPER_PARAMETERS: dict[str, int] = {
    "inception": 1_649_402,
    "inception_no_bn": 1_649_402,
    "alexnet": 1_387_786,
    "mlp_1x512": 1_209_866,
    "mlp_3x512": 1_735_178,
}

_BUILDERS: dict[str, Builder] = {
    "inception": lambda s, k, r: inception(s, k, r, batch_norm=True, name="inception"),
    "inception_no_bn": lambda s, k, r: inception(s, k, r, batch_norm=False, name="inception_no_bn"),
    "alexnet": lambda s, k, r: alexnet(s, k, r, name="alexnet"),
    "mlp_1x512": lambda s, k, r: mlp(s, k, r, depth=1, name="mlp_1x512"),
    "mlp_3x512": lambda s, k, r: mlp(s, k, r, depth=3, name="mlp_3x512"),
}


def names() -> list[str]:
    """The model names, in the paper's order."""
    return list(_BUILDERS)


def build(
    name: str,
    input_shape: tuple[int, ...] = (28, 28, 3),
    num_classes: int = 10,
    weight_decay: float = 0.0,
) -> keras.Model:
    """A new functional Keras model `name` that maps images to `num_classes` logits.

    `weight_decay` > 0 is weight decay as PyTorch's SGD and the paper's
    TensorFlow code mean it: the gradient of every conv and dense kernel
    (not biases or BatchNorm offsets) gains `weight_decay * w`, through the
    penalty `weight_decay / 2 * sum(w**2)` (Keras `L2(weight_decay / 2)`),
    which the reported loss includes. Raises ValueError for an unknown name
    or a negative weight decay.
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(_BUILDERS)}")
    if weight_decay < 0:
        raise ValueError(f"weight decay must be >= 0, got {weight_decay}")
    regularizer = keras.regularizers.L2(weight_decay / 2) if weight_decay > 0 else None
    return _BUILDERS[name](tuple(input_shape), num_classes, regularizer)


__all__ = ["PAPER_PARAMETERS", "build", "names"]
