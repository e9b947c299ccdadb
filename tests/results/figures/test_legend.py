"""rethink.results.figures.legend: legends placed where they hide no data."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from rethink.results.figures import (
    ALL_MODELS,
    CORRUPTION_STYLE,
    figure_1a,
    legend_hides_data,
)
from rethink.results.loading import Run, load_grid
from tests.helpers.run_folders import (
    randomization_grid,
    spec_for,
    write_run,
)
from tests.results.figures.drawn import (
    covered,
)


def test_figure_1a_legend_hides_no_curve(tmp_path: Path, grid: tuple[Run, ...]) -> None:
    # Random labels at chance until step 2000: the top right, the usual legend place, is taken.
    root = randomization_grid(tmp_path, ("inception",), (0,))
    write_run(root, spec_for("inception", "random_labels"), plateau=2000, fit_step=2300)
    runs = load_grid(root).runs
    for fig in (figure_1a(runs), figure_1a(grid), figure_1a(grid, model=ALL_MODELS)):
        assert fig is not None
        (ax,) = fig.axes
        assert covered(ax) == 0
        assert not legend_hides_data(ax)
    # The check sees a legend where the old code put it.
    fig = figure_1a(runs)
    assert fig is not None
    (ax,) = fig.axes
    ax.legend(loc="upper right", frameon=False)
    assert covered(ax) > 0 and legend_hides_data(ax)


def test_figure_1a_legend_goes_below_when_no_place_inside_is_free(tmp_path: Path) -> None:
    write_run(tmp_path, spec_for("inception", "true_labels"))
    (base,) = load_grid(tmp_path).runs
    steps = np.arange(100, 24_100, 100, dtype=float)
    runs = []
    for i, corruption in enumerate(CORRUPTION_STYLE):  # zigzags over the whole axes
        loss = np.where((np.arange(len(steps)) + i) % 2 == 0, 0.0, 2.3)
        summary = dataclasses.replace(base.summary, corruption=corruption)
        runs.append(Run(summary, steps, loss))
    fig = figure_1a(runs)
    assert fig is not None
    (ax,) = fig.axes
    assert covered(ax) == 0
    legend = ax.get_legend()
    assert legend is not None
    assert legend.get_window_extent().y1 < ax.get_window_extent().y0  # below the axes
    assert fig.get_figheight() > 2.6  # grown to hold it
