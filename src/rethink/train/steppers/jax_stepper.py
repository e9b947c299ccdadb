"""The native JAX stepper: many steps per dispatch, data resident on the device.

One `jax.jit` function trains a chunk with `lax.fori_loop`; its trip count
is a traced argument, so chunks of any length up to the buffer size share a
single compilation (and JAX's persistent compilation cache keeps it across
runs). Each step gathers its batch on the device from the epoch's order,
calls the model statelessly (`stateless_call`, which also returns the weight
penalties), takes the gradient of Keras's loss and applies the model's own
Keras optimizer (`stateless_apply`), exactly as Keras's JAX trainer does.
The step's loss (the penalties included, as Keras reports it), accuracy
and each example's predicted class (`predictions`, for
`rethink.train.examples`) go into per-chunk buffers read once at the chunk's
end.

Random crops (`augment`) happen inside the step too (`augment_batch` of
`rethink.train.steppers.augmentation`, shared with torch): the epoch's crop
offsets and flips are device arrays indexed like its order, so augmented
epochs run the same compiled program. The order and the crops are padded to
the training set's size, so a partial last epoch does too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import keras
import numpy as np

from rethink.data.pipeline import Crops
from rethink.train.steppers import check_crops
from rethink.train.steppers.augmentation import augment_batch
from rethink.train.steppers.lockstep import epoch_arrays

# Per-step buffers hold this many steps; longer chunks are split.
BUFFER = 1024


Step = Callable[[Any, Any, Any, Any, Any], tuple[Any, Any, Any, Any]]


def train_step(
    model: Any,
    batch_size: int,
    augment: str | None,
    crop: tuple[int, int] | None,
    predictions: bool = True,
) -> Step:
    """The pure training step of `model` (any model of its architecture: the variables
    are arguments): step(state, x, y, epoch, index) -> (state, loss, accuracy,
    predicted classes) trains batch `index` of the epoch arrays (order, dy, dx, flip),
    as Keras's JAX trainer does (without `predictions`, the classes are an empty array). `jax.vmap` of it trains several runs at once (`rethink.train.steppers.jax_pack`)."""

    def loss_fn(trainable: Any, non_trainable: Any, x: Any, y: Any) -> Any:
        logits, non_trainable, penalties = model.stateless_call(
            trainable, non_trainable, x, return_losses=True, training=True
        )
        loss = jnp.mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
        for p in penalties:
            loss = loss + p.astype(loss.dtype)
        return loss, (logits, non_trainable)

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def step(state: Any, x: Any, y: Any, epoch: Any, index: Any) -> tuple[Any, Any, Any, Any]:
        trainable, non_trainable, opt_vars = state
        order, dy, dx, flip = (
            jax.lax.dynamic_slice_in_dim(a, index * batch_size, batch_size) for a in epoch
        )
        xb, yb = jnp.take(x, order, axis=0), jnp.take(y, order, axis=0)
        if augment is not None:
            xb = augment_batch(xb, dy, dx, flip, augment, crop)
        (loss, (logits, non_trainable)), grads = grad_fn(trainable, non_trainable, xb, yb)
        trainable, opt_vars = model.optimizer.stateless_apply(opt_vars, grads, trainable)
        pred = jnp.argmax(logits, axis=-1).astype(jnp.int32)
        acc = jnp.mean((pred == yb).astype(jnp.float32))
        if not predictions:
            pred = jnp.zeros((0,), jnp.int32)
        return (trainable, non_trainable, opt_vars), loss.astype(jnp.float32), acc, pred

    return step


