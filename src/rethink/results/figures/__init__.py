"""Figures 1 and 2(b) of the paper from a set of runs: matplotlib Figure objects, no pyplot.

    grid = load_grid(Path("output_3"))
    fig = figure_1a(grid.runs)                        # (a) loss vs thousand steps, Inception
    fig = figure_1a(grid.runs, model="alexnet")       # ... another model
    fig = figure_1a(grid.runs, model=ALL_MODELS)      # ... the mean over the models present
    fig = figure_1a_models(grid.runs)                 # ... a panel per model, and their mean
    fig = figure_1b(grid.runs)                        # (b) steps to fit vs corruption level
    fig = figure_1c(grid.runs)                        # (c) test error vs corruption level
    fig = figure_2b(grid.runs)                        # 2(b) Inception with/without BatchNorm
    fig = figure_clean_changed(grid.runs)             # beyond the paper: memorization, example
    fig = figure_first_learned(grid.runs)             # by example (runs with corrupted labels)
    fig = figure_forgetting(grid.runs)
    written, skipped = write_figures(grid.runs, Path("output_3/figures"))

Each function returns None when there is nothing to draw. The modules:
`figure1a`, `figure1bc` (against the label-corruption level), `figure2b`,
`memorization` (clean against changed labels, first-learned steps, forgetting),
`files` (writing them all), and what they share: `style` (sizes, colours,
the empty figure), `curves` (means over seeds on common steps, the min-max
band) and `legend` (legends placed where they hide no data).

Every figure names its data set above the panels (`Figure.get_suptitle()`:
"cifar10: 10 classes of 32x32x3 images"), so a figure set in a paper says
what it shows; Figure 1a's loss axis and Figure 1c's chance line follow the
data set's classes (loss ln(classes), test error 1 - 1/classes). A figure
draws the runs of one data set: `write_figures` draws each data set of a
set that mixes them into a folder of its own.

This package imports matplotlib; nothing else in rethink.results does, and
the CLI imports it only when drawing.
"""

from rethink.results.figures.curves import mean_curve, seed_curves
from rethink.results.figures.figure1a import (
    ALL_MODELS,
    default_model,
    figure_1a,
    figure_1a_models,
)
from rethink.results.figures.figure1bc import chance_label, figure_1b, figure_1c
from rethink.results.figures.figure2b import figure_2b
from rethink.results.figures.files import save_figure, write_figures
from rethink.results.figures.legend import legend_hides_data
from rethink.results.figures.memorization import (
    figure_clean_changed,
    figure_first_learned,
    figure_forgetting,
)
from rethink.results.figures.style import BAND, CORRUPTION_STYLE, EARLY_STOP, FIG2B_STYLE

__all__ = [
    "ALL_MODELS",
    "BAND",
    "CORRUPTION_STYLE",
    "EARLY_STOP",
    "FIG2B_STYLE",
    "chance_label",
    "default_model",
    "figure_1a",
    "figure_1a_models",
    "figure_1b",
    "figure_1c",
    "figure_2b",
    "figure_clean_changed",
    "figure_first_learned",
    "figure_forgetting",
    "legend_hides_data",
    "mean_curve",
    "save_figure",
    "seed_curves",
    "write_figures",
]
