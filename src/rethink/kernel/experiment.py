"""One kernel experiment: data, kernel, one factorization, a result per labelling.

    settings = KernelSettings(kernel="features", filters=2000, train_subset=5000,
                              levels=(0.0, 0.5, 1.0))
    report = run_kernel(settings, raw, progress=stages)
    for r in report.results:
        print(r.level, r.train_error, r.test_error, r.residual_max, r.norm)

The data are exactly a training run's (`rethink.data.prepare` of a
`RunSpec`: subset, randomization by seed, preprocessing). With `levels`
the labellings are partial_labels at each level, whose images are the
same: they share one kernel matrix and one factorization, and are solved
together as the columns of one right-hand side (one-hot, one column per class and level).

`progress(stage, total)` is called at the start of each stage and returns
a function called once per unit of work (tiles, chunks of filters).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from rethink.kernel.budget import Budget
from rethink.kernel.errors import KernelError
from rethink.kernel.tiles import split
from rethink.paper import kernel_test_error
from rethink.spec import CORRUPTIONS, RunSpec, SpecError

if TYPE_CHECKING:
    from rethink.spec.datasets import Dataset

KERNELS = ("gaussian", "features")
DEFAULT_BLOCK = 4096

Progress = Callable[[str, int], Callable[[], None]]


@dataclass(frozen=True)
class KernelSettings:
    """Every setting of `rethink kernel` (the README's "Kernel interpolation" lists them)."""

    kernel: str = "gaussian"
    bandwidth: float | None = None  # Gaussian sigma; None: the median pairwise distance
    filters: int = 2000  # random features: filter count (the CLI: 32,000 on a GPU)
    patch: int = 5
    filter_chunk: int = 256
    batch: int = 256
    lam: float = 0.0
    dtype: str = "float64"
    block: int = DEFAULT_BLOCK
    corruption: str = "true_labels"
    level: float | None = None
    levels: tuple[float, ...] | None = None  # a partial_labels sweep sharing one factorization
    seed: int = 0
    train_subset: int | None = None
    test_subset: int | None = None
    data: str | None = None
    dataset: str | None = None  # a named data set (RunSpec.dataset)
    crop: int | None = None  # the centre crop (RunSpec.crop)
    max_memory: int | None = None  # bytes; None: the memory available

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise KernelError(f"unknown kernel {self.kernel!r}; choose from {', '.join(KERNELS)}")
        if self.bandwidth is not None and not (np.isfinite(self.bandwidth) and self.bandwidth > 0):
            raise KernelError(f"the bandwidth must be a positive number, got {self.bandwidth}")
        if not (np.isfinite(self.lam) and self.lam >= 0):
            raise KernelError(f"lambda must be >= 0, got {self.lam}")
        if self.dtype not in ("float64", "float32"):
            raise KernelError(f"unknown dtype {self.dtype!r}; choose float64 or float32")
        for name in ("filters", "patch", "filter_chunk", "batch", "block"):
            if getattr(self, name) <= 0:
                raise KernelError(
                    f"{name.replace('_', '-')} must be positive, got {getattr(self, name)}"
                )
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
        for spec in self.specs():
            del spec  # validated by RunSpec

    def specs(self) -> list[RunSpec]:
        """The RunSpec of each labelling (their data are what a training run would see)."""
        common: dict[str, Any] = dict(
            model="mlp_1x512",
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
                    RunSpec(corruption="partial_labels", level=p, **common) for p in self.levels
                ]
            return [RunSpec(corruption=self.corruption, level=self.level, **common)]
        except SpecError as e:
            raise KernelError(str(e)) from None


@dataclass(frozen=True)
class KernelResult:
    """One labelling's solution; errors are fractions, the norm sqrt(trace(a^T K a))."""

    corruption: str
    level: float | None
    train_error: float
    test_error: float
    residual_max: float  # max |(K + lam I) alpha - Y|
    residual_rel: float  # |(K + lam I) alpha - Y|_F / |Y|_F
    norm: float
    paper_test_error: float | None


@dataclass
class KernelReport:
    """Settings, sizes, numerics and timings, and one result per labelling."""

    settings: dict[str, Any]
    backend: str
    dtype: str
    dtype_note: str | None
    n_train: int
    n_test: int
    bandwidth: float | None
    features: int | None
    jitter: float
    factorizations: int
    memory: str
    seconds: dict[str, float] = field(default_factory=dict)
    results: list[KernelResult] = field(default_factory=list)
    dataset: dict[str, Any] = field(default_factory=dict)  # Dataset.to_dict()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _quiet(stage: str, total: int) -> Callable[[], None]:
    return lambda: None


def labellings(
    settings: KernelSettings, raw: Any, dataset: Dataset | None = None
) -> tuple[Any, np.ndarray]:
    """The shared data (first spec's RunData) and the training labels, one column per labelling.

    Raises KernelError if two labellings do not share their images.
    """
    from rethink.data import prepare

    specs = settings.specs()
    try:
        first = prepare(specs[0], raw, dataset)
    except ValueError as e:
        raise KernelError(str(e)) from None
    labels = [first.y_train]
    for spec in specs[1:]:
        other = prepare(spec, raw, dataset)
        if not (
            np.array_equal(other.x_train, first.x_train)
            and np.array_equal(other.y_test, first.y_test)
        ):
            raise KernelError(
                f"{spec.run_id} changes the images; it cannot share the factorization"
            )
        labels.append(other.y_train)
    return first, np.stack(labels, axis=1)


def run_kernel(
    settings: KernelSettings,
    raw: Any,
    progress: Progress | None = None,
    dataset: Dataset | None = None,
) -> KernelReport:
    """Run the experiment on `raw` (`rethink.data.load(...).arrays`, of `dataset`,
    default CIFAR-10); see the module doc."""
    import keras
    from keras import ops

    from rethink.kernel.device import available_memory, solve_dtype
    from rethink.kernel.features import FeatureDesign, feature_gram
    from rethink.kernel.gaussian import gaussian_gram, median_bandwidth
    from rethink.kernel.solve import Factor, tile_count

    stage = progress or _quiet
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    if dataset is None:
        from rethink.spec.datasets import KNOWN

        dataset = KNOWN["cifar10"]
    data, y = labellings(settings, raw, dataset)
    classes = data.num_classes
    paper = dataset.has_paper_numbers  # CIFAR-10's numbers only
    seconds["data"] = time.perf_counter() - clock
    n, m = len(data.x_train), len(data.x_test)
    dims = int(np.prod(data.x_train.shape[1:]))
    dtype, note = solve_dtype(settings.dtype)
    features = 4 * settings.filters if settings.kernel == "features" else None
    chunk = 4 * min(settings.filter_chunk, settings.filters) if features else None
    need = Budget.of(n, m, dims, dtype, settings.block, chunk)
    if settings.max_memory is not None:
        available, where = settings.max_memory, "allowed (--max-memory)"
    else:
        available, where = available_memory()
    need.check(available, where)

    blocks, test_blocks = split(n, settings.block), split(m, settings.block)
    bandwidth = None
    clock = time.perf_counter()
    if settings.kernel == "gaussian":
        bandwidth = settings.bandwidth or median_bandwidth(data.x_train, seed=settings.seed)
        tiles = tile_count(len(blocks)) + len(blocks) * len(test_blocks)
        gram = gaussian_gram(
            data.x_train, data.x_test, bandwidth, blocks, test_blocks, dtype, stage("kernel", tiles)
        )
    else:
        design = FeatureDesign(
            settings.filters, settings.patch, settings.filter_chunk, settings.batch
        )
        try:
            gram = feature_gram(
                data.x_train, data.x_test, design, blocks, test_blocks, dtype,
                seed=settings.seed, step=stage("features", len(design.chunks())),
            )  # fmt: skip
        except ValueError as e:
            raise KernelError(str(e)) from None
    _sync(gram.train.tiles[-1][-1])
    seconds["kernel"] = time.perf_counter() - clock

    clock = time.perf_counter()
    tries = [0]

    def restart(jitter: float) -> None:
        tries[0] += 1

    factor = Factor.of(
        gram.train,
        settings.lam,
        dtype,
        step=stage("factorize", tile_count(len(blocks))),
        retry=restart,
    )
    _sync(factor.lower.tiles[-1][-1])
    seconds["factorize"] = time.perf_counter() - clock

    clock = time.perf_counter()
    onehot = np.eye(classes)[y]  # (n, labellings, classes)
    targets = onehot.reshape(n, -1)
    rhs = [ops.convert_to_tensor(targets[a:b], dtype=dtype) for a, b in blocks]
    step = stage("solve", 3)
    alpha = factor.solve(rhs)
    step()
    fitted = gram.fit(alpha)
    step()
    predicted = gram.predict(alpha)
    step()
    a, kf, kp = _host(alpha), _host(fitted), _host(predicted)
    seconds["solve"] = time.perf_counter() - clock

    specs = settings.specs()
    results = []
    regularized = settings.lam > 0
    for k, spec in enumerate(specs):
        cols = slice(classes * k, classes * (k + 1))
        residual = kf[:, cols] + settings.lam * a[:, cols] - targets[:, cols]
        norm2 = float(np.sum(a[:, cols] * kf[:, cols]))
        results.append(
            KernelResult(
                corruption=spec.corruption,
                level=spec.level,
                train_error=float(np.mean(np.argmax(kf[:, cols], axis=1) != y[:, k])),
                test_error=float(np.mean(np.argmax(kp[:, cols], axis=1) != data.y_test)),
                residual_max=float(np.max(np.abs(residual))),
                residual_rel=float(np.linalg.norm(residual) / np.linalg.norm(targets[:, cols])),
                norm=float(np.sqrt(max(norm2, 0.0))),
                paper_test_error=kernel_test_error(settings.kernel, regularized)
                if paper and (spec.corruption == "true_labels" or spec.level == 0)
                else None,
            )
        )
    return KernelReport(
        settings=asdict(settings),
        backend=keras.backend.backend(),
        dtype=dtype,
        dtype_note=note,
        n_train=n,
        n_test=m,
        bandwidth=bandwidth,
        features=features,
        jitter=factor.jitter,
        factorizations=factor.tries,
        memory=need.describe(),
        seconds=seconds,
        results=results,
        dataset=dataset.to_dict(),
    )


def _host(parts: list[Any]) -> np.ndarray:
    """Row blocks on the device -> one float64 NumPy array."""
    from keras import ops

    return np.concatenate([np.asarray(ops.convert_to_numpy(p), np.float64) for p in parts])


def _sync(x: Any) -> None:
    """Wait for the device (timings): fetch one number of `x`."""
    from keras import ops

    ops.convert_to_numpy(x[0, 0])


__all__ = ["CORRUPTIONS", "KERNELS", "KernelReport", "KernelResult", "KernelSettings", "run_kernel"]
