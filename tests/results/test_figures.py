"""rethink.results.figures: Figure 1 a/b/c from fake run folders (curves, labels, legend, files)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from rethink.results.figures import (
    ALL_MODELS,
    BAND,
    CORRUPTION_STYLE,
    EARLY_STOP,
    FIG2B_STYLE,
    default_model,
    figure_1a,
    figure_1a_models,
    figure_1b,
    figure_1c,
    figure_2b,
    legend_hides_data,
    mean_curve,
    seed_curves,
    write_figures,
)
from rethink.results.summary import Run, load_grid
from rethink.spec import randomization_label
from tests.helpers.run_folders import (
    error_at_level,
    level_sweep,
    randomization_grid,
    spec_for,
    write_run,
)

MODELS = ("mlp_1x512", "alexnet")


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, ...]:
    return load_grid(randomization_grid(tmp_path_factory.mktemp("grid"), MODELS, (0, 1))).runs


@pytest.fixture(scope="module")
def with_inception(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, ...]:
    root = tmp_path_factory.mktemp("inception")
    return load_grid(randomization_grid(root, ("mlp_1x512", "inception", "alexnet"), (0,))).runs


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, ...]:
    return load_grid(level_sweep(tmp_path_factory.mktemp("sweep"), MODELS, seeds=(0, 1))).runs


@pytest.fixture(scope="module")
def unfitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, ...]:
    """MLP 1x512 at the paper's protocol: only the true labels reach 100%.

    Level 0.5 gets to 99% (its accuracy climbs towards 100% at step 3000,
    past the 2400-step budget); level 1 never gets near.
    """
    root = tmp_path_factory.mktemp("unfitted")
    write_run(root, spec_for("mlp_1x512", "true_labels"), fit_step=600)
    write_run(root, spec_for("mlp_1x512", "partial_labels", level=0.5), fit_step=3000)
    write_run(root, spec_for("mlp_1x512", "random_labels"), plateau=700, fit_step=None)
    return load_grid(root).runs


def _legend(fig: Figure, i: int = 0) -> list[str]:
    legend = fig.axes[i].get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def _drawn_points(line: Line2D, per_segment: int = 50) -> np.ndarray:
    """Display coordinates of a line's vertices and of points along its segments."""
    xy = line.get_transform().transform(np.column_stack(line.get_data()).astype(float))
    if line.get_linestyle() in ("None", "none", ""):
        return xy
    t = np.linspace(0, 1, per_segment)[:, None, None]
    along = (xy[:-1] + t * (xy[1:] - xy[:-1])).reshape(-1, 2)
    return np.concatenate([xy, along])


def _covered(ax: Axes) -> int:
    """How many drawn data points of `ax` lie under its legend (after a draw)."""
    fig = ax.figure
    assert isinstance(fig, Figure)
    fig.draw_without_rendering()
    legend = ax.get_legend()
    assert legend is not None
    box = legend.get_window_extent()
    n = 0
    for line in ax.get_lines():
        xy = _drawn_points(line)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if line.get_clip_on():
            xy = xy[[ax.bbox.contains(x, y) for x, y in xy]]
        n += sum(box.contains(x, y) for x, y in xy)
    for coll in ax.collections:  # bands: a probe grid inside the legend box
        probes = np.array(
            [[x, y] for x in np.linspace(box.x0, box.x1, 9) for y in np.linspace(box.y0, box.y1, 9)]
        )
        for path in coll.get_paths():
            n += int(coll.get_transform().transform_path(path).contains_points(probes).sum())
    return n


def _open_markers(ax: Axes) -> list[Line2D]:
    return [
        line
        for line in ax.get_lines()
        if line.get_linestyle() == "None" and line.get_markerfacecolor() == "white"
    ]


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
    fig = figure_1a(load_grid(tmp_path).runs, model="mlp_1x512")
    assert fig is not None
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2 and not ax.collections
    assert _legend(fig) == ["true labels", "random labels"]
    assert "mlp_1x512" in ax.get_title()
    assert figure_1a(load_grid(tmp_path).runs, model="inception") is None


