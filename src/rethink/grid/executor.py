"""Trains a grid's runs as worker subprocesses on this machine, never losing one.

    state = Executor(grid_dir, specs, backend="jax", jobs=2, reporter=reporter).run()
    exit_code(state)   # 0: all completed; 1: some failed or diverged; 130: interrupted

Each run trains in its own worker process (by default `python -m rethink run
--spec <run>/spec.json --out <grid> --backend B --resume --quiet`;
`LocalLauncher(worker=...)` swaps the command, for tests), so a crash, an out-of-memory kill or a
divergence in one run never stops the others. The worker writes its run folder
(see `rethink.run.folder`); its stdout and stderr go to `<run>/worker.log`. A worker
that dies without writing result.json gets one written for it here: status
`failed`, with the exit code or signal and the last lines of worker.log.

Compact grids (`compact=True`, `rethink grid --compact`): a run that finishes
(completed or diverged) has its checkpoint.npz and model.keras removed at once
(`COMPACT_REMOVES`), and so have finished runs found at the start.

Resume policy (what a second `rethink grid` on the same folder does):
- `completed` runs are final: skipped, their files never touched (in a compact
  grid, but for the removals above);
- `diverged` runs are final too: the same spec and seed would diverge again;
- `failed` and `stopped` runs, and runs without a result, are started again:
  their stale result.json is removed and the worker continues from its
  checkpoint.npz.

Ctrl-C (SIGINT) or SIGTERM: no new run starts, and running workers get a
SIGINT once (they set a stop flag that training checks after every dispatch,
and end as `stopped`, keeping their last checkpoint); those still running
after `stop_timeout_s` (or at a second Ctrl-C) are killed and recorded as
`stopped`. Workers run in
their own process groups, so a terminal's Ctrl-C reaches them only through
this forwarding; on Linux they are also killed if this process dies
(kill -9), so no orphan keeps writing to a folder a resumed grid works on.

Where attempts start is the executor's `launcher`: `LocalLauncher` (the
default) starts worker processes on this machine;
`rethink.grid.ray.cluster.RayLauncher` starts each as a Ray task running the
same worker command. The loop, the stop policy, the state, the reporter, the
resume policy and the exit codes are the executor's, whatever the launcher.

GPUs: with `gpus=("0", "1")` each worker gets CUDA_VISIBLE_DEVICES set to the
least busy of them; XLA_PYTHON_CLIENT_PREALLOCATE=false always, so several
JAX workers can share a GPU. This module never imports Keras.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from rethink.base.signals import on_stop_signals
from rethink.run.folder import CHECKPOINT, MODEL_FILE, RunDir, write_json
from rethink.spec import RunSpec
from rethink.train.outcome import ENDED, Outcome, Status

WORKER_LOG = "worker.log"
# What a compact grid removes from a run once it finished (completed or diverged):
# it is never trained again, so only its record (spec, env, metrics, result, log) stays.
COMPACT_REMOVES = (CHECKPOINT, MODEL_FILE)
CIFAR10_TRAIN = 50_000  # to estimate the steps of an epochs-based run before it starts

# Display statuses of a run; the final ones mirror result.json's.

WorkerCommand = Callable[[Path, Path, str], list[str]]
"""(spec.json path, grid folder, backend) -> the worker's argv."""


def rethink_worker(spec_path: Path, grid_dir: Path, backend: str) -> list[str]:
    """The real worker: `rethink run` on one spec, resuming from its checkpoint."""
    return [
        sys.executable, "-m", "rethink", "run",
        "--spec", str(spec_path), "--out", str(grid_dir),
        "--backend", backend, "--resume", "--quiet",
    ]  # fmt: skip


