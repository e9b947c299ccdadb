"""Several runs trained as one pack into their own run folders (`rethink run --pack`).

    results = execute_pack(specs, Path("output_1"), backend="jax")  # [(result, code), ...]

Each run gets exactly the folder `rethink.run.execute.execute` would give it
(spec.json, env.json, metrics.csv, checkpoints, result.json, progress.json;
env.json also names the pack) and the same exit code. On a GPU they train
together through `rethink.train.pack.train_packed` (one vmapped step, jax and
torch); on a CPU, where a vmapped step is no faster than one run's (the cores
are busy either way), a pack is a chain: its runs train one after another in
this one process, which imports the frameworks, starts the backend and
loads the data once instead of once per run (`chain`). Runs that ended
before (resuming) keep their result; runs that cannot share a step with the
first (another protocol, or a checkpoint at another step) train in packs of
their own, one after the other. Bad input for any run (RunError) is found
before anything trains, and nothing is written for it. Stopped (Ctrl-C,
SIGTERM) while a chain trains, the running run stops as alone and the runs
after it are not started (their folders hold their spec only).
"""

from __future__ import annotations

import os
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
# RETHINK_PACK_MODE=vmap|chain overrides how packs train (default: chain on a CPU, vmap
# on a GPU): e.g. a vmapped pack on a CPU, to compare its numbers (docs/results.md).
PACK_MODE_ENV = "RETHINK_PACK_MODE"


def pack_mode(cpu: bool) -> str:
    """ "chain" or "vmap": RETHINK_PACK_MODE if set, else "chain" on a CPU."""
    mode = os.environ.get(PACK_MODE_ENV, "").strip()
    if mode and mode not in ("chain", "vmap"):
        raise RunError(f"bad {PACK_MODE_ENV}={mode!r}: give chain or vmap")
    return mode or ("chain" if cpu else "vmap")


def execute_pack(
    specs: Sequence[RunSpec],
    out: Path,
    backend: str,
    resume: bool = False,
    display_for: Displays | None = None,
    execution: Execution | None = None,
    save_model: bool = True,
    keep_checkpoint: bool = True,
    chain: bool | None = None,
) -> list[tuple[dict[str, Any], int]]:
    """Train `specs` into `out/<run id>/` as packs; each run's (result.json, exit code),
    in the order given. RunError (bad input, a folder in use, runs that cannot pack, a
    pack too large for the device's memory) before any training. `save_model` and
    `keep_checkpoint` as for `rethink.run.execute.execute`; `chain`: train the runs one
    after another (default: `pack_mode`, chains on a CPU), else in vmapped packs. A run
    not started because the chain was stopped gets a "stopped" result at step 0,
    written nowhere."""
    from rethink.base.frameworks import free_device_memory, on_cpu
    from rethink.data.pipeline import prepare
    from rethink.train.pack import (
        PACK_BACKENDS,
        PackedRun,
        PackError,
        check_memory,
        check_pack,
        pack_key,
    )

    if chain is None:
        chain = pack_mode(on_cpu(backend)) == "chain"
    if not chain and backend not in PACK_BACKENDS:
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
                if not chain:
                    check_pack(runs, backend)
                check_memory(runs, free)
            except PackError as e:
                raise RunError(str(e)) from None
        if chain:  # one after another, in the order given
            groups = {"chain": sorted(claimed)}
        for lanes in groups.values():
            if chain:
                results.update(_train_chain(claimed, lanes, datas, checkpoints, backend,
                                            display_for, execution, save_model))  # fmt: skip
            else:
                results.update(_train_pack(_open(claimed, lanes, checkpoints, backend, display_for,
                                                 execution, save_model),
                                           {i: datas[i] for i in lanes}, execution))  # fmt: skip
            for i in lanes:
                _drop_checkpoint(claimed[i][2], results[i][0], keep_checkpoint)
    except RunError:
        for _, _, _, lock in claimed.values():
            lock.release()
        _remove_untouched(out, created)
        raise
    finally:
        for _, _, _, lock in claimed.values():
            lock.release()
    return [results[i] for i in range(len(specs))]


def _open(
    claimed: dict[int, tuple[RunSpec, Loaded, Any, FolderLock]],
    lanes: list[int],
    checkpoints: dict[int, Any],
    backend: str,
    display_for: Displays | None,
    execution: Execution,
    save_model: bool,
) -> dict[int, OpenRun]:
    """The runs `lanes` of a vmapped pack, opened (env.json, metrics.csv) to train."""
    return {
        i: open_run(*claimed[i][:3], checkpoints[i], backend,
                    _display(display_for, claimed[i][0]), execution, save_model)
        for i in lanes
    }  # fmt: skip


def _drop_checkpoint(run: Any, result: dict[str, Any], keep: bool) -> None:
    """Without `keep`, a run that never trains again loses its checkpoint."""
    if not keep and result.get("status") in DONE:
        run.checkpoint_path.unlink(missing_ok=True)


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


def _train_chain(
    claimed: dict[int, tuple[RunSpec, Loaded, Any, FolderLock]],
    lanes: list[int],
    datas: dict[int, RunData],
    checkpoints: dict[int, Any],
    backend: str,
    display_for: Displays | None,
    execution: Execution,
    save_model: bool,
) -> dict[int, tuple[dict[str, Any], int]]:
    """Train the runs `lanes` one after another, each exactly as alone; after a stop, the
    rest are not started (a "stopped" result at step 0, not written)."""
    from rethink.run.execute import train_in_folder

    ids = [claimed[i][0].run_id for i in lanes]
    results: dict[int, tuple[dict[str, Any], int]] = {}
    with stop_signals() as stop:
        for i in lanes:
            if stop() or any(code == EXIT_CODES[Status.STOPPED] for _, code in results.values()):
                unstarted = {"run_id": ids[lanes.index(i)], "status": Status.STOPPED.value,
                             "step": 0, "error": "stopped before it started (not written)"}  # fmt: skip
                results[i] = unstarted, EXIT_CODES[Status.STOPPED]
                continue
            spec, loaded, run, _ = claimed[i]
            results[i] = train_in_folder(
                spec, loaded, run, backend, _display(display_for, spec), execution, save_model,
                data=datas.pop(i), checkpoint=checkpoints[i],
            )  # fmt: skip
            env = read_json(run.env_path) or {}  # env.json says which runs shared the worker
            write_json(run.env_path, {**env, "pack": ids, "pack_mode": "chain"})
    return results


def _train_pack(
    opened: dict[int, OpenRun], datas: dict[int, RunData], execution: Execution
) -> dict[int, tuple[dict[str, Any], int]]:
    from rethink.train.pack import PackedRun, train_packed

    order = sorted(opened)
    ids = [opened[i].spec.run_id for i in order]
    for i in order:  # env.json says which runs trained together
        env_path = opened[i].run.env_path
        env = read_json(env_path) or {}
        write_json(env_path, {**env, "pack": ids, "pack_mode": "vmap", "loop": "native (packed)"})
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


__all__ = ["PACK_MODE_ENV", "execute_pack", "pack_mode"]
