"""One kernel experiment: data, kernel, one factorization, a result per labelling.

    settings = KernelSettings(kernel="features", filters=2000, train_subset=5000,
                              levels=(0.0, 0.5, 1.0))
    report = run_kernel(settings, raw, progress=stages)   # raw None: load settings.data
    for r in report.results:
        print(r.level, r.train_error, r.test_error, r.residual_max, r.norm)

The data are exactly a training run's (`rethink.data.prepare` of each
labelling's `DataSpec`: subset, randomization by seed, preprocessing). With
`levels` the labellings are partial_labels at each level, whose images are
the same: they share one kernel matrix and one factorization, and are solved
together as the columns of one right-hand side (one-hot, one column per
class and level).

`progress(stage, total)` is called at the start of each stage and returns
a function called once per unit of work (tiles, chunks of filters).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from rethink.kernel.budget import Budget
from rethink.kernel.errors import KernelError
from rethink.kernel.network import PatchNetwork
from rethink.kernel.report import KernelReport, KernelResult
from rethink.kernel.settings import KernelSettings
from rethink.kernel.tiles import split
from rethink.paper import kernel_test_error

if TYPE_CHECKING:
    from rethink.data import RunData
    from rethink.spec.datasets import Dataset

Progress = Callable[[str, int], Callable[[], None]]


def _quiet(stage: str, total: int) -> Callable[[], None]:
    return lambda: None


def labellings(
    settings: KernelSettings, raw: Any, dataset: Dataset | None = None
) -> tuple[RunData, np.ndarray]:
    """The shared data (the first labelling's RunData) and the training labels, one
    column per labelling.

    Raises KernelError for data that do not fit the settings, or if two labellings
    do not share their images.
    """
    from rethink.data import prepare

    specs = settings.data_specs()
    try:
        first = prepare(specs[0], raw, dataset)
        labels = [first.y_train]
        for spec in specs[1:]:
            other = prepare(spec, raw, dataset)
            if not (
                np.array_equal(other.x_train, first.x_train)
                and np.array_equal(other.y_test, first.y_test)
            ):
                raise KernelError(
                    f"{spec.randomization} changes the images; it cannot share the factorization"
                )
            labels.append(other.y_train)
    except KernelError:
        raise
    except ValueError as e:  # DataError included: a crop or subset that does not fit
        raise KernelError(str(e)) from None
    return first, np.stack(labels, axis=1)


def load_raw(settings: KernelSettings) -> tuple[Any, Dataset]:
    """The arrays and data set of `settings.data` / `settings.dataset` (KernelError if
    they cannot be read)."""
    from rethink.data import DataError, load

    try:
        loaded = load(settings.data, settings.dataset)
    except DataError as e:
        raise KernelError(str(e)) from None
    return loaded.arrays, loaded.dataset


def run_kernel(
    settings: KernelSettings,
    raw: Any = None,
    progress: Progress | None = None,
    dataset: Dataset | None = None,
) -> KernelReport:
    """Run the experiment on `raw` (`rethink.data.load(...).arrays` of `dataset`, default
    CIFAR-10; None: loaded from the settings' data source); see the module doc."""
    import keras
    from keras import ops

    from rethink.kernel.device import accelerated, available_memory, solve_dtype
    from rethink.kernel.features import FeatureDesign, feature_gram
    from rethink.kernel.gaussian import gaussian_gram, median_bandwidth
    from rethink.kernel.network import patch_gram
    from rethink.kernel.solve import Factor, tile_count

    stage = progress or _quiet
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    if raw is None:
        raw, dataset = load_raw(settings)
    if dataset is None:
        from rethink.spec.datasets import KNOWN

        dataset = KNOWN["cifar10"]
    settings = settings.with_filters(accelerated()).with_whole_images(min(dataset.shape[:2]))
    data, y = labellings(settings, raw, dataset)
    seconds["data"] = time.perf_counter() - clock
    n, m = len(data.x_train), len(data.x_test)
    dims = int(np.prod(data.x_train.shape[1:]))
    dtype, note = solve_dtype(settings.dtype)
    features, chunk = feature_counts(settings)
    need = Budget.of(n, m, dims, dtype, settings.block, chunk, whitening=settings.uses_patches)
    if settings.max_memory is not None:
        available, where = settings.max_memory, "allowed (--max-memory)"
    else:
        available, where = available_memory()
    need.check(available, where)

    blocks, test_blocks = split(n, settings.block), split(m, settings.block)
    bandwidth, gamma, median, state = None, None, None, {}
    clock = time.perf_counter()
    try:
        if settings.kernel == "gaussian":
            bandwidth = settings.bandwidth or settings.bandwidth_scale * median_bandwidth(
                data.x_train, seed=settings.seed
            )
            tiles = tile_count(len(blocks)) + len(blocks) * len(test_blocks)
            gram = gaussian_gram(
                data.x_train, data.x_test, bandwidth, blocks, test_blocks, dtype,
                stage("kernel", tiles),
            )  # fmt: skip
        elif settings.uses_patches:
            net = patch_network(settings)
            result = patch_gram(
                data.x_train, data.x_test, net, blocks, test_blocks, dtype,
                seed=settings.seed, step=stage("features", len(net.chunks())),
            )  # fmt: skip
            gram, gamma, median, state = result.gram, result.gamma, result.median, result.state
        else:
            design = FeatureDesign(
                settings.filters or 0, settings.patch_size, settings.filter_chunk,
                settings.batch or 1,
            )  # fmt: skip
            gram = feature_gram(
                data.x_train, data.x_test, design, blocks, test_blocks, dtype,
                seed=settings.seed, step=stage("features", len(design.chunks())),
            )  # fmt: skip
    except ValueError as e:
        raise KernelError(str(e)) from None
    _sync(gram.train.tiles[-1][-1])
    seconds["kernel"] = time.perf_counter() - clock

    clock = time.perf_counter()
    factor = Factor.of(
        gram.train, settings.lam, dtype, step=stage("factorize", tile_count(len(blocks)))
    )
    _sync(factor.lower.tiles[-1][-1])
    seconds["factorize"] = time.perf_counter() - clock

    clock = time.perf_counter()
    targets = np.eye(data.num_classes)[y].reshape(n, -1)  # (n, labellings x classes)
    rhs = [ops.convert_to_tensor(targets[a:b], dtype=dtype) for a, b in blocks]
    step = stage("solve", 3)
    alpha = factor.solve(rhs)
    step()
    fitted = gram.fit(alpha)
    step()
    predicted = gram.predict(alpha)
    step()
    solution = _host(alpha), _host(fitted), _host(predicted)
    seconds["solve"] = time.perf_counter() - clock

    return KernelReport(
        settings=asdict(settings),
        backend=keras.backend.backend(),
        dtype=dtype,
        dtype_note=note,
        n_train=n,
        n_test=m,
        bandwidth=bandwidth,
        features=features,
        gamma=gamma,
        feature_median=median,
        jitter=factor.jitter,
        factorizations=factor.tries,
        memory=need.describe(),
        seconds=seconds,
        results=_results(settings, solution, targets, y, data.y_test, dataset),
        dataset=dataset.to_dict(),
        state=state,
        warnings=_warnings(settings, n, dims),
    )


def _warnings(settings: KernelSettings, n: int, dims: int) -> list[str]:
    """What the data make of the settings: a ZCA fitted on fewer images than dimensions."""
    if settings.uses_patches and settings.zca_bias is not None and n <= dims:
        return [
            f"the ZCA is fitted on {n} training images of {dims} dimensions: the test images' "
            "directions outside their span are scaled up by 1/sqrt(bias), which hurts the "
            "test error; use more training images (or --no-zca, or a smaller --crop)"
        ]
    return []


def feature_counts(settings: KernelSettings) -> tuple[int | None, int | None]:
    """(features per image, features per chunk) of a features kernel; (None, None) for
    the Gaussian kernel on pixels. Filters must be resolved (`with_filters`)."""
    if settings.kernel != "features":
        return None, None
    filters = settings.filters or 0
    per_filter = 2 * settings.pool**2 if settings.design == "patches" else 4
    return per_filter * filters, per_filter * min(settings.filter_chunk, filters)


def patch_network(settings: KernelSettings) -> PatchNetwork:
    """The `patches` design's network of these settings (filters resolved)."""
    return PatchNetwork(
        filters=settings.filters or 0,
        patch=settings.patch_size,
        source=settings.patch_source,
        zca_bias=settings.zca_bias,
        image_norm=settings.image_norm,
        threshold=settings.threshold,
        pool=settings.pool,
        pool_window=settings.pool_window,
        kernel=settings.feature_kernel,
        gamma=settings.gamma,
        chunk=settings.filter_chunk,
        batch=settings.batch or 1,  # resolved by with_filters
    )


def _results(
    settings: KernelSettings,
    solution: tuple[np.ndarray, np.ndarray, np.ndarray],
    targets: np.ndarray,
    y: np.ndarray,
    y_test: np.ndarray,
    dataset: Dataset,
) -> list[KernelResult]:
    """One result per labelling k: its `classes` columns of alpha, K alpha, K_test alpha."""
    a, kf, kp = solution
    classes = dataset.num_classes
    results = []
    for k, spec in enumerate(settings.data_specs()):
        cols = slice(classes * k, classes * (k + 1))
        residual = kf[:, cols] + settings.lam * a[:, cols] - targets[:, cols]
        norm2 = float(np.sum(a[:, cols] * kf[:, cols]))
        # The paper's numbers are CIFAR-10's, on its true labels.
        paper = dataset.has_paper_numbers and (spec.corruption == "true_labels" or spec.level == 0)
        results.append(
            KernelResult(
                corruption=spec.corruption,
                level=spec.level,
                train_error=float(np.mean(np.argmax(kf[:, cols], axis=1) != y[:, k])),
                test_error=float(np.mean(np.argmax(kp[:, cols], axis=1) != y_test)),
                residual_max=float(np.max(np.abs(residual))),
                residual_rel=float(np.linalg.norm(residual) / np.linalg.norm(targets[:, cols])),
                norm=float(np.sqrt(max(norm2, 0.0))),
                paper_test_error=kernel_test_error(settings.kernel, settings.regularized)
                if paper
                else None,
            )
        )
    return results


def _host(parts: list[Any]) -> np.ndarray:
    """Row blocks on the device -> one float64 NumPy array."""
    from keras import ops

    return np.concatenate([np.asarray(ops.convert_to_numpy(p), np.float64) for p in parts])


def _sync(x: Any) -> None:
    """Wait for the device (timings): fetch one number of `x`."""
    from keras import ops

    ops.convert_to_numpy(x[0, 0])


__all__ = ["KernelReport", "KernelResult", "KernelSettings", "labellings", "load_raw", "run_kernel"]
