"""Training one run with the paper's protocol; returns data, writes nothing.

    outcome = train(spec.resolved(n), data, observer)

SGD with momentum, learning rate times `lr_decay` after every epoch (an
in-graph staircase schedule on the optimizer's step counter, so it survives
checkpoints), softmax cross-entropy on logits, each epoch on that epoch's
permutation (`rethink.inputs.epoch_order`); the remainder of each shuffled
epoch is dropped so every step sees `batch_size` images. An epoch runs either
through `fit()` (the keras loop) or through a native stepper
(`rethink.steppers`: JAX and torch, data resident on the device, several
steps per dispatch); both train the same Keras model with the same optimizer.

Metrics rows are produced every `log_every` steps and at each epoch end
(where the test split is evaluated). A row's training loss and accuracy are
the means over the steps since the previous row, recovered from Keras's
running epoch means, so logging costs no extra device work. Files, progress
bars and live tables are the observer's business (`rethink.runner`).
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rethink.atomic import write_atomically
from rethink.inputs import RunData, augment, epoch_order
from rethink.rundir import COMPLETED, DIVERGED, STOPPED
from rethink.spec import RunSpec
from rethink.steppers import Engine, Stepper, chunk_length

EVAL_BATCH = 500
# Float rounding of running means: 100% accuracy can read as 0.99999994.
_EPS = 1e-6


class Observer(Protocol):
    """What training reports to; every method is optional to act upon."""

    def on_row(self, row: dict[str, float | None]) -> None: ...

    def on_progress(self, progress: dict[str, float | None]) -> None: ...

    def on_checkpoint(self, checkpoint: Checkpoint) -> None: ...


class NullObserver:
    def on_row(self, row: dict[str, float | None]) -> None:
        pass

    def on_progress(self, progress: dict[str, float | None]) -> None:
        pass

    def on_checkpoint(self, checkpoint: Checkpoint) -> None:
        pass


@dataclass
class Checkpoint:
    """Model and optimizer state at an epoch end, plus the run's bookkeeping."""

    step: int
    epoch: int  # epochs completed
    weights: list[np.ndarray]
    optimizer: list[np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        """Write atomically: the previous checkpoint stays valid until replaced."""
        arrays = {f"w{i}": a for i, a in enumerate(self.weights)}
        arrays.update({f"o{i}": a for i, a in enumerate(self.optimizer)})
        header = {"step": self.step, "epoch": self.epoch, "meta": self.meta}
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        write_atomically(path, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        with np.load(path) as z:
            header = json.loads(bytes(z["header"]).decode())
            n_w = sum(1 for k in z.files if k.startswith("w"))
            n_o = sum(1 for k in z.files if k.startswith("o"))
            weights = [z[f"w{i}"] for i in range(n_w)]
            optimizer = [z[f"o{i}"] for i in range(n_o)]
        return cls(header["step"], header["epoch"], weights, optimizer, header["meta"])


@dataclass(frozen=True)
class Outcome:
    """How a run ended; `asdict()` gives result.json's fields (less run_id)."""

    status: str
    step: int
    epoch: float
    train_loss: float | None
    train_acc: float | None
    test_loss: float | None
    test_acc: float | None
    steps_to_fit: int | None
    steps_to_loss: int | None
    fit_threshold: float
    loss_threshold: float
    diverged_at_step: int | None
    wall_seconds: float
    images_per_s: float | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Tracker:
    """Turns Keras's running epoch means into rows, fit/divergence detection."""

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
        last = meta.get("last_train") or (None, None)
        self.last_train: tuple[float | None, float | None] = (last[0], last[1])
        self.diverged_at: int | None = None
        self.t0 = time.perf_counter()
        self.train_seconds = 0.0  # this segment, fit() time only
        self.trained_steps = 0  # this segment
        self.epoch = start.epoch if start else 0
        self._begin_epoch(self.epoch)

    # -- per epoch ------------------------------------------------------
    def _begin_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.row_k = 0  # steps into the epoch at the last row
        self.row_sums = (0.0, 0.0)  # loss, acc sums at the last row
        self.k = 0  # steps into the epoch now
        self.sums = (0.0, 0.0)
        self.row_time = time.perf_counter()

    def lr(self, epoch: int) -> float:
        return self.spec.lr * self.spec.lr_decay**epoch

    # -- from the Keras callback (every steps_per_execution steps) ------
    def batch_end(self, k: int, logs: dict[str, Any], last_k: int) -> bool:
        """Record step k (1-based within the epoch); return True to stop fit()."""
        loss, acc = float(logs.get("loss", math.nan)), float(logs.get("acc", math.nan))
        self.k = k
        self.sums = (loss * k, acc * k)
        step = self.epoch * self.spe + k
        now_steps = self.trained_steps + k
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
                "images_per_s": now_steps * self.spec.batch_size / elapsed if elapsed > 0 else None,
                "seconds": self.prior_seconds + time.perf_counter() - self.t0,
            }
        )
        if step % self.spec.log_every == 0 and k < last_k:
            if self.spec.stop_at_fit and self._fitted_now():
                # Stop here; train() writes this step's row, with the test split.
                return True
            self.emit_row(step)
        return False

    def _window(self) -> tuple[float | None, float | None]:
        """Mean training loss and accuracy over the steps since the last row."""
        n = self.k - self.row_k
        if n <= 0:
            return self.last_train
        return (self.sums[0] - self.row_sums[0]) / n, (self.sums[1] - self.row_sums[1]) / n

    def _fitted_now(self) -> bool:
        acc = self._window()[1]
        return self.steps_to_fit is not None or (
            acc is not None and acc >= self.spec.fit_threshold - _EPS
        )

    def fit_seconds(self) -> float:
        return self.train_seconds + (time.perf_counter() - self._fit_t0)

    def start_fit(self) -> None:
        self._fit_t0 = time.perf_counter()

    def end_fit(self) -> None:
        self.train_seconds += time.perf_counter() - self._fit_t0
        self.trained_steps += self.k

    # -- rows -------------------------------------------------------------
    def emit_row(self, step: int, test: tuple[float, float] | None = None) -> None:
        n = self.k - self.row_k
        loss, acc = self._window()
        now = time.perf_counter()
        dt = now - self.row_time
        row: dict[str, float | None] = {
            "step": step,
            "epoch": round(self.epoch + self.k / self.spe, 6),
            "lr": self.lr(self.epoch),
            "train_loss": loss,
            "train_acc": acc,
            "test_loss": test[0] if test else None,
            "test_acc": test[1] if test else None,
            "seconds": round(self.prior_seconds + now - self.t0, 3),
            "images_per_s": round(n * self.spec.batch_size / dt, 1) if n > 0 and dt > 0 else None,
        }
        self.row_k, self.row_sums, self.row_time = self.k, self.sums, now
        self.last_train = (loss, acc)
        if loss is not None and not math.isfinite(loss) and self.diverged_at is None:
            self.diverged_at = step
        if acc is not None and self.steps_to_fit is None and acc >= self.spec.fit_threshold - _EPS:
            self.steps_to_fit = step
        if (
            loss is not None
            and self.steps_to_loss is None
            and math.isfinite(loss)
            and loss <= self.spec.loss_threshold
        ):
            self.steps_to_loss = step
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
            "last_train": list(self.last_train),
        }

    def outcome(self, status: str, error: str | None = None) -> Outcome:
        m = self.meta()
        ips = (
            m["trained_steps"] * self.spec.batch_size / m["train_seconds"]
            if m["train_seconds"] > 0 and m["trained_steps"] > 0
            else None
        )
        return Outcome(
            status=status,
            step=self.step,
            epoch=round(self.step / self.spe, 4),
            train_loss=self.last_train[0],
            train_acc=self.last_train[1],
            test_loss=self.test_loss,
            test_acc=self.test_acc,
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
    spec: RunSpec, input_shape: tuple[int, ...], spe: int, steps_per_execution: int = 1
) -> Any:
    """The compiled model and optimizer of the protocol (Keras imported here)."""
    import keras

    from rethink.models import build

    seed_everything(spec.seed)
    keras.config.set_dtype_policy(spec.precision)
    model = build(spec.model, input_shape=input_shape, weight_decay=spec.weight_decay)
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


