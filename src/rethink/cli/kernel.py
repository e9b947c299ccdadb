"""`rethink kernel`: section 5's kernel interpolation (Gaussian kernel, random features).

    rethink kernel --train-subset 5000                       # Gaussian kernel on pixels
    rethink kernel --kernel features --filters 2000 --train-subset 5000
    rethink kernel --levels 0,0.2,0.4,0.6,0.8,1 --out kernel_sweep   # + the norm figure
    rethink kernel --kernel features --lam 1e-3              # l2-regularized

Solves (K + lambda I) alpha = Y for one-hot labels of any randomization,
factorizing K once for every labelling of a --levels sweep, and prints
train and test error, the residual and the norm beside the paper's numbers.
See `rethink.kernel` for how, and the README for every choice.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rethink.base.text import percent
from rethink.cli import (
    BackendOption,
    app,
    console,
    err_console,
    fail,
    parse_levels,
    use_backend,
)
from rethink.cli import options as o
from rethink.paper import KERNEL_FILTERS

if TYPE_CHECKING:
    from rich.progress import Progress

    from rethink.kernel import KernelReport

D = o.DEFAULTS
GPU_FILTERS = KERNEL_FILTERS  # the paper's
CPU_FILTERS = 2_000


@app.command("kernel")
def kernel_command(
    kernel: Annotated[
        str, typer.Option(help="gaussian (on the pixels) or features (random convolutional).")
    ] = "gaussian",
    bandwidth: Annotated[
        float | None,
        typer.Option(
            help="Gaussian sigma in k = exp(-|x-x'|^2 / 2 sigma^2) (default: the median "
            "distance between 1,000 training images).",
            show_default=False,
        ),
    ] = None,
    filters: Annotated[
        int | None,
        typer.Option(
            help=f"Random filters (default: {GPU_FILTERS:,} on a GPU, {CPU_FILTERS:,} on a CPU).",
            show_default=False,
        ),
    ] = None,
    patch: Annotated[int, typer.Option(help="Filter size (patch x patch x channels).")] = 5,
    lam: Annotated[float, typer.Option("--lam", help="l2 regularization lambda.")] = 0.0,
    dtype: Annotated[
        str, typer.Option(help="float64 (where the backend has it, else float32) or float32.")
    ] = "float64",
    block: Annotated[
        int, typer.Option(help="Rows per tile: no product or factorization is larger.")
    ] = 4096,
    filter_chunk: Annotated[int, typer.Option(help="Filters computed at a time.")] = 256,
    batch: Annotated[int, typer.Option(help="Images per convolution batch.")] = 256,
    levels: Annotated[
        str | None,
        typer.Option(
            help="A partial_labels sweep sharing one factorization, e.g. 0,0.2,0.4,0.6,0.8,1.",
            show_default=False,
        ),
    ] = None,
    corruption: o.CorruptionOption = D["corruption"],
    level: o.Level = D["level"],
    seed: o.Seed = D["seed"],
    train_subset: o.TrainSubset = D["train_subset"],
    test_subset: o.TestSubset = D["test_subset"],
    data: o.DataOption = None,
    dataset: o.DatasetOption = None,
    crop: o.CropOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write kernel.json here (and kernel_norm.png/.pdf for a sweep).",
            show_default=False,
        ),
    ] = None,
    max_memory: Annotated[
        float | None,
        typer.Option(
            help="Refuse problems above this many GiB (default: the memory available).",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress display.")] = False,
    backend: BackendOption = None,
) -> None:
    """Kernel interpolation (section 5): solve (K + lambda I) alpha = Y exactly.

    Prints train and test error, the residual max|(K + lambda I) alpha - Y| and
    the norm sqrt(trace(alpha^T K alpha)) of each labelling, beside the paper's
    CIFAR-10 numbers (full data set, 32,000 filters). Exit code 2: bad settings,
    missing data, or a problem too large for the memory.
    """
    from rethink.kernel.errors import KernelError
    from rethink.kernel.experiment import KernelSettings

    if max_memory is not None and max_memory <= 0:
        fail(f"--max-memory must be positive, got {max_memory}")
    sweep = parse_levels(levels)
    memory = int(max_memory * 2**30) if max_memory is not None else None
    common: dict[str, Any] = dict(
        kernel=kernel, bandwidth=bandwidth, patch=patch, lam=lam, dtype=dtype, block=block,
        filter_chunk=filter_chunk, batch=batch, corruption=corruption, level=level,
        levels=sweep, seed=seed, train_subset=train_subset, test_subset=test_subset,
        data=data, dataset=dataset, crop=crop, max_memory=memory,
    )  # fmt: skip
    try:
        KernelSettings(filters=filters or CPU_FILTERS, **common)
    except KernelError as e:
        fail(str(e))
    name = use_backend(backend, quiet=quiet)
    if name == "jax" and dtype == "float64" and "jax" not in sys.modules:
        os.environ.setdefault("JAX_ENABLE_X64", "1")  # read once, when jax is imported

    from rethink.data import DataError, load
    from rethink.kernel.device import accelerated
    from rethink.kernel.experiment import run_kernel

    if filters is None:
        filters = GPU_FILTERS if accelerated() else CPU_FILTERS
    settings = KernelSettings(filters=filters, **common)
    try:
        loaded = load(data, dataset)
    except DataError as e:
        fail(str(e))
    try:
        with _progress(quiet) as stages:
            report = run_kernel(settings, loaded.arrays, progress=stages, dataset=loaded.dataset)
    except KernelError as e:
        fail(str(e))
    _print(report)
    if out is not None:
        _write(report, out)


class _progress:
    """A Rich progress bar per stage on a terminal, plain lines otherwise, nothing if quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Progress | None = None

    def __enter__(self) -> Callable[[str, int], Callable[[], None]]:
        if not self.quiet and err_console.is_terminal:
            from rich.progress import Progress

            self.bar = Progress(console=err_console, transient=True)
            self.bar.start()
        return self.stage

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def stage(self, name: str, total: int) -> Callable[[], None]:
        if self.quiet:
            return lambda: None
        if self.bar is None:
            err_console.print(f"{name}: {total} steps", highlight=False)
            return lambda: None
        task = self.bar.add_task(name, total=total)
        bar = self.bar
        return lambda: bar.advance(task)


