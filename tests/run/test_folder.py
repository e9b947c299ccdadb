"""The run-folder format: atomic JSON, metrics rows, torn lines, resume truncation."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from rethink.run.folder import (
    METRICS_COLUMNS,
    MetricsWriter,
    RunDir,
    find_runs,
    read_json,
    write_json,
)
from rethink.spec import RunSpec


def _row(step: int, loss: float = 1.0) -> dict[str, float | None]:
    return {"step": step, "epoch": step / 10, "lr": 0.1, "train_loss": loss, "train_acc": 0.5}


def test_metrics_are_readable_by_pandas_mid_run(tmp_path: Path) -> None:
    w = MetricsWriter(tmp_path / "metrics.csv")
    w.write(_row(10))
    w.write({**_row(20), "test_loss": 2.0, "test_acc": 0.3})
    frame = pd.read_csv(tmp_path / "metrics.csv")  # while still open
    assert tuple(frame.columns) == METRICS_COLUMNS
    assert frame["step"].tolist() == [10, 20]
    assert math.isnan(frame["test_acc"][0]) and frame["test_acc"][1] == 0.3
    w.close()


def test_resume_drops_rows_after_the_checkpoint_and_torn_lines(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    w = MetricsWriter(path)
    for step in (10, 20, 30):
        w.write(_row(step))
    w.close()
    with path.open("a") as f:
        f.write("40,4,0.1,0.")  # a run killed mid-write
    assert [r["step"] for r in RunDir(tmp_path).metrics_rows()] == [10, 20, 30]
    w = MetricsWriter(path, keep_until_step=20)
    w.write(_row(30, loss=0.5))
    w.close()
    rows = RunDir(tmp_path).metrics_rows()
    assert [(r["step"], r["train_loss"]) for r in rows] == [(10, 1.0), (20, 1.0), (30, 0.5)]


def test_json_is_atomic_and_nan_free(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    write_json(path, {"status": "diverged", "train_loss": float("nan")})
    assert read_json(path) == {"status": "diverged", "train_loss": None}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]  # no temp files left
    path.write_text("{not json")
    assert read_json(path) is None


def test_find_runs_reads_partial_folders(tmp_path: Path) -> None:
    spec = RunSpec(model="mlp_1x512", corruption="random_labels")
    run = RunDir(tmp_path / spec.run_id)
    write_json(run.spec_path, spec.to_dict())
    (tmp_path / "figures").mkdir()
    runs = find_runs(tmp_path)
    assert runs == [run]
    assert run.spec() == spec and run.status() is None and run.metrics_rows() == []
    write_json(run.result_path, {"status": "completed"})
    assert run.is_completed()
