"""The whole torch training step on static device buffers: one CUDA graph per step.

    graph = GraphStep(model, x, y, batch_size, update, augment=None, crop=None, log=print)
    graph.begin_epoch(order, crops)          # the epoch's arrays into device buffers
    losses, accs = graph.run(first, count, should_stop)

`--torch-compile graph` (`rethink.train.steppers.torch_stepper`). One step is
device work only, written so that it can be captured as one CUDA graph:

- the batch is gathered on the device from the resident training set, at the
  positions `position * batch_size + arange(batch_size)` of the epoch's order
  (a device buffer filled once per epoch), then cropped, flipped and whitened
  there (`augment_batch`) from the epoch's crop buffers;
- forward, loss (the weight penalties included), `backward()`, and Keras's SGD
  update (`SgdUpdate`: the learning rate computed on the device from the
  iteration counter, so it changes between replays without the host);
- the step's loss, accuracy and predicted classes (`predictions`, for
  `rethink.train.examples`) are written into per-step device buffers at `slot`; `position` and `slot` advance on the device. The host reads the
  buffers once per chunk (a metrics row at most), never inside a step.

Nothing in a step reads a value back to the host or builds a tensor from a
Python number (tests/train/test_torch_graph.py runs it with those calls made
to fail). On a CUDA device the first `WARMUP` steps run eagerly on a side
stream (cuDNN and cuBLAS set themselves up), then the step is captured once
(`torch.cuda.graph`, gradients set to None first so that `backward()` allocates
them in the graph's memory, where they stay) and every later step is one
replay, as PyTorch's whole-network capture recipe does it. If a variable's
tensor is replaced (not updated in place) the graph would write to stale
memory: each chunk checks the tensors' addresses and captures again if one
moved. If the capture fails, the stepper says so through `log` once and runs
the same step uncaptured. On a CPU there is no capture: the same step runs
eagerly (what the tests check against Keras).
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
from rethink.train.steppers.torch_update import SgdUpdate

# Per-step loss and accuracy buffers hold this many steps; longer chunks read them
# when full. Eager steps on a side stream before the capture (PyTorch's recipe: 3).
BUFFER = 1024
WARMUP = 3


def weight_decay_terms(model: Any) -> list[tuple[torch.Tensor, float]]:
    """(weight, l2) of each regularized trainable weight, in `model.losses`'s order.

    Keras's `L2` computes `cast(l2) * sum(square(w))`, building the factor from a
    Python number in every step; the step multiplies by the number instead (the
    same float32 product). Raises ValueError for any other regularizer.
    """
    import keras

    terms = []
    for v in model.trainable_weights:
        if v.regularizer is None:
            continue
        if type(v.regularizer) is not keras.regularizers.L2:
            raise ValueError(f"the torch step graph supports L2 only, not {v.regularizer!r}")
        terms.append((v.value, float(v.regularizer.l2)))
    return terms


def own_losses(model: Any) -> list[Any]:
    """The losses the model's layers added in their last call (`add_loss`): `model.losses`
    without the weight penalties (Keras's own split of it)."""
    return [loss for layer in model._flatten_layers() for loss in layer._get_own_losses()]


class Capture:
    """`step` (device work only, on static buffers) run once per call: eagerly on a CPU;
    on a CUDA device `WARMUP` eager calls on a side stream, then captured once as a CUDA
    graph and replayed. `tensors()` are the buffers the graph reads and writes: if one
    moved (replaced, not updated in place), `check()` drops the graph and the next call
    captures again. `before_capture` runs just before the capture (e.g. gradients set
    to None, so that `backward()` allocates them in the graph's pool). If the capture
    fails, `log` says so once and the same step runs uncaptured."""

    def __init__(
        self,
        step: Callable[[], None],
        tensors: Callable[[], list[torch.Tensor]],
        device: torch.device,
        log: Callable[[str], None] = lambda _: None,
        before_capture: Callable[[], None] = lambda: None,
    ) -> None:
        self.step, self.tensors, self.log = step, tensors, log
        self.before_capture = before_capture
        self.capture = device.type == "cuda"
        self.graph: Any = None  # a torch.cuda.CUDAGraph once captured
        self.addresses: list[int] = []
        self.warm = 0

    def __call__(self) -> None:
        """One step: eager (CPU, warm-up, after a failed capture) or a replay."""
        if not self.capture:
            self.step()
        elif self.graph is not None:
            self.graph.replay()
        elif self.warm < WARMUP:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self.step()
            torch.cuda.current_stream().wait_stream(side)
            self.warm += 1
        else:
            self._capture()
            self()

    def _capture(self) -> None:
        torch.cuda.synchronize()
        self.before_capture()
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self.step()  # recorded, not run: the state is untouched
        except Exception as e:  # capture is an optimization: never fail the run
            first_line = str(e).splitlines()[0] if str(e) else ""
            self.log(
                f"capturing the torch step as a CUDA graph failed ({type(e).__name__}: "
                f"{first_line}); running the same step uncaptured"
            )
            self.capture = False
            torch.cuda.synchronize()
            return
        self.graph = graph
        self.addresses = [t.data_ptr() for t in self.tensors()]

    def check(self) -> None:
        """Drop the graph if a buffer's tensor was replaced since the capture."""
        if self.graph is not None and self.addresses != [t.data_ptr() for t in self.tensors()]:
            self.graph = None  # captured again at the next call


class GraphStep:
    """The native torch step as one capturable program on static buffers (see the module).

    `x`, `y`: the resident training set, already on the model's device (`x` the images
    cropped from when `augment` is "window" or "padded"); `update`: the SGD update
    with its rate on the device (`SgdUpdate.on_device`).
    """

    def __init__(
        self,
        model: Any,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        update: SgdUpdate,
        augment: str | None = None,
        crop: tuple[int, int] | None = None,
        log: Callable[[str], None] = lambda _: None,
        predictions: bool = True,
    ):
        if not update.on_device:
            raise ValueError("GraphStep needs an SGD update whose learning rate is on the device")
        self.model = model
        self.update = update
        self.batch_size = batch_size
        self.augment = augment
        self.crop = crop
        self.log = log
        self.x, self.y = x, y
        device = self.device = x.device
        self.n = len(y)

        def zeros(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
            return torch.zeros(shape, dtype=dtype, device=device)

        # The epoch (order and crop draws, padded to the training set's size) ...
        self.order = zeros((self.n,), torch.int64)
        self.dy, self.dx = zeros((self.n,), torch.int64), zeros((self.n,), torch.int64)
        self.flip = zeros((self.n,), torch.bool)
        # ... the next batch's index in it, and where the step writes its loss and accuracy.
        self.position = zeros((1,), torch.int64)
        self.slot = zeros((1,), torch.int64)
        self.losses = zeros((BUFFER,), torch.float32)
        self.accs = zeros((BUFFER,), torch.float32)
        self.record = predictions
        self.preds = zeros((BUFFER, batch_size if predictions else 0), torch.int32)
        self.predictions: np.ndarray | None = None  # the last run's, per step
        self.span = torch.arange(batch_size, device=device)
        self.params = [v.value for v in update.variables]
        self.decay = weight_decay_terms(model)
        self.replay = Capture(self.step, self._tensors, device, log, self._clear_grads)

    @property
    def graph(self) -> Any:
        """The captured CUDA graph, or None (not yet, a CPU, or a failed capture)."""
        return self.replay.graph

    # -- the step: device work only -------------------------------------------------

    def step(self) -> None:
        """Train batch `position` of the epoch; write its loss and accuracy at `slot`."""
        positions = self.position * self.batch_size + self.span
        index = self.order.index_select(0, positions)
        x, y = self.x.index_select(0, index), self.y.index_select(0, index)
        if self.augment is not None:
            dy, dx, flip = (a.index_select(0, positions) for a in (self.dy, self.dx, self.flip))
            x = augment_batch(x, dy, dx, flip, self.augment, self.crop)
        for p in self.params:  # captured: backward() allocates them in the graph's pool
            p.grad = None
        logits = self.model(x, training=True)
        loss = F.cross_entropy(logits.float(), y)
        for penalty in own_losses(self.model):  # `model.losses`, in its order
            loss = loss + penalty
        for weight, factor in self.decay:
            loss = loss + factor * torch.sum(torch.square(weight))
        loss.backward()
        pred = logits.detach().argmax(dim=-1)
        acc = (pred == y).float().mean()
        with torch.no_grad():
            self.update([p.grad for p in self.params])
            self.losses.index_copy_(0, self.slot, loss.detach().float().reshape(1))
            self.accs.index_copy_(0, self.slot, acc.detach().reshape(1))
            if self.record:
                self.preds.index_copy_(0, self.slot, pred.to(torch.int32).reshape(1, -1))
            self.position.add_(1)
            self.slot.add_(1)

    # -- capture and replay (CUDA) ------------------------------------------------

    def _tensors(self) -> list[torch.Tensor]:
        m = self.model
        variables = [*m.variables, *m.optimizer.variables]
        return [v.value for v in variables] + [self.x, self.y]

    def _clear_grads(self) -> None:
        for p in self.params:
            p.grad = None

    # -- the stepper's interface ----------------------------------------------------

    def begin_epoch(self, order: np.ndarray, crops: Crops | None = None) -> None:
        check_crops(self.augment, order, crops)
        k = len(order)
        if k > self.n:
            raise ValueError(f"an order of {k} positions for {self.n} training images")
        arrays = [(self.order, order)]
        if crops is not None:
            arrays += [(self.dy, crops.dy), (self.dx, crops.dx), (self.flip, crops.flip)]
        for buffer, values in arrays:  # in place: the graph reads these buffers
            host = torch.as_tensor(np.asarray(values)).to(buffer.dtype)
            buffer[:k].copy_(host)

    def run(
        self, first: int, count: int, should_stop: Callable[[], bool]
    ) -> tuple[np.ndarray, np.ndarray]:
        buffers = [self.losses, self.accs, self.preds]
        losses, accs, preds = replay_slots(
            self.replay, buffers, 0, self.position, self.slot, first, count, should_stop
        )
        self.predictions = preds if self.record else None
        return losses, accs


def replay_slots(
    replay: Capture,
    buffers: list[torch.Tensor],
    axis: int,
    position: torch.Tensor,
    slot: torch.Tensor,
    first: int,
    count: int,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[np.ndarray]:
    """Steps first..first+count-1 through `replay` (fewer when `should_stop()` turns
    true), each writing its results at `slot` along `axis` of `buffers`, which are read
    to the host when full (BUFFER steps), at the end and at a stop: each buffer's steps,
    concatenated along `axis`. The step advances `position` and `slot` on the device."""
    replay.check()
    position.fill_(first)
    slot.zero_()
    parts: list[list[np.ndarray]] = [[] for _ in buffers]
    done = pending = 0
    while done < count:
        replay()
        done += 1
        pending += 1
        stop = should_stop()
        if pending == BUFFER or done == count or stop:
            # Copies: on a CPU `.cpu()` is the buffer itself, which the next step writes.
            for part, buffer in zip(parts, buffers, strict=True):
                part.append(buffer.narrow(axis, 0, pending).cpu().numpy().copy())
            slot.zero_()
            pending = 0
        if stop:
            break
    return [np.concatenate(part, axis=axis) for part in parts]


__all__ = ["BUFFER", "WARMUP", "Capture", "GraphStep", "replay_slots"]
