"""Trains a grid's runs, `jobs` at a time, each in a worker of its own, never losing one.

    state = Executor(grid_dir, specs, backend="jax", jobs=2, reporter=reporter).run()
    exit_code(state)   # 0: all completed; 1: some failed or diverged; 130: interrupted

The executor owns the loop, the stop policy, the resume policy, the state
(`rethink.grid.state`), what the reporter (the live view) hears, and the exit
codes; its `launcher` (`rethink.grid.launch`) only starts attempts: worker
processes here (`LocalLauncher`, the default) or Ray tasks
(`rethink.grid.ray.launcher.RayLauncher`). A crash, an out-of-memory kill or
a divergence in one run never stops the others. The worker writes its run
folder (see `rethink.run.folder`); a worker that dies without writing
result.json gets one written for it here: status `failed`, with the exit code
or signal and the last lines of worker.log.

Compact grids (`compact=True`, `rethink grid --compact`): a run that finishes
(completed or diverged) has its checkpoint.npz and model.keras removed at once
(`COMPACT_REMOVES`), and so have finished runs found at the start.

Resume policy (what a second `rethink grid` on the same folder does):
- `completed` runs are done: skipped, their files never touched (in a compact
  grid, but for the removals above);
- `diverged` runs are done too: the same spec and seed would diverge again;
- `failed` and `stopped` runs, and runs without a result, are started again:
  their stale result.json is removed and the worker continues from its
  checkpoint.npz.

Ctrl-C (SIGINT) or SIGTERM: no new run starts, and running workers get a
SIGINT once (they set a stop flag that training checks after every dispatch,
and end as `stopped`, keeping their last checkpoint); those still running
after `stop_timeout_s` (or at a second Ctrl-C) are killed and recorded as
`stopped`. GPUs: with `gpus=("0", "1")` each run gets the least busy of them.
This module never imports Keras.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rethink.base.signals import on_stop_signals
from rethink.grid.launch import WORKER_LOG, Attempt, Launcher, LocalLauncher, exit_reason, log_tail
from rethink.grid.state import GridState, RunState
from rethink.run.folder import CHECKPOINT, MODEL_FILE, RunDir, write_json
from rethink.run.model import record_model
from rethink.spec import RunSpec
from rethink.train.outcome import ENDED, Outcome, Status
from rethink.train.pack import pack_key

# What a compact grid removes from a run once it finished (completed or diverged):
# it is never trained again, so only its record (spec, env, metrics, result, log) stays.
COMPACT_REMOVES = (CHECKPOINT, MODEL_FILE)


class Reporter:
    """What the executor tells the live view (`rethink.grid.live`); no-ops here."""

    def start(self, state: GridState) -> None:
        """Before the first run starts."""

    def update(self, state: GridState) -> None:
        """Every refresh (about twice a second)."""

    def run_started(self, state: GridState, run: RunState) -> None:
        """A run's worker started."""

    def run_finished(self, state: GridState, run: RunState) -> None:
        """A run ended (any ended status)."""

    def stop(self, state: GridState) -> None:
        """After the last run ended, or the grid was stopped."""


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
        pack: int = 1,
    ) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.grid_dir = Path(grid_dir)
        self.state = GridState.from_folder(self.grid_dir, specs, backend)
        self.state.jobs, self.state.gpus, self.state.dataset = jobs, tuple(gpus), dataset
        self.launcher = launcher or LocalLauncher()
        self.reporter: Reporter = reporter or Reporter()
        self.refresh_s = refresh_s
        self.stop_timeout_s = stop_timeout_s
        self.slots = self.launcher.slots(jobs, len(specs))  # attempts in flight at most
        self._attempts: dict[str, Attempt] = {}  # run id -> its attempt in flight
        self._interrupted: set[int] = set()  # attempts (ids) that got their one SIGINT
        # Pack attempts (by id, held so ids stay unique): their runs, when (time.time()).
        self._packs: dict[int, tuple[Attempt, list[str], float]] = {}
        self._trained: set[str] = set()  # runs seen training, or ended by their worker
        self._written: set[str] = set()  # runs whose result.json this executor wrote
        self.pack = max(1, pack)  # runs trained as one pack at most (1: no packing)
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
            if not self._attempts and (self._stop_at is not None or not self._queued()):
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
            r
            for r in self.state.runs
            if r.status == Status.QUEUED and r.run_id not in self._attempts
        ]

    def _in_flight(self) -> int:
        """Attempts in flight (a pack's runs share one)."""
        return len({id(a) for a in self._attempts.values()})

    def _launch(self) -> None:
        queued = self._queued()
        free = self.slots - self._in_flight()
        while free > 0 and queued:
            group = self._pack_of(queued)
            queued = [r for r in queued if r not in group]
            free -= 1
            if len(group) > 1:
                self._start_pack(group)
            else:
                self._start(group[0])

    def _pack_of(self, queued: list[RunState]) -> list[RunState]:
        """The first queued run and up to `pack - 1` more that can share its step."""
        first = queued[0]
        if self.pack == 1 or not self.launcher.packs:
            return [first]
        key = pack_key(first.spec)
        same = [r for r in queued[1:] if pack_key(r.spec) == key]
        return [first, *same[: self.pack - 1]]

    def _reap(self) -> None:
        self.launcher.poll()
        for run_id, attempt in list(self._attempts.items()):
            returncode = attempt.poll()
            if returncode is not None:
                del self._attempts[run_id]
                self._finish(self._run(run_id), attempt, returncode)

    def _stop_workers(self) -> None:
        assert self._stop_at is not None
        late = time.monotonic() - self._stop_at > self.stop_timeout_s
        for attempt in self._attempts.values():
            if self._force or late:
                attempt.kill()
            elif id(attempt) not in self._interrupted:
                # Once: a second SIGINT would make the worker stop without its clean path.
                self._interrupted.add(id(attempt))
                attempt.interrupt()

    def _drain(self) -> None:
        """After an unexpected error: stop every worker (bounded) and record it."""
        deadline = time.monotonic() + self.stop_timeout_s
        while self._attempts:
            self._stop_workers()
            if time.monotonic() > deadline:
                self._force = True
            time.sleep(self.launcher.tick_s)
            self._reap()

    def _run(self, run_id: str) -> RunState:
        return next(r for r in self.state.runs if r.run_id == run_id)

    # ---- one run ------------------------------------------------------------------

    def _prepare(self, run: RunState, gpu: str | None) -> RunDir:
        rd = RunDir(self.grid_dir / run.run_id)
        rd.path.mkdir(parents=True, exist_ok=True)
        if rd.spec() is None:  # keep a spec the worker wrote (resolved defaults)
            write_json(rd.spec_path, run.spec.to_dict())
        record_model(rd.path, run.spec.model)  # a model of yours: its file travels with the run
        # A failed or stopped attempt's result: this attempt writes its own.
        rd.result_path.unlink(missing_ok=True)
        self._written.discard(run.run_id)
        self._trained.discard(run.run_id)
        run.result, run.status = None, Status.RUNNING
        run.started, run.finished = time.time(), None
        run.gpu = gpu
        return rd

    def _launched(self, run: RunState, attempt: Attempt) -> None:
        self._attempts[run.run_id] = attempt
        if self.launcher.running_when_launched:
            self.reporter.run_started(self.state, run)
        else:  # queued until the launcher says it trains
            run.status, run.started = Status.QUEUED, None

    def _start(self, run: RunState) -> None:
        rd = self._prepare(run, self._pick_gpu())
        try:
            attempt = self.launcher.launch(run, rd, self.state)
        except OSError as e:
            self._record_failure(run, f"worker could not start: {e}")
            return
        self._launched(run, attempt)

    def _start_pack(self, runs: list[RunState]) -> None:
        """Start `runs` as one pack: one attempt, on one GPU, that all of them share."""
        gpu = self._pick_gpu()
        dirs = [self._prepare(r, gpu) for r in runs]
        launched_at = time.time() - 1  # file times may be coarser than the clock
        try:
            attempt = self.launcher.launch_pack(runs, dirs, self.state)
        except OSError as e:
            for run in runs:
                self._record_failure(run, f"worker could not start: {e}")
            return
        self._packs[id(attempt)] = (attempt, [r.run_id for r in runs], launched_at)
        for run in runs:  # queued until its progress shows (a CPU pack: one after another)
            self._attempts[run.run_id] = attempt
            run.status, run.started = Status.QUEUED, None

    def _pick_gpu(self) -> str | None:
        gpus = self.state.gpus
        if not gpus:
            return None
        busy = [r.gpu for r in self.state.runs if r.status == Status.RUNNING]
        return min(gpus, key=lambda g: (busy.count(g), gpus.index(g)))

    def _sync(self) -> None:
        started = self.launcher.sync()  # runs of attempts not yet ended
        for attempt, members, launched_at in self._packs.values():
            for run_id in members:  # a pack's run trains once it writes progress
                run = self._run(run_id)
                if run.status == Status.QUEUED and self._attempts.get(run_id) is attempt:
                    path = RunDir(self.grid_dir / run_id).progress_path
                    if path.exists() and path.stat().st_mtime >= launched_at:
                        started.append(run_id)
        for run_id in started:
            run = self._run(run_id)
            self._trained.add(run_id)
            if run.status == Status.QUEUED:
                run.status, run.started = Status.RUNNING, time.time()
                self.reporter.run_started(self.state, run)

    def _finish(self, run: RunState, attempt: Attempt, returncode: int) -> None:
        self._sync()  # the last files, and the start of a run that ended between polls
        self.launcher.ended(run, attempt)
        rd = RunDir(self.grid_dir / run.run_id)
        result = rd.result()
        if result is not None and result.get("status") in ENDED:
            self._trained.add(run.run_id)
        elif run.status == Status.QUEUED:
            if self._stop_at is not None:
                return  # stopped before it started: still queued, nothing written
            if self._pack_went_on(run, attempt):
                return  # its chain's worker ended before reaching it: queued again
        run.progress = rd.progress() or run.progress
        if result is None or result.get("status") not in ENDED:
            why = attempt.error or exit_reason(returncode)
            tail = log_tail(rd.path / WORKER_LOG)
            error = f"{why}; last output: {tail}" if tail else why
            # Killed while stopping: resumable like `stopped`.
            status = Status.STOPPED if self._stop_at is not None else Status.FAILED
            result = self._write_result(run, status, error)
        run.result, run.status, run.finished = result, Status(result["status"]), time.time()
        self._find_device()
        if self.compact and run.status.done:
            self._compact(run)
        self.reporter.run_finished(self.state, run)

    def _pack_went_on(self, run: RunState, attempt: Attempt) -> bool:
        """Whether another run of `run`'s pack started training (a CPU pack trains its
        runs one after another): if none did, the worker failed for all of them."""
        _, members, _ = self._packs.get(id(attempt), (attempt, [], 0.0))
        for m in set(members) - self._written:  # a result its worker wrote
            result = RunDir(self.grid_dir / m).result()  # before its own _finish read it
            if result is not None and result.get("status") in ENDED:
                self._trained.add(m)
        return any(m in self._trained for m in members if m != run.run_id)

    def _compact(self, run: RunState) -> None:
        """Remove a finished run's checkpoint and model (a compact grid); failed and
        stopped runs keep their checkpoint, which resuming needs."""
        for name in COMPACT_REMOVES:
            (self.grid_dir / run.run_id / name).unlink(missing_ok=True)

    def _record_failure(self, run: RunState, error: str) -> None:
        run.result = self._write_result(run, Status.FAILED, error)
        run.status, run.finished = Status.FAILED, time.time()
        self.reporter.run_finished(self.state, run)

    def _write_result(self, run: RunState, status: Status, error: str) -> dict[str, Any]:
        """result.json for a worker that ended without one, from its last progress."""
        outcome = Outcome.from_progress(run.spec, status, run.progress or {}, error)
        result = {"run_id": run.run_id, **outcome.to_dict()}
        write_json(RunDir(self.grid_dir / run.run_id).result_path, result)
        self._written.add(run.run_id)
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
