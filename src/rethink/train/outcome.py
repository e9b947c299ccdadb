"""How a run ended: the one status vocabulary and the one result type of rethink.

    outcome = train(spec, data)          # rethink.train.loop
    outcome.status                       # Status.COMPLETED
    {"run_id": spec.run_id, **outcome.to_dict()}   # result.json (RESULT_KEYS)

`Status` is a `StrEnum`, so its members compare equal to the strings that
result.json files hold ("completed", "diverged", "failed", "stopped"), from
any version of rethink; "queued" and "running" are the states of a run a
grid has not finished. Pure Python; no Keras.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rethink.train.bookkeeping import Bookkeeping

if TYPE_CHECKING:
    from rethink.spec import TrainingSpec
    from rethink.train.checkpoint import Checkpoint


class Status(StrEnum):
    """A run's state: the ended ones are written to result.json."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    DIVERGED = "diverged"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def ended(self) -> bool:
        """The run stopped training and wrote result.json (any of the four results)."""
        return self in ENDED

    @property
    def done(self) -> bool:
        """Ended for good: a grid skips it, `--resume` does not train it again."""
        return self in (Status.COMPLETED, Status.DIVERGED)


ENDED = (Status.COMPLETED, Status.DIVERGED, Status.FAILED, Status.STOPPED)

# result.json format: 2 since the training-set evaluation (a file without
# "format" is 1, where train_loss/train_acc were the last row's window means).
RESULT_FORMAT = 2


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """How a run ended; `asdict()` gives result.json's fields (less run_id), in order.

    `train_loss`/`train_acc` are the trained model on the whole training split
    (inference mode, no augmentation), measured at the end of a completed run
    (None otherwise); `window_train_*` are the last full window's running
    means, as trained (rethink.run.folder documents every key). Built by
    keyword (`from_bookkeeping`, `from_progress`): what a run did not measure
    stays None.
    """

    status: Status
    step: int = 0
    epoch: float = 0.0
    train_loss: float | None = None
    train_acc: float | None = None
    window_train_loss: float | None = None
    window_train_acc: float | None = None
    test_loss: float | None = None
    test_acc: float | None = None
    best_test_acc: float | None = None
    best_test_step: int | None = None
    steps_to_fit: int | None = None
    steps_to_loss: int | None = None
    fit_threshold: float
    loss_threshold: float
    diverged_at_step: int | None = None
    wall_seconds: float = 0.0
    images_per_s: float | None = None
    error: str | None = None
    format: int = RESULT_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_bookkeeping(
        cls,
        spec: TrainingSpec,
        status: Status,
        step: int,
        epoch: float,
        book: Bookkeeping,
        *,
        train_eval: tuple[float, float] | None = None,
        diverged_at_step: int | None = None,
        images_per_s: float | None = None,
        error: str | None = None,
    ) -> Outcome:
        """A run's outcome from what it measured (`rethink.train.bookkeeping`): how a
        tracker ends a run and how a checkpoint tells it; `train_eval` is the final
        (loss, accuracy) on the training split, for completed runs only."""
        m = book.milestones
        return cls(
            status=status,
            step=step,
            epoch=epoch,
            train_loss=train_eval[0] if train_eval else None,
            train_acc=train_eval[1] if train_eval else None,
            window_train_loss=m.last_full_window[0],
            window_train_acc=m.last_full_window[1],
            test_loss=m.test_loss,
            test_acc=m.test_acc,
            best_test_acc=m.best_test[0],
            best_test_step=m.best_test[1],
            steps_to_fit=m.steps_to_fit,
            steps_to_loss=m.steps_to_loss,
            fit_threshold=spec.fit_threshold,
            loss_threshold=spec.loss_threshold,
            diverged_at_step=diverged_at_step,
            wall_seconds=round(book.wall_seconds, 3),
            images_per_s=images_per_s,
            error=error,
        )

    @classmethod
    def from_progress(
        cls, spec: TrainingSpec, status: Status, progress: dict[str, Any], error: str | None
    ) -> Outcome:
        """The outcome of a worker that died without one, from its last progress.json.

        progress.json holds running means (since the epoch began), never an
        evaluation: they go to the window fields, the training-split ones stay
        null.
        """
        p = progress
        return cls(
            status=status,
            step=int(p.get("step") or 0),
            epoch=float(p.get("epoch") or 0.0),
            window_train_loss=p.get("train_loss"),
            window_train_acc=p.get("train_acc"),
            test_acc=p.get("test_acc"),
            fit_threshold=spec.fit_threshold,
            loss_threshold=spec.loss_threshold,
            wall_seconds=float(p.get("seconds") or 0.0),
            images_per_s=p.get("images_per_s"),
            error=error,
        )

    @classmethod
    def from_checkpoint(
        cls,
        spec: TrainingSpec,
        status: Status,
        checkpoint: Checkpoint | None,
        error: str | None = None,
    ) -> Outcome:
        """The outcome of a run that ended before training (again): its checkpoint's numbers."""
        book = Bookkeeping.from_meta(checkpoint.meta if checkpoint else {})
        step, epoch = (checkpoint.step, float(checkpoint.epoch)) if checkpoint else (0, 0.0)
        return cls.from_bookkeeping(spec, status, step, epoch, book, error=error)


# result.json keys (all present; numbers may be null): run_id and Outcome's fields.
RESULT_KEYS = ("run_id", *(f.name for f in fields(Outcome)))