@dataclass
class RunState:
    """One run as the grid sees it: its spec, status and latest numbers."""

    spec: RunSpec
    index: int  # 1-based position in the grid
    status: Status = Status.QUEUED
    progress: dict[str, Any] | None = None  # last progress.json
    result: dict[str, Any] | None = None  # result.json once finished
    started: float | None = None  # time.time() when this session started it
    finished: float | None = None
    gpu: str | None = None
    earlier: bool = False  # finished before this session (resumed grid)

    @property
    def run_id(self) -> str:
        return self.spec.run_id

    @property
    def is_final(self) -> bool:
        return self.status.ended

    def value(self, key: str) -> Any:
        """A number from result.json if finished, else from progress.json (None if neither)."""
        for source in (self.result, self.progress):
            if source is not None and source.get(key) is not None:
                return source[key]
        return None

    def window_value(self, key: str) -> Any:
        """The training-mode mean `key` ("train_loss", "train_acc") of the batches as
        trained (Figure 1a's curve): result.json's last full window once finished
        (`window_<key>`; a format-1 result held it as `key`), else progress.json's
        running mean; None if neither."""
        if self.result is not None:
            name = key if self.result.get("format") is None else f"window_{key}"
            if self.result.get(name) is not None:
                return self.result[name]
        return (self.progress or {}).get(key)

    def eval_value(self, key: str) -> Any:
        """The trained model on the whole training split, inference mode, at the end
        (result.json's `key`: "train_loss", "train_acc"; Table 1's train accuracy);
        None before the end or in a format-1 result, whose `key` was a window mean."""
        if self.result is None or self.result.get("format") is None:
            return None
        return self.result.get(key)

    @property
    def step(self) -> int:
        return int(self.value("step") or 0)

    @property
    def total_steps(self) -> int:
        total = (self.progress or {}).get("total_steps")
        if total:
            return int(total)
        return self.spec.total_steps(self.spec.train_subset or CIFAR10_TRAIN)

    def seconds_per_step(self) -> float | None:
        seconds = self.value("wall_seconds") if self.result else None
        seconds = seconds if seconds is not None else (self.progress or {}).get("seconds")
        step = self.step
        return seconds / step if seconds and step > 0 else None

    def elapsed(self, now: float) -> float | None:
        """Training time so far (resumed segments included) or wall time since start."""
        if self.result is not None and self.result.get("wall_seconds") is not None:
            return float(self.result["wall_seconds"])
        seconds = (self.progress or {}).get("seconds")
        if seconds is not None:
            return float(seconds)
        if self.started is not None:
            return (self.finished or now) - self.started
        return None

    def remaining(self) -> float | None:
        if self.status != Status.RUNNING:
            return None
        rate = self.seconds_per_step()
        return None if rate is None else max(0, self.total_steps - self.step) * rate


@dataclass
class GridState:
    """Everything the live view shows: the runs, where and how they train."""

    grid_dir: Path
    runs: list[RunState]
    backend: str
    device: str = ""  # from a run's env.json, once one has been written
    dataset: str = ""  # the data set, described in one line (Dataset.describe)
    gpus: tuple[str, ...] = ()
    jobs: int = 1
    started: float = field(default_factory=time.time)
    interrupted: bool = False  # Ctrl-C / SIGTERM received

    def count(self, *statuses: str) -> int:
        return sum(r.status in statuses for r in self.runs)

    def steps_done(self) -> tuple[int, int]:
        """(steps trained, steps in total) over the grid, for the grid's progress bar."""
        done = sum(
            r.total_steps if r.status == Status.COMPLETED else min(r.step, r.total_steps)
            for r in self.runs
        )
        return done, sum(r.total_steps for r in self.runs)

    def eta(self) -> float | None:
        """Seconds until the grid ends, from the speed of runs seen so far; None if unknown."""
        rates: dict[str, list[float]] = {}
        for r in self.runs:
            rate = r.seconds_per_step()
            if rate is not None:
                rates.setdefault(r.spec.model, []).append(rate)
        everything = [x for xs in rates.values() for x in xs]
        if not everything:
            return None
        overall = sum(everything) / len(everything)
        work, unfinished = 0.0, 0
        for r in self.runs:
            if r.is_final:
                continue
            unfinished += 1
            left = r.remaining()
            if left is None:
                model = rates.get(r.spec.model)
                rate = sum(model) / len(model) if model else overall
                left = max(0, r.total_steps - r.step) * rate
            work += left
        return work / max(1, min(self.jobs, unfinished))


