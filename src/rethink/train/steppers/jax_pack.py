"""Several runs in one compiled JAX step: `jax.vmap` of the native step over their states.

    pack = JaxPack(lanes=3, batch_size=128, augment=None, crop=(28, 28))
    stepper = pack.member(lane, model, x_train, y_train)   # in each run's own thread
    ... train(spec, data, stepper=...)                      # rethink.train.pack does this
    pack.leave(lane)                                        # when the run's training ends

The runs of a grid that share a model and a protocol (differing in their
randomization, corruption level or seed) train in lockstep: the same steps
per epoch, the same rows, the same chunks. Each run keeps its own training
loop, in a thread of its own (`rethink.train.pack`), with its own tracker,
evaluation, checkpoints and files; only its stepper is a `PackMember`, whose
`run` waits until every run still in the pack has asked for the same chunk,
then one of them dispatches a single `jax.jit` program that trains all of
them (`jax.vmap` of `rethink.train.steppers.jax_stepper.train_step` over the
stacked states, images, labels and epoch orders). Each run's loss, accuracy
and predicted classes come back to it alone; one run's NaN stays in its lane.

A run that ends early (fit reached with stop-at-fit, divergence, a failure)
leaves the pack; the rest go on, restacked without it (one new compilation).
A run's state lives in the stack between chunks and is written into its
Keras model by `sync` (at epoch ends, as for the single-run stepper), so
evaluation, checkpoints and model files stay each run's own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rethink.data.pipeline import Crops
from rethink.train.steppers import check_crops
from rethink.train.steppers.jax_stepper import (
    BUFFER,
    epoch_arrays,
    read_state,
    train_step,
    write_state,
)


class PackError(RuntimeError):
    """The runs of a pack fell out of lockstep (they asked for different chunks)."""


class _Lane:
    """One run's place in the pack: its model and data, its epoch, its latest request."""

    def __init__(self, model: Any, x: np.ndarray, y: np.ndarray) -> None:
        self.model, self.x, self.y = model, x, np.asarray(y, dtype=np.int32)
        self.epoch: tuple[np.ndarray, ...] | None = None
        self.request: tuple[int, int] | None = None  # (first, count) asked, not yet served
        self.result: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.stale = True  # the Keras model holds its state, not the stack