def test_figure_1a_legend_hides_no_curve(tmp_path: Path, grid: tuple[Run, ...]) -> None:
    # Random labels at chance until step 2000: the top right, the usual legend place, is taken.
    root = randomization_grid(tmp_path, ("inception",), (0,))
    write_run(root, spec_for("inception", "random_labels"), plateau=2000, fit_step=2300)
    runs = load_grid(root).runs
    for fig in (figure_1a(runs), figure_1a(grid), figure_1a(grid, model=ALL_MODELS)):
        assert fig is not None
        (ax,) = fig.axes
        assert _covered(ax) == 0
        assert not legend_hides_data(ax)
    # The check sees a legend where the old code put it.
    fig = figure_1a(runs)
    assert fig is not None
    (ax,) = fig.axes
    ax.legend(loc="upper right", frameon=False)
    assert _covered(ax) > 0 and legend_hides_data(ax)


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
    assert _covered(ax) == 0
    legend = ax.get_legend()
    assert legend is not None
    assert legend.get_window_extent().y1 < ax.get_window_extent().y0  # below the axes
    assert fig.get_figheight() > 2.6  # grown to hold it


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
    assert BAND in _legend(fig) and not _open_markers(ax)
    assert _covered(ax) == 0
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
    (markers,) = _open_markers(ax)
    assert list(markers.get_xdata()) == pytest.approx([0.5, 1.0])
    fig.draw_without_rendering()
    xy = markers.get_transform().transform(np.column_stack(markers.get_data()).astype(float))
    box = ax.get_window_extent()
    assert (xy[:, 1] > box.y0 + 0.85 * box.height).all() and (xy[:, 1] <= box.y1).all()
    assert "not fitted within 2,400 steps" in _legend(fig)
    assert _covered(ax) == 0


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
    (markers,) = _open_markers(low)
    assert list(markers.get_xdata()) == pytest.approx([1.0])  # random labels: not even 99%
    assert "not at 99% within 2,400 steps" in _legend(fig, 1)
    assert _covered(top) == 0 and _covered(low) == 0
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
    (markers,) = _open_markers(ax)
    assert list(markers.get_xdata()) == pytest.approx([0.5])
    fitted_seed = [line for line in ax.get_lines() if line.get_alpha() == 0.6]
    assert [list(line.get_xdata()) for line in fitted_seed] == [[0.5]]  # the seed that fitted
    assert "not fitted within 2,400 steps" in _legend(fig)


def test_figure_1c_test_error_per_model(sweep: tuple[Run, ...]) -> None:
    fig = figure_1c(sweep)
    assert fig is not None
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["alexnet", "mlp_1x512", "chance (90%)"]
    assert ax.get_ylabel() == "test error"
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [error_at_level(p) for p in line.get_xdata()])
    assert _covered(ax) == 0


def test_figure_1c_needs_completed_runs_at_two_levels(tmp_path: Path) -> None:
    write_run(tmp_path, spec_for("mlp_1x512", "true_labels"))
    write_run(tmp_path, spec_for("mlp_1x512", "random_labels"), stop_at=500)
    assert figure_1c(load_grid(tmp_path).runs) is None


def test_write_figures_writes_png_and_pdf(tmp_path: Path, grid: tuple[Run, ...]) -> None:
    written, skipped = write_figures(grid, tmp_path / "figs", per_model=True)
    names = sorted(p.name for p in written)
    stems = ["figure1a", "figure1a_alexnet", "figure1a_mlp_1x512", "figure1a_models", "figure1c"]
    assert names == sorted(f"{s}.{f}" for s in stems for f in ("png", "pdf"))
    for p in written:
        head = p.read_bytes()[:8]
        assert head.startswith(b"\x89PNG" if p.suffix == ".png" else b"%PDF")
    assert [s.split(":")[0] for s in skipped] == ["figure1b", "figure2b"]
    assert not list((tmp_path / "figs").glob(".*"))  # no temporary files left
    written, _ = write_figures(grid, tmp_path / "mean", model=ALL_MODELS, formats=("png",))
    assert sorted(p.name for p in written) == [
        "figure1a_all.png",
        "figure1a_models.png",
        "figure1c.png",
    ]


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
    assert _figure_legend(fig) == [randomization_label(c) for c in CORRUPTION_STYLE]  # no band
    assert fig.get_suptitle().startswith("cifar10")


def test_figure_1a_models_needs_two_models(tmp_path: Path, grid: tuple[Run, ...]) -> None:
    one = [r for r in grid if r.summary.model == "alexnet"]
    assert figure_1a_models(one) is None
    written, skipped = write_figures(one, tmp_path / "one", formats=("png",))
    assert "figure1a_models.png" not in {p.name for p in written}
    assert not any(s.startswith("figure1a_models") for s in skipped)
    fig = figure_1a_models(grid)  # two models, two seeds: three panels, the band in the legend
    assert fig is not None and len(fig.axes) == 3
    assert BAND in _figure_legend(fig)


def _figure_legend(fig: Figure) -> list[str]:
    """The labels of a figure's one legend, the figure's own or one in a panel's place."""
    (legend,) = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    return [t.get_text() for t in legend.get_texts()]


# --- Figure 2(b) -------------------------------------------------------------------

FIG2B_FINAL = {"inception": 0.86, "inception_no_bn": 0.80}
FIG2B_BEST = {"inception": None, "inception_no_bn": 0.85}  # w/o BN: 5 points lost by the end


@pytest.fixture(scope="module")
def fig2(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, ...]:
    """Both Inceptions on true labels, two seeds; w/o BatchNorm peaks half-way, then falls."""
    root = tmp_path_factory.mktemp("fig2")
    for model, test in FIG2B_FINAL.items():
        for seed in (0, 1):
            fit = 600 if model == "inception" else 1200
            spec = spec_for(model, "true_labels", seed)
            write_run(
                root,
                spec,
                fit_step=fit + 100 * seed,
                test_acc=test,
                best_test_acc=FIG2B_BEST[model],
            )
    # Runs Figure 2(b) leaves out: weight decay, random labels, another model.
    write_run(root, spec_for("inception", "true_labels", weight_decay=5e-4), test_acc=0.2)
    write_run(root, spec_for("inception_no_bn", "random_labels"), test_acc=0.1)
    write_run(root, spec_for("alexnet", "true_labels"), test_acc=0.3)
    return load_grid(root).runs


