"""LocalResponseNormalization: shape/fit/config contract, NumPy reference, save/load."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from rethink.models.lrn import LocalResponseNormalization
from tests.helpers.layer_testing import run_layer_test


def lrn_reference(x: np.ndarray, depth_radius: int, bias: float, alpha: float, beta: float):
    """tf.nn.local_response_normalization, written out with a loop over channels."""
    x = x.astype(np.float64)
    channels = x.shape[-1]
    sqr_sum = np.zeros_like(x)
    for d in range(channels):
        lo, hi = max(0, d - depth_radius), min(channels, d + depth_radius + 1)
        sqr_sum[..., d] = np.sum(x[..., lo:hi] ** 2, axis=-1)
    return x / (bias + alpha * sqr_sum) ** beta


def test_layer_contract():
    run_layer_test(
        LocalResponseNormalization,
        {"depth_radius": 2, "bias": 2.0, "alpha": 0.1, "beta": 0.5},
        input_shape=(2, 5, 5, 6),
        expected_output_shape=(2, 5, 5, 6),
    )


def test_defaults_are_the_tensorflow_cifar10_values():
    layer = LocalResponseNormalization()
    assert layer.depth_radius == 4
    assert layer.bias == 1.0
    assert layer.alpha == pytest.approx(0.001 / 9.0)
    assert layer.beta == 0.75


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # the paper's defaults; activations of a few units make them matter
        {"depth_radius": 2, "bias": 2.0, "alpha": 0.1, "beta": 0.5},
        {"depth_radius": 0, "bias": 1.0, "alpha": 1.0, "beta": 1.0},
        {"depth_radius": 8, "bias": 0.5, "alpha": 0.05, "beta": 0.75},  # window > channels
    ],
)
def test_matches_numpy_reference(kwargs):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((2, 4, 4, 11)) * 5).astype("float32")
    layer = LocalResponseNormalization(**kwargs)
    expected = lrn_reference(x, layer.depth_radius, layer.bias, layer.alpha, layer.beta)
    out = keras.ops.convert_to_numpy(layer(x))
    assert not np.allclose(expected, x, atol=1e-3)  # the normalization does something
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_negative_radius_is_rejected():
    with pytest.raises(ValueError, match="depth_radius"):
        LocalResponseNormalization(depth_radius=-1)


def test_saved_model_loads_without_custom_objects(tmp_path):
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    x = LocalResponseNormalization(depth_radius=2, alpha=0.01, name="norm")(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    x_in = np.random.default_rng(2).standard_normal((2, 6, 6, 3)).astype("float32")
    path = tmp_path / "lrn.keras"
    model.save(path)

    loaded = keras.saving.load_model(path)

    assert isinstance(loaded.get_layer("norm"), LocalResponseNormalization)
    assert loaded.get_layer("norm").get_config() == model.get_layer("norm").get_config()
    np.testing.assert_allclose(
        loaded.predict(x_in, verbose=0), model.predict(x_in, verbose=0), rtol=1e-5, atol=1e-6
    )
