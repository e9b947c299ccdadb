"""`rethink report`: the reproduction against the paper's numbers, from grid folders.

    rethink report output_3                  # output_3/report.md + the tables on the terminal
    rethink report output_3 --format json    # JSON on stdout
    rethink report part1 part3 --prefer newer --out paper   # a run in both: the newer copy

Reads only the run folders (`rethink.cli.folders`), builds the report with
`rethink.results.report` and renders it with `rethink.results.render`; no
Keras. Runs on other data sets than CIFAR-10 are judged with their own chance
level and without the paper's (CIFAR-10) numbers; a grid of several data sets
gets its claims per data set.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer

from rethink.base.atomic import write_text_atomically
from rethink.cli import app, console, err_console
from rethink.cli.folders import FoldersArg, OutOption, PreferOption, expand, load, out_folder
from rethink.results.render import render_markdown, render_rich, report_dict
from rethink.results.report import build_report


class ReportFormat(StrEnum):
    md = "md"
    json = "json"


@app.command("report")
def report_command(
    folders: FoldersArg,
    out: OutOption = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", help="md: report.md and tables; json: JSON on stdout only."),
    ] = ReportFormat.md,
    prefer: PreferOption = None,
) -> None:
    """Compare a grid with the paper: protocol, runs, slowdowns, Table 1, the paper's claims.

    Only runs on the paper's protocol are compared with its numbers and judged;
    the report's header says what protocol the grid ran. On a terminal the
    tables are drawn; in a pipe or file the report is printed as Markdown
    (report.md's text). Several folders are one set: a Sources table says
    where each run came from, and the notes flag where the folders disagree.
    """
    chosen_folders = expand(folders)
    # JSON goes to stdout only: no folder to write to is needed.
    where = out_folder(chosen_folders, out) if fmt is ReportFormat.md else None
    grid = load(chosen_folders, prefer)
    report = build_report([r.summary for r in grid.runs], grid.sources, grid.skipped, grid.dropped)
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(report_dict(report), indent=2, allow_nan=False) + "\n")
        return
    assert where is not None
    path = where / "report.md"
    markdown = render_markdown(report)
    write_text_atomically(path, markdown)
    if not console.is_terminal:  # a pipe or a file: Rich would squeeze the tables to 80 columns
        sys.stdout.write(markdown.rstrip("\n") + "\n")
        err_console.print(f"wrote {path}", highlight=False)
        return
    for part in render_rich(report):  # the header, then the tables
        console.print(part)
    console.print(f"wrote {path}", highlight=False)
