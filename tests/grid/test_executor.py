"""The grid's executor with a fake worker: isolation, results, resume, stop, GPUs,
compact grids, and any launcher.

The fake worker (tests/helpers/fake_worker.py, also used by test_folder.py,
ray/test_task.py and tests/cli) stands in for `rethink run`: it steps through its spec's
steps, writing progress.json, a checkpoint every `log_every` steps and
result.json, resumes from its checkpoint, stops on SIGINT (status `stopped`,
exit 130), and misbehaves on demand through
FAKE_PLAN={"<run id>": "crash" | "oom" | "diverge" | "hang"}.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rethink.grid.executor import Executor, Reporter
from rethink.grid.launch import Attempt, LocalLauncher, WorkerCommand
from rethink.grid.state import GridState, RunState, exit_code
from rethink.run.folder import CHECKPOINT, MODEL_FILE, RunDir
from rethink.spec import RunSpec
from rethink.train.outcome import RESULT_KEYS, Status
from tests.helpers.workers import calls, fake_worker, snapshot


def specs(n: int, steps: int = 20) -> list[RunSpec]:
    models = ("mlp_1x512", "alexnet", "inception", "mlp_3x512")
    corruptions = ("true_labels", "random_labels", "gaussian")
    out = [
        RunSpec(model=m, corruption=c, steps=steps, log_every=5)
        for m in models
        for c in corruptions
    ]
    return out[:n]


@pytest.fixture
def worker() -> WorkerCommand:
    return fake_worker()


class Noted:
    """A worker's attempt that notes in `events` what the executor did to it."""

    def __init__(self, attempt: Attempt, events: list[str]) -> None:
        self.attempt, self.events = attempt, events

    def poll(self) -> int | None:
        return self.attempt.poll()

    def interrupt(self) -> None:
        self.events.append("interrupt")
        self.attempt.interrupt()

    def kill(self) -> None:
        self.events.append("kill")
        self.attempt.kill()

    @property
    def error(self) -> str | None:
        return self.attempt.error


class NotingLauncher(LocalLauncher):
    """Local workers whose attempts note in `events` each SIGINT or SIGKILL sent."""

    def __init__(self, worker: WorkerCommand, events: list[str]) -> None:
        super().__init__(worker)
        self.events = events

    def launch(self, run: RunState, run_dir: RunDir, state: GridState) -> Attempt:
        return Noted(super().launch(run, run_dir, state), self.events)


class NotingExecutor(Executor):
    """The executor, noting in `events` each stop request and each SIGINT or SIGKILL sent."""

    def __init__(self, *args: Any, worker: WorkerCommand, **kw: Any) -> None:
        self.events: list[str] = []
        super().__init__(*args, launcher=NotingLauncher(worker, self.events), **kw)

    def request_stop(self, force: bool = False) -> None:
        self.events.append("stop request")
        super().request_stop(force)


