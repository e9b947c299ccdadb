"""Multilayer perceptrons of the paper: flatten -> depth x dense 512 ReLU -> dense logits."""

from __future__ import annotations

import keras

from rethink.models.decay import NONE, LayerRegularizers


def mlp(
    input_shape: tuple[int, ...],
    num_classes: int,
    regularizers: LayerRegularizers = NONE,
    depth: int = 1,
    width: int = 512,
    name: str = "mlp",
) -> keras.Model:
    """MLP 1x512 (depth 1, 1,209,866 parameters) or 3x512 (depth 3, 1,735,178); outputs logits.

    `regularizers`: the kernel regularizers of the hidden layers dense1..dense<depth>
    and of the output layer (an MLP has no convolution)."""
    inputs = keras.Input(shape=input_shape, name="images")
    x = keras.layers.Flatten(name="flatten")(inputs)
    for i in range(depth):
        x = keras.layers.Dense(
            width,
            activation="relu",
            kernel_regularizer=regularizers.hidden_dense,
            name=f"dense{i + 1}",
        )(x)
    # float32 head: logits (and so the loss) stay float32 under mixed precision.
    logits = keras.layers.Dense(
        num_classes, kernel_regularizer=regularizers.output, dtype="float32", name="logits"
    )(x)
    return keras.Model(inputs, logits, name=name)
