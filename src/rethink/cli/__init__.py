"""The `rethink` command line: a thin Typer app that parses and wires.

Each command lives in its own module below and registers itself on `app`.
Keras is imported only inside commands, after `backend.select()`, so
`rethink --help` is instant and the backend is never fixed by accident.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from rethink.train.steppers import Engine

app = typer.Typer(
    name="rethink",
    help="Randomization tests of Zhang et al. (ICLR 2017) on any Keras 3 backend.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from rethink import DISTRIBUTION, __version__

        console.print(f"rethink {__version__} ({DISTRIBUTION})", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Randomization tests of Zhang et al. (ICLR 2017) on any Keras 3 backend."""


BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        "-b",
        help="Keras backend: tensorflow, torch or jax (default: $KERAS_BACKEND, else the first installed).",
        show_default=False,
    ),
]

LoopOption = Annotated[
    str,
    typer.Option(
        help="How steps run: keras (fit()), native (JAX/torch: data on the device, "
        "several steps per dispatch) or auto (native where it exists). Same metrics."
    ),
]
StepsOption = Annotated[
    int | None,
    typer.Option(
        help="Most steps per dispatch (default: chosen per loop and device). Same metrics.",
        show_default=False,
    ),
]
TorchCompileOption = Annotated[
    str,
    typer.Option(
        help="torch.compile the native torch step: off, cudagraphs, inductor, aot_eager "
        "or auto (cudagraphs on a CUDA GPU, else off); falls back to eager if it fails."
    ),
]

# The same, for commands where "not given" differs from the default (grid, bench).
GivenLoopOption = Annotated[
    str | None,
    typer.Option(
        "--loop", help="keras, native or auto (default), as `rethink run`.", show_default=False
    ),
]
GivenTorchCompileOption = Annotated[
    str | None,
    typer.Option(
        "--torch-compile",
        help="off, cudagraphs, inductor, aot_eager or auto (default), as `rethink run`.",
        show_default=False,
    ),
]


def make_engine(
    extra: Mapping[str, Any], loop: str, steps_per_execution: int | None, torch_compile: str
) -> Engine:
    """The engine of the options, overridden by a spec's `extra`; exits on bad values."""
    from rethink.train.steppers import Engine, EngineError

    try:
        base = Engine(loop, steps_per_execution, torch_compile)
        return Engine.from_extra(extra, base)
    except (EngineError, TypeError, ValueError) as e:
        fail(str(e))


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error and exit non-zero (2: bad input)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def use_backend(requested: str | None, quiet: bool = False, in_process: bool = True) -> str:
    """Select the backend (for this process, or only its workers) or exit with one line."""
    from rethink.train.backend import BackendError, select

    try:
        name, how = select(requested, in_process=in_process)
    except BackendError as e:
        fail(str(e))
    if how == "first installed" and not quiet:
        err_console.print(f"backend: {name} (first installed; choose with --backend)")
    return name


def _register() -> None:
    # Imported for their side effect: each adds its command(s) to `app`.
    from rethink.cli import bench, construct, grid, kernel, models, plot, run  # noqa: F401


def main() -> None:
    _register()
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
