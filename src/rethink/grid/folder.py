"""A grid folder's lifecycle, and a grid trained from Python: `run_grid`.

    from rethink.grid import PRESETS, select, run_grid
    grid = select(PRESETS["smoke"], models=("mlp_1x512",), overrides={"data": "cifar.tar.gz"})
    result = run_grid(grid, Path("output_1"), backend="jax")
    result.exit_code, result.state.runs[0].result

`run_grid` does everything `rethink grid` does except parsing and printing:
it checks the folder (a new one, or one holding this same grid), creates
it, takes its lock (one grid process per folder), writes or checks
grid.json, and trains the runs that are not finished, as worker processes
here (`Executor`) or as tasks on a Ray cluster (`cluster=`). Completed and
diverged runs are kept; failed and stopped ones continue from their
checkpoints. Bad input raises `GridFolderError` (one line, nothing created).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rethink.base.lock import LOCK_FILE, FolderLock, LockError
from rethink.grid.executor import Executor, Reporter
from rethink.grid.launch import Launcher, LocalLauncher, WorkerCommand, rethink_worker
from rethink.grid.record import (
    difference,
    grid_of,
    is_compact,
    read_record,
    record,
    write_record,
)
from rethink.grid.spec import GridError, GridSpec, expand
from rethink.grid.state import GridState, exit_code
from rethink.spec import RunSpec

if TYPE_CHECKING:
    from rethink.grid.ray.cluster import Cluster
    from rethink.spec.datasets import Dataset

JOBS_PER_GPU = 4


class GridFolderError(ValueError):
    """A grid folder that cannot be used (a file, another grid, in use): one line."""


@dataclass(frozen=True)
class GridResult:
    """How `run_grid` ended: the folder, every run's final state, the exit code."""

    folder: Path
    state: GridState
    exit_code: int  # 0 all completed, 1 some failed or diverged, 130 stopped


def auto_jobs(gpus: Sequence[str], cpus: int) -> int:
    """Runs at once for `--jobs auto`.

    On GPUs, JOBS_PER_GPU each: one Inception run nearly fills an H200, four
    together gave 1.18 times its throughput, and the small models, bound by
    per-step overhead, gain more (../shared/docs/gpu-baseline.md). On a CPU,
    2 (with at least 2 cores; the workers split the cores): the smoke grid on
    2 cores took 221 s with 1 job and 135 s with 2 (docs/benchmarks.md).
    """
    if gpus:
        return JOBS_PER_GPU * len(gpus)
    return min(2, max(1, cpus))


def stored_record(folder: Path) -> dict[str, Any] | None:
    """grid.json of an existing folder (None if new); raises if the folder is in the way."""
    if folder.exists() and not folder.is_dir():
        raise GridFolderError(f"{folder} is a file, not a grid folder")
    rec = read_record(folder) if folder.is_dir() else None
    if rec is None and folder.is_dir() and any(p.name != LOCK_FILE for p in folder.iterdir()):
        raise GridFolderError(f"{folder} is not empty and holds no grid (no readable grid.json)")
    return rec


def check_same(folder: Path | None, rec: dict[str, Any], specs: Sequence[RunSpec]) -> None:
    """Raise unless the grid stored in `rec` has exactly these runs."""
    try:
        stored = expand(grid_of(rec))
    except GridError as e:
        raise GridFolderError(f"{folder}: {e}") from None
    diff = difference(stored, list(specs))
    if diff is not None:
        raise GridFolderError(
            f"{folder} holds a different grid ({diff}); continue it with "
            f"rethink grid --resume {folder}, or choose another --out"
        )


def next_output_dir(parent: Path) -> Path:
    """`parent/output_N` with N one more than the highest existing (output_1 if none)."""
    numbers = [0]
    if parent.is_dir():
        for p in parent.iterdir():
            m = re.fullmatch(r"output_(\d+)", p.name)
            if m:
                numbers.append(int(m.group(1)))
    return parent / f"output_{max(numbers) + 1}"


def make_folder(folder: Path | None) -> Path:
    """`folder`, created if needed; None: the next free `output_N` here."""
    try:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            return folder
        while True:  # another grid may take the same number at the same moment
            folder = next_output_dir(Path("."))
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                continue
    except OSError as e:
        raise GridFolderError(f"cannot create the grid folder: {e}") from None


