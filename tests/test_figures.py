"""rethink.figures: Figure 1 a/b/c from fake run folders (curves, labels, legend, files)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from rethink.figures import (
    BAND,
    CORRUPTION_STYLE,
    figure_1a,
    figure_1b,
    figure_1c,
    seed_curves,
    write_figures,
)
from rethink.summary import Run, load_grid, randomization_label
from run_folders import error_at_level, level_sweep, randomization_grid, spec_for, write_run

MODELS = ("mlp_1x512", "alexnet")


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, ...]:
    return load_grid(randomization_grid(tmp_path_factory.mktemp("grid"), MODELS, (0, 1))).runs


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, ...]:
    return load_grid(level_sweep(tmp_path_factory.mktemp("sweep"), MODELS, seeds=(0, 1))).runs


def _legend(fig: object) -> list[str]:
    (ax,) = fig.axes  # type: ignore[attr-defined]
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_figure_1a_one_curve_per_randomization_with_seed_bands(grid: tuple[Run, ...]) -> None:
    fig = figure_1a(grid)
    assert fig is not None
    (ax,) = fig.axes
    assert len(ax.get_lines()) == len(CORRUPTION_STYLE)
    assert len(ax.collections) == len(CORRUPTION_STYLE)  # a min-max band per curve
    assert _legend(fig) == [randomization_label(c) for c in CORRUPTION_STYLE] + [BAND]
    assert ax.get_xlabel() == "thousand training steps"
    assert ax.get_ylabel() == "average training loss"
    assert "mean of 2 models" in ax.get_title()
    colors = [line.get_color() for line in ax.get_lines()]
    assert colors == [s["color"] for s in CORRUPTION_STYLE.values()]
    assert 3.3 <= fig.get_figwidth() <= 3.5


def test_figure_1a_one_model_one_seed_has_no_band(tmp_path: Path) -> None:
    for corruption in ("true_labels", "random_labels"):
        for model in MODELS:
            write_run(tmp_path, spec_for(model, corruption), plateau=0)
    fig = figure_1a(load_grid(tmp_path).runs, model="alexnet")
    assert fig is not None
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2 and not ax.collections
    assert _legend(fig) == ["true labels", "random labels"]
    assert "alexnet" in ax.get_title()
    assert figure_1a(load_grid(tmp_path).runs, model="inception") is None


def test_seed_curves_average_models_on_a_common_step_grid(tmp_path: Path) -> None:
    write_run(tmp_path, spec_for("mlp_1x512", "true_labels"))
    (base,) = load_grid(tmp_path).runs

    def run(model: str, steps: list[float], loss: list[float]) -> Run:
        summary = dataclasses.replace(base.summary, model=model)
        return Run(summary, np.array(steps, dtype=float), np.array(loss))

    a = run("mlp_1x512", [100, 300], [2.0, 1.0])  # logged every 200 steps
    b = run("alexnet", [100, 200, 300, 400], [1.0, 1.0, 1.0, 1.0])  # runs longer
    steps, curves = seed_curves([a, b])
    np.testing.assert_array_equal(steps, [100, 200, 300, 400])
    # a interpolated at 200 is 1.5; beyond a's last step only b counts
    np.testing.assert_allclose(curves[0], [1.5, 1.25, 1.0, 1.0])
    steps, curves = seed_curves(
        [a, dataclasses.replace(b, summary=dataclasses.replace(b.summary, seed=1))]
    )
    assert curves.shape == (2, 4) and np.isnan(curves[0, 3])


def test_figure_1a_on_partial_and_diverged_runs(tmp_path: Path) -> None:
    write_run(tmp_path, spec_for("mlp_1x512", "true_labels"), stop_at=800)
    write_run(
        tmp_path,
        spec_for("mlp_1x512", "random_labels"),
        plateau=700,
        fit_step=1600,
        diverge_at=1000,
    )
    fig = figure_1a(load_grid(tmp_path).runs)
    assert fig is not None
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert max(lines["true labels"].get_xdata()) == pytest.approx(0.8)
    y = np.asarray(lines["random labels"].get_ydata(), dtype=float)
    assert np.isfinite(y).all() and max(lines["random labels"].get_xdata()) == pytest.approx(0.9)


def test_figure_1b_time_to_fit_per_model(sweep: tuple[Run, ...], grid: tuple[Run, ...]) -> None:
    fig = figure_1b(sweep)
    assert fig is not None
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.get_lines()] == ["alexnet", "mlp_1x512"]
    assert ax.get_xlabel() == "label corruption" and "steps to fit" in ax.get_ylabel()
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
    assert BAND in _legend(fig)
    assert figure_1b(grid) is None  # two levels only: no sweep


def test_figure_1b_marks_runs_that_never_fit(tmp_path: Path) -> None:
    level_sweep(tmp_path, ("mlp_1x512",), levels=(0.0, 0.5, 1.0))
    write_run(tmp_path, spec_for("mlp_1x512", "partial_labels", 1, level=0.5), fit_step=None)
    fig = figure_1b(load_grid(tmp_path).runs)
    assert fig is not None
    y = fig.axes[0].get_lines()[0].get_ydata()
    assert np.isnan(y[1]) and np.isfinite(y[[0, 2]]).all()
    assert any("not fitted: mlp_1x512 p=0.5" in t.get_text() for t in fig.axes[0].texts)


def test_figure_1c_test_error_per_model(sweep: tuple[Run, ...]) -> None:
    fig = figure_1c(sweep)
    assert fig is not None
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["alexnet", "mlp_1x512", "chance (90%)"]
    assert ax.get_ylabel() == "test error"
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [error_at_level(p) for p in line.get_xdata()])


def test_figure_1c_needs_completed_runs_at_two_levels(tmp_path: Path) -> None:
    write_run(tmp_path, spec_for("mlp_1x512", "true_labels"))
    write_run(tmp_path, spec_for("mlp_1x512", "random_labels"), stop_at=500)
    assert figure_1c(load_grid(tmp_path).runs) is None


def test_write_figures_writes_png_and_pdf(tmp_path: Path, grid: tuple[Run, ...]) -> None:
    written, skipped = write_figures(grid, tmp_path / "figs", per_model=True)
    names = sorted(p.name for p in written)
    stems = ["figure1a", "figure1a_alexnet", "figure1a_mlp_1x512", "figure1c"]
    assert names == sorted(f"{s}.{f}" for s in stems for f in ("png", "pdf"))
    for p in written:
        head = p.read_bytes()[:8]
        assert head.startswith(b"\x89PNG" if p.suffix == ".png" else b"%PDF")
    assert [s.split(":")[0] for s in skipped] == ["figure1b"]
    assert not list((tmp_path / "figs").glob(".*"))  # no temporary files left
