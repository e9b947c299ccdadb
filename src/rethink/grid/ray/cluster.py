"""Trains a grid's runs on a Ray cluster: one Ray task per run, the same workers, the same folder.

    cluster = connect("10.0.0.1:6379", gpus_per_run=0.5)   # ClusterError: one line, no hang
    state = Executor(grid_dir, specs, backend="jax", jobs=cluster.capacity,
                     launcher=RayLauncher(cluster), reporter=r).run()

This is the one module that imports Ray, and only inside its functions, when a
grid runs with `--executor ray`. `RayLauncher` is the launcher of
`rethink.grid.executor.Executor` that starts each attempt as a Ray task: the
loop, the stop policy, the state, the live table, the resume policy and the
exit codes are the executor's, as for a local grid.

Each run is one Ray task asking for `gpus_per_run` GPUs (a fraction shares a
GPU) and `cpus_per_run` CPUs. The task carries the run's spec, the backend
and the worker command; on its node it starts the very worker the local
executor starts (`python -m rethink run --spec ... --resume --quiet`) as a
subprocess with RETHINK_NODE set to the Ray node id (recorded in env.json;
the driver adds the node's IP as `node_ip` when the run ends).

Files. The driver writes a marker holding a random token into the grid folder.
A task whose node sees that marker at the same path (shared storage) trains in
the grid folder itself. Otherwise it trains in a temporary folder on its node
and ships the run's files (`rethink.grid.shipping`: `SHIPPED` by a `Shipper`) to
a `ProgressBoard`, an actor pinned to the driver's node: progress.json about
every second, the whole set at each new checkpoint and at the end. The
driver polls the board and writes what arrived into its own run folders, so
the run folders end up on the driver's machine and the live table reads them
as it reads local runs. RETHINK_RAY_FILES=ship makes
every task ship (for tests, or a slow shared folder).

Failures. A task whose node dies is retried by Ray (`TASK_RETRIES`) on another
node. It starts from the newest checkpoint the board holds: the last one a
shipping task sent, or the one in the driver's folder (the driver hands the
board each run's folder before the task starts, and again whenever a
checkpoint appears there); with nothing there, from the start. Ctrl-C: the
executor cancels each task once (`ray.cancel`), the task forwards a SIGINT to
its worker, which ends as `stopped` with its last checkpoint, and the files come
back; a second Ctrl-C or the stop timeout force-cancels. A run whose task never
started stays queued. The task's worker dies with the task's process.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rethink import install_hint
from rethink.grid.executor import (
    WORKER_LOG,
    Attempt,
    GridState,
    Launcher,
    RunState,
    WorkerCommand,
    WorkerProcess,
    rethink_worker,
    start_worker,
    worker_env,
)
from rethink.grid.shipping import (
    Board,
    Files,
    ProgressBoard,
    Shipper,
    Signature,
    apply_files,
    local_files,
    signature,
)
from rethink.run.folder import CHECKPOINT, SPEC, RunDir, write_json

MARKER = ".rethink-cluster"  # in the grid folder while a Ray grid runs: a random token
PUSH_EVERY_S = 1.0  # how often a shipping task sends what changed
TASK_RETRIES = 3  # Ray retries of a task whose node or worker process died
CONNECT_TIMEOUT_S = 10.0
BOARD_TIMEOUT_S = 120.0
INSTALL_HINT = install_hint("ray")


class ClusterError(RuntimeError):
    """The cluster cannot take the grid: Ray missing, unreachable, too small. One line."""


# ---- connecting ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    """A connected Ray cluster and what each run asks of it."""

    address: str
    nodes: int
    capacity: int  # runs the cluster holds at once
    gpus_per_run: float
    cpus_per_run: float

    def describe(self) -> str:
        gpus = f"{self.gpus_per_run:g} GPU, " if self.gpus_per_run else ""
        return (
            f"Ray cluster {self.address} ({self.nodes} nodes, {gpus}"
            f"{self.cpus_per_run:g} CPU per run)"
        )


def check_request(gpus_per_run: float | None, cpus_per_run: float) -> None:
    """Reject resource requests Ray cannot grant (ClusterError)."""
    if gpus_per_run is not None and (not math.isfinite(gpus_per_run) or gpus_per_run < 0):
        raise ClusterError(f"--gpus-per-run must be 0 or more, got {gpus_per_run:g}")
    if gpus_per_run is not None and gpus_per_run > 1 and not float(gpus_per_run).is_integer():
        raise ClusterError(
            f"--gpus-per-run {gpus_per_run:g}: above 1 give whole GPUs (fractions share one GPU)"
        )
    if not math.isfinite(cpus_per_run) or cpus_per_run <= 0:
        raise ClusterError(f"--cpus-per-run must be more than 0, got {cpus_per_run:g}")


def runs_per_node(resources: Mapping[str, float], gpus: float, cpus: float) -> int:
    """How many runs asking for `gpus` and `cpus` fit on a node with `resources`."""
    fits = math.floor(resources.get("CPU", 0.0) / cpus + 1e-9)
    if gpus > 0:
        fits = min(fits, math.floor(resources.get("GPU", 0.0) / gpus + 1e-9))
    return max(0, fits)


def connect(address: str | None, gpus_per_run: float | None, cpus_per_run: float = 1.0) -> Cluster:
    """Connect this process to a Ray cluster and check that one run fits on a node.

    `address`: HOST:PORT (the head's GCS port), ray://HOST:PORT (Ray Client), or
    None for $RAY_ADDRESS, else the cluster running on this machine ("auto").
    `gpus_per_run` None: 1 if the cluster has GPUs, else 0.
    """
    check_request(gpus_per_run, cpus_per_run)
    try:
        import ray
    except ImportError:
        raise ClusterError(f"--executor ray needs Ray: {INSTALL_HINT}") from None
    address = address or os.environ.get("RAY_ADDRESS") or "auto"
    if address not in ("auto", "local"):
        _check_reachable(address)
    try:
        ray.init(
            address=address,
            logging_level=logging.ERROR,
            log_to_driver=False,  # worker output goes to worker.log; keep the table clean
            ignore_reinit_error=True,
        )
    except Exception as e:  # Ray raises ConnectionError, RuntimeError, ValueError...
        where = "on this machine (start one with `ray start --head`)" if address == "auto" else ""
        raise ClusterError(
            f"cannot connect to the Ray cluster at {address} {where}: {_line(e)}".replace("  ", " ")
        ) from None
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    total = ray.cluster_resources()
    gpus = gpus_per_run if gpus_per_run is not None else (1.0 if total.get("GPU", 0) > 0 else 0.0)
    fits = [runs_per_node(r, gpus, cpus_per_run) for r in nodes]
    if not any(fits):
        biggest: dict[str, float] = max(
            nodes, key=lambda r: (r.get("GPU", 0), r.get("CPU", 0)), default={}
        )
        raise ClusterError(
            f"the Ray cluster at {address} has no node for one run of {gpus:g} GPU and "
            f"{cpus_per_run:g} CPU (largest node: {biggest.get('GPU', 0):g} GPU, "
            f"{biggest.get('CPU', 0):g} CPU; cluster: {total.get('GPU', 0):g} GPU, "
            f"{total.get('CPU', 0):g} CPU); lower --gpus-per-run / --cpus-per-run or add nodes"
        )
    return Cluster(address, len(nodes), sum(fits), gpus, cpus_per_run)


def _check_reachable(address: str) -> None:
    """Fail fast, naming the address, when nothing answers there (ray.init may wait long)."""
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"bad Ray address {address!r}: give HOST:PORT or ray://HOST:PORT")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as e:
        why = "timed out" if isinstance(e, TimeoutError) else e.strerror or str(e)
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {why}") from None


def _line(e: BaseException) -> str:
    """An exception as one short line."""
    lines = [x.strip() for x in str(e).splitlines() if x.strip()]
    text = lines[0] if lines else ""
    text = f"{type(e).__name__}: {text}" if text else type(e).__name__
    return text if len(text) <= 300 else text[:297] + "..."


# ---- one attempt, on its node -----------------------------------------------------


@dataclass(frozen=True)
class Job:
    """What travels with a run's task: the run, how to train it, where its folder is."""

    run_id: str
    spec: dict[str, Any]
    backend: str
    grid_dir: str  # absolute, on the driver's machine
    token: str  # the marker's content: a node that reads it sees the grid folder
    worker: WorkerCommand = rethink_worker
    ship: bool = False  # ship files even where the grid folder is visible
    env: Mapping[str, str] = field(default_factory=dict)  # added to the worker's environment


def sees_grid(grid_dir: Path, token: str) -> bool:
    """True if this machine sees the driver's grid folder (its marker holds `token`)."""
    try:
        return (grid_dir / MARKER).read_text().strip() == token
    except OSError:
        return False


def run_attempt(job: Job, board: Board, node: dict[str, Any]) -> dict[str, Any]:
    """Train one run on this node in a worker subprocess; the body of its Ray task.

    In the grid folder itself when this node sees it, else in a temporary
    folder started from the board's files and shipped back. Returns `node`
    with the worker's exit code and whether the folder was shared.
    """
    shared = not job.ship and sees_grid(Path(job.grid_dir), job.token)
    node = {**node, "shared": shared}
    board.started(job.run_id, node)
    scratch = None if shared else Path(tempfile.mkdtemp(prefix=f"rethink-{job.run_id}-"))
    root = Path(job.grid_dir) if scratch is None else scratch
    run_dir = root / job.run_id
    shipper = None
    try:
        if scratch is not None:
            apply_files(run_dir, board.checkout(job.run_id))
            shipper = Shipper(run_dir, lambda files: board.put(job.run_id, files))
        run_dir.mkdir(parents=True, exist_ok=True)
        if not (run_dir / SPEC).is_file():
            write_json(run_dir / SPEC, job.spec)
        if shipper is not None:
            shipper.mark()
        env = worker_env(job.backend, {**job.env, "RETHINK_NODE": str(node.get("node_id") or "")})
        argv = job.worker(run_dir / SPEC, root, job.backend)
        where = f"on Ray node {node.get('node_ip')} ({node.get('host')}), " + (
            "in the grid folder" if shared else "shipping its files back"
        )
        proc = start_worker(argv, env, run_dir / WORKER_LOG, header=f"rethink grid starts {where}")
        code = _supervise(WorkerProcess(proc), shipper)
    finally:
        try:
            if shipper is not None:
                shipper.ship(everything=True)
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
    return {**node, "returncode": code}


def _supervise(worker: WorkerProcess, shipper: Shipper | None) -> int:
    """Wait for the worker, shipping as it goes; a cancel (KeyboardInterrupt) is passed
    on once as SIGINT, so it stops cleanly. The worker never outlives this call."""
    interrupted = False
    next_push = 0.0
    try:
        while True:
            try:
                while (code := worker.poll()) is None:
                    if shipper is not None and time.monotonic() >= next_push:
                        shipper.ship()
                        next_push = time.monotonic() + PUSH_EVERY_S
                    time.sleep(0.1)
                return code
            except KeyboardInterrupt:
                if not interrupted:
                    interrupted = True
                    worker.interrupt()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.proc.wait()


def this_node() -> dict[str, Any]:
    """The Ray node this task runs on: id, IP, host name."""
    import ray

    return {
        "node_id": ray.get_runtime_context().get_node_id(),
        "node_ip": ray.util.get_node_ip_address(),
        "host": socket.gethostname(),
    }


class _RemoteBoard:
    """The board actor as a `Board`: each call waits for its answer."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def _call(self, method: str, *args: Any) -> Any:
        import ray

        return ray.get(getattr(self.handle, method).remote(*args), timeout=BOARD_TIMEOUT_S)

    def put(self, run_id: str, files: Files) -> int:
        return int(self._call("put", run_id, files))

    def started(self, run_id: str, node: dict[str, Any]) -> None:
        self._call("started", run_id, node)

    def checkout(self, run_id: str) -> dict[str, bytes]:
        return dict(self._call("checkout", run_id))


def _task(job: Job, board: Any) -> dict[str, Any]:
    """The Ray task of one run (made remote in `RayLauncher.session`)."""
    return run_attempt(job, _RemoteBoard(board), this_node())


# ---- the driver ------------------------------------------------------------------------


class RayAttempt:
    """A run's Ray task as the executor sees it."""

    def __init__(self, ref: Any) -> None:
        self.ref = ref
        self.returncode: int | None = None
        self.node: dict[str, Any] | None = None
        self.error: str | None = None  # why the task ended without its worker's exit code
        self._cancelled = self._killed = False

    def collect(self) -> None:
        """Take the finished task's outcome (the executor calls this once it is ready)."""
        import ray

        try:
            out = ray.get(self.ref)
            self.node, self.returncode = out, int(out["returncode"])
        except ray.exceptions.TaskCancelledError:
            self.returncode, self.error = 130, "Ray task cancelled"
        except ray.exceptions.RayTaskError as e:
            cause = e.cause if isinstance(e.cause, BaseException) else e
            self.returncode, self.error = 1, f"Ray task raised {_line(cause)}"
        except ray.exceptions.RayError as e:
            self.returncode, self.error = 1, f"Ray task lost: {_line(e)}"

    def poll(self) -> int | None:
        return self.returncode

    def interrupt(self) -> None:
        import ray

        if not self._cancelled:
            self._cancelled = True
            with contextlib.suppress(ray.exceptions.RayError, ValueError):
                ray.cancel(self.ref, force=False)

    def kill(self) -> None:
        import ray

        if not self._killed:
            self._killed = True
            with contextlib.suppress(ray.exceptions.RayError, ValueError):
                ray.cancel(self.ref, force=True)


class RayLauncher(Launcher):
    """The executor's attempts as Ray tasks (see the module docstring).

    `in_flight`: runs handed to the cluster at once (default: all of them; Ray
    queues those that do not fit). `ship`: always ship files back, even where
    the grid folder is visible (default: RETHINK_RAY_FILES=ship). `env`: added
    to each worker's environment on its node.
    """

    tick_s = 0.2
    running_when_launched = False  # queued until its task reports from a node

    def __init__(
        self,
        cluster: Cluster,
        *,
        worker: WorkerCommand | None = None,
        in_flight: int | None = None,
        ship: bool | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.cluster = cluster
        self.worker = worker or rethink_worker
        self.env = dict(env or {})
        self.in_flight = in_flight
        self.ship = os.environ.get("RETHINK_RAY_FILES") == "ship" if ship is None else ship
        self._token = secrets.token_hex(16)
        self._root = Path()
        self._board: Any = None
        self._remote: Any = None
        self._since = 0
        self._attempts: dict[str, RayAttempt] = {}
        self._nodes: dict[str, dict[str, Any]] = {}  # run id -> node of its latest attempt
        self._seeded: dict[str, Signature | None] = {}  # run id -> checkpoint the board has

    def slots(self, jobs: int, runs: int) -> int:
        return self.in_flight if self.in_flight is not None else max(1, runs)

    def where(self) -> str:
        return self.cluster.describe()

    @contextlib.contextmanager
    def session(self, state: GridState) -> Iterator[object]:
        """The board actor on the driver's node, the remote task, the grid's marker."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self._root = state.grid_dir.resolve()
        options: dict[str, Any] = {"num_cpus": 0, "max_restarts": 0}
        try:  # on the driver's node, which lives as long as the grid does
            here = ray.get_runtime_context().get_node_id()
            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(here, soft=False)
        except Exception:  # Ray Client: no node of its own; anywhere will do
            pass
        self._board = ray.remote(ProgressBoard).options(**options).remote()
        self._remote = ray.remote(_task).options(
            num_cpus=self.cluster.cpus_per_run,
            num_gpus=self.cluster.gpus_per_run,
            max_retries=TASK_RETRIES,
            retry_exceptions=False,  # a training failure is the run's result, not a retry
        )
        marker = self._root / MARKER
        marker.write_text(self._token + "\n")
        try:
            yield self
        finally:
            marker.unlink(missing_ok=True)
            with contextlib.suppress(Exception):
                ray.kill(self._board)

    def launch(self, run: RunState, run_dir: RunDir, state: GridState) -> Attempt:
        self._seed(run.run_id)
        job = Job(
            run_id=run.run_id, spec=run.spec.to_dict(), backend=state.backend,
            grid_dir=str(self._root), token=self._token, worker=self.worker, ship=self.ship,
            env=self.env,
        )  # fmt: skip
        attempt = RayAttempt(self._remote.remote(job, self._board))
        self._attempts[run.run_id] = attempt
        return attempt

    def poll(self) -> None:
        """Collect the outcome of every task that has finished."""
        import ray

        pending = {a.ref: a for a in self._attempts.values() if a.returncode is None}
        if pending:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
            for ref in ready:
                pending[ref].collect()

    def sync(self) -> list[str]:
        """Write what the nodes shipped; hand the board newer checkpoints that
        appeared in the grid folder (tasks writing it in place); the runs whose
        tasks reported from a node since the last call."""
        import ray

        try:
            version, files, starts = ray.get(
                self._board.changes.remote(self._since), timeout=BOARD_TIMEOUT_S
            )
        except ray.exceptions.RayError:
            return []  # the board is gone: what the folder holds is what there is
        self._since = version
        for run_id, named in files.items():
            run_dir = self._root / run_id
            apply_files(run_dir, named)
            if CHECKPOINT in named:
                self._seeded[run_id] = signature(run_dir / CHECKPOINT)
        self._nodes.update(starts)
        for run_id in self._attempts:
            if signature(self._root / run_id / CHECKPOINT) != self._seeded.get(run_id):
                self._seed(run_id)
        return [run_id for run_id in starts if run_id in self._attempts]

    def _seed(self, run_id: str) -> None:
        run_dir = self._root / run_id
        self._seeded[run_id] = signature(run_dir / CHECKPOINT)
        self._board.seed.remote(run_id, local_files(run_dir))

    def ended(self, run: RunState, attempt: Attempt) -> None:
        """Forget the run's task; add its node's IP to env.json."""
        ray_attempt = self._attempts.pop(run.run_id)
        node = ray_attempt.node or self._nodes.get(run.run_id)
        self._seeded.pop(run.run_id, None)
        self._board.forget.remote(run.run_id)
        rd = RunDir(self._root / run.run_id)
        env = rd.env()
        if env is not None and node is not None and env.get("node") == node.get("node_id"):
            write_json(rd.env_path, {**env, "node_ip": node.get("node_ip")})
