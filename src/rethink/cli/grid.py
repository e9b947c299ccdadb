"""`rethink grid`: train a grid of runs in worker processes, with a live table.

Parses and wires only: the grid is `rethink.grid`, the folder lock
`rethink.lock`, the workers `rethink.executor` (or `rethink.cluster` with
`--executor ray`, which alone imports Ray), the view `rethink.live`.
Keras is never imported here; the workers train.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from rethink.cli import (
    BackendOption,
    GivenLoopOption,
    GivenTorchCompileOption,
    StepsOption,
    app,
    console,
    fail,
    make_engine,
    use_backend,
)
from rethink.executor import Executor, GridState, WorkerCommand, exit_code, rethink_worker
from rethink.grid import (
    PRESET_HELP,
    PRESETS,
    GridError,
    GridSpec,
    difference,
    expand,
    grid_of,
    next_output_dir,
    read_record,
    record,
    select,
    write_record,
)
from rethink.live import reporter_for, summary
from rethink.lock import LOCK_FILE, FolderLock, LockError
from rethink.rundir import RunDir
from rethink.spec import RunSpec

if TYPE_CHECKING:
    from rethink.cluster import Cluster

T = TypeVar("T")
LOG_WIDTH = 160  # tables printed to a log file or pipe

# The worker command; tests swap in a fake worker here.
worker_command: WorkerCommand = rethink_worker


class ExecutorName(StrEnum):
    local = "local"
    ray = "ray"


class Preset(StrEnum):
    paper = "paper"
    smoke = "smoke"
    fig1b = "fig1b"
    table1 = "table1"


_PRESETS_HELP = "; ".join(f"{k}: {v}" for k, v in PRESET_HELP.items())


@app.command("grid")
def grid_command(
    preset: Annotated[
        Preset | None, typer.Option(help=f"Which grid (default: paper). {_PRESETS_HELP}.")
    ] = None,
    models: Annotated[
        list[str] | None,
        typer.Option(
            "--models",
            "-m",
            metavar="NAMES",
            help="Models to train (repeat or comma list).",
            show_default=False,
        ),
    ] = None,
    corruptions: Annotated[
        list[str] | None,
        typer.Option(
            "--corruptions",
            "-c",
            metavar="NAMES",
            help="Randomizations to train (repeat or comma list).",
            show_default=False,
        ),
    ] = None,
    levels: Annotated[
        list[str] | None,
        typer.Option(
            metavar="P,P,...",
            help="Add partial-label runs at these levels, e.g. 0,0.2,0.4,0.6,0.8,1.",
            show_default=False,
        ),
    ] = None,
    seeds: Annotated[
        int | None, typer.Option(help="Repeat every run with seeds 0..N-1.", show_default=False)
    ] = None,
    steps: Annotated[
        int | None, typer.Option(help="Training steps of each run.", show_default=False)
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(help="Train each run for N epochs instead of --steps.", show_default=False),
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="Batch size.", show_default=False)] = None,
    lr: Annotated[
        float | None,
        typer.Option(
            help="Initial learning rate (default: the model's paper value).", show_default=False
        ),
    ] = None,
    lr_decay: Annotated[
        float | None,
        typer.Option(help="Learning-rate factor after each epoch.", show_default=False),
    ] = None,
    weight_decay: Annotated[
        float | None,
        typer.Option(
            help="Weight decay L: gradient + L*w on every kernel (penalty L/2*sum w^2).",
            show_default=False,
        ),
    ] = None,
    augment: Annotated[
        bool | None,
        typer.Option(help="Random crop and horizontal flip.", show_default=False),
    ] = None,
    augment_crop: Annotated[
        str | None,
        typer.Option(
            help="window (default): a random 28x28 window of the 32x32 image; padded: pad by 4.",
            show_default=False,
        ),
    ] = None,
    train_subset: Annotated[
        int | None, typer.Option(help="Train on a seeded subset of N images.", show_default=False)
    ] = None,
    test_subset: Annotated[
        int | None, typer.Option(help="Test on a seeded subset of N images.", show_default=False)
    ] = None,
    precision: Annotated[
        str | None,
        typer.Option(help="float32, mixed_bfloat16 or mixed_float16.", show_default=False),
    ] = None,
    stop_at_fit: Annotated[
        bool | None,
        typer.Option(help="Stop a run once it fits its training set.", show_default=False),
    ] = None,
    log_every: Annotated[
        int | None,
        typer.Option(help="A metrics row every N steps, their mean.", show_default=False),
    ] = None,
    eval_train_every: Annotated[
        int | None,
        typer.Option(
            help="Also evaluate the whole training split every K epochs.", show_default=False
        ),
    ] = None,
    loop: GivenLoopOption = None,
    steps_per_execution: StepsOption = None,
    torch_compile: GivenTorchCompileOption = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="CIFAR-10 source (e.g. cifar10-jpeg.tar.gz); default: $RETHINK_DATA or Keras.",
            show_default=False,
        ),
    ] = None,
    backend: BackendOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Grid folder (default: the next free output_N/ here).", show_default=False
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            help="Continue the grid in this folder, with the settings in its grid.json.",
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        str | None,
        typer.Option(
            help="Runs at once: a number, or auto (the default: 4 per GPU, sharing it; "
            "on a CPU 2, or 1 on one core). "
            "With --executor ray: runs handed to the cluster at once (default: all).",
            show_default=False,
        ),
    ] = None,
    gpus: Annotated[
        str | None,
        typer.Option(
            help="GPUs to spread runs over, e.g. 0,1 (sets CUDA_VISIBLE_DEVICES per run).",
            show_default=False,
        ),
    ] = None,
    executor: Annotated[
        ExecutorName,
        typer.Option(help="Where runs train: worker processes here, or tasks on a Ray cluster."),
    ] = ExecutorName.local,
    address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster: HOST:PORT or ray://HOST:PORT (default: $RAY_ADDRESS, "
            "else the cluster on this machine).",
            show_default=False,
        ),
    ] = None,
    gpus_per_run: Annotated[
        float | None,
        typer.Option(
            help="GPUs each run asks of the Ray cluster; fractions share a GPU, e.g. 0.25 "
            "(default: 1 if the cluster has GPUs, else 0).",
            show_default=False,
        ),
    ] = None,
    cpus_per_run: Annotated[
        float | None,
        typer.Option(
            help="CPUs each run asks of the Ray cluster (default: 1).", show_default=False
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="List the runs and exit; create nothing.")] = False,
) -> None:
    """Train a grid of runs (default: the paper's 5 models x 5 randomizations), one worker process each.

    Shows a live table; without a terminal, plain lines. Ctrl-C stops cleanly,
    and `rethink grid --resume DIR` (or the same command again) skips completed
    and diverged runs and continues the others from their checkpoints.
    With --executor ray each run is a task on a Ray cluster (pip install 'rethink\\[ray]');
    the run folders still end up in the grid folder here.
    Exit code 0 if every run completed, 1 if any failed or diverged, 130 if stopped.
    """
    overrides: dict[str, Any] = {
        "steps": steps,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": lr,
        "lr_decay": lr_decay,
        "weight_decay": weight_decay,
        "augment": augment,
        "augment_crop": augment_crop,
        "train_subset": train_subset,
        "test_subset": test_subset,
        "precision": precision,
        "stop_at_fit": stop_at_fit,
        "log_every": log_every,
        "eval_train_every": eval_train_every,
        "data": _data_path(data),
        "extra": _engine_extra(loop, steps_per_execution, torch_compile),
    }
    selection = {
        "preset": preset,
        "models": models,
        "corruptions": corruptions,
        "levels": levels,
        "seeds": seeds,
    }
    given = [k for k, v in {**selection, **overrides}.items() if v is not None]
    if resume is not None:
        if out is not None and out.resolve() != resume.resolve():
            fail("give --resume DIR or --out DIR, not both")
        if given:
            fail(
                f"--resume continues the grid stored in {resume}/grid.json; drop --{given[0].replace('_', '-')}"
            )
        folder: Path | None = resume
        stored = _stored_record(resume)
        if stored is None:
            fail(f"{resume} is not a grid folder (no readable grid.json)")
        preset_name = str(stored.get("preset"))
        grid = _or_fail(lambda: grid_of(stored))
    else:
        folder = out
        preset_name = (preset or Preset.paper).value
        grid = _or_fail(
            lambda: select(
                PRESETS[preset_name],
                models=_split(models),
                corruptions=_split(corruptions),
                levels=_levels(levels),
                seeds=seeds,
                overrides=overrides,
            )
        )
    specs = _or_fail(lambda: expand(grid))
    on_ray = executor == ExecutorName.ray
    _check_executor_options(on_ray, address, gpus, gpus_per_run, cpus_per_run)
    gpu_list = _gpus(gpus)
    if not gpu_list and not on_ray:
        from rethink.environment import visible_gpus

        gpu_list = visible_gpus()  # spread the runs over every GPU there is
    # On Ray, by default every run is handed over at once: the cluster's resources decide.
    n_jobs = None if on_ray and jobs in (None, "auto") else _jobs(jobs or "auto", gpu_list)
    existing = _stored_record(folder) if folder is not None else None
    if existing is not None and resume is None:
        _check_same(folder, existing, specs)

    if dry_run:
        _print_plan(specs, folder, preset_name)
        return

    # The grid process trains nothing: the backend is for its workers.
    name = use_backend(backend or (existing or {}).get("backend"), in_process=False)
    if existing is not None and existing.get("backend") not in (None, name):
        fail(
            f"{folder} was trained with backend {existing['backend']}; continue it with --backend {existing['backend']}"
        )
    cluster = _connect(address, gpus_per_run, cpus_per_run) if on_ray else None
    raise typer.Exit(
        _train(_make_folder(folder), grid, specs, preset_name, name, n_jobs, gpu_list, cluster)
    )


def _train(
    folder: Path,
    grid: GridSpec,
    specs: list[RunSpec],
    preset: str,
    backend: str,
    jobs: int | None,
    gpus: tuple[str, ...],
    cluster: Cluster | None = None,
) -> int:
    """Lock the folder, record or check grid.json, run the grid; the exit code."""
    lock = FolderLock(folder)
    try:
        lock.acquire()
    except LockError as e:
        fail(str(e))
    try:
        existing = read_record(folder)  # again, now that no one else can write it
        if existing is None:
            write_record(folder, record(grid, specs, preset=preset, backend=backend, argv=sys.argv))
        else:
            _check_same(folder, existing, specs)
        state = _execute(folder, specs, backend, jobs, gpus, cluster)
    finally:
        lock.release()
    _print_wide(summary(state))
    code = exit_code(state)
    if code == 130:
        _say(f"stopped; finished runs are kept. Resume with: rethink grid --resume {folder}")
    elif code == 1:
        _say(
            f"some runs did not complete (see {folder}/<run>/worker.log); failed runs are "
            f"retried by: rethink grid --resume {folder}"
        )
    _say(f"plot with: rethink plot {folder}")
    return code


def _execute(
    folder: Path,
    specs: list[RunSpec],
    backend: str,
    jobs: int | None,
    gpus: tuple[str, ...],
    cluster: Cluster | None,
) -> GridState:
    if cluster is None:
        return Executor(
            folder, specs, backend=backend, jobs=jobs or 1, gpus=gpus,
            worker=worker_command, reporter=reporter_for(console),
        ).run()  # fmt: skip
    from rethink.cluster import RayExecutor

    return RayExecutor(
        folder, specs, backend=backend, cluster=cluster, jobs=jobs,
        worker=worker_command, reporter=reporter_for(console),
    ).run()  # fmt: skip


def _check_executor_options(
    on_ray: bool,
    address: str | None,
    gpus: str | None,
    gpus_per_run: float | None,
    cpus_per_run: float | None,
) -> None:
    if on_ray and gpus is not None:
        fail("--gpus is for --executor local; on a Ray cluster give --gpus-per-run")
    if not on_ray:
        given = {"address": address, "gpus-per-run": gpus_per_run, "cpus-per-run": cpus_per_run}
        for name, value in given.items():
            if value is not None:
                fail(f"--{name} needs --executor ray")
        return
    from rethink.cluster import ClusterError, check_request

    try:
        check_request(gpus_per_run, 1.0 if cpus_per_run is None else cpus_per_run)
    except ClusterError as e:
        fail(str(e))


def _connect(
    address: str | None, gpus_per_run: float | None, cpus_per_run: float | None
) -> Cluster:
    """The Ray cluster, connected and checked, or a one-line error (exit 2)."""
    from rethink.cluster import ClusterError, connect

    try:
        return connect(address, gpus_per_run, 1.0 if cpus_per_run is None else cpus_per_run)
    except ClusterError as e:
        fail(str(e))


def _say(text: str) -> None:
    # One line, whatever the width: commands and paths must stay copyable.
    console.print(text, soft_wrap=True, highlight=False, markup=False)


def _print_wide(table: Table) -> None:
    # Logs are not 80 columns wide: keep rows on one line there.
    out = console if console.is_terminal else Console(file=console.file, width=LOG_WIDTH)
    out.print(table)


def _or_fail(make: Callable[[], T]) -> T:
    try:
        return make()
    except GridError as e:
        fail(str(e))


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def _levels(values: list[str] | None) -> list[float] | None:
    items = _split(values)
    if items is None:
        return None
    levels = []
    for item in items:
        try:
            levels.append(float(item))
        except ValueError:
            fail(f"bad corruption level {item!r}: give numbers in [0, 1], e.g. --levels 0,0.5,1")
    return levels


JOBS_PER_GPU = 4


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


def _gpus(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    gpus = tuple(g.strip() for g in value.split(","))
    if not all(gpus) or any(" " in g for g in gpus):
        fail(f"bad --gpus {value!r}: give device numbers like 0,1")
    return gpus


def _jobs(value: str, gpus: tuple[str, ...]) -> int:
    if value == "auto":
        return auto_jobs(gpus, os.cpu_count() or 1)
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        fail(f"bad --jobs {value!r}: give a positive number or auto")
    return n


def _data_path(data: Path | None) -> str | None:
    if data is None:
        return None
    if not data.exists():
        fail(f"data not found: {data}")
    return str(data.expanduser().resolve())  # workers and resumes may run elsewhere


def _engine_extra(
    loop: str | None, steps_per_execution: int | None, torch_compile: str | None
) -> dict[str, Any] | None:
    """The engine options given, as stored in each spec's extra (checked here)."""
    given = {
        k: v
        for k, v in (
            ("loop", loop),
            ("steps_per_execution", steps_per_execution),
            ("torch_compile", torch_compile),
        )
        if v is not None
    }
    if not given:
        return None
    make_engine(given, "auto", None, "auto")
    return given


def _stored_record(folder: Path) -> dict[str, Any] | None:
    """grid.json of an existing folder (None if new); fail if the folder is in the way."""
    if folder.exists() and not folder.is_dir():
        fail(f"{folder} is a file, not a grid folder")
    rec = read_record(folder) if folder.is_dir() else None
    if rec is None and folder.is_dir() and any(p.name != LOCK_FILE for p in folder.iterdir()):
        fail(f"{folder} is not empty and holds no grid (no readable grid.json)")
    return rec


def _check_same(folder: Path | None, rec: dict[str, Any], specs: list[RunSpec]) -> None:
    stored: GridSpec = _or_fail(lambda: grid_of(rec))
    diff = difference(_or_fail(lambda: expand(stored)), specs)
    if diff is not None:
        fail(
            f"{folder} holds a different grid ({diff}); continue it with "
            f"rethink grid --resume {folder}, or choose another --out"
        )


def _make_folder(folder: Path | None) -> Path:
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
        fail(f"cannot create the grid folder: {e}")


_PLAN = {"completed": "completed (kept)", "diverged": "diverged (final)"}


def _print_plan(specs: list[RunSpec], folder: Path | None, preset: str) -> None:
    where = folder if folder is not None else f"{next_output_dir(Path('.'))} (next free)"
    table = Table(title=f"rethink grid --preset {preset}: {len(specs)} runs into {where}")
    for name in ("#", "run id", "steps", "batch", "lr", "status"):
        table.add_column(
            name, justify="left" if name in ("run id", "status") else "right", no_wrap=True
        )
    for i, spec in enumerate(specs, start=1):
        length = f"{spec.steps}" if spec.steps is not None else f"{spec.epochs} epochs"
        status = RunDir(folder / spec.run_id).status() if folder is not None else None
        status = _PLAN.get(status, f"{status} (retry)") if status else "to train"
        table.add_row(
            str(i), spec.run_id, length,
            str(spec.batch_size), f"{spec.lr:g}", status,
        )  # fmt: skip
    _print_wide(table)
    _say("dry run: nothing was created")
