"""Figures 1b and 1c: time to fit and test error against the label-corruption level.

    fig = figure_1b(runs)     # thousand steps to fit, one line per model
    fig = figure_1c(runs)     # test error, one line per model, the chance level dashed

Figure 1b plots the time to fit (first full `log_every` window whose mean
training accuracy reaches the runs' fit threshold, 100% by default) against
the label-corruption level. Runs that never got there are open markers in
a shaded strip along the top of the axes, "not fitted within N steps" (N:
the steps they trained, their budget unless still running or diverged); at
a level where only some seeds fitted, those seeds are single faint markers
and the mean line has a gap. The x-axis spans every level whatever fitted,
and the title gives the fit threshold. When some run misses the fit
threshold, a second panel below gives the time to a lower one (99% by
default, `Run.steps_to_acc`), so a sweep where only the true labels reach
100% still shows how the time grows with the level.

Figure 1c plots 1 - the final test accuracy of completed runs, with the data
set's chance level (1 - 1/classes) dashed. Both take the plain runs (no
weight decay, no augmentation) where there are any; lines are means over
seeds with a min-max band.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from rethink.results.figures.curves import plain_runs
from rethink.results.figures.legend import legend_handles, legend_labels, place_legend
from rethink.results.figures.style import MODEL_STYLE, RC, dataset_of, new_figure
from rethink.results.loading import Run
from rethink.spec.architectures import MODELS
from rethink.spec.datasets import Dataset
from rethink.train.outcome import Status

LOWER_THRESHOLD = 0.99  # Figure 1b's second panel, where the fit threshold is missed
STRIP_Y = 0.87  # axes fraction: the strip above it holds the runs that never fitted
NOT_FITTED_Y = 0.935  # axes fraction: their row of open markers
DATA_TOP = 0.8  # axes fraction: the highest time to fit sits at most this high


def chance_label(dataset: Dataset) -> str:
    """Figure 1c's chance line: 'chance (90%)', 'chance (66.7%)'."""
    return f"chance ({100 * dataset.chance_error:.3g}%)"


def _by_level(runs: Sequence[Run]) -> dict[str, dict[float, list[Run]]]:
    """model -> label-corruption level -> its runs (plain runs only), models in the paper's order."""
    out: dict[str, dict[float, list[Run]]] = {}
    for r in plain_runs([r for r in runs if r.summary.level is not None]):
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
        fig, axes = new_figure(2 if second else 1, dataset)
        ax = axes[0]
        banded, missed = _time_panel(ax, data, fit, xlim, "not fitted within {steps} steps")
        fit_text = "/".join(_percent(t) for t in thresholds)
        ax.set_title(f"(b) time to overfit: {fit_text} training accuracy\n(window mean)")
        ax.set_ylabel("thousand steps to fit")
        place_legend(ax, legend_handles(ax, banded, [missed] if missed else []))
        if second:
            low = axes[1]
            banded, missed = _time_panel(
                low, data, reach, xlim, f"not at {_percent(lower)} within {{steps}} steps"
            )
            low.set_title(f"time to {_percent(lower)} training accuracy (window mean)")
            low.set_ylabel(f"thousand steps to {_percent(lower)}")
            low.set_xlabel("label corruption")
            shown = set(legend_labels(ax))  # the lower legend adds only what is new
            handles = legend_handles(low, banded, [missed] if missed else [])
            extra = [h for h in handles if h.get_label() not in shown]
            if extra:
                place_legend(low, extra)
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
        fig, (ax,) = new_figure(dataset=dataset)
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
        place_legend(ax, legend_handles(ax, banded))
    return fig