class JaxPack:
    """K runs of one model and protocol trained by one vmapped step (see the module doc)."""

    def __init__(
        self,
        lanes: int,
        batch_size: int,
        augment: str | None,
        crop: tuple[int, int] | None,
        predictions: bool = True,
    ) -> None:
        if lanes < 1:
            raise ValueError(f"a pack needs at least one run, got {lanes}")
        self.batch_size, self.augment = batch_size, augment
        self.width = batch_size if predictions else 0  # of the classes buffers
        self.crop = None if crop is None else (int(crop[0]), int(crop[1]))
        self._lanes: dict[int, _Lane | None] = dict.fromkeys(range(lanes))  # None: not joined
        self._left: set[int] = set()
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._stacked: tuple[int, ...] = ()  # lanes in the stack, in order
        self._state: Any = None
        self._data: tuple[Any, Any] | None = None
        self._epochs: Any = None
        self._new_epoch = True  # a run began an epoch since the epochs were stacked
        self._programs: dict[str, Any] = {}
        self.dispatches = 0  # joint dispatches so far (the tests count them)

    # ---- the members' side ----------------------------------------------------------

    def member(self, lane: int, model: Any, x: np.ndarray, y: np.ndarray) -> PackMember:
        """Join run `lane` (0..K-1) with its compiled Keras model and training data."""
        with self._cond:
            if lane not in self._lanes or self._lanes[lane] is not None or lane in self._left:
                raise ValueError(f"lane {lane} is not free in a pack of {len(self._lanes)}")
            if self._programs == {}:
                step = train_step(model, self.batch_size, self.augment, self.crop, self.width > 0)
                self._programs = _programs(step, self.width)
            self._lanes[lane] = _Lane(model, x, y)
            self._cond.notify_all()
        return PackMember(self, lane)

    def leave(self, lane: int) -> None:
        """Run `lane` trains no more (ended, stopped, diverged or failed; also before it
        joined): the others stop waiting for it."""
        with self._cond:
            self._left.add(lane)
            self._cond.notify_all()

    def _begin_epoch(self, lane: int, order: np.ndarray, crops: Crops | None) -> None:
        with self._cond:
            entry = self._lane(lane)
            check_crops(self.augment, order, crops)
            entry.epoch = epoch_arrays(len(entry.y), np.asarray(order), crops)
            entry.stale = True  # evaluation may have replaced the Keras arrays: re-read
            self._new_epoch = True

    def _run(self, lane: int, first: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self._cond:
            entry = self._lane(lane)
            entry.request, entry.result = (first, count), None
            self._cond.notify_all()
            while entry.result is None:
                if self._error is not None:
                    raise PackError(f"another run of the pack failed: {self._error}")
                if self._ready():
                    try:
                        self._dispatch()
                    except BaseException as e:
                        self._error = e
                        self._cond.notify_all()
                        raise
                    self._cond.notify_all()
                else:
                    self._cond.wait()
            result, entry.result = entry.result, None
            return result

    def _sync(self, lane: int) -> None:
        with self._cond:
            entry = self._lane(lane)
            if entry.stale or lane not in self._stacked:
                return  # the Keras model holds its latest state already
            i = self._stacked.index(lane)
            write_state(entry.model, jax.tree_util.tree_map(lambda a: a[i], self._state))

    # ---- the pack's side (under the condition's lock) ----------------------------------

    def _lane(self, lane: int) -> _Lane:
        entry = self._lanes.get(lane)
        if entry is None:
            raise ValueError(f"lane {lane} has not joined the pack")
        return entry

    def _active(self) -> list[int]:
        return [k for k in sorted(self._lanes) if k not in self._left]

    def _ready(self) -> bool:
        """Every run still in the pack has joined and asked for its next chunk."""
        active = self._active()
        return all(
            (e := self._lanes[k]) is not None and e.request is not None and e.result is None
            for k in active
        )

    def _dispatch(self) -> None:
        lanes = tuple(self._active())
        entries = [self._lane(k) for k in lanes]
        requests = {e.request for e in entries if e.request is not None}
        if len(requests) != 1:
            raise PackError(f"the runs of a pack asked for different chunks: {sorted(requests)}")
        first, count = requests.pop()
        self._restack(lanes, entries)
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
        loss_all, acc_all = np.concatenate(losses, axis=1), np.concatenate(accs, axis=1)
        pred_all = np.concatenate(preds, axis=1)
        for i, entry in enumerate(entries):
            entry.request, entry.result = None, (loss_all[i], acc_all[i], pred_all[i])
        self.dispatches += 1

    def _restack(self, lanes: tuple[int, ...], entries: list[_Lane]) -> None:
        """The stacked state, data and epochs of `lanes`, rebuilt where they changed."""
        if lanes != self._stacked or any(e.stale for e in entries):
            states = []
            for lane, entry in zip(lanes, entries, strict=True):
                if entry.stale or lane not in self._stacked:
                    states.append(read_state(entry.model))
                else:
                    i = self._stacked.index(lane)
                    states.append(jax.tree_util.tree_map(lambda a, i=i: a[i], self._state))
                entry.stale = False
            self._state = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *states)
        if lanes != self._stacked:
            x = jnp.stack([jax.device_put(e.x) for e in entries])
            y = jnp.stack([jax.device_put(e.y) for e in entries])
            self._data = (x, y)
        if lanes != self._stacked or self._new_epoch:
            epochs = [e.epoch for e in entries]
            if any(e is None for e in epochs):
                raise PackError("a run of the pack trains before its epoch began")
            self._epochs = tuple(
                jnp.asarray(np.stack(parts)) for parts in zip(*epochs, strict=True)
            )
            self._new_epoch = False
        self._stacked = lanes


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


class PackMember:
    """A run's stepper inside a pack (the `rethink.train.steppers.Stepper` protocol)."""

    name = "jax-pack"

    def __init__(self, pack: JaxPack, lane: int) -> None:
        self.pack, self.lane = pack, lane
        self.predictions: np.ndarray | None = None  # the last run's

    def begin_epoch(self, order: np.ndarray, crops: Crops | None = None) -> None:
        self.pack._begin_epoch(self.lane, order, crops)

    def run(
        self, first: int, count: int, should_stop: Callable[[], bool]
    ) -> tuple[np.ndarray, np.ndarray]:
        # The whole chunk at once: the pack's lockstep needs every run to ask for the same
        # chunks, so a stop request is seen at the chunk's end (chunks end at every row).
        losses, accs, classes = self.pack._run(self.lane, first, count)
        self.predictions = classes if self.pack.width else None
        return losses, accs

    def sync(self) -> None:
        self.pack._sync(self.lane)

    def leave(self) -> None:
        self.pack.leave(self.lane)
