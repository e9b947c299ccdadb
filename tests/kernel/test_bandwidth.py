"""The bandwidth sweep: sigma = scale x the median distance, one exact solve per scale."""

from __future__ import annotations

from typing import Any

import pytest

from rethink.kernel import KernelSettings, run_kernel
from rethink.kernel.bandwidth import bandwidth_figure, bandwidth_sweep


def test_the_scale_multiplies_the_median_bandwidth(synthetic: Any) -> None:
    settings = KernelSettings(train_subset=100, test_subset=50)
    points = bandwidth_sweep(settings, (2**-0.5, 1.0), synthetic)
    median = run_kernel(settings, synthetic).bandwidth
    assert [p.scale for p in points] == [2**-0.5, 1.0]
    assert points[1].bandwidth == pytest.approx(median)
    assert points[0].bandwidth == pytest.approx(median / 2**0.5)
    assert all(p.train_error == 0.0 for p in points)
    assert (
        points[0].test_error != points[1].test_error
        or points[0].residual_rel != points[1].residual_rel
    )  # a different kernel, not the same solve twice
    fig = bandwidth_figure(points, "synthetic, n = 100")
    assert fig.axes[0].get_xscale() == "log" and len(fig.axes[0].lines) == 4
