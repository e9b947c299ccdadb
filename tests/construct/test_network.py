"""Theorem 1's network in NumPy: the O(n) solve, the exact fit, the weight count, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.construct import (
    ConstructionError,
    Network,
    construct,
    draw_direction,
    interleave,
    one_hot,
    solve,
    weight_count,
)


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


def test_the_direction_is_a_pure_function_of_seed_and_draw() -> None:
    a = draw_direction(30, seed=5, draw=0)
    assert np.linalg.norm(a) == pytest.approx(1.0)
    assert np.array_equal(a, draw_direction(30, seed=5, draw=0))
    assert not np.array_equal(a, draw_direction(30, seed=5, draw=1))
    assert not np.array_equal(a, draw_direction(30, seed=6, draw=0))


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


def test_network_has_the_shapes_it_reports() -> None:
    net = Network(np.ones(3), np.array([0.0, 1.0]), np.zeros((2, 4)))
    assert (net.n, net.d, net.outputs, net.weight_count) == (2, 3, 4, 3 + 2 + 8)
