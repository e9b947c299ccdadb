"""One attempt at a run on a Ray node: the body of its Ray task.

    out = run_attempt(job, board, this_node())   # {"node_id", "node_ip", "host", "shared", "returncode"}

On its node, a task starts the very worker the local executor starts
(`python -m rethink run --spec ... --resume --quiet`, `rethink.grid.launch`)
as a subprocess with RETHINK_NODE set to the Ray node id (recorded in
env.json; the driver adds the node's IP as `node_ip` when the run ends).

Files. The driver writes `MARKER`, holding a random token, into the grid
folder. A task whose node sees that marker at the same path (shared storage)
trains in the grid folder itself. Otherwise it trains in a temporary folder
on its node, started from the newest files the board holds (a retry
continues from the last checkpoint shipped), and ships the run's files
(`rethink.grid.ray.shipping`) to the board: progress.json about every
`PUSH_EVERY_S`, the whole set at each new checkpoint and at the end.
`Job.ship` (RETHINK_RAY_FILES=ship) makes every task ship.

Cancel: `ray.cancel` raises KeyboardInterrupt in the task, which passes it on
once to its worker as SIGINT (the worker ends as `stopped`, with its last
checkpoint) and ships the files; the worker never outlives the task.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rethink.grid.launch import (
    WORKER_LOG,
    WorkerCommand,
    WorkerProcess,
    rethink_worker,
    start_worker,
    worker_env,
)
from rethink.grid.ray.shipping import Board, Files, Shipper, apply_files
from rethink.run.folder import SPEC, write_json

MARKER = ".rethink-cluster"  # in the grid folder while a Ray grid runs: a random token
PUSH_EVERY_S = 1.0  # how often a shipping task sends what changed
BOARD_TIMEOUT_S = 120.0  # how long a call to the board actor may take


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


class RemoteBoard:
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


def run_task(job: Job, board: Any) -> dict[str, Any]:
    """The Ray task of one run (made remote in `RayLauncher.session`): `board` is the
    board actor's handle."""
    return run_attempt(job, RemoteBoard(board), this_node())
