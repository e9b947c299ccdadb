"""A checkpoint's meta (rethink.train.bookkeeping): the stored keys, old checkpoints, milestones."""

from __future__ import annotations

import json
import math

from rethink.train.bookkeeping import Bookkeeping, Milestones

# The checkpoint format: these keys, in this order, are what rethink writes and reads.
META_KEYS = [
    "wall_seconds",
    "train_seconds",
    "trained_steps",
    "steps_to_fit",
    "steps_to_loss",
    "test_loss",
    "test_acc",
    "best_test",
    "last_window",
    "window",
]


def test_meta_round_trips_through_json_under_the_stored_keys() -> None:
    book = Bookkeeping(
        Milestones(
            steps_to_fit=300,
            steps_to_loss=None,
            test_loss=2.5,
            test_acc=0.25,
            best_test=(0.3, 200),
            last_full_window=(0.01, 1.0),
        ),
        wall_seconds=12.5,
        train_seconds=10.0,
        trained_steps=390,
        window=[37, 40.0, 20.0],
    )
    meta = json.loads(json.dumps(book.to_meta()))
    assert list(meta) == META_KEYS
    assert meta["last_window"] == [0.01, 1.0] and meta["best_test"] == [0.3, 200]
    assert Bookkeeping.from_meta(meta) == book


def test_an_empty_meta_is_a_fresh_run() -> None:
    book = Bookkeeping.from_meta({})
    assert book == Bookkeeping(Milestones())
    assert book.milestones.best_test == (None, None) and book.window is None


def test_old_checkpoints_are_read_as_they_were_written() -> None:
    # Before fixed windows: the last row's means as "last_train", no open window.
    old = Bookkeeping.from_meta({"wall_seconds": 3, "last_train": [0.5, 0.75]})
    assert old.milestones.last_full_window == (0.5, 0.75)
    assert old.window is None and old.wall_seconds == 3.0
    assert old.to_meta()["last_window"] == [0.5, 0.75]
    # "last_window" wins when both are there.
    both = Bookkeeping.from_meta({"last_window": [0.1, 0.9], "last_train": [0.5, 0.75]})
    assert both.milestones.last_full_window == (0.1, 0.9)


def test_full_windows_decide_the_times_to_fit_and_to_loss_once() -> None:
    m = Milestones()
    m.full_window(100, 0.5, 0.9, fit_threshold=1.0, loss_threshold=0.01)
    assert (m.steps_to_fit, m.steps_to_loss, m.last_full_window) == (None, None, (0.5, 0.9))
    m.full_window(200, 0.02, 0.99999995, fit_threshold=1.0, loss_threshold=0.01)
    assert m.steps_to_fit == 200  # float rounding of a mean of 1.0 counts
    m.full_window(300, 0.005, 1.0, fit_threshold=1.0, loss_threshold=0.01)
    m.full_window(400, 0.001, 1.0, fit_threshold=1.0, loss_threshold=0.01)
    assert (m.steps_to_fit, m.steps_to_loss) == (200, 300)  # the first ones stay
    n = Milestones()
    n.full_window(100, math.nan, math.nan, fit_threshold=1.0, loss_threshold=0.01)
    assert (n.steps_to_fit, n.steps_to_loss) == (None, None)


def test_the_best_test_is_the_first_at_its_highest_accuracy() -> None:
    m = Milestones()
    for step, acc in [(10, 0.2), (20, 0.4), (30, 0.4), (40, 0.3)]:
        m.test(step, 1.0 - acc, acc)
    assert m.best_test == (0.4, 20)
    assert (m.test_loss, m.test_acc) == (0.7, 0.3)  # the last evaluation
