"""`rethink export --to tensorboard`: event files read back with TensorBoard's own reader."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rethink.cli as cli
from tests.helpers.run_folders import spec_for, write_run

pytest.importorskip("tensorboard")
cli._register()
runner = CliRunner()


def _scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_export_writes_every_metric_of_every_run(tmp_path: Path) -> None:
    grid = tmp_path / "grid"
    write_run(grid, spec_for("mlp_1x512", "true_labels"), test_acc=0.5)
    write_run(grid, spec_for("mlp_1x512", "random_labels"), test_acc=0.1, stop_at=300)
    result = runner.invoke(cli.app, ["export", str(grid), "--to", "tensorboard"])
    assert result.exit_code == 0, result.output
    for run_id in ("mlp_1x512-true_labels-s0", "mlp_1x512-random_labels-s0"):
        with (grid / run_id / "metrics.csv").open() as f:
            rows = list(csv.DictReader(f))
        scalars = _scalars(grid / "tensorboard" / run_id)
        want = [(int(r["step"]), float(r["train_loss"])) for r in rows if r["train_loss"]]
        got = scalars["train/loss"]
        assert [s for s, _ in got] == [s for s, _ in want]
        assert [v for _, v in got] == pytest.approx([v for _, v in want], rel=1e-6)
        tests = [(int(r["step"]), float(r["test_acc"])) for r in rows if r["test_acc"]]
        assert scalars["test/accuracy"] == [(s, pytest.approx(v, rel=1e-6)) for s, v in tests]
    # Exporting again replaces the files: no point twice.
    first = _scalars(grid / "tensorboard" / "mlp_1x512-true_labels-s0")
    assert runner.invoke(cli.app, ["export", str(grid)]).exit_code == 0
    assert _scalars(grid / "tensorboard" / "mlp_1x512-true_labels-s0") == first


def test_export_without_tensorboard_or_runs_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(cli.app, ["export", str(empty)])
    assert result.exit_code == 2 and "no run folders" in result.output
    grid = tmp_path / "grid"
    write_run(grid, spec_for("mlp_1x512", "true_labels"))
    for name in ("tensorboard", "tensorboard.compat.proto", "tensorboard.summary.writer"):
        monkeypatch.setitem(sys.modules, name, None)  # `import` fails, as if not installed
    result = runner.invoke(cli.app, ["export", str(grid)])
    assert result.exit_code == 2
    assert "pip install 'rethink-generalization[tensorboard]'" in result.output
    assert len(result.output.strip().splitlines()) == 1
