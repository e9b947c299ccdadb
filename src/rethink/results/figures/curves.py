"""Curves over seeds: runs' metrics interpolated onto common steps, averaged, with a band.

    steps, curves = seed_curves(runs)        # one row per seed (the mean over models)
    nanmean(curves)                           # the mean over seeds, NaN where none logged
    band(ax, steps, curves, "red")            # the min-max over seeds, shaded
    mean_curve(runs, "test_acc")              # (2, n): steps and the mean of a column

A run that stopped early (partial or diverged) leaves the mean to the runs
that reached a step: every curve is NaN outside the steps it logged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes

from rethink.results.loading import Run

MAX_POINTS = 1000  # points of the common step grid


def plain_runs(runs: Sequence[Run]) -> list[Run]:
    """Runs of the randomization tests (no weight decay, no augmentation), else all."""
    return [r for r in runs if r.summary.plain] or list(runs)


def nanmean(a: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(a, axis=0) / np.isfinite(a).sum(axis=0)


def _step_grid(runs: Sequence[Run]) -> np.ndarray:
    steps = np.unique(np.concatenate([r.steps for r in runs]))
    if len(steps) > MAX_POINTS:
        steps = np.linspace(steps[0], steps[-1], MAX_POINTS)
    return steps


def _interp(grid: np.ndarray, steps: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`values` logged at `steps` interpolated onto `grid`; NaN outside the steps logged."""
    return np.interp(grid, steps, values, left=np.nan, right=np.nan)


def _on_grid(run: Run, grid: np.ndarray) -> np.ndarray:
    """The run's loss interpolated onto `grid`; NaN outside the steps it logged."""
    return _interp(grid, run.steps, run.train_loss)


def seed_curves(runs: Sequence[Run]) -> tuple[np.ndarray, np.ndarray]:
    """(steps, curves): one row per seed, each the mean over the models of that seed.

    Where a run has stopped (partial or diverged), a mean is over the runs
    that reached that step.
    """
    grid = _step_grid(runs)
    rows = []
    for seed in sorted({r.summary.seed for r in runs}):
        stack = np.stack([_on_grid(r, grid) for r in runs if r.summary.seed == seed])
        rows.append(nanmean(stack))
    return grid, np.stack(rows)


def band(ax: Axes, x: np.ndarray, curves: np.ndarray, color: str) -> bool:
    if curves.shape[0] < 2:
        return False
    lo, hi = np.fmin.reduce(curves, axis=0), np.fmax.reduce(curves, axis=0)
    ax.fill_between(x, lo, hi, color=color, alpha=0.2, linewidth=0)
    return True


def mean_curve(runs: Sequence[Run], column: str, best_so_far: bool = False) -> np.ndarray:
    """(2, n): the steps where any run logged `column`, and the mean over the runs there.

    Each run is interpolated onto those steps (NaN outside its own), so a run
    that stopped early leaves the mean to the others. `best_so_far`: each
    run's cumulative maximum instead of its values.
    """
    curves = [r.curve(column) for r in runs]
    grid = np.unique(np.concatenate([steps for steps, _ in curves]))
    stack = np.stack(
        [
            _interp(grid, steps, np.maximum.accumulate(values) if best_so_far else values)
            for steps, values in curves
        ]
    )
    return np.stack([grid, nanmean(stack)])
