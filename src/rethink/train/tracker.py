"""One run's bookkeeping while it trains: windows, speed, fit, divergence, best test.

    tracker = Tracker(spec, n_train, observer, resume_checkpoint)
    tracker.batch_end(k, {"loss": mean, "acc": mean}, last_k)   # after every dispatch
    tracker.emit_row(step, test=(loss, acc))                     # a metrics row
    tracker.outcome(Status.COMPLETED)                            # how the run ended

Fed by both loops (`rethink.train.epochs`: Keras's `fit()` and the native
steppers) and pure Python: it turns the running means of loss and accuracy
into fixed-window metrics rows (`rethink.train.windows`), decides time to fit
and to loss, notices divergence, keeps the best test accuracy, reports
progress and holds what a checkpoint must carry to resume.
"""

from __future__ import annotations

import math
import time
from typing import Any

from rethink.spec import RunSpec
from rethink.train.checkpoint import Checkpoint
from rethink.train.observer import Observer
from rethink.train.outcome import Outcome, Status
from rethink.train.windows import Window, reached_acc


class Tracker:
    """Turns Keras's running epoch means into fixed-window rows; fit and divergence.

    Keras (and the native loops, which mimic it) report the running mean of
    the loss and accuracy since the epoch began. The increments between two
    reports are added to a `rethink.train.windows.Window`, which closes at every
    global step that is a multiple of `log_every`, across epoch ends.
    """

    def __init__(self, spec: RunSpec, n_train: int, observer: Observer, start: Checkpoint | None):
        self.spec = spec
        self.observer = observer
        self.spe = spec.steps_per_epoch(n_train)
        self.total = spec.total_steps(n_train)
        meta = start.meta if start else {}
        self.step = start.step if start else 0
        self.prior_seconds = float(meta.get("wall_seconds", 0.0))
        self.prior_train_seconds = float(meta.get("train_seconds", 0.0))
        self.prior_trained_steps = int(meta.get("trained_steps", 0))
        self.steps_to_fit: int | None = meta.get("steps_to_fit")
        self.steps_to_loss: int | None = meta.get("steps_to_loss")
        self.test_loss: float | None = meta.get("test_loss")
        self.test_acc: float | None = meta.get("test_acc")
        best = meta.get("best_test") or (None, None)
        self.best_test: tuple[float | None, int | None] = (best[0], best[1])
        # A checkpoint from before fixed windows ("last_train") has no open window.
        last = meta.get("last_window") or meta.get("last_train") or (None, None)
        self.last_window: tuple[float | None, float | None] = (last[0], last[1])
        self.window = Window.from_state(spec.log_every, meta.get("window"))
        self.train_eval: tuple[float, float] | None = None
        self.diverged_at: int | None = None
        self.t0 = time.perf_counter()
        self.train_seconds = 0.0  # this segment, training time only
        self.trained_steps = 0  # this segment
        self._fit_t0: float | None = None
        self._speed_mark = (0.0, 0)  # (training seconds, steps) at the last closed window
        self.epoch = start.epoch if start else 0
        self._begin_epoch(self.epoch)

    # -- per epoch ------------------------------------------------------
    def _begin_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.k = 0  # steps into the epoch now
        self.sums = (0.0, 0.0)  # loss and accuracy summed over the epoch's steps so far

    def lr(self, epoch: int) -> float:
        return self.spec.lr * self.spec.lr_decay**epoch

    # -- from the Keras callback (every steps_per_execution steps) ------
    def batch_end(self, k: int, logs: dict[str, Any], last_k: int) -> bool:
        """Record step k (1-based within the epoch); return True to stop fit()."""
        loss, acc = float(logs.get("loss", math.nan)), float(logs.get("acc", math.nan))
        sums = (loss * k, acc * k)
        self.window.add(k - self.k, sums[0] - self.sums[0], sums[1] - self.sums[1])
        self.k, self.sums = k, sums
        step = self.epoch * self.spe + k
        if not math.isfinite(loss):
            self.diverged_at = step
            return True
        elapsed = self.fit_seconds()
        self.observer.on_progress(
            {
                "step": step,
                "total_steps": self.total,
                "epoch": self.epoch + k / self.spe,
                "train_loss": loss,
                "train_acc": acc,
                "test_acc": self.test_acc,
                "images_per_s": (self.trained_steps + k) * self.spec.batch_size / elapsed
                if elapsed > 0
                else None,
                "seconds": self.prior_seconds + time.perf_counter() - self.t0,
            }
        )
        if self.window.due(step) and k < last_k:
            if self.spec.stop_at_fit and self.fits_at(step):
                # Stop here; train() writes this step's row, with the test split.
                return True
            self.emit_row(step)
        return False

    def fits_at(self, step: int) -> bool:
        """Whether the run has fitted once a row is written at `step` (full windows only)."""
        if self.steps_to_fit is not None:
            return True
        if not self.window.due(step) or self.window.count != self.spec.log_every:
            return False
        return reached_acc(self.window.means()[1], self.spec.fit_threshold)

    def fit_seconds(self) -> float:
        running = 0.0 if self._fit_t0 is None else time.perf_counter() - self._fit_t0
        return self.train_seconds + running

    def start_fit(self) -> None:
        self._fit_t0 = time.perf_counter()

    def end_fit(self) -> None:
        if self._fit_t0 is not None:
            self.train_seconds += time.perf_counter() - self._fit_t0
        self._fit_t0 = None
        self.trained_steps += self.k

    # -- rows -------------------------------------------------------------
    def emit_row(
        self,
        step: int,
        test: tuple[float, float] | None = None,
        train_eval: tuple[float, float] | None = None,
        last: bool = False,
    ) -> None:
        """The row at `step`: its window if one ends here (or `last`), and evaluations."""
        row: dict[str, float | None] = {
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
            "seconds": round(self.prior_seconds + time.perf_counter() - self.t0, 3),
            "images_per_s": None,
        }
        if self.window.due(step) or (last and self.window.count > 0):
            loss, acc, n = self.window.close()
            seconds = self.fit_seconds()
            steps = self.trained_steps + (self.k if self._fit_t0 is not None else 0)
            dt, dn = seconds - self._speed_mark[0], steps - self._speed_mark[1]
            self._speed_mark = (seconds, steps)
            row.update(
                window=n,
                train_loss=loss,
                train_acc=acc,
                images_per_s=round(dn * self.spec.batch_size / dt, 1)
                if dn > 0 and dt > 0
                else None,
            )
            if loss is not None and not math.isfinite(loss) and self.diverged_at is None:
                self.diverged_at = step
            if n == self.spec.log_every:  # only full windows decide fit and loss
                self.last_window = (loss, acc)
                if self.steps_to_fit is None and reached_acc(acc, self.spec.fit_threshold):
                    self.steps_to_fit = step
                if (
                    loss is not None
                    and self.steps_to_loss is None
                    and math.isfinite(loss)
                    and loss <= self.spec.loss_threshold
                ):
                    self.steps_to_loss = step
        if test is not None:
            self.test_loss, self.test_acc = test
            if self.best_test[0] is None or test[1] > self.best_test[0]:
                self.best_test = (test[1], step)
        if train_eval is not None:
            self.train_eval = train_eval
        self.observer.on_row(row)

    def meta(self) -> dict[str, Any]:
        return {
            "wall_seconds": self.prior_seconds + time.perf_counter() - self.t0,
            "train_seconds": self.prior_train_seconds + self.train_seconds,
            "trained_steps": self.prior_trained_steps + self.trained_steps,
            "steps_to_fit": self.steps_to_fit,
            "steps_to_loss": self.steps_to_loss,
            "test_loss": self.test_loss,
            "test_acc": self.test_acc,
            "best_test": list(self.best_test),
            "last_window": list(self.last_window),
            "window": self.window.state(),
        }

    def outcome(self, status: Status, error: str | None = None) -> Outcome:
        m = self.meta()
        ips = (
            m["trained_steps"] * self.spec.batch_size / m["train_seconds"]
            if m["train_seconds"] > 0 and m["trained_steps"] > 0
            else None
        )
        train_eval = self.train_eval if status == Status.COMPLETED else None
        return Outcome(
            status=status,
            step=self.step,
            epoch=round(self.step / self.spe, 4),
            train_loss=train_eval[0] if train_eval else None,
            train_acc=train_eval[1] if train_eval else None,
            window_train_loss=self.last_window[0],
            window_train_acc=self.last_window[1],
            test_loss=self.test_loss,
            test_acc=self.test_acc,
            best_test_acc=self.best_test[0],
            best_test_step=self.best_test[1],
            steps_to_fit=self.steps_to_fit,
            steps_to_loss=self.steps_to_loss,
            fit_threshold=self.spec.fit_threshold,
            loss_threshold=self.spec.loss_threshold,
            diverged_at_step=self.diverged_at,
            wall_seconds=round(m["wall_seconds"], 3),
            images_per_s=None if ips is None else round(ips, 1),
            error=error,
        )
