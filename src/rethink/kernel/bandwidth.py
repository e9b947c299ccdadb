"""How much the Gaussian kernel's bandwidth moves its test error: a sweep and its figure.

    points = bandwidth_sweep(KernelSettings(train_subset=2000, test_subset=2000),
                             scales=(0.25, 0.5, 0.7071, 1, 2, 4), raw=raw)
    save_figure(bandwidth_figure(points, "cifar10, n = 2000"), Path("docs/figures/kernel-bandwidth"))

The paper gives no bandwidth. rethink's default is sigma = the median
distance between training images (`--bandwidth-scale 1`); sigma = median /
sqrt(2) (`--bandwidth-scale 0.7071`: the kernel exp(-d^2 / median(d^2))) is an
equally common convention. Each point is one `run_kernel` with
`bandwidth_scale` = the scale (exact interpolation, lambda as in the
settings); the figure shows train and test error against the scale (log x).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rethink.kernel.settings import KernelSettings


@dataclass(frozen=True)
class BandwidthPoint:
    """One bandwidth: its scale of the median distance, sigma, and the errors (fractions)."""

    scale: float
    bandwidth: float
    train_error: float
    test_error: float
    residual_rel: float


def bandwidth_sweep(
    settings: KernelSettings, scales: Sequence[float], raw: Any = None
) -> list[BandwidthPoint]:
    """The Gaussian kernel on pixels at sigma = scale x the median distance, per scale."""
    from rethink.kernel.experiment import run_kernel

    points = []
    for scale in scales:
        report = run_kernel(replace(settings, kernel="gaussian", bandwidth_scale=scale), raw)
        result = report.results[0]
        points.append(
            BandwidthPoint(
                scale=scale,
                bandwidth=float(report.bandwidth or 0.0),
                train_error=result.train_error,
                test_error=result.test_error,
                residual_rel=result.residual_rel,
            )
        )
    return points


def bandwidth_figure(points: Sequence[BandwidthPoint], title: str) -> Figure:
    """Train and test error against sigma / median (log axis); the two conventions marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    points = sorted(points, key=lambda p: p.scale)
    fig = Figure(figsize=(4.6, 3.0), constrained_layout=True)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    scales = [p.scale for p in points]
    ax.plot(scales, [p.test_error for p in points], "o-", color="C3", label="test")
    ax.plot(scales, [p.train_error for p in points], "s--", color="C2", label="train")
    for x, name in ((1.0, "median"), (2**-0.5, r"median/$\sqrt{2}$")):
        ax.axvline(x, color="0.6", lw=0.8, ls=":")
        ax.text(x, 0.97, name, rotation=90, va="top", ha="right", fontsize=7, color="0.4")
    ax.set_xscale("log")
    from matplotlib.ticker import NullLocator

    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(scales, labels=[f"{x:.3g}" for x in scales])
    ax.set_xlabel(r"bandwidth $\sigma$ / median distance")
    ax.set_ylabel("error")
    ax.set_ylim(-0.02, 1.0)
    ax.legend(loc="center right", frameon=False)
    ax.set_title(f"Gaussian kernel on pixels, {title}", fontsize=9)
    return fig