def snapshot(model: Any, step: int, epoch: int, meta: dict[str, Any]) -> Checkpoint:
    import keras

    weights = [keras.ops.convert_to_numpy(v.value) for v in model.variables]
    opt = [keras.ops.convert_to_numpy(v.value) for v in model.optimizer.variables]
    return Checkpoint(step, epoch, weights, opt, meta)


def restore(model: Any, checkpoint: Checkpoint) -> None:
    """Load a checkpoint's arrays into a freshly built model; ValueError if it does not fit."""
    if len(checkpoint.weights) != len(model.variables) or len(checkpoint.optimizer) != len(
        model.optimizer.variables
    ):
        raise ValueError("checkpoint does not match this model and optimizer")
    pairs = [
        *zip(model.variables, checkpoint.weights, strict=True),
        *zip(model.optimizer.variables, checkpoint.optimizer, strict=True),
    ]
    for var, arr in pairs:
        if tuple(var.shape) != tuple(arr.shape):
            raise ValueError(f"checkpoint shape {arr.shape} does not match {var.path} {var.shape}")
        var.assign(arr)


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

    `engine` chooses how steps are executed (`rethink.steppers.Engine`: the
    keras loop or a native stepper, steps per dispatch); the metrics do not
    depend on it beyond float rounding. `log` receives notes such as a
    compilation falling back (default: standard error).
    """
    import keras

    from rethink.environment import device_name
    from rethink.steppers import chunk_limit, make_stepper

    engine = engine or Engine()
    observer = observer or NullObserver()
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
    model = build_model(spec, data.x_train.shape[1:], tracker.spe, k)
    if resume is not None:
        restore(model, resume)
    stepper = make_stepper(engine, model, data.x_train, data.y_train, spec.batch_size, say)
    limit = chunk_limit(engine, device_name(backend) == "CPU")
    fit_epoch = (
        _KerasEpochs(model, tracker, stop)
        if stepper is None
        else _NativeEpochs(stepper, tracker, stop, limit)
    )
    n_epochs = math.ceil(tracker.total / tracker.spe)
    status = COMPLETED
    try:
        for epoch in range(tracker.epoch, n_epochs):
            if stop():
                raise KeyboardInterrupt
            steps = min(tracker.spe, tracker.total - epoch * tracker.spe)
            order = epoch_order(spec.seed, epoch, n)[: steps * spec.batch_size]
            images = augment(data.x_train[order], spec.seed, epoch) if spec.augment else None
            tracker._begin_epoch(epoch)
            tracker.start_fit()
            fit_epoch(data, order, images, steps)
            tracker.end_fit()
            tracker.step = epoch * tracker.spe + tracker.k
            if stop():
                raise KeyboardInterrupt
            if tracker.diverged_at is not None:
                tracker.emit_row(tracker.step)
                status = DIVERGED
                break
            if stepper is not None:
                stepper.sync()
            test = model.evaluate(
                data.x_test, data.y_test, batch_size=EVAL_BATCH, verbose=0, return_dict=True
            )
            tracker.test_loss, tracker.test_acc = float(test["loss"]), float(test["acc"])
            tracker.emit_row(tracker.step, (tracker.test_loss, tracker.test_acc))
            if tracker.diverged_at is not None:
                status = DIVERGED
                break
            if tracker.k == tracker.spe:  # a whole epoch: checkpoint at its end
                observer.on_checkpoint(snapshot(model, tracker.step, epoch + 1, tracker.meta()))
            if spec.stop_at_fit and tracker.steps_to_fit is not None:
                break
    except KeyboardInterrupt:
        status = STOPPED
        tracker.step = tracker.epoch * tracker.spe + tracker.k
    return tracker.outcome(status)


class _KerasEpochs:
    """One epoch through `fit()`, the tracker fed from a callback every k steps."""

    def __init__(self, model: Any, tracker: _Tracker, stop: Callable[[], bool]):
        import keras

        self.model = model
        self.batch_size = tracker.spec.batch_size

        class _Callback(keras.callbacks.Callback):
            last_k = 0

            def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
                if tracker.batch_end(batch + 1, logs or {}, self.last_k) or stop():
                    self.model.stop_training = True

        self.callback = _Callback()

    def __call__(
        self, data: RunData, order: np.ndarray, images: np.ndarray | None, steps: int
    ) -> None:
        self.callback.last_k = steps
        self.model.fit(
            data.x_train[order] if images is None else images,
            data.y_train[order],
            batch_size=self.batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[self.callback],
        )


class _NativeEpochs:
    """One epoch through a native stepper, in chunks that end at every row.

    The tracker sees what the keras loop's callback would: at each chunk's
    end, the running means of loss and accuracy since the epoch began, or,
    at the first non-finite loss, the step where it appeared.
    """

    def __init__(self, stepper: Stepper, tracker: _Tracker, stop: Callable[[], bool], limit: int):
        self.stepper, self.tracker, self.stop, self.limit = stepper, tracker, stop, limit

    def __call__(
        self, data: RunData, order: np.ndarray, images: np.ndarray | None, steps: int
    ) -> None:
        tracker = self.tracker
        self.stepper.begin_epoch(order, images)
        epoch_start = tracker.epoch * tracker.spe
        done, loss_sum, acc_sum = 0, 0.0, 0.0
        while done < steps:
            count = chunk_length(epoch_start, done, steps, tracker.spec.log_every, self.limit)
            losses, accs = self.stepper.run(done, count, self.stop)
            bad = np.flatnonzero(~np.isfinite(losses))
            if bad.size:  # report the first non-finite step, as a per-step callback would
                losses, accs = losses[: bad[0] + 1], accs[: bad[0] + 1]
            done += len(losses)
            loss_sum += float(np.sum(losses, dtype=np.float64))
            acc_sum += float(np.sum(accs, dtype=np.float64))
            logs = {"loss": loss_sum / done, "acc": acc_sum / done}
            if tracker.batch_end(done, logs, steps) or bad.size or self.stop():
                return
