"""Measuring a construction: targets, predictions, the numbers on both splits."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.construct import measure, predict, targets_of
from rethink.data import Arrays, RunData, prepare
from rethink.spec import DataSpec


def test_predict_argmax_and_nearest_label() -> None:
    assert list(predict(np.array([[0.1, 0.9], [2.0, -1.0]]))) == [1, 0]
    assert list(predict(np.array([[3.4], [-2.0], [11.0], [np.nan]]))) == [3, 0, 9, 0]
    assert list(predict(np.array([[7.0]]), num_classes=5)) == [4]


def test_targets_are_one_hot_or_the_label() -> None:
    labels = np.array([2, 0])
    np.testing.assert_array_equal(targets_of(labels, "onehot", 3), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(targets_of(labels, "label"), [[2.0], [0.0]])
    with pytest.raises(ValueError, match="onehot, label"):
        targets_of(labels, "softmax")


def _data(n: int = 200, m: int = 100, classes: int = 4) -> RunData:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n + m, 6, 6, 3)).astype(np.float32)
    y = rng.integers(0, classes, size=n + m).astype(np.int32)
    return RunData(x[:n], y[:n], x[n:], y[n:], num_classes=classes)


def test_measure_fits_every_training_label_and_counts_the_weights() -> None:
    data = _data()
    result = measure(data, seed=0, on_backend=True)
    n, d = 200, 6 * 6 * 3
    assert (result["n"], result["d"], result["outputs"], result["num_classes"]) == (n, d, 4, 4)
    assert result["weights"] == result["keras_weights"] == d + n + 4 * n
    assert result["weights_2n_plus_d"] == 2 * n + d
    assert result["max_error"] < 1e-6 and result["recovered"] == n
    assert result["train_acc"] == 1.0 and result["n_test"] == 100
    assert 0 <= result["keras_recovered"] <= n and result["keras_s"] >= 0
    scalar = measure(data, seed=0, outputs="label")
    assert scalar["weights"] == 2 * n + d and scalar["recovered"] == n
    assert "keras_recovered" not in scalar


@pytest.mark.slow
@pytest.mark.parametrize("corruption", ["true_labels", "random_labels", "gaussian"])
def test_real_cifar10_memorized_at_chance(raw: Arrays, corruption: str) -> None:
    data = prepare(DataSpec(corruption=corruption, train_subset=1000, test_subset=1000), raw)
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
