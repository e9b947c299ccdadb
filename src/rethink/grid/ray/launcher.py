"""The driver's side of a grid on a Ray cluster: `RayLauncher`, one Ray task per attempt.

    cluster = connect("10.0.0.1:6379", gpus_per_run=0.5)      # rethink.grid.ray.cluster
    state = Executor(grid_dir, specs, backend="jax", jobs=cluster.capacity,
                     launcher=RayLauncher(cluster), reporter=r).run()

`RayLauncher` is a launcher of `rethink.grid.executor.Executor`: the loop,
the stop policy, the state, the live table, the resume policy and the exit
codes are the executor's, as for a local grid. Each attempt is a Ray task
(`rethink.grid.ray.task.run_task`) that trains the run on a node, in the grid
folder when the node sees it, else in a folder of its own whose files it
ships to a `ProgressBoard`, an actor pinned to the driver's node. The
driver polls the board and writes what arrived into its own run folders, so
the run folders end up on the driver's machine and the live table reads them
as it reads local runs.

Failures. A task whose node dies is retried by Ray (`TASK_RETRIES`) on another
node. It starts from the newest checkpoint the board holds: the last one a
shipping task sent, or the one in the driver's folder (the driver hands the
board each run's folder before the task starts, and again whenever a
checkpoint appears there); with nothing there, from the start. Ctrl-C: the
executor cancels each task once (`ray.cancel`), the task forwards a SIGINT to
its worker, which ends as `stopped` with its last checkpoint, and the files
come back; a second Ctrl-C or the stop timeout force-cancels. A run whose
task never started stays queued.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rethink.grid.launch import Attempt, Launcher, WorkerCommand, rethink_worker
from rethink.grid.ray.cluster import Cluster, one_line
from rethink.grid.ray.shipping import ProgressBoard, Signature, apply_files, local_files, signature
from rethink.grid.ray.task import BOARD_TIMEOUT_S, MARKER, Job, run_task
from rethink.grid.state import GridState, RunState
from rethink.run.folder import CHECKPOINT, RunDir, write_json

TASK_RETRIES = 3  # Ray retries of a task whose node or worker process died


class RayAttempt:
    """A run's Ray task as the executor sees it."""

    def __init__(self, ref: Any) -> None:
        self.ref = ref
        self.returncode: int | None = None
        self.node: dict[str, Any] | None = None
        self.error: str | None = None  # why the task ended without its worker's exit code
        self._cancelled = self._killed = False

    def collect(self) -> None:
        """Take the finished task's outcome (`RayLauncher.poll`, once the task is ready)."""
        import ray

        try:
            out = ray.get(self.ref)
            self.node, self.returncode = out, int(out["returncode"])
        except ray.exceptions.TaskCancelledError:
            self.returncode, self.error = 130, "Ray task cancelled"
        except ray.exceptions.RayTaskError as e:
            cause = e.cause if isinstance(e.cause, BaseException) else e
            self.returncode, self.error = 1, f"Ray task raised {one_line(cause)}"
        except ray.exceptions.RayError as e:
            self.returncode, self.error = 1, f"Ray task lost: {one_line(e)}"

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
        self._remote = ray.remote(run_task).options(
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