def _fill_heights(ax: Axes) -> list[float]:
    """The largest height of each shaded region (fill_between), in data units."""
    heights = []
    for coll in ax.collections:
        (path,) = coll.get_paths()
        xy = path.vertices
        by_x: dict[float, list[float]] = {}
        for x, y in xy:
            by_x.setdefault(round(float(x), 9), []).append(float(y))
        heights.append(max(max(ys) - min(ys) for ys in by_x.values()))
    return heights


def test_figure_2b_train_and_test_accuracy_with_the_best_test_so_far_shaded(
    fig2: tuple[Run, ...],
) -> None:
    fig = figure_2b(fig2)
    assert fig is not None
    (ax,) = fig.axes
    title = ax.get_title()
    assert "Inception with and without BatchNorm" in title and "mean of 2 seeds" in title
    assert ax.get_xlabel() == "thousand training steps"
    lines = {line.get_label(): line for line in ax.get_lines()}
    names = {m: style["label"] for m, style in FIG2B_STYLE.items()}
    assert set(lines) == {f"{n} {what}" for n in names.values() for what in ("train", "test")}
    for model, name in names.items():
        runs = [r for r in fig2 if r.summary.model == model and r.summary.plain]
        runs = [r for r in runs if r.summary.corruption == "true_labels"]
        assert len(runs) == 2
        # Training: the window means, dashed; test: the epoch-end evaluations, solid.
        train, test = lines[f"{name} train"], lines[f"{name} test"]
        assert train.get_linestyle() == "--" and test.get_linestyle() == "-"
        steps, values = runs[0].curve("train_acc")
        np.testing.assert_allclose(train.get_xdata(), steps / 1000)
        other = runs[1].curve("train_acc")[1]
        np.testing.assert_allclose(train.get_ydata(), (values + other) / 2)
        steps, values = runs[0].curve("test_acc")
        np.testing.assert_allclose(test.get_xdata(), steps / 1000)
        np.testing.assert_allclose(test.get_ydata(), values)  # both seeds: the same test curve
        assert test.get_ydata()[-1] == pytest.approx(FIG2B_FINAL[model])
    # Shaded: between each test curve and its best so far. With BatchNorm the test
    # accuracy only climbs (no gain); without, it falls 5 points after its peak.
    assert len(ax.collections) == 2
    bn, no_bn = _fill_heights(ax)
    assert bn == pytest.approx(0.0, abs=1e-9)
    assert no_bn == pytest.approx(FIG2B_BEST["inception_no_bn"] - FIG2B_FINAL["inception_no_bn"])
    assert _legend(fig)[-1] == EARLY_STOP
    assert not legend_hides_data(ax) and _covered(ax) == 0


def test_mean_curve_best_so_far_is_each_runs_cumulative_maximum(tmp_path: Path) -> None:
    write_run(tmp_path, spec_for("inception_no_bn", "true_labels"), test_acc=0.6, best_test_acc=0.7)
    (run,) = load_grid(tmp_path).runs
    steps, values = run.curve("test_acc")
    best = mean_curve([run], "test_acc", best_so_far=True)
    np.testing.assert_allclose(best[0], steps)
    np.testing.assert_allclose(best[1], np.maximum.accumulate(values))
    assert best[1][-1] == pytest.approx(0.7) and values[-1] == pytest.approx(0.6)


def test_figure_2b_needs_plain_true_label_runs_of_both_inceptions(
    tmp_path: Path, fig2: tuple[Run, ...]
) -> None:
    def without(model: str) -> list[Run]:
        return [r for r in fig2 if not (r.summary.model == model and r.summary.plain)]

    assert figure_2b(without("inception")) is None
    assert figure_2b(without("inception_no_bn")) is None
    # With weight decay or random crop it is not Figure 2(b)'s setting.
    write_run(tmp_path, spec_for("inception", "true_labels", augment=True))
    write_run(tmp_path, spec_for("inception_no_bn", "true_labels"))
    assert figure_2b(load_grid(tmp_path).runs) is None


def test_write_figures_writes_figure_2b_when_drawable(
    tmp_path: Path, fig2: tuple[Run, ...]
) -> None:
    written, skipped = write_figures(fig2, tmp_path, formats=("png",))
    assert tmp_path / "figure2b.png" in written
    assert not any(s.startswith("figure2b") for s in skipped)
    one = [r for r in fig2 if r.summary.model != "inception"]
    _, skipped = write_figures(one, tmp_path / "b", formats=("pdf",))
    (why,) = [s for s in skipped if s.startswith("figure2b:")]
    assert "inception and inception_no_bn" in why
