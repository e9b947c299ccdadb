"""Theorem 1's network as a Keras model: ProjectedReLU, the model's weights and outputs."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from rethink.construct import construct, one_hot
from rethink.construct.layer import ProjectedReLU, keras_model
from tests.helpers.layer_testing import run_layer_test


def test_projected_relu_layer() -> None:
    run_layer_test(ProjectedReLU, {"units": 5}, (4, 6), (4, 5))
    layer = ProjectedReLU(3)
    layer.build((None, 2))
    layer.set_weights([np.array([1.0, 2.0], "float32"), np.array([0.0, 1.0, 5.0], "float32")])
    out = keras.ops.convert_to_numpy(layer(np.array([[1.0, 1.0]], "float32")))
    np.testing.assert_allclose(out, [[3.0, 2.0, 0.0]])
    with pytest.raises(ValueError):
        ProjectedReLU(0)


def test_keras_model_has_the_network_weights_and_outputs() -> None:
    x = np.random.default_rng(0).standard_normal((60, 4, 4, 3)).astype(np.float32)
    labels = np.arange(60) % 10
    net = construct(x, one_hot(labels, 10)).network
    model = keras_model(net, (4, 4, 3))
    assert model.count_params() == net.weight_count == 48 + 60 + 600
    out = model.predict(x, verbose=0)
    # Well separated points: float32 gives the same labels as float64.
    assert np.array_equal(out.argmax(axis=1), labels)
    np.testing.assert_allclose(out, net(x), atol=5e-2)
    # The model round-trips through its config (ProjectedReLU is registered).
    revived = keras.Model.from_config(model.get_config())
    revived.set_weights(model.get_weights())
    np.testing.assert_allclose(revived.predict(x, verbose=0), out, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="dimensions"):
        keras_model(net, (28, 28, 3))
