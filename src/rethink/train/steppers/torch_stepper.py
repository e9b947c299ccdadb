"""The native torch stepper: Keras's training step without `fit()`'s per-step host work.

Each step gathers its batch on the device from the epoch's order, runs the
Keras model, its loss (the weight penalties included, as Keras reports it),
`backward()` and the model's own Keras optimizer: what Keras's torch trainer
does, minus the data adapter's per-batch host-to-device copy, the metric
objects and the per-step read of the loss that `fit()`'s callbacks force.
Losses, accuracies and each example's predicted class (`predictions`, for
`rethink.train.examples`) stay on the device until the chunk's end.

Random crops (`augment`) are part of the step (`augment_batch` of
`rethink.train.steppers.augmentation`, shared with JAX): the host loop
gathers the batch's images from the resident set (raw uint8 32x32 for the
"window" crop, preprocessed 28x28 for "padded") and slices the epoch's crop
offsets and flips; the step crops, flips and whitens. The step's inputs are
batch-sized tensors only, never the resident data set.

The update is Keras's torch SGD (`SgdUpdate` of
`rethink.train.steppers.torch_update`), with one change: the learning rate
stays a device tensor, computed there from the iteration counter. Keras's
own `apply` hands it to `_foreach_add_` as `alpha`, a Python number, so every
step reads it back to the host: a graph break under `torch.compile` and a
device synchronization that keeps the host from queueing the next step while
the GPU runs this one (on an H200 the profiled Inception step took 17 ms of
wall time for 8.3 ms of GPU work).

The `compile` argument chooses how a step executes. "graph" is the whole
step, the batch's gather and crop, forward, backward, update and the metric
buffers, as one CUDA graph captured after a few eager steps and replayed
every step (`rethink.train.steppers.torch_graph`; on a CPU the same step runs
uncaptured). `torch.compile` modes capture the step through dynamo:
"cudagraphs" replays it as CUDA graphs (split at `backward()`), removing the
Python cost of Keras's layers from every step after the first; "inductor"
also fuses kernels (it fails on models with Keras's "same" max pooling in
torch 2.13, whose pad backward trips a stride check), "aot_eager" only traces
(for tests on a CPU). If the first compiled step raises, the stepper restores
the state it had before that step, says so through `log`, and continues
eagerly. "off" is the eager step, the reference.
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
from rethink.train.steppers.torch_graph import GraphStep
from rethink.train.steppers.torch_update import SgdUpdate

# What "auto" runs on a CUDA device (elsewhere: "off").
AUTO_ON_CUDA = "graph"


def resolve_compile(mode: str, device: torch.device) -> str:
    """ "auto" is AUTO_ON_CUDA on a CUDA device and "off" elsewhere."""
    if mode == "auto":
        return AUTO_ON_CUDA if device.type == "cuda" else "off"
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
        predictions: bool = True,
    ):
        """`x_train`: the images trained on, or, with `augment` ("window" or
        "padded"), the images cropped from (raw uint8 whole images, or
        preprocessed); `crop`: the "window" crop's (rows, columns) (CIFAR: 28x28);
        `predictions`: return each example's class (`self.predictions`)."""
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
        self._step: Callable[..., tuple[torch.Tensor, ...]] = self._eager_step
        self.record = predictions
        self.predictions: np.ndarray | None = None  # the last run's, per step
        self._first_compiled = False
        self.graph: GraphStep | None = None
        if self.compile_mode == "graph":
            self.graph = self._graph_step()
        if self.compile_mode not in ("off", "graph"):
            _dynamo_friendly(model)
            self._step = torch.compile(self._eager_step, backend=self.compile_mode)
            self._first_compiled = True

    def _graph_step(self) -> GraphStep | None:
        """The whole-step graph, or None (and "off", said through `log`) where the
        optimizer is not one whose update it can keep on the device."""
        update = self.update
        reason = "it needs SGD without clipping, EMA, weight decay or constraints"
        if isinstance(update, SgdUpdate) and update.on_device:
            try:
                return GraphStep(
                    self.model, self.x, self.y, self.batch_size, update, self.augment,
                    self.crop, self.log, self.record,
                )  # fmt: skip
            except ValueError as e:
                reason = str(e)
        elif isinstance(update, SgdUpdate):
            reason = "it needs a constant or exponential-decay learning rate"
        self.log(f"the torch step graph cannot train this model ({reason}); training eagerly")
        self.compile_mode = "off"
        return None

    def _eager_step(
        self, x: torch.Tensor, y: torch.Tensor, *crops: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
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
        pred = logits.detach().argmax(dim=-1)
        acc = (pred == y).float().mean()
        return loss.detach(), acc.detach(), pred.to(torch.int32)

    def begin_epoch(self, order: np.ndarray, crops: Crops | None = None) -> None:
        if self.graph is not None:
            return self.graph.begin_epoch(order, crops)
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

    def _call(self, *batch: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self._first_compiled:
            self._first_compiled = False
            return self._first_call(*batch)
        if self.compile_mode == "off":
            return self._step(*batch)
        if self.compile_mode == "cudagraphs":
            torch.compiler.cudagraph_mark_step_begin()
        # CUDA-graph outputs live in buffers that the next replay overwrites.
        return tuple(t.clone() for t in self._step(*batch))

    def _first_call(self, *batch: torch.Tensor) -> tuple[torch.Tensor, ...]:
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
        if self.graph is not None:
            losses_, accs_ = self.graph.run(first, count, should_stop)
            self.predictions = self.graph.predictions
            return losses_, accs_
        bs = self.batch_size
        losses, accs, preds = [], [], []
        for i in range(first, first + count):
            positions = slice(i * bs, (i + 1) * bs)
            idx = self.order[positions]
            crops = [c[positions] for c in self.crops]
            loss, acc, pred = self._call(self.x[idx], self.y[idx], *crops)  # on the device
            losses.append(loss)
            accs.append(acc)
            if self.record:
                preds.append(pred)
            if should_stop():
                break
        self.predictions = torch.stack(preds).cpu().numpy() if self.record else None
        return (
            torch.stack(losses).float().cpu().numpy(),
            torch.stack(accs).float().cpu().numpy(),
        )

    def sync(self) -> None:
        """Nothing to do: the step updates the Keras variables' tensors in place."""


__all__ = ["AUTO_ON_CUDA", "SgdUpdate", "TorchStepper", "resolve_compile"]
