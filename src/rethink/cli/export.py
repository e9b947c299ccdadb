"""`rethink export`: a grid folder's metrics in another format (TensorBoard)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from rethink.cli import app, console, fail


class ExportFormat(StrEnum):
    tensorboard = "tensorboard"


@app.command("export")
def export_command(
    folder: Annotated[Path, typer.Argument(help="A grid folder, or one run folder.")],
    to: Annotated[ExportFormat, typer.Option("--to", help="The format.")] = (
        ExportFormat.tensorboard
    ),
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write (default: FOLDER/tensorboard).", show_default=False),
    ] = None,
) -> None:
    """Export the runs' metrics: TensorBoard event files, one folder per run.

    Then: tensorboard --logdir FOLDER/tensorboard. Needs the tensorboard package
    (pip install 'rethink-generalization[tensorboard]'), not TensorFlow.
    """
    from rethink.results.summary import load_grid
    from rethink.results.tensorboard import ExportError, export

    if not folder.is_dir():
        fail(f"{folder}: no such folder")
    grid = load_grid(folder)
    if not grid.runs:
        fail(f"{folder}: no run folders (folders holding a spec.json)")
    target = out if out is not None else folder / "tensorboard"
    try:
        written = export(grid, target)
    except (ExportError, OSError) as e:
        fail(str(e))
    console.print(f"wrote {len(written)} runs to {target}; view: tensorboard --logdir {target}")
