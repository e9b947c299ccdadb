"""How runs memorize corrupted labels, example by example: three figures.

    fig = figure_clean_changed(runs)   # training accuracy on kept and changed labels, test
    fig = figure_first_learned(runs)   # when examples were first learned, kept vs changed
    fig = figure_forgetting(runs)      # accuracy against the gap since an example's last visit

One panel per run with corrupted labels (partial labels above level 0, random
labels), ordered by model and level; of several seeds, the lowest. Figure
(1), the one of Arpit et al. (2017) for the paper's models, reads metrics.csv
(the window columns `train_acc_changed`, `train_acc_kept`,
`train_orig_changed`, and `test_acc`); (2) and (3) read examples.npz
(`rethink.results.examples`). Each returns None where no run has the data
(run folders made before rethink recorded it).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rethink.results.examples import LABEL_CORRUPTIONS, forgetting_curve, load_examples
from rethink.results.figures.style import RC, dataset_of
from rethink.results.loading import Run

KEPT, CHANGED, ORIGINAL, TEST = "tab:blue", "tab:red", "tab:orange", "black"


def _corrupted(runs: Sequence[Run], has: Callable[[Run], bool]) -> list[Run]:
    """One run (the lowest seed) per model and level with corrupted labels and the data."""
    chosen: dict[tuple[str, float], Run] = {}
    for r in sorted(runs, key=lambda r: r.summary.seed):
        s = r.summary
        if s.corruption not in LABEL_CORRUPTIONS or not (s.level or 0) > 0 or not has(r):
            continue
        chosen.setdefault((s.model, float(s.level or 0)), r)
    return [chosen[k] for k in sorted(chosen)]


def _title(r: Run) -> str:
    s = r.summary
    what = "random labels" if s.corruption == "random_labels" else f"p = {s.level:g}"
    return f"{s.model}, {what}"


def _panels(runs: Sequence[Run], title: str) -> tuple[Figure, list[Axes]]:
    cols = min(3, len(runs))
    rows = math.ceil(len(runs) / cols)
    fig = Figure(figsize=(2.3 * cols, 0.5 + 1.9 * rows), layout="constrained")
    fig.suptitle(f"{title}\n{dataset_of(runs).describe()}", fontsize=RC["axes.titlesize"])
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(len(runs))]
    for ax, r in zip(axes, runs, strict=True):
        ax.set_title(_title(r))
    return fig, axes


def load_examples_of(run: Run) -> dict[str, np.ndarray] | None:
    """The run's examples.npz arrays (None: it has none)."""
    return load_examples(Path(run.summary.path))


def _has_split(r: Run) -> bool:
    return len(r.curve("train_acc_changed")[0]) > 0


def figure_clean_changed(runs: Sequence[Run]) -> Figure | None:
    """Training accuracy (window means, training mode) on the examples whose label was
    kept and on those changed, how often a changed one is predicted as its original
    label, and test accuracy, against thousand steps; a panel per corrupted run."""
    chosen = _corrupted(runs, _has_split)
    if not chosen:
        return None
    with matplotlib.rc_context(RC):
        fig, axes = _panels(chosen, "(1) clean against changed labels, while training")
        for ax, r in zip(axes, chosen, strict=True):
            for column, color, label in (
                ("train_acc_kept", KEPT, "train, kept labels"),
                ("train_acc_changed", CHANGED, "train, changed labels"),
                ("train_orig_changed", ORIGINAL, "changed, predicted original"),
                ("test_acc", TEST, "test"),
            ):
                x, y = r.curve(column)
                ax.plot(x / 1000, y, color=color, label=label, linewidth=1)
            ax.set_ylim(0, 1.02)
            ax.set_xlabel("thousand steps")
        axes[0].set_ylabel("accuracy")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=4, frameon=False)
    return fig


def figure_first_learned(runs: Sequence[Run]) -> Figure | None:
    """The distribution of the step each example was first learned, kept against changed
    labels (fractions of each group; the never learned are left out and counted)."""
    data = {id(r): load_examples_of(r) for r in runs}
    chosen = _corrupted(runs, lambda r: "changed" in (data[id(r)] or {}))
    if not chosen:
        return None
    with matplotlib.rc_context(RC):
        fig, axes = _panels(chosen, "(2) when examples are first learned")
        for ax, r in zip(axes, chosen, strict=True):
            arrays = data[id(r)] or {}
            first, changed = arrays["first_learned"], arrays["changed"].astype(bool)
            top = max(1, int(first.max()))
            bins = (np.linspace(0, top, 41) / 1000).tolist()
            for mask, color, label in ((~changed, KEPT, "kept"), (changed, CHANGED, "changed")):
                if not mask.any():
                    continue
                learned = first[mask & (first >= 0)] / 1000
                never = 1 - learned.size / mask.sum()
                weights = np.full(learned.size, 1 / mask.sum())
                ax.hist(
                    learned,
                    bins=bins,
                    weights=weights,
                    color=color,
                    alpha=0.5,
                    label=f"{label} (never: {never:.0%})",
                )
            ax.set_xlabel("first learned, thousand steps")
            ax.legend(frameon=False)
        axes[0].set_ylabel("fraction of the group")
    return fig


def figure_forgetting(runs: Sequence[Run]) -> Figure | None:
    """Training accuracy at a visit against the epochs since the example's previous
    visit (the forgetting curve behind the within-epoch sawtooth), in the first,
    middle and last third of training; dashed: of the examples right at their previous
    visit, the fraction still right."""
    data = {id(r): load_examples_of(r) for r in runs}
    chosen = _corrupted(runs, lambda r: "gap_visits" in (data[id(r)] or {}))
    if not chosen:
        return None
    with matplotlib.rc_context(RC):
        fig, axes = _panels(chosen, "(3) accuracy against steps since last seen")
        for ax, r in zip(axes, chosen, strict=True):
            arrays = data[id(r)] or {}
            epochs = int(np.flatnonzero(arrays["gap_visits"].sum(axis=1)).max(initial=0)) + 1
            edges = np.linspace(0, epochs, 4).round().astype(int)
            for i, (a, b) in enumerate(itertools.pairwise(edges)):
                if b <= a:
                    continue
                gaps, acc, kept = forgetting_curve(arrays, int(a), int(b))
                color = matplotlib.colormaps["viridis"](i / 2)
                seen, right = np.isfinite(acc), np.isfinite(kept)  # bins with visits
                ax.plot(gaps[seen], acc[seen], color=color, label=f"epochs {a + 1}-{b}")
                ax.plot(gaps[right], kept[right], color=color, linestyle="--", linewidth=0.8)
            ax.set_xlabel("epochs since last seen")
            ax.set_ylim(0, 1.02)
            ax.legend(frameon=False)
        axes[0].set_ylabel("training accuracy at the visit")
    return fig
