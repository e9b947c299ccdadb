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
steps before it, across epoch ends (`rethink.train.windows`, kept by
`rethink.train.tracker`), from the losses the steps return anyway, so
logging costs no extra device work. The same steps' predicted classes feed
each example's history (`rethink.train.examples`: first learned, learned
for good, forgetting events; for label corruptions, the window accuracy on
changed and kept examples), checkpointed with the model and handed to the
observer (`on_examples`) at every checkpoint and at the end. The test
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
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from rethink.base.frameworks import seed_framework
from rethink.data.pipeline import RunData, epoch_order
from rethink.spec import RunSpec
from rethink.train.checkpoint import Checkpoint, restore, snapshot
from rethink.train.examples import ExampleHistory
from rethink.train.observer import Observer
from rethink.train.outcome import Outcome, Status
from rethink.train.steppers import Execution, Stepper
from rethink.train.tracker import Tracker

EVAL_BATCH = 500
# Seeding and building use process-wide state (Python's and the framework's generators):
# runs trained in threads (a pack, rethink.train.pack) build one at a time.
_BUILDING = threading.Lock()

StepperFor = Callable[[Any, RunData, RunSpec], Stepper]
"""(compiled model, data, resolved spec) -> the stepper that trains it."""


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
    seed_framework(backend, seed)


def build_model(
    spec: RunSpec,
    input_shape: tuple[int, ...],
    spe: int,
    steps_per_execution: int = 1,
    num_classes: int = 10,
    predictions: bool = False,
) -> Any:
    """The compiled model and optimizer of the protocol (Keras imported here); with
    `predictions`, its metrics keep each step's predicted classes for the keras loop
    (`rethink.train.predictions`)."""
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
    compile_model(model, optimizer, steps_per_execution, spec.batch_size if predictions else 0)
    optimizer.build(model.trainable_variables)
    return model


def compile_model(model: Any, optimizer: Any, steps_per_execution: int, predictions: int) -> None:
    """Compile with the protocol's loss and accuracy ("acc"); with `predictions` (the batch
    size, or 0), also the metric keeping each step's classes (`rethink.train.predictions`).
    Compiling again with the same optimizer keeps its state."""
    import keras

    metrics = [keras.metrics.SparseCategoricalAccuracy(name="acc")]
    if predictions:
        from rethink.train.predictions import predictions_metric

        metrics.append(predictions_metric(predictions, steps_per_execution))
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=metrics,
        steps_per_execution=steps_per_execution,
    )


def example_history(
    data: RunData, spe: int, epochs: int, resume: Checkpoint | None = None
) -> ExampleHistory:
    """The run's per-example history: new, or the one `resume` holds (a checkpoint from
    before histories existed starts a new one, counting from its step on)."""
    if resume is not None and resume.examples:
        return ExampleHistory.from_state(resume.examples)
    return ExampleHistory(data.y_train, spe, epochs, data.y_original, data.replaced)


def train(
    spec: RunSpec,
    data: RunData,
    observer: Observer | None = None,
    resume: Checkpoint | None = None,
    execution: Execution | None = None,
    should_stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] | None = None,
    stepper_for: StepperFor | None = None,
) -> Outcome:
    """Train `spec` (resolved) on `data`; ends as `stopped` on KeyboardInterrupt or
    once `should_stop()` turns true (checked after every dispatch: a signal
    handler that only sets a flag is never swallowed inside Keras).

    `execution` chooses how steps are executed (`rethink.train.steppers.Execution`: the
    keras loop or a native stepper, steps per dispatch); the metrics do not
    depend on it beyond float rounding. `log` receives notes such as a
    compilation falling back (default: standard error). `stepper_for` makes the
    stepper instead of `make_stepper` (a pack's member: `rethink.train.pack`).
    """
    import keras

    from rethink.base.frameworks import float32_precision, on_cpu
    from rethink.train.epochs import KerasEpochs, NativeEpochs
    from rethink.train.steppers import chunk_limit, make_stepper, records_examples

    execution = execution or Execution()
    observer = observer or Observer()
    stop = should_stop or (lambda: False)
    say = log or (lambda msg: print(f"rethink: {msg}", file=sys.stderr))
    n = len(data.y_train)
    spec = spec.resolved(n)
    tracker = Tracker(spec, n, observer, resume)
    backend = keras.backend.backend()
    float32_precision(backend, apply=True)  # torch on a GPU: TF32, as JAX
    k = 1
    keras_loop = not execution.uses_native(backend, spec.precision) and stepper_for is None
    record = records_examples()
    if keras_loop and backend != "torch":
        # Keras's torch trainer runs one step per dispatch only.
        k = effective_steps_per_execution(
            execution.steps_per_execution or 1, spec, tracker.spe, tracker.total
        )
    with _BUILDING:
        model = build_model(
            spec, data.input_shape, tracker.spe, k, data.num_classes, keras_loop and record
        )
        if resume is not None:
            restore(model, resume)
    observer.on_built(model)
    n_epochs = math.ceil(tracker.total / tracker.spe)
    if record:
        tracker.history = example_history(data, tracker.spe, n_epochs, resume)
    if stepper_for is not None:
        stepper: Stepper | None = stepper_for(model, data, spec)
    else:
        stepper = make_stepper(execution, model, data, spec, say)
    limit = chunk_limit(execution, on_cpu(backend))
    fit_epoch = (
        KerasEpochs(model, tracker, stop)
        if stepper is None
        else NativeEpochs(stepper, tracker, stop, limit)
    )
    status = Status.COMPLETED

    def examples() -> dict[str, np.ndarray]:
        return {} if tracker.history is None else tracker.history.state()

    def evaluate(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        result = model.evaluate(x, y, batch_size=EVAL_BATCH, verbose=0, return_dict=True)
        return float(result["loss"]), float(result["acc"])

    try:
        for epoch in range(tracker.epoch, n_epochs):
            if stop():
                raise KeyboardInterrupt
            steps = min(tracker.spe, tracker.total - epoch * tracker.spe)
            order = epoch_order(spec.seed, epoch, n)[: steps * spec.batch_size]
            tracker.begin_epoch(epoch, steps)
            tracker.clock.start_fit()
            fit_epoch(data, order, epoch, steps)
            tracker.clock.end_fit()
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
                arrays = examples()
                observer.on_checkpoint(snapshot(model, step, epoch + 1, tracker.meta(), arrays))
                if arrays:
                    observer.on_examples(arrays)
            elif last and tracker.history is not None:
                observer.on_examples(examples())
            if last:
                break
    except KeyboardInterrupt:
        status = Status.STOPPED
    if status == Status.DIVERGED and tracker.history is not None:
        observer.on_examples(examples())
    if status == Status.COMPLETED:  # the stepper synced at the last epoch's end
        if keras_loop and record:  # model.keras without the metric only training uses
            compile_model(model, model.optimizer, k, 0)
        observer.on_model(model)
    return tracker.outcome(status)
