"""`rethink plot` and `rethink report`: Figure 1 and Table 1 from a grid folder.

    rethink plot output_3                    # output_3/figures/figure1{a,b,c}.{png,pdf}
    rethink plot output_3 --model alexnet    # Figure 1a of another model (default: inception)
    rethink plot output_3 --model all        # Figure 1a as the mean over the models
    rethink report output_3                  # output_3/report.md + the tables on the terminal
    rethink report output_3 --format json    # JSON on stdout

Both read only the run folders, so they work on partial and crashed grids
and on folders from other machines. Neither imports Keras. Runs on other
data sets than CIFAR-10 are judged with their own chance level and without
the paper's (CIFAR-10) numbers; a grid of several data sets gets its claims
per data set, and its figures in figures/<data set>/.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from rethink.atomic import write_text_atomically
from rethink.cli import app, console, err_console, fail
from rethink.models import MODELS
from rethink.results.render import render_markdown, render_rich
from rethink.results.render import report_dict as _report_dict
from rethink.results.report import build_report
from rethink.results.summary import Grid, Run, load_grid

FIGURE_FORMATS = ("png", "pdf", "svg")
ALL_MODELS = (
    "all"  # --model all: Figure 1a as the mean over models (rethink.results.figures.ALL_MODELS)
)
PAPER_MODEL = "inception"  # the paper's Figure 1a (rethink.results.figures.PAPER_MODEL)


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


def _figure_model(model: str | None, runs: Sequence[Run], folder: Path) -> str | None:
    """Check --model against the grid: a model it holds, "all", or None (the paper's)."""
    if model is None:
        return None
    model = model.strip().lower()
    if model == ALL_MODELS:
        return model
    if model not in MODELS:
        fail(f"unknown model {model!r}; choose from {', '.join(MODELS)} or {ALL_MODELS}")
    held = [m for m in MODELS if any(r.summary.model == m for r in runs)]
    if model not in held:
        fail(
            f"no runs of model {model!r} in {folder}; it holds {', '.join(held)} (or {ALL_MODELS})"
        )
    return model


@app.command("plot")
def plot_command(
    folder: FolderArg,
    out: OutOption = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Figure 1a (figure1a_MODEL) for this model, or 'all' for the mean over the "
            "models. Default: figure1a, the paper's panel: inception, else the first model "
            "present in the paper's order.",
            show_default=False,
        ),
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
    chosen = _figure_model(model, grid.runs, folder)
    from rethink.results.figures import (  # matplotlib: only when drawing
        default_model,
        write_figures,
    )

    if chosen is None and (paper := default_model(grid.runs)) not in (None, PAPER_MODEL):
        console.print(
            f"figure1a: {paper} (no {PAPER_MODEL} curves in {folder}; --model to choose)",
            highlight=False,
        )
    written, skipped = write_figures(
        grid.runs, out or folder / "figures", model=chosen, per_model=per_model, formats=fmts
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
    """Compare a grid with the paper: protocol, runs, slowdowns, Table 1, the paper's claims.

    Only runs on the paper's protocol are compared with its numbers and judged;
    the report's header says what protocol the grid ran. On a terminal the
    tables are drawn; in a pipe or file the report is printed as Markdown
    (report.md's text).
    """
    grid = _load(folder)
    report = build_report([r.summary for r in grid.runs], str(folder), grid.skipped)
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(_report_dict(report), indent=2, allow_nan=False) + "\n")
        return
    path = (out or folder) / "report.md"
    markdown = render_markdown(report)
    write_text_atomically(path, markdown)
    if not console.is_terminal:  # a pipe or a file: Rich would squeeze the tables to 80 columns
        sys.stdout.write(markdown.rstrip("\n") + "\n")
        err_console.print(f"wrote {path}", highlight=False)
        return
    for part in render_rich(report):  # the header, then the tables
        console.print(part)
    console.print(f"wrote {path}", highlight=False)
