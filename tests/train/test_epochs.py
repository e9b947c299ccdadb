"""One epoch through fit() or a native stepper (rethink.train.epochs): the same rows.

The native loop (JAX and torch steppers) must train exactly what the keras
loop trains: the same rows up to float rounding, whatever the chunk length,
with weight penalties and augmentation, across checkpoints taken by either
loop, and with the same divergence step. The keras loop's callback turns
Keras's running means into the step sums the tracker takes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from rethink.train.epochs import KerasEpochs
from rethink.train.loop import train
from rethink.train.steppers import Execution
from tests.helpers.training import (
    Recorder,
    assert_same_rows,
    keras_backend,
    loop_spec,
    run_recorded,
    synthetic_data,
)

KERAS = Execution(loop="keras")
NATIVE = Execution(loop="native")
# Chunks as long as rows and epoch ends allow (the default on a CPU is one step).
CHUNKED = Execution(loop="native", steps_per_execution=100)
native_backends = pytest.mark.requires_backend("jax", "torch")


@pytest.fixture
def float32_afterwards() -> Any:
    """Put Keras's global dtype policy back: train() leaves the spec's in place."""
    yield
    import keras

    keras.config.set_dtype_policy("float32")


@native_backends
@pytest.mark.usefixtures("float32_afterwards")
@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"weight_decay": 5e-4},
        {"augment": True},
        {"augment": True, "augment_crop": "padded"},
        {"precision": "mixed_bfloat16", "steps": 12},
    ],
    ids=["plain", "weight_decay", "augment", "augment_padded", "bfloat16"],
)
def test_the_native_loop_gives_the_keras_loops_rows(settings: dict[str, Any]) -> None:
    spec, data = loop_spec(**settings), synthetic_data(raw=True)
    if spec.weight_decay:  # the penalty must weigh enough for a missing one to show
        import keras

        from rethink.train.loop import build_model

        model = build_model(spec.resolved(256), (28, 28, 3), 8)
        assert float(keras.ops.convert_to_numpy(sum(model.losses))) > 0.05
    out_k, keras_rec = run_recorded(spec, data, KERAS)
    out_n, native_rec = run_recorded(spec, data, CHUNKED)
    assert out_n.status == out_k.status == "completed"
    assert out_n.step == out_k.step == spec.steps
    assert [r["step"] for r in native_rec.rows] == [4, 8, 12, 16, 20, 22][: len(native_rec.rows)]
    assert native_rec.rows[-1]["step"] == spec.steps
    assert_same_rows(native_rec.rows, keras_rec.rows)
    assert [c.step for c in native_rec.checkpoints] == [c.step for c in keras_rec.checkpoints]
    # The window crop whitens in float32 on the device and in float64 on the
    # host: the images differ by rounding (~4e-7), which a ReLU at its kink can
    # turn into a different update of its unit (one column of a kernel). The
    # padded crop only moves values: the images are the same bit for bit.
    rounded_inputs = spec.augment and spec.augment_crop == "window"
    for a, b in zip(native_rec.checkpoints, keras_rec.checkpoints, strict=True):
        for x, y in zip(a.weights + a.optimizer, b.weights + b.optimizer, strict=True):
            if rounded_inputs:
                assert np.isclose(x, y, rtol=1e-4, atol=1e-5).mean() > 0.99
                np.testing.assert_allclose(x, y, rtol=0, atol=1e-3)
            else:
                np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)


@native_backends
@pytest.mark.parametrize("k", [3, 100])
def test_several_native_steps_per_dispatch_give_the_rows_of_one(k: int) -> None:
    spec, data = loop_spec(), synthetic_data(raw=True)
    out_1, one = run_recorded(spec, data, Execution(loop="native", steps_per_execution=1))
    out_k, many = run_recorded(spec, data, Execution(loop="native", steps_per_execution=k))
    assert out_k.step == out_1.step == 22
    assert_same_rows(many.rows, one.rows)
    # Progress comes once per dispatch: never more often than with one step each.
    assert set(many.progress) <= set(one.progress)
    assert {r["step"] for r in many.rows} <= set(many.progress)


@native_backends
@pytest.mark.parametrize(
    ("first", "then"),
    [(KERAS, CHUNKED), (CHUNKED, KERAS), (NATIVE, CHUNKED)],
    ids=["keras-native", "native-keras", "native1-native"],
)
def test_a_checkpoint_of_one_loop_resumes_in_the_other(first: Execution, then: Execution) -> None:
    # Rows every 5 steps, epochs of 8: the resumed chunks start between rows.
    spec, data = loop_spec(steps=20, log_every=5), synthetic_data(raw=True)
    _, full = run_recorded(spec, data, KERAS)
    out, part = run_recorded(spec, data, first, interrupt_after_row_step=10)
    assert out.status == "stopped"
    assert [c.step for c in part.checkpoints] == [8]
    out2, rest = run_recorded(spec, data, then, resume=part.checkpoints[-1])
    assert out2.status == "completed" and out2.step == 20
    resumed = [r for r in part.rows if (r["step"] or 0) <= 8] + rest.rows
    assert_same_rows(resumed, full.rows)


@native_backends
@pytest.mark.parametrize("k", [1, 100])
def test_the_native_loop_diverges_at_the_keras_loops_step(k: int) -> None:
    # Rows only at epoch ends: a native chunk covers a whole epoch when k allows.
    spec, data = loop_spec(steps=24, learning_rate=1e8, log_every=24), synthetic_data(raw=True)
    out_k, keras_rec = run_recorded(spec, data, Execution(loop="keras", steps_per_execution=1))
    out_n, native_rec = run_recorded(spec, data, Execution(loop="native", steps_per_execution=k))
    assert out_k.status == out_n.status == "diverged"
    assert out_k.diverged_at_step is not None
    if k > 1:  # divergence inside a chunk, not at its end: the stepper reports the step
        assert out_k.diverged_at_step % 8 != 0
    assert out_n.diverged_at_step == out_k.diverged_at_step
    assert out_n.step == out_k.step
    assert_same_rows(native_rec.rows, keras_rec.rows)
    assert not math.isfinite(native_rec.rows[-1]["train_loss"] or math.nan)


@native_backends
def test_stop_at_fit_ends_both_loops_at_the_same_row() -> None:
    spec = loop_spec(steps=400, learning_rate=0.05, log_every=5, stop_at_fit=True)
    data = synthetic_data(128, raw=True)  # 4 steps per epoch: rows and epoch ends interleave
    out_k, keras_rec = run_recorded(spec, data, KERAS)
    out_n, native_rec = run_recorded(spec, data, CHUNKED)
    assert out_k.steps_to_fit is not None and out_k.step == out_k.steps_to_fit < 400
    assert (out_n.status, out_n.step, out_n.steps_to_fit) == (
        out_k.status,
        out_k.step,
        out_k.steps_to_fit,
    )
    assert_same_rows(native_rec.rows, keras_rec.rows)


@native_backends
def test_a_stop_flag_during_a_long_native_chunk_keeps_the_epoch_checkpoint() -> None:
    spec, data = loop_spec(steps=40, log_every=40), synthetic_data(raw=True)  # one chunk per epoch
    rec = Recorder()
    calls_since_checkpoint = [0]

    def should_stop() -> bool:
        # The flag turns true during epoch 2: its first check is before the
        # epoch, the next one inside (or at the end of) the chunk.
        if rec.checkpoints:
            calls_since_checkpoint[0] += 1
        return calls_since_checkpoint[0] >= 2

    out = train(spec, data, rec, execution=CHUNKED, should_stop=should_stop)
    assert out.status == "stopped"
    assert [c.step for c in rec.checkpoints] == [8]
    assert 8 < out.step <= 16
    if keras_backend() == "torch":  # its stepper checks the flag after every step
        assert out.step == 9
    assert [r["step"] for r in rec.rows] == [8]  # no row for the interrupted epoch
    # The kept checkpoint resumes into the uninterrupted run.
    _, full = run_recorded(spec, data, CHUNKED)
    _, rest = run_recorded(spec, data, CHUNKED, resume=rec.checkpoints[0])
    assert_same_rows(rec.rows + rest.rows, full.rows)


class SumsTaken:
    """Stands in for the tracker: records what it is fed; stops when told to."""

    spec = loop_spec()

    def __init__(self, stop_after: int | None = None) -> None:
        self.added: list[tuple[int, float, float]] = []
        self.stop_after = stop_after

    def add(self, steps: int, loss_sum: float, acc_sum: float) -> bool:
        self.added.append((steps, loss_sum, acc_sum))
        return len(self.added) == self.stop_after


def test_the_keras_callback_feeds_the_sums_of_the_steps_since_its_last_report() -> None:
    rng = np.random.default_rng(0)
    losses, accs = rng.uniform(0.5, 2.5, 6), rng.integers(0, 2, 6).astype(float)
    tracker: Any = SumsTaken()
    epochs = KerasEpochs(None, tracker, lambda: False)
    for k in (2, 4, 6):  # fit() reports every 2 steps: running means since the epoch began
        assert not epochs.report(k, {"loss": losses[:k].mean(), "acc": accs[:k].mean()})
    assert [steps for steps, _, _ in tracker.added] == [2, 2, 2]
    for i, (_, loss_sum, acc_sum) in enumerate(tracker.added):
        assert loss_sum == pytest.approx(losses[2 * i : 2 * i + 2].sum(), rel=1e-12)
        assert acc_sum == pytest.approx(accs[2 * i : 2 * i + 2].sum(), abs=1e-12)
    # A missing loss is not finite (the tracker calls it divergence); either side may stop fit().
    missing: Any = SumsTaken(stop_after=1)
    assert KerasEpochs(None, missing, lambda: False).report(1, {})
    assert math.isnan(missing.added[0][1])
    assert KerasEpochs(None, SumsTaken(), lambda: True).report(1, {"loss": 1.0, "acc": 0.0})
