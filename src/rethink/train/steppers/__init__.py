"""How a run's training steps are executed: the seam for backend-specific speed.

    execution = Execution(loop="auto", steps_per_execution=None, torch_compile="auto")
    stepper = make_stepper(execution, model, data, spec)  # None: use fit()
    stepper.begin_epoch(order, crops)  # crops: rethink.data.pipeline.crop_draws, when augmenting

`rethink.train.loop.train` runs the paper's protocol either through Keras's
`fit()` (the "keras" loop, every backend) or through a native stepper (the
"native" loop, JAX and torch), which trains the same Keras model with the same
Keras optimizer and loss but

- keeps the training set resident on the device and gathers each batch there
  from the epoch's permutation (no per-step host-to-device copy);
- augments there too (`spec.augment`): each batch is cropped at its images'
  own offsets, flipped and, for the "window" crop, whitened inside the step,
  from the raw uint8 32x32 images ("window") or the preprocessed 28x28 ones
  ("padded"), with the draws the keras loop uses on the host;
- runs up to `steps_per_execution` steps per dispatch and returns every
  step's loss and accuracy (and each example's predicted class, kept as
  `predictions`, for `rethink.train.examples`) at the end, so the host reads the device once per
  chunk instead of once per step (JAX: one `jit`-compiled `fori_loop` whose
  trip count is an argument, so every chunk length shares one compilation);
- on torch, runs the whole step as one CUDA graph ("graph": captured after a
  few eager steps, replayed every step, no host read inside), or compiles it
  with `torch.compile`, falling back to the eager step if that fails.

Chunks never cross a metrics row or an epoch end, and the stepper's per-step
losses rebuild exactly the running means Keras reports, so the metrics are
those of the keras loop up to float rounding (tests/test_steppers.py checks
the losses step by step). The Keras model's variables stay the source of
truth between chunks (`sync()`), so evaluation, checkpoints and resuming are
shared with the keras loop, and a checkpoint from either loop resumes in the
other.

Importing this module imports no Keras and no framework; the backend modules do.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from rethink.data.pipeline import Crops, RunData
    from rethink.spec import RunSpec

LOOPS = ("auto", "keras", "native")
TORCH_COMPILE = ("auto", "off", "graph", "cudagraphs", "inductor", "aot_eager")
NATIVE_BACKENDS = ("jax", "torch")
# A native chunk on an accelerator: bounded by rows and epoch ends anyway.
ACCELERATOR_CHUNK = 1000
# RETHINK_EXAMPLES=0 turns off recording each example's prediction (rethink.train.examples):
# for measuring what it costs (docs/benchmarks.md) only; runs record it.
EXAMPLES_ENV = "RETHINK_EXAMPLES"


def records_examples() -> bool:
    """Whether steps return each example's predicted class (unless RETHINK_EXAMPLES=0)."""
    return os.environ.get(EXAMPLES_ENV, "1").strip() != "0"


class ExecutionError(ValueError):
    """Execution settings that cannot be used (unknown loop, bad chunk length)."""


@dataclass(frozen=True)
class Execution:
    """How to execute a run; never what it computes (metrics equal up to rounding).

    loop: "keras" (`fit()`), "native" (a stepper; JAX and torch only) or
    "auto" (native where a stepper exists, else keras).
    steps_per_execution: steps per dispatch; None chooses (keras loop: 1;
    native: 1 on a CPU, which runs each step before returning anyway, so the
    progress display and Ctrl-C stay per step; on an accelerator up to the
    next metrics row).
    torch_compile: "off" (the eager step, the reference), "graph" (the whole
    step as one CUDA graph, `rethink.train.steppers.torch_graph`; uncaptured on
    a CPU), a `torch.compile` backend ("cudagraphs", "inductor", "aot_eager"),
    or "auto" ("graph" on a CUDA GPU, else off).
    """

    loop: str = "auto"
    steps_per_execution: int | None = None
    torch_compile: str = "auto"

    KEYS = ("loop", "steps_per_execution", "torch_compile")  # in a spec's extra

    def __post_init__(self) -> None:
        for name in ("loop", "torch_compile"):  # plain strs, not a CLI choice's Enum member
            value = getattr(self, name)
            if isinstance(value, str) and type(value) is not str:
                object.__setattr__(self, name, str(value))
        if self.loop not in LOOPS:
            raise ExecutionError(f"unknown loop {self.loop!r}; choose from {', '.join(LOOPS)}")
        if self.torch_compile not in TORCH_COMPILE:
            raise ExecutionError(
                f"unknown torch compile mode {self.torch_compile!r}; "
                f"choose from {', '.join(TORCH_COMPILE)}"
            )
        if self.steps_per_execution is not None and self.steps_per_execution < 1:
            raise ExecutionError(
                f"steps per execution must be positive, got {self.steps_per_execution}"
            )

    def to_extra(self) -> dict[str, Any]:
        """The non-default settings, as stored in a spec's `extra`."""
        default = Execution()
        return {k: getattr(self, k) for k in self.KEYS if getattr(self, k) != getattr(default, k)}

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any], base: Execution | None = None) -> Execution:
        """`base` (default: the defaults) with the execution keys found in a spec's `extra`."""
        base = base or cls()
        fields = {k: extra.get(k, getattr(base, k)) for k in cls.KEYS}
        if fields["steps_per_execution"] is not None:
            fields["steps_per_execution"] = int(fields["steps_per_execution"])
        return cls(**fields)

    def uses_native(self, backend: str, precision: str) -> bool:
        """Whether a native stepper runs this backend and precision.

        float16 needs Keras's loss scaling inside fit(); such runs use the
        keras loop even when "native" is asked for.
        """
        if self.loop == "keras" or backend not in NATIVE_BACKENDS:
            return False
        return precision != "mixed_float16"

    def loop_for(self, backend: str, precision: str) -> str:
        """The loop that runs: "native" or "keras" (as env.json and bench rows say)."""
        return "native" if self.uses_native(backend, precision) else "keras"


