"""Every setting of one kernel experiment, checked once, with the defaults of `rethink kernel`.

    settings = KernelSettings(kernel="features", train_subset=5000)   # KernelError if wrong
    settings.data_specs()          # the DataSpec of each labelling: a training run's data
    settings.with_filters(True)    # filters resolved: 32,000 on a GPU, 2,000 on a CPU

A frozen dataclass, pure Python: the command line builds one from its options,
and a library user from keywords; `run_kernel` takes it. Data settings
(corruption, level, seed, subsets, source, data set, crop) mean what they
mean for a training run and are checked by `rethink.spec.DataSpec`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from rethink.kernel.errors import KernelError
from rethink.paper import KERNEL_FILTERS
from rethink.spec import DataSpec, SpecError

KERNELS = ("gaussian", "features")
DTYPES = ("float64", "float32")
DEFAULT_BLOCK = 4096
GPU_FILTERS = KERNEL_FILTERS  # the paper's 32,000
CPU_FILTERS = 2_000  # minutes, not hours, on a CPU
_POSITIVE = ("filters", "patch", "filter_chunk", "batch", "block")


@dataclass(frozen=True)
class KernelSettings:
    """Every setting of `rethink kernel` (the README's "Kernel interpolation" lists them)."""

    kernel: str = "gaussian"
    bandwidth: float | None = None  # Gaussian sigma; None: the median pairwise distance
    filters: int | None = None  # random filters; None: GPU_FILTERS on a GPU, else CPU_FILTERS
    patch: int = 5  # filters are patch x patch x channels
    filter_chunk: int = 256  # filters computed at a time
    batch: int = 256  # images per convolution batch
    lam: float = 0.0  # l2 regularization lambda (0: interpolation)
    dtype: str = "float64"  # float64 where the backend has it, else float32 (said so)
    block: int = DEFAULT_BLOCK  # rows per tile: no product or factorization is larger
    corruption: str = "true_labels"
    level: float | None = None
    levels: tuple[float, ...] | None = None  # a partial_labels sweep sharing one factorization
    seed: int = 0
    train_subset: int | None = None
    test_subset: int | None = None
    data: str | None = None
    dataset: str | None = None  # a named data set (DataSpec.dataset)
    crop: int | None = None  # the centre crop (DataSpec.crop)
    max_memory: int | None = None  # bytes; None: the memory available

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise KernelError(f"unknown kernel {self.kernel!r}; choose from {', '.join(KERNELS)}")
        if self.bandwidth is not None and not (
            math.isfinite(self.bandwidth) and self.bandwidth > 0
        ):
            raise KernelError(f"the bandwidth must be a positive number, got {self.bandwidth}")
        if not (math.isfinite(self.lam) and self.lam >= 0):
            raise KernelError(f"lambda must be >= 0, got {self.lam}")
        if self.dtype not in DTYPES:
            raise KernelError(f"unknown dtype {self.dtype!r}; choose float64 or float32")
        for name in _POSITIVE:
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise KernelError(f"{name.replace('_', '-')} must be positive, got {value}")
        if self.max_memory is not None and self.max_memory <= 0:
            raise KernelError(f"max-memory must be positive, got {self.max_memory} bytes")
        if self.levels is not None:
            if not self.levels:
                raise KernelError("give at least one level")
            bad = [p for p in self.levels if not 0.0 <= p <= 1.0]
            if bad:
                raise KernelError(f"corruption levels must be in [0, 1], got {bad[0]}")
            if self.corruption not in ("true_labels", "partial_labels") or self.level is not None:
                raise KernelError(
                    "--levels is a partial_labels sweep: give no other corruption or --level"
                )
        self.data_specs()  # the data settings, checked by DataSpec

    def data_specs(self) -> list[DataSpec]:
        """The data of each labelling: what a training run with these settings sees."""
        common: dict[str, Any] = dict(
            seed=self.seed,
            train_subset=self.train_subset,
            test_subset=self.test_subset,
            data=self.data,
            dataset=self.dataset,
            crop=self.crop,
        )
        try:
            if self.levels is not None:
                return [
                    DataSpec(corruption="partial_labels", level=p, **common) for p in self.levels
                ]
            return [DataSpec(corruption=self.corruption, level=self.level, **common)]
        except SpecError as e:
            raise KernelError(str(e)) from None

    @property
    def regularized(self) -> bool:
        return self.lam > 0

    def with_filters(self, accelerated: bool) -> KernelSettings:
        """These settings with the filter count decided: as given, else per device."""
        if self.filters is not None:
            return self
        return replace(self, filters=GPU_FILTERS if accelerated else CPU_FILTERS)
