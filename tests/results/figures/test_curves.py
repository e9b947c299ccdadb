"""rethink.results.figures.curves: means over seeds on common steps."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from rethink.results.figures import (
    mean_curve,
    seed_curves,
)
from rethink.results.loading import Run, load_grid
from tests.helpers.run_folders import (
    spec_for,
    write_run,
)


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


def test_mean_curve_best_so_far_is_each_runs_cumulative_maximum(tmp_path: Path) -> None:
    write_run(tmp_path, spec_for("inception_no_bn", "true_labels"), test_acc=0.6, best_test_acc=0.7)
    (run,) = load_grid(tmp_path).runs
    steps, values = run.curve("test_acc")
    best = mean_curve([run], "test_acc", best_so_far=True)
    np.testing.assert_allclose(best[0], steps)
    np.testing.assert_allclose(best[1], np.maximum.accumulate(values))
    assert best[1][-1] == pytest.approx(0.7) and values[-1] == pytest.approx(0.6)
