"""Starting a grid's runs: worker processes here, or any `Launcher` of attempts.

    launcher = LocalLauncher()                        # or LocalLauncher(worker=fake, env={...})
    attempt = launcher.launch(run, run_dir, state)    # an Attempt: poll, interrupt, kill, error
    WorkerProcess(start_worker(argv, env, run_dir / WORKER_LOG))   # what LocalLauncher does

Each run trains in a worker process of its own (by default `python -m rethink
run --spec <run>/spec.json --out <grid> --backend B --resume --quiet`;
`LocalLauncher(worker=...)` swaps the command, for tests), with its stdout and
stderr appended to `<run>/worker.log` under a `=== <time> rethink grid
starts: <argv>` header per attempt.

A worker leads its own process group, so a terminal's Ctrl-C reaches it only
when the grid forwards one (`WorkerProcess.interrupt`, sent to the group like
a terminal would); it can receive SIGINT and SIGTERM even where its parent
blocks them (a Ray task's process does); on Linux it dies with its parent
(kill -9 included), so no orphan keeps writing to a folder a resumed grid
works on; it never inherits the grid's open files (the folder lock).

GPUs and cores: the executor picks a GPU per run and `LocalLauncher` sets
CUDA_VISIBLE_DEVICES to it; without GPUs and with several runs at once, each
worker gets its share of the cores (`share_cpus`). XLA_PYTHON_CLIENT_PREALLOCATE
is false always, so several JAX workers can share a GPU.
`rethink.grid.ray.launcher.RayLauncher` is the other launcher: one Ray task per
attempt, running the same worker on a node.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from rethink.base.process import backend_env
from rethink.grid.state import GridState, RunState
from rethink.run.folder import RunDir

WORKER_LOG = "worker.log"
LOG_HEADER = "\n=== "  # starts each attempt's header line in worker.log

WorkerCommand = Callable[[Path, Path, str], list[str]]
"""(spec.json path, grid folder, backend) -> the worker's argv."""


def rethink_worker(spec_path: Path, grid_dir: Path, backend: str) -> list[str]:
    """The real worker: `rethink run` on one spec, resuming from its checkpoint."""
    return [
        sys.executable, "-m", "rethink", "run",
        "--spec", str(spec_path), "--out", str(grid_dir),
        "--backend", backend, "--resume", "--quiet",
    ]  # fmt: skip


def rethink_pack_worker(spec_paths: list[Path], grid_dir: Path, backend: str) -> list[str]:
    """The real worker of a pack: `rethink run` on several specs, trained as one."""
    argv = rethink_worker(spec_paths[0], grid_dir, backend)
    return [*argv, *(arg for path in spec_paths[1:] for arg in ("--spec", str(path)))]


class Attempt(Protocol):
    """One try at one run, as the executor drives it: a `WorkerProcess` here, a
    cluster task in `rethink.grid.ray.launcher`."""

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
    `rethink.grid.ray.launcher.RayLauncher` (Ray tasks) fill it in. The hooks
    are called from the executor's loop, in its thread.
    """

    tick_s = 0.05  # how often the executor looks for ended attempts
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

    @property
    def packs(self) -> bool:
        """Whether `launch_pack` can start several runs as one attempt."""
        return False

    def launch_pack(
        self, runs: list[RunState], run_dirs: list[RunDir], state: GridState
    ) -> Attempt:
        """Start one attempt training `runs` as a pack (`rethink run --spec ... --spec`);
        only where `packs`. OSError if it cannot start."""
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

    @property
    def packs(self) -> bool:
        return self.worker is rethink_worker  # a stand-in worker trains one spec

    def launch_pack(
        self, runs: list[RunState], run_dirs: list[RunDir], state: GridState
    ) -> Attempt:
        argv = rethink_pack_worker([rd.spec_path for rd in run_dirs], state.grid_dir, state.backend)
        env = worker_env(state.backend, self.env)
        if runs[0].gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = runs[0].gpu
        elif state.jobs > 1:
            share_cpus(env, state.jobs)
        # One process, one log: the first run's; the others' logs point to it.
        when = datetime.now(UTC).isoformat(timespec="seconds")
        for rd in run_dirs[1:]:
            with (rd.path / WORKER_LOG).open("ab") as log:
                note = f"packed with {runs[0].run_id}: its {WORKER_LOG} has the output"
                log.write(f"{LOG_HEADER}{when} {note}\n".encode())
        return WorkerProcess(start_worker(argv, env, run_dirs[0].path / WORKER_LOG))


class WorkerProcess:
    """A worker subprocess on this machine, leading its own process group (an `Attempt`)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def poll(self) -> int | None:
        return self.proc.poll()

    def interrupt(self) -> None:
        signal_group(self.proc, signal.SIGINT)

    def kill(self) -> None:
        signal_group(self.proc, signal.SIGKILL)

    @property
    def error(self) -> None:
        return None


def start_worker(
    argv: list[str], env: dict[str, str], log_path: Path, header: str = "rethink grid starts"
) -> subprocess.Popen[bytes]:
    """Start a worker in its own process group, appending its output to `log_path`.

    The worker dies with this process (Linux) and never inherits its open files.
    """
    when = datetime.now(UTC).isoformat(timespec="seconds")
    with log_path.open("ab") as log:
        log.write(f"{LOG_HEADER}{when} {header}: {' '.join(argv)}\n".encode())
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
    """A child's environment on `backend` running this rethink (`backend_env`), plus
    what every worker needs, plus `extra`."""
    return backend_env(
        backend,
        {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "PYTHONUNBUFFERED": "1", **(extra or {})},
    )


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


def signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the worker's process group (it leads its own), like a terminal would."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


def exit_reason(returncode: int) -> str:
    """Why a worker that wrote no result.json ended, from its exit code, in a few words."""
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


def log_tail(path: Path, lines: int = 3, limit: int = 400) -> str:
    """The last few non-empty lines of the latest attempt in a worker.log, as one line
    ("" if there are none)."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 8192))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    if LOG_HEADER in text:  # the latest attempt's output only, without its header
        text = text.rsplit(LOG_HEADER, 1)[-1].split("\n", 1)[-1]
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
