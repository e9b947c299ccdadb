"""Kernel interpolation on real CIFAR-10: the solve against NumPy, exact fits, generalization."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rethink.data import prepare
from rethink.kernel import KernelError, KernelSettings, run_kernel
from rethink.kernel.budget import GIB, Budget
from rethink.kernel.device import solve_dtype
from rethink.spec import RunSpec

DTYPE, NOTE = solve_dtype("float64")  # float32 on JAX without x64 (the CLI enables it)
EXACT = 1e-9 if DTYPE == "float64" else 1e-2  # relative residual of an exact solve


def test_float64_or_a_stated_fallback() -> None:
    assert (DTYPE == "float64") == (NOTE is None)


def _numpy_gaussian(x: np.ndarray, z: np.ndarray, sigma: float) -> np.ndarray:
    x, z = x.reshape(len(x), -1).astype(np.float64), z.reshape(len(z), -1).astype(np.float64)
    d2 = (x * x).sum(1)[:, None] + (z * z).sum(1)[None, :] - 2 * x @ z.T
    return np.exp(-np.maximum(d2, 0) / (2 * sigma**2))


def test_gaussian_solve_equals_a_numpy_float64_solve(raw: Any) -> None:
    from keras import ops

    from rethink.kernel.gaussian import gaussian_gram, median_bandwidth
    from rethink.kernel.solve import Factor
    from rethink.kernel.tiles import split

    settings = KernelSettings(train_subset=300, test_subset=200, block=128)
    report = run_kernel(settings, raw)
    data = prepare(RunSpec(model="mlp_1x512", train_subset=300, test_subset=200), raw)
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
    assert result.paper_test_error == 0.46


def test_random_labels_are_interpolated_exactly(raw: Any) -> None:
    report = run_kernel(
        KernelSettings(corruption="random_labels", train_subset=500, test_subset=200), raw
    )
    (result,) = report.results
    assert result.train_error == 0.0 and result.residual_rel < EXACT
    assert result.test_error > 0.75  # chance: 0.9
    assert result.paper_test_error is None


def test_true_labels_generalize_far_better_than_chance(raw: Any) -> None:
    report = run_kernel(KernelSettings(train_subset=1000, test_subset=500), raw)
    (result,) = report.results
    assert result.train_error == 0.0
    assert result.test_error < 0.75  # measured 0.64; chance 0.9


def test_random_features_interpolate_and_generalize(raw: Any) -> None:
    # The linear kernel of 1,024 features on 300 images is too ill-conditioned for a
    # float32 solve (JAX without x64): there, a small lambda, as documented.
    lam = 0.0 if DTYPE == "float64" else 1e-3
    settings = KernelSettings(
        kernel="features", filters=256, filter_chunk=100, train_subset=300, test_subset=300, lam=lam
    )
    report = run_kernel(settings, raw)
    (result,) = report.results
    assert report.features == 1024
    assert result.train_error == 0.0
    # Features scaled, not centred: centred on the training set they sum to zero
    # over it and K is singular (the solve then fails even in float64).
    assert result.residual_rel < (1e-8 if DTYPE == "float64" else 1e-2)
    assert result.test_error < 0.8  # chance: 0.9
    assert result.paper_test_error == (0.17 if lam == 0 else 0.15)


def test_random_features_do_not_depend_on_the_chunking(raw: Any) -> None:
    from rethink.kernel.features import FeatureDesign, draw_filters

    whole = draw_filters(FeatureDesign(filters=10), seed=3, start=0, stop=10)
    assert np.array_equal(whole[..., 4:7], draw_filters(FeatureDesign(10), 3, 4, 7))
    assert np.allclose(np.linalg.norm(whole.reshape(-1, 10), axis=0), 1.0)


def test_a_level_sweep_shares_one_factorization(raw: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import rethink.kernel.solve as solve

    calls = []
    real = solve._cholesky
    monkeypatch.setattr(solve, "_cholesky", lambda *a: calls.append(1) or real(*a))
    settings = KernelSettings(train_subset=400, test_subset=200, block=150, levels=(0.0, 0.5, 1.0))
    report = run_kernel(settings, raw)
    assert len(calls) == 1 and report.factorizations == 1
    assert [r.level for r in report.results] == [0.0, 0.5, 1.0]
    assert all(r.train_error == 0.0 and r.residual_rel < EXACT for r in report.results)
    norms = [r.norm for r in report.results]
    assert norms[0] < norms[1] < norms[2]  # noisier labels, larger norm
    assert report.results[0].test_error < report.results[2].test_error
    assert report.results[0].paper_test_error == 0.46 and report.results[2].paper_test_error is None


def test_too_large_is_refused_naming_the_sizes(raw: Any) -> None:
    settings = KernelSettings(train_subset=300, test_subset=200, max_memory=2**20)
    with pytest.raises(
        KernelError, match=r"too large: 300 training and 200 test points need .* GiB"
    ):
        run_kernel(settings, raw)
    full = Budget.of(50_000, 10_000, 28 * 28 * 3, "float32", 4096)
    assert 10 < full.gram / GIB < 11  # "50,000 points need a 10 GB float32 Gram matrix"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kernel": "laplace"}, "unknown kernel"),
        ({"bandwidth": -1.0}, "bandwidth must be a positive"),
        ({"lam": -1.0}, "lambda must be >= 0"),
        ({"levels": (0.0, 2.0)}, "levels must be in"),
        ({"levels": (0.5,), "corruption": "random_pixels"}, "partial_labels sweep"),
        ({"corruption": "partial_labels"}, "needs a corruption level"),
    ],
)
def test_bad_settings_are_one_line_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(KernelError, match=message):
        KernelSettings(**change)
