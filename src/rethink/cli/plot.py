"""`rethink plot`: the paper's Figure 1 (and 2b) from grid folders.

    rethink plot output_3                    # output_3/figures/figure1{a,b,c}.{png,pdf}
    rethink plot output_3 --model alexnet    # Figure 1a of another model (default: inception)
    rethink plot output_3 --model all        # Figure 1a as the mean over the models
    rethink plot 'results/*' --out paper     # several folders as one set (globs expanded)

Reads only the run folders (`rethink.cli.folders`), so it works on partial
and crashed grids and on folders from other machines; draws with
`rethink.results.figures` (matplotlib, imported only when drawing), never
Keras. A grid of several data sets gets its figures in figures/<data set>/.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from rethink.cli import app, console, fail
from rethink.cli.folders import (
    FoldersArg,
    OutOption,
    PreferOption,
    expand,
    folders_text,
    load,
    out_folder,
)
from rethink.models import MODELS
from rethink.paper import FIGURE1A_MODEL as PAPER_MODEL
from rethink.results.loading import Run

FIGURE_FORMATS = ("png", "pdf", "svg")
ALL_MODELS = "all"  # --model all: the mean over models (rethink.results.figures.ALL_MODELS)


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
    where = out_folder(chosen_folders, out)
    grid = load(chosen_folders, prefer)
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
