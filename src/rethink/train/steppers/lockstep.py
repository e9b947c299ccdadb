"""Several runs trained in lockstep by one step: what the JAX and torch packs share.

    pack = JaxPack(lanes=3, batch_size=128, augment=None, crop=(28, 28))  # or TorchPack
    stepper = pack.member(lane, model, x_train, y_train)   # in each run's own thread
    ... train(spec, data, stepper=...)                      # rethink.train.pack does this
    pack.leave(lane)                                        # when the run's training ends

The runs of a grid that share a model and a protocol (differing in their
randomization, corruption level or seed) train in lockstep: the same steps
per epoch, the same rows, the same chunks. Each run keeps its own training
loop, in a thread of its own (`rethink.train.pack`), with its own tracker,
evaluation, checkpoints and files; only its stepper is a `PackMember`, whose
`run` waits until every run still in the pack has asked for the same chunk,
then one of them dispatches the backend's program that trains all of them at
once (`Lockstep._train`: a `jax.vmap` or `torch.func.vmap` of the single-run
step over the stacked states, images, labels and epoch orders). Each run's
loss, accuracy and predicted classes come back to it alone; one run's NaN
stays in its lane.

A run that ends early (fit reached with stop-at-fit, divergence, a failure)
leaves the pack; the rest go on, restacked without it. A run's state lives
in the stack between chunks and is written into its Keras model by `sync`
(at epoch ends, as for the single-run steppers), so evaluation, checkpoints
and model files stay each run's own.

This module is the lockstep (threads, requests, restacking), in NumPy; the
backend modules (`jax_pack`, `torch_pack`) hold the state and the program.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from rethink.data.pipeline import Crops
from rethink.train.steppers import check_crops


class PackError(RuntimeError):
    """The runs of a pack fell out of lockstep (they asked for different chunks)."""


def epoch_arrays(n: int, order: np.ndarray, crops: Crops | None) -> tuple[np.ndarray, ...]:
    """(order, dy, dx, flip), each padded to the training set's size `n`: every epoch,
    a partial one too, has the shapes of the first (one compilation)."""
    k = len(order)
    if k > n:
        raise ValueError(f"an order of {k} positions for {n} training images")
    arrays = [np.zeros(n, np.int32) for _ in range(3)] + [np.zeros(n, bool)]
    arrays[0][:k] = order
    if crops is not None:
        arrays[1][:k], arrays[2][:k], arrays[3][:k] = crops.dy, crops.dx, crops.flip
    return tuple(arrays)


class Lane:
    """One run's place in the pack: its model and data, its epoch, its latest request."""

    def __init__(self, model: Any, x: np.ndarray, y: np.ndarray) -> None:
        self.model, self.x, self.y = model, x, np.asarray(y, dtype=np.int32)
        self.epoch: tuple[np.ndarray, ...] | None = None
        self.request: tuple[int, int] | None = None  # (first, count) asked, not yet served
        self.result: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.stale = True  # the Keras model holds its state, not the stack


Result = tuple[np.ndarray, np.ndarray, np.ndarray]  # (K, steps) losses, accs; classes


