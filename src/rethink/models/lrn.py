"""Local response normalization across channels, as in the small AlexNet of the paper."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rethink")
class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalization across the channel (last) axis.

    Each activation is divided by a power of the summed squares of its
    neighbours along the channel axis:

        sqr_sum[..., d] = sum(x[..., d - depth_radius : d + depth_radius + 1] ** 2)
        output = x / (bias + alpha * sqr_sum) ** beta

    where the window is clipped at both ends of the channel axis. This is
    exactly `tf.nn.local_response_normalization` (alpha multiplies the plain
    sum, not the mean), written with `keras.ops` so it gives the same numbers
    on every backend. The defaults are those of the TensorFlow CIFAR-10 model
    from which the paper's small AlexNet derives (the paper gives none).
    Inputs are channels-last, e.g. (batch, height, width, channels); the
    output has the input's shape. The layer has no weights.

    Args:
        depth_radius: int, half-width of the channel window (window size
            `2 * depth_radius + 1`). Defaults to 4.
        bias: float, added before the power; keeps the denominator positive.
            Defaults to 1.0.
        alpha: float, scale of the sum of squares. Defaults to 0.001 / 9.
        beta: float, exponent. Defaults to 0.75.
        **kwargs: standard layer arguments, e.g. `name` and `dtype`.

    Reference:
        - Krizhevsky, Sutskever, Hinton. "ImageNet Classification with Deep
          Convolutional Neural Networks." NeurIPS 2012, section 3.3.
        - TensorFlow models, `tutorials/image/cifar10/cifar10.py` (norm1, norm2).

    Example:

        x = keras.Input((14, 14, 64))
        y = LocalResponseNormalization(name="norm1")(x)  # shape (None, 14, 14, 64)
    """

    def __init__(
        self,
        depth_radius: int = 4,
        bias: float = 1.0,
        alpha: float = 0.001 / 9.0,
        beta: float = 0.75,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if int(depth_radius) != depth_radius or depth_radius < 0:
            raise ValueError(f"depth_radius must be a non-negative integer, got {depth_radius}")
        self.depth_radius = int(depth_radius)
        self.bias = float(bias)
        self.alpha = float(alpha)
        self.beta = float(beta)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if input_shape[-1] is None:
            raise ValueError("LocalResponseNormalization needs a known number of channels")
        self.built = True

    def call(self, inputs: Any) -> Any:
        r = self.depth_radius
        channels = inputs.shape[-1]
        squared = ops.square(inputs)
        pad = [[0, 0]] * (len(inputs.shape) - 1) + [[r, r]]
        padded = ops.pad(squared, pad)
        # Summing 2r+1 shifted slices is exact (a cumulative-sum difference would
        # cancel) and cheap for the small radius used here.
        sqr_sum = padded[..., 0:channels]
        for i in range(1, 2 * r + 1):
            sqr_sum = sqr_sum + padded[..., i : i + channels]
        # `**` with a Python exponent: ops.power would make the exponent a tensor on
        # the host in every call on torch (uncapturable in a CUDA graph); same numbers.
        return inputs / (self.bias + self.alpha * sqr_sum) ** self.beta

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "depth_radius": self.depth_radius,
                "bias": self.bias,
                "alpha": self.alpha,
                "beta": self.beta,
            }
        )
        return config
