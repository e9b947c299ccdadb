"""Theorem 1's construction: the O(n) solve, exact fit, weight count, Keras model, real data."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from rethink.construct import (
    ConstructionError,
    Network,
    construct,
    interleave,
    measure,
    one_hot,
    predict,
    solve,
    weight_count,
)
from rethink.construct.layer import ProjectedReLU, keras_model
from rethink.data import Arrays, load_cifar10, prepare
from rethink.spec import RunSpec
from tests.helpers.layer_testing import run_layer_test


def _points(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


@pytest.mark.parametrize("position", [0.5, 0.1])
def test_o_n_solve_equals_a_dense_triangular_solve(position: float) -> None:
    rng = np.random.default_rng(1)
    z = np.sort(rng.standard_normal(300))
    b = interleave(z, position)
    assert b[0] < z[0] and np.all(z[:-1] < b[1:]) and np.all(b[1:] < z[1:])
    y = rng.integers(0, 10, size=(300, 3)).astype(np.float64)
    a = np.maximum(z[:, None] - b[None, :], 0.0)
    assert np.all(np.triu(a, 1) == 0) and np.all(np.diag(a) > 0)  # lower triangular
    dense = np.linalg.solve(a, y)
    w = solve(z, b, y)
    np.testing.assert_allclose(w, dense, rtol=1e-6, atol=1e-6 * np.abs(dense).max())
    np.testing.assert_allclose(a @ w, y, atol=1e-8)
    # One target column gives one weight column.
    assert solve(z, b, y[:, 0]).shape == (300,)


def test_network_fits_any_labelling_exactly_in_float64() -> None:
    x = _points(400, 20)
    for seed in range(3):
        labels = np.random.default_rng(seed).integers(0, 10, size=400)
        targets = one_hot(labels, 10)
        built = construct(x, targets, seed=seed)
        net = built.network
        out = net(x)
        assert np.abs(out - targets).max() < 1e-8
        assert np.array_equal(out.argmax(axis=1), labels)
        # The prefix-sum evaluation is the literal sum over every unit.
        np.testing.assert_allclose(out, net.dense(net.project(x)), atol=1e-7)
        # The biases interleave the sorted projections.
        z = np.sort(net.project(x))
        assert np.all(net.biases < z) and np.all(net.biases[1:] > z[:-1])
        assert built.min_gap == pytest.approx(np.diff(z).min())


def test_weight_count_is_2n_plus_d_per_output_sharing_the_hidden_layer() -> None:
    assert weight_count(100, 7) == 2 * 100 + 7
    assert weight_count(100, 7, outputs=10) == 7 + 100 + 10 * 100
    x = _points(50, 12)
    scalar = construct(x, np.arange(50) % 10).network
    assert scalar.weight_count == 2 * 50 + 12
    assert scalar.direction.size + scalar.biases.size + scalar.weights.size == 2 * 50 + 12
    onehot = construct(x, one_hot(np.arange(50) % 10, 10)).network
    assert onehot.weight_count == 12 + 50 + 10 * 50


def test_identical_points_are_refused_with_a_count() -> None:
    x = _points(20, 5)
    x[7] = x[3]
    redraws: list[str] = []
    with pytest.raises(ConstructionError, match="1 of the 20 points repeat"):
        construct(x, np.zeros(20), draws=2, notify=redraws.append)
    assert len(redraws) == 2 and "coincide" in redraws[0]


def test_bad_arguments() -> None:
    with pytest.raises(ConstructionError):
        interleave(np.array([0.0, 1.0]), position=1.0)
    with pytest.raises(ConstructionError, match="targets"):
        construct(_points(5, 3), np.zeros(4))
    # One point: b_1 below it, w_1 * (z_1 - b_1) = y_1.
    net = construct(_points(1, 3), np.array([4.0])).network
    assert net(_points(1, 3))[0, 0] == pytest.approx(4.0)


def test_predict_argmax_and_nearest_label() -> None:
    assert list(predict(np.array([[0.1, 0.9], [2.0, -1.0]]))) == [1, 0]
    assert list(predict(np.array([[3.4], [-2.0], [11.0], [np.nan]]))) == [3, 0, 9, 0]


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
    x = _points(60, 4 * 4 * 3).reshape(60, 4, 4, 3)
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


def test_network_has_the_shapes_it_reports() -> None:
    net = Network(np.ones(3), np.array([0.0, 1.0]), np.zeros((2, 4)))
    assert (net.n, net.d, net.outputs, net.weight_count) == (2, 3, 4, 3 + 2 + 8)


@pytest.fixture(scope="module")
def raw(cifar_archive: Path) -> Arrays:
    return load_cifar10(cifar_archive)


@pytest.mark.parametrize("corruption", ["true_labels", "random_labels", "gaussian"])
def test_real_cifar10_memorized_at_chance(raw: Arrays, corruption: str) -> None:
    spec = RunSpec(model="mlp_1x512", corruption=corruption, train_subset=1000, test_subset=1000)
    data = prepare(spec, raw)
    result = measure(data, seed=0, on_backend=True)
    n, d = 1000, 28 * 28 * 3
    assert (result["n"], result["d"], result["outputs"]) == (n, d, 10)
    assert result["weights"] == result["keras_weights"] == d + n + 10 * n
    assert result["weights_2n_plus_d"] == 2 * n + d
    assert result["min_gap"] > 0
    assert result["max_error"] < 1e-6  # float64: exact up to rounding
    assert result["recovered"] == n and result["train_acc"] == 1.0
    assert 0.05 < result["test_acc"] < 0.16  # chance is 0.10
    assert 0.05 < result["keras_test_acc"] < 0.16
    # float32 is reported as it is: a number of labels, not asserted to be all.
    assert 0 <= result["keras_recovered"] <= n

    scalar = measure(data, seed=0, outputs="label")
    assert scalar["weights"] == 2 * n + d
    assert scalar["recovered"] == n and scalar["max_error"] < 1e-5
