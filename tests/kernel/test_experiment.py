"""Kernel interpolation end to end: the solve against NumPy, exact fits, one factorization
for a sweep, refusals; on small synthetic data, and on the real CIFAR-10 (slow)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rethink.data import prepare
from rethink.kernel import KernelError, KernelSettings, run_kernel
from rethink.kernel.device import solve_dtype
from rethink.kernel.experiment import labellings
from rethink.spec import DataSpec
from rethink.spec.datasets import KNOWN, Dataset

DTYPE, NOTE = solve_dtype("float64")  # float32 on JAX without x64 (the CLI enables it)
EXACT = 1e-9 if DTYPE == "float64" else 1e-2  # relative residual of an exact solve


def _numpy_gaussian(x: np.ndarray, z: np.ndarray, sigma: float) -> np.ndarray:
    x, z = x.reshape(len(x), -1).astype(np.float64), z.reshape(len(z), -1).astype(np.float64)
    d2 = (x * x).sum(1)[:, None] + (z * z).sum(1)[None, :] - 2 * x @ z.T
    return np.exp(-np.maximum(d2, 0) / (2 * sigma**2))


def _gaussian_equals_numpy(raw: Any, paper: float | None) -> None:
    """run_kernel and the tiled pieces give NumPy's float64 solution (300 train, 200 test)."""
    from keras import ops

    from rethink.kernel.gaussian import gaussian_gram, median_bandwidth
    from rethink.kernel.solve import Factor
    from rethink.kernel.tiles import split

    settings = KernelSettings(train_subset=300, test_subset=200, block=128)
    report = run_kernel(settings, raw)
    data = prepare(DataSpec(train_subset=300, test_subset=200), raw)
    sigma = median_bandwidth(data.x_train)
    assert report.bandwidth == pytest.approx(sigma)
    k = _numpy_gaussian(data.x_train, data.x_train, sigma)
    y = np.eye(10)[data.y_train]
    alpha = np.linalg.solve(k, y)
    # The tiled pieces: the same alpha as NumPy's.
    blocks = split(300, 128)
    gram = gaussian_gram(data.x_train, data.x_test, sigma, blocks, split(200, 128), DTYPE)
    parts = Factor.of(gram.train, dtype=DTYPE).solve(
        [ops.convert_to_tensor(y[a:b], DTYPE) for a, b in blocks]
    )
    got = np.concatenate([ops.convert_to_numpy(p) for p in parts]).astype(np.float64)
    scale = np.abs(alpha).max()
    assert np.abs(got - alpha).max() / scale < (1e-8 if DTYPE == "float64" else 1e-2)
    # The report: exact interpolation, NumPy's norm and test error.
    (result,) = report.results
    assert result.train_error == 0.0
    assert result.residual_rel < EXACT
    assert result.norm == pytest.approx(
        np.sqrt(np.sum(alpha * y)), rel=1e-6 if DTYPE == "float64" else 1e-2
    )
    predicted = np.argmax(_numpy_gaussian(data.x_test, data.x_train, sigma) @ alpha, axis=1)
    assert result.test_error == pytest.approx(np.mean(predicted != data.y_test), abs=0.011)
    assert result.paper_test_error == paper


def test_gaussian_solve_equals_a_numpy_float64_solve(synthetic: Any) -> None:
    _gaussian_equals_numpy(synthetic, paper=0.46)  # CIFAR-10's shape and classes: its number


