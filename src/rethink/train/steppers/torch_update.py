"""Keras's torch SGD update with the learning rate on the device: no host read per step.

    update = SgdUpdate(optimizer, variables)   # if SgdUpdate.supports(optimizer, variables)
    with torch.no_grad():
        update(grads)                          # Keras's `optimizer.apply(grads, variables)`

Keras's own `apply` evaluates the learning-rate schedule with tensors built
from Python numbers (a host-to-device copy each) and hands the rate to
`_foreach_add_` as `alpha`, a Python number, so every step reads it back to
the host: a graph break under `torch.compile`, a device synchronization that
keeps the host from queueing the next step, and, inside a CUDA graph capture,
an error. Here the rate is computed on the device from the optimizer's
iteration counter (`device_learning_rate`: a constant rate, or Keras's
`ExponentialDecay`, the protocol's staircase schedule), with Keras's formula
and its float32 constants made once, so a step is device work only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


def rate_schedule(optimizer: Any) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The optimizer's learning rate as a function of an iteration counter (an int64
    device tensor) to a float32 device tensor, computed on the device as Keras computes
    it; None for a schedule that rethink does not know. Shape-polymorphic: a packed
    step (`rethink.train.steppers.torch_pack`) calls it inside `torch.func.vmap`."""
    import keras

    rate = optimizer._learning_rate  # a Keras variable (a constant rate) or a schedule
    if isinstance(rate, keras.Variable):
        value = rate.value
        return lambda _: value
    if type(rate) is not keras.optimizers.schedules.ExponentialDecay:
        return None
    device = optimizer.iterations.value.device

    def constant(v: float) -> torch.Tensor:  # made once, outside every step
        return torch.full((), float(v), dtype=torch.float32, device=device)

    initial, steps, decay = (
        constant(rate.initial_learning_rate),
        constant(rate.decay_steps),
        constant(rate.decay_rate),
    )
    staircase = bool(rate.staircase)

    def schedule(iterations: torch.Tensor) -> torch.Tensor:
        # ExponentialDecay.__call__ in float32 tensors: a true division (a Python
        # divisor would become a multiplication by its reciprocal on CUDA, and the
        # staircase could floor one step early at an epoch's end).
        p = iterations.to(torch.float32) / steps
        if staircase:
            p = torch.floor(p)
        return initial * torch.pow(decay, p)

    return schedule


def device_learning_rate(optimizer: Any) -> Callable[[], torch.Tensor] | None:
    """The optimizer's current learning rate as a float32 device tensor, computed on the
    device from its iteration counter (`rate_schedule`); None for a schedule that
    rethink does not know (the caller then asks Keras, with its host reads)."""
    schedule = rate_schedule(optimizer)
    if schedule is None:
        return None
    iterations = optimizer.iterations.value
    return lambda: schedule(iterations)


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
    otherwise the stepper calls `optimizer.apply`. `on_device` says whether the
    rate is computed on the device (`device_learning_rate`); if not, each step
    asks Keras's schedule for it (host work, but still no `alpha` read).
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
        self._rate = device_learning_rate(optimizer)
        self.on_device = self._rate is not None

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
        """The rate of the current iteration, a float32 tensor on the variables' device."""
        if self._rate is not None:
            return self._rate()
        lr = self.optimizer.learning_rate  # Keras's schedule at the current iteration
        lr = getattr(lr, "value", lr)
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
        # In place, not `assign_add(1)`, which builds a tensor from the number 1.
        self.optimizer.iterations.value.add_(1)


__all__ = ["SgdUpdate", "device_learning_rate", "rate_schedule"]
