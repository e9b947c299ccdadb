"""Figures 1 and 2(b) of the paper from a grid's runs: matplotlib Figure objects, no pyplot.

    grid = load_grid(Path("output_3"))
    fig = figure_1a(grid.runs)                        # (a) loss vs thousand steps, Inception
    fig = figure_1a(grid.runs, model="alexnet")       # ... another model
    fig = figure_1a(grid.runs, model=ALL_MODELS)      # ... the mean over the models present
    fig = figure_1a_models(grid.runs)                 # ... a panel per model, and their mean
    fig = figure_1b(grid.runs)                        # (b) steps to fit vs corruption level
    fig = figure_1c(grid.runs)                        # (c) test error vs corruption level
    fig = figure_2b(grid.runs)                        # 2(b) Inception with/without BatchNorm
    written, skipped = write_figures(grid.runs, Path("output_3/figures"))

Each function returns None when there is nothing to draw. Figure 1's curves
are means over seeds with a min-max band. Figure 1a is the paper's panel by default:
Inception alone, or where the grid has no Inception runs the first model
present in the paper's order (`default_model`), named in the title; the
mean over all models (each curve interpolated onto a common step grid
first) only when asked for. `figure_1a_models` sets every model's panel and
the mean side by side in one figure (sharing the y axis, one legend below).

Figure 1b plots the time to fit (first full `log_every` window whose mean
training accuracy reaches the runs' fit threshold, 100% by default) against
the label-corruption level. Runs that never got there are open markers in
a shaded strip along the top of the axes, "not fitted within N steps" (N:
the steps they trained, their budget unless still running or diverged); at
a level where only some seeds fitted, those seeds are single faint markers
and the mean line has a gap. The x-axis spans every level of the grid
whatever fitted, and the title gives the fit threshold. When some run misses the fit
threshold, a second panel below gives the time to a lower one (99% by
default, `Run.steps_to_acc`), so a sweep where only the true labels reach
100% still shows how the time grows with the level.

Legends go where they hide no data: the first of a list of places inside
the axes where no line, marker, band or note falls (`legend_hides_data`),
else below the axes, the figure growing to hold them.

The curves are the windowed training loss (`Run.steps`/`train_loss`: the
mean over each `log_every` window, in training mode). With random labels it
shows a sawtooth whose period is the epoch. Every epoch draws a fresh
permutation, so an example early in an epoch was last seen about half an
epoch before and one late in it about one and a half; the labels memorized
fade in between, and the loss climbs through the epoch and drops at the
start of the next. It is real, not a logging error.

Figure 2(b) (section 3.1) sets Inception with and without BatchNorm side by
side on the true labels, without weight decay or augmentation: training
accuracy (`Run.curve("train_acc")`, the window means in training mode,
dashed) and test accuracy (the epoch-end evaluations in inference mode,
solid) against thousand steps, means over seeds without a band. Shaded
between the test curve and the best test accuracy so far (each run's
cumulative maximum, averaged): what stopping at the best evaluation would
have gained, the paper's "potential benefit" of early stopping.

Every figure names its data set above the panels (`Figure.get_suptitle()`:
"cifar10: 10 classes of 32x32x3 images"), so a figure set in a paper says
what it shows; Figure 1a's loss axis and Figure 1c's chance line follow the
data set's classes (loss ln(classes), test error 1 - 1/classes). A figure
draws the runs of one data set: `write_figures` draws each data set of a
grid that mixes them into a folder of its own.

Sized for a paper column (3.4 in). Uses matplotlib's Agg canvas through
`Figure.savefig`, never pyplot, so no GUI and no global figure state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import Bbox

from rethink.base.atomic import write_atomically
from rethink.models import MODELS
from rethink.results.summary import CIFAR10, Run, chance_loss
from rethink.spec import randomization_label
from rethink.spec.datasets import Dataset
from rethink.train.outcome import Status

WIDTH, HEIGHT = 3.4, 2.6  # inches: one column of the paper
MAX_POINTS = 1000  # points of the common step grid
PAPER_MODEL = "inception"  # the paper's Figure 1a
ALL_MODELS = "all"  # figure_1a(model=ALL_MODELS): the mean over the models present
MODEL_PANEL_COLUMNS = 3  # figure_1a_models: panels per row
LOWER_THRESHOLD = 0.99  # Figure 1b's second panel, where the fit threshold is missed
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
# Places tried for a legend inside the axes, in order; below the axes if none is free.
LEGEND_LOCS: tuple[Any, ...] = (
    "upper right",
    "upper left",
    "lower left",
    "lower right",
    "center right",
    "center left",
    "upper center",
    "lower center",
    "center",
)
STRIP_Y = 0.87  # axes fraction: the strip above it holds the runs that never fitted
NOT_FITTED_Y = 0.935  # axes fraction: their row of open markers
DATA_TOP = 0.8  # axes fraction: the highest time to fit sits at most this high
LEGEND_PAD_PX = 2.0  # clearance between a legend and the data, in display pixels


def dataset_of(runs: Sequence[Run]) -> Dataset:
    """The one data set of `runs` (CIFAR-10 for none); ValueError if they mix data sets,
    which no figure draws together (`write_figures` draws each apart)."""
    found = list(dict.fromkeys(r.summary.dataset for r in runs))
    if len(found) > 1:
        names = ", ".join(d.name for d in found)
        raise ValueError(f"runs of several data sets ({names}): draw each data set apart")
    return found[0] if found else CIFAR10


def chance_label(dataset: Dataset) -> str:
    """Figure 1c's chance line: 'chance (90%)', 'chance (66.7%)'."""
    return f"chance ({100 * dataset.chance_error:.3g}%)"


