"""rethink.results.figures.figure1bc: time to fit and test error against the level."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rethink.results.figures import (
    BAND,
    figure_1b,
    figure_1c,
)
from rethink.results.loading import Run, load_grid
from tests.helpers.run_folders import (
    error_at_level,
    level_sweep,
    spec_for,
    write_run,
)
from tests.results.figures.drawn import (
    covered,
    legend_texts,
    open_markers,
)


def test_figure_1b_time_to_fit_per_model(sweep: tuple[Run, ...], grid: tuple[Run, ...]) -> None:
    fig = figure_1b(sweep)
    assert fig is not None
    (ax,) = fig.axes  # every run fitted: no second panel
    assert [line.get_label() for line in ax.get_lines()] == ["alexnet", "mlp_1x512"]
    assert ax.get_xlabel() == "label corruption" and "steps to fit" in ax.get_ylabel()
    assert "100% training accuracy" in ax.get_title()
    line = ax.get_lines()[1]
    expected = []
    for p in sorted({r.summary.level for r in sweep if r.summary.model == "mlp_1x512"}):
        fits = [
            r.summary.steps_to_fit
            for r in sweep
            if r.summary.model == "mlp_1x512" and r.summary.level == p
        ]
        expected.append(sum(fits) / len(fits) / 1000)
    np.testing.assert_allclose(line.get_ydata(), expected)
    assert BAND in legend_texts(fig) and not open_markers(ax)
    assert covered(ax) == 0
    assert figure_1b(grid) is None  # two levels only: no sweep


def test_figure_1b_unfitted_runs_are_open_markers_on_top(unfitted: tuple[Run, ...]) -> None:
    fig = figure_1b(unfitted)
    assert fig is not None
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo <= 0 and hi >= 1  # the grid's levels, not just the one that fitted
    assert "100% training accuracy" in ax.get_title()
    (line,) = [line for line in ax.get_lines() if line.get_label() == "mlp_1x512"]
    y = np.asarray(line.get_ydata(), dtype=float)
    assert y[0] == pytest.approx(0.6) and np.isnan(y[1:]).all()
    (markers,) = open_markers(ax)
    assert list(markers.get_xdata()) == pytest.approx([0.5, 1.0])
    fig.draw_without_rendering()
    xy = markers.get_transform().transform(np.column_stack(markers.get_data()).astype(float))
    box = ax.get_window_extent()
    assert (xy[:, 1] > box.y0 + 0.85 * box.height).all() and (xy[:, 1] <= box.y1).all()
    assert "not fitted within 2,400 steps" in legend_texts(fig)
    assert covered(ax) == 0


def test_figure_1b_threshold_in_use_is_in_the_title(tmp_path: Path) -> None:
    for p, corruption in ((0.0, "true_labels"), (0.5, "partial_labels"), (1.0, "random_labels")):
        level = {"level": p} if corruption == "partial_labels" else {}
        write_run(tmp_path, spec_for("alexnet", corruption, fit_threshold=0.95, **level))
    fig = figure_1b(load_grid(tmp_path).runs)
    assert fig is not None
    assert "95% training accuracy" in fig.axes[0].get_title()
    assert "100%" not in fig.axes[0].get_title()


def test_figure_1b_second_panel_time_to_99_percent(unfitted: tuple[Run, ...]) -> None:
    fig = figure_1b(unfitted)
    assert fig is not None
    top, low = fig.axes
    assert low.get_title() == "time to 99% training accuracy (window mean)"
    assert "99%" in low.get_ylabel() and low.get_xlabel() == "label corruption"

    def first_99(run: Run) -> float:  # from metrics.csv: first full 100-step window at 99%
        steps, acc = run.curve("train_acc")
        return next(s for s, a in zip(steps, acc, strict=True) if s % 100 == 0 and a >= 0.99)

    by_level = {r.summary.level: r for r in unfitted}
    (line,) = [line for line in low.get_lines() if line.get_label() == "mlp_1x512"]
    y = np.asarray(line.get_ydata(), dtype=float)
    np.testing.assert_allclose(
        y[:2], [first_99(by_level[0.0]) / 1000, first_99(by_level[0.5]) / 1000]
    )
    assert y[1] > y[0] and np.isnan(y[2])
    assert by_level[0.5].summary.steps_to_fit is None  # 99% but never 100%
    (markers,) = open_markers(low)
    assert list(markers.get_xdata()) == pytest.approx([1.0])  # random labels: not even 99%
    assert "not at 99% within 2,400 steps" in legend_texts(fig, 1)
    assert covered(top) == 0 and covered(low) == 0
    only_fitted = [r for r in unfitted if r.summary.level != 0.5]
    one = figure_1b([*only_fitted, by_level[0.5]], lower=0.9)
    assert one is not None and "time to 90% training accuracy" in one.axes[1].get_title()


def test_figure_1b_marks_a_seed_that_never_fit(tmp_path: Path) -> None:
    level_sweep(tmp_path, ("mlp_1x512",), levels=(0.0, 0.5, 1.0))
    write_run(tmp_path, spec_for("mlp_1x512", "partial_labels", 1, level=0.5), fit_step=None)
    fig = figure_1b(load_grid(tmp_path).runs)
    assert fig is not None
    ax = fig.axes[0]
    y = ax.get_lines()[0].get_ydata()
    assert np.isnan(y[1]) and np.isfinite(y[[0, 2]]).all()
    (markers,) = open_markers(ax)
    assert list(markers.get_xdata()) == pytest.approx([0.5])
    fitted_seed = [line for line in ax.get_lines() if line.get_alpha() == 0.6]
    assert [list(line.get_xdata()) for line in fitted_seed] == [[0.5]]  # the seed that fitted
    assert "not fitted within 2,400 steps" in legend_texts(fig)


def test_figure_1c_test_error_per_model(sweep: tuple[Run, ...]) -> None:
    fig = figure_1c(sweep)
    assert fig is not None
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["alexnet", "mlp_1x512", "chance (90%)"]
    assert ax.get_ylabel() == "test error"
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [error_at_level(p) for p in line.get_xdata()])
    assert covered(ax) == 0


def test_figure_1c_needs_completed_runs_at_two_levels(tmp_path: Path) -> None:
    write_run(tmp_path, spec_for("mlp_1x512", "true_labels"))
    write_run(tmp_path, spec_for("mlp_1x512", "random_labels"), stop_at=500)
    assert figure_1c(load_grid(tmp_path).runs) is None
