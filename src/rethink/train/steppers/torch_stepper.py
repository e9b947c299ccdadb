"""The native torch stepper: Keras's training step without `fit()`'s per-step host work.

Each step gathers its batch on the device from the epoch's order, runs the
Keras model, its loss (the weight penalties included, as Keras reports it),
`backward()` and the model's own Keras optimizer: what Keras's torch trainer
does, minus the data adapter's per-batch host-to-device copy, the metric
objects and the per-step read of the loss that `fit()`'s callbacks force.
Losses and accuracies stay on the device until the chunk's end.

Random crops (`augment`) are part of the step (`augment_batch` of
`rethink.train.steppers.augmentation`, shared with JAX): the host loop
gathers the batch's images from the resident set (raw uint8 32x32 for the
"window" crop, preprocessed 28x28 for "padded") and slices the epoch's crop
offsets and flips; the step crops, flips and whitens. The step's inputs are
batch-sized tensors only, never the resident data set.

The update is Keras's torch SGD (`SgdUpdate`), with one change: the learning
rate stays a device tensor. Keras's own `apply` hands it to `_foreach_add_` as
`alpha`, a Python number, so every step reads it back to the host: a graph
break under `torch.compile` and a device synchronization that keeps the host
from queueing the next step while the GPU runs this one (on an H200 the
profiled Inception step took 17 ms of wall time for 8.3 ms of GPU work).

`torch.compile` (the `compile` argument) captures the step: "cudagraphs"
replays it as CUDA graphs, removing the Python cost of Keras's layers from
every step after the first; "inductor" also fuses kernels (it fails on
models with Keras's "same" max pooling in torch 2.13, whose pad backward
trips a stride check), "aot_eager" only traces (for tests on a CPU). If the
first compiled step raises, the stepper restores the state it had before
that step, says so through `log`, and continues eagerly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from rethink.data.pipeline import Crops
from rethink.train.steppers import check_crops
from rethink.train.steppers.augmentation import augment_batch


def resolve_compile(mode: str, device: torch.device) -> str:
    """ "auto" is "cudagraphs" on a CUDA device and "off" elsewhere."""
    if mode == "auto":
        return "cudagraphs" if device.type == "cuda" else "off"
    return mode


def _dynamo_friendly(model: Any) -> None:
    """Hand torch.compile plain tuples where Keras keeps tracked lists.

    BatchNormalization passes its reduction axes, a Keras `TrackedList`, to
    `torch.mean`, which dynamo cannot trace (a graph break in every BatchNorm
    layer, then a recompile per layer). The axes never change after build.
    """
    for layer in getattr(model, "layers", []):
        axes = getattr(layer, "_reduction_axes", None)
        if isinstance(axes, list):
            object.__setattr__(layer, "_reduction_axes", tuple(axes))
        _dynamo_friendly(layer)  # nested models


class SgdUpdate:
    """Keras's torch SGD update, `optimizer.apply(grads, variables)`, without host reads.

    For the optimizer `rethink.train.loop.build_model` makes (SGD with momentum,
    not Nesterov, a learning-rate schedule, nothing else: no clipping, EMA,
    gradient accumulation, loss scaling or decoupled weight decay, no variable
    constraints): velocity = momentum * velocity - lr * g; w = w + velocity;
    then the iteration counter, which the schedule reads, goes up by one. The
    only difference from Keras is `lr * g` as a product with the device tensor
    `lr` rather than `alpha=-lr` (rounding: equal to a few ulps).
    `SgdUpdate.supports(optimizer, variables)` says whether it applies;
    otherwise the stepper calls `optimizer.apply`.
    """

    def __init__(self, optimizer: Any, variables: list[Any]):
        self.optimizer = optimizer
        self.variables = variables
        self.momentum = float(optimizer.momentum)
        self.velocities = (
            [optimizer.momentums[optimizer._get_variable_index(v)] for v in variables]
            if self.momentum
            else []
        )

    @staticmethod
    def supports(optimizer: Any, variables: list[Any]) -> bool:
        import keras

        return (
            type(optimizer).__name__ == "SGD"
            and isinstance(optimizer, keras.optimizers.SGD)
            and not optimizer.nesterov
            and optimizer.clipnorm is None
            and optimizer.clipvalue is None
            and optimizer.global_clipnorm is None
            and not optimizer.use_ema
            and not optimizer.gradient_accumulation_steps
            and optimizer.loss_scale_factor is None
            and not optimizer.weight_decay
            and all(getattr(v, "constraint", None) is None for v in variables)
        )

    def learning_rate(self) -> torch.Tensor:
        lr = self.optimizer.learning_rate  # the schedule at the current iteration
        lr = getattr(lr, "value", lr)  # a constant rate is a Keras variable
        return torch.as_tensor(lr, dtype=torch.float32, device=self.variables[0].value.device)

    def __call__(self, grads: list[torch.Tensor]) -> None:
        params = [v.value for v in self.variables]
        step = torch._foreach_mul(grads, -self.learning_rate())  # -lr * g
        if self.momentum:
            velocities = [m.value for m in self.velocities]
            torch._foreach_mul_(velocities, self.momentum)
            torch._foreach_add_(velocities, step)
            torch._foreach_add_(params, velocities)
        else:
            torch._foreach_add_(params, step)
        self.optimizer.iterations.assign_add(1)


class TorchStepper:
    name = "torch"

    def __init__(
        self,
        model: Any,
        x_train: np.ndarray,
        y_train: np.ndarray,
        batch_size: int,
        compile: str = "auto",
        log: Callable[[str], None] = lambda _: None,
        augment: str | None = None,
        crop: tuple[int, int] | None = None,
    ):
        """`x_train`: the images trained on, or, with `augment` ("window" or
        "padded"), the images cropped from (raw uint8 whole images, or
        preprocessed); `crop`: the "window" crop's (rows, columns) (CIFAR: 28x28)."""
        self.model = model
        self.batch_size = batch_size
        self.log = log
        self.augment = augment
        self.crop = None if crop is None else (int(crop[0]), int(crop[1]))
        self.device = model.trainable_variables[0].value.device
        self.x = torch.as_tensor(x_train, device=self.device)
        self.y = torch.as_tensor(np.asarray(y_train, dtype=np.int64), device=self.device)
        self.order = torch.arange(len(y_train), device=self.device)
        self.crops: tuple[torch.Tensor, ...] = ()
        self.variables = list(model.trainable_variables)
        self.update: Callable[[list[torch.Tensor]], None] = (
            SgdUpdate(model.optimizer, self.variables)
            if SgdUpdate.supports(model.optimizer, self.variables)
            else lambda grads: model.optimizer.apply(grads, self.variables)
        )
        self.compile_mode = resolve_compile(compile, self.device)
        self._step: Callable[..., tuple[torch.Tensor, torch.Tensor]] = self._eager_step
        self._first_compiled = False
        if self.compile_mode != "off":
            _dynamo_friendly(model)
            self._step = torch.compile(self._eager_step, backend=self.compile_mode)
            self._first_compiled = True

    def _eager_step(
        self, x: torch.Tensor, y: torch.Tensor, *crops: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step on a batch (and its crops: dy, dx, flip, when augmenting);
        compiled, its inputs are the batch only (small copies into CUDA-graph
        buffers), never the resident data set."""
        if self.augment is not None:
            dy, dx, flip = crops
            x = augment_batch(x, dy, dx, flip, self.augment, self.crop)
        logits = self.model(x, training=True)
        loss = F.cross_entropy(logits.float(), y)
        for penalty in self.model.losses:
            loss = loss + penalty
        loss.backward()
        params = [v.value for v in self.variables]
        grads = [p.grad for p in params]
        with torch.no_grad():
            self.update(grads)
        for p in params:
            p.grad = None
        acc = (logits.argmax(dim=-1) == y).float().mean()
        return loss.detach(), acc.detach()

    def begin_epoch(self, order: np.ndarray, crops: Crops | None = None) -> None:
        check_crops(self.augment, order, crops)
        self.order = torch.as_tensor(np.asarray(order, dtype=np.int64), device=self.device)
        self.crops = ()
        if crops is not None:
            self.crops = tuple(
                torch.as_tensor(np.asarray(a), device=self.device)
                for a in (crops.dy, crops.dx, crops.flip)
            )

    def _state(self) -> list[torch.Tensor]:
        m = self.model
        return [v.value.detach().clone() for v in [*m.variables, *m.optimizer.variables]]

    def _restore(self, saved: list[torch.Tensor]) -> None:
        m = self.model
        with torch.no_grad():
            for var, value in zip([*m.variables, *m.optimizer.variables], saved, strict=True):
                var.value.copy_(value)
        for v in self.variables:
            v.value.grad = None

    def _call(self, *batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._first_compiled:
            self._first_compiled = False
            return self._first_call(*batch)
        if self.compile_mode == "off":
            return self._step(*batch)
        if self.compile_mode == "cudagraphs":
            torch.compiler.cudagraph_mark_step_begin()
        loss, acc = self._step(*batch)
        # CUDA-graph outputs live in buffers that the next replay overwrites.
        return loss.clone(), acc.clone()

    def _first_call(self, *batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The first compiled step; on failure, undo it and continue eagerly."""
        saved = self._state()
        try:
            return self._call(*batch)
        except Exception as e:  # compilation is an optimization: never fail the run
            self._restore(saved)
            first_line = str(e).splitlines()[0] if str(e) else ""
            self.log(
                f"torch.compile({self.compile_mode!r}) failed on the first step "
                f"({type(e).__name__}: {first_line}); training eagerly instead"
            )
            self.compile_mode = "off"
            self._step = self._eager_step
            return self._step(*batch)

    def run(
        self, first: int, count: int, should_stop: Callable[[], bool]
    ) -> tuple[np.ndarray, np.ndarray]:
        bs = self.batch_size
        losses, accs = [], []
        for i in range(first, first + count):
            positions = slice(i * bs, (i + 1) * bs)
            idx = self.order[positions]
            crops = [c[positions] for c in self.crops]
            loss, acc = self._call(self.x[idx], self.y[idx], *crops)  # gathered on the device
            losses.append(loss)
            accs.append(acc)
            if should_stop():
                break
        return (
            torch.stack(losses).float().cpu().numpy(),
            torch.stack(accs).float().cpu().numpy(),
        )

    def sync(self) -> None:
        """Nothing to do: the step updates the Keras variables' tensors in place."""
