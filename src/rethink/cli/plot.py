"""`rethink plot` and `rethink report`: Figure 1 and Table 1 from a grid folder.

    rethink plot output_3                    # output_3/figures/figure1{a,b,c}.{png,pdf}
    rethink plot output_3 --model alexnet    # Figure 1a of another model (default: inception)
    rethink plot output_3 --model all        # Figure 1a as the mean over the models
    rethink report output_3                  # output_3/report.md + the tables on the terminal
    rethink report output_3 --format json    # JSON on stdout
    rethink plot 'results/*' --out paper     # several folders as one set (globs expanded)
    rethink report part1 part3 --prefer newer --out paper   # a run in both: the newer copy

Both read only the run folders, so they work on partial and crashed grids
and on folders from other machines. Neither imports Keras. Several folders
(grid folders, run folders, folders of grids; a quoted glob is expanded
here, on every OS) are read as one set (`rethink.results.summary.load_grids`);
their outputs go to `--out`, which several folders require. The same run in
two folders is an error unless `--prefer newer` or `--prefer first` says
which copy to keep. Runs on other data sets than CIFAR-10 are judged with
their own chance level and without the paper's (CIFAR-10) numbers; a grid of
several data sets gets its claims per data set, and its figures in
figures/<data set>/.
"""

from __future__ import annotations

import glob
import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from rethink.base.atomic import write_text_atomically
from rethink.cli import app, console, err_console, fail
from rethink.models import MODELS
from rethink.results.render import render_markdown, render_rich
from rethink.results.render import report_dict as _report_dict
from rethink.results.report import build_report
from rethink.results.summary import DuplicateRunError, Grid, Run, load_grids, run_dirs

FIGURE_FORMATS = ("png", "pdf", "svg")
ALL_MODELS = (
    "all"  # --model all: Figure 1a as the mean over models (rethink.results.figures.ALL_MODELS)
)
PAPER_MODEL = "inception"  # the paper's Figure 1a (rethink.results.figures.PAPER_MODEL)


class ReportFormat(StrEnum):
    md = "md"
    json = "json"


class Prefer(StrEnum):
    newer = "newer"
    first = "first"


FoldersArg = Annotated[
    list[Path],
    typer.Argument(
        help="Grid folders (run folders below them), run folders or folders of grids, read "
        "as one set; a quoted glob ('results/*') is expanded.",
        show_default=False,
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Write here instead of the grid folder (required for several folders).",
        show_default=False,
    ),
]
PreferOption = Annotated[
    Prefer | None,
    typer.Option(
        "--prefer",
        help="The same run in two folders: keep the newer copy (a finished run first, "
        "then the later start) or the one in the folder given first. Default: an error.",
        show_default=False,
    ),
]
GLOB_CHARS = "*?["


def expand(args: Sequence[Path]) -> list[Path]:
    """The folders named: an argument with a glob character that is no existing path is
    expanded (sorted; the folders it matches); the same folder named twice counts once.
    One-line error for a missing folder or a pattern that matches none."""
    folders: dict[Path, Path] = {}
    for arg in args:
        text = str(arg)
        if not arg.exists() and any(c in text for c in GLOB_CHARS):
            matches = [Path(m) for m in sorted(glob.glob(text)) if Path(m).is_dir()]
            if not matches:
                fail(f"{text}: no folder matches")
        elif not arg.is_dir():
            fail(f"{arg}: {'not a folder' if arg.exists() else 'no such folder'}")
        else:
            matches = [arg]
        for m in matches:
            folders.setdefault(m.resolve(), m)
    return list(folders.values())


def folders_text(folders: Sequence[Path]) -> str:
    """'output_3', or '3 folders: a, b, c'."""
    if len(folders) == 1:
        return str(folders[0])
    return f"{len(folders)} folders: " + ", ".join(map(str, folders))


def _out(folders: Sequence[Path], out: Path | None) -> Path:
    """Where outputs go: --out, else the one folder; several folders need --out."""
    if out is not None:
        return out
    if len(folders) > 1:
        fail("several folders: say where to write with --out DIR")
    return folders[0]


def _load(folders: Sequence[Path], prefer: Prefer | None) -> Grid:
    try:
        grid = load_grids(folders, None if prefer is None else prefer.value)
    except DuplicateRunError as e:
        fail(str(e))
    if not grid.runs:
        why = f" ({len(grid.skipped)} with an unreadable spec.json)" if grid.skipped else ""
        fail(f"{folders_text(folders)}: no run folders (folders holding a spec.json){why}")
    for path in grid.skipped:
        err_console.print(f"skipped {path}: unreadable spec.json", highlight=False)
    if len(folders) > 1:  # one folder without runs among several: say so, go on
        for folder in grid.sources:
            if not run_dirs(Path(folder)):
                err_console.print(f"no run folders in {folder}", highlight=False, soft_wrap=True)
    for d in grid.dropped:
        err_console.print(
            f"dropped {d.path}: the same run as {d.kept} (--prefer {d.prefer})",
            highlight=False,
            soft_wrap=True,
        )
    return grid


def _formats(text: str) -> list[str]:
    formats = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad or not formats:
        fail(f"unknown figure format {', '.join(bad) or repr(text)}; choose from png, pdf, svg")
    return list(dict.fromkeys(formats))


def _figure_model(model: str | None, runs: Sequence[Run], folder: str) -> str | None:
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
    folders: FoldersArg,
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
    prefer: PreferOption = None,
) -> None:
    """Draw the paper's Figure 1 (a: loss curves, b: time to fit, c: test error).

    With two or more models, also figure1a_models: Figure 1a of every model
    side by side and their mean.
    """
    fmts = _formats(formats)
    chosen_folders = expand(folders)
    where = _out(chosen_folders, out)
    grid = _load(chosen_folders, prefer)
    folder = folders_text(chosen_folders)
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
        grid.runs,
        out or where / "figures",
        model=chosen,
        per_model=per_model,
        formats=fmts,
    )
    for message in skipped:
        console.print(f"skipped {message}", highlight=False)
    for path in written:
        console.print(f"wrote {path}", highlight=False)


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
    where = _out(chosen_folders, out) if fmt is ReportFormat.md else None
    grid = _load(chosen_folders, prefer)
    report = build_report([r.summary for r in grid.runs], grid.sources, grid.skipped, grid.dropped)
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(_report_dict(report), indent=2, allow_nan=False) + "\n")
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
