"""The native torch stepper: Keras's training step without `fit()`'s per-step host work.

Each step gathers its batch on the device from the epoch's order, runs the
Keras model, its loss (the weight penalties included, as Keras reports it),
`backward()` and the model's own Keras optimizer: what Keras's torch trainer
does, minus the data adapter's per-batch host-to-device copy, the metric
objects and the per-step read of the loss that `fit()`'s callbacks force.
Losses and accuracies stay on the device until the chunk's end.

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
    ):
        self.model = model
        self.batch_size = batch_size
        self.log = log
        self.device = model.trainable_variables[0].value.device
        self.x_resident = torch.as_tensor(x_train, device=self.device)
        self.y_resident = torch.as_tensor(np.asarray(y_train, dtype=np.int64), device=self.device)
        self.x, self.y = self.x_resident, self.y_resident
        self.order = torch.arange(len(y_train), device=self.device)
        self.variables = list(model.trainable_variables)
        self.compile_mode = resolve_compile(compile, self.device)
        self._step: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] = (
            self._eager_step
        )
        self._first_compiled = False
        if self.compile_mode != "off":
            _dynamo_friendly(model)
            self._step = torch.compile(self._eager_step, backend=self.compile_mode)
            self._first_compiled = True

    def _eager_step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step on a batch; compiled, its inputs are the batch only (small copies
        into CUDA-graph buffers), never the resident data set."""
        logits = self.model(x, training=True)
        loss = F.cross_entropy(logits.float(), y)
        for penalty in self.model.losses:
            loss = loss + penalty
        loss.backward()
        params = [v.value for v in self.variables]
        grads = [p.grad for p in params]
        with torch.no_grad():
            self.model.optimizer.apply(grads, self.variables)
        for p in params:
            p.grad = None
        acc = (logits.argmax(dim=-1) == y).float().mean()
        return loss.detach(), acc.detach()

    def begin_epoch(self, order: np.ndarray, images: np.ndarray | None = None) -> None:
        if images is None:
            self.x, self.y = self.x_resident, self.y_resident
            self.order = torch.as_tensor(np.asarray(order, dtype=np.int64), device=self.device)
        else:  # already in epoch order: labels follow the same order
            index = torch.as_tensor(np.asarray(order, dtype=np.int64), device=self.device)
            self.x = torch.as_tensor(images, device=self.device)
            self.y = self.y_resident[index]
            self.order = torch.arange(len(images), device=self.device)

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

    def _call(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._first_compiled:
            self._first_compiled = False
            return self._first_call(x, y)
        if self.compile_mode == "off":
            return self._step(x, y)
        if self.compile_mode == "cudagraphs":
            torch.compiler.cudagraph_mark_step_begin()
        loss, acc = self._step(x, y)
        # CUDA-graph outputs live in buffers that the next replay overwrites.
        return loss.clone(), acc.clone()

    def _first_call(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The first compiled step; on failure, undo it and continue eagerly."""
        saved = self._state()
        try:
            return self._call(x, y)
        except Exception as e:  # compilation is an optimization: never fail the run
            self._restore(saved)
            first_line = str(e).splitlines()[0] if str(e) else ""
            self.log(
                f"torch.compile({self.compile_mode!r}) failed on the first step "
                f"({type(e).__name__}: {first_line}); training eagerly instead"
            )
            self.compile_mode = "off"
            self._step = self._eager_step
            return self._step(x, y)

    def run(
        self, first: int, count: int, should_stop: Callable[[], bool]
    ) -> tuple[np.ndarray, np.ndarray]:
        bs = self.batch_size
        losses, accs = [], []
        for i in range(first, first + count):
            idx = self.order[i * bs : (i + 1) * bs]
            loss, acc = self._call(self.x[idx], self.y[idx])  # gathered on the device
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
