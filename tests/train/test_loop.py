"""The training loop on tiny synthetic data: rows, schedule, resume, divergence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rethink.spec import RunSpec
from rethink.train.checkpoint import Checkpoint
from rethink.train.loop import train
from rethink.train.steppers import Execution
from tests.helpers.training import Recorder, synthetic_data, tiny_spec


def test_rows_at_log_steps_and_epoch_ends_with_decayed_lr() -> None:
    rec = Recorder()
    out = train(tiny_spec(steps=20), synthetic_data(256), rec)  # 8 steps per epoch
    steps = [r["step"] for r in rec.rows]
    assert steps == [5, 8, 10, 15, 16, 20]
    # Training columns on full windows only; epoch ends between them get rows of their own.
    assert [r["window"] for r in rec.rows] == [5, None, 5, 5, None, 5]
    assert [r["train_loss"] is None for r in rec.rows] == [False, True, False, False, True, False]
    epoch_rows = [r for r in rec.rows if r["test_acc"] is not None]
    assert [r["step"] for r in epoch_rows] == [8, 16, 20]
    lrs = {r["step"]: r["lr"] for r in rec.rows}
    assert lrs[5] == pytest.approx(0.01)
    assert lrs[10] == pytest.approx(0.01 * 0.95)
    assert lrs[20] == pytest.approx(0.01 * 0.95**2)
    assert out.status == "completed" and out.step == 20
    assert [c.step for c in rec.checkpoints] == [8, 16]  # whole epochs only
    assert out.test_acc == epoch_rows[-1]["test_acc"]
    # Progress after every dispatch: at least at every row, in order, up to the end.
    assert rec.progress == sorted(set(rec.progress)) and rec.progress[-1] == 20
    assert set(steps) <= set(rec.progress)


class StepLosses(Recorder):
    """Also keeps every progress report's running epoch means, to recover step losses."""

    def __init__(self) -> None:
        super().__init__()
        self.running: list[tuple[int, float, float]] = []

    def on_progress(self, progress: dict[str, float | None]) -> None:
        super().on_progress(progress)
        epoch = float(progress["epoch"] or 0)
        self.running.append((int(progress["step"] or 0), epoch, float(progress["train_loss"] or 0)))


def _per_step_losses(rec: StepLosses, spe: int) -> dict[int, float]:
    """Step -> loss, from running means reported after every step (one step per dispatch)."""
    out, prev = {}, 0.0
    for step, _, mean in rec.running:
        k = (step - 1) % spe + 1
        total = mean * k
        out[step] = total - (prev if k > 1 else 0.0)
        prev = total
    return out


EXECUTIONS = [
    Execution(loop="keras", steps_per_execution=1),
    Execution(loop="keras", steps_per_execution=7),
    Execution(loop="native", steps_per_execution=1),
    Execution(loop="native", steps_per_execution=3),
    Execution(loop="native", steps_per_execution=100),
]


@pytest.mark.parametrize("execution", EXECUTIONS, ids=lambda e: f"{e.loop}-{e.steps_per_execution}")
def test_rows_average_equal_windows_across_epoch_ends_on_every_loop(execution: Execution) -> None:
    """7 steps per epoch, a row every 5: rows at 5, 10, 15, 20, each the mean of 5 steps."""
    spec, data = tiny_spec(steps=21), synthetic_data(224)  # 224 / 32 = 7 steps per epoch
    reference = StepLosses()
    train(spec, data, reference, execution=Execution(loop="keras", steps_per_execution=1))
    losses = _per_step_losses(reference, 7)
    rec = Recorder()
    out = train(spec, data, rec, execution=execution)
    train_rows = [r for r in rec.rows if r["window"] is not None]
    assert [(r["step"], r["window"]) for r in train_rows] == [
        (5, 5),
        (10, 5),
        (15, 5),
        (20, 5),
        (21, 1),  # the run's last step: a short window, never used for fit
    ]
    for r in train_rows:
        step, n = int(r["step"] or 0), int(r["window"] or 0)
        expected = np.mean([losses[s] for s in range(step - n + 1, step + 1)])
        assert r["train_loss"] == pytest.approx(expected, rel=1e-4), step
    assert [r["step"] for r in rec.rows if r["test_acc"] is not None] == [7, 14, 21]
    assert out.window_train_loss == train_rows[-2]["train_loss"]  # the last full window