def test_a_level_sweep_shares_one_factorization(
    synthetic: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rethink.kernel.solve as solve

    calls = []
    real = solve._cholesky
    monkeypatch.setattr(solve, "_cholesky", lambda *a: calls.append(1) or real(*a))
    settings = KernelSettings(train_subset=200, test_subset=100, block=100, levels=(0.0, 0.5, 1.0))
    report = run_kernel(settings, synthetic)
    assert len(calls) == 1 and report.factorizations == 1
    assert [r.level for r in report.results] == [0.0, 0.5, 1.0]
    assert all(r.train_error == 0.0 and r.residual_rel < EXACT for r in report.results)
    norms = [r.norm for r in report.results]
    assert norms[0] < norms[1] < norms[2]  # noisier labels, larger norm
    assert report.results[0].test_error < report.results[2].test_error
    assert report.results[0].paper_test_error == 0.46 and report.results[2].paper_test_error is None


def test_random_features_interpolate(synthetic: Any) -> None:
    # The linear kernel of 256 features on 150 images is too ill-conditioned for a
    # float32 solve (JAX without x64): there, a small lambda, as documented.
    lam = 0.0 if DTYPE == "float64" else 1e-3
    settings = KernelSettings(
        kernel="features", design="gaussian-filters", filters=64, filter_chunk=40,
        train_subset=150, test_subset=100, lam=lam,
    )  # fmt: skip
    report = run_kernel(settings, synthetic)
    (result,) = report.results
    assert report.features == 256 and report.settings["filters"] == 64
    assert result.train_error == 0.0
    assert result.residual_rel < (1e-8 if DTYPE == "float64" else 1e-2)
    assert result.test_error < 0.5  # template classes; chance: 0.9
    assert result.paper_test_error == (0.17 if lam == 0 else 0.15)


def test_filters_resolve_per_device_into_the_report(synthetic: Any) -> None:
    from rethink.kernel.device import accelerated
    from rethink.kernel.settings import CPU_FILTERS, GPU_FILTERS

    report = run_kernel(KernelSettings(train_subset=50, test_subset=20), synthetic)
    assert report.settings["filters"] == (GPU_FILTERS if accelerated() else CPU_FILTERS)
    assert report.features is None  # the Gaussian kernel has none


def test_another_data_set_has_no_paper_numbers(synthetic: Any) -> None:
    shapes = Dataset("shapes", tuple(f"c{i}" for i in range(10)), (32, 32, 3))
    report = run_kernel(KernelSettings(train_subset=100, test_subset=50), synthetic, dataset=shapes)
    assert report.dataset["name"] == "shapes"
    assert report.results[0].paper_test_error is None
    assert report.n_train == 100 and report.n_test == 50


def test_too_large_is_refused_naming_the_sizes(synthetic: Any) -> None:
    settings = KernelSettings(train_subset=300, test_subset=200, max_memory=2**20)
    with pytest.raises(
        KernelError, match=r"too large: 300 training and 200 test points need .* GiB"
    ):
        run_kernel(settings, synthetic)


def test_data_that_do_not_fit_are_a_kernel_error(synthetic: Any) -> None:
    with pytest.raises(KernelError, match="larger than the 300 training images"):
        labellings(KernelSettings(train_subset=301), synthetic, KNOWN["cifar10"])
    with pytest.raises(KernelError, match="patch must be smaller"):
        run_kernel(
            KernelSettings(kernel="features", design="gaussian-filters", patch=28, train_subset=20),
            synthetic,
        )
    with pytest.raises(KernelError, match="patch must be smaller than the 32x32"):
        run_kernel(KernelSettings(kernel="features", patch=32, train_subset=20), synthetic)


def test_labellings_stack_one_label_column_per_level(synthetic: Any) -> None:
    data, y = labellings(KernelSettings(levels=(0.0, 1.0), train_subset=100), synthetic)
    assert y.shape == (100, 2)
    assert np.array_equal(y[:, 0], data.y_train)  # level 0: the true labels
    assert np.mean(y[:, 0] != y[:, 1]) > 0.5  # level 1: random labels


# -- the real CIFAR-10 -------------------------------------------------------


@pytest.mark.slow
def test_gaussian_solve_equals_numpy_on_cifar10(raw: Any) -> None:
    _gaussian_equals_numpy(raw, paper=0.46)


@pytest.mark.slow
def test_random_labels_are_interpolated_exactly(raw: Any) -> None:
    report = run_kernel(
        KernelSettings(corruption="random_labels", train_subset=500, test_subset=200), raw
    )
    (result,) = report.results
    assert result.train_error == 0.0 and result.residual_rel < EXACT
    assert result.test_error > 0.75  # chance: 0.9
    assert result.paper_test_error is None


@pytest.mark.slow
def test_true_labels_generalize_far_better_than_chance(raw: Any) -> None:
    report = run_kernel(KernelSettings(train_subset=1000, test_subset=500), raw)
    (result,) = report.results
    assert result.train_error == 0.0
    assert result.test_error < 0.75  # measured 0.64; chance 0.9


@pytest.mark.slow
def test_random_features_interpolate_and_generalize(raw: Any) -> None:
    lam = 0.0 if DTYPE == "float64" else 1e-3
    settings = KernelSettings(
        kernel="features", design="gaussian-filters", filters=256, filter_chunk=100,
        train_subset=300, test_subset=300, lam=lam,
    )  # fmt: skip
    report = run_kernel(settings, raw)
    (result,) = report.results
    assert report.features == 1024
    assert result.train_error == 0.0
    # Features scaled, not centred: centred on the training set they sum to zero
    # over it and K is singular (the solve then fails even in float64).
    assert result.residual_rel < (1e-8 if DTYPE == "float64" else 1e-2)
    assert result.test_error < 0.8  # chance: 0.9
    assert result.paper_test_error == (0.17 if lam == 0 else 0.15)


@pytest.mark.slow
def test_a_level_sweep_on_cifar10(raw: Any) -> None:
    settings = KernelSettings(train_subset=400, test_subset=200, block=150, levels=(0.0, 0.5, 1.0))
    report = run_kernel(settings, raw)
    assert report.factorizations == 1
    assert all(r.train_error == 0.0 and r.residual_rel < EXACT for r in report.results)
    norms = [r.norm for r in report.results]
    assert norms[0] < norms[1] < norms[2]
    assert report.results[0].test_error < report.results[2].test_error
