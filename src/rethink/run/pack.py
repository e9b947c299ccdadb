"""Several runs trained as one pack into their own run folders (`rethink run --pack`).

    results = execute_pack(specs, Path("output_1"), backend="jax")  # [(result, code), ...]

Each run gets exactly the folder `rethink.run.execute.execute` would give it
(spec.json, env.json, metrics.csv, checkpoints, result.json, progress.json;
env.json also names the pack) and the same exit code; they train together
through `rethink.train.pack.train_packed`. Runs that ended before (resuming)
keep their result; runs that cannot share a step with the first (another
protocol, or a checkpoint at another step) train in packs of their own, one
after the other. Bad input for any run (RunError) is found before anything
trains, and nothing is written for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rethink.base.signals import stop_signals
from rethink.run.execute import (
    EXIT_CODES,
    OpenRun,
    RunError,
    claim,
    close_run,
    ended,
    open_run,
    prepare_folder,
    read_checkpoint,
)
from rethink.run.folder import read_json, write_json
from rethink.spec import RunSpec
from rethink.train.observer import Observer
from rethink.train.outcome import Status
from rethink.train.steppers import Execution

if TYPE_CHECKING:
    from rethink.base.lock import FolderLock
    from rethink.data import Loaded
    from rethink.data.pipeline import RunData

Displays = Callable[[RunSpec], Observer | None]
DONE = (Status.COMPLETED, Status.DIVERGED)  # never trains again: no checkpoint needed


def execute_pack(
    specs: Sequence[RunSpec],
    out: Path,
    backend: str,
    resume: bool = False,
    display_for: Displays | None = None,
    execution: Execution | None = None,
    save_model: bool = True,
    keep_checkpoint: bool = True,
) -> list[tuple[dict[str, Any], int]]:
    """Train `specs` into `out/<run id>/` as packs; each run's (result.json, exit code),
    in the order given. RunError (bad input, a folder in use, runs that cannot pack, a
    pack too large for the device's memory) before any training. `save_model` and
    `keep_checkpoint` as for `rethink.run.execute.execute`."""
    from rethink.base.frameworks import free_device_memory
    from rethink.data.pipeline import prepare
    from rethink.train.pack import (
        PACK_BACKENDS,
        PackedRun,
        PackError,
        check_memory,
        check_pack,
        pack_key,
    )

    if backend not in PACK_BACKENDS:
        raise RunError(f"packed runs need the jax or torch backend, not {backend}; drop --pack")
    execution = execution or Execution()
    results: dict[int, tuple[dict[str, Any], int]] = {}
    claimed: dict[int, tuple[RunSpec, Loaded, Any, FolderLock]] = {}
    shared: dict[tuple[str | None, str | None], Loaded] = {}  # one load per data source
    for spec in specs:  # the folders' own checks for every run before any is touched
        prepare_folder(spec, out, resume)
    created = [s.run_id for s in specs if not (out / s.run_id).exists()]
    try:
        for i, spec in enumerate(specs):
            got = claim(spec, out, resume, shared.get((spec.data, spec.dataset)))
            if isinstance(got, dict):
                results[i] = got, EXIT_CODES.get(str(got.get("status")), 1)
            else:
                claimed[i] = got
                shared[(spec.data, spec.dataset)] = got[1]
        # Each checkpoint read once, before anything is written (RunError if unreadable).
        checkpoints = {i: read_checkpoint(run) for i, (_, _, run, _) in claimed.items()}
        groups: dict[Any, list[int]] = {}
        for i, (resolved, _, _, _) in claimed.items():
            checkpoint = checkpoints[i]
            start = checkpoint.step if checkpoint is not None else 0
            groups.setdefault((pack_key(resolved), start), []).append(i)
        # Every pack's data prepared and checked (shapes, device memory) before any trains.
        datas = {
            i: prepare(spec, loaded.arrays, loaded.dataset)
            for i, (spec, loaded, _, _) in claimed.items()
        }
        free = free_device_memory(backend)
        for lanes in groups.values():
            runs = [PackedRun(claimed[i][0], datas[i]) for i in lanes]
            try:
                check_pack(runs, backend)
                check_memory(runs, free)
            except PackError as e:
                raise RunError(str(e)) from None
        for lanes in groups.values():
            opened = {
                i: open_run(*claimed[i][:3], checkpoints[i], backend,
                            _display(display_for, claimed[i][0]), execution, save_model)
                for i in lanes
            }  # fmt: skip
            results.update(_train_pack(opened, {i: datas[i] for i in lanes}, execution))
            for i in lanes:
                if not keep_checkpoint and results[i][0].get("status") in DONE:
                    claimed[i][2].checkpoint_path.unlink(missing_ok=True)
    except RunError:
        for _, _, _, lock in claimed.values():
            lock.release()
        _remove_untouched(out, created)
        raise
    finally:
        for _, _, _, lock in claimed.values():
            lock.release()
    return [results[i] for i in range(len(specs))]


def _remove_untouched(out: Path, run_ids: list[str]) -> None:
    """The run folders this call created and left empty but for their lock (bad input
    found after claiming them): nothing half-written."""
    from rethink.base.lock import LOCK_FILE

    for run_id in run_ids:
        folder = out / run_id
        if folder.is_dir() and {p.name for p in folder.iterdir()} <= {LOCK_FILE}:
            (folder / LOCK_FILE).unlink(missing_ok=True)
            folder.rmdir()


def _display(display_for: Displays | None, spec: RunSpec) -> Observer | None:
    return display_for(spec) if display_for is not None else None


def _train_pack(
    opened: dict[int, OpenRun], datas: dict[int, RunData], execution: Execution
) -> dict[int, tuple[dict[str, Any], int]]:
    from rethink.train.pack import PackedRun, train_packed

    order = sorted(opened)
    ids = [opened[i].spec.run_id for i in order]
    for i in order:  # env.json says which runs trained together
        env_path = opened[i].run.env_path
        env = read_json(env_path) or {}
        write_json(env_path, {**env, "pack": ids, "loop": "native (packed)"})
    outcomes: list[Any]
    runs = [
        PackedRun(opened[i].spec, datas[i], opened[i].observer, opened[i].checkpoint) for i in order
    ]
    try:
        with stop_signals() as stop:
            outcomes = list(train_packed(runs, execution, should_stop=stop))
    except KeyboardInterrupt as e:
        outcomes = [e] * len(order)
    finally:
        for i in order:
            opened[i].metrics.close()
    return {
        i: close_run(opened[i], ended(opened[i], outcome))
        for i, outcome in zip(order, outcomes, strict=True)
    }


__all__ = ["execute_pack"]
