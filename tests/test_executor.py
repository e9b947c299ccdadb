"""The grid's executor with a fake worker: isolation, results, resume, stop, GPUs.

The fake worker (`FAKE_WORKER`, also used by test_cli_grid.py) stands in for
`rethink run`: it steps through its spec's steps, writing progress.json, a
checkpoint every `log_every` steps and result.json, resumes from its
checkpoint, stops on SIGINT (status `stopped`, exit 130), and misbehaves on
demand through FAKE_PLAN={"<run id>": "crash" | "oom" | "diverge" | "hang"}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rethink.executor import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    STOPPED,
    Executor,
    GridState,
    RunState,
    WorkerCommand,
    exit_code,
    rethink_worker,
)
from rethink.rundir import RESULT_KEYS, RunDir
from rethink.spec import RunSpec

FAKE_WORKER = r"""
import json, os, signal, sys, time
from pathlib import Path

args = sys.argv[1:]
spec_path = Path(args[args.index("--spec") + 1])
run_dir = spec_path.parent
run_id = run_dir.name
spec = json.loads(spec_path.read_text())
plan = json.loads(os.environ.get("FAKE_PLAN", "{}")).get(run_id, "ok")
step_s = float(os.environ.get("FAKE_STEP_S", "0.002"))


def write(name, data):
    tmp = run_dir / f".{name}.tmp"
    tmp.write_text(json.dumps(data))
    os.replace(tmp, run_dir / name)


with open(run_dir / "calls.log", "a") as f:
    env = {k: os.environ.get(k) for k in ("CUDA_VISIBLE_DEVICES", "XLA_PYTHON_CLIENT_PREALLOCATE", "KERAS_BACKEND")}
    f.write(json.dumps({"argv": args, "env": env, "pid": os.getpid()}) + "\n")
print("fake worker starts", run_id, flush=True)
if plan == "hang":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
total = spec["steps"]
ckpt = run_dir / "checkpoint.npz"
start = json.loads(ckpt.read_text())["step"] if "--resume" in args and ckpt.exists() else 0
write("env.json", {"device": "FakeCPU 9000"})


def result(status, step):
    write("result.json", {
        "status": status, "run_id": run_id, "step": step, "train_loss": 1.0 / (step + 1),
        "train_acc": step / total, "test_acc": 0.5, "wall_seconds": step * step_s,
        "images_per_s": 1000.0, "error": None, "resumed_from": start,
    })


step = start
try:
    while step < total:
        step += 1
        time.sleep(step_s)
        write("progress.json", {
            "step": step, "total_steps": total, "train_loss": 1.0 / (step + 1),
            "train_acc": step / total, "test_acc": None, "images_per_s": 1000.0,
            "seconds": step * step_s,
        })
        if step % spec["log_every"] == 0:
            write("checkpoint.npz", {"step": step})
        if step == total // 2 and plan == "crash":
            print("RuntimeError: out of device memory", file=sys.stderr, flush=True)
            os._exit(3)
        if step == total // 2 and plan == "oom":
            os.kill(os.getpid(), signal.SIGKILL)
        if step == total // 2 and plan == "diverge":
            result("diverged", step)
            sys.exit(1)
        while step == total // 2 and plan == "hang":
            time.sleep(0.05)
except KeyboardInterrupt:
    result("stopped", step)
    sys.exit(130)
