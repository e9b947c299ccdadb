"""A set of runs' figures as files: every figure that has data, PNG and PDF.

    written, skipped = write_figures(grid.runs, Path("output_3/figures"))
    save_figure(fig, Path("paper/figure1b"), formats=("pdf",))

Each file is written whole or not at all (`rethink.base.atomic`). Runs of
several data sets get a folder per data set, each with that data set's
figures; a figure with nothing to draw is skipped, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from rethink.base.atomic import write_atomically
from rethink.results.figures.figure1a import ALL_MODELS, figure_1a, figure_1a_models, models_present
from rethink.results.figures.figure1bc import LOWER_THRESHOLD, figure_1b, figure_1c
from rethink.results.figures.figure2b import figure_2b
from rethink.results.figures.memorization import (
    figure_clean_changed,
    figure_first_learned,
    figure_forgetting,
)
from rethink.results.figures.style import RC
from rethink.results.loading import Run
from rethink.results.summary import CIFAR10


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
    models with curves, figure1a_models too (`figure_1a_models`). The memorization
    figures (`rethink.results.figures.memorization`) where a run has their data (a set
    without any, made before rethink recorded it, skips them silently). Runs of several data
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
        for m in models_present(runs):
            if m != model:
                jobs.append(
                    (f"figure1a_{m}", figure_1a(runs, m), f"no training-loss curves for {m}")
                )
    if len(models_present(runs)) >= 2:
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
    memorization = [
        ("memorization_clean_changed", figure_clean_changed(runs), "the clean/changed columns"),
        ("memorization_first_learned", figure_first_learned(runs), "examples.npz"),
        ("memorization_forgetting", figure_forgetting(runs), "examples.npz"),
    ]
    if any(fig is not None for _, fig, _ in memorization):  # else: runs from before them
        jobs += [(n, f, f"no run with corrupted labels has {why}") for n, f, why in memorization]
    written, skipped = [], []
    for name, fig, why in jobs:
        if fig is None:
            skipped.append(f"{name}: {why}")
        else:
            written += save_figure(fig, out / name, formats)
    return written, skipped
