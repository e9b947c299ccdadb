"""The training loop on tiny synthetic data: rows, schedule, resume, divergence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rethink.inputs import RunData
from rethink.spec import RunSpec
from rethink.steppers import Engine
from rethink.training import Checkpoint, train


def _data(n: int = 256, seed: int = 0) -> RunData:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 28, 28, 3)).astype("float32")
    y = rng.integers(0, 10, n).astype("int32")
    return RunData(x, y, x[:64], y[:64])


class Recorder:
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


def _spec(**kw: object) -> RunSpec:
    base: dict[str, object] = dict(
        model="mlp_1x512", steps=40, batch_size=32, log_every=5, learning_rate=0.01
    )
    base.update(kw)
    return RunSpec(**base)  # type: ignore[arg-type]


def test_rows_at_log_steps_and_epoch_ends_with_decayed_lr() -> None:
    rec = Recorder()
    out = train(_spec(steps=20), _data(256), rec)  # 8 steps per epoch
    steps = [r["step"] for r in rec.rows]
    assert steps == [5, 8, 10, 15, 16, 20]
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


def test_learns_a_memorizable_set() -> None:
    out = train(_spec(steps=80, learning_rate=0.05), _data(128), Recorder())
    assert out.train_acc is not None and out.train_acc > 0.9
    assert out.steps_to_fit is not None and out.steps_to_fit <= 80


def test_stop_at_fit_ends_early_with_a_final_row() -> None:
    rec = Recorder()
    out = train(_spec(steps=400, learning_rate=0.05, stop_at_fit=True), _data(128), rec)
    assert out.status == "completed"
    assert out.steps_to_fit is not None and out.step == out.steps_to_fit < 400
    assert rec.rows[-1]["step"] == out.step and rec.rows[-1]["test_acc"] is not None
    assert len({r["step"] for r in rec.rows}) == len(rec.rows)  # no duplicated step


def test_resume_gives_the_same_metrics_as_an_uninterrupted_run() -> None:
    spec, data = _spec(steps=24), _data(256)
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
    train(_spec(steps=8), _data(256), rec)
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
    out = train(_spec(steps=40, learning_rate=1e8), _data(256), rec)
    assert out.status == "diverged"
    assert out.diverged_at_step is not None and out.diverged_at_step <= 40
    assert out.step < 40 or not math.isfinite(rec.rows[-1]["train_loss"] or math.nan)


def test_several_steps_per_execution_give_the_same_metrics() -> None:
    """The keras loop: fit() reporting every 4 steps (torch runs 1 per dispatch anyway)."""
    spec, data = _spec(steps=22, log_every=4), _data(256)  # 8 steps per epoch
    plain, fast = Recorder(), Recorder()
    train(spec, data, plain, engine=Engine(loop="keras", steps_per_execution=1))
    out = train(spec, data, fast, engine=Engine(loop="keras", steps_per_execution=4))
    assert out.step == 22
    assert [r["step"] for r in fast.rows] == [r["step"] for r in plain.rows]
    for a, b in zip(fast.rows, plain.rows, strict=True):
        for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
            if a[key] is None:
                assert b[key] is None
            else:
                assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), (a["step"], key)


def test_steps_per_execution_is_capped_to_divide_rows_and_epochs() -> None:
    from rethink.training import effective_steps_per_execution

    spec = RunSpec(model="inception")  # log_every 100
    assert effective_steps_per_execution(32, spec, 390, 25_000) == 10
    assert effective_steps_per_execution(1, spec, 390, 25_000) == 1
    assert effective_steps_per_execution(4, spec, 390, 25_000) == 2
    assert effective_steps_per_execution(64, _spec(log_every=64), 128, 1280) == 64
    assert effective_steps_per_execution(64, _spec(log_every=64), 128, 1290) == 2  # last epoch 10


def test_a_stop_flag_ends_the_run_as_stopped_after_the_current_dispatch() -> None:
    rec = Recorder()

    def should_stop() -> bool:  # a signal arrives during the second epoch
        return bool(rec.progress) and rec.progress[-1] >= 12

    out = train(_spec(steps=40), _data(256), rec, should_stop=should_stop)
    assert out.status == "stopped"
    assert 8 <= out.step < 40
    assert [c.step for c in rec.checkpoints] == [8]


def test_the_seed_fixes_the_initial_weights() -> None:
    import keras

    from rethink.training import build_model

    def weights(seed: int) -> list[np.ndarray]:
        model = build_model(_spec(seed=seed).resolved(256), (28, 28, 3), 8)
        return [keras.ops.convert_to_numpy(v.value) for v in model.trainable_variables]

    a, b, c = weights(0), weights(0), weights(1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