def test_trains_every_run_in_its_own_worker(tmp_path: Path, worker: WorkerCommand) -> None:
    grid = tmp_path / "grid"
    runs = specs(4)
    state = Executor(grid, runs, backend="jax", jobs=2, launcher=LocalLauncher(worker)).run()
    assert [r.status for r in state.runs] == [Status.COMPLETED] * 4
    assert exit_code(state) == 0
    assert state.device == "FakeCPU 9000"
    pids = set()
    for spec in runs:
        rd = RunDir(grid / spec.run_id)
        assert rd.spec() == spec  # spec.json written before the worker started
        assert rd.result()["status"] == "completed"
        (call,) = calls(rd.path)
        pids.add(call["pid"])
        assert call["argv"][call["argv"].index("--spec") + 1] == str(rd.spec_path)
        assert call["argv"][call["argv"].index("--out") + 1] == str(grid)
        assert call["env"]["KERAS_BACKEND"] == "jax"
        assert call["env"]["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
        assert "fake worker starts" in (rd.path / "worker.log").read_text()
    assert len(pids) == 4


def test_a_crash_an_oom_kill_and_a_divergence_never_stop_the_others(
    tmp_path: Path, worker: WorkerCommand, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = specs(6)
    crash, oom, diverge = runs[0].run_id, runs[2].run_id, runs[4].run_id
    monkeypatch.setenv("FAKE_PLAN", json.dumps({crash: "crash", oom: "oom", diverge: "diverge"}))
    state = Executor(
        tmp_path / "g", runs, backend="jax", jobs=2, launcher=LocalLauncher(worker)
    ).run()
    by_id = {r.run_id: r for r in state.runs}
    assert [r.status for r in state.runs] == [
        "failed",
        "completed",
        "failed",
        "completed",
        "diverged",
        "completed",
    ]
    assert exit_code(state) == 1

    crashed = RunDir(tmp_path / "g" / crash).result()
    assert set(RESULT_KEYS) <= set(crashed)
    assert crashed["status"] == "failed"
    assert "code 3" in crashed["error"] and "out of device memory" in crashed["error"]
    assert crashed["step"] == 10  # the last progress the worker reported
    killed = RunDir(tmp_path / "g" / oom).result()
    assert killed["status"] == "failed" and "SIGKILL" in killed["error"]
    assert by_id[diverge].result["status"] == "diverged"  # the worker's own result is kept
    assert by_id[diverge].result["error"] is None


def test_resume_skips_completed_and_diverged_and_retries_failed_from_checkpoint(
    tmp_path: Path, worker: WorkerCommand, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = tmp_path / "g"
    runs = specs(3)
    crash, ok, diverge = (s.run_id for s in runs)
    monkeypatch.setenv("FAKE_PLAN", json.dumps({crash: "crash", diverge: "diverge"}))
    first = Executor(grid, runs, backend="jax", launcher=LocalLauncher(worker)).run()
    assert [r.status for r in first.runs] == [Status.FAILED, Status.COMPLETED, "diverged"]
    kept = {run_id: snapshot(grid / run_id) for run_id in (ok, diverge)}

    monkeypatch.delenv("FAKE_PLAN")
    executor = Executor(grid, runs, backend="jax", launcher=LocalLauncher(worker))
    assert [r.status for r in executor.state.runs] == [Status.QUEUED, Status.COMPLETED, "diverged"]
    second = executor.run()
    assert [r.status for r in second.runs] == [Status.COMPLETED, Status.COMPLETED, "diverged"]
    assert exit_code(second) == 1  # a diverged run is final: the grid did not all complete
    for run_id, files in kept.items():
        assert snapshot(grid / run_id) == files  # never touched, not even re-read by a worker
    retried = calls(grid / crash)
    assert len(retried) == 2 and "--resume" in retried[1]["argv"]
    assert RunDir(grid / crash).result()["resumed_from"] == 10  # its last checkpoint
    log = (grid / crash / "worker.log").read_text()
    assert log.count("rethink grid starts") == 2  # both attempts' output kept


def test_gpus_are_shared_out_least_busy_first(
    tmp_path: Path, worker: WorkerCommand, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_STEP_S", "0.01")
    runs = specs(4)
    seen: list[tuple[str | None, set[str | None]]] = []

    class Watch(Reporter):
        def run_started(self, state: GridState, run: RunState) -> None:
            others = {r.gpu for r in state.runs if r.status == Status.RUNNING and r is not run}
            seen.append((run.gpu, others))

    state = Executor(
        tmp_path / "g",
        runs,
        backend="jax",
        jobs=2,
        gpus=("0", "1"),
        launcher=LocalLauncher(worker),
        reporter=Watch(),
    ).run()
    assert exit_code(state) == 0
    assert len(seen) == 4
    for gpu, others in seen:
        assert gpu in ("0", "1") and gpu not in others  # two at once: one per GPU
    for spec in runs:
        (call,) = calls(tmp_path / "g" / spec.run_id)
        assert call["env"]["CUDA_VISIBLE_DEVICES"] == state.runs[runs.index(spec)].gpu


def test_stop_request_stops_workers_and_starts_nothing_new(
    tmp_path: Path, worker: WorkerCommand, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_STEP_S", "0.01")
    grid, runs = tmp_path / "g", specs(3, steps=100)  # two running, one never started
    executor: Executor

    class StopMidway(Reporter):
        def update(self, state: GridState) -> None:
            if state.runs[1].step >= 12 and not state.interrupted:  # past a checkpoint
                executor.request_stop()  # once: a second request kills

    executor = Executor(
        grid, runs, backend="jax", jobs=2, launcher=LocalLauncher(worker), reporter=StopMidway()
    )
    executor.refresh_s = 0.02
    state = executor.run()
    assert state.interrupted and exit_code(state) == 130
    assert [r.status for r in state.runs[:2]] == [Status.STOPPED, Status.STOPPED]
    assert state.runs[2].status == Status.QUEUED
    assert not (grid / runs[2].run_id).exists()  # never started
    stopped = RunDir(grid / runs[1].run_id).result()
    assert stopped["status"] == "stopped" and stopped["error"] is None  # the worker's own

    monkeypatch.setenv("FAKE_STEP_S", "0.001")
    resumed = Executor(grid, runs, backend="jax", jobs=2, launcher=LocalLauncher(worker)).run()
    assert exit_code(resumed) == 0
    assert RunDir(grid / runs[1].run_id).result()["resumed_from"] >= 10


def test_a_worker_ignoring_the_stop_is_killed_after_the_timeout(
    tmp_path: Path, worker: WorkerCommand, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = specs(1)
    monkeypatch.setenv("FAKE_PLAN", json.dumps({runs[0].run_id: "hang"}))
    executor: NotingExecutor

    class StopOnceRunning(Reporter):
        def update(self, state: GridState) -> None:
            if state.runs[0].step >= 10 and not state.interrupted:
                executor.request_stop()

    executor = NotingExecutor(
        tmp_path / "g",
        runs,
        backend="jax",
        worker=worker,
        reporter=StopOnceRunning(),
        stop_timeout_s=0.3,
    )
    executor.refresh_s = 0.02
    state = executor.run()
    events = executor.events
    # One request: asked to stop (SIGINT), ignored it, killed by the executor's own escalation.
    assert events.count("stop request") == 1 and events[0] == "stop request"
    assert "interrupt" in events and "kill" in events
    assert events.index("interrupt") < events.index("kill")
    result = RunDir(tmp_path / "g" / runs[0].run_id).result()
    assert result["status"] == "stopped" and "SIGKILL" in result["error"]
    assert state.runs[0].status == Status.STOPPED


def test_a_second_stop_request_kills_at_once(
    tmp_path: Path, worker: WorkerCommand, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = specs(1)
    monkeypatch.setenv("FAKE_PLAN", json.dumps({runs[0].run_id: "hang"}))
    executor: NotingExecutor

    class StopTwice(Reporter):
        def update(self, state: GridState) -> None:
            if state.runs[0].step >= 10:
                executor.request_stop()

    executor = NotingExecutor(
        tmp_path / "g", runs, backend="jax", worker=worker, reporter=StopTwice()
    )
    executor.refresh_s = 0.02
    state = executor.run()
    # SIGINT at the first request, SIGKILL right at the second: not after the 120 s stop
    # timeout, which would have seen a stop request at every refresh in between.
    assert executor.events[:4] == ["stop request", "interrupt", "stop request", "kill"]
    assert state.runs[0].status == Status.STOPPED and "SIGKILL" in state.runs[0].result["error"]


def test_a_worker_that_cannot_start_is_a_failed_run(tmp_path: Path, worker: WorkerCommand) -> None:
    def missing(spec_path: Path, grid_dir: Path, backend: str) -> list[str]:
        return [str(tmp_path / "no-such-program")]

    state = Executor(tmp_path / "g", specs(2), backend="jax", launcher=LocalLauncher(missing)).run()
    assert [r.status for r in state.runs] == [Status.FAILED, Status.FAILED]
    assert "could not start" in state.runs[0].result["error"]
    assert RunDir(tmp_path / "g" / specs(1)[0].run_id).result()["status"] == "failed"


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="jobs"):
        Executor(tmp_path, specs(1), backend="jax", jobs=0)


def test_grid_modules_never_import_keras() -> None:
    modules = ("executor", "folder", "launch", "live", "presets", "record", "spec", "state")
    code = (
        f"import sys, {', '.join(f'rethink.grid.{m}' for m in modules)}; "
        "print('keras' in sys.modules, 'ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


class RemoteLike(LocalLauncher):
    """A launcher like a cluster's: attempts wait as queued until `sync` reports them
    training (here: once their progress.json exists), the device says where, and an
    attempt may end with its own reason (a lost task) instead of a worker's exit."""

    running_when_launched = False

    def __init__(self, worker: WorkerCommand, lost: str) -> None:
        super().__init__(worker)
        self.lost = lost
        self.grid_dir = Path()
        self.live: dict[str, Attempt] = {}
        self.reported: set[str] = set()
        self.ended_runs: list[str] = []
        self.sessions = 0

    def slots(self, jobs: int, runs: int) -> int:
        return runs  # all handed over at once; `jobs` only paces the ETA

    def session(self, state: GridState) -> Any:
        import contextlib

        @contextlib.contextmanager
        def held() -> Any:
            self.grid_dir, self.sessions = state.grid_dir, self.sessions + 1
            yield

        return held()

    def launch(self, run: RunState, run_dir: RunDir, state: GridState) -> Attempt:
        attempt = super().launch(run, run_dir, state)
        if run.run_id == self.lost:
            attempt = Lost(attempt)
        self.live[run.run_id] = attempt
        return attempt

    def sync(self) -> list[str]:
        started = [
            run_id
            for run_id in self.live
            if run_id not in self.reported and RunDir(self.grid_dir / run_id).progress()
        ]
        self.reported.update(started)
        return started

    def ended(self, run: RunState, attempt: Attempt) -> None:
        assert self.live.pop(run.run_id) is attempt
        self.ended_runs.append(run.run_id)

    def where(self) -> str:
        return "somewhere else"


class Lost(Noted):
    """An attempt whose worker is killed as it starts, as a lost cluster node would."""

    def __init__(self, attempt: Attempt) -> None:
        super().__init__(attempt, [])
        attempt.kill()

    @property
    def error(self) -> str | None:
        return "Ray task lost: node died"


def test_the_executor_runs_any_launcher(tmp_path: Path, worker: WorkerCommand) -> None:
    runs = specs(3)
    launcher = RemoteLike(worker, lost=runs[1].run_id)
    seen: list[tuple[str, Status]] = []

    class Watch(Reporter):
        def run_started(self, state: GridState, run: RunState) -> None:
            seen.append((run.run_id, run.status))

    state = Executor(
        tmp_path / "g", runs, backend="jax", jobs=1, launcher=launcher, reporter=Watch()
    ).run()
    assert launcher.sessions == 1 and launcher.live == {}
    assert sorted(launcher.ended_runs) == sorted(r.run_id for r in runs)
    # Handed over at once (slots), each shown started only once its launcher said so.
    assert sorted(seen) == sorted((r.run_id, Status.RUNNING) for r in runs if r != runs[1])
    assert [r.status for r in state.runs] == [Status.COMPLETED, Status.FAILED, Status.COMPLETED]
    assert state.runs[1].result["error"].startswith("Ray task lost: node died")
    assert state.device.endswith("somewhere else")


# ---- compact grids ---------------------------------------------------------------------


def files(run_dir: Path) -> set[str]:
    return {p.name for p in run_dir.iterdir()}


RECORD = ("spec.json", "env.json", "result.json", "worker.log")


def test_finished_runs_lose_checkpoint_and_model_failed_ones_keep_them_and_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid, runs = tmp_path / "g", specs(3)
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
    grid, runs = tmp_path / "g", specs(1)
    Executor(grid, runs, backend="jax", launcher=LocalLauncher(fake_worker())).run()
    assert CHECKPOINT in files(grid / runs[0].run_id)


def test_a_stopped_run_keeps_its_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_STEP_S", "0.01")
    grid, runs = tmp_path / "g", specs(1, steps=100)
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
    run = specs(1)[0]
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
