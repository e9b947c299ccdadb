"""Compact grids (`rethink grid --compact`): finished runs lose their checkpoint and model
at once, failed and stopped ones keep theirs, and grid.json keeps the grid compact.

With the fake worker (tests/helpers/fake_worker.py), which writes a checkpoint every
`log_every` steps and misbehaves on demand through FAKE_PLAN.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from pathlib import Path

import pytest

from rethink.grid import run_grid
from rethink.grid.executor import Executor, GridState, LocalLauncher, Reporter
from rethink.grid.shipping import Shipper, apply_files
from rethink.grid.spec import GridSpec, is_compact, read_record, write_record
from rethink.run.folder import CHECKPOINT, MODEL_FILE, RunDir
from rethink.spec import RunSpec
from rethink.train.outcome import Status
from tests.helpers.workers import calls, fake_worker

RECORD = ("spec.json", "env.json", "result.json", "worker.log")


def specs() -> list[RunSpec]:
    return [
        RunSpec(model=m, corruption=c, steps=20, log_every=5)
        for m, c in (
            ("mlp_1x512", "true_labels"),
            ("alexnet", "random_labels"),
            ("mlp_3x512", "gaussian"),
        )
    ]


def files(run_dir: Path) -> set[str]:
    return {p.name for p in run_dir.iterdir()}


def test_finished_runs_lose_checkpoint_and_model_failed_ones_keep_them_and_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid, runs = tmp_path / "g", specs()
    crash, ok, diverge = (s.run_id for s in runs)
    monkeypatch.setenv("FAKE_PLAN", json.dumps({crash: "crash", diverge: "diverge"}))
    launcher = LocalLauncher(fake_worker())
    first = Executor(grid, runs, backend="jax", launcher=launcher, compact=True).run()
    assert [r.status for r in first.runs] == [Status.FAILED, Status.COMPLETED, Status.DIVERGED]
    for run_id in (ok, diverge):
        assert CHECKPOINT not in files(grid / run_id)
        assert set(RECORD) <= files(grid / run_id)  # the run's record stays
    assert CHECKPOINT in files(grid / crash)  # needed to resume

    monkeypatch.delenv("FAKE_PLAN")
    second = Executor(grid, runs, backend="jax", launcher=launcher, compact=True).run()
    assert [r.status for r in second.runs] == [Status.COMPLETED, Status.COMPLETED, "diverged"]
    assert RunDir(grid / crash).result()["resumed_from"] == 10  # from the checkpoint it kept
    assert CHECKPOINT not in files(grid / crash)


def test_without_compact_every_checkpoint_stays(tmp_path: Path) -> None:
    grid, runs = tmp_path / "g", specs()[:1]
    Executor(grid, runs, backend="jax", launcher=LocalLauncher(fake_worker())).run()
    assert CHECKPOINT in files(grid / runs[0].run_id)


def test_a_stopped_run_keeps_its_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_STEP_S", "0.01")
    grid, runs = tmp_path / "g", [dataclasses.replace(specs()[0], steps=100)]
    executor: Executor

    class StopMidway(Reporter):
        def update(self, state: GridState) -> None:
            if state.runs[0].step >= 12 and not state.interrupted:  # past a checkpoint
                executor.request_stop()

    executor = Executor(
        grid,
        runs,
        backend="jax",
        launcher=LocalLauncher(fake_worker()),
        reporter=StopMidway(),
        compact=True,
    )
    executor.refresh_s = 0.02
    assert executor.run().runs[0].status == Status.STOPPED
    assert CHECKPOINT in files(grid / runs[0].run_id)


def test_runs_finished_before_are_compacted_when_the_grid_starts(tmp_path: Path) -> None:
    run = specs()[0]
    done = tmp_path / "g" / run.run_id
    done.mkdir(parents=True)
    (done / "result.json").write_text(json.dumps({"status": "completed", "step": 20}))
    for name in (CHECKPOINT, MODEL_FILE, "metrics.csv"):
        (done / name).write_bytes(b"x")

    def no_worker(spec: Path, out: Path, backend: str) -> list[str]:
        raise AssertionError("nothing to train")

    launcher = LocalLauncher(no_worker)
    executor = Executor(tmp_path / "g", [run], backend="jax", launcher=launcher, compact=True)
    assert files(done) == {"result.json", "metrics.csv"}
    assert executor.run().runs[0].status == Status.COMPLETED


def _recording_worker(spec_path: Path, grid_dir: Path, backend: str) -> list[str]:
    """The fake worker, after noting the two settings a compact grid gives its workers."""
    note = shlex.quote(str(spec_path.parent / "settings.txt"))
    script = f'echo "$RETHINK_SAVE_MODEL $RETHINK_KEEP_CHECKPOINT" >> {note}; exec "$@"'
    return ["sh", "-c", script, "sh", *fake_worker()(spec_path, grid_dir, backend)]


def test_grid_json_keeps_a_grid_compact_and_the_workers_are_told(tmp_path: Path) -> None:
    grid = GridSpec(models=("mlp_1x512",), corruptions=("true_labels", "gaussian"),
                    base={"steps": 20, "log_every": 5})  # fmt: skip
    folder = tmp_path / "g"
    result = run_grid(grid, folder, backend="jax", worker=_recording_worker, compact=True)
    assert result.exit_code == 0
    rec = read_record(folder)
    assert rec is not None and rec["compact"] is True
    for run in result.state.runs:
        assert CHECKPOINT not in files(folder / run.run_id)
        # No model saved; the worker removes its own checkpoint (a Ray task then never
        # ships it back).
        assert (folder / run.run_id / "settings.txt").read_text().split() == ["0", "0"]

    # Resumed without asking: still compact (grid.json says so).
    target = folder / result.state.runs[1].run_id
    (target / "result.json").unlink()
    again = run_grid(grid, folder, backend="jax", worker=_recording_worker)
    assert again.exit_code == 0 and len(calls(target)) == 2
    assert CHECKPOINT not in files(target)
    assert (target / "settings.txt").read_text().split()[2:] == ["0", "0"]


def test_a_grid_json_without_the_field_is_not_compact_until_asked(tmp_path: Path) -> None:
    grid = GridSpec(models=("mlp_1x512",), corruptions=("true_labels",),
                    base={"steps": 20, "log_every": 5})  # fmt: skip
    folder = tmp_path / "g"
    run_grid(grid, folder, backend="jax", worker=fake_worker())
    rec = read_record(folder)
    assert rec is not None
    del rec["compact"]  # as written before compact grids existed
    write_record(folder, rec)
    assert not is_compact(rec)
    run_id = grid.models[0] + "-true_labels-s0"
    assert run_grid(grid, folder, backend="jax", worker=fake_worker()).exit_code == 0
    assert CHECKPOINT in files(folder / run_id)  # off: nothing removed
    # Made compact on a later call: from now on, finished runs included.
    assert run_grid(grid, folder, backend="jax", worker=fake_worker(), compact=True).exit_code == 0
    assert CHECKPOINT not in files(folder / run_id)
    assert is_compact(read_record(folder) or {})


def test_a_checkpoint_the_worker_removed_is_shipped_as_a_removal(tmp_path: Path) -> None:
    """On Ray without shared storage: the worker of a compact grid removes its checkpoint
    when it finishes, so the task's last shipment removes the driver's copy instead of
    sending the file."""
    node, driver = tmp_path / "node", tmp_path / "driver"
    node.mkdir()
    shipped: list[dict] = []
    shipper = Shipper(node, shipped.append)
    (node / CHECKPOINT).write_bytes(b"weights at 31")
    shipper.ship()  # an epoch's checkpoint, shipped while training
    (node / "result.json").write_text('{"status": "completed"}')
    (node / CHECKPOINT).unlink()  # rethink run --no-keep-checkpoint, once completed
    final = shipper.ship(everything=True)
    assert final[CHECKPOINT] is None
    for sent in shipped:
        apply_files(driver, sent)
    assert files(driver) == {"result.json"}
