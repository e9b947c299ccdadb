"""Figure 1 of the paper from a grid's runs: matplotlib Figure objects, no pyplot.

    grid = load_grid(Path("output_3"))
    fig = figure_1a(grid.runs, model="inception")     # (a) loss vs thousand steps
    fig = figure_1b(grid.runs)                        # (b) steps to fit vs corruption level
    fig = figure_1c(grid.runs)                        # (c) test error vs corruption level
    written, skipped = write_figures(grid.runs, Path("output_3/figures"))

Each function returns None when there is nothing to draw. Curves are means
over seeds with a min-max band; Figure 1a by default also averages over the
models present (each curve interpolated onto a common step grid first).
Sized for a paper column (3.4 in). Uses matplotlib's Agg canvas through
`Figure.savefig`, never pyplot, so no GUI and no global figure state.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from rethink.atomic import write_atomically
from rethink.rundir import COMPLETED
from rethink.spec import MODELS
from rethink.summary import CHANCE_LOSS, Run, randomization_label

WIDTH, HEIGHT = 3.4, 2.6  # inches: one column of the paper
MAX_POINTS = 1000  # points of the common step grid
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


def _new_axes() -> tuple[Figure, Axes]:
    fig = Figure(figsize=(WIDTH, HEIGHT), layout="constrained")
    ax = fig.add_subplot()
    ax.tick_params(which="both", direction="in", top=True, right=True)
    return fig, ax


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


def _on_grid(run: Run, grid: np.ndarray) -> np.ndarray:
    """The run's loss interpolated onto `grid`; NaN outside the steps it logged."""
    return np.interp(grid, run.steps, run.train_loss, left=np.nan, right=np.nan)


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


def _legend(ax: Axes, banded: bool, **kw: Any) -> None:
    handles, _ = ax.get_legend_handles_labels()
    if banded:
        handles.append(Patch(facecolor="gray", alpha=0.3, label=BAND))
    ax.legend(handles=handles, frameon=False, **kw)


def figure_1a(runs: Sequence[Run], model: str | None = None) -> Figure | None:
    """Average training loss against thousand steps, one curve per randomization."""
    chosen = [
        r
        for r in runs
        if r.summary.corruption in CORRUPTION_STYLE
        and (model is None or r.summary.model == model)
        and len(r.steps)
    ]
    chosen = _plain(chosen)
    if not chosen:
        return None
    models = sorted({r.summary.model for r in chosen})
    with matplotlib.rc_context(RC):
        fig, ax = _new_axes()
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
        ax.set_ylabel("average training loss")
        ax.set_xlim(left=0)
        ax.set_ylim(0, 1.05 * min(top, 2 * CHANCE_LOSS))
        what = models[0] if len(models) == 1 else f"mean of {len(models)} models"
        ax.set_title(f"(a) learning curves, {what}")
        _legend(ax, banded, loc="upper right")
    return fig


def _by_level(runs: Sequence[Run], value: Any) -> dict[str, dict[float, list[float | None]]]:
    """model -> label-corruption level -> value(run) per run (plain runs only)."""
    out: dict[str, dict[float, list[float | None]]] = {}
    for r in _plain([r for r in runs if r.summary.level is not None]):
        s = r.summary
        out.setdefault(s.model, {}).setdefault(float(s.level or 0.0), []).append(value(s))
    return dict(sorted(out.items(), key=lambda kv: MODELS.index(kv[0])))


