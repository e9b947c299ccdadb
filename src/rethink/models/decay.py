"""Which layers weight decay applies to: one kernel regularizer per kind of layer.

    regularizers = layer_regularizers(0.004, "hidden_dense")   # the TF tutorial's AlexNet
    alexnet((28, 28, 3), 10, regularizers)

The builders take a `LayerRegularizers` and give each layer the regularizer of
its kind: convolutions, dense layers before the output layer, the output layer.
Names and parameter counts never depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class LayerRegularizers:
    """The kernel regularizer of each kind of layer; None: that kind is not decayed."""

    conv: keras.regularizers.Regularizer | None = None
    hidden_dense: keras.regularizers.Regularizer | None = None  # dense layers before the output
    output: keras.regularizers.Regularizer | None = None  # the logits layer


NONE = LayerRegularizers()


def layer_regularizers(weight_decay: float, layers: str) -> LayerRegularizers:
    """Weight decay `weight_decay` (gradient + weight_decay * w, Keras
    `L2(weight_decay / 2)`) on `layers`: "all" kernels or only "hidden_dense" ones."""
    if weight_decay <= 0:
        return NONE
    l2 = keras.regularizers.L2(weight_decay / 2)
    if layers == "all":
        return LayerRegularizers(conv=l2, hidden_dense=l2, output=l2)
    if layers == "hidden_dense":
        return LayerRegularizers(hidden_dense=l2)
    raise ValueError(f"unknown weight-decay layers {layers!r}")
