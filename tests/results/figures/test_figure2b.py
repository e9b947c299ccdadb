"""rethink.results.figures.figure2b: the Inceptions with and without BatchNorm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rethink.results.figures import (
    EARLY_STOP,
    FIG2B_STYLE,
    figure_2b,
    legend_hides_data,
)
from rethink.results.loading import Run, load_grid
from tests.helpers.run_folders import (
    spec_for,
    write_run,
)
from tests.results.figures.drawn import (
    covered,
    fill_heights,
    legend_texts,
)
from tests.results.figures.grids import FIG2B_BEST, FIG2B_FINAL


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
    bn, no_bn = fill_heights(ax)
    assert bn == pytest.approx(0.0, abs=1e-9)
    assert no_bn == pytest.approx(FIG2B_BEST["inception_no_bn"] - FIG2B_FINAL["inception_no_bn"])
    assert legend_texts(fig)[-1] == EARLY_STOP
    assert not legend_hides_data(ax) and covered(ax) == 0


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