class Lockstep:
    """K runs of one model and protocol trained by one step (see the module doc).

    A backend subclass keeps the stacked state and runs the program:
    `_prepare(model)` (once, with the first run's model), `_read(model)` (a run's
    state from its Keras model), `_take(i)` (lane i of the stack), `_stack(states,
    entries, data, epochs)` (the new stack; data and epochs only where they
    changed, else None), `_write(model, i)` (lane i into a Keras model) and
    `_train(first, count)` (the chunk for every lane: losses and accuracies
    (K, count), classes (K, count, width)).
    """

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
        self._lanes: dict[int, Lane | None] = dict.fromkeys(range(lanes))  # None: not joined
        self._left: set[int] = set()
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._stacked: tuple[int, ...] = ()  # lanes in the stack, in order
        self._prepared = False
        self._new_epoch = True  # a run began an epoch since the epochs were stacked
        self.dispatches = 0  # joint dispatches so far (the tests count them)

    stepper_name = "pack"  # each member's `name`, as env.json records the stepper

    # ---- the backend's part -----------------------------------------------------------

    def _prepare(self, model: Any) -> None:
        raise NotImplementedError

    def _read(self, model: Any) -> Any:
        raise NotImplementedError

    def _take(self, i: int) -> Any:
        raise NotImplementedError

    def _stack(
        self,
        states: list[Any],
        entries: list[Lane],
        data: bool,
        epochs: list[tuple[np.ndarray, ...]] | None,
    ) -> None:
        raise NotImplementedError

    def _write(self, model: Any, i: int) -> None:
        raise NotImplementedError

    def _train(self, first: int, count: int) -> Result:
        raise NotImplementedError

    # ---- the members' side ----------------------------------------------------------

    def member(self, lane: int, model: Any, x: np.ndarray, y: np.ndarray) -> PackMember:
        """Join run `lane` (0..K-1) with its compiled Keras model and training data."""
        with self._cond:
            if lane not in self._lanes or self._lanes[lane] is not None or lane in self._left:
                raise ValueError(f"lane {lane} is not free in a pack of {len(self._lanes)}")
            if not self._prepared:
                self._prepare(model)
                self._prepared = True
            self._lanes[lane] = Lane(model, x, y)
            self._cond.notify_all()
        return PackMember(self, lane, self.stepper_name)

    def leave(self, lane: int) -> None:
        """Run `lane` trains no more (ended, stopped, diverged or failed; also before it
        joined): the others stop waiting for it."""
        with self._cond:
            self._left.add(lane)
            self._cond.notify_all()

    def begin_epoch(self, lane: int, order: np.ndarray, crops: Crops | None) -> None:
        with self._cond:
            entry = self._lane(lane)
            check_crops(self.augment, order, crops)
            entry.epoch = epoch_arrays(len(entry.y), np.asarray(order), crops)
            entry.stale = True  # evaluation may have replaced the Keras arrays: re-read
            self._new_epoch = True

    def run(self, lane: int, first: int, count: int) -> Result:
        """Lane `lane`'s part of the chunk first..first+count-1, once every run asked."""
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

    def sync(self, lane: int) -> None:
        with self._cond:
            entry = self._lane(lane)
            if entry.stale or lane not in self._stacked:
                return  # the Keras model holds its latest state already
            self._write(entry.model, self._stacked.index(lane))

    # ---- the pack's side (under the condition's lock) ----------------------------------

    def _lane(self, lane: int) -> Lane:
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
        losses, accs, classes = self._train(first, count)
        for i, entry in enumerate(entries):
            entry.request, entry.result = None, (losses[i], accs[i], classes[i])
        self.dispatches += 1

    def _restack(self, lanes: tuple[int, ...], entries: list[Lane]) -> None:
        """The stacked state, data and epochs of `lanes`, rebuilt where they changed."""
        moved = lanes != self._stacked
        if not (moved or self._new_epoch or any(e.stale for e in entries)):
            return
        states = []
        for lane, entry in zip(lanes, entries, strict=True):
            if entry.stale or lane not in self._stacked:
                states.append(self._read(entry.model))
            else:
                states.append(self._take(self._stacked.index(lane)))
            entry.stale = False
        epochs = None
        if moved or self._new_epoch:
            if any(e.epoch is None for e in entries):
                raise PackError("a run of the pack trains before its epoch began")
            epochs = [e.epoch for e in entries if e.epoch is not None]
            self._new_epoch = False
        self._stack(states, entries, moved, epochs)
        self._stacked = lanes


class PackMember:
    """A run's stepper inside a pack (the `rethink.train.steppers.Stepper` protocol)."""

    def __init__(self, pack: Lockstep, lane: int, name: str = "pack") -> None:
        self.pack, self.lane, self.name = pack, lane, name
        self.predictions: np.ndarray | None = None  # the last run's

    def begin_epoch(self, order: np.ndarray, crops: Crops | None = None) -> None:
        self.pack.begin_epoch(self.lane, order, crops)

    def run(
        self, first: int, count: int, should_stop: Callable[[], bool]
    ) -> tuple[np.ndarray, np.ndarray]:
        # The whole chunk at once: the pack's lockstep needs every run to ask for the same
        # chunks, so a stop request is seen at the chunk's end (chunks end at every row).
        losses, accs, classes = self.pack.run(self.lane, first, count)
        self.predictions = classes if self.pack.width else None
        return losses, accs

    def sync(self) -> None:
        self.pack.sync(self.lane)

    def leave(self) -> None:
        self.pack.leave(self.lane)


__all__ = ["Lane", "Lockstep", "PackError", "PackMember", "epoch_arrays"]