def _new_figure(rows: int = 1, dataset: Dataset | None = None) -> tuple[Figure, list[Axes]]:
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


def _plain(runs: Sequence[Run]) -> list[Run]:
    """Runs of the randomization tests (no weight decay, no augmentation), else all."""
    return [r for r in runs if r.summary.plain] or list(runs)


def _nanmean(a: np.ndarray) -> np.ndarray:
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
        rows.append(_nanmean(stack))
    return grid, np.stack(rows)


def _band(ax: Axes, x: np.ndarray, curves: np.ndarray, color: str) -> bool:
    if curves.shape[0] < 2:
        return False
    lo, hi = np.fmin.reduce(curves, axis=0), np.fmax.reduce(curves, axis=0)
    ax.fill_between(x, lo, hi, color=color, alpha=0.2, linewidth=0)
    return True


# --- legends that hide no data -------------------------------------------------


def _densify(xy: np.ndarray, spacing: float = 1.0) -> np.ndarray:
    """Points every `spacing` pixels along a polyline; NaN vertices break it."""
    ok = np.isfinite(xy).all(axis=1)
    out = [xy[ok]]
    a, b = xy[:-1], xy[1:]
    seg = ok[:-1] & ok[1:]
    a, b = a[seg], b[seg]
    if len(a):
        n = np.ceil(np.hypot(*(b - a).T) / spacing).astype(int)
        keep = n > 1
        for p, q, k in zip(a[keep], b[keep], n[keep], strict=True):
            t = np.linspace(0, 1, k + 1)[1:-1, None]
            out.append(p + t * (q - p))
    return np.concatenate(out) if out else np.empty((0, 2))


def _line_points(line: Line2D) -> tuple[np.ndarray, float]:
    """A line's drawn points in display coordinates and their radius (pixels)."""
    xy = line.get_transform().transform(line.get_path().vertices)
    if line.get_linestyle() not in ("None", "none", "", " "):
        xy = _densify(xy)
    else:
        xy = xy[np.isfinite(xy).all(axis=1)]
    dpi = line.figure.dpi if line.figure is not None else 72.0
    marker = line.get_markersize() if line.get_marker() not in (None, "None", "") else 0.0
    radius = (max(marker, line.get_linewidth()) / 2) * dpi / 72
    return xy, radius


def _inside(xy: np.ndarray, box: Bbox) -> np.ndarray:
    return (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)


