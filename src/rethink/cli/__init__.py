"""The `rethink` command line: a thin Typer app that parses and wires.

Each command lives in its own module below and registers itself on `app`.
Keras is imported only inside commands, after `backend.select()`, so
`rethink --help` is instant and the backend is never fixed by accident.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup


def _error_types() -> tuple[Any, Any]:
    """(ClickException, Abort) of the Click that Typer runs on: its own copy in
    Typer >= 0.2x, Click itself before."""
    for errors, aborts in (
        ("typer._click.exceptions", "typer.exceptions"),
        ("click.exceptions", "click.exceptions"),
    ):
        try:
            return (
                importlib.import_module(errors).ClickException,
                importlib.import_module(aborts).Abort,
            )
        except (ImportError, AttributeError):
            continue
    raise ImportError("Typer's Click is not importable")


_UsageErrors, _Abort = _error_types()

if TYPE_CHECKING:
    from rethink.train.steppers import Execution


class _OneLineErrors(TyperGroup):
    """The app's group: a usage error (an unknown choice, a missing option, a bad number)
    is one line and exit code 2, like every other bad input, not Typer's error panel."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        def run() -> Any:
            return super(_OneLineErrors, self).main(
                args,
                prog_name,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )

        if not standalone_mode:
            return run()
        try:
            code = run()
        except _UsageErrors as e:
            if type(e).__name__ == "NoArgsIsHelpError":  # `rethink` alone: the help
                e.show()
                sys.exit(e.exit_code)
            message = " ".join(e.format_message().split())
            err_console.print(
                f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True
            )
            sys.exit(e.exit_code)
        except _Abort:
            err_console.print("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
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


def make_execution(options: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Execution:
    """The Execution of `options` (loop, steps_per_execution, torch_compile; defaults where
    absent), overridden by a spec's `extra`; one line and exit 2 for bad values."""
    from rethink.train.steppers import Execution, ExecutionError

    try:
        return Execution.from_extra(extra or {}, Execution(**options))
    except (ExecutionError, TypeError, ValueError) as e:
        fail(str(e))


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error and exit non-zero (2: bad input)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def parse_levels(values: str | Sequence[str] | None) -> tuple[float, ...] | None:
    """`--levels 0,0.5,1` (given once or more) as numbers; one line and exit 2 for
    anything that is not one (their range is the spec's to check)."""
    if values is None:
        return None
    given = [values] if isinstance(values, str) else list(values)
    levels = []
    for item in (x.strip() for v in given for x in v.split(",")):
        if not item:
            continue
        try:
            levels.append(float(item))
        except ValueError:
            fail(f"bad corruption level {item!r}: give numbers in [0, 1], e.g. --levels 0,0.5,1")
    return tuple(levels)


def use_backend(requested: str | None, quiet: bool = False, in_process: bool = True) -> str:
    """Select the backend (for this process, or only its workers) or exit with one line."""
    from rethink.base.backend import BackendError, select

    try:
        name, how = select(requested, in_process=in_process)
    except BackendError as e:
        fail(str(e))
    if how == "first installed" and not quiet:
        err_console.print(f"backend: {name} (first installed; choose with --backend)")
    return name


def _register() -> None:
    # Imported for their side effect: each adds its command(s) to `app`.
    from rethink.cli import bench, construct, export, grid, kernel, models, plot, report, run  # noqa: F401


def main() -> None:
    _register()
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
