"""Before a grid trains: the choices and checks that depend on this machine and its data.

    gpus = devices("0,1")                          # --gpus; devices(None): every visible GPU
    jobs = jobs_for("auto", gpus)                  # runs at once: 4 per GPU, else 2 on a CPU
    check_executor(on_ray=False, address=None, gpus="0,1")
    found = identify(expand(grid), "jax")          # rethink.data.probe: the data, read once
    grid, note = fit_subsets(grid, found, explicit=False)   # smoke's 500 images of a small set
    warning = gpu_warning("jax", gpus)             # GPUs here, but the backend sees none

What `run_grid` checks itself (the folder, its lock, grid.json, the backend
of a resumed grid) is not checked here again. Bad input raises GridError:
one line naming the problem. Imports neither Keras nor Ray.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from rethink.base.platform import gpu_unseen_warning, probe_device, visible_gpus
from rethink.data.probe import Identified
from rethink.grid.folder import auto_jobs
from rethink.grid.spec import GridError, GridSpec, expand, select
from rethink.spec import RunSpec
from rethink.train.pack import PACK_BACKENDS


def devices(requested: str | None, on_ray: bool = False) -> tuple[str, ...]:
    """The GPUs to spread runs over: `requested` ("0,1"), else every GPU this machine
    shows (CUDA_VISIBLE_DEVICES, else nvidia-smi); on Ray the cluster's, so none here."""
    if requested is None:
        return () if on_ray else visible_gpus()
    gpus = tuple(g.strip() for g in requested.split(","))
    if not all(gpus) or any(" " in g for g in gpus):
        raise GridError(f"bad --gpus {requested!r}: give device numbers like 0,1")
    return gpus


def jobs_for(value: str | None, gpus: Sequence[str], on_ray: bool = False) -> int | None:
    """Runs at once for --jobs `value` (a number, or "auto"/None: `auto_jobs`); on Ray
    None for auto, which hands every run to the cluster and lets its resources decide."""
    if value in (None, "auto"):
        return None if on_ray else auto_jobs(gpus, os.cpu_count() or 1)
    return _count(value, "--jobs", "a positive number or auto")


def _count(value: str, flag: str, choices: str) -> int:
    """`value` as a whole number of at least 1, else GridError naming the flag."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise GridError(f"bad {flag} {value!r}: give {choices}")
    return n


# --pack auto: the five randomizations of one model as one pack: on a GPU one vmapped step
# (jax, torch); on a CPU a chain, one worker training them one after another
# (rethink.run.pack), which starts Python, the backend and the data once for all five.
AUTO_PACK = 5


def pack_for(
    value: str | None,
    backend: str,
    gpus: Sequence[str],
    on_ray: bool = False,
    runs: int | None = None,
    jobs: int | None = 1,
) -> int:
    """Runs trained as one pack at most for --pack `value`: off (1), a number, or auto
    (None: AUTO_PACK, but 1 on a GPU with TensorFlow; on a CPU, any backend, a worker
    trains its pack's runs one after another, and auto keeps every one of `jobs`
    workers busy: chains of at most `runs` // `jobs`)."""
    if on_ray:
        if value not in (None, "auto", "off", "1"):
            raise GridError("--pack is for --executor local; a Ray task trains one run")
        return 1
    if value in (None, "auto"):
        if gpus:
            return AUTO_PACK if backend in PACK_BACKENDS else 1
        jobs = max(1, jobs or 1)
        return max(1, min(AUTO_PACK, (runs or AUTO_PACK * jobs) // jobs))
    if value == "off":
        return 1
    n = _count(value, "--pack", "off, auto or a number of runs")
    if n > 1 and gpus and backend not in PACK_BACKENDS:
        raise GridError(f"--pack {n} on a GPU needs --backend jax or torch ({backend} trains "
                        "runs unpacked there)")  # fmt: skip
    return n


def check_executor(
    on_ray: bool,
    address: str | None = None,
    gpus: str | None = None,
    gpus_per_run: float | None = None,
    cpus_per_run: float | None = None,
) -> None:
    """The options of the executor chosen, and none of the other's."""
    if on_ray and gpus is not None:
        raise GridError("--gpus is for --executor local; on a Ray cluster give --gpus-per-run")
    if not on_ray:
        ray_only = {"address": address, "gpus-per-run": gpus_per_run, "cpus-per-run": cpus_per_run}
        for name, value in ray_only.items():
            if value is not None:
                raise GridError(f"--{name} needs --executor ray")
        return
    from rethink.grid.ray.cluster import ClusterError, check_request

    try:
        check_request(gpus_per_run, 1.0 if cpus_per_run is None else cpus_per_run)
    except ClusterError as e:
        raise GridError(str(e)) from None


def check_decay_layers(specs: Sequence[RunSpec], layers: str | None) -> None:
    """--weight-decay-layers given (`layers`) for a grid where no run has weight decay."""
    if layers in (None, "all") or any(s.weight_decay_layers != "all" for s in specs):
        return
    raise GridError(
        f"--weight-decay-layers {layers}: no run of this grid has weight decay; "
        "give --weight-decay L > 0 (or --preset regularized or table1)"
    )


def fit_subsets(
    grid: GridSpec, found: Identified | None, explicit: bool
) -> tuple[GridSpec, str | None]:
    """`grid` with a preset's training subset larger than the data (smoke's 500 images of
    a small image folder) turned into all of it, and a note saying so; a subset given
    `explicit`ly (--train-subset N) must fit. Unchanged where the size is not known here."""
    if found is None or found.n_train is None:
        return grid, None
    largest = max((s.train_subset or 0 for s in expand(grid)), default=0)
    n, name = found.n_train, found.dataset.name
    if largest <= n:
        return grid, None
    if explicit:
        raise GridError(
            f"--train-subset {largest} is larger than the {n} training images of {name}"
        )
    note = (
        f"data: {name} has {n} training images, fewer than the preset's "
        f"--train-subset {largest}; every run trains on all {n}"
    )
    return select(grid, overrides={"train_subset": n}), note


def gpu_warning(backend: str, gpus: Sequence[str]) -> str | None:
    """One line when GPUs are here but `backend` would train on the CPU: a new process
    on it is asked (a few seconds, and only where there are GPUs)."""
    if not gpus:
        return None
    return gpu_unseen_warning(backend, probe_device(backend), gpus)
