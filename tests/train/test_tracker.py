"""The tracker (rethink.train.tracker) fed step sums by hand: pure Python, no Keras.

A small driver plays the training loop's part (epochs, chunks that never
cross a row, the evaluation row at every epoch's end, checkpoints) over known
per-step losses, so every row can be checked against exact means.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rethink.spec import RunSpec
from rethink.train.checkpoint import Checkpoint
from rethink.train.outcome import Status
from rethink.train.steppers import chunk_length
from rethink.train.tracker import Tracker
from tests.helpers.training import Recorder, tiny_spec

# 7 steps per epoch (224 images of batch 32), a row every 5 steps, 21 steps.
N_TRAIN = 224


def _steps(total: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.5, total), rng.integers(0, 2, total).astype(float)


def _drive(
    spec: RunSpec,
    losses: np.ndarray,
    accs: np.ndarray,
    limit: int,
    rec: Recorder,
    start: Checkpoint | None = None,
    stop_after_epoch: int | None = None,
) -> Tracker:
    """Train as rethink.train.loop does, with chunks of at most `limit` steps."""
    tracker = Tracker(spec, N_TRAIN, rec, start)
    for epoch in range(tracker.epoch, math.ceil(tracker.total / tracker.spe)):
        steps = min(tracker.spe, tracker.total - epoch * tracker.spe)
        tracker.begin_epoch(epoch, steps)
        tracker.clock.start_fit()
        done, stopped = 0, False
        while done < steps and not stopped:
            count = chunk_length(epoch * tracker.spe, done, steps, spec.log_every, limit)
            first = epoch * tracker.spe + done
            chunk = slice(first, first + count)
            stopped = tracker.add(count, losses[chunk].sum(), accs[chunk].sum())
            done += count
        tracker.clock.end_fit()
        if tracker.diverged_at is not None:
            tracker.emit_row(tracker.step, last=True)
            break
        last = tracker.step >= tracker.total or (spec.stop_at_fit and tracker.fits_at(tracker.step))
        tracker.emit_row(tracker.step, test=(1.0 / (epoch + 1), 0.1 * epoch), last=last)
        if tracker.k == tracker.spe:
            rec.on_checkpoint(Checkpoint(tracker.step, epoch + 1, [], [], tracker.meta()))
        if last or epoch == stop_after_epoch:
            break
    return tracker


def _training_rows(rec: Recorder) -> list[float | None]:
    """Every row's step, window and training means, in one flat list."""
    return [r[k] for r in rec.rows for k in ("step", "window", "train_loss", "train_acc")]


def _assert_close(got: list[float | None], want: list[float | None]) -> None:
    assert [x is None for x in got] == [y is None for y in want]
    assert [x for x in got if x is not None] == pytest.approx(
        [y for y in want if y is not None], rel=1e-12
    )


def test_rows_are_exact_means_over_fixed_windows_however_the_steps_are_split() -> None:
    spec = tiny_spec(steps=21)
    losses, accs = _steps(21)
    reference = None
    for limit in (1, 2, 3, 5, 100):
        rec = Recorder()
        out = _drive(spec, losses, accs, limit, rec).outcome(Status.COMPLETED)
        windows = [r for r in rec.rows if r["window"] is not None]
        assert [(r["step"], r["window"]) for r in windows] == [
            (5, 5),
            (10, 5),
            (15, 5),
            (20, 5),
            (21, 1),  # the run's last step: a short window
        ]
        for r in windows:
            end, n = int(r["step"] or 0), int(r["window"] or 0)
            assert r["train_loss"] == pytest.approx(losses[end - n : end].mean(), rel=1e-12)
            assert r["train_acc"] == pytest.approx(accs[end - n : end].mean(), rel=1e-12)
        # Epoch ends between windows get rows of their own, with the test split only.
        assert [r["step"] for r in rec.rows if r["test_acc"] is not None] == [7, 14, 21]
        assert all(r["window"] is None for r in rec.rows if r["step"] in (7, 14))
        assert out.window_train_loss == windows[-2]["train_loss"]  # the last full window
        rows = _training_rows(rec)
        reference = reference or rows
        _assert_close(rows, reference)


