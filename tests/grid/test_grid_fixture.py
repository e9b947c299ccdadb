"""A grid folder written by rethink 0.1 (tests/fixtures/grid-0.1) still resumes, plots, reports.

The fixture is a two-run smoke grid (MLP 1x512, true and random labels; no
checkpoints) trained by rethink 0.1: spec.json without a version, result.json
without a format (train_acc was the last row's running mean), metrics.csv
without window columns and with the short row after the epoch end (step 31).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rethink.cli as cli
from rethink.grid import run_grid
from rethink.grid.record import grid_of, read_record
from rethink.results import build_report, load_grid
from rethink.results.render import render_markdown

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "grid-0.1"
cli._register()


@pytest.fixture
def old_grid(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "grid"))


def test_resuming_it_trains_nothing_and_keeps_every_result(old_grid: Path) -> None:
    rec = read_record(old_grid)
    assert rec is not None
    before = {p: p.read_bytes() for p in old_grid.rglob("*") if p.is_file()}

    def no_worker(spec: Path, out: Path, backend: str) -> list[str]:
        raise AssertionError(f"a finished run was started again: {spec}")

    result = run_grid(grid_of(rec), old_grid, backend=rec["backend"], worker=no_worker)
    assert result.exit_code == 0
    assert [str(r.status) for r in result.state.runs] == ["completed", "completed"]
    after = {p: p.read_bytes() for p in old_grid.rglob("*") if p.is_file() and p.name != ".lock"}
    assert after == {p: b for p, b in before.items()}  # nothing rewritten


def test_it_plots_and_reports_with_the_0_1_numbers_read_as_what_they_were(
    old_grid: Path,
) -> None:
    grid = load_grid(old_grid)
    runs = {r.summary.run_id: r.summary for r in grid.runs}
    true = runs["mlp_1x512-true_labels-s0"]
    # result.json format 1: its train_acc was the last window's running mean.
    assert true.train_acc is None and true.window_train_acc == pytest.approx(0.5208, abs=1e-4)
    assert true.train_acc_measure == "window"
    assert true.best_test_acc == pytest.approx(0.26) and true.best_test_step == 31
    report = build_report([r.summary for r in grid.runs], str(old_grid))
    text = render_markdown(report)
    assert "not the paper's protocol" in text and "52.08% (w)" in text
    out = CliRunner().invoke(cli.app, ["plot", str(old_grid)])
    assert out.exit_code == 0, out.output
    assert (old_grid / "figures" / "figure1a.png").is_file()
    out = CliRunner().invoke(cli.app, ["report", str(old_grid)])
    assert out.exit_code == 0, out.output
    assert (old_grid / "report.md").is_file()