def read_state(model: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """The arrays of a Keras model's (trainable, non-trainable, optimizer) variables."""
    return (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
        [v.value for v in model.optimizer.variables],
    )


def write_state(model: Any, state: Any) -> None:
    """Copies of `state`'s arrays into the Keras model's variables (a later dispatch
    may donate `state`)."""
    trainable, non_trainable, opt_vars = state
    pairs = [
        *zip(model.trainable_variables, trainable, strict=True),
        *zip(model.non_trainable_variables, non_trainable, strict=True),
        *zip(model.optimizer.variables, opt_vars, strict=True),
    ]
    for var, value in pairs:
        var.assign(jnp.copy(value))


class JaxStepper:
    name = "jax"

    def __init__(
        self,
        model: Any,
        x_train: np.ndarray,
        y_train: np.ndarray,
        batch_size: int,
        augment: str | None = None,
        crop: tuple[int, int] | None = None,
        predictions: bool = True,
    ):
        """`x_train`: the images trained on, or, with `augment` ("window" or
        "padded"), the images cropped from (raw uint8 whole images, or
        preprocessed); `crop`: the "window" crop's (rows, columns) (CIFAR: 28x28);
        `predictions`: return each example's class (`self.predictions`)."""
        self.model = model
        self.batch_size = batch_size
        self.augment = augment
        self.crop = None if crop is None else (int(crop[0]), int(crop[1]))
        self.n = len(y_train)
        self.x = jax.device_put(x_train)
        self.y = jax.device_put(np.asarray(y_train, dtype=np.int32))
        self.epoch = self._epoch_arrays(np.arange(self.n), None)
        self.state = self._own_state()
        self.step = train_step(model, batch_size, augment, self.crop, predictions)
        self.width = batch_size if predictions else 0  # of the classes buffer
        self.predictions: np.ndarray | None = None  # the last run's, per step
        # One step without a loop: XLA on a CPU ran Inception's step inside a
        # while loop about 20 times slower (11.1 s against 0.5 s, batch 32).
        # The state is donated (updated in place, as in Keras's trainer): it
        # never shares buffers with the Keras variables (see begin_epoch, sync).
        self._one = jax.jit(self._train_one, donate_argnums=(0,))
        self._chunk = jax.jit(self._train_chunk, donate_argnums=(0,))

    def _own_state(self) -> Any:
        """Copies of the Keras variables' arrays: the dispatches donate them."""
        return jax.tree_util.tree_map(jnp.copy, read_state(self.model))

    def _step(
        self, state: Any, x: Any, y: Any, epoch: Any, index: Any
    ) -> tuple[Any, Any, Any, Any]:
        return self.step(state, x, y, epoch, index)

    def _train_one(self, state: Any, x: Any, y: Any, epoch: Any, first: Any) -> Any:
        state, loss, acc, pred = self._step(state, x, y, epoch, first)
        return state, loss[None], acc[None], pred[None]

    def _train_chunk(
        self, state: Any, x: Any, y: Any, epoch: Any, first: Any, count: Any
    ) -> tuple[Any, Any, Any, Any]:
        def body(i: Any, carry: Any) -> Any:
            state, losses, accs, preds = carry
            state, loss, acc, pred = self._step(state, x, y, epoch, first + i)
            return state, losses.at[i].set(loss), accs.at[i].set(acc), preds.at[i].set(pred)

        buffers = (
            jnp.zeros((BUFFER,), jnp.float32),
            jnp.zeros((BUFFER,), jnp.float32),
            jnp.zeros((BUFFER, self.width), jnp.int32),
        )
        return jax.lax.fori_loop(0, count, body, (state, *buffers))

    def _epoch_arrays(self, order: np.ndarray, crops: Crops | None) -> tuple[Any, ...]:
        return tuple(jax.device_put(a) for a in epoch_arrays(self.n, order, crops))

    def begin_epoch(self, order: np.ndarray, crops: Crops | None = None) -> None:
        # Keras may have replaced (and donated) the arrays since: evaluate() does.
        check_crops(self.augment, order, crops)
        self.state = self._own_state()
        self.epoch = self._epoch_arrays(np.asarray(order), crops)

    def run(
        self, first: int, count: int, should_stop: Callable[[], bool]
    ) -> tuple[np.ndarray, np.ndarray]:
        losses, accs, preds = [], [], []
        done = 0
        while done < count:
            n = min(BUFFER, count - done)
            if n == 1:
                self.state, loss_buf, acc_buf, pred_buf = self._one(
                    self.state, self.x, self.y, self.epoch, first + done
                )
            else:
                self.state, loss_buf, acc_buf, pred_buf = self._chunk(
                    self.state, self.x, self.y, self.epoch, first + done, n
                )
            # Whole buffers to the host: slicing on the device would be more dispatches.
            losses.append(np.asarray(loss_buf)[:n])
            accs.append(np.asarray(acc_buf)[:n])
            preds.append(np.asarray(pred_buf)[:n])
            done += n
            if should_stop():
                break
        self.predictions = np.concatenate(preds) if self.width else None
        return np.concatenate(losses), np.concatenate(accs)

    def sync(self) -> None:
        write_state(self.model, self.state)  # the next dispatch donates self.state
