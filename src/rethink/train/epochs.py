"""Running one epoch of training: through Keras's `fit()` or a native stepper.

    fit_epoch = KerasEpochs(model, tracker, stop)            # the keras loop
    fit_epoch = NativeEpochs(stepper, tracker, stop, limit)  # rethink.train.steppers
    fit_epoch(data, order, epoch, steps)

Both feed the tracker (`rethink.train.tracker`) after every dispatch: the
steps trained since the last report and the sums of their losses and
accuracies, and before that the examples of those steps with their predicted
classes (`Tracker.record`: a native stepper's `predictions`; in the keras loop
the metric of `rethink.train.predictions`, found in the callback's logs). A native stepper returns every step's values, which are summed;
Keras reports running means since the epoch began, which `KerasEpochs` turns
back into sums: that convention stays at its callback. Random crop and flip
(`spec.augment`) are drawn per epoch from the run's seed
(`rethink.data.pipeline.epoch_crops`): the keras loop gets the epoch's images
cropped on the host, a native stepper gets the draws and crops each batch on
the device, from the same images.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from rethink.data.pipeline import RunData, augmented_images, epoch_crops
from rethink.train.predictions import NAME as PREDICTIONS
from rethink.train.steppers import Stepper, chunk_length

if TYPE_CHECKING:
    from rethink.train.tracker import Tracker


class KerasEpochs:
    """One epoch through `fit()`, the tracker fed from a callback every k steps."""

    def __init__(self, model: Any, tracker: Tracker, stop: Callable[[], bool]):
        import keras

        self.model = model
        self.tracker = tracker
        self.stop = stop
        self.reported = (0, 0.0, 0.0)  # (steps, loss sum, accuracy sum) of the epoch so far
        self.order = np.zeros(0, np.int64)
        epochs = self

        class _Callback(keras.callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
                if epochs.report(batch + 1, logs or {}):
                    self.model.stop_training = True

        self.callback = _Callback()

    def report(self, k: int, logs: dict[str, Any]) -> bool:
        """Keras's running means over the epoch's first `k` steps, as the sums of the
        steps since the last report, to the tracker; True to stop `fit()`."""
        loss = float(logs.get("loss", math.nan))
        acc = float(logs.get("acc", math.nan))
        done, loss_sum, acc_sum = self.reported
        self.reported = (k, loss * k, acc * k)
        classes = logs.get(PREDICTIONS)
        if classes is not None and k > done:
            classes = np.asarray(classes)
            steps = np.arange(done, k)
            self.tracker.record(done, self._indices(done, k), classes[steps % len(classes)])
        return self.tracker.add(k - done, loss * k - loss_sum, acc * k - acc_sum) or self.stop()

    def _indices(self, first: int, end: int) -> np.ndarray:
        bs = self.tracker.spec.batch_size
        return self.order[first * bs : end * bs].reshape(end - first, bs)

    def __call__(self, data: RunData, order: np.ndarray, epoch: int, steps: int) -> None:
        spec = self.tracker.spec
        self.order = np.asarray(order)
        images = augmented_images(spec, data, order, epoch) if spec.augment else data.x_train[order]
        self.reported = (0, 0.0, 0.0)
        self.model.fit(
            images,
            data.y_train[order],
            batch_size=spec.batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[self.callback],
        )


class NativeEpochs:
    """One epoch through a native stepper, in chunks that end at every row.

    The tracker gets each chunk's sums, or, at the first non-finite loss, the
    sums up to the step where it appeared (as a per-step callback would).
    """

    def __init__(self, stepper: Stepper, tracker: Tracker, stop: Callable[[], bool], limit: int):
        self.stepper, self.tracker, self.stop, self.limit = stepper, tracker, stop, limit

    def __call__(self, data: RunData, order: np.ndarray, epoch: int, steps: int) -> None:
        tracker = self.tracker
        spec = tracker.spec
        crops = epoch_crops(spec, data, epoch, len(order)) if spec.augment else None
        self.stepper.begin_epoch(order, crops)
        epoch_start = epoch * tracker.spe
        done = 0
        while done < steps:
            count = chunk_length(epoch_start, done, steps, spec.log_every, self.limit)
            losses, accs = self.stepper.run(done, count, self.stop)
            bad = np.flatnonzero(~np.isfinite(losses))
            if bad.size:  # up to the first non-finite step
                losses, accs = losses[: bad[0] + 1], accs[: bad[0] + 1]
            classes = getattr(self.stepper, "predictions", None)
            if classes is not None:
                bs, end = spec.batch_size, done + len(losses)
                indices = order[done * bs : end * bs].reshape(len(losses), bs)
                tracker.record(done, indices, classes[: len(losses)])
            done += len(losses)
            loss_sum = float(np.sum(losses, dtype=np.float64))
            acc_sum = float(np.sum(accs, dtype=np.float64))
            if tracker.add(len(losses), loss_sum, acc_sum) or bad.size or self.stop():
                return
