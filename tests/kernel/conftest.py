"""Shared fixtures of the kernel tests: small CIFAR-like arrays, reports, the real CIFAR-10.

`synthetic` is a few hundred 32x32x3 uint8 images of ten classes, each class a
fixed random template plus noise: learnable (true labels generalize), distinct
(the Gaussian kernel matrix is invertible), made in milliseconds. `make_result`
and `make_report` build a KernelResult and a KernelReport by hand (an exact
Gaussian solve of 300 CIFAR-10 images; keywords change any field). `raw` is
the real CIFAR-10 (slow tests only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rethink.data import Arrays
from rethink.kernel import KernelReport, KernelResult, KernelSettings
from rethink.spec.datasets import KNOWN


def synthetic_raw(n_train: int = 300, n_test: int = 200, seed: int = 0) -> Arrays:
    """((x_train, y_train), (x_test, y_test)) of ten template classes, as `load` returns."""
    rng = np.random.default_rng(seed)
    templates = rng.uniform(0, 255, size=(10, 32, 32, 3))

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.arange(n) % 10
        x = 0.6 * templates[y] + rng.normal(50, 30, size=(n, 32, 32, 3))
        return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.int64)

    return split(n_train), split(n_test)


@pytest.fixture(scope="module")
def synthetic() -> Arrays:
    return synthetic_raw()


@pytest.fixture(scope="module")
def raw(cifar_archive: Path) -> Any:
    from rethink.data import load_cifar10

    return load_cifar10(cifar_archive)


def _result(level: float | None = None, rel: float = 1e-12, paper: float | None = 0.46) -> Any:
    return KernelResult(
        corruption="true_labels" if level is None else "partial_labels",
        level=level,
        train_error=0.0,
        test_error=0.625,
        residual_max=3e-12,
        residual_rel=rel,
        norm=44.3512,
        paper_test_error=paper,
    )


def _report(**changes: Any) -> KernelReport:
    report = KernelReport(
        settings=asdict(KernelSettings(filters=2000)),
        backend="jax",
        dtype="float64",
        dtype_note=None,
        n_train=300,
        n_test=200,
        bandwidth=67.5,
        features=None,
        jitter=0.0,
        factorizations=1,
        memory="...",
        seconds={"data": 1.0, "kernel": 0.25},
        results=[_result()],
        dataset=KNOWN["cifar10"].to_dict(),
    )
    return replace(report, **changes)


@pytest.fixture
def make_result() -> Callable[..., KernelResult]:
    """make_result(level=None, rel=1e-12, paper=0.46): one labelling's result."""
    return _result


@pytest.fixture
def make_report() -> Callable[..., KernelReport]:
    """make_report(**changes): a report of one exact Gaussian solve, fields changed."""
    return _report