def test_the_training_split_is_evaluated_in_inference_mode_without_augmentation() -> None:
    import keras

    from rethink.train.checkpoint import restore
    from rethink.train.loop import build_model

    spec = tiny_spec(
        model="inception", steps=8, batch_size=16, augment=True, augment_crop="padded"
    )  # BatchNorm: inference mode differs from training mode
    data = synthetic_data(128)
    rec = Recorder()
    out = train(spec, data, rec)
    assert out.status == "completed" and out.train_acc is not None
    final = rec.rows[-1]
    assert final["eval_train_acc"] == out.train_acc and final["eval_train_loss"] == out.train_loss
    model = build_model(spec.resolved(128), (28, 28, 3), 8)
    restore(model, rec.checkpoints[-1])  # the run ends at an epoch end: its checkpoint
    logits = keras.ops.convert_to_numpy(model.predict(data.x_train, verbose=0))
    assert out.train_acc == pytest.approx(np.mean(logits.argmax(-1) == data.y_train), abs=1e-6)
    training_mode = keras.ops.convert_to_numpy(model(data.x_train, training=True))
    assert not np.allclose(training_mode, logits, atol=1e-3)  # the check can tell them apart


def test_eval_train_every_k_epochs_and_only_completed_runs_report_it() -> None:
    rec = Recorder()
    out = train(tiny_spec(steps=24, eval_train_every=2), synthetic_data(256), rec)  # 3 epochs of 8
    assert [r["step"] for r in rec.rows if r["eval_train_acc"] is not None] == [16, 24]
    assert out.train_acc == rec.rows[-1]["eval_train_acc"]
    stopped = Recorder(interrupt_after_row_step=10)
    out = train(tiny_spec(steps=24), synthetic_data(256), stopped)
    assert out.status == "stopped" and out.train_acc is None


def test_weight_decay_adds_exactly_its_coefficient_times_the_weights_to_the_gradient() -> None:
    """One SGD step: w' - w = -lr (grad + L w), the convention of PyTorch and the paper."""
    import keras

    from rethink.train.loop import build_model

    lr, wd = 0.05, 0.01
    data = synthetic_data(32)

    def step(spec: RunSpec) -> tuple[np.ndarray, np.ndarray]:
        model = build_model(spec.resolved(32), (28, 28, 3), 1)
        kernel = next(v for v in model.trainable_variables if "kernel" in v.path)
        before = keras.ops.convert_to_numpy(kernel.value).copy()
        model.train_on_batch(data.x_train, data.y_train)
        return before, keras.ops.convert_to_numpy(kernel.value)

    base = dict(steps=1, learning_rate=lr, momentum=0.9)
    w0, plain = step(tiny_spec(**base))
    w0_wd, decayed = step(tiny_spec(**base, weight_decay=wd))
    np.testing.assert_array_equal(w0, w0_wd)  # same seed, same start
    np.testing.assert_allclose(decayed - plain, -lr * wd * w0, rtol=1e-3, atol=1e-8)
    # A version-1 spec (written before 0.2) meant the Keras L2 coefficient: twice the decay.
    _, old = step(tiny_spec(**base, weight_decay=wd, spec_version=1))
    np.testing.assert_allclose(old - plain, -lr * 2 * wd * w0, rtol=1e-3, atol=1e-8)


def test_learns_a_memorizable_set() -> None:
    out = train(tiny_spec(steps=80, learning_rate=0.05), synthetic_data(128), Recorder())
    assert out.train_acc is not None and out.train_acc > 0.9
    assert out.steps_to_fit is not None and out.steps_to_fit <= 80


def test_stop_at_fit_ends_early_with_a_final_row() -> None:
    rec = Recorder()
    out = train(
        tiny_spec(steps=400, learning_rate=0.05, stop_at_fit=True), synthetic_data(128), rec
    )
    assert out.status == "completed"
    assert out.steps_to_fit is not None and out.step == out.steps_to_fit < 400
    assert rec.rows[-1]["step"] == out.step and rec.rows[-1]["test_acc"] is not None
    assert len({r["step"] for r in rec.rows}) == len(rec.rows)  # no duplicated step