class Stepper(Protocol):
    """Trains the Keras model it was made for, chunk by chunk."""

    name: str

    def begin_epoch(self, order: np.ndarray, crops: Crops | None = None) -> None:
        """The epoch's batches: `order` indexes the resident training set; `crops`
        (given exactly when the stepper augments) holds each position's crop
        offsets and flip, aligned with `order`."""
        ...

    def run(
        self, first: int, count: int, should_stop: Callable[[], bool]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Train batches first..first+count-1 of the epoch; every step's (loss, accuracy).

        May return fewer steps than asked when `should_stop()` turns true.
        """
        ...

    def sync(self) -> None:
        """Write the trained state into the Keras model's variables."""
        ...


# After `run`, a stepper that records examples holds `predictions`: each step's
# predicted class per example of its batch, (steps, batch_size) int32, aligned with
# the epoch's order (None where it records none: `records_examples`).


def chunk_length(epoch_start: int, done: int, steps: int, log_every: int, limit: int) -> int:
    """Steps in the next chunk: at most `limit`, never past a row or the epoch's end.

    `epoch_start` is the global step before the epoch, `done` the steps of the
    epoch already trained, `steps` the steps in this epoch.
    """
    to_row = log_every - (epoch_start + done) % log_every
    return max(1, min(steps - done, to_row, limit))


def chunk_limit(execution: Execution, on_cpu: bool) -> int:
    """The largest chunk a native stepper dispatches (see `Execution`)."""
    if execution.steps_per_execution is not None:
        return execution.steps_per_execution
    return 1 if on_cpu else ACCELERATOR_CHUNK


def check_crops(augment: str | None, order: np.ndarray, crops: Crops | None) -> None:
    """Raise unless `crops` are given exactly when the stepper augments, one per position."""
    if (crops is None) != (augment is None):
        given = "no crops" if crops is None else "crops"
        raise ValueError(f"a stepper with augment={augment!r} got {given} for the epoch")
    if crops is not None and len(crops) != len(order):
        raise ValueError(f"{len(crops)} crops for an order of {len(order)} positions")


def native_inputs(data: RunData, spec: RunSpec) -> tuple[np.ndarray, str | None, tuple[int, int]]:
    """What a native stepper trains on: (images it gathers batches from, the crop mode
    or None, the trained images' (rows, columns))."""
    from rethink.data.pipeline import crop_source

    augment = spec.augment_crop if spec.augment else None
    x = crop_source(data, augment) if augment else data.x_train
    return x, augment, (int(data.x_train.shape[1]), int(data.x_train.shape[2]))


def make_stepper(
    execution: Execution,
    model: Any,
    data: RunData,
    spec: RunSpec,
    log: Callable[[str], None] = lambda _: None,
) -> Stepper | None:
    """A native stepper for the model's backend, or None where the keras loop runs."""
    import keras

    backend = keras.backend.backend()
    precision = keras.config.dtype_policy().name
    if not execution.uses_native(backend, precision):
        return None
    x, augment, crop = native_inputs(data, spec)
    if backend == "jax":
        from rethink.train.steppers.jax_stepper import JaxStepper

        return JaxStepper(
            model,
            x,
            data.y_train,
            spec.batch_size,
            augment=augment,
            crop=crop,
            predictions=records_examples(),
        )
    from rethink.train.steppers.torch_stepper import TorchStepper

    return TorchStepper(
        model,
        x,
        data.y_train,
        spec.batch_size,
        execution.torch_compile,
        log,
        augment=augment,
        crop=crop,
        predictions=records_examples(),
    )


__all__ = [
    "ACCELERATOR_CHUNK",
    "EXAMPLES_ENV",
    "LOOPS",
    "TORCH_COMPILE",
    "Execution",
    "ExecutionError",
    "Stepper",
    "check_crops",
    "chunk_length",
    "chunk_limit",
    "make_stepper",
    "native_inputs",
    "records_examples",
]
