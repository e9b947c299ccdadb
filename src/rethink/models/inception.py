"""The paper's small Inception (Table 1), 1,649,402 parameters, with or without BatchNorm.

conv module = conv (no bias) -> BatchNorm (offset only, no scale) -> ReLU;
without BatchNorm the conv has a bias instead, so the count is the same.
Inception module (c1, c3) = concat[conv module 1x1 c1, conv module 3x3 c3].
Downsample module (c3) = concat[conv module 3x3 stride 2 c3, max-pool 3x3 stride 2].
"""

from __future__ import annotations

from typing import Any

import keras

from rethink.models import BATCH_NORM_MOMENTUM
from rethink.models.decay import NONE, LayerRegularizers

# (kind, filters): "conv" (3x3, c), "inc" (c1, c3), "down" (c3); the paper's order.
_LAYOUT: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("conv", (96,)),
    ("inc", (32, 32)),
    ("inc", (32, 48)),
    ("down", (80,)),
    ("inc", (112, 48)),
    ("inc", (96, 64)),
    ("inc", (80, 80)),
    ("inc", (48, 96)),
    ("down", (96,)),
    ("inc", (176, 160)),
    ("inc", (176, 160)),
)


def inception(
    input_shape: tuple[int, ...],
    num_classes: int,
    regularizers: LayerRegularizers = NONE,
    batch_norm: bool = True,
    name: str = "inception",
) -> keras.Model:
    """The small Inception of Table 1 (7x7x336 before global pooling); outputs logits.

    `regularizers`: the kernel regularizers of the convolutions and of the output
    layer (the Inception has no hidden dense layer)."""

    def conv(x: Any, filters: int, size: int, strides: int, prefix: str) -> Any:
        return _conv_module(x, filters, size, strides, prefix, regularizers.conv, batch_norm)

    inputs = keras.Input(shape=input_shape, name="images")
    x = inputs
    for i, (kind, filters) in enumerate(_LAYOUT):
        prefix = f"{kind}{i}"
        if kind == "conv":
            x = conv(x, filters[0], 3, 1, prefix)
        elif kind == "inc":
            branch1 = conv(x, filters[0], 1, 1, f"{prefix}_1x1")
            branch3 = conv(x, filters[1], 3, 1, f"{prefix}_3x3")
            x = keras.layers.Concatenate(name=f"{prefix}_concat")([branch1, branch3])
        else:
            branch3 = conv(x, filters[0], 3, 2, f"{prefix}_3x3")
            pooled = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=f"{prefix}_pool")(
                x
            )
            x = keras.layers.Concatenate(name=f"{prefix}_concat")([branch3, pooled])
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    # float32 head: logits (and so the loss) stay float32 under mixed precision.
    logits = keras.layers.Dense(
        num_classes, kernel_regularizer=regularizers.output, dtype="float32", name="logits"
    )(x)
    return keras.Model(inputs, logits, name=name)


def _conv_module(
    x: Any,
    filters: int,
    size: int,
    strides: int,
    name: str,
    kernel_regularizer: keras.regularizers.Regularizer | None,
    batch_norm: bool,
) -> Any:
    """conv -> BatchNorm (offset only) -> ReLU; without BatchNorm the conv has a bias."""
    x = keras.layers.Conv2D(
        filters,
        size,
        strides=strides,
        padding="same",
        use_bias=not batch_norm,
        kernel_regularizer=kernel_regularizer,
        name=f"{name}_conv",
    )(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(
            momentum=BATCH_NORM_MOMENTUM, scale=False, name=f"{name}_bn"
        )(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)
