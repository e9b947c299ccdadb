"""rethink.results.figures.figure1a: Figure 1a's curves, one panel or a panel per model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rethink.results.figures import (
    ALL_MODELS,
    BAND,
    CORRUPTION_STYLE,
    default_model,
    figure_1a,
    figure_1a_models,
    write_figures,
)
from rethink.results.loading import Run, load_grid
from rethink.spec import randomization_label
from tests.helpers.run_folders import (
    spec_for,
    write_run,
)
from tests.results.figures.drawn import (
    figure_legend,
    legend_texts,
)
from tests.results.figures.grids import MODELS


def test_figure_1a_default_is_the_papers_inception_panel(with_inception: tuple[Run, ...]) -> None:
    fig = figure_1a(with_inception)
    assert fig is not None
    (ax,) = fig.axes
    assert ax.get_title() == "(a) learning curves, inception"
    assert default_model(with_inception) == "inception"
    # The curves are Inception's alone: one seed, so each is that run's loss.
    lines = {line.get_label(): line for line in ax.get_lines()}
    (run,) = [
        r
        for r in with_inception
        if r.summary.model == "inception" and r.summary.corruption == "random_labels"
    ]
    np.testing.assert_allclose(lines["random labels"].get_xdata(), run.steps / 1000)
    np.testing.assert_allclose(lines["random labels"].get_ydata(), run.train_loss)
    mean = figure_1a(with_inception, model=ALL_MODELS)
    assert mean is not None and "mean of 3 models" in mean.axes[0].get_title()


def test_figure_1a_without_inception_names_the_first_model_in_paper_order(
    grid: tuple[Run, ...],
) -> None:
    assert default_model(grid) == "alexnet"  # the paper's order: alexnet before the MLPs
    fig = figure_1a(grid)
    assert fig is not None
    assert fig.axes[0].get_title() == "(a) learning curves, alexnet"
    assert "mean" not in fig.axes[0].get_title()


def test_figure_1a_mean_of_models_with_seed_bands(grid: tuple[Run, ...]) -> None:
    fig = figure_1a(grid, model=ALL_MODELS)
    assert fig is not None
    (ax,) = fig.axes
    assert len(ax.get_lines()) == len(CORRUPTION_STYLE)
    assert len(ax.collections) == len(CORRUPTION_STYLE)  # a min-max band per curve
    assert legend_texts(fig) == [randomization_label(c) for c in CORRUPTION_STYLE] + [BAND]
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
    fig = figure_1a(load_grid(tmp_path).runs, model="mlp_1x512")
    assert fig is not None
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2 and not ax.collections
    assert legend_texts(fig) == ["true labels", "random labels"]
    assert "mlp_1x512" in ax.get_title()
    assert figure_1a(load_grid(tmp_path).runs, model="inception") is None


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


def test_figure_1a_models_a_panel_per_model_and_their_mean(
    with_inception: tuple[Run, ...],
) -> None:
    fig = figure_1a_models(with_inception)
    assert fig is not None
    axes = [ax for ax in fig.axes if ax.get_title()]  # the panels (not the legend's place)
    # The paper's order, then the mean: each panel Figure 1a's curves of its runs.
    assert [ax.get_title() for ax in axes] == [
        "inception",
        "alexnet",
        "mlp_1x512",
        "mean of 3 models",
    ]
    for ax, model in zip(axes, ("inception", "alexnet", "mlp_1x512", ALL_MODELS), strict=True):
        (single,) = figure_1a(with_inception, model).axes  # type: ignore[union-attr]
        want = {line.get_label(): np.asarray(line.get_ydata()) for line in single.get_lines()}
        got = {line.get_label(): np.asarray(line.get_ydata()) for line in ax.get_lines()}
        assert set(got) == set(want) == {randomization_label(c) for c in CORRUPTION_STYLE}
        for label in want:
            np.testing.assert_allclose(got[label], want[label])
    # One shared y axis; the legend once, every randomization in it.
    assert len({ax.get_ylim() for ax in axes}) == 1
    assert all(ax.get_legend() is None for ax in axes)
    assert figure_legend(fig) == [randomization_label(c) for c in CORRUPTION_STYLE]  # no band
    assert fig.get_suptitle().startswith("cifar10")


def test_figure_1a_models_needs_two_models(tmp_path: Path, grid: tuple[Run, ...]) -> None:
    one = [r for r in grid if r.summary.model == "alexnet"]
    assert figure_1a_models(one) is None
    written, skipped = write_figures(one, tmp_path / "one", formats=("png",))
    assert "figure1a_models.png" not in {p.name for p in written}
    assert not any(s.startswith("figure1a_models") for s in skipped)
    fig = figure_1a_models(grid)  # two models, two seeds: three panels, the band in the legend
    assert fig is not None and len(fig.axes) == 3
    assert BAND in figure_legend(fig)
