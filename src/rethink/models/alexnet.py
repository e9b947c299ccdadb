"""The paper's small AlexNet (the TensorFlow CIFAR-10 tutorial model), 1,387,786 parameters.

2 x [conv 5x5 64 same + bias + ReLU -> max-pool 3x3 stride 2 same -> LRN]
-> flatten (7x7x64) -> dense 384 ReLU -> dense 192 ReLU -> dense logits.
"""

from __future__ import annotations

import keras

from rethink.models.decay import NONE, LayerRegularizers
from rethink.models.lrn import LocalResponseNormalization


def alexnet(
    input_shape: tuple[int, ...],
    num_classes: int,
    regularizers: LayerRegularizers = NONE,
    name: str = "alexnet",
) -> keras.Model:
    """The small AlexNet of Table 1; outputs logits. `regularizers`: the kernel
    regularizers of conv1/conv2, dense1/dense2 (hidden) and logits (output)."""
    inputs = keras.Input(shape=input_shape, name="images")
    x = inputs
    for i in (1, 2):
        x = keras.layers.Conv2D(
            64,
            5,
            padding="same",
            activation="relu",
            kernel_regularizer=regularizers.conv,
            name=f"conv{i}",
        )(x)
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{i}")(x)
        x = LocalResponseNormalization(name=f"norm{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for i, width in ((1, 384), (2, 192)):
        x = keras.layers.Dense(
            width,
            activation="relu",
            kernel_regularizer=regularizers.hidden_dense,
            name=f"dense{i}",
        )(x)
    # float32 head: logits (and so the loss) stay float32 under mixed precision.
    logits = keras.layers.Dense(
        num_classes, kernel_regularizer=regularizers.output, dtype="float32", name="logits"
    )(x)
    return keras.Model(inputs, logits, name=name)
