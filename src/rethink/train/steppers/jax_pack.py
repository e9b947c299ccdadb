"""Several runs in one compiled JAX step: `jax.vmap` of the native step over their states.

    pack = JaxPack(lanes=3, batch_size=128, augment=None, crop=(28, 28))
    stepper = pack.member(lane, model, x_train, y_train)   # in each run's own thread
    ... train(spec, data, stepper=...)                      # rethink.train.pack does this
    pack.leave(lane)                                        # when the run's training ends

The lockstep (each run's own loop in a thread, joint chunks, leaving early,
restacking) is `rethink.train.steppers.lockstep`'s; this module holds the
stacked state on the device and the program: a `jax.jit` of `jax.vmap` of
`rethink.train.steppers.jax_stepper.train_step` over the stacked states,
images, labels and epoch orders (a restack without a run that left compiles
once more). The stacked state is donated to each dispatch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rethink.train.steppers.jax_stepper import BUFFER, read_state, train_step, write_state
from rethink.train.steppers.lockstep import Lane, Lockstep, PackMember, Result


class JaxPack(Lockstep):
    """K runs of one model and protocol trained by one vmapped JAX step (see the module)."""

    stepper_name = "jax-pack"

    def __init__(
        self,
        lanes: int,
        batch_size: int,
        augment: str | None,
        crop: tuple[int, int] | None,
        predictions: bool = True,
    ) -> None:
        super().__init__(lanes, batch_size, augment, crop, predictions)
        self._state: Any = None
        self._data: tuple[Any, Any] | None = None
        self._epochs: Any = None
        self._programs: dict[str, Any] = {}

    def _prepare(self, model: Any) -> None:
        step = train_step(model, self.batch_size, self.augment, self.crop, self.width > 0)
        self._programs = _programs(step, self.width)

    def _read(self, model: Any) -> Any:
        return read_state(model)

    def _take(self, i: int) -> Any:
        return jax.tree_util.tree_map(lambda a: a[i], self._state)

    def _write(self, model: Any, i: int) -> None:
        write_state(model, self._take(i))

    def _stack(
        self,
        states: list[Any],
        entries: list[Lane],
        data: bool,
        epochs: list[tuple[np.ndarray, ...]] | None,
    ) -> None:
        self._state = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *states)
        if data:
            x = jnp.stack([jax.device_put(e.x) for e in entries])
            y = jnp.stack([jax.device_put(e.y) for e in entries])
            self._data = (x, y)
        if epochs is not None:
            self._epochs = tuple(
                jnp.asarray(np.stack(parts)) for parts in zip(*epochs, strict=True)
            )

    def _train(self, first: int, count: int) -> Result:
        losses: list[np.ndarray] = []
        accs: list[np.ndarray] = []
        preds: list[np.ndarray] = []
        done = 0
        while done < count:
            n = min(BUFFER, count - done)
            program = self._programs["one" if n == 1 else "chunk"]
            args = (self._state, *self._data, self._epochs, first + done)  # type: ignore[misc]
            out = program(*args) if n == 1 else program(*args, n)
            self._state, loss_buf, acc_buf, pred_buf = out
            losses.append(np.asarray(loss_buf)[:, :n])
            accs.append(np.asarray(acc_buf)[:, :n])
            preds.append(np.asarray(pred_buf)[:, :n])
            done += n
        return (
            np.concatenate(losses, axis=1),
            np.concatenate(accs, axis=1),
            np.concatenate(preds, axis=1),
        )


def _programs(step: Callable[..., Any], width: int) -> dict[str, Any]:
    """The jitted programs of the pack: one step, or a chunk of up to BUFFER steps,
    each over every lane (`jax.vmap`); the stacked state is donated."""
    lanes = jax.vmap(step, in_axes=(0, 0, 0, 0, None))

    def one(state: Any, x: Any, y: Any, epochs: Any, first: Any) -> Any:
        state, loss, acc, pred = lanes(state, x, y, epochs, first)
        return state, loss[:, None], acc[:, None], pred[:, None]

    def chunk(state: Any, x: Any, y: Any, epochs: Any, first: Any, count: Any) -> Any:
        k = x.shape[0]

        def body(i: Any, carry: Any) -> Any:
            state, losses, accs, preds = carry
            state, loss, acc, pred = lanes(state, x, y, epochs, first + i)
            return (
                state,
                losses.at[:, i].set(loss),
                accs.at[:, i].set(acc),
                preds.at[:, i].set(pred),
            )

        buffers = (
            jnp.zeros((k, BUFFER), jnp.float32),
            jnp.zeros((k, BUFFER), jnp.float32),
            jnp.zeros((k, BUFFER, width), jnp.int32),
        )
        return jax.lax.fori_loop(0, count, body, (state, *buffers))

    return {
        "one": jax.jit(one, donate_argnums=(0,)),
        "chunk": jax.jit(chunk, donate_argnums=(0,)),
    }


__all__ = ["JaxPack", "PackMember"]
