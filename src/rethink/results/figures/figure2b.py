"""Figure 2(b): Inception with and without BatchNorm, training and test accuracy (section 3.1).

    fig = figure_2b(runs)     # None unless both Inceptions have plain true-label runs

Training accuracy (`Run.curve("train_acc")`, the window means in training
mode, dashed) and test accuracy (the epoch-end evaluations in inference
mode, solid) against thousand steps, means over seeds without a band.
Shaded between the test curve and the best test accuracy so far (each run's
cumulative maximum, averaged): what stopping at the best evaluation would
have gained, the paper's "potential benefit" of early stopping.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from rethink.results.figures.curves import mean_curve
from rethink.results.figures.legend import legend_handles, place_legend
from rethink.results.figures.style import EARLY_STOP, FIG2B_STYLE, RC, dataset_of, new_figure
from rethink.results.loading import Run


def _fig2b_runs(runs: Sequence[Run]) -> dict[str, list[Run]]:
    """Figure 2(b)'s runs per variant: true labels, plain, with both curves; {} unless both."""
    out: dict[str, list[Run]] = {}
    for r in runs:
        s = r.summary
        wanted = s.model in FIG2B_STYLE and s.corruption == "true_labels" and s.plain
        if wanted and len(r.curve("train_acc")[0]) and len(r.curve("test_acc")[0]):
            out.setdefault(s.model, []).append(r)
    return {m: out[m] for m in FIG2B_STYLE} if set(out) == set(FIG2B_STYLE) else {}


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
        fig, (ax,) = new_figure(dataset=dataset)
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
        place_legend(ax, legend_handles(ax, False, [shade]))
    return fig
