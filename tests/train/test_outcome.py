"""How a run ended (rethink.train.outcome): result.json's keys and the three ways to tell it."""

from __future__ import annotations

import pytest

from rethink.train.checkpoint import Checkpoint
from rethink.train.outcome import ENDED, RESULT_FORMAT, RESULT_KEYS, Outcome, Status
from tests.helpers.training import tiny_spec

# result.json, format 2: these keys in this order (rethink.run.folder documents them).
RESULT_JSON_KEYS = (
    "run_id",
    "status",
    "step",
    "epoch",
    "train_loss",
    "train_acc",
    "window_train_loss",
    "window_train_acc",
    "test_loss",
    "test_acc",
    "best_test_acc",
    "best_test_step",
    "steps_to_fit",
    "steps_to_loss",
    "fit_threshold",
    "loss_threshold",
    "diverged_at_step",
    "wall_seconds",
    "images_per_s",
    "error",
    "format",
)


def test_result_json_keeps_its_keys_and_their_order() -> None:
    assert RESULT_KEYS == RESULT_JSON_KEYS
    spec = tiny_spec(fit_threshold=0.95, loss_threshold=0.05)
    outcome = Outcome.from_checkpoint(spec, Status.STOPPED, None)
    assert ("run_id", *outcome.to_dict()) == RESULT_JSON_KEYS
    assert outcome.format == RESULT_FORMAT == 2
    with pytest.raises(TypeError):  # keywords only: a field cannot be given by position
        Outcome(Status.COMPLETED, 1, 1.0)  # type: ignore[call-arg]


def test_statuses_compare_as_the_strings_result_json_holds() -> None:
    assert [str(s) for s in ENDED] == ["completed", "diverged", "failed", "stopped"]
    assert Status("completed") == "completed" and Status.COMPLETED.ended
    assert [s for s in Status if s.done] == [Status.COMPLETED, Status.DIVERGED]
    assert not Status.RUNNING.ended and not Status.FAILED.done


def test_an_outcome_from_a_checkpoint_tells_what_it_measured() -> None:
    spec = tiny_spec(fit_threshold=0.95, loss_threshold=0.05)
    meta = {
        "wall_seconds": 12.34567,
        "train_seconds": 10.0,
        "trained_steps": 80,
        "steps_to_fit": 60,
        "steps_to_loss": None,
        "test_loss": 2.0,
        "test_acc": 0.3,
        "best_test": [0.35, 40],
        "last_window": [0.1, 0.97],
        "window": [3, 0.3, 2.9],
    }
    out = Outcome.from_checkpoint(spec, Status.STOPPED, Checkpoint(80, 2, [], [], meta), "why")
    assert (out.status, out.step, out.epoch, out.error) == ("stopped", 80, 2.0, "why")
    assert (out.window_train_loss, out.window_train_acc) == (0.1, 0.97)
    assert (out.test_loss, out.test_acc, out.best_test_acc, out.best_test_step) == (
        2.0,
        0.3,
        0.35,
        40,
    )
    assert (out.steps_to_fit, out.steps_to_loss) == (60, None)
    assert (out.fit_threshold, out.loss_threshold) == (0.95, 0.05)
    assert out.wall_seconds == 12.346
    # Never evaluated on the training split, not diverged, no speed claimed.
    assert (out.train_loss, out.train_acc, out.diverged_at_step, out.images_per_s) == (None,) * 4
    empty = Outcome.from_checkpoint(spec, Status.FAILED, None, "no checkpoint")
    assert (empty.step, empty.epoch, empty.wall_seconds, empty.test_acc) == (0, 0.0, 0.0, None)


def test_an_outcome_from_progress_puts_its_running_means_in_the_window_fields() -> None:
    spec = tiny_spec()
    progress = {
        "step": 45,
        "total_steps": 100,
        "epoch": 1.4,
        "train_loss": 1.5,
        "train_acc": 0.4,
        "test_acc": 0.2,
        "images_per_s": 900.0,
        "seconds": 30.5,
    }
    out = Outcome.from_progress(spec, Status.FAILED, progress, "worker died")
    assert (out.status, out.step, out.epoch, out.error) == ("failed", 45, 1.4, "worker died")
    assert (out.window_train_loss, out.window_train_acc, out.test_acc) == (1.5, 0.4, 0.2)
    assert (out.train_loss, out.train_acc, out.test_loss, out.steps_to_fit) == (None,) * 4
    assert (out.wall_seconds, out.images_per_s) == (30.5, 900.0)
    assert (out.fit_threshold, out.loss_threshold) == (spec.fit_threshold, spec.loss_threshold)
    bare = Outcome.from_progress(spec, Status.FAILED, {}, None)
    assert (bare.step, bare.epoch, bare.wall_seconds, bare.window_train_loss) == (0, 0.0, 0.0, None)