class Reporter:
    """What the executor tells the live view (`rethink.grid.live`); no-ops here."""

    def start(self, state: GridState) -> None:
        """Before the first run starts."""

    def update(self, state: GridState) -> None:
        """Every refresh (about twice a second)."""

    def run_started(self, state: GridState, run: RunState) -> None:
        """A run's worker started."""

    def run_finished(self, state: GridState, run: RunState) -> None:
        """A run ended (any final status)."""

    def stop(self, state: GridState) -> None:
        """After the last run ended, or the grid was stopped."""


class Attempt(Protocol):
    """One try at one run, as the executor drives it: a local worker process here,
    a cluster task in `rethink.grid.ray.cluster`."""

    def poll(self) -> int | None:
        """The worker's exit code once the attempt has ended, else None."""
        ...

    def interrupt(self) -> None:
        """Ask the worker to stop cleanly, like one Ctrl-C (sent once)."""
        ...

    def kill(self) -> None:
        """Stop the worker now."""
        ...

    @property
    def error(self) -> str | None:
        """Why the attempt ended without its worker's own exit (a lost cluster task),
        or None: the exit code tells."""
        ...


class Launcher:
    """Where and how the executor starts a run's attempts; this base starts none.

    `LocalLauncher` (worker processes here) and
    `rethink.grid.ray.cluster.RayLauncher` (Ray tasks) fill it in. The hooks
    are called from the executor's loop, in its thread.
    """

    tick_s = 0.05  # how often the executor looks for finished attempts
    # Whether a launched attempt is training at once (a local process), or
    # waits, shown as queued, until `sync` reports it started (a cluster task).
    running_when_launched = True

    def slots(self, jobs: int, runs: int) -> int:
        """Attempts in flight at most, for `jobs` runs at once and `runs` runs in all."""
        return jobs

    def session(self, state: GridState) -> contextlib.AbstractContextManager[object]:
        """Held while the executor runs: whatever must exist while attempts do."""
        return contextlib.nullcontext()

    def launch(self, run: RunState, run_dir: RunDir, state: GridState) -> Attempt:
        """Start an attempt at `run` (spec.json written); OSError if it cannot start."""
        raise NotImplementedError

    def poll(self) -> None:
        """Before the executor asks its attempts whether they ended."""

    def sync(self) -> list[str]:
        """Bring the runs' files up to date (a refresh, and before a run is finished);
        the ids of runs whose launched attempts started training since the last call."""
        return []

    def ended(self, run: RunState, attempt: Attempt) -> None:
        """The attempt at `run` ended: before its result is read (or written)."""

    def where(self) -> str:
        """Where the runs train, beside the device in the live view ("" for here)."""
        return ""


