"""The Gaussian kernel's default bandwidth: the median distance, seeded, on a sample."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.kernel.gaussian import median_bandwidth


def test_median_bandwidth_is_the_median_pairwise_distance() -> None:
    x = np.random.default_rng(0).standard_normal((40, 4, 4, 3))
    flat = x.reshape(40, -1)
    d = np.linalg.norm(flat[:, None] - flat[None, :], axis=-1)
    assert median_bandwidth(x) == pytest.approx(np.median(d[np.triu_indices(40, k=1)]))


def test_a_large_set_is_sampled_by_seed() -> None:
    x = np.random.default_rng(1).standard_normal((60, 5))
    assert median_bandwidth(x, seed=0, sample=20) == median_bandwidth(x, seed=0, sample=20)
    assert median_bandwidth(x, seed=0, sample=20) != median_bandwidth(x, seed=1, sample=20)
