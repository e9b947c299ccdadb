"""`rethink kernel`: section 5's kernel interpolation (Gaussian kernel, random features).

    rethink kernel --train-subset 5000                       # Gaussian kernel on pixels
    rethink kernel --kernel features --filters 2000 --train-subset 5000   # the patch network
    rethink kernel --kernel features --design gaussian-filters --filters 2000
    rethink kernel --levels 0,0.2,0.4,0.6,0.8,1 --out kernel_sweep   # + the norm figure
    rethink kernel --kernel features --lam 1e-3              # l2-regularized

Solves (K + lambda I) alpha = Y for one-hot labels of any randomization,
factorizing K once for every labelling of a --levels sweep, and prints
train and test error, the residual and the norm beside the paper's numbers.
Parses the options into `rethink.kernel.KernelSettings` (whose defaults these
are), runs `run_kernel` and prints its report; see `rethink.kernel` for how,
and the README for every choice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rethink.base.console import interactive, print_table, say
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
from rethink.kernel.settings import CPU_FILTERS, GPU_FILTERS, KernelSettings

if TYPE_CHECKING:
    from rich.progress import Progress

    from rethink.kernel import KernelReport

D = o.DEFAULTS
K = KernelSettings()  # the defaults


@app.command("kernel")
def kernel_command(
    kernel: Annotated[
        str, typer.Option(help="gaussian (on the pixels) or features (random convolutional).")
    ] = K.kernel,
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
    design: Annotated[
        str, typer.Option(help="Features: patches (the public pipeline) or gaussian-filters.")
    ] = K.design,
    patch: Annotated[
        int | None,
        typer.Option(
            help="Filter side (default: 6 for patches, 5 for gaussian-filters).", show_default=False
        ),
    ] = None,
    patch_source: Annotated[
        str, typer.Option(help="patches: whitened training patches (data) or gaussian.")
    ] = K.patch_source,
    zca_bias: Annotated[float, typer.Option(help="patches: ZCA eigenvalue bias.")] = 0.1,
    zca: Annotated[bool, typer.Option(help="patches: ZCA-whiten the images.")] = True,
    image_norm: Annotated[
        float, typer.Option(help="patches: L2 norm of each image.")
    ] = K.image_norm,
    threshold: Annotated[
        float, typer.Option(help="patches: b in relu(z - b), relu(-z - b).")
    ] = K.threshold,
    pool: Annotated[int, typer.Option(help="patches: pooling grid (2: 2x2).")] = K.pool,
    pool_window: Annotated[
        int | None,
        typer.Option(
            help="patches: pooling window side (default: 14 on 27x27 maps).", show_default=False
        ),
    ] = None,
    feature_kernel: Annotated[
        str, typer.Option(help="patches: gaussian or linear kernel on the features.")
    ] = K.feature_kernel,
    gamma: Annotated[
        float | None,
        typer.Option(
            help="patches: gamma in exp(-gamma |phi-phi'|^2 / features) "
            "(default: 1 / its median over 1,000 training images).",
            show_default=False,
        ),
    ] = None,
    bandwidth_scale: Annotated[
        float, typer.Option(help="Gaussian on pixels: sigma = this x the median distance.")
    ] = K.bandwidth_scale,
    lam: Annotated[float, typer.Option("--lam", help="l2 regularization lambda.")] = K.lam,
    dtype: Annotated[
        str, typer.Option(help="float64 (where the backend has it, else float32) or float32.")
    ] = K.dtype,
    block: Annotated[
        int, typer.Option(help="Rows per tile: no product or factorization is larger.")
    ] = K.block,
    filter_chunk: Annotated[int, typer.Option(help="Filters computed at a time.")] = K.filter_chunk,
    batch: Annotated[
        int | None,
        typer.Option(
            help="Images per convolution (default: 256 on a GPU, 16 on a CPU).", show_default=False
        ),
    ] = None,
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
    from rethink.kernel import KernelError, run_kernel
    from rethink.kernel.device import enable_float64

    if max_memory is not None and max_memory <= 0:
        fail(f"--max-memory must be positive, got {max_memory}")
    try:
        settings = KernelSettings(
            kernel=kernel, bandwidth=bandwidth, bandwidth_scale=bandwidth_scale, filters=filters,
            design=design, patch=patch, patch_source=patch_source,
            zca_bias=zca_bias if zca else None, image_norm=image_norm, threshold=threshold,
            pool=pool, pool_window=pool_window, feature_kernel=feature_kernel, gamma=gamma, lam=lam,
            dtype=dtype, block=block, filter_chunk=filter_chunk, batch=batch,
            corruption=corruption, level=level, levels=parse_levels(levels), seed=seed,
            train_subset=train_subset, test_subset=test_subset, data=data, dataset=dataset,
            crop=crop, max_memory=None if max_memory is None else int(max_memory * 2**30),
        )  # fmt: skip
    except KernelError as e:
        fail(str(e))
    enable_float64(use_backend(backend, quiet=quiet), settings.dtype)
    try:
        with _Stages(quiet) as stages:
            report = run_kernel(settings, progress=stages)
    except KernelError as e:
        fail(str(e))
    _print(report)
    if out is not None:
        from rethink.kernel.output import write_report

        for path in write_report(report, out):
            say(console, f"wrote {path}")


class _Stages:
    """A Rich progress bar per stage on a terminal, a line per stage otherwise, nothing
    if quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Progress | None = None

    def __enter__(self) -> Callable[[str, int], Callable[[], None]]:
        if not self.quiet and interactive(err_console):
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
            say(err_console, f"{name}: {total} steps")
            return lambda: None
        task = self.bar.add_task(name, total=total)
        bar = self.bar
        return lambda: bar.advance(task)


def _print(report: KernelReport) -> None:
    """The summary lines, then the results: a table on a terminal, columns of text in a log."""
    from rethink.kernel.report import HEADER

    for line in report.lines():
        say(console, line)
    if interactive(console):
        from rich.table import Table

        table = Table(*HEADER)
        for row in report.rows():
            table.add_row(*row)
        print_table(console, table)
    else:
        for row in [HEADER, *report.rows()]:
            say(console, "  ".join(row))
