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
DESIGNS = ("patches", "gaussian-filters")  # network.PatchNetwork, features.FeatureDesign
PATCH_SOURCES = ("data", "gaussian")
FEATURE_KERNELS = ("gaussian", "linear")
DEFAULT_PATCH = {"patches": 6, "gaussian-filters": 5}
DTYPES = ("float64", "float32")
DEFAULT_BLOCK = 4096
GPU_FILTERS = KERNEL_FILTERS  # the paper's 32,000
CPU_FILTERS = 2_000  # minutes, not hours, on a CPU
# Images per convolution: large batches keep a GPU busy; on a CPU every eager
# temporary of a large batch (256 images: 190 MB per map) is fresh memory whose pages
# fault in (measured: batch 16 is 2.4x faster than 256 on this 2-core machine).
GPU_BATCH, CPU_BATCH = 256, 16
_POSITIVE = ("filters", "patch", "filter_chunk", "batch", "block", "pool", "pool_window")
_POSITIVE_FLOATS = ("bandwidth", "bandwidth_scale", "gamma", "zca_bias", "image_norm")


@dataclass(frozen=True)
class KernelSettings:
    """Every setting of `rethink kernel` (the README's "Kernel interpolation" lists them)."""

    kernel: str = "gaussian"
    bandwidth: float | None = None  # Gaussian sigma; None: bandwidth_scale x the median distance
    bandwidth_scale: float = 1.0  # sigma = this x the median distance (1/sqrt(2): d^2 / median d^2)
    filters: int | None = None  # random filters; None: GPU_FILTERS on a GPU, else CPU_FILTERS
    design: str = "patches"  # DESIGNS: the features of `--kernel features`
    patch: int | None = None  # filters are patch x patch x channels; None: DEFAULT_PATCH
    patch_source: str = "data"  # patches: whitened training patches, or gaussian noise
    zca_bias: float | None = 0.1  # patches: ZCA whitening's eigenvalue bias; None: no ZCA
    image_norm: float = 55.0  # patches: each image's L2 norm after removing its mean
    threshold: float = 1.0  # patches: relu(z - t) and relu(-z - t)
    pool: int = 2  # patches: pooling windows per side (2: a 2x2 grid)
    pool_window: int | None = None  # patches: window side; None: network.pool_windows' rule
    feature_kernel: str = "gaussian"  # patches: kernel on the features (FEATURE_KERNELS)
    gamma: float | None = None  # patches: exp(-gamma d^2 / features); None: 1 / median
    filter_chunk: int = 256  # filters computed at a time
    batch: int | None = None  # images per convolution batch; None: GPU_BATCH / CPU_BATCH
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
        for name in _POSITIVE_FLOATS:
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise KernelError(
                    f"{name.replace('_', '-')} must be a positive number, got {value}"
                )
        for name, value, choices in (
            ("design", self.design, DESIGNS),
            ("patch source", self.patch_source, PATCH_SOURCES),
            ("feature kernel", self.feature_kernel, FEATURE_KERNELS),
        ):
            if value not in choices:
                raise KernelError(f"unknown {name} {value!r}; choose from {', '.join(choices)}")
        if not (math.isfinite(self.threshold) and self.threshold >= 0):
            raise KernelError(f"the threshold must be >= 0, got {self.threshold}")
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
    def patch_size(self) -> int:
        """The filters' side: as given, else the design's default."""
        return self.patch if self.patch is not None else DEFAULT_PATCH[self.design]

    @property
    def uses_patches(self) -> bool:
        """Whether the kernel is the `patches` design's (whole images, ZCA, patches)."""
        return self.kernel == "features" and self.design == "patches"

    def with_whole_images(self, side: int) -> KernelSettings:
        """The `patches` design sees whole images: crop `side` unless a crop was given."""
        if not self.uses_patches or self.crop is not None:
            return self
        return replace(self, crop=side)

    @property
    def regularized(self) -> bool:
        return self.lam > 0

    def with_filters(self, accelerated: bool) -> KernelSettings:
        """These settings with the filter count, size and convolution batch decided: as
        given, else per design and device."""
        return replace(
            self,
            filters=self.filters or (GPU_FILTERS if accelerated else CPU_FILTERS),
            patch=self.patch_size,
            batch=self.batch or (GPU_BATCH if accelerated else CPU_BATCH),
        )