def test_resume_gives_the_same_metrics_as_an_uninterrupted_run() -> None:
    spec, data = tiny_spec(steps=24), synthetic_data(256)
    full = Recorder()
    train(spec, data, full)
    first = Recorder(interrupt_after_row_step=10)  # after the epoch-1 checkpoint (step 8)
    out = train(spec, data, first)
    assert out.status == "stopped"
    ckpt = first.checkpoints[-1]
    assert ckpt.step == 8
    second = Recorder()
    train(spec, data, second, resume=ckpt)
    resumed = [r for r in first.rows if r["step"] <= 8] + second.rows  # type: ignore[operator]
    assert [r["step"] for r in resumed] == [r["step"] for r in full.rows]
    for a, b in zip(resumed, full.rows, strict=True):
        for key in ("lr", "train_loss", "train_acc", "test_loss", "test_acc"):
            if a[key] is None:
                assert b[key] is None
            else:
                assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), (a["step"], key)


def test_checkpoint_round_trips_through_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rec = Recorder()
    train(tiny_spec(steps=8), synthetic_data(256), rec)
    path = tmp_path / "checkpoint.npz"
    rec.checkpoints[-1].save(path)
    loaded = Checkpoint.load(path)
    assert loaded.step == 8 and loaded.epoch == 1
    assert len(loaded.weights) == len(rec.checkpoints[-1].weights)
    for a, b in zip(loaded.weights, rec.checkpoints[-1].weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.meta["steps_to_fit"] == rec.checkpoints[-1].meta["steps_to_fit"]


def test_huge_learning_rate_diverges() -> None:
    rec = Recorder()
    out = train(tiny_spec(steps=40, learning_rate=1e8), synthetic_data(256), rec)
    assert out.status == "diverged"
    assert out.diverged_at_step is not None and out.diverged_at_step <= 40
    assert out.step < 40 or not math.isfinite(rec.rows[-1]["train_loss"] or math.nan)


def test_several_steps_per_execution_give_the_same_metrics() -> None:
    """The keras loop: fit() reporting every 4 steps (torch runs 1 per dispatch anyway)."""
    spec, data = tiny_spec(steps=22, log_every=4), synthetic_data(256)  # 8 steps per epoch
    plain, fast = Recorder(), Recorder()
    train(spec, data, plain, execution=Execution(loop="keras", steps_per_execution=1))
    out = train(spec, data, fast, execution=Execution(loop="keras", steps_per_execution=4))
    assert out.step == 22
    assert [r["step"] for r in fast.rows] == [r["step"] for r in plain.rows]
    for a, b in zip(fast.rows, plain.rows, strict=True):
        for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
            if a[key] is None:
                assert b[key] is None
            else:
                assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), (a["step"], key)


def test_steps_per_execution_is_capped_to_divide_rows_and_epochs() -> None:
    from rethink.train.loop import effective_steps_per_execution

    spec = RunSpec(model="inception")  # log_every 100
    assert effective_steps_per_execution(32, spec, 390, 25_000) == 10
    assert effective_steps_per_execution(1, spec, 390, 25_000) == 1
    assert effective_steps_per_execution(4, spec, 390, 25_000) == 2
    every_64 = tiny_spec(log_every=64)
    assert effective_steps_per_execution(64, every_64, 128, 1280) == 64
    assert effective_steps_per_execution(64, every_64, 128, 1290) == 2  # last epoch 10


def test_a_stop_flag_ends_the_run_as_stopped_after_the_current_dispatch() -> None:
    rec = Recorder()

    def should_stop() -> bool:  # a signal arrives during the second epoch
        return bool(rec.progress) and rec.progress[-1] >= 12

    out = train(tiny_spec(steps=40), synthetic_data(256), rec, should_stop=should_stop)
    assert out.status == "stopped"
    assert 8 <= out.step < 40
    assert [c.step for c in rec.checkpoints] == [8]


def test_the_seed_fixes_the_initial_weights() -> None:
    import keras

    from rethink.train.loop import build_model

    def weights(seed: int) -> list[np.ndarray]:
        model = build_model(tiny_spec(seed=seed).resolved(256), (28, 28, 3), 8)
        return [keras.ops.convert_to_numpy(v.value) for v in model.trainable_variables]

    a, b, c = weights(0), weights(0), weights(1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