def test_progress_reports_running_means_since_the_epoch_began() -> None:
    class Progress(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.reports: list[dict[str, float | None]] = []

        def on_progress(self, progress: dict[str, float | None]) -> None:
            super().on_progress(progress)
            self.reports.append(progress)

    spec = tiny_spec(steps=21)
    losses, accs = _steps(21, seed=1)
    rec = Progress()
    _drive(spec, losses, accs, 3, rec)
    assert rec.progress == sorted(rec.progress) and rec.progress[-1] == 21
    for p in rec.reports:
        step = int(p["step"] or 0)
        epoch_start = (step - 1) // 7 * 7
        assert p["train_loss"] == pytest.approx(losses[epoch_start:step].mean(), rel=1e-12)
        assert p["train_acc"] == pytest.approx(accs[epoch_start:step].mean(), rel=1e-12)
        assert p["epoch"] == pytest.approx(step / 7)
        assert p["total_steps"] == 21


def test_a_non_finite_loss_stops_at_its_step_and_ends_the_run_diverged() -> None:
    spec = tiny_spec(steps=21)
    losses, accs = _steps(21)
    losses[11] = math.nan  # step 12, inside epoch 2, between rows
    rec = Recorder()
    tracker = _drive(spec, losses, accs, 1, rec)  # step by step, as fit() with k = 1
    assert tracker.diverged_at == 12 and tracker.step == 12
    assert max(rec.progress) < 12  # no progress for the diverged step
    assert rec.rows[-1]["step"] == 12 and math.isnan(rec.rows[-1]["train_loss"] or 0.0)
    out = tracker.outcome(Status.DIVERGED)
    assert (out.status, out.diverged_at_step, out.step) == ("diverged", 12, 12)


def test_stop_at_fit_stops_at_the_first_full_window_that_fits() -> None:
    spec = tiny_spec(steps=40, stop_at_fit=True)
    losses, accs = _steps(40)
    accs[:9], accs[9:] = 0.0, 1.0  # the window of steps 11..15 is the first whole one at 100%
    rec = Recorder()
    tracker = _drive(spec, losses, accs, 1, rec)
    out = tracker.outcome(Status.COMPLETED)
    assert out.steps_to_fit == out.step == 15
    assert rec.rows[-1]["step"] == 15 and rec.rows[-1]["test_acc"] is not None
    assert len({r["step"] for r in rec.rows}) == len(rec.rows)


def test_a_checkpoints_meta_resumes_the_rows_and_the_outcome_exactly() -> None:
    spec = tiny_spec(steps=21)
    losses, accs = _steps(21, seed=2)
    full = Recorder()
    whole = _drive(spec, losses, accs, 2, full).outcome(Status.COMPLETED)
    first = Recorder()
    _drive(spec, losses, accs, 2, first, stop_after_epoch=0)
    checkpoint = first.checkpoints[-1]
    assert checkpoint.step == 7 and checkpoint.meta["window"][0] == 2  # steps 6, 7 open
    rest = Recorder()
    resumed = _drive(spec, losses, accs, 2, rest, start=checkpoint).outcome(Status.COMPLETED)
    _assert_close(_training_rows(first) + _training_rows(rest), _training_rows(full))
    for key in ("steps_to_fit", "window_train_loss", "test_acc", "best_test_acc"):
        assert getattr(resumed, key) == getattr(whole, key), key
    assert resumed.best_test_step == whole.best_test_step == 21


def test_a_checkpoint_from_before_fixed_windows_resumes_with_its_last_rows_means() -> None:
    # rethink 0.1 stored the last row's means as "last_train" and no open window.
    meta = {"wall_seconds": 12.5, "steps_to_fit": None, "last_train": [0.75, 0.5]}
    spec = tiny_spec(steps=21)
    tracker = Tracker(spec, N_TRAIN, Recorder(), Checkpoint(7, 1, [], [], meta))
    assert tracker.step == 7 and tracker.window.count == 0
    out = tracker.outcome(Status.STOPPED)
    assert (out.window_train_loss, out.window_train_acc) == (0.75, 0.5)
    assert out.wall_seconds >= 12.5
    assert tracker.meta()["last_window"] == [0.75, 0.5]  # stored under today's key
