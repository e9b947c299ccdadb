"""`rethink export`: a grid folder's runs in another form.

    rethink export output_3 --to tensorboard     # output_3/tensorboard/<run>/ event files
    rethink export output_3 --to compact         # output_3-compact/: only what results need
    rethink export output_3 --to compact --out results/part1-inception

Both read only the run folders (rethink.results.tensorboard, rethink.results.compact).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from rethink.cli import app, console, fail


class ExportFormat(StrEnum):
    tensorboard = "tensorboard"
    compact = "compact"


@app.command("export")
def export_command(
    folder: Annotated[
        Path, typer.Argument(help="A grid folder, one run folder, or (compact) a folder of grids.")
    ],
    to: Annotated[ExportFormat, typer.Option("--to", help="The format.")] = (
        ExportFormat.tensorboard
    ),
    out: Annotated[
        Path | None,
        typer.Option(
            help="Where to write (default: FOLDER/tensorboard; for compact, FOLDER-compact "
            "beside FOLDER, which must not exist or be empty).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Export the runs: TensorBoard event files, or a compact copy for keeping.

    tensorboard: one event file per run; then tensorboard --logdir FOLDER/tensorboard.
    Needs the tensorboard package (pip install 'rethink-generalization[tensorboard]'),
    not TensorFlow.

    compact: a copy holding only what plot and report read (grid.json; per run
    spec.json, env.json, result.json, metrics.csv), about 30 KB per paper-length
    run: no checkpoints, models, logs or figures. Written whole or not at all.
    """
    if not folder.is_dir():
        fail(f"{folder}: no such folder")
    if to is ExportFormat.compact:
        _export_compact(folder, out)
        return
    from rethink.results.loading import load_grid
    from rethink.results.tensorboard import ExportError, export

    grid = load_grid(folder)
    if not grid.runs:
        fail(f"{folder}: no run folders (folders holding a spec.json)")
    target = out if out is not None else folder / "tensorboard"
    try:
        written = export(grid, target)
    except (ExportError, OSError) as e:
        fail(str(e))
    console.print(f"wrote {len(written)} runs to {target}; view: tensorboard --logdir {target}")


def _export_compact(folder: Path, out: Path | None) -> None:
    from rethink.results.compact import CompactError, compact

    resolved = folder.resolve()
    target = out if out is not None else resolved.with_name(f"{resolved.name}-compact")
    try:
        copy = compact(folder, target)
    except (CompactError, OSError) as e:
        fail(str(e))
    runs = f"{len(copy.runs)} run{'s' if len(copy.runs) != 1 else ''}"
    _say(f"wrote {runs} ({copy.size / 1024:,.0f} KiB) to {target}")
    if copy.unfinished:
        shown = ", ".join(copy.unfinished[:3]) + (", ..." if len(copy.unfinished) > 3 else "")
        _say(
            f"{len(copy.unfinished)} of them unfinished (stopped, failed or no result.json): {shown}"
        )


def _say(line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)