class LocalLauncher(Launcher):
    """Each attempt a worker subprocess on this machine (`worker` makes its argv,
    `env` adds to its environment), on the GPU the executor picked
    (CUDA_VISIBLE_DEVICES), or with its share of the CPU's cores when several
    train at once."""

    def __init__(
        self, worker: WorkerCommand | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        self.worker = worker or rethink_worker
        self.env = dict(env or {})

    def launch(self, run: RunState, run_dir: RunDir, state: GridState) -> Attempt:
        argv = self.worker(run_dir.spec_path, state.grid_dir, state.backend)
        env = worker_env(state.backend, self.env)
        if run.gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = run.gpu
        elif state.jobs > 1:
            share_cpus(env, state.jobs)
        return WorkerProcess(start_worker(argv, env, run_dir.path / WORKER_LOG))


class WorkerProcess:
    """A worker subprocess on this machine, leading its own process group."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def poll(self) -> int | None:
        return self.proc.poll()

    def interrupt(self) -> None:
        _signal_group(self.proc, signal.SIGINT)

    def kill(self) -> None:
        _signal_group(self.proc, signal.SIGKILL)

    @property
    def error(self) -> None:
        return None


def initial_state(grid_dir: Path, specs: Sequence[RunSpec], backend: str) -> GridState:
    """The grid as found on disk: completed and diverged runs final, the rest queued."""
    runs = []
    for i, spec in enumerate(specs, start=1):
        rd = RunDir(grid_dir / spec.run_id)
        run = RunState(spec=spec, index=i, progress=rd.progress())
        result = rd.result()
        if result is not None and result.get("status") in (Status.COMPLETED, Status.DIVERGED):
            run.status, run.result, run.earlier = Status(result["status"]), result, True
        runs.append(run)
    return GridState(grid_dir=grid_dir, runs=runs, backend=backend)


def exit_code(state: GridState) -> int:
    """0 if every run completed, else 130 if interrupted, else 1."""
    if all(r.status == Status.COMPLETED for r in state.runs):
        return 0
    return 130 if state.interrupted else 1


class Executor:
    """Runs the queued runs of a grid, `jobs` at a time, until all end or a stop.

    `launcher` starts each attempt (default: `LocalLauncher`, worker processes
    here); the loop, the stop policy, the state and the reporter are the same
    for every launcher.
    """

    def __init__(
        self,
        grid_dir: Path,
        specs: Sequence[RunSpec],
        *,
        backend: str,
        jobs: int = 1,
        gpus: Sequence[str] = (),
        launcher: Launcher | None = None,
        reporter: Reporter | None = None,
        refresh_s: float = 0.5,
        stop_timeout_s: float = 120.0,
        dataset: str = "",
        compact: bool = False,
    ) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.grid_dir = Path(grid_dir)
        self.state = initial_state(self.grid_dir, specs, backend)
        self.state.jobs, self.state.gpus = jobs, tuple(gpus)
        self.state.dataset = dataset
        self.launcher = launcher or LocalLauncher()
        self.reporter: Reporter = reporter or Reporter()
        self.refresh_s = refresh_s
        self.stop_timeout_s = stop_timeout_s
        self.slots = self.launcher.slots(jobs, len(specs))  # attempts in flight at most
        self._procs: dict[str, Attempt] = {}  # run id -> its attempt in flight
        self._interrupted: dict[str, float] = {}  # run id -> when last sent SIGINT
        self._stop_at: float | None = None  # monotonic time of the first stop request
        self._force = False  # second stop request: kill now
        self._device = ""  # from a run's env.json
        self.compact = compact  # remove each finished run's checkpoint and model
        if compact:  # runs finished before (a resumed grid, or one made compact now)
            for run in self.state.runs:
                if run.status.done:
                    self._compact(run)

    # ---- the loop -----------------------------------------------------------------

    def run(self) -> GridState:
        """Train until every queued run has ended, or until stopped; return the final state."""
        with self.launcher.session(self.state):
            return self._loop()

    def _loop(self) -> GridState:
        state = self.state
        self._find_device()
        self.reporter.start(state)
        try:
            with on_stop_signals(lambda signum, frame: self.request_stop()):
                self._steps()
        except BaseException:
            self.request_stop()
            self._drain()
            raise
        finally:
            self._refresh()
            self.reporter.update(state)
            self.reporter.stop(state)
        return state

    def _steps(self) -> None:
        """Launch, reap and refresh until nothing runs and nothing is left to start."""
        next_refresh = 0.0
        while True:
            self._reap()
            if self._stop_at is None:
                self._launch()
            else:
                self._stop_workers()
            if not self._procs and (self._stop_at is not None or not self._queued()):
                return
            if time.monotonic() >= next_refresh:
                self._refresh()
                self.reporter.update(self.state)
                next_refresh = time.monotonic() + self.refresh_s
            time.sleep(self.launcher.tick_s)

    def request_stop(self, force: bool = False) -> None:
        """Start no more runs and ask the running ones to stop; a second request (or
        `force`) kills them now, like a second Ctrl-C."""
        if self._stop_at is not None:
            force = True
        self._stop_at = self._stop_at or time.monotonic()
        self._force = self._force or force
        self.state.interrupted = True

    def _queued(self) -> list[RunState]:
        """Runs still to start (a launched attempt may show `queued` until it runs)."""
        return [
            r for r in self.state.runs if r.status == Status.QUEUED and r.run_id not in self._procs
        ]

    def _launch(self) -> None:
        for run in self._queued()[: max(0, self.slots - len(self._procs))]:
            self._start(run)

    def _reap(self) -> None:
        self.launcher.poll()
        for run_id, attempt in list(self._procs.items()):
            returncode = attempt.poll()
            if returncode is not None:
                del self._procs[run_id]
                self._finish(self._run(run_id), attempt, returncode)

    def _stop_workers(self) -> None:
        assert self._stop_at is not None
        now = time.monotonic()
        late = now - self._stop_at > self.stop_timeout_s
        for run_id, attempt in self._procs.items():
            if self._force or late:
                attempt.kill()
            elif run_id not in self._interrupted:
                # Once: a second SIGINT would make the worker stop without its clean path.
                self._interrupted[run_id] = now
                attempt.interrupt()

    def _drain(self) -> None:
        """After an unexpected error: stop every worker (bounded) and record it."""
        deadline = time.monotonic() + self.stop_timeout_s
        while self._procs:
            self._stop_workers()
            if time.monotonic() > deadline:
                self._force = True
            time.sleep(self.launcher.tick_s)
            self._reap()

    def _run(self, run_id: str) -> RunState:
        return next(r for r in self.state.runs if r.run_id == run_id)

    # ---- one run ------------------------------------------------------------------

    def _start(self, run: RunState) -> None:
        rd = RunDir(self.grid_dir / run.run_id)
        rd.path.mkdir(parents=True, exist_ok=True)
        if rd.spec() is None:  # keep a spec the worker wrote (resolved defaults)
            write_json(rd.spec_path, run.spec.to_dict())
        # A failed or stopped attempt's result: this attempt writes its own.
        rd.result_path.unlink(missing_ok=True)
        run.result, run.status, run.earlier = None, Status.RUNNING, False
        run.started, run.finished = time.time(), None
        run.gpu = self._pick_gpu()
        try:
            self._procs[run.run_id] = self.launcher.launch(run, rd, self.state)
        except OSError as e:
            self._record_failure(run, f"worker could not start: {e}")
            return
        if self.launcher.running_when_launched:
            self.reporter.run_started(self.state, run)
        else:  # queued until the launcher says it trains
            run.status, run.started = Status.QUEUED, None

    def _pick_gpu(self) -> str | None:
        gpus = self.state.gpus
        if not gpus:
            return None
        busy = [r.gpu for r in self.state.runs if r.status == Status.RUNNING]
        return min(gpus, key=lambda g: (busy.count(g), gpus.index(g)))

    def _sync(self) -> None:
        for run_id in self.launcher.sync():  # runs of attempts not yet ended
            run = self._run(run_id)
            if run.status == Status.QUEUED:
                run.status, run.started = Status.RUNNING, time.time()
                self.reporter.run_started(self.state, run)

    def _finish(self, run: RunState, attempt: Attempt, returncode: int) -> None:
        self._sync()  # the last files, and the start of a run that ended between polls
        self.launcher.ended(run, attempt)
        if run.status == Status.QUEUED and self._stop_at is not None:
            return  # stopped before it started: still queued, nothing written
        rd = RunDir(self.grid_dir / run.run_id)
        run.progress = rd.progress() or run.progress
        result = rd.result()
        if result is None or result.get("status") not in ENDED:
            why = attempt.error or _exit_reason(returncode)
            tail = _log_tail(rd.path / WORKER_LOG)
            error = f"{why}; last output: {tail}" if tail else why
            if self._stop_at is not None:  # killed while stopping: resumable like `stopped`
                result = self._write_result(run, Status.STOPPED, error)
            else:
                result = self._write_result(run, Status.FAILED, error)
        run.result, run.status, run.finished = result, Status(result["status"]), time.time()
        self._find_device()
        if self.compact and run.status.done:
            self._compact(run)
        self.reporter.run_finished(self.state, run)

    def _compact(self, run: RunState) -> None:
        """Remove a finished run's checkpoint and model (a compact grid); failed and
        stopped runs keep their checkpoint, which resuming needs."""
        for name in COMPACT_REMOVES:
            (self.grid_dir / run.run_id / name).unlink(missing_ok=True)

    def _record_failure(self, run: RunState, error: str) -> None:
        run.result = self._write_result(run, Status.FAILED, error)
        run.status, run.finished = Status.FAILED, time.time()
        self.reporter.run_finished(self.state, run)

    def _write_result(self, run: RunState, status: str, error: str) -> dict[str, Any]:
        """result.json for a worker that ended without one, from its last progress."""
        outcome = Outcome.from_progress(run.spec, Status(status), run.progress or {}, error)
        result = {"run_id": run.run_id, **outcome.to_dict()}
        write_json(RunDir(self.grid_dir / run.run_id).result_path, result)
        return result

    def _refresh(self) -> None:
        self._sync()
        for run in self.state.runs:
            if run.status == Status.RUNNING:
                run.progress = RunDir(self.grid_dir / run.run_id).progress() or run.progress
        self._find_device()

    def _find_device(self) -> None:
        """The device of the runs (a run's env.json), with where they train."""
        if not self._device:
            for run in self.state.runs:
                if run.status != Status.QUEUED:
                    env = RunDir(self.grid_dir / run.run_id).env()
                    if env and env.get("device"):
                        self._device = str(env["device"])
                        break
        self.state.device = " · ".join(x for x in (self._device, self.launcher.where()) if x)


def start_worker(
    argv: list[str], env: dict[str, str], log_path: Path, header: str = "rethink grid starts"
) -> subprocess.Popen[bytes]:
    """Start a worker in its own process group, appending its output to `log_path`.

    The worker dies with this process (Linux) and never inherits its open files.
    """
    when = datetime.now(UTC).isoformat(timespec="seconds")
    with log_path.open("ab") as log:
        log.write(f"\n=== {when} {header}: {' '.join(argv)}\n".encode())
        log.flush()
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            close_fds=True,  # never pass on the folder lock
            process_group=0,
            preexec_fn=_worker_preexec(),
        )


def worker_env(backend: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment plus what every worker needs, plus `extra`."""
    env = dict(os.environ)
    env.update(KERAS_BACKEND=backend, XLA_PYTHON_CLIENT_PREALLOCATE="false", PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


# Thread-pool sizes of the frameworks' CPU kernels (torch/MKL/OpenMP, TensorFlow).
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def share_cpus(env: dict[str, str], jobs: int) -> None:
    """Give each of `jobs` CPU workers its share of the cores (unless the user set it).

    Every framework sizes its thread pool to all cores; several such workers
    at once oversubscribe the CPU (measured on 2 cores: the torch smoke grid
    with 2 jobs took 378 s, single Inception runs up to 4 times longer).
    """
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    for name in _THREAD_VARIABLES:
        env.setdefault(name, threads)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the worker's process group (it leads its own), like a terminal would."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


def _exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        hint = " (out of memory?)" if -returncode == signal.SIGKILL else ""
        return f"worker killed by {name}{hint} without writing result.json"
    if returncode == 0:
        return "worker exited 0 without writing result.json"
    return f"worker exited with code {returncode} without writing result.json"


def _log_tail(path: Path, lines: int = 3, limit: int = 400) -> str:
    """The last few non-empty lines of this attempt's worker.log, as one line."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 8192))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    text = text.rsplit("\n=== ", 1)[-1].split("\n", 1)[-1] if "\n=== " in text else text
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    joined = " | ".join(kept)
    return joined if len(joined) <= limit else "..." + joined[-limit:]


def _worker_preexec() -> Callable[[], None]:
    """A preexec function: the worker can receive SIGINT and SIGTERM even where this
    process blocks them (a Ray task's process does, and the mask is inherited), and
    dies with this process (Linux only)."""
    prctl = None
    if sys.platform.startswith("linux"):
        try:
            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            prctl = None
    parent = os.getpid()

    def preexec() -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        if prctl is not None:
            prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)

    return preexec
