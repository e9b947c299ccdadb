"""A grid folder as pandas DataFrames: one row per run, and every metrics row."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from rethink.results.frames import RUN_KEYS, metrics_frame, runs_frame
from rethink.results.loading import DuplicateRunError, load_grid
from tests.helpers.run_folders import DAY, T0, randomization_grid, spec_for, two_copies, write_run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "grid-0.1"


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = randomization_grid(tmp_path_factory.mktemp("grid"), models=("mlp_1x512",), seeds=(0,))
    write_run(root, spec_for("alexnet", "true_labels"), stop_at=300)  # still training
    return root


def test_runs_frame_has_a_row_per_run_with_its_settings_and_results(grid: Path) -> None:
    runs = runs_frame(grid).set_index("run_id")
    folders = sorted(p.name for p in grid.iterdir() if (p / "spec.json").is_file())
    assert sorted(runs.index) == folders
    for run_id in folders:
        result_path = grid / run_id / "result.json"
        spec = json.loads((grid / run_id / "spec.json").read_text())
        row = runs.loc[run_id]
        assert row["model"] == spec["model"] and row["batch_size"] == spec["batch_size"]
        if result_path.is_file():
            result = json.loads(result_path.read_text())
            assert row["status"] == result["status"]
            assert row["test_acc"] == pytest.approx(result["test_acc"])
        else:
            assert row["status"] == "incomplete"
    assert runs.loc["mlp_1x512-random_labels-s0", "randomization"] == "random labels"


def test_metrics_frame_is_every_row_with_its_runs_settings(grid: Path) -> None:
    rows = metrics_frame(grid)
    assert list(rows.columns[: len(RUN_KEYS)]) == list(RUN_KEYS)
    for run_id, part in rows.groupby("run_id"):
        with (grid / str(run_id) / "metrics.csv").open() as f:
            written = list(csv.DictReader(f))
        assert len(part) == len(written)
        assert list(part["step"]) == [int(r["step"]) for r in written]
        assert set(part["model"]) == {str(run_id).split("-")[0]}
    assert pd.api.types.is_float_dtype(rows["train_loss"])
    # The two frames join on run_id: the last training loss of each run.
    last = rows.dropna(subset=["train_loss"]).groupby("run_id")["step"].max()
    runs = runs_frame(grid).set_index("run_id")
    assert (last.reindex(runs.index) <= runs["step"]).all()


def test_frames_of_an_old_grid_and_of_an_empty_folder(tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(FIXTURE, old)
    grid = load_grid(old)
    assert len(runs_frame(grid)) == len(grid.runs) == 2  # a loaded Grid works too
    assert set(metrics_frame(old)["run_id"]) == {r.summary.run_id for r in grid.runs}
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runs_frame(empty).empty and metrics_frame(empty).empty


def test_frames_over_two_folders_have_a_source_column(two_parts: tuple[Path, Path]) -> None:
    a, b = two_parts
    runs = runs_frame([a, b]).set_index("run_id")
    assert runs.loc["mlp_1x512-random_labels-s0", "source"] == str(a)
    assert runs.loc["alexnet-gaussian-s0", "source"] == str(b)
    assert runs.loc["alexnet-gaussian-s0", "host"] == "gpu-b"
    rows = metrics_frame([str(a), str(b)])
    assert set(rows.groupby("source")["run_id"].nunique().items()) == {(str(a), 2), (str(b), 3)}
    assert list(runs_frame(a)["source"].unique()) == [str(a)]


def test_frames_pass_the_preference_on(tmp_path: Path) -> None:
    two_copies(tmp_path, T0, T0 + DAY)
    with pytest.raises(DuplicateRunError):
        runs_frame([tmp_path / "A", tmp_path / "B"])
    runs = runs_frame([tmp_path / "A", tmp_path / "B"], prefer="newer")
    assert list(runs["host"]) == ["gpu-b"]
    rows = metrics_frame([tmp_path / "A", tmp_path / "B"], prefer="first")
    assert set(rows["source"]) == {str(tmp_path / "A")}
