"""Figure 1a: the average training loss against thousand steps, one curve per randomization.

    fig = figure_1a(runs)                         # the paper's panel: Inception
    fig = figure_1a(runs, model="alexnet")        # another model
    fig = figure_1a(runs, model=ALL_MODELS)       # the mean over the models present
    fig = figure_1a_models(runs)                  # a panel per model, and their mean

The paper's panel by default: Inception alone, or where the runs have no
Inception the first model present in the paper's order (`default_model`),
named in the title; the mean over all models (each curve interpolated onto a
common step grid first) only when asked for. Curves are means over seeds
with a min-max band, of the plain runs where there are any. The loss axis
follows the data set's classes (at most twice ln(classes)).

The curves are the windowed training loss (`Run.steps`/`train_loss`: the
mean over each `log_every` window, in training mode). With random labels it
shows a sawtooth whose period is the epoch. Every epoch draws a fresh
permutation, so an example early in an epoch was last seen about half an
epoch before and one late in it about one and a half; the labels memorized
fade in between, and the loss climbs through the epoch and drops at the
start of the next. It is real, not a logging error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from rethink import paper
from rethink.results.figures.curves import band, nanmean, plain_runs, seed_curves
from rethink.results.figures.legend import legend_handles, place_legend
from rethink.results.figures.style import (
    BAND,
    CORRUPTION_STYLE,
    HEIGHT,
    RC,
    WIDTH,
    dataset_of,
    new_figure,
)
from rethink.results.loading import Run
from rethink.results.summary import chance_loss
from rethink.spec import randomization_label
from rethink.spec.architectures import MODELS
from rethink.spec.datasets import Dataset

ALL_MODELS = "all"  # figure_1a(model=ALL_MODELS): the mean over the models present
MODEL_PANEL_COLUMNS = 3  # figure_1a_models: panels per row


def curve_runs(runs: Sequence[Run]) -> list[Run]:
    return [r for r in runs if r.summary.corruption in CORRUPTION_STYLE and len(r.steps)]


def models_present(runs: Sequence[Run]) -> list[str]:
    """The models with training-loss curves, in the paper's order (others by name after)."""
    present = {r.summary.model for r in curve_runs(runs)}
    return [m for m in MODELS if m in present] + sorted(present - set(MODELS))


def default_model(runs: Sequence[Run]) -> str | None:
    """The model of the paper's Figure 1a (`paper.FIGURE1A_MODEL`: Inception) where it has
    curves, else the first model with curves in the paper's order."""
    order = models_present(runs)
    if paper.FIGURE1A_MODEL in order:
        return paper.FIGURE1A_MODEL
    return order[0] if order else None


def _panel_runs(curves_of: Sequence[Run], model: str) -> list[Run]:
    """Figure 1a's runs of `model` (ALL_MODELS: of every model), plain ones where any."""
    return plain_runs([r for r in curves_of if model == ALL_MODELS or r.summary.model == model])


def _draw_1a(ax: Axes, chosen: Sequence[Run]) -> tuple[bool, float]:
    """Figure 1a's curves of `chosen` on `ax`, one per randomization (mean over seeds,
    min-max band); (whether a band was drawn, the highest loss drawn)."""
    banded, top = False, 0.0
    for i, (corruption, style) in enumerate(CORRUPTION_STYLE.items()):
        group = [r for r in chosen if r.summary.corruption == corruption]
        if not group:
            continue
        steps, curves = seed_curves(group)
        x, mean = steps / 1000, nanmean(curves)
        every = max(1, len(x) // 8)
        ax.plot(
            x,
            mean,
            label=randomization_label(corruption),
            markevery=(i * every // 5, every),
            **style,
        )
        banded |= band(ax, x, curves, style["color"])
        top = max(top, float(np.nanmax(curves)))
    ax.set_xlabel("thousand training steps")
    ax.set_xlim(left=0)
    return banded, top


def _loss_top(top: float, dataset: Dataset) -> float:
    """Figure 1a's upper y limit: the highest loss drawn, at most twice ln(classes)."""
    return 1.05 * min(top, 2 * chance_loss(dataset.num_classes))


def _mean_title(chosen: Sequence[Run]) -> str:
    models = sorted({r.summary.model for r in chosen})
    return models[0] if len(models) == 1 else f"mean of {len(models)} models"


def figure_1a(runs: Sequence[Run], model: str | None = None) -> Figure | None:
    """Average training loss against thousand steps, one curve per randomization.

    `model`: None for the paper's panel (`default_model`), a model's name, or
    ALL_MODELS for the mean over the models present.
    """
    curves_of = curve_runs(runs)
    if model is None:
        model = default_model(curves_of)
        if model is None:
            return None
    chosen = _panel_runs(curves_of, model)
    if not chosen:
        return None
    dataset = dataset_of(runs)
    with matplotlib.rc_context(RC):
        fig, (ax,) = new_figure(dataset=dataset)
        banded, top = _draw_1a(ax, chosen)
        ax.set_ylabel("average training loss")
        ax.set_ylim(0, _loss_top(top, dataset))
        what = _mean_title(chosen) if model == ALL_MODELS else model
        ax.set_title(f"(a) learning curves, {what}")
        place_legend(ax, legend_handles(ax, banded))
    return fig


def figure_1a_models(runs: Sequence[Run]) -> Figure | None:
    """Figure 1a for every model side by side, and the mean over them in a last panel.

    One panel per model with curves (the paper's order), each drawn as
    `figure_1a` draws it; the panels share the y axis, and the legend (every
    randomization drawn, and the band) is drawn once: in the first free place
    of the grid of panels, else below them. None unless two or more models
    have curves.
    """
    curves_of = curve_runs(runs)
    models = models_present(curves_of)
    if len(models) < 2:
        return None
    dataset = dataset_of(runs)
    panels = [*models, ALL_MODELS]
    cols = min(MODEL_PANEL_COLUMNS, len(panels))
    rows = -(-len(panels) // cols)
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(cols * WIDTH * 0.8, rows * HEIGHT * 0.85 + 0.5), layout="constrained")
        fig.suptitle(dataset.describe(), fontsize=RC["axes.titlesize"])
        grid = fig.subplots(rows, cols, sharey=True, squeeze=False)
        axes = list(grid.flat)
        spare = axes[len(panels) :]
        for ax in spare[1:]:
            fig.delaxes(ax)
        banded, top = False, 0.0
        for i, (ax, model) in enumerate(zip(axes, panels, strict=False)):
            chosen = _panel_runs(curves_of, model)
            drew_band, highest = _draw_1a(ax, chosen)
            banded, top = banded or drew_band, max(top, highest)
            ax.tick_params(which="both", direction="in", top=True, right=True)
            what = f"mean of {len(models)} models" if model == ALL_MODELS else model
            ax.set_title(what)
            if i % cols == 0:
                ax.set_ylabel("average training loss")
        axes[0].set_ylim(0, _loss_top(top, dataset))  # shared: every panel
        labels = {randomization_label(c): c for c in CORRUPTION_STYLE}
        drawn = {h.get_label(): h for ax in axes[: len(panels)] for h in ax.get_lines()}
        handles: list[Any] = [drawn[label] for label in labels if label in drawn]
        if banded:
            handles.append(Patch(facecolor="gray", alpha=0.3, label=BAND))
        if spare:  # the legend in the first free panel's place
            spare[0].set_axis_off()
            spare[0].legend(handles=handles, loc="center", frameon=False)
        else:
            fig.legend(
                handles=handles,
                loc="outside lower center",
                ncols=min(len(handles), 3),
                frameon=False,
            )
    return fig
