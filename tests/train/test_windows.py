"""Fixed metrics windows (rethink.train.windows): pure Python, no Keras."""

from __future__ import annotations

import math

import pytest

from rethink.train.windows import (
    Window,
    diverged_at,
    full_rows,
    row_windows,
    steps_to_acc,
    steps_to_loss,
)


def test_a_window_closes_at_multiples_of_log_every_whatever_the_split() -> None:
    w = Window(log_every=10)
    w.add(7, 7.0, 3.5)  # seven steps of loss 1, accuracy 0.5
    assert not w.due(7)
    w.add(3, 6.0, 3.0)  # three steps of loss 2, accuracy 1
    assert w.due(10)
    loss, acc, n = w.close()
    assert (loss, acc, n) == (pytest.approx(1.3), pytest.approx(0.65), 10)
    assert not w.due(20)  # empty: nothing to close
    assert w.close() == (None, None, 0)


def test_a_window_state_round_trips_through_a_checkpoint() -> None:
    w = Window(log_every=100)
    w.add(37, 40.0, 20.0)
    back = Window.from_state(100, w.state())
    assert (back.count, back.loss_sum, back.acc_sum) == (37, 40.0, 20.0)
    assert Window.from_state(100, None).count == 0


def _row(step: int, loss: float | None, acc: float | None, **kw: float | None) -> dict:
    return {"step": step, "train_loss": loss, "train_acc": acc, **kw}


def test_old_rows_get_the_windows_they_averaged() -> None:
    # A smoke run before fixed windows: 31 steps per epoch, log every 10.
    rows = [_row(s, 1.0, 0.5) for s in (10, 20, 30, 31, 40)]
    assert row_windows(rows) == [10, 10, 10, 1, 9]
    assert [r["step"] for r in full_rows(rows, 10)] == [10, 20, 30]


def test_new_rows_carry_their_window_and_evaluation_rows_have_none() -> None:
    rows = [
        _row(5, 1.0, 0.5, window=5),
        _row(8, None, None, test_acc=0.3),  # an epoch end between windows
        _row(10, 1.0, 0.5, window=5),
        _row(11, 1.0, 0.5, window=1, test_acc=0.3),  # the run's last, short window
    ]
    assert row_windows(rows) == [5, None, 5, 1]
    assert [r["step"] for r in full_rows(rows, 5)] == [5, 10]


def test_a_short_window_never_decides_the_time_to_fit_or_loss() -> None:
    rows = [
        _row(10, 0.5, 0.9),
        _row(20, 0.2, 0.98),
        _row(21, 0.001, 1.0),  # one step after an epoch end: short
        _row(30, 0.1, 0.99),
        _row(40, 0.005, 1.0),
    ]
    assert steps_to_acc(rows, 10, 1.0) == 40
    assert steps_to_acc(rows, 10, 0.98) == 20
    assert steps_to_loss(rows, 10, 0.01) == 40
    assert steps_to_acc(rows, 10, 1.0 + 1e-9) == 40  # float rounding of a mean allowed
    assert steps_to_acc(rows[:3], 10, 1.0) is None


def test_divergence_is_the_first_non_finite_loss_window_or_not() -> None:
    rows = [_row(10, 1.0, 0.5), _row(13, math.nan, 0.1), _row(20, math.inf, 0.1)]
    assert diverged_at(rows) == 13
    assert diverged_at(rows[:1]) is None