def run_grid(
    grid: GridSpec,
    out: Path | None = None,
    *,
    backend: str,
    preset: str = "custom",
    jobs: int | None = None,
    gpus: Sequence[str] = (),
    cluster: Cluster | None = None,
    worker: WorkerCommand = rethink_worker,
    reporter: Reporter | None = None,
    argv: Sequence[str] | None = None,
    save_model: bool = True,
    dataset: Dataset | None = None,
    compact: bool = False,
    pack: int = 1,
) -> GridResult:
    """Train `grid` into `out` (None: the next free `output_N`); see the module docs.

    `backend` is the workers' Keras backend (this process imports no Keras);
    `jobs` runs at once (None: `auto_jobs`; on Ray, every run at once), on
    `gpus` (device numbers, spread over the runs); `reporter` sees the
    grid's progress (`rethink.grid.live.reporter_for`; None: silent);
    `argv` is recorded in grid.json (default: this process's); `save_model`:
    each completed run writes model.keras (the workers' RETHINK_SAVE_MODEL);
    `dataset`: the data set the runs train on, recorded in grid.json and shown in
    the live table's title (None: not known here; each run's env.json says).
    `compact`: remove each finished run's checkpoint.npz and model.keras at once
    (no model is saved); recorded in grid.json, so a folder once compact stays so.
    `pack`: train up to that many runs of one model and protocol as one pack, one
    worker and one compiled step for all (jax, local workers: `rethink.train.pack`).
    """
    try:
        specs = expand(grid)
    except GridError as e:
        raise GridFolderError(str(e)) from None
    existing = stored_record(out) if out is not None else None
    if existing is not None:
        check_same(out, existing, specs)
        if existing.get("backend") not in (None, backend):
            raise GridFolderError(
                f"{out} was trained with backend {existing['backend']}; "
                f"continue it with --backend {existing['backend']}"
            )
    folder = make_folder(out)
    lock = FolderLock(folder)
    try:
        lock.acquire()
    except LockError as e:
        raise GridFolderError(str(e)) from None
    try:
        existing = read_record(folder)  # again, now that no one else can write it
        if existing is None:
            rec = record(
                grid,
                specs,
                preset=preset,
                backend=backend,
                argv=list(argv or sys.argv),
                compact=compact,
            )
            if dataset is not None:
                rec["dataset"] = dataset.to_dict()
            write_record(folder, rec)
        else:
            check_same(folder, existing, specs)
            if compact and not is_compact(existing):  # made compact now: from now on
                write_record(folder, {**existing, "compact": True})
            compact = compact or is_compact(existing)
        env = {
            "RETHINK_SAVE_MODEL": "1" if save_model and not compact else "0",
            # The worker removes its own checkpoint once finished, so that a Ray task
            # shipping files back never sends it (the executor removes it here too).
            "RETHINK_KEEP_CHECKPOINT": "0" if compact else "1",
        }
        launcher, n = _launcher(cluster, jobs, gpus, worker, env)
        state = Executor(
            folder,
            specs,
            backend=backend,
            jobs=n,
            gpus=gpus,
            launcher=launcher,
            reporter=reporter,
            dataset=dataset.describe() if dataset is not None else "",
            compact=compact,
            pack=pack,
        ).run()
    finally:
        lock.release()
    return GridResult(folder, state, exit_code(state))


def _launcher(
    cluster: Cluster | None,
    jobs: int | None,
    gpus: Sequence[str],
    worker: WorkerCommand,
    env: dict[str, str],
) -> tuple[Launcher, int]:
    """What starts the attempts, and how many runs train at once."""
    if cluster is None:
        return LocalLauncher(worker, env), jobs or auto_jobs(gpus, os.cpu_count() or 1)
    from rethink.grid.ray.launcher import RayLauncher

    return RayLauncher(cluster, worker=worker, in_flight=jobs, env=env), max(1, cluster.capacity)


__all__ = [
    "GridFolderError",
    "GridResult",
    "auto_jobs",
    "check_same",
    "make_folder",
    "next_output_dir",
    "run_grid",
    "stored_record",
]
