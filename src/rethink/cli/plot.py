"""`rethink plot` and `rethink report`: Figure 1 and Table 1 from a grid folder.

    rethink plot output_3                    # output_3/figures/figure1{a,b,c}.{png,pdf}
    rethink plot output_3 --model inception  # the paper's panel: one model
    rethink report output_3                  # output_3/report.md + the tables on the terminal
    rethink report output_3 --format json    # JSON on stdout

Both read only the run folders, so they work on partial and crashed grids
and on folders from other machines. Neither imports Keras.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from rethink.atomic import write_text_atomically
from rethink.cli import app, console, err_console, fail
from rethink.report import build_report
from rethink.report_render import render_markdown, render_rich
from rethink.report_render import report_dict as _report_dict
from rethink.summary import Grid, load_grid

FIGURE_FORMATS = ("png", "pdf", "svg")


class ReportFormat(StrEnum):
    md = "md"
    json = "json"


FolderArg = Annotated[
    Path, typer.Argument(help="A grid folder (run folders below it), or one run folder.")
]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="Write here instead of the grid folder.", show_default=False),
]


def _load(folder: Path) -> Grid:
    if not folder.is_dir():
        fail(f"{folder}: no such folder")
    grid = load_grid(folder)
    if not grid.runs:
        why = f" ({len(grid.skipped)} with an unreadable spec.json)" if grid.skipped else ""
        fail(f"{folder}: no run folders (folders holding a spec.json){why}")
    for path in grid.skipped:
        err_console.print(f"skipped {path}: unreadable spec.json", highlight=False)
    return grid


def _formats(text: str) -> list[str]:
    formats = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad or not formats:
        fail(f"unknown figure format {', '.join(bad) or repr(text)}; choose from png, pdf, svg")
    return list(dict.fromkeys(formats))


@app.command("plot")
def plot_command(
    folder: FolderArg,
    out: OutOption = None,
    model: Annotated[
        str | None,
        typer.Option(help="Figure 1a for this model only (the paper's panel: inception)."),
    ] = None,
    per_model: Annotated[
        bool, typer.Option("--per-model", help="Also one Figure 1a per model.")
    ] = False,
    formats: Annotated[
        str, typer.Option("--format", help="Comma-separated: png, pdf, svg.")
    ] = "png,pdf",
) -> None:
    """Draw the paper's Figure 1 (a: loss curves, b: time to fit, c: test error)."""
    fmts = _formats(formats)
    grid = _load(folder)
    models = sorted({r.summary.model for r in grid.runs})
    if model is not None and model not in models:
        fail(f"no runs of model {model!r} in {folder}; it holds {', '.join(models)}")
    from rethink.figures import write_figures  # matplotlib: only when drawing

    written, skipped = write_figures(
        grid.runs, out or folder / "figures", model=model, per_model=per_model, formats=fmts
    )
    for message in skipped:
        console.print(f"skipped {message}", highlight=False)
    for path in written:
        console.print(f"wrote {path}", highlight=False)


@app.command("report")
def report_command(
    folder: FolderArg,
    out: OutOption = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", help="md: report.md and tables; json: JSON on stdout only."),
    ] = ReportFormat.md,
) -> None:
    """Compare a grid with the paper: runs, slowdowns, Table 1, the paper's claims."""
    grid = _load(folder)
    report = build_report([r.summary for r in grid.runs], str(folder), grid.skipped)
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(_report_dict(report), indent=2, allow_nan=False) + "\n")
        return
    path = (out or folder) / "report.md"
    write_text_atomically(path, render_markdown(report))
    for table in render_rich(report):
        console.print(table)
    console.print(f"wrote {path}", highlight=False)
