"""Theorem 1's network as a Keras model: a projection-ReLU layer and a bias-free Dense.

    from rethink.construct.layer import ProjectedReLU, keras_model
    model = keras_model(construction.network)   # input (28, 28, 3), outputs (k,)
    model.count_params()                       # d + n + k * n, as network.weight_count

A Dense(n) hidden layer would have d * n weights; `ProjectedReLU` has the d
of one direction and the n biases: relu(x . a - b_j) for every unit j. The
output layer is `Dense(k, use_bias=False)`: n weights per output. Keras
computes in float32, which cannot tell apart projections 1e-8 apart (its
spacing near 1 is 1.2e-7), so the model's outputs differ from the float64
network's (`rethink.construct.network`); `rethink construct` reports both.
Imports Keras: import this module after choosing the backend.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from rethink.construct.network import Network


@keras.saving.register_keras_serializable(package="rethink")
class ProjectedReLU(keras.layers.Layer):
    """relu(x . direction - bias): `units` ReLUs sharing one projection direction.

    Inputs (batch, d), outputs (batch, units). Weights: `direction` (d,) and
    `bias` (units,), d + units in all.

    Args:
        units: int, the number of ReLUs (one per training point in Theorem 1).
        **kwargs: standard layer arguments, e.g. `name` and `dtype`.

    Example:

        x = keras.Input((2352,))
        h = ProjectedReLU(50_000)(x)  # shape (None, 50000), 52,352 weights
    """

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(units) != units or units < 1:
            raise ValueError(f"units must be a positive integer, got {units}")
        self.units = int(units)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        d = input_shape[-1]
        if d is None:
            raise ValueError("ProjectedReLU needs a known input dimension")
        self.direction = self.add_weight(
            name="direction", shape=(int(d),), initializer="glorot_uniform"
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.built = True

    def call(self, inputs: Any) -> Any:
        z = ops.matmul(inputs, ops.expand_dims(self.direction, -1))  # (batch, 1)
        return ops.relu(z - self.bias)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"units": self.units})
        return config


def keras_model(network: Network, input_shape: tuple[int, ...] = (28, 28, 3)) -> keras.Model:
    """The network as a Keras model (float32 weights): Flatten, ProjectedReLU, Dense."""
    if int(np.prod(input_shape)) != network.d:
        raise ValueError(f"input shape {input_shape} has not the network's {network.d} dimensions")
    inputs = keras.Input(input_shape)
    flat = keras.layers.Flatten(name="flatten")(inputs)
    hidden_layer = ProjectedReLU(network.n, name="projected_relu")
    output_layer = keras.layers.Dense(network.outputs, use_bias=False, name="output")
    model = keras.Model(inputs, output_layer(hidden_layer(flat)), name="theorem1")
    hidden_layer.set_weights(
        [network.direction.astype(np.float32), network.biases.astype(np.float32)]
    )
    output_layer.set_weights([network.weights.astype(np.float32)])
    return model
