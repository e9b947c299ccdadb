"""The keras loop's per-example predictions: a Keras metric that keeps each step's classes.

    metric = predictions_metric(batch_size, steps_per_execution)  # compiled with the model
    classes = logs["predictions"]  # in a callback: (k, batch_size), step s at row s % k

`fit()` computes every batch's logits in its training step; this metric's
`update_state`, which Keras calls inside that step (compiled with it, on the
device), writes the batch's predicted classes into a (k, batch) variable at
row `count % k` (k: steps per execution, so the callback that runs every k
steps finds all of them), and `result()` hands the variable to the logs.
Keras resets it at every epoch's start, so row s % k holds the epoch's step s
(0-based). A batch other than `batch_size` (an evaluation's) is cut or padded
with -1 to fit; its classes are never read. The native steppers return the
same classes from their own steps (`predictions`), so no loop runs an extra
forward pass.
"""

from __future__ import annotations

from typing import Any

NAME = "predictions"


def predictions_metric(batch_size: int, slots: int) -> Any:
    """A Keras metric keeping the predicted classes of the last `slots` training steps."""
    import keras
    from keras import ops

    class Predictions(keras.metrics.Metric):
        def __init__(self) -> None:
            super().__init__(name=NAME)
            self.classes = self.add_variable(
                shape=(slots, batch_size), initializer="zeros", dtype="int32", name="classes"
            )
            self.count = self.add_variable(
                shape=(), initializer="zeros", dtype="int32", name="count"
            )

        def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
            pred = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
            pred = ops.concatenate([pred, ops.full((batch_size,), -1, dtype="int32")])
            row = ops.reshape(pred[:batch_size], (1, batch_size))
            slot = ops.mod(self.count.value, slots)
            start = [slot, ops.zeros((), dtype="int32")]
            self.classes.assign(ops.slice_update(self.classes.value, start, row))
            self.count.assign(self.count.value + 1)

        def result(self) -> Any:
            return ops.convert_to_tensor(self.classes.value)

        def reset_state(self) -> None:
            self.classes.assign(ops.zeros((slots, batch_size), dtype="int32"))
            self.count.assign(ops.zeros((), dtype="int32"))

    return Predictions()