def _visible(ax: Axes, artist: Artist, xy: np.ndarray) -> np.ndarray:
    """The points an artist clipped to the axes actually shows."""
    return xy[_inside(xy, ax.bbox)] if artist.get_clip_on() else xy


def legend_hides_data(ax: Axes, legend: Legend | None = None) -> bool:
    """Whether the legend covers a line, marker, band or note of `ax` (after a draw)."""
    legend = legend or ax.get_legend()
    if legend is None:
        return False
    box = legend.get_window_extent()
    for line in ax.get_lines():
        xy, radius = _line_points(line)
        padded = box.padded(radius + LEGEND_PAD_PX)
        if _inside(_visible(ax, line, xy), padded).any():
            return True
    corners = np.array([[box.x0, box.y0], [box.x0, box.y1], [box.x1, box.y0], [box.x1, box.y1]])
    probes = np.concatenate([corners, [[(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2]]])
    for coll in ax.collections:  # the min-max bands
        transform = coll.get_transform()
        for path in coll.get_paths():
            display = transform.transform_path(path)
            edge = _visible(ax, coll, _densify(np.asarray(display.vertices, dtype=float)))
            if _inside(edge, box.padded(LEGEND_PAD_PX)).any():
                return True
            if display.contains_points(probes).any():
                return True
    shown = [*ax.texts, *ax.patches]  # notes, and the strip of runs that never fitted
    return any(a.get_window_extent().overlaps(box) for a in shown if a.get_visible())


def _place_legend(ax: Axes, handles: list[Any], **kw: Any) -> Legend:
    """The legend inside the axes where it hides no data, else below the axes."""
    fig = ax.figure
    assert isinstance(fig, Figure)
    for loc in LEGEND_LOCS:
        legend = ax.legend(handles=handles, loc=loc, frameon=False, **kw)
        fig.draw_without_rendering()
        if not legend_hides_data(ax, legend):
            return legend
        legend.remove()
    # Below the axes (and below the x label), the figure growing to make room.
    columns = 2 if len(handles) > 3 else 1
    legend = ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        bbox_transform=ax.transAxes,
        ncols=columns,
        frameon=False,
        **kw,
    )
    fig.draw_without_rendering()
    height = legend.get_window_extent().height / fig.dpi
    fig.set_figheight(fig.get_figheight() + height + 0.1)
    fig.draw_without_rendering()
    return legend


