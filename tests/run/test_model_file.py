"""model.keras: the trained model saved when a run completes, loadable with Keras alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rethink.run.execute import FolderObserver
from rethink.run.folder import MODEL_FILE, MetricsWriter, RunDir
from rethink.train.loop import train
from rethink.train.steppers import Execution
from tests.helpers.training import synthetic_data, tiny_spec

native_backends = pytest.mark.requires_backend("jax", "torch")


def _train_into(folder: Path, execution: Execution, **spec: Any) -> tuple[Any, Any]:
    """Train a tiny spec into a run folder (FolderObserver, as `rethink run` does)."""
    run = RunDir(folder)
    run.path.mkdir(parents=True)
    data = synthetic_data(128)
    outcome = train(
        tiny_spec(**{"steps": 10, **spec}),
        data,
        FolderObserver(run, MetricsWriter(run.metrics_path), None),
        execution=execution,
    )
    return outcome, data


def _load(folder: Path) -> Any:
    import keras

    return keras.saving.load_model(folder / MODEL_FILE)


@native_backends
def test_the_native_loop_saves_its_trained_weights_as_the_keras_loop_does(
    tmp_path: Path,
) -> None:
    """A native stepper keeps its state on the device: unless it is written back into
    the Keras variables, the saved model is not the trained one."""
    out_k, data = _train_into(tmp_path / "keras", Execution(loop="keras"))
    out_n, _ = _train_into(tmp_path / "native", Execution(loop="native", steps_per_execution=100))
    assert out_k.status == out_n.status == "completed"
    keras_model, native_model = _load(tmp_path / "keras"), _load(tmp_path / "native")
    x = data.x_test
    np.testing.assert_allclose(
        native_model.predict(x, verbose=0), keras_model.predict(x, verbose=0), rtol=1e-3, atol=1e-4
    )
    # ... and the trained model, not the initial one: its test accuracy is the run's.
    acc = (native_model.predict(x, verbose=0).argmax(-1) == data.y_test).mean()
    assert acc == pytest.approx(out_n.test_acc, abs=1e-6)
    assert not list((tmp_path / "native").glob(".partial-*"))  # written whole, then renamed


def test_alexnet_with_its_lrn_layer_loads_and_predicts_as_trained(tmp_path: Path) -> None:
    outcome, data = _train_into(tmp_path / "a", Execution(), model="alexnet", steps=2)
    assert outcome.status == "completed"
    model = _load(tmp_path / "a")  # the LRN layer is registered serializable
    assert any(type(layer).__name__ == "LocalResponseNormalization" for layer in model.layers)
    acc = (model.predict(data.x_test, verbose=0).argmax(-1) == data.y_test).mean()
    assert acc == pytest.approx(outcome.test_acc, abs=1e-6)


def test_no_model_file_when_turned_off_or_when_the_run_did_not_complete(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "off")
    run.path.mkdir()
    train(
        tiny_spec(steps=5),
        synthetic_data(64),
        FolderObserver(run, MetricsWriter(run.metrics_path), None, save_model=False),
    )
    assert not (run.path / MODEL_FILE).exists()
    stopped = RunDir(tmp_path / "stopped")
    stopped.path.mkdir()
    outcome = train(
        tiny_spec(steps=5),
        synthetic_data(64),
        FolderObserver(stopped, MetricsWriter(stopped.metrics_path), None),
        should_stop=lambda: True,
    )
    assert outcome.status == "stopped" and not (stopped.path / MODEL_FILE).exists()
