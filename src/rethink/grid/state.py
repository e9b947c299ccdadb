"""What a grid looks like while it trains: one `RunState` per run, the `GridState` of all.

    state = GridState.from_folder(grid_dir, specs, backend="jax")  # done runs found on disk
    state.runs[0].status, state.runs[0].value("test_acc")          # result.json, else progress.json
    state.eta()                                                    # seconds left, or None
    exit_code(state)     # 0: all completed; 1: some failed or diverged; 130: interrupted

The executor (`rethink.grid.executor`) keeps the state up to date; the live
view (`rethink.grid.live`) only reads it. Plain Python: no Keras, no processes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rethink.run.folder import RunDir
from rethink.spec import RunSpec
from rethink.spec.datasets import DEFAULT, known
from rethink.train.outcome import Status


@dataclass
class RunState:
    """One run as the grid sees it: its spec, status and latest numbers."""

    spec: RunSpec
    index: int  # 1-based position in the grid
    status: Status = Status.QUEUED
    progress: dict[str, Any] | None = None  # last progress.json
    result: dict[str, Any] | None = None  # result.json once ended
    started: float | None = None  # time.time() when this session started it
    finished: float | None = None
    gpu: str | None = None

    @property
    def run_id(self) -> str:
        return self.spec.run_id

    def value(self, key: str) -> Any:
        """A number from result.json if ended, else from progress.json (None if neither)."""
        for source in (self.result, self.progress):
            if source is not None and source.get(key) is not None:
                return source[key]
        return None

    def window_value(self, key: str) -> Any:
        """The training-mode mean `key` ("train_loss", "train_acc") of the batches as
        trained (Figure 1a's curve): result.json's last full window once ended
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
        # Before it starts: an epochs-based run's steps from its data set's training split
        # (an image folder's size is known once the run has read it: 0 until then).
        sizes = known(self.spec.dataset or DEFAULT).split_sizes
        images = self.spec.train_subset or (sizes[0] if sizes else 0)
        return self.spec.total_steps(images) if images else (self.spec.steps or 0)

    def seconds_per_step(self) -> float | None:
        """Training seconds per step so far (None before the first step)."""
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
        """Seconds until a running run ends, at its speed so far; None otherwise."""
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

    @classmethod
    def from_folder(cls, grid_dir: Path, specs: Sequence[RunSpec], backend: str) -> GridState:
        """The grid as found on disk: completed and diverged runs done, the rest queued."""
        runs = []
        for i, spec in enumerate(specs, start=1):
            rd = RunDir(grid_dir / spec.run_id)
            run = RunState(spec=spec, index=i, progress=rd.progress())
            result = rd.result()
            if result is not None and result.get("status") in (Status.COMPLETED, Status.DIVERGED):
                run.status, run.result = Status(result["status"]), result
            runs.append(run)
        return cls(grid_dir=grid_dir, runs=runs, backend=backend)

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
        """Seconds until the grid ends, from the speed of runs seen so far; None if unknown.

        A run not measured yet is expected at its model's mean speed, else the
        grid's; the work left is shared by `jobs` runs at a time."""
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
            if r.status.ended:
                continue
            unfinished += 1
            left = r.remaining()
            if left is None:
                model = rates.get(r.spec.model)
                rate = sum(model) / len(model) if model else overall
                left = max(0, r.total_steps - r.step) * rate
            work += left
        return work / max(1, min(self.jobs, unfinished))


def exit_code(state: GridState) -> int:
    """0 if every run completed, else 130 if interrupted, else 1."""
    if all(r.status == Status.COMPLETED for r in state.runs):
        return 0
    return 130 if state.interrupted else 1
