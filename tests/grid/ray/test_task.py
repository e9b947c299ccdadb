"""One attempt at a run on a "node" (a temporary folder), without Ray, with the fake
worker (tests/helpers/fake_worker.py): shipping back, training in place, a retry from the
last shipped checkpoint, a cancel passed on as SIGINT."""

from __future__ import annotations

import _thread
import json
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest

from rethink.grid.ray import task
from rethink.grid.ray.shipping import ProgressBoard, apply_files
from rethink.grid.ray.task import MARKER, Job, run_attempt
from rethink.run.folder import CHECKPOINT, RunDir
from rethink.spec import RunSpec
from tests.helpers.workers import calls, fake_worker

NODE = {"node_id": "n" * 56, "node_ip": "10.1.2.3", "host": "node-a"}


def _job(tmp_path: Path, run: RunSpec, **kw: object) -> Job:
    grid = tmp_path / "grid"
    (grid / run.run_id).mkdir(parents=True, exist_ok=True)
    (grid / run.run_id / "spec.json").write_text(json.dumps(run.to_dict()))
    fields = {
        "run_id": run.run_id,
        "spec": run.to_dict(),
        "backend": "jax",
        "grid_dir": str(grid),
        "token": "t0k3n",
        "worker": fake_worker(),
    }
    fields.update(kw)
    return Job(**fields)  # type: ignore[arg-type]


def _collect(board: ProgressBoard, grid: Path) -> None:
    """What the driver does: write what the nodes shipped into its run folders."""
    for run_id, files in board.changes(0)[1].items():
        apply_files(grid / run_id, files)


def test_an_attempt_without_the_grid_folder_trains_aside_and_ships_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "node-tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    run = RunSpec(model="mlp_1x512", corruption="true_labels", steps=20, log_every=5)
    job = _job(tmp_path, run)  # no marker in the grid folder: this "node" does not see it
    board = ProgressBoard()
    out = run_attempt(job, board, NODE)
    assert out["returncode"] == 0 and out["shared"] is False and out["node_ip"] == "10.1.2.3"
    rd = RunDir(Path(job.grid_dir) / run.run_id)
    assert not rd.result_path.exists()  # nothing written in place
    _collect(board, Path(job.grid_dir))
    assert rd.result()["status"] == "completed"
    assert rd.checkpoint_path.exists()
    log = (rd.path / "worker.log").read_text()
    assert "rethink grid starts on Ray node 10.1.2.3 (node-a), shipping its files back" in log
    assert "fake worker starts" in log
    assert board.changes(0)[2][run.run_id]["shared"] is False
    assert list(scratch.iterdir()) == []  # the node's scratch folder is gone


def test_an_attempt_that_sees_the_grid_folder_trains_in_place(tmp_path: Path) -> None:
    run = RunSpec(model="mlp_1x512", corruption="gaussian", steps=20, log_every=5)
    job = _job(tmp_path, run)
    (Path(job.grid_dir) / MARKER).write_text("t0k3n\n")
    board = ProgressBoard()
    out = run_attempt(job, board, NODE)
    assert out["returncode"] == 0 and out["shared"] is True
    assert RunDir(Path(job.grid_dir) / run.run_id).result()["status"] == "completed"
    assert board.changes(0)[1] == {}  # nothing shipped

    # A folder with another grid's token is not this grid's folder.
    other = _job(tmp_path, run, token="another", run_id=run.run_id)
    assert run_attempt(other, ProgressBoard(), NODE)["shared"] is False


def test_a_jobs_env_reaches_its_worker(tmp_path: Path) -> None:
    """`rethink grid --no-save-model` on Ray: the setting travels with the task."""
    run = RunSpec(model="mlp_1x512", corruption="true_labels", steps=5, log_every=5)
    job = _job(tmp_path, run, env={"RETHINK_SAVE_MODEL": "0"})
    (Path(job.grid_dir) / MARKER).write_text("t0k3n\n")
    assert run_attempt(job, ProgressBoard(), NODE)["returncode"] == 0
    (call,) = calls(Path(job.grid_dir) / run.run_id)
    assert call["env"]["RETHINK_SAVE_MODEL"] == "0"


def test_a_retry_starts_from_the_last_shipped_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = RunSpec(model="mlp_1x512", corruption="random_labels", steps=20, log_every=5)
    job = _job(tmp_path, run)
    board = ProgressBoard()
    # The first attempt's worker is killed at step 10, after its checkpoint at step 10.
    monkeypatch.setenv("FAKE_PLAN", json.dumps({run.run_id: "oom"}))
    assert run_attempt(job, board, NODE)["returncode"] == -signal.SIGKILL
    assert board.checkout(run.run_id)[CHECKPOINT] == b'{"step": 10}'

    monkeypatch.delenv("FAKE_PLAN")
    assert run_attempt(job, board, {**NODE, "host": "node-b"})["returncode"] == 0
    _collect(board, Path(job.grid_dir))
    result = RunDir(Path(job.grid_dir) / run.run_id).result()
    assert result["status"] == "completed" and result["resumed_from"] == 10
    log = (Path(job.grid_dir) / run.run_id / "worker.log").read_text()
    assert log.count("rethink grid starts on Ray node") == 2  # both attempts' output kept


def test_a_cancel_reaches_the_worker_as_one_sigint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = RunSpec(model="mlp_1x512", corruption="true_labels", steps=400, log_every=5)
    job = _job(tmp_path, run)
    board = ProgressBoard()
    monkeypatch.setenv("FAKE_STEP_S", "0.01")
    monkeypatch.setattr(task, "PUSH_EVERY_S", 0.1)  # the first checkpoint shipped sooner

    # ray.cancel raises KeyboardInterrupt in the task: do that once a checkpoint was shipped.
    def cancel_when_running() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if CHECKPOINT in board.checkout(run.run_id):
                _thread.interrupt_main()
                return
            time.sleep(0.05)

    threading.Thread(target=cancel_when_running, daemon=True).start()
    out = run_attempt(job, board, NODE)
    assert out["returncode"] == 130
    _collect(board, Path(job.grid_dir))
    rd = RunDir(Path(job.grid_dir) / run.run_id)
    result = rd.result()
    assert result["status"] == "stopped" and 0 < result["step"] < 400
    assert rd.checkpoint_path.exists()