def _rows(report: KernelReport) -> list[list[str]]:
    rows = []
    for r in report.results:
        what = r.corruption if r.level is None else f"{r.corruption} p={r.level:g}"
        rows.append(
            [
                what,
                percent(r.train_error),
                "0.0%",
                percent(r.test_error),
                percent(r.paper_test_error),
                f"{r.residual_max:.2e}",
                f"{r.residual_rel:.2e}",
                f"{r.norm:.4g}",
            ]
        )
    return rows


HEADER = ["labels", "train err", "paper", "test err", "paper", "max resid", "rel resid", "norm"]


def _print(report: KernelReport) -> None:
    s = report.settings
    what = (
        f"Gaussian kernel, bandwidth {report.bandwidth:.4g}"
        if s["kernel"] == "gaussian"
        else f"random features: {s['filters']} filters {s['patch']}x{s['patch']}, "
        f"{report.features} features"
    )
    name = report.dataset.get("name", "cifar10")
    lines = [
        f"{what}; {report.n_train} training and {report.n_test} test images of {name}; "
        f"lambda {s['lam']:g}; {report.backend}, {report.dtype}",
    ]
    if report.dtype_note:
        lines.append(f"note: {report.dtype_note}")
    if report.jitter:
        lines.append(
            f"note: the factorization needed a jitter of {report.jitter:.3g} on the diagonal "
            f"({report.factorizations} tries); the residual is against K + lambda I"
        )
    worst = max(r.residual_rel for r in report.results)
    if worst > 1e-3:
        lines.append(
            f"note: relative residual {worst:.2g}: not an exact solve (K is ill-conditioned "
            f"in {report.dtype}); "
            + ("use float64 or --lam > 0" if report.dtype == "float32" else "use --lam > 0")
        )
    times = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    paper = (
        "paper: all of CIFAR-10 (50,000 images), 32,000 filters"
        if name == "cifar10"
        else f"no paper numbers for {name}"
    )
    lines.append(f"time: {times}; {paper}")
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    if console.is_terminal:
        from rich.table import Table

        table = Table(*HEADER)
        for row in _rows(report):
            table.add_row(*row)
        console.print(table)
    else:
        for row in [HEADER, *_rows(report)]:
            console.print("  ".join(row), highlight=False, soft_wrap=True)


def _write(report: KernelReport, out: Path) -> None:
    from rethink.run.folder import write_json

    write_json(out / "kernel.json", report.to_dict())
    console.print(f"wrote {out / 'kernel.json'}", highlight=False, soft_wrap=True)
    if len(report.results) > 1:
        from rethink.kernel.figure import norm_figure, save_figure

        for path in save_figure(norm_figure(report), out / "kernel_norm"):
            console.print(f"wrote {path}", highlight=False, soft_wrap=True)