def _level_lines(
    ax: Axes, data: dict[str, dict[float, list[float | None]]]
) -> tuple[bool, list[str]]:
    """One line per model: mean over runs where all have a value, band min-max."""
    banded, missing = False, []
    for model, levels in data.items():
        xs = sorted(levels)
        full = [all(v is not None for v in levels[p]) for p in xs]
        vals = [np.array(levels[p], dtype=float) for p in xs]
        mean = np.array([v.mean() if ok else np.nan for v, ok in zip(vals, full, strict=True)])
        missing += [f"{model} p={p:g}" for p, ok in zip(xs, full, strict=True) if not ok]
        if np.isnan(mean).all():
            continue
        style = MODEL_STYLE.get(model, {})
        ax.plot(xs, mean, label=model, **style)
        if max(len(v) for v in vals) > 1:
            lo = np.array([v.min() if ok else np.nan for v, ok in zip(vals, full, strict=True)])
            hi = np.array([v.max() if ok else np.nan for v, ok in zip(vals, full, strict=True)])
            ax.fill_between(xs, lo, hi, color=style.get("color"), alpha=0.2, linewidth=0)
            banded = True
    return banded, missing


def figure_1b(runs: Sequence[Run]) -> Figure | None:
    """Thousand steps to fit against label-corruption level, one line per model.

    Drawn only for a level sweep (three or more levels for some model); a level
    where some run never fitted is a missing point, listed under the plot.
    """

    def kilosteps(s: Any) -> float | None:
        return None if s.steps_to_fit is None else s.steps_to_fit / 1000

    data = _by_level(runs, kilosteps)
    if not any(len(levels) >= 3 for levels in data.values()):
        return None
    thresholds = sorted({r.summary.fit_threshold for r in runs if r.summary.level is not None})
    with matplotlib.rc_context(RC):
        fig, ax = _new_axes()
        banded, missing = _level_lines(ax, data)
        if not ax.get_lines():
            return None
        ax.set_xlabel("label corruption")
        ax.set_ylabel("thousand steps to fit")
        fit = "/".join(f"{100 * t:g}%" for t in thresholds)
        ax.set_title(f"(b) time to overfit (training accuracy {fit})")
        ax.set_ylim(bottom=0)
        _legend(ax, banded, loc="upper left")
        if missing:
            note = "not fitted: " + ", ".join(missing)
            ax.text(0.98, 0.03, note, transform=ax.transAxes, ha="right", fontsize=5.5, wrap=True)
    return fig


def figure_1c(runs: Sequence[Run]) -> Figure | None:
    """Test error (1 - final test accuracy) against label-corruption level, per model."""

    def error(s: Any) -> float | None:
        return None if s.test_acc is None else 1 - s.test_acc

    done = [r for r in runs if r.summary.status == COMPLETED]
    data = _by_level(done, error)
    if len({p for levels in data.values() for p in levels}) < 2:
        return None
    with matplotlib.rc_context(RC):
        fig, ax = _new_axes()
        banded, _ = _level_lines(ax, data)
        if not ax.get_lines():
            return None
        ax.axhline(0.9, color="gray", linestyle="--", linewidth=0.8, label="chance (90%)")
        ax.set_xlabel("label corruption")
        ax.set_ylabel("test error")
        ax.set_ylim(0, 1)
        ax.set_title("(c) generalization error growth")
        _legend(ax, banded, loc="lower right")
    return fig


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
) -> tuple[list[Path], list[str]]:
    """Draw every figure that has data into `out`; (paths written, messages for skipped)."""
    jobs: list[tuple[str, Figure | None, str]] = []
    if model is None:
        jobs.append(("figure1a", figure_1a(runs), "no training-loss curves"))
    for m in [model] if model else (sorted({r.summary.model for r in runs}) if per_model else []):
        jobs.append((f"figure1a_{m}", figure_1a(runs, m), f"no training-loss curves for {m}"))
    jobs.append(("figure1b", figure_1b(runs), "no level sweep (3+ label-corruption levels)"))
    jobs.append(("figure1c", figure_1c(runs), "no completed runs at 2+ label-corruption levels"))
    written, skipped = [], []
    for name, fig, why in jobs:
        if fig is None:
            skipped.append(f"{name}: {why}")
        else:
            written += save_figure(fig, out / name, formats)
    return written, skipped
