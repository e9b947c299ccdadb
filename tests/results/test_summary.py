"""rethink.results.summary: one run folder -> RunSummary (result.json, else metrics.csv)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rethink.results.loading import load_grid
from rethink.results.render import report_dict
from rethink.results.report import build_report
from rethink.results.summary import (
    CIFAR10,
    INCOMPLETE,
    START_LOSS,
    one_dataset,
    planned_steps,
    summarize,
)
from rethink.run.folder import read_json, write_json
from rethink.spec import RunSpec
from rethink.spec.datasets import KNOWN
from tests.helpers.run_folders import ENV, THREE, spec_for, summaries, write_run


def test_completed_run_summary_matches_result_json(tmp_path: Path) -> None:
    rd = write_run(
        tmp_path, spec_for("mlp_1x512", "gaussian", 3), plateau=300, fit_step=900, test_acc=0.12
    )
    (run,) = load_grid(tmp_path).runs
    s, result = run.summary, rd.result()
    assert result is not None
    assert s.status == "completed" and s.seed == 3 and s.level is None
    assert s.steps_to_fit == result["steps_to_fit"] == 900
    assert s.steps_to_loss == result["steps_to_loss"]
    assert s.test_acc == pytest.approx(result["test_acc"])
    assert (s.best_test_acc, s.best_test_step) == (result["best_test_acc"], 2400)
    assert s.wall_seconds == pytest.approx(result["wall_seconds"])
    assert (s.backend, s.device) == ("jax", "cpu")
    assert s.first_drop_step is not None and s.first_drop_step > 300
    rows = rd.metrics_rows()
    first_below = next(
        r["step"] for r in rows if r["train_loss"] is not None and r["train_loss"] <= START_LOSS
    )
    assert s.first_drop_step == first_below
    assert len(run.steps) == sum(r["train_loss"] is not None for r in rows)


def test_partial_run_is_summarized_from_metrics(tmp_path: Path) -> None:
    write_run(tmp_path, spec_for("alexnet", "true_labels"), fit_step=600, stop_at=1000, env=None)
    (run,) = load_grid(tmp_path).runs
    s = run.summary
    assert s.status == INCOMPLETE
    assert s.step == 1000 and s.total_steps == 2400
    assert s.steps_to_fit == 600  # from metrics.csv: first row at 100% training accuracy
    assert s.test_acc is not None  # the last epoch-end evaluation
    assert s.backend is None and s.device is None  # no env.json


def test_diverged_run_keeps_no_nan(tmp_path: Path) -> None:
    write_run(
        tmp_path,
        spec_for("mlp_1x512", "random_labels"),
        plateau=700,
        fit_step=1600,
        diverge_at=1000,
    )
    (run,) = load_grid(tmp_path).runs
    s = run.summary
    assert s.status == "diverged" and s.diverged_at_step == 1000
    assert s.train_loss is None and s.steps_to_fit is None
    assert run.steps.max() == 900 and all(math.isfinite(v) for v in run.train_loss)
    json.dumps(report_dict(build_report([s])), allow_nan=False)


def test_numbers_that_are_not_finite_or_not_numbers_read_as_unknown(tmp_path: Path) -> None:
    """result.json as another writer left it: strings, booleans, infinities."""
    rd = write_run(tmp_path, spec_for("alexnet", "true_labels"), test_acc=0.4)
    result = read_json(rd.result_path)
    assert result is not None
    odd = {"test_acc": "0.9", "wall_seconds": True, "images_per_s": math.inf}
    rd.result_path.write_text(json.dumps({**result, **odd}))  # Infinity, as Python writes it
    s = summarize(rd, spec_for("alexnet", "true_labels"))
    assert (s.test_acc, s.wall_seconds, s.images_per_s) == (None, None, None)
    # Where result.json has no value at all, metrics.csv's stands in.
    write_json(rd.result_path, {**result, **dict.fromkeys(odd)})
    s = summarize(rd, spec_for("alexnet", "true_labels"))
    assert s.test_acc == pytest.approx(0.4)
    assert s.wall_seconds == pytest.approx(24.0)  # 2,400 steps x 0.01 s
    assert s.images_per_s == pytest.approx(12_800.0)


def test_epochs_count_on_the_data_sets_own_training_split(tmp_path: Path) -> None:
    """An epochs run's length: its subset, else the split as recorded, else the named
    data set's; unknown for an image folder's run that recorded none."""
    epochs = {"steps": None, "epochs": 3, "train_subset": None}
    assert planned_steps(RunSpec(model="mlp_1x512", **epochs), (60_000, 10_000)) == 3 * 468
    assert planned_steps(RunSpec(model="mlp_1x512", **epochs), None) is None
    assert planned_steps(RunSpec(model="mlp_1x512", **{**epochs, "train_subset": 1280}), None) == 30
    assert planned_steps(RunSpec(model="mlp_1x512", steps=700), None) == 700
    for dataset, env, steps in (
        (KNOWN["mnist"], ENV, 3 * 468),  # 60,000 images (Dataset.split_sizes)
        (THREE, {**ENV, "data_images": [1280, 64]}, 30),  # as recorded
        (THREE, ENV, None),  # an image folder that recorded none
        (None, ENV, 3 * 390),  # records no data set: CIFAR-10, 50,000 images
    ):
        root = tmp_path / str(dataset and dataset.name) / str(len(env))
        rd = write_run(
            root, spec_for("mlp_1x512", "true_labels", steps=200), dataset=dataset, env=env
        )
        spec = RunSpec.from_dict({**(read_json(rd.spec_path) or {}), **epochs})
        assert summarize(rd, spec).total_steps == steps
    assert KNOWN["cifar10"].split_sizes == (50_000, 10_000) and THREE.split_sizes is None


def test_one_dataset_refuses_to_mix_data_sets(tmp_path: Path) -> None:
    write_run(tmp_path / "a", spec_for("mlp_1x512", "true_labels"))
    write_run(tmp_path / "b", spec_for("mlp_1x512", "true_labels"), dataset=THREE)
    a, b = summaries(tmp_path / "a"), summaries(tmp_path / "b")
    assert one_dataset(a) == CIFAR10 and one_dataset(b) == THREE and one_dataset([]) == CIFAR10
    with pytest.raises(ValueError, match=r"several data sets \(cifar10, my_images\)"):
        one_dataset(a + b)
