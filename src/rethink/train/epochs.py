"""Running one epoch of training: through Keras's `fit()` or a native stepper.

    fit_epoch = KerasEpochs(model, tracker, stop)          # the keras loop
    fit_epoch = NativeEpochs(stepper, tracker, stop, limit)  # rethink.train.steppers
    fit_epoch(data, order, epoch, steps)

Both feed the tracker of `rethink.train.loop` what a Keras callback sees: after
every dispatch, the running means of loss and accuracy since the epoch began.
Random crop and flip (`spec.augment`) are drawn per epoch from the run's
seed (`rethink.data.pipeline.crop_draws`): the keras loop gets the epoch's images
cropped on the host, a native stepper gets the draws and crops each batch on
the device, from the same images.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from rethink.data.pipeline import RunData, augmented_images, epoch_crops
from rethink.train.steppers import Stepper, chunk_length

if TYPE_CHECKING:
    from rethink.train.tracker import Tracker


class KerasEpochs:
    """One epoch through `fit()`, the tracker fed from a callback every k steps."""

    def __init__(self, model: Any, tracker: Tracker, stop: Callable[[], bool]):
        import keras

        self.model = model
        self.spec = tracker.spec
        self.batch_size = tracker.spec.batch_size

        class _Callback(keras.callbacks.Callback):
            last_k = 0

            def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
                if tracker.batch_end(batch + 1, logs or {}, self.last_k) or stop():
                    self.model.stop_training = True

        self.callback = _Callback()

    def __call__(self, data: RunData, order: np.ndarray, epoch: int, steps: int) -> None:
        spec = self.spec
        images = augmented_images(spec, data, order, epoch) if spec.augment else data.x_train[order]
        self.callback.last_k = steps
        self.model.fit(
            images,
            data.y_train[order],
            batch_size=self.batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[self.callback],
        )


class NativeEpochs:
    """One epoch through a native stepper, in chunks that end at every row.

    The tracker sees what the keras loop's callback would: at each chunk's
    end, the running means of loss and accuracy since the epoch began, or,
    at the first non-finite loss, the step where it appeared.
    """

    def __init__(self, stepper: Stepper, tracker: Tracker, stop: Callable[[], bool], limit: int):
        self.stepper, self.tracker, self.stop, self.limit = stepper, tracker, stop, limit

    def __call__(self, data: RunData, order: np.ndarray, epoch: int, steps: int) -> None:
        tracker = self.tracker
        spec = tracker.spec
        crops = epoch_crops(spec, data, epoch, len(order)) if spec.augment else None
        self.stepper.begin_epoch(order, crops)
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
