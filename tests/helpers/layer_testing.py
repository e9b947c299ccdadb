"""A shared layer-test helper in the keras-hub style (not a test module itself).

    from tests.helpers.layer_testing import run_layer_test
    run_layer_test(MyLayer, {"units": 3}, (2, 7, 7, 8), (2, 7, 7, 8))

Checks build, a symbolic call on `keras.Input`, an eager call, one compiled
`fit` step of a tiny model that back-propagates through the layer, and a
config round-trip (`from_config(get_config())` gives the same outputs).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np


def run_layer_test(
    layer_cls: type[keras.layers.Layer],
    init_kwargs: dict[str, Any],
    input_shape: tuple[int, ...],
    expected_output_shape: tuple[int, ...],
    seed: int = 0,
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(input_shape).astype("float32")

    # build
    layer = layer_cls(**init_kwargs)
    layer.build(input_shape)
    assert layer.built

    # symbolic call
    symbolic_in = keras.Input(shape=input_shape[1:], batch_size=input_shape[0])
    symbolic_out = layer_cls(**init_kwargs)(symbolic_in)
    assert tuple(symbolic_out.shape) == tuple(expected_output_shape)

    # eager call
    eager_out = keras.ops.convert_to_numpy(layer(x))
    assert eager_out.shape == tuple(expected_output_shape)
    assert np.all(np.isfinite(eager_out))

    # compiled fit step: a Dense in front, so gradients flow through the layer
    inputs = keras.Input(shape=input_shape[1:])
    hidden = keras.layers.Dense(input_shape[-1])(inputs)
    model = keras.Model(inputs, layer_cls(**init_kwargs)(hidden))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    y = rng.standard_normal(expected_output_shape).astype("float32")
    history = model.fit(x, y, batch_size=input_shape[0], epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])

    # config round-trip
    config = layer.get_config()
    revived = layer_cls.from_config(config)
    assert revived.get_config() == config
    revived.build(input_shape)
    revived.set_weights(layer.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(revived(x)), eager_out, rtol=1e-6, atol=1e-6
    )
