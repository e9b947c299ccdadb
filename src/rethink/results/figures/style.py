"""How the figures look: sizes, matplotlib settings, colours and markers, the empty figure.

    with matplotlib.rc_context(RC):
        fig, (ax,) = new_figure(dataset=dataset)      # one column wide, the data set above
        ax.plot(x, y, label=randomization_label(c), **CORRUPTION_STYLE[c])

Sized for a paper column (3.4 in). Colours and markers follow the paper's
Figure 1a per randomization (`CORRUPTION_STYLE`), and one per model
(`MODEL_STYLE`) where models are the lines. Every figure names its data set
above its panels (`Figure.get_suptitle()`); a figure draws one data set
(`dataset_of`). Figures are made with `Figure`, never pyplot: no GUI and no
global figure state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rethink.results.loading import Run
from rethink.results.summary import one_dataset
from rethink.spec.datasets import Dataset

WIDTH, HEIGHT = 3.4, 2.6  # inches: one column of the paper
RC: dict[Any, Any] = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 6.5,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "pdf.fonttype": 42,  # embed TrueType: editable text in the PDF
}
# The paper's Figure 1a: marker and colour per randomization, in legend order.
CORRUPTION_STYLE: dict[str, dict[str, Any]] = {
    "true_labels": {"color": "blue", "marker": "s"},
    "random_labels": {"color": "red", "marker": "o"},
    "shuffled_pixels": {"color": "green", "marker": "*", "markersize": 6},
    "random_pixels": {"color": "purple", "marker": None},
    "gaussian": {"color": "black", "marker": "D", "markersize": 3.5},
}
MODEL_STYLE: dict[str, dict[str, Any]] = {
    "inception": {"color": "tab:blue", "marker": "s"},
    "inception_no_bn": {"color": "tab:cyan", "marker": "v"},
    "alexnet": {"color": "tab:red", "marker": "o"},
    "mlp_1x512": {"color": "tab:green", "marker": "*", "markersize": 6},
    "mlp_3x512": {"color": "tab:purple", "marker": "D", "markersize": 3.5},
}
BAND = "band: min-max over seeds"
# Figure 2(b): the two Inceptions (section 3.1); training dashed, test solid.
FIG2B_STYLE: dict[str, dict[str, Any]] = {
    "inception": {"color": "tab:blue", "label": "Inception"},
    "inception_no_bn": {"color": "tab:orange", "label": "w/o BatchNorm"},
}
EARLY_STOP = "best test so far (early stopping's gain)"


def dataset_of(runs: Sequence[Run]) -> Dataset:
    """The one data set of `runs` (CIFAR-10 for none); ValueError if they mix data sets,
    which no figure draws together (`write_figures` draws each apart)."""
    return one_dataset(r.summary for r in runs)


def new_figure(rows: int = 1, dataset: Dataset | None = None) -> tuple[Figure, list[Axes]]:
    """A column-wide figure of `rows` panels stacked, sharing the x-axis, named after
    `dataset` above the panels."""
    fig = Figure(figsize=(WIDTH, HEIGHT + (rows - 1) * 0.8 * HEIGHT), layout="constrained")
    if dataset is not None:
        fig.suptitle(dataset.describe(), fontsize=RC["axes.titlesize"])
    axes = [fig.add_subplot(rows, 1, 1)]
    axes += [fig.add_subplot(rows, 1, i + 1, sharex=axes[0]) for i in range(1, rows)]
    for i, ax in enumerate(axes):
        ax.tick_params(which="both", direction="in", top=True, right=True)
        ax.tick_params(labelbottom=i == rows - 1)
    return fig, axes
