"""The grid's state: a run's numbers and time left, the grid's ETA, the state found on disk,
the exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rethink.grid.state import GridState, RunState, exit_code
from rethink.spec import RunSpec
from rethink.train.outcome import Status


def specs(n: int, steps: int = 100) -> list[RunSpec]:
    corruptions = ("true_labels", "random_labels", "gaussian", "shuffled_pixels")
    return [RunSpec(model="mlp_1x512", corruption=c, steps=steps) for c in corruptions[:n]]


def a_state(tmp_path: Path, n: int = 3) -> GridState:
    runs = [RunState(spec=s, index=i + 1) for i, s in enumerate(specs(n))]
    return GridState(grid_dir=tmp_path, runs=runs, backend="jax")


def test_eta_uses_the_speed_of_runs_seen_so_far(tmp_path: Path) -> None:
    state = a_state(tmp_path)
    assert state.eta() is None  # nothing measured yet
    state.runs[0].status = Status.RUNNING
    state.runs[0].progress = {"step": 40, "total_steps": 100, "seconds": 20.0}
    # 60 steps left at 0.5 s/step for the running run, 100 each for the two queued.
    assert state.eta() == pytest.approx(0.5 * (60 + 100 + 100))
    state.jobs = 2
    assert state.eta() == pytest.approx(0.5 * (60 + 100 + 100) / 2)
    assert state.runs[0].remaining() == pytest.approx(30.0)


def test_eta_counts_no_work_for_ended_runs_and_each_model_at_its_own_speed(
    tmp_path: Path,
) -> None:
    fast = RunSpec(model="mlp_1x512", corruption="true_labels", steps=100)
    slow = RunSpec(model="alexnet", corruption="true_labels", steps=100)
    runs = [
        RunState(spec=fast, index=1, status=Status.FAILED, result={"step": 50, "wall_seconds": 5.0}),
        RunState(spec=slow, index=2, status=Status.RUNNING,
                 progress={"step": 10, "total_steps": 100, "seconds": 20.0}),
        RunState(spec=fast, index=3),  # queued: at the MLP's 0.1 s/step
        RunState(spec=slow, index=4),  # queued: at AlexNet's 2 s/step
    ]  # fmt: skip
    state = GridState(grid_dir=tmp_path, runs=runs, backend="jax")
    assert state.eta() == pytest.approx(90 * 2.0 + 100 * 0.1 + 100 * 2.0)


def test_steps_done_counts_a_completed_run_whole(tmp_path: Path) -> None:
    state = a_state(tmp_path)
    state.runs[0].status, state.runs[0].result = Status.COMPLETED, {"step": 60}  # stopped at fit
    state.runs[1].status = Status.RUNNING
    state.runs[1].progress = {"step": 30, "total_steps": 100}
    assert state.steps_done() == (130, 300)


def test_a_run_shows_its_result_once_ended_and_its_progress_before(tmp_path: Path) -> None:
    run = RunState(spec=specs(1)[0], index=1, status=Status.RUNNING, started=100.0)
    assert run.elapsed(now=130.0) == 30.0  # nothing written yet: wall time since start
    run.progress = {"step": 20, "total_steps": 100, "test_acc": 0.3, "seconds": 8.0}
    assert (run.step, run.value("test_acc"), run.elapsed(now=130.0)) == (20, 0.3, 8.0)
    assert run.seconds_per_step() == pytest.approx(0.4)
    run.status = Status.COMPLETED
    run.result = {"step": 100, "test_acc": 0.5, "wall_seconds": 50.0}
    assert (run.step, run.value("test_acc"), run.elapsed(now=130.0)) == (100, 0.5, 50.0)
    assert run.remaining() is None  # not running


def test_the_state_found_on_disk_keeps_done_runs_and_queues_the_rest(tmp_path: Path) -> None:
    runs = specs(4)
    for spec, status in zip(runs, ("completed", "diverged", "failed", "stopped"), strict=True):
        (tmp_path / spec.run_id).mkdir()
        (tmp_path / spec.run_id / "result.json").write_text(json.dumps({"status": status}))
    (tmp_path / runs[3].run_id / "progress.json").write_text(json.dumps({"step": 7}))
    state = GridState.from_folder(tmp_path, runs, backend="torch")
    assert [r.status for r in state.runs] == [Status.COMPLETED, Status.DIVERGED] + [
        Status.QUEUED
    ] * 2
    assert [r.index for r in state.runs] == [1, 2, 3, 4]
    assert state.runs[0].result == {"status": "completed"}
    assert state.runs[2].result is None  # a failed run's result is stale: it trains again
    assert state.runs[3].progress == {"step": 7}
    assert state.backend == "torch"


def test_exit_code_is_0_only_when_every_run_completed(tmp_path: Path) -> None:
    state = a_state(tmp_path, n=2)
    for run in state.runs:
        run.status = Status.COMPLETED
    assert exit_code(state) == 0
    state.runs[1].status = Status.DIVERGED
    assert exit_code(state) == 1
    state.interrupted = True
    assert exit_code(state) == 130
    for run in state.runs:
        run.status = Status.COMPLETED
    assert exit_code(state) == 0  # stopped, but nothing was left to train
