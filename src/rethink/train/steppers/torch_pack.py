"""Several runs in one torch step: `torch.func.vmap` of a functional step over their states.

    pack = TorchPack(lanes=3, batch_size=128, augment=None, crop=(28, 28))
    stepper = pack.member(lane, model, x_train, y_train)   # as for rethink's JaxPack

The lockstep (each run's own loop in a thread, joint chunks, leaving early,
restacking) is `rethink.train.steppers.lockstep`'s; this module holds the
runs' stacked state in static device buffers (weights, BatchNorm statistics,
SGD velocities and iteration counters, each with a leading run axis) and
trains them with one step: `torch.func.vmap` over the runs of

- the batch gathered on the device from the run's resident training set at
  its epoch's order (cropped, flipped and whitened there when augmenting,
  `augment_batch`);
- `torch.func.grad_and_value` of the run's loss through Keras's
  `stateless_call` (the weight penalties included, as Keras reports them);
- Keras's SGD with momentum, written functionally (the same float operations
  in the same order as `SgdUpdate`), the learning rate from each run's own
  iteration counter (`rate_schedule`).

The step writes the new state, and each run's loss, accuracy and predicted
classes at `slot`, into the buffers in place: device work only, so on a CUDA
device it is captured once as a CUDA graph and replayed
(`rethink.train.steppers.torch_graph.Capture`), as the single-run "graph"
step is; on a CPU it runs eagerly. A restack without a run that left makes
new buffers (one new capture). Packs need the protocol's optimizer (SGD with
a constant or exponential-decay rate, no clipping) and a step without random
numbers (no dropout): `TorchPack` refuses others with a ValueError.

Keras 3 converts convolution inputs to torch's channels-last memory format, a
layout hint that `vmap` does not support; inside the packed step (and only
for tensors `torch.func` wraps) the conversion is skipped: the numbers are
the same, only their layout in memory differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from rethink.train.steppers.augmentation import augment_batch
from rethink.train.steppers.lockstep import Lane, Lockstep, Result
from rethink.train.steppers.torch_graph import BUFFER, Capture, replay_slots
from rethink.train.steppers.torch_update import SgdUpdate, rate_schedule


@contextmanager
def _vmap_friendly_convolutions() -> Iterator[None]:
    """Within: Keras's channels-last conversion skipped for tensors inside `torch.func`
    (only while the packed step runs: the check would break `torch.compile`'s graphs)."""
    try:
        from keras.src.backend.torch import nn as keras_nn
    except ImportError:  # another Keras layout: nothing to change
        yield
        return
    convert = getattr(keras_nn, "_maybe_convert_to_channels_last", None)
    if convert is None:
        yield
        return

    def maybe_convert(tensor: torch.Tensor) -> torch.Tensor:
        if torch._C._functorch.is_functorch_wrapped_tensor(tensor):
            return tensor
        return convert(tensor)

    keras_nn._maybe_convert_to_channels_last = maybe_convert
    try:
        yield
    finally:
        keras_nn._maybe_convert_to_channels_last = convert


def check_packable(model: Any) -> None:
    """ValueError unless `model`'s training step can run packed (see the module)."""
    optimizer = model.optimizer
    if not SgdUpdate.supports(optimizer, list(model.trainable_variables)):
        raise ValueError(
            "packed torch runs need the protocol's SGD (no clipping, EMA, weight decay or "
            "constraints); train this model unpacked (--pack off)"
        )
    if rate_schedule(optimizer) is None:
        raise ValueError(
            "packed torch runs need a constant or exponential-decay learning rate; "
            "train this model unpacked (--pack off)"
        )
    for layer in model._flatten_layers():
        if getattr(layer, "seed_generator", None) is not None:
            raise ValueError(
                f"packed torch runs cannot draw random numbers in the step (layer "
                f"{layer.name!r}); train this model unpacked (--pack off)"
            )


class TorchPack(Lockstep):
    """K runs of one model and protocol trained by one vmapped torch step (see the module)."""

    stepper_name = "torch-pack"

    def __init__(
        self,
        lanes: int,
        batch_size: int,
        augment: str | None,
        crop: tuple[int, int] | None,
        predictions: bool = True,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        super().__init__(lanes, batch_size, augment, crop, predictions)
        self.log = log
        self.model: Any = None  # an active run's model: the architecture the step calls
        self.state: list[list[torch.Tensor]] = []  # trainable, non-trainable, velocities, its
        self.data: list[torch.Tensor] = []  # x, y: (K, n, ...)
        self.epochs: list[torch.Tensor] = []  # order, dy, dx, flip: (K, n)
        self.replay: Capture | None = None

    # -- the state: read, stacked, written ---------------------------------------------

    def _prepare(self, model: Any) -> None:
        check_packable(model)
        optimizer = model.optimizer
        self.device = model.trainable_variables[0].value.device
        self.momentum = float(optimizer.momentum)
        self.rate = rate_schedule(optimizer)
        self.span = torch.arange(self.batch_size, device=self.device)
        self.position = torch.zeros((1,), dtype=torch.int64, device=self.device)
        self.slot = torch.zeros((1,), dtype=torch.int64, device=self.device)

    def _variables(self, model: Any) -> list[list[Any]]:
        trainable = list(model.trainable_variables)
        update = SgdUpdate(model.optimizer, trainable)
        return [
            trainable,
            list(model.non_trainable_variables),
            update.velocities,
            [model.optimizer.iterations],
        ]

    def _read(self, model: Any) -> list[list[torch.Tensor]]:
        return [[v.value.detach() for v in group] for group in self._variables(model)]

    def _take(self, i: int) -> list[list[torch.Tensor]]:
        return [[t[i] for t in group] for group in self.state]

    def _write(self, model: Any, i: int) -> None:
        with torch.no_grad():
            for group, values in zip(self._variables(model), self._take(i), strict=True):
                for var, value in zip(group, values, strict=True):
                    var.value.copy_(value)  # in place: the Keras variables keep their tensors

    def _stack(
        self,
        states: list[Any],
        entries: list[Lane],
        data: bool,
        epochs: list[tuple[np.ndarray, ...]] | None,
    ) -> None:
        self.model = entries[0].model  # an active run: its thread waits in the pack
        stacked = [
            [torch.stack(parts) for parts in zip(*groups, strict=True)]
            for groups in zip(*states, strict=True)
        ]
        if data or not self.state:
            self.state = stacked
            self.data = [
                torch.stack([torch.as_tensor(e.x, device=self.device) for e in entries]),
                torch.stack(
                    [torch.as_tensor(e.y.astype(np.int64), device=self.device) for e in entries]
                ),
            ]
            self._new_buffers(len(entries))
        else:  # the same runs: in place, where a captured graph reads them
            with torch.no_grad():
                for old, new in zip(self.state, stacked, strict=True):
                    if old:
                        torch._foreach_copy_(old, new)
        if epochs is not None:
            with torch.no_grad():
                for buffer, parts in zip(self.epochs, zip(*epochs, strict=True), strict=True):
                    buffer.copy_(torch.as_tensor(np.stack(parts)).to(buffer.dtype))

    def _new_buffers(self, k: int) -> None:
        n = self.data[1].shape[1]

        def zeros(*shape: int, dtype: torch.dtype = torch.int64) -> torch.Tensor:
            return torch.zeros(shape, dtype=dtype, device=self.device)

        self.epochs = [zeros(k, n), zeros(k, n), zeros(k, n), zeros(k, n, dtype=torch.bool)]
        self.losses = zeros(k, BUFFER, dtype=torch.float32)
        self.accs = zeros(k, BUFFER, dtype=torch.float32)
        self.preds = zeros(k, BUFFER, self.width, dtype=torch.int32)
        self.replay = Capture(self.step, self._tensors, self.device, self.log)

    def _tensors(self) -> list[torch.Tensor]:
        return [t for group in self.state for t in group] + self.data + self.epochs

    # -- the step: device work only ------------------------------------------------------

    def _lane_step(
        self, state: list[list[torch.Tensor]], x: torch.Tensor, y: torch.Tensor,
        epoch: list[torch.Tensor], positions: torch.Tensor,
    ) -> tuple[Any, ...]:  # fmt: skip
        """One run's step, functional (vmapped over the runs by `step`)."""
        trainable, non_trainable, velocities, (iterations,) = state
        order, dy, dx, flip = (a.index_select(0, positions) for a in epoch)
        xb, yb = x.index_select(0, order), y.index_select(0, order)
        if self.augment is not None:
            xb = augment_batch(xb, dy, dx, flip, self.augment, self.crop)

        def loss_fn(trainable: list[torch.Tensor], non_trainable: list[torch.Tensor]) -> Any:
            logits, non_trainable, penalties = self.model.stateless_call(
                trainable, non_trainable, xb, return_losses=True, training=True
            )
            loss = F.cross_entropy(logits.float(), yb)
            for penalty in penalties:
                loss = loss + penalty
            return loss, (logits, non_trainable)

        grad = torch.func.grad_and_value(loss_fn, has_aux=True)
        grads, (loss, (logits, non_trainable)) = grad(trainable, non_trainable)
        step = [g * -self.rate(iterations) for g in grads]  # type: ignore[misc]
        if self.momentum:  # SgdUpdate's order: v = v * m + step; w = w + v
            velocities = [v * self.momentum + s for v, s in zip(velocities, step, strict=True)]
            step = velocities
        trainable = [w + s for w, s in zip(trainable, step, strict=True)]
        pred = logits.detach().argmax(dim=-1)
        acc = (pred == yb).float().mean()
        new_state = [trainable, list(non_trainable), velocities, [iterations + 1]]
        return new_state, loss.detach(), acc, pred.to(torch.int32)

    def step(self) -> None:
        """Train batch `position` of every run's epoch; write the state and each run's
        loss, accuracy and classes at `slot`, in place."""
        positions = self.position * self.batch_size + self.span
        lanes = torch.func.vmap(self._lane_step, in_dims=(0, 0, 0, 0, None))
        with _vmap_friendly_convolutions():
            new_state, loss, acc, pred = lanes(self.state, *self.data, self.epochs, positions)
        k = loss.shape[0]
        with torch.no_grad():
            for old, new in zip(self.state, new_state, strict=True):
                if old:
                    torch._foreach_copy_(old, [t.detach() for t in new])
            self.losses.index_copy_(1, self.slot, loss.float().reshape(k, 1))
            self.accs.index_copy_(1, self.slot, acc.reshape(k, 1))
            if self.width:
                self.preds.index_copy_(1, self.slot, pred.reshape(k, 1, -1))
            self.position.add_(1)
            self.slot.add_(1)

    def _train(self, first: int, count: int) -> Result:
        assert self.replay is not None, "a pack trains after its runs were stacked"
        buffers = [self.losses, self.accs, self.preds]
        losses, accs, preds = replay_slots(
            self.replay, buffers, 1, self.position, self.slot, first, count
        )
        return losses, accs, preds


__all__ = ["TorchPack", "check_packable"]
