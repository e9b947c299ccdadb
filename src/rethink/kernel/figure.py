"""Beyond the paper: the solution's norm and test error against label corruption.

    fig = norm_figure(report)               # matplotlib Figure (Agg, no pyplot)
    save_figure(fig, out / "kernel_norm")   # kernel_norm.png and kernel_norm.pdf, atomically

Two panels sharing the x-axis (the partial_labels level, 0 to 1): the
RKHS norm sqrt(trace(alpha^T K alpha)) of the interpolating solution, and
train and test error. The norm grows with the noise while the fit stays
exact (train error 0), which is the point: a minimum norm does not predict
generalization by itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING

from rethink.base.atomic import write_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rethink.kernel.report import KernelReport

FORMATS = ("png", "pdf")


def norm_figure(report: KernelReport) -> Figure:
    """The figure of a level sweep (`report.results` in level order)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    results = sorted(report.results, key=lambda r: r.level or 0.0)
    levels = [r.level or 0.0 for r in results]
    fig = Figure(figsize=(6.8, 2.8), constrained_layout=True)
    FigureCanvasAgg(fig)
    norm_ax, err_ax = fig.subplots(1, 2, sharex=True)
    norm_ax.plot(levels, [r.norm for r in results], "o-", color="C0")
    norm_ax.set_xlabel("label corruption")
    norm_ax.set_ylabel(r"norm $\sqrt{\mathrm{tr}(\alpha^\top K \alpha)}$")
    err_ax.plot(levels, [r.test_error for r in results], "o-", color="C3", label="test")
    err_ax.plot(levels, [r.train_error for r in results], "s--", color="C2", label="train")
    err_ax.set_xlabel("label corruption")
    err_ax.set_ylabel("error")
    err_ax.set_ylim(-0.02, 1.0)
    err_ax.legend(loc="center right", frameon=False)
    what = "Gaussian kernel" if report.settings["kernel"] == "gaussian" else "random features"
    fig.suptitle(f"{what}, {report.dataset_name}, n = {report.n_train}, {report.dtype}", fontsize=9)
    return fig


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """Write stem.png and stem.pdf atomically; return the paths."""
    paths = []
    for fmt in FORMATS:
        path = stem.with_suffix(f".{fmt}")

        def write(f: IO[bytes], fmt: str = fmt) -> None:
            fig.savefig(f, format=fmt, dpi=150)

        write_atomically(path, write)
        paths.append(path)
    return paths