def _legend_labels(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def _handles(ax: Axes, banded: bool, extra: Iterable[Any] = ()) -> list[Any]:
    handles, _ = ax.get_legend_handles_labels()
    if banded:
        handles.append(Patch(facecolor="gray", alpha=0.3, label=BAND))
    return [*handles, *extra]


# --- Figure 1a ---------------------------------------------------------------


def _curve_runs(runs: Sequence[Run]) -> list[Run]:
    return [r for r in runs if r.summary.corruption in CORRUPTION_STYLE and len(r.steps)]


def _models_present(runs: Sequence[Run]) -> list[str]:
    """The models with training-loss curves, in the paper's order (others by name after)."""
    present = {r.summary.model for r in _curve_runs(runs)}
    return [m for m in MODELS if m in present] + sorted(present - set(MODELS))


def default_model(runs: Sequence[Run]) -> str | None:
    """The model of the paper's Figure 1a: Inception, else the first present in the paper's order."""
    order = _models_present(runs)
    return order[0] if order else None


def _panel_runs(curves_of: Sequence[Run], model: str) -> list[Run]:
    """Figure 1a's runs of `model` (ALL_MODELS: of every model), plain ones where any."""
    return _plain([r for r in curves_of if model == ALL_MODELS or r.summary.model == model])


def _draw_1a(ax: Axes, chosen: Sequence[Run]) -> tuple[bool, float]:
    """Figure 1a's curves of `chosen` on `ax`, one per randomization (mean over seeds,
    min-max band); (whether a band was drawn, the highest loss drawn)."""
    banded, top = False, 0.0
    for i, (corruption, style) in enumerate(CORRUPTION_STYLE.items()):
        group = [r for r in chosen if r.summary.corruption == corruption]
        if not group:
            continue
        steps, curves = seed_curves(group)
        x, mean = steps / 1000, _nanmean(curves)
        every = max(1, len(x) // 8)
        ax.plot(
            x,
            mean,
            label=randomization_label(corruption),
            markevery=(i * every // 5, every),
            **style,
        )
        banded |= _band(ax, x, curves, style["color"])
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
    curves_of = _curve_runs(runs)
    if model is None:
        model = default_model(curves_of)
        if model is None:
            return None
    chosen = _panel_runs(curves_of, model)
    if not chosen:
        return None
    dataset = dataset_of(runs)
    with matplotlib.rc_context(RC):
        fig, (ax,) = _new_figure(dataset=dataset)
        banded, top = _draw_1a(ax, chosen)
        ax.set_ylabel("average training loss")
        ax.set_ylim(0, _loss_top(top, dataset))
        what = _mean_title(chosen) if model == ALL_MODELS else model
        ax.set_title(f"(a) learning curves, {what}")
        _place_legend(ax, _handles(ax, banded))
    return fig


def figure_1a_models(runs: Sequence[Run]) -> Figure | None:
    """Figure 1a for every model side by side, and the mean over them in a last panel.

    One panel per model with curves (the paper's order), each drawn as
    `figure_1a` draws it; the panels share the y axis, and the legend (every
    randomization drawn, and the band) is drawn once: in the first free place
    of the grid of panels, else below them. None unless two or more models
    have curves.
    """
    curves_of = _curve_runs(runs)
    models = _models_present(curves_of)
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


# --- Figures 1b and 1c --------------------------------------------------------


def _by_level(runs: Sequence[Run]) -> dict[str, dict[float, list[Run]]]:
    """model -> label-corruption level -> its runs (plain runs only), models in the paper's order."""
    out: dict[str, dict[float, list[Run]]] = {}
    for r in _plain([r for r in runs if r.summary.level is not None]):
        out.setdefault(r.summary.model, {}).setdefault(float(r.summary.level or 0.0), []).append(r)
    order = {m: i for i, m in enumerate(MODELS)}
    return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def _level_lines(
    ax: Axes, data: dict[str, dict[float, list[Run]]], value: Callable[[Run], float | None]
) -> bool:
    """One line per model: the mean where every run has a value, band min-max.

    At a level where only some runs have a value, those are single markers.
    Returns whether a band was drawn.
    """
    banded = False
    for model, levels in data.items():
        xs = sorted(levels)
        vals = [[value(r) for r in levels[p]] for p in xs]
        full = [all(v is not None for v in vs) for vs in vals]
        arrays = [np.array([np.nan if v is None else v for v in vs], dtype=float) for vs in vals]
        mean = np.array([a.mean() if ok else np.nan for a, ok in zip(arrays, full, strict=True)])
        style = MODEL_STYLE.get(model, {})
        ax.plot(xs, mean, label=model, **style)
        some = [(p, a[np.isfinite(a)]) for p, a, ok in zip(xs, arrays, full, strict=True) if not ok]
        px = [p for p, a in some for _ in a]
        py = [v for _, a in some for v in a]
        if px:
            ax.plot(px, py, linestyle="none", alpha=0.6, **style)
        if max(len(a) for a in arrays) > 1 and any(full):
            lo = np.array([a.min() if ok else np.nan for a, ok in zip(arrays, full, strict=True)])
            hi = np.array([a.max() if ok else np.nan for a, ok in zip(arrays, full, strict=True)])
            ax.fill_between(xs, lo, hi, color=style.get("color"), alpha=0.2, linewidth=0)
            banded = True
    return banded


def _steps_range(steps: Iterable[int]) -> str:
    values = sorted(set(steps))
    if not values:
        return "?"
    if len(values) == 1:
        return f"{values[0]:,}"
    return f"{values[0]:,}-{values[-1]:,}"


def _not_reached(
    ax: Axes,
    data: dict[str, dict[float, list[Run]]],
    value: Callable[[Run], float | None],
    xspan: float,
) -> tuple[list[Run], dict[str, Any]]:
    """Open markers in a strip along the top for the runs without a value.

    Returns those runs and the marker style for a legend entry (the model's
    own where one model missed, else a gray circle).
    """
    missed: list[Run] = []
    styles: list[dict[str, Any]] = []
    for i, (model, levels) in enumerate(data.items()):
        dodge = (i - (len(data) - 1) / 2) * 0.03 * xspan
        xs = [p + dodge for p, rs in sorted(levels.items()) if any(value(r) is None for r in rs)]
        missed += [r for rs in levels.values() for r in rs if value(r) is None]
        if not xs:
            continue
        style = {"marker": "o", "color": "gray", **MODEL_STYLE.get(model, {})}
        color = style.pop("color")
        style |= {"markerfacecolor": "white", "markeredgecolor": color, "markeredgewidth": 1.0}
        styles.append(style)
        ax.plot(
            xs,
            [NOT_FITTED_Y] * len(xs),
            transform=ax.get_xaxis_transform(),
            linestyle="none",
            clip_on=False,
            label=f"_{model} not reached",
            **style,
        )
    if missed:  # a light strip: above the data, off the y scale
        ax.add_patch(
            Rectangle(
                (0, STRIP_Y),
                1,
                1 - STRIP_Y,
                transform=ax.transAxes,
                facecolor="0.93",
                edgecolor="none",
                zorder=0,
            )
        )
    gray = {"marker": "o", "markerfacecolor": "white", "markeredgecolor": "gray"}
    return missed, styles[0] if len(styles) == 1 else gray


def _trained_steps(run: Run) -> int:
    s = run.summary
    if s.step is not None:
        return s.step
    return s.total_steps or 0


def _time_panel(
    ax: Axes,
    data: dict[str, dict[float, list[Run]]],
    value: Callable[[Run], float | None],
    xlim: tuple[float, float],
    missed_label: str,
) -> tuple[bool, Line2D | None]:
    """Thousand steps against level, runs without a value on top; (banded, legend handle)."""
    banded = _level_lines(ax, data, value)
    missed, style = _not_reached(ax, data, value, xlim[1] - xlim[0])
    values = [v for levels in data.values() for rs in levels.values() for v in map(value, rs)]
    top = max((v for v in values if v is not None), default=0.0)
    ax.set_xlim(*xlim)
    ymax = top / DATA_TOP if top > 0 else 1.0
    ax.set_ylim(0, ymax)
    if not missed:
        return banded, None
    scale = ymax * (STRIP_Y - 0.02)  # no y tick in the strip
    ax.set_yticks(
        [t for t in ax.yaxis.get_major_locator().tick_values(0, scale) if 0 <= t <= scale]
    )
    ax.set_ylim(0, ymax)
    steps = _steps_range(_trained_steps(r) for r in missed)
    handle = Line2D([], [], linestyle="none", label=missed_label.format(steps=steps), **style)
    return banded, handle


def _percent(t: float) -> str:
    return f"{100 * t:g}%"


def figure_1b(runs: Sequence[Run], lower: float = LOWER_THRESHOLD) -> Figure | None:
    """Thousand steps to fit against label-corruption level, one line per model.

    Drawn only for a level sweep (three or more levels for some model). Runs
    that never fitted are open markers at the top; if there are any, a second
    panel gives the time to `lower` training accuracy (window mean) instead.
    """
    data = _by_level(runs)
    if not any(len(levels) >= 3 for levels in data.values()):
        return None
    dataset = dataset_of(runs)
    sweep = [r for levels in data.values() for rs in levels.values() for r in rs]
    thresholds = sorted({r.summary.fit_threshold for r in sweep})
    levels = sorted({p for lv in data.values() for p in lv})
    pad = 0.07 * max(levels[-1] - levels[0], 0.1)
    xlim = (levels[0] - pad, levels[-1] + pad)

    def fit(r: Run) -> float | None:
        return None if r.summary.steps_to_fit is None else r.summary.steps_to_fit / 1000

    def reach(r: Run) -> float | None:
        steps = r.steps_to_acc(lower)
        return None if steps is None else steps / 1000

    second = any(fit(r) is None for r in sweep) and lower < thresholds[0]
    with matplotlib.rc_context(RC):
        fig, axes = _new_figure(2 if second else 1, dataset)
        ax = axes[0]
        banded, missed = _time_panel(ax, data, fit, xlim, "not fitted within {steps} steps")
        fit_text = "/".join(_percent(t) for t in thresholds)
        ax.set_title(f"(b) time to overfit: {fit_text} training accuracy\n(window mean)")
        ax.set_ylabel("thousand steps to fit")
        _place_legend(ax, _handles(ax, banded, [missed] if missed else []))
        if second:
            low = axes[1]
            banded, missed = _time_panel(
                low, data, reach, xlim, f"not at {_percent(lower)} within {{steps}} steps"
            )
            low.set_title(f"time to {_percent(lower)} training accuracy (window mean)")
            low.set_ylabel(f"thousand steps to {_percent(lower)}")
            low.set_xlabel("label corruption")
            shown = set(_legend_labels(ax))  # the lower legend adds only what is new
            handles = _handles(low, banded, [missed] if missed else [])
            extra = [h for h in handles if h.get_label() not in shown]
            if extra:
                _place_legend(low, extra)
        else:
            ax.set_xlabel("label corruption")
    return fig


def figure_1c(runs: Sequence[Run]) -> Figure | None:
    """Test error (1 - final test accuracy) against label-corruption level, per model,
    with the data set's chance level (1 - 1/classes) dashed."""

    def error(r: Run) -> float | None:
        acc = r.summary.test_acc
        return None if acc is None else 1 - acc

    done = [r for r in runs if r.summary.status == Status.COMPLETED]
    data = _by_level(done)
    if len({p for levels in data.values() for p in levels}) < 2:
        return None
    dataset = dataset_of(runs)
    with matplotlib.rc_context(RC):
        fig, (ax,) = _new_figure(dataset=dataset)
        banded = _level_lines(ax, data, error)
        if not any(
            np.isfinite(np.asarray(line.get_ydata(), float)).any() for line in ax.get_lines()
        ):
            return None
        ax.axhline(
            dataset.chance_error,
            color="gray",
            linestyle="--",
            linewidth=0.8,
            label=chance_label(dataset),
        )
        ax.set_xlabel("label corruption")
        ax.set_ylabel("test error")
        ax.set_ylim(0, 1)
        ax.set_title("(c) generalization error growth")
        _place_legend(ax, _handles(ax, banded))
    return fig


# --- Figure 2(b) ------------------------------------------------------------------


def _fig2b_runs(runs: Sequence[Run]) -> dict[str, list[Run]]:
    """Figure 2(b)'s runs per variant: true labels, plain, with both curves; {} unless both."""
    out: dict[str, list[Run]] = {}
    for r in runs:
        s = r.summary
        wanted = s.model in FIG2B_STYLE and s.corruption == "true_labels" and s.plain
        if wanted and len(r.curve("train_acc")[0]) and len(r.curve("test_acc")[0]):
            out.setdefault(s.model, []).append(r)
    return {m: out[m] for m in FIG2B_STYLE} if set(out) == set(FIG2B_STYLE) else {}


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
    return np.stack([grid, _nanmean(stack)])


def figure_2b(runs: Sequence[Run]) -> Figure | None:
    """Training and test accuracy against thousand steps, Inception with and without BatchNorm.

    True labels, no weight decay, no augmentation; None unless the grid has
    such runs of both variants. Training accuracy: the window means (training
    mode); test accuracy: the epoch-end evaluations (inference mode); means
    over seeds. Shaded between the test curve and the best test accuracy so
    far: what early stopping at the best evaluation would have gained.
    """
    chosen = _fig2b_runs(runs)
    if not chosen:
        return None
    seeds = max(len(group) for group in chosen.values())
    dataset = dataset_of(runs)
    with matplotlib.rc_context(RC):
        fig, (ax,) = _new_figure(dataset=dataset)
        for model, group in chosen.items():
            style = FIG2B_STYLE[model]
            name, color = style["label"], style["color"]
            train = mean_curve(group, "train_acc")
            test = mean_curve(group, "test_acc")
            best = mean_curve(group, "test_acc", best_so_far=True)
            ax.plot(train[0] / 1000, train[1], color=color, linestyle="--", label=f"{name} train")
            ax.plot(test[0] / 1000, test[1], color=color, label=f"{name} test")
            ax.fill_between(test[0] / 1000, test[1], best[1], color=color, alpha=0.3, linewidth=0)
        ax.set_xlabel("thousand training steps")
        ax.set_ylabel("accuracy")
        ax.set_xlim(left=0)
        ax.set_ylim(0, 1.03)
        mean = f", mean of {seeds} seeds" if seeds > 1 else ""
        ax.set_title(f"(b) Inception with and without BatchNorm\ntrue labels{mean}")
        shade = Patch(facecolor="gray", alpha=0.3, label=EARLY_STOP)
        _place_legend(ax, _handles(ax, False, [shade]))
    return fig


# --- files ----------------------------------------------------------------------


def save_figure(fig: Figure, stem: Path, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Write `stem.<format>` for each format, each file whole or not at all."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        with matplotlib.rc_context(RC):
            write_atomically(path, lambda f, fmt=fmt: fig.savefig(f, format=fmt, dpi=300))  # type: ignore[misc]
        paths.append(path)
    return paths


def write_figures(
    runs: Sequence[Run],
    out: Path,
    model: str | None = None,
    per_model: bool = False,
    formats: Sequence[str] = ("png", "pdf"),
    lower: float = LOWER_THRESHOLD,
) -> tuple[list[Path], list[str]]:
    """Draw every figure that has data into `out`; (paths written, messages for skipped).

    `model`: None writes figure1a, the paper's panel (`default_model`); a
    model's name or ALL_MODELS writes figure1a_<model> instead. `per_model`
    adds figure1a_<model> for every model with curves. With two or more
    models with curves, figure1a_models too (`figure_1a_models`). Runs of several data
    sets: each data set's figures in `out`/<data set name>/, the messages
    prefixed with its name.
    """
    datasets = sorted({r.summary.dataset for r in runs}, key=lambda d: (d != CIFAR10, d.name))
    if len(datasets) > 1:
        written, skipped = [], []
        for dataset in datasets:
            mine = [r for r in runs if r.summary.dataset == dataset]
            if model not in (None, ALL_MODELS) and not any(r.summary.model == model for r in mine):
                skipped.append(f"{dataset.name}: no runs of {model}")
                continue
            w, s = write_figures(mine, out / dataset.name, model, per_model, formats, lower)
            written += w
            skipped += [f"{dataset.name}/{message}" for message in s]
        return written, skipped
    jobs: list[tuple[str, Figure | None, str]] = []
    if model is None:
        jobs.append(("figure1a", figure_1a(runs), "no training-loss curves"))
    else:
        jobs.append(
            (f"figure1a_{model}", figure_1a(runs, model), f"no training-loss curves for {model}")
        )
    if per_model:
        for m in _models_present(runs):
            if m != model:
                jobs.append(
                    (f"figure1a_{m}", figure_1a(runs, m), f"no training-loss curves for {m}")
                )
    if len(_models_present(runs)) >= 2:
        jobs.append(("figure1a_models", figure_1a_models(runs), "fewer than two models"))
    jobs.append(("figure1b", figure_1b(runs, lower), "no level sweep (3+ label-corruption levels)"))
    jobs.append(("figure1c", figure_1c(runs), "no completed runs at 2+ label-corruption levels"))
    jobs.append(
        (
            "figure2b",
            figure_2b(runs),
            "no true-label runs of both inception and inception_no_bn without weight decay "
            "or augmentation",
        )
    )
    written, skipped = [], []
    for name, fig, why in jobs:
        if fig is None:
            skipped.append(f"{name}: {why}")
        else:
            written += save_figure(fig, out / name, formats)
    return written, skipped
