"""One run's metrics while it trains: fed step sums, it reports rows, progress, the end.

    tracker = Tracker(spec, n_train, observer, resume_checkpoint)
    tracker.begin_epoch(epoch, steps)
    tracker.clock.start_fit()
    stop = tracker.add(steps, loss_sum, acc_sum)   # after every dispatch: True to stop
    tracker.clock.end_fit()
    tracker.emit_row(tracker.step, test=(loss, acc))  # a row with evaluations
    checkpoint_meta = tracker.meta()
    outcome = tracker.outcome(Status.COMPLETED)

Both loops (`rethink.train.epochs`) feed it what they trained since their last
report: a number of steps and the sums of those steps' losses and accuracies
(a native stepper's per-step values summed; Keras's running means turned
into sums at the callback), and, before that, the examples those steps
trained and their predicted classes (`record`, kept by
`rethink.train.examples`). It adds them to the metrics window
(`rethink.train.windows`), writes a row whenever a window closes, notices
divergence, and reports progress after every dispatch. What the rows decide
(time to fit and to loss, best test) lives in `rethink.train.bookkeeping`,
times and speeds in `rethink.train.clock`. Pure Python.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from rethink.spec import RunSpec
from rethink.train.bookkeeping import Bookkeeping
from rethink.train.checkpoint import Checkpoint
from rethink.train.clock import Clock
from rethink.train.examples import WINDOW_COLUMNS, ExampleHistory
from rethink.train.observer import Observer
from rethink.train.outcome import Outcome, Status
from rethink.train.windows import Window, reached_acc

Row = dict[str, float | None]


class Tracker:
    """The metrics of one run, from its start (or the checkpoint it resumes) to its end.

    A window closes at every global step that is a multiple of `log_every`,
    across epoch ends. The row at an epoch's last step is not written here:
    the loop writes it with the epoch's evaluations (`emit_row`).
    """

    def __init__(self, spec: RunSpec, n_train: int, observer: Observer, start: Checkpoint | None):
        self.spec = spec
        self.observer = observer
        self.spe = spec.steps_per_epoch(n_train)
        self.total = spec.total_steps(n_train)
        book = Bookkeeping.from_meta(start.meta if start else {})
        self.milestones = book.milestones
        self.clock = Clock(book.wall_seconds, book.train_seconds, book.trained_steps)
        self.window = Window.from_state(spec.log_every, book.window)
        self.train_eval: tuple[float, float] | None = None  # the last training-split evaluation
        self.diverged_at: int | None = None
        self.history: ExampleHistory | None = None  # the loop sets it
        self.begin_epoch(start.epoch if start else 0, self.spe)

    @property
    def step(self) -> int:
        """The global step trained up to."""
        return self.epoch * self.spe + self.k

    def begin_epoch(self, epoch: int, steps: int) -> None:
        """Epoch `epoch` (0-based) begins; it trains `steps` steps."""
        self.epoch = epoch
        self.epoch_steps = steps
        self.k = 0  # steps into the epoch
        self.sums = (0.0, 0.0)  # the epoch's loss and accuracy sums so far

    def record(self, first: int, indices: Any, predictions: Any) -> None:
        """Steps `first`..`first`+c-1 of this epoch (0-based) trained the examples `indices`
        (c, batch) and predicted `predictions` for them (to the history, if any)."""
        if self.history is not None and len(predictions):
            self.history.record(self.epoch * self.spe + first + 1, indices, predictions)

    def lr(self, epoch: int) -> float:
        return self.spec.lr * self.spec.lr_decay**epoch

    def add(self, steps: int, loss_sum: float, acc_sum: float) -> bool:
        """`steps` more steps of this epoch, whose losses and accuracies sum to these.

        Reports progress and writes the row of a window that closes before the
        epoch's last step; True when training must stop: a loss that is not
        finite (divergence), or, with `stop_at_fit`, a row that fits.
        """
        self.window.add(steps, loss_sum, acc_sum)
        self.clock.count(steps)
        self.k += steps
        self.sums = (self.sums[0] + loss_sum, self.sums[1] + acc_sum)
        step = self.step
        if not math.isfinite(loss_sum):
            self.diverged_at = step
            return True
        self.observer.on_progress(
            {
                "step": step,
                "total_steps": self.total,
                "epoch": self.epoch + self.k / self.spe,
                "train_loss": self.sums[0] / self.k,  # running means since the epoch began
                "train_acc": self.sums[1] / self.k,
                "test_acc": self.milestones.test_acc,
                "images_per_s": self.clock.segment_images_per_s(self.spec.batch_size),
                "seconds": self.clock.wall_seconds(),
            }
        )
        if self.window.due(step) and self.k < self.epoch_steps:
            if self.spec.stop_at_fit and self.fits_at(step):
                return True  # the loop writes this step's row, with the test split
            self.emit_row(step)
        return False

    def fits_at(self, step: int) -> bool:
        """Whether the run has fitted once a row is written at `step` (full windows only)."""
        if self.milestones.steps_to_fit is not None:
            return True
        if not self.window.due(step) or self.window.count != self.spec.log_every:
            return False
        return reached_acc(self.window.means()[1], self.spec.fit_threshold)

    def emit_row(
        self,
        step: int,
        test: tuple[float, float] | None = None,
        train_eval: tuple[float, float] | None = None,
        last: bool = False,
    ) -> None:
        """The row at `step`: its window if one ends here (or `last`), and evaluations."""
        row: Row = {
            "step": step,
            "epoch": round(step / self.spe, 6),
            "lr": self.lr(self.epoch),
            "window": None,
            "train_loss": None,
            "train_acc": None,
            "test_loss": test[0] if test else None,
            "test_acc": test[1] if test else None,
            "eval_train_loss": train_eval[0] if train_eval else None,
            "eval_train_acc": train_eval[1] if train_eval else None,
            "seconds": round(self.clock.wall_seconds(), 3),
            "images_per_s": None,
            **dict.fromkeys(WINDOW_COLUMNS),
        }
        if self.window.due(step) or (last and self.window.count > 0):
            self._close_window(step, row)
        if test is not None:
            self.milestones.test(step, *test)
        if train_eval is not None:
            self.train_eval = train_eval
        self.observer.on_row(row)

    def _close_window(self, step: int, row: Row) -> None:
        loss, acc, n = self.window.close()
        row.update(
            window=n,
            train_loss=loss,
            train_acc=acc,
            images_per_s=self.clock.images_per_s_since_mark(self.spec.batch_size),
        )
        if self.history is not None:
            row.update(self.history.close_window())
        if loss is not None and not math.isfinite(loss) and self.diverged_at is None:
            self.diverged_at = step
        if n == self.spec.log_every:  # only full windows decide fit and loss
            spec = self.spec
            self.milestones.full_window(step, loss, acc, spec.fit_threshold, spec.loss_threshold)

    def bookkeeping(self) -> Bookkeeping:
        """What a checkpoint taken now carries (`meta()`), and what the outcome reports."""
        return Bookkeeping(
            replace(self.milestones),
            wall_seconds=self.clock.wall_seconds(),
            train_seconds=self.clock.train_seconds,
            trained_steps=self.clock.trained_steps,
            window=self.window.state(),
        )

    def meta(self) -> dict[str, Any]:
        """A checkpoint's meta now (`Bookkeeping.to_meta`)."""
        return self.bookkeeping().to_meta()

    def outcome(self, status: Status, error: str | None = None) -> Outcome:
        """How the run ended at its current step; the training-split evaluation counts
        for a completed run only."""
        return Outcome.from_bookkeeping(
            self.spec,
            status,
            self.step,
            round(self.step / self.spe, 4),
            self.bookkeeping(),
            train_eval=self.train_eval if status == Status.COMPLETED else None,
            diverged_at_step=self.diverged_at,
            images_per_s=self.clock.images_per_s(self.spec.batch_size),
            error=error,
        )
