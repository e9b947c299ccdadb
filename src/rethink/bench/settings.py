"""What one benchmark measures: models, backends, precisions, sizes and execution.

    settings = BenchSpec(models=("mlp_3x512",), backends=("jax", "torch"))
    BenchSpec.tiny(backends=("jax",))     # a few steps of the smallest model, for CI
    BenchSpec.from_dict(settings.to_dict()) == settings   # how the worker receives it

A frozen dataclass, checked on creation (BenchError, one line); defaults are
sized for a GPU. It travels to each backend's worker process as JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rethink.base import backend as backend_choice  # its `installed`, looked up when called
from rethink.models import MODELS
from rethink.spec import PRECISIONS
from rethink.spec.architectures import parse_reference
from rethink.train.steppers import Execution, ExecutionError


class BenchError(ValueError):
    """Settings that cannot describe a benchmark (unknown name, value out of range)."""


def _installed_backends() -> tuple[str, ...]:
    return tuple(b for b in backend_choice.BACKENDS if backend_choice.installed(b))


@dataclass(frozen=True)
class BenchSpec:
    """What to benchmark; defaults are sized for a GPU (see `tiny()` for CI)."""

    models: tuple[str, ...] = ("inception", "mlp_3x512")
    backends: tuple[str, ...] = field(default_factory=_installed_backends)
    precisions: tuple[str, ...] = ("float32",)
    batch_size: int = 128  # the paper's
    warmup: int = 50  # steps before the timed span (compilation, caches)
    steps: int = 300  # timed steps
    steps_per_execution: int | None = None  # most steps per dispatch; None: per loop/device
    images: int = 50_000  # synthetic training set: the paper's steps per epoch
    loop: str = "auto"  # keras, native or auto, as `rethink run --loop`
    torch_compile: str = "auto"  # as `rethink run --torch-compile`
    pack: int = 1  # runs trained as one pack (jax, torch), timed together (`rethink grid --pack`)

    def __post_init__(self) -> None:
        for name, known in (
            ("model", MODELS),
            ("backend", backend_choice.BACKENDS),
            ("precision", PRECISIONS),
        ):
            chosen = getattr(self, name + "s")
            if not chosen:
                raise BenchError(f"no {name}s selected")
            for value in chosen:
                if name == "model" and value not in known and parse_reference(value):
                    continue  # a model of yours: module:builder or file.py:builder
                if value not in known:
                    raise BenchError(f"unknown {name} {value!r}; choose from {', '.join(known)}")
        for name in ("batch_size", "steps", "images", "pack"):
            if getattr(self, name) <= 0:
                raise BenchError(f"{name} must be positive, got {getattr(self, name)}")
        try:
            self.execution()
        except ExecutionError as e:
            raise BenchError(str(e)) from None
        if self.warmup < 1:
            raise BenchError(f"warmup must be at least 1 step, got {self.warmup}")
        if self.images < self.batch_size:
            raise BenchError(f"images ({self.images}) must hold one batch ({self.batch_size})")

    def execution(self) -> Execution:
        """How the steps execute (loop, steps per dispatch, torch.compile)."""
        return Execution(self.loop, self.steps_per_execution, self.torch_compile)

    def missing_backends(self) -> list[str]:
        """The backends asked for that are not installed here."""
        return [b for b in self.backends if not backend_choice.installed(b)]

    @classmethod
    def tiny(cls, **changes: Any) -> BenchSpec:
        """A few steps of the smallest model: seconds on a CPU, for CI."""
        base: dict[str, Any] = {
            "models": ("mlp_1x512",),
            "batch_size": 32,
            "warmup": 2,
            "steps": 5,
            "images": 256,
        }
        return cls(**{**base, **changes})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BenchSpec:
        fields: dict[str, Any] = dict(d)
        for name in ("models", "backends", "precisions"):
            if name in fields:
                fields[name] = tuple(fields[name])
        return cls(**fields)
