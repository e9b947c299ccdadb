"""Build Theorem 1's network for a run's training set and measure it: fit, weights, test.

    data = prepare(DataSpec(corruption="random_labels"), raw)
    result = measure(data, seed=0)                  # float64 only, pure NumPy
    result = measure(data, seed=0, on_backend=True)  # also the float32 Keras model

`result` is a flat dict of plain numbers (see `measure`), what `rethink
construct` prints and writes to construct.json. With `outputs="onehot"` the
network has one output per class (targets one-hot, prediction argmax) sharing
the hidden layer; with `outputs="label"` one output fitted to the label value
0..k-1 (prediction: the nearest label), exactly 2n + d weights.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from rethink.construct.network import DEFAULT_DRAWS, Network, construct, one_hot
from rethink.data.pipeline import RunData

OUTPUTS = ("onehot", "label")
# Images per Keras predict batch: the hidden layer is (batch, n) float32.
BATCH_SIZE = 500


def targets_of(labels: np.ndarray, outputs: str, num_classes: int = 10) -> np.ndarray:
    """The float64 targets (n, k) the network is fitted to: one-hot (k = the classes)
    or the label (k = 1)."""
    if outputs == "onehot":
        return one_hot(labels, num_classes)
    if outputs == "label":
        return np.asarray(labels, dtype=np.float64).reshape(-1, 1)
    raise ValueError(f"unknown outputs {outputs!r}; choose from {', '.join(OUTPUTS)}")


def predict(values: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Class predictions from outputs (m, k): argmax for k > 1, else the nearest
    label in 0..num_classes - 1."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape[1] > 1:
        return np.asarray(np.argmax(values, axis=1))
    nearest = np.rint(np.nan_to_num(values[:, 0], nan=-1.0, posinf=num_classes, neginf=-1.0))
    return np.asarray(np.clip(nearest, 0, num_classes - 1).astype(np.int64))


def measure(
    data: RunData,
    seed: int = 0,
    outputs: str = "onehot",
    position: float = 0.5,
    on_backend: bool = False,
    draws: int = DEFAULT_DRAWS,
    notify: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Construct the network on `data`'s training split and measure it.

    Keys: n, d, outputs, weights, weights_2n_plus_d, min_gap, draws, position;
    float64: max_error, recovered, train_acc, test_acc; float32 Keras model
    (with `on_backend`): keras_weights, keras_max_error, keras_recovered,
    keras_train_acc, keras_test_acc; seconds: construct_s, float64_s, keras_s.
    """
    y_train = np.asarray(data.y_train).reshape(-1)
    y_test = np.asarray(data.y_test).reshape(-1)
    k = data.num_classes
    targets = targets_of(y_train, outputs, k)
    start = time.perf_counter()
    built = construct(
        data.x_train, targets, seed=seed, position=position, draws=draws, notify=notify
    )
    net = built.network
    result: dict[str, Any] = {
        "n": net.n,
        "d": net.d,
        "outputs": net.outputs,
        "targets": outputs,
        "weights": net.weight_count,
        "weights_2n_plus_d": 2 * net.n + net.d,
        "min_gap": built.min_gap,
        "draws": built.draws,
        "position": position,
        "n_test": len(y_test),
        "num_classes": k,
        "construct_s": time.perf_counter() - start,
    }
    start = time.perf_counter()
    result.update(_scores("", net(data.x_train), targets, y_train, net(data.x_test), y_test, k))
    result["max_abs_weight"] = float(np.max(np.abs(net.weights)))
    result["float64_s"] = time.perf_counter() - start
    if on_backend:
        start = time.perf_counter()
        result.update(_on_backend(net, data, targets, y_train, y_test))
        result["keras_s"] = time.perf_counter() - start
    return result


def _scores(
    prefix: str,
    train_out: np.ndarray,
    targets: np.ndarray,
    y_train: np.ndarray,
    test_out: np.ndarray,
    y_test: np.ndarray,
    num_classes: int,
) -> dict[str, Any]:
    train_pred = predict(train_out, num_classes)
    recovered = int(np.sum(train_pred == y_train))
    errors = np.abs(np.asarray(train_out, dtype=np.float64) - targets)
    return {
        # A NaN output (float32 overflow) counts as an infinite error.
        f"{prefix}max_error": float(np.max(np.nan_to_num(errors, nan=np.inf))),
        f"{prefix}recovered": recovered,
        f"{prefix}train_acc": recovered / len(y_train),
        f"{prefix}test_acc": float(np.mean(predict(test_out, num_classes) == y_test)),
    }


def _on_backend(
    net: Network, data: RunData, targets: np.ndarray, y_train: np.ndarray, y_test: np.ndarray
) -> dict[str, Any]:
    from rethink.construct.layer import keras_model

    model = keras_model(net, data.input_shape)
    train_out = model.predict(data.x_train, batch_size=BATCH_SIZE, verbose=0)
    test_out = model.predict(data.x_test, batch_size=BATCH_SIZE, verbose=0)
    scores = _scores("keras_", train_out, targets, y_train, test_out, y_test, data.num_classes)
    return {"keras_weights": int(model.count_params()), **scores}
