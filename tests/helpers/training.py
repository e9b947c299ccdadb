"""Training on tiny synthetic data: the data, a small spec, an observer that records,
and what the tests comparing loops, executions and steppers share (rows compared
up to rounding, a tiny Keras model, a stepper on given arrays)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from rethink.data.pipeline import RunData
from rethink.spec import RunSpec
from rethink.train.checkpoint import Checkpoint
from rethink.train.observer import Observer
from rethink.train.outcome import Outcome
from rethink.train.steppers import Execution


def synthetic_data(n: int = 256, seed: int = 0, *, raw: bool = False) -> RunData:
    """`n` random preprocessed images and labels; the first 64 again as the test split.

    `raw`: also random uint8 32x32 images, the ones the window crop takes its
    windows from (drawn after the others: the same seed gives the same `x`, `y`).
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 28, 28, 3)).astype("float32")
    y = rng.integers(0, 10, n).astype("int32")
    if not raw:
        return RunData(x, y, x[:64], y[:64])
    raw_images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    return RunData(x, y, x[:64], y[:64], x_train_raw=raw_images)


def tiny_spec(**kw: Any) -> RunSpec:
    """An MLP spec, 40 steps of batch 32 logged every 5; `kw` overrides any field."""
    base: dict[str, Any] = dict(
        model="mlp_1x512", steps=40, batch_size=32, log_every=5, learning_rate=0.01
    )
    base.update(kw)
    return RunSpec(**base)


class Recorder(Observer):
    """Keeps every row, checkpoint and progress step; can interrupt after a row."""

    def __init__(self, interrupt_after_row_step: int | None = None) -> None:
        self.rows: list[dict[str, float | None]] = []
        self.checkpoints: list[Checkpoint] = []
        self.progress: list[int] = []  # the step of every progress report
        self.interrupt_after = interrupt_after_row_step

    def on_row(self, row: dict[str, float | None]) -> None:
        self.rows.append(row)
        if self.interrupt_after is not None and row["step"] == self.interrupt_after:
            raise KeyboardInterrupt

    def on_progress(self, progress: dict[str, float | None]) -> None:
        self.progress.append(int(progress["step"] or 0))

    def on_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.checkpoints.append(checkpoint)


# -- comparing loops, executions and steppers ----------------------------------------

ROW_KEYS = ("lr", "train_loss", "train_acc", "test_loss", "test_acc")


def loop_spec(**kw: Any) -> RunSpec:
    """22 steps logged every 4: on `synthetic_data(raw=True)` (8 steps per epoch) the
    run ends inside its third epoch, rows and epoch ends interleaved."""
    return tiny_spec(**{"steps": 22, "log_every": 4, **kw})


def run_recorded(
    spec: RunSpec, data: RunData, execution: Execution, **kw: Any
) -> tuple[Outcome, Recorder]:
    """`train()` with a Recorder (`interrupt_after_row_step` in `kw` sets it up)."""
    from rethink.train.loop import train

    rec = Recorder(kw.pop("interrupt_after_row_step", None))
    out = train(spec, data, rec, execution=execution, **kw)
    return out, rec


def assert_same_rows(
    got: list[dict[str, float | None]],
    want: list[dict[str, float | None]],
    rel: float = 1e-4,
    keys: tuple[str, ...] = ROW_KEYS,
) -> None:
    """The same rows at the same steps, their numbers (`keys`) equal up to float
    rounding (`rel`: BatchNorm on tiny batches amplifies it step by step)."""
    assert [r["step"] for r in got] == [r["step"] for r in want]
    assert [r["epoch"] for r in got] == [r["epoch"] for r in want]
    for a, b in zip(got, want, strict=True):
        for key in keys:
            x, y = a[key], b[key]
            if y is None:
                assert x is None, (a["step"], key)
            elif math.isnan(y):
                assert x is not None and math.isnan(x), (a["step"], key)
            else:
                assert x == pytest.approx(y, rel=rel, abs=1e-5), (a["step"], key)


def assert_same_state(model: Any, other: Any, holds: str) -> None:
    """Two Keras models' variables and optimizer variables equal up to float rounding,
    among them one whose path holds `holds` (e.g. a BatchNorm statistic)."""
    import keras

    pairs = [
        *zip(model.variables, other.variables, strict=True),
        *zip(model.optimizer.variables, other.optimizer.variables, strict=True),
    ]
    assert any(holds in v.path for v, _ in pairs)
    for a, b in pairs:
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(a.value),
            keras.ops.convert_to_numpy(b.value),
            rtol=1e-4,
            atol=1e-6,
            err_msg=a.path,
        )


def keras_backend() -> str:
    import keras

    return str(keras.backend.backend())


def tiny_model(seed: int, shape: tuple[int, ...] = (4, 4, 3)) -> Any:
    """Dense, BatchNorm (non-trainable state), Dropout (random state), L2 penalty;
    compiled like the protocol's model (SGD with momentum, accuracy named "acc")."""
    import keras

    from rethink.train.loop import seed_everything

    seed_everything(seed)
    keras.config.set_dtype_policy("float32")
    l2 = keras.regularizers.L2(1e-3)
    model = keras.Sequential(
        [
            keras.Input(shape),
            keras.layers.Flatten(),
            keras.layers.Dense(32, kernel_regularizer=l2),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(10, kernel_regularizer=l2),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
    )
    model.optimizer.build(model.trainable_variables)
    return model


def never() -> bool:
    """A stop flag that never turns true."""
    return False


def stepper_for(
    execution: Execution, model: Any, x: np.ndarray, y: np.ndarray, batch_size: int, **spec: Any
) -> Any:
    """`make_stepper` on training images `x` (raw uint8 32x32 for the window crop)."""
    from rethink.data import preprocess
    from rethink.train.steppers import make_stepper

    if spec.get("augment") and spec.get("augment_crop", "window") == "window":
        data = RunData(preprocess(x), y, preprocess(x[:1]), y[:1], x_train_raw=x)
    else:
        data = RunData(x, y, x[:1], y[:1])
    run = RunSpec(model="mlp_1x512", steps=1, batch_size=batch_size, **spec)
    return make_stepper(execution, model, data, run)