result("completed", total)
"""


def fake_worker(folder: Path) -> WorkerCommand:
    """The fake worker's command, the real one's argv with the script in place of rethink."""
    script = folder / "fake_worker.py"
    script.write_text(FAKE_WORKER)

    def command(spec_path: Path, grid_dir: Path, backend: str) -> list[str]:
        return [sys.executable, str(script), *rethink_worker(spec_path, grid_dir, backend)[3:]]

    return command


def calls(run_dir: Path) -> list[dict]:
    """Each start of the fake worker in `run_dir`: argv, env and pid."""
    path = run_dir / "calls.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def specs(n: int, steps: int = 20) -> list[RunSpec]:
    models = ("mlp_1x512", "alexnet", "inception", "mlp_3x512")
    corruptions = ("true_labels", "random_labels", "gaussian")
    out = [
        RunSpec(model=m, corruption=c, steps=steps, log_every=5)
        for m in models
        for c in corruptions
    ]
    return out[:n]


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below `folder` with its bytes and mtime."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def worker(tmp_path: Path) -> WorkerCommand:
    return fake_worker(tmp_path)


def test_real_worker_command_is_rethink_run_resuming() -> None:
    argv = rethink_worker(Path("g/r/spec.json"), Path("g"), "torch")
    assert argv[:4] == [sys.executable, "-m", "rethink", "run"]
    assert argv[argv.index("--spec") + 1] == str(Path("g/r/spec.json"))
    assert argv[argv.index("--out") + 1] == "g"
    assert argv[argv.index("--backend") + 1] == "torch"
    assert "--resume" in argv and "--quiet" in argv


def test_trains_every_run_in_its_own_worker(tmp_path: Path, worker: WorkerCommand) -> None:
    grid = tmp_path / "grid"
    runs = specs(4)
    state = Executor(grid, runs, backend="jax", jobs=2, worker=worker).run()
    assert [r.status for r in state.runs] == [DONE] * 4
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
    state = Executor(tmp_path / "g", runs, backend="jax", jobs=2, worker=worker).run()
    by_id = {r.run_id: r for r in state.runs}
    assert [r.status for r in state.runs] == [
        "failed",
        "done",
        "failed",
        "done",
        "diverged",
        "done",
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
    first = Executor(grid, runs, backend="jax", worker=worker).run()
    assert [r.status for r in first.runs] == [FAILED, DONE, "diverged"]
    kept = {run_id: snapshot(grid / run_id) for run_id in (ok, diverge)}

    monkeypatch.delenv("FAKE_PLAN")
    executor = Executor(grid, runs, backend="jax", worker=worker)
    assert [r.status for r in executor.state.runs] == [QUEUED, DONE, "diverged"]
    second = executor.run()
    assert [r.status for r in second.runs] == [DONE, DONE, "diverged"]
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

    class Watch:
        def start(self, state: GridState) -> None: ...
        def update(self, state: GridState) -> None: ...
        def run_finished(self, state: GridState, run: RunState) -> None: ...
        def stop(self, state: GridState) -> None: ...

        def run_started(self, state: GridState, run: RunState) -> None:
            others = {r.gpu for r in state.runs if r.status == RUNNING and r is not run}
            seen.append((run.gpu, others))

    state = Executor(
        tmp_path / "g",
        runs,
        backend="jax",
        jobs=2,
        gpus=("0", "1"),
        worker=worker,
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
    grid, runs = tmp_path / "g", specs(5, steps=100)
    executor: Executor

    class StopMidway:
        def start(self, state: GridState) -> None: ...
        def run_started(self, state: GridState, run: RunState) -> None: ...
        def run_finished(self, state: GridState, run: RunState) -> None: ...
        def stop(self, state: GridState) -> None: ...

        def update(self, state: GridState) -> None:
            if state.runs[1].step >= 12 and not state.interrupted:  # past a checkpoint
                executor.request_stop()  # once: a second request kills

    executor = Executor(grid, runs, backend="jax", jobs=2, worker=worker, reporter=StopMidway())
    executor.refresh_s = 0.02
    state = executor.run()
    assert state.interrupted and exit_code(state) == 130
    assert [r.status for r in state.runs[:2]] == [STOPPED, STOPPED]
    assert [r.status for r in state.runs[2:]] == [QUEUED] * 3
    assert not any((grid / s.run_id).exists() for s in runs[2:])  # never started
    stopped = RunDir(grid / runs[1].run_id).result()
    assert stopped["status"] == "stopped" and stopped["error"] is None  # the worker's own

    monkeypatch.setenv("FAKE_STEP_S", "0.001")
    resumed = Executor(grid, runs, backend="jax", jobs=2, worker=worker).run()
    assert exit_code(resumed) == 0
    assert RunDir(grid / runs[1].run_id).result()["resumed_from"] >= 10


def test_a_worker_ignoring_the_stop_is_killed_after_the_timeout(
    tmp_path: Path, worker: WorkerCommand, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = specs(1)
    monkeypatch.setenv("FAKE_PLAN", json.dumps({runs[0].run_id: "hang"}))
    executor: Executor

    class StopOnceRunning:
        def start(self, state: GridState) -> None: ...
        def run_started(self, state: GridState, run: RunState) -> None: ...
        def run_finished(self, state: GridState, run: RunState) -> None: ...
        def stop(self, state: GridState) -> None: ...

        def update(self, state: GridState) -> None:
            if state.runs[0].step >= 10 and not state.interrupted:
                executor.request_stop()

    executor = Executor(
        tmp_path / "g",
        runs,
        backend="jax",
        worker=worker,
        reporter=StopOnceRunning(),
        stop_timeout_s=0.3,
    )
    executor.refresh_s = 0.02
    began = time.monotonic()
    state = executor.run()
    assert time.monotonic() - began < 10
    result = RunDir(tmp_path / "g" / runs[0].run_id).result()
    assert result["status"] == "stopped" and "SIGKILL" in result["error"]
    assert state.runs[0].status == STOPPED


def test_a_second_stop_request_kills_at_once(
    tmp_path: Path, worker: WorkerCommand, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = specs(1)
    monkeypatch.setenv("FAKE_PLAN", json.dumps({runs[0].run_id: "hang"}))
    executor: Executor

    class StopTwice:
        def start(self, state: GridState) -> None: ...
        def run_started(self, state: GridState, run: RunState) -> None: ...
        def run_finished(self, state: GridState, run: RunState) -> None: ...
        def stop(self, state: GridState) -> None: ...

        def update(self, state: GridState) -> None:
            if state.runs[0].step >= 10:
                executor.request_stop()

    executor = Executor(tmp_path / "g", runs, backend="jax", worker=worker, reporter=StopTwice())
    executor.refresh_s = 0.02
    began = time.monotonic()
    state = executor.run()
    assert time.monotonic() - began < 10  # not the 120 s stop timeout
    assert state.runs[0].status == STOPPED and "SIGKILL" in state.runs[0].result["error"]


def test_a_worker_that_cannot_start_is_a_failed_run(tmp_path: Path, worker: WorkerCommand) -> None:
    def missing(spec_path: Path, grid_dir: Path, backend: str) -> list[str]:
        return [str(tmp_path / "no-such-program")]

    state = Executor(tmp_path / "g", specs(2), backend="jax", worker=missing).run()
    assert [r.status for r in state.runs] == [FAILED, FAILED]
    assert "could not start" in state.runs[0].result["error"]
    assert RunDir(tmp_path / "g" / specs(1)[0].run_id).result()["status"] == "failed"


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="jobs"):
        Executor(tmp_path, specs(1), backend="jax", jobs=0)


def test_eta_uses_the_speed_of_runs_seen_so_far(tmp_path: Path) -> None:
    runs = specs(3, steps=100)
    state = GridState(
        grid_dir=tmp_path,
        runs=[RunState(spec=s, index=i + 1) for i, s in enumerate(runs)],
        backend="jax",
    )
    assert state.eta() is None  # nothing measured yet
    state.runs[0].status = RUNNING
    state.runs[0].progress = {"step": 40, "total_steps": 100, "seconds": 20.0}
    # 60 steps left at 0.5 s/step for the running run, 100 each for the two queued.
    assert state.eta() == pytest.approx(0.5 * (60 + 100 + 100))
    state.jobs = 2
    assert state.eta() == pytest.approx(0.5 * (60 + 100 + 100) / 2)
    assert state.runs[0].remaining() == pytest.approx(30.0)


def test_grid_modules_never_import_keras() -> None:
    code = "import sys, rethink.executor, rethink.live, rethink.grid, rethink.lock; print('keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cpu_workers_share_the_cores_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    from rethink.executor import share_cpus

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    env: dict[str, str] = {"TF_NUM_INTRAOP_THREADS": "7"}  # the user's choice stands
    share_cpus(env, jobs=4)
    assert env == {"TF_NUM_INTRAOP_THREADS": "7", "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    env = {}
    share_cpus(env, jobs=16)
    assert env["OMP_NUM_THREADS"] == "1"
