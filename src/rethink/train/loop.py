"""Training one run with the paper's protocol; returns data, writes nothing.

    outcome = train(spec.resolved(n), data, observer)

SGD with momentum, learning rate times `lr_decay` after every epoch (an
in-graph staircase schedule on the optimizer's step counter, so it survives
checkpoints), softmax cross-entropy on logits, each epoch on that epoch's
permutation (`rethink.data.pipeline.epoch_order`); the remainder of each shuffled
epoch is dropped so every step sees `batch_size` images. An epoch runs either
through `fit()` (the keras loop) or through a native stepper
(`rethink.train.steppers`: JAX and torch, data resident on the device, several
steps per dispatch); both train the same Keras model with the same optimizer.

Metrics rows come at every global step that is a multiple of `log_every`,
each row's training loss and accuracy the means over exactly the `log_every`
steps before it, across epoch ends (`rethink.train.windows`), recovered from
Keras's running epoch means, so logging costs no extra device work. The test
split is evaluated at every epoch end and the last step, in inference mode;
so is the whole training split (as the run sees it: corrupted, not
augmented) at the last step and every `eval_train_every` epochs: that is the
run's training accuracy. An evaluation that does not fall on a window's end
gets a row of its own, without training columns: no window is ever cut
short, except the last one of a run. Files, progress bars and live tables
are the observer's business (`rethink.run.execute`).
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from rethink.data.pipeline import RunData, epoch_order
from rethink.spec import RunSpec
from rethink.train.checkpoint import Checkpoint, restore, snapshot
from rethink.train.outcome import Outcome, Status
from rethink.train.steppers import Engine
from rethink.train.windows import Window, reached_acc

EVAL_BATCH = 500


class Observer:
    """What training reports to; subclass and override what you act upon (no-ops here)."""

    def on_row(self, row: dict[str, float | None]) -> None:
        """A metrics row (rethink.run.folder.METRICS_COLUMNS)."""

    def on_progress(self, progress: dict[str, float | None]) -> None:
        """After every dispatch: step, running means, speed."""

    def on_checkpoint(self, checkpoint: Checkpoint) -> None:
        """At the end of every whole epoch."""

    def on_model(self, model: Any) -> None:
        """The trained Keras model once the run completed: its variables hold the final
        weights (a native loop's state written back into them)."""


class _Tracker:
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


def effective_steps_per_execution(requested: int, spec: RunSpec, spe: int, total: int) -> int:
    """The largest k <= requested dividing log_every, steps per epoch and the last epoch.

    Keras reports to callbacks every k steps; keeping rows and epoch ends on
    multiples of k makes the metrics identical whatever k is.
    """
    limit = math.gcd(math.gcd(spec.log_every, spe), total % spe)
    return max(d for d in range(1, max(1, min(requested, limit)) + 1) if limit % d == 0)


def seed_everything(seed: int) -> None:
    """Seed initialization like `keras.utils.set_random_seed`, minus its TF import.

    Keras's initializers draw their seeds from Python's `random`; on the torch
    backend torch's generator matters too. `set_random_seed` also imports
    TensorFlow whenever it is installed, which costs every JAX or torch worker
    about two seconds, so it is used only where TensorFlow is in play.
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow" or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)
    if backend == "torch":
        import torch

        torch.manual_seed(seed)


def build_model(
    spec: RunSpec,
    input_shape: tuple[int, ...],
    spe: int,
    steps_per_execution: int = 1,
    num_classes: int = 10,
) -> Any:
    """The compiled model and optimizer of the protocol (Keras imported here)."""
    import keras

    from rethink.models import build

    seed_everything(spec.seed)
    keras.config.set_dtype_policy(spec.precision)
    model = build(
        spec.model,
        input_shape=input_shape,
        num_classes=num_classes,
        weight_decay=spec.weight_decay_gradient,
        weight_decay_layers=spec.weight_decay_layers,
    )
    schedule = keras.optimizers.schedules.ExponentialDecay(
        spec.lr, decay_steps=spe, decay_rate=spec.lr_decay, staircase=True
    )
    optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=spec.momentum)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
        steps_per_execution=steps_per_execution,
    )
    optimizer.build(model.trainable_variables)
    return model


def train(
    spec: RunSpec,
    data: RunData,
    observer: Observer | None = None,
    resume: Checkpoint | None = None,
    engine: Engine | None = None,
    should_stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] | None = None,
) -> Outcome:
    """Train `spec` (resolved) on `data`; ends as `stopped` on KeyboardInterrupt or
    once `should_stop()` turns true (checked after every dispatch: a signal
    handler that only sets a flag is never swallowed inside Keras).

    `engine` chooses how steps are executed (`rethink.train.steppers.Engine`: the
    keras loop or a native stepper, steps per dispatch); the metrics do not
    depend on it beyond float rounding. `log` receives notes such as a
    compilation falling back (default: standard error).
    """
    import keras

    from rethink.run.environment import device_name
    from rethink.train.epochs import KerasEpochs, NativeEpochs
    from rethink.train.steppers import chunk_limit, make_stepper

    engine = engine or Engine()
    observer = observer or Observer()
    stop = should_stop or (lambda: False)
    say = log or (lambda msg: print(f"rethink: {msg}", file=sys.stderr))
    n = len(data.y_train)
    spec = spec.resolved(n)
    tracker = _Tracker(spec, n, observer, resume)
    backend = keras.backend.backend()
    k = 1
    if not engine.uses_native(backend, spec.precision) and backend != "torch":
        # Keras's torch trainer runs one step per dispatch only.
        k = effective_steps_per_execution(
            engine.steps_per_execution or 1, spec, tracker.spe, tracker.total
        )
    model = build_model(spec, data.input_shape, tracker.spe, k, data.num_classes)
    if resume is not None:
        restore(model, resume)
    stepper = make_stepper(engine, model, data, spec, say)
    limit = chunk_limit(engine, device_name(backend) == "CPU")
    fit_epoch = (
        KerasEpochs(model, tracker, stop)
        if stepper is None
        else NativeEpochs(stepper, tracker, stop, limit)
    )
    n_epochs = math.ceil(tracker.total / tracker.spe)
    status = Status.COMPLETED

    def evaluate(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        result = model.evaluate(x, y, batch_size=EVAL_BATCH, verbose=0, return_dict=True)
        return float(result["loss"]), float(result["acc"])

    try:
        for epoch in range(tracker.epoch, n_epochs):
            if stop():
                raise KeyboardInterrupt
            steps = min(tracker.spe, tracker.total - epoch * tracker.spe)
            order = epoch_order(spec.seed, epoch, n)[: steps * spec.batch_size]
            tracker._begin_epoch(epoch)
            tracker.start_fit()
            fit_epoch(data, order, epoch, steps)
            tracker.end_fit()
            tracker.step = epoch * tracker.spe + tracker.k
            if stop():
                raise KeyboardInterrupt
            if tracker.diverged_at is not None:
                tracker.emit_row(tracker.step, last=True)
                status = Status.DIVERGED
                break
            if stepper is not None:
                stepper.sync()
            step = tracker.step
            last = step >= tracker.total or (spec.stop_at_fit and tracker.fits_at(step))
            every = spec.eval_train_every
            # The training split as the run sees it: corrupted, not augmented, inference mode.
            on_train = last or (every is not None and (epoch + 1) % every == 0)
            train_eval = evaluate(data.x_train, data.y_train) if on_train else None
            test = evaluate(data.x_test, data.y_test)
            tracker.emit_row(step, test, train_eval, last=last)
            if tracker.diverged_at is not None:
                status = Status.DIVERGED
                break
            if tracker.k == tracker.spe:  # a whole epoch: checkpoint at its end
                observer.on_checkpoint(snapshot(model, step, epoch + 1, tracker.meta()))
            if last:
                break
    except KeyboardInterrupt:
        status = Status.STOPPED
        tracker.step = tracker.epoch * tracker.spe + tracker.k
    if status == Status.COMPLETED:  # the stepper synced at the last epoch's end
        observer.on_model(model)
    return tracker.outcome(status)
