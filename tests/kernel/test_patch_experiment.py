"""The patch network end to end: exact interpolation, a sweep, its state; real CIFAR-10 (slow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rethink.kernel import KernelSettings, run_kernel
from rethink.kernel.device import solve_dtype
from rethink.kernel.output import write_report

DTYPE, _ = solve_dtype("float64")
EXACT = 1e-8 if DTYPE == "float64" else 1e-2
LAM = 0.0 if DTYPE == "float64" else 1e-3  # float32 (JAX without x64): a small lambda

# Small images keep the ZCA (dims x dims: 8x8x3 = 192) cheap in the quick tests, and
# below the training set (240): fitted on fewer images than dimensions, the ZCA
# blows up the test images' directions the training images do not span.
SMALL = dict(
    kernel="features", filters=40, filter_chunk=16, crop=8, patch=4, test_subset=60, lam=LAM
)


def test_the_patch_network_interpolates_the_training_labels(synthetic: Any) -> None:
    report = run_kernel(KernelSettings(train_subset=240, **SMALL), synthetic)
    (result,) = report.results
    assert report.settings["design"] == "patches" and report.settings["crop"] == 8
    assert report.features == 2 * 2 * 2 * 40  # two channels, 2x2 windows, 40 filters
    assert report.gamma == pytest.approx(1 / report.feature_median)
    assert result.train_error == 0.0 and result.residual_rel < EXACT
    # No test error here: pooled responses to patches carry little of the synthetic
    # classes' pixel-noise templates (the slow test below checks real images).
    assert set(report.state) == {"filters", "zca_mean", "zca_matrix"}
    assert report.state["filters"].shape == (40, 4, 4, 3)
    assert report.state["zca_matrix"].shape == (8 * 8 * 3, 8 * 8 * 3)


def test_whole_images_by_default_and_every_choice_reaches_the_network(synthetic: Any) -> None:
    settings = KernelSettings(
        train_subset=60, kernel="features", filters=8, test_subset=20, zca_bias=None,
        patch_source="gaussian", patch=5, pool=3, feature_kernel="linear", lam=LAM,
    )  # fmt: skip
    report = run_kernel(settings, synthetic)
    assert report.settings["crop"] == 32  # the whole image: the public pipeline's input
    assert report.features == 2 * 3 * 3 * 8
    assert report.gamma is None and set(report.state) == {"filters"}  # no ZCA, linear
    assert report.state["filters"].shape == (8, 5, 5, 3)
    assert report.headline().startswith("random features (patches): 8 filters 5x5, 144 features; ")


def test_a_label_sweep_with_the_patch_network_draws_the_norm_figure(
    synthetic: Any, tmp_path: Path
) -> None:
    settings = KernelSettings(train_subset=240, levels=(0.0, 0.5, 1.0), **SMALL)
    report = run_kernel(settings, synthetic)
    assert report.factorizations == 1
    assert all(r.train_error == 0.0 and r.residual_rel < EXACT for r in report.results)
    norms = [r.norm for r in report.results]
    assert norms[0] < norms[1] < norms[2]
    names = [p.name for p in write_report(report, tmp_path)]
    assert names == ["kernel.json", "kernel_features.npz", "kernel_norm.png", "kernel_norm.pdf"]


def test_the_saved_state_whitens_and_featurizes_the_test_split_again(
    synthetic: Any, tmp_path: Path
) -> None:
    """kernel_features.npz reproduces the test kernel: the ZCA is the training split's."""
    from rethink.data import prepare
    from rethink.kernel.whitening import normalize_images
    from rethink.spec import DataSpec

    report = run_kernel(KernelSettings(train_subset=240, **SMALL), synthetic)
    write_report(report, tmp_path)
    data = prepare(DataSpec(train_subset=240, test_subset=60, crop=8), synthetic)
    with np.load(tmp_path / "kernel_features.npz") as saved:
        mean, matrix = saved["zca_mean"], saved["zca_matrix"]
    train = normalize_images(data.x_train)
    np.testing.assert_allclose(mean, train.mean(axis=0), rtol=1e-4, atol=1e-4)
    white = (train - mean) @ matrix
    cov = np.cov(white, rowvar=False, bias=True)
    assert np.abs(np.diag(cov)).max() <= 1.0 + 1e-3  # e / (e + bias) < 1: whitened


@pytest.mark.slow
def test_the_patch_network_generalizes_on_cifar10(raw: Any) -> None:
    settings = KernelSettings(
        kernel="features", filters=256, train_subset=2000, test_subset=500, crop=20, lam=LAM
    )
    report = run_kernel(settings, raw)
    (result,) = report.results
    assert result.train_error == 0.0 and result.residual_rel < EXACT
    assert result.test_error < 0.7  # chance: 0.9
    assert result.paper_test_error == (0.17 if LAM == 0 else 0.15)
