"""`rethink grid`: train a grid of runs in worker processes, with a live table.

Parses and wires only: the grid is `rethink.grid.spec`, the folder lock
`rethink.base.lock`, the workers `rethink.grid.executor` (or `rethink.grid.ray.cluster` with
`--executor ray`, which alone imports Ray), the view `rethink.grid.live`.
Keras is never imported here; the workers train.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
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
    err_console,
    fail,
    make_execution,
    parse_levels,
    use_backend,
)
from rethink.cli import options as o
from rethink.grid.executor import WorkerCommand, rethink_worker
from rethink.grid.folder import (
    GridFolderError,
    auto_jobs,
    check_same,
    run_grid,
    stored_record,
)
from rethink.grid.live import reporter_for, summary
from rethink.grid.spec import (
    PRESET_HELP,
    PRESETS,
    GridError,
    expand,
    grid_of,
    next_output_dir,
    select,
)
from rethink.run.folder import RunDir
from rethink.spec import RunSpec

if TYPE_CHECKING:
    from rethink.grid.ray.cluster import Cluster
    from rethink.spec.datasets import Dataset

T = TypeVar("T")
LOG_WIDTH = 160  # tables printed to a log file or pipe

# The worker command; tests swap in a fake worker here.
worker_command: WorkerCommand = rethink_worker


# grid --help groups its options (Typer's help panels).
SELECTION, FOLDER = "Selection: which runs", "Folder and data"
EXECUTION, CLUSTER = "Execution: how runs train here", "Ray cluster (--executor ray)"


class ExecutorName(StrEnum):
    local = "local"
    ray = "ray"


class Preset(StrEnum):
    paper = "paper"
    smoke = "smoke"
    fig1b = "fig1b"
    table1 = "table1"
    fig2 = "fig2"
    regularized = "regularized"


_PRESETS_HELP = "; ".join(f"{k}: {v}" for k, v in PRESET_HELP.items())


@app.command("grid")
def grid_command(
    ctx: typer.Context,
    preset: Annotated[
        Preset | None,
        typer.Option(
            help=f"Which grid (default: paper). {_PRESETS_HELP}.", rich_help_panel=SELECTION
        ),
    ] = None,
    models: Annotated[
        list[str] | None,
        typer.Option(
            "--models",
            "-m",
            metavar="NAMES",
            help="Models to train (repeat or comma list).",
            show_default=False,
            rich_help_panel=SELECTION,
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
            rich_help_panel=SELECTION,
        ),
    ] = None,
    levels: Annotated[
        list[str] | None,
        typer.Option(
            metavar="P,P,...",
            help="Add partial-label runs at these levels, e.g. 0,0.2,0.4,0.6,0.8,1.",
            show_default=False,
            rich_help_panel=SELECTION,
        ),
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(
            metavar="N|S,S-S",
            help="Repeat every run with seeds 0..N-1, or with the seeds given: 1,2 or 3-5 "
            "(2-2: seed 2 alone).",
            show_default=False,
            rich_help_panel=SELECTION,
        ),
    ] = None,
    plain: Annotated[
        bool | None,
        typer.Option(
            "--plain/--no-plain",
            help="--no-plain: leave out the runs without weight decay and random crop (e.g. "
            "Table 1's regularized rows beside a paper grid that holds the plain ones).",
            show_default=False,
            rich_help_panel=SELECTION,
        ),
    ] = None,
    steps: o.GivenSteps = None,
    epochs: o.GivenEpochs = None,
    batch_size: o.GivenBatchSize = None,
    lr: o.GivenLearningRate = None,
    lr_decay: o.GivenLrDecay = None,
    momentum: o.GivenMomentum = None,
    weight_decay: o.GivenWeightDecay = None,
    weight_decay_layers: o.GivenWeightDecayLayers = None,
    augment: o.GivenAugment = None,
    augment_crop: o.GivenAugmentCrop = None,
    train_subset: o.GivenTrainSubset = None,
    test_subset: o.GivenTestSubset = None,
    precision: o.GivenPrecision = None,
    stop_at_fit: o.GivenStopAtFit = None,
    fit_threshold: o.GivenFitThreshold = None,
    loss_threshold: o.GivenLossThreshold = None,
    log_every: o.GivenLogEvery = None,
    eval_train_every: o.GivenEvalTrainEvery = None,
    loop: GivenLoopOption = None,
    steps_per_execution: StepsOption = None,
    torch_compile: GivenTorchCompileOption = None,
    data: Annotated[
        Path | None,
        typer.Option(
            envvar="RETHINK_DATA",
            help=o.DATA_HELP + "; default: Keras's download of --dataset, once.",
            show_default=False,
            rich_help_panel=FOLDER,
        ),
    ] = None,
    dataset: Annotated[
        o.DatasetName | None,
        typer.Option(help=o.HELP["dataset"], show_default=False, rich_help_panel=FOLDER),
    ] = None,
    crop: Annotated[
        int | None,
        typer.Option(help=o.HELP["crop"], show_default=False, rich_help_panel=FOLDER),
    ] = None,
    backend: BackendOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Grid folder (default: the next free output_N/ here).",
            show_default=False,
            rich_help_panel=FOLDER,
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            help="Continue the grid in this folder, with the settings in its grid.json.",
            show_default=False,
            rich_help_panel=FOLDER,
        ),
    ] = None,
    jobs: Annotated[
        str | None,
        typer.Option(
            help="Runs at once: a number, or auto (the default: 4 per GPU, sharing it; "
            "on a CPU 2, or 1 on one core). "
            "With --executor ray: runs handed to the cluster at once (default: all).",
            show_default=False,
            rich_help_panel=EXECUTION,
        ),
    ] = None,
    gpus: Annotated[
        str | None,
        typer.Option(
            help="GPUs to spread runs over, e.g. 0,1 (sets CUDA_VISIBLE_DEVICES per run).",
            show_default=False,
            rich_help_panel=EXECUTION,
        ),
    ] = None,
    executor: Annotated[
        ExecutorName,
        typer.Option(
            help="Where runs train: worker processes here, or tasks on a Ray cluster.",
            rich_help_panel=CLUSTER,
        ),
    ] = ExecutorName.local,
    address: Annotated[
        str | None,
        typer.Option(
            envvar="RAY_ADDRESS",
            help="Ray cluster: HOST:PORT or ray://HOST:PORT (default: the cluster on this "
            "machine).",
            show_default=False,
            rich_help_panel=CLUSTER,
        ),
    ] = None,
    gpus_per_run: Annotated[
        float | None,
        typer.Option(
            help="GPUs each run asks of the Ray cluster; fractions share a GPU, e.g. 0.25 "
            "(default: 1 if the cluster has GPUs, else 0).",
            show_default=False,
            rich_help_panel=CLUSTER,
        ),
    ] = None,
    cpus_per_run: Annotated[
        float | None,
        typer.Option(
            help="CPUs each run asks of the Ray cluster (default: 1).",
            show_default=False,
            rich_help_panel=CLUSTER,
        ),
    ] = None,
    save_model: Annotated[
        bool,
        typer.Option(
            envvar="RETHINK_SAVE_MODEL",
            help="Each completed run saves its trained model as model.keras.",
            rich_help_panel=EXECUTION,
        ),
    ] = True,
    compact: Annotated[
        bool,
        typer.Option(
            "--compact",
            help="Remove each finished (completed or diverged) run's checkpoint.npz and "
            "model.keras at once, keeping spec, env, metrics, result and log: a small folder "
            "to bring back (implies --no-save-model). Stored in grid.json: --resume keeps it.",
            rich_help_panel=EXECUTION,
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option(help="List the runs and exit; create nothing.", rich_help_panel=FOLDER)
    ] = False,
) -> None:
    """Train a grid of runs (default: the paper's 5 models x 5 randomizations), one worker process each.

    Shows a live table; without a terminal, plain lines. Ctrl-C stops cleanly,
    and `rethink grid --resume DIR` (or the same command again) skips completed
    and diverged runs and continues the others from their checkpoints.
    With --executor ray each run is a task on a Ray cluster (pip install 'rethink-generalization\\[ray]');
    the run folders still end up in the grid folder here.
    Exit code 0 if every run completed, 1 if any failed or diverged, 130 if stopped.
    """
    overrides: dict[str, Any] = {
        "steps": steps,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": lr,
        "lr_decay": lr_decay,
        "momentum": momentum,
        "weight_decay": weight_decay,
        "weight_decay_layers": weight_decay_layers,
        "augment": augment,
        "augment_crop": augment_crop,
        "train_subset": train_subset,
        "test_subset": test_subset,
        "precision": precision,
        "stop_at_fit": stop_at_fit,
        "fit_threshold": fit_threshold,
        "loss_threshold": loss_threshold,
        "log_every": log_every,
        "eval_train_every": eval_train_every,
        "data": _data_path(data),
        "dataset": dataset,
        "crop": crop,
        "extra": _execution_extra(loop, steps_per_execution, torch_compile),
    }
    selection = {
        "preset": preset,
        "models": models,
        "corruptions": corruptions,
        "levels": levels,
        "seeds": seeds,
        "plain": plain,
    }
    if _from_environment(ctx, "data"):
        # $RETHINK_DATA, checked above, reaches the workers as it is, unstored (as before
        # it was an option); on --resume the stored grid's data is what counts.
        overrides["data"] = None
    given = [k for k, v in {**selection, **overrides}.items() if v is not None]
    if resume is not None:
        if out is not None and out.resolve() != resume.resolve():
            fail("give --resume DIR or --out DIR, not both")
        if given:
            fail(
                f"--resume continues the grid stored in {resume}/grid.json; drop --{given[0].replace('_', '-')}"
            )
        folder: Path | None = resume
        stored = _or_fail(lambda: stored_record(resume))
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
                levels=parse_levels(levels),
                seeds=_seeds(seeds),
                overrides=overrides,
                plain=plain is not False,
            )
        )
    specs = _or_fail(lambda: expand(grid))
    if weight_decay_layers not in (None, "all") and all(
        s.weight_decay_layers == "all" for s in specs
    ):
        fail(
            f"--weight-decay-layers {weight_decay_layers}: no run of this grid has weight "
            "decay; give --weight-decay L > 0 (or --preset regularized or table1)"
        )
    existing = _or_fail(lambda: stored_record(folder)) if folder is not None else None
    on_ray = executor == ExecutorName.ray
    _check_executor_options(on_ray, address, gpus, gpus_per_run, cpus_per_run)
    gpu_list = _gpus(gpus)
    if not gpu_list and not on_ray:
        from rethink.base.platform import visible_gpus

        gpu_list = visible_gpus()  # spread the runs over every GPU there is
    # On Ray, by default every run is handed over at once: the cluster's resources decide.
    n_jobs = None if on_ray and jobs in (None, "auto") else _jobs(jobs or "auto", gpu_list)
    if dry_run:
        if existing is not None and resume is None:
            _or_fail(lambda: check_same(folder, existing, specs))
        _print_plan(specs, folder, preset_name)
        return

    # The grid process trains nothing: the backend is for its workers.
    name = use_backend(backend or (existing or {}).get("backend"), in_process=False)
    cluster = _connect(address, gpus_per_run, cpus_per_run) if on_ray else None
    # Before any folder exists: bad or missing data is one line and exit 2.
    data_set, n_train = _identify_data(specs, name, download=not on_ray)
    largest = max((s.train_subset or 0 for s in specs), default=0)
    if resume is None and train_subset is None and n_train is not None and largest > n_train:
        # A preset's subset (smoke: 500) larger than a small data set: train on all of it.
        assert data_set is not None  # read, since n_train is known
        _say(
            f"data: {data_set.name} has {n_train} training images, fewer than the preset's "
            f"--train-subset {largest}; every run trains on all {n_train}"
        )
        grid = _or_fail(lambda: select(grid, overrides={"train_subset": n_train}))
        specs = _or_fail(lambda: expand(grid))
    if existing is not None and resume is None:
        _or_fail(lambda: check_same(folder, existing, specs))
    if gpu_list and not on_ray:  # a few seconds, and only where there are GPUs
        from rethink.base.platform import gpu_unseen_warning, probe_device

        warning = gpu_unseen_warning(name, probe_device(name), gpu_list)
        if warning:
            err_console.print(warning, markup=False, highlight=False, soft_wrap=True)
    result = _or_fail(
        lambda: run_grid(
            grid,
            folder,
            backend=name,
            preset=preset_name,
            jobs=n_jobs,
            gpus=gpu_list,
            cluster=cluster,
            worker=worker_command,
            reporter=reporter_for(console),
            save_model=save_model and not compact,
            dataset=data_set,
            compact=compact,
        )
    )
    _print_wide(summary(result.state))
    where = result.folder
    if result.exit_code == 130:
        _say(f"stopped; finished runs are kept. Resume with: rethink grid --resume {where}")
    elif result.exit_code == 1:
        _say(
            f"some runs did not complete (see {where}/<run>/worker.log); failed runs are "
            f"retried by: rethink grid --resume {where}"
        )
    _say(f"plot with: rethink plot {where}")
    raise typer.Exit(result.exit_code)


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
    from rethink.grid.ray.cluster import ClusterError, check_request

    try:
        check_request(gpus_per_run, 1.0 if cpus_per_run is None else cpus_per_run)
    except ClusterError as e:
        fail(str(e))


def _connect(
    address: str | None, gpus_per_run: float | None, cpus_per_run: float | None
) -> Cluster:
    """The Ray cluster, connected and checked, or a one-line error (exit 2)."""
    from rethink.grid.ray.cluster import ClusterError, connect

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
    except (GridError, GridFolderError) as e:
        fail(str(e))


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def _seeds(value: str | None) -> int | tuple[int, ...] | None:
    """--seeds: a count N (seeds 0..N-1), or seeds listed and ranged: 1,2 or 3-5 or 2-2."""
    if value is None:
        return None
    text = value.strip()
    try:
        if "," not in text and "-" not in text:
            return int(text)
        seeds: list[int] = []
        for part in (p.strip() for p in text.split(",") if p.strip()):
            first, _, last = part.partition("-")
            seeds += range(int(first), int(last or first) + 1)
        return tuple(seeds)
    except ValueError:
        fail(
            "--seeds takes a count or the seeds, e.g. 3 (seeds 0-2), 1,2 or 2-2 (seed 2 alone); "
            f"got {value!r}"
        )


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


_DOWNLOAD = """
import sys
from rethink.data.sources import DataError, download
try:
    download(sys.argv[1])
except DataError as e:
    print(e, file=sys.stderr)
    sys.exit(2)
"""


def _identify_data(
    specs: list[RunSpec], backend: str, download: bool
) -> tuple[Dataset | None, int | None]:
    """The grid's data set and its training-set size (None where not read here),
    checked before any folder exists: a local source is read (and cached for the
    workers), Keras's download is fetched once (`download`; on Ray each node
    fetches its own); the crop and random crop of every run must fit. One line
    and exit 2 for anything wrong."""
    from rethink.data import DataError, load
    from rethink.data.pipeline import check_window
    from rethink.spec.datasets import DEFAULT, known

    if not specs:
        return None, None
    first = specs[0]
    source = first.data or os.environ.get("RETHINK_DATA") or None
    n_train = None
    try:
        if source is not None:
            loaded = load(first.data, first.dataset)  # None: $RETHINK_DATA
            found, n_train = loaded.dataset, len(loaded.arrays[0][1])
            del loaded  # the workers load it again, from the cache this filled
        else:
            found = known(first.dataset or DEFAULT)
            if download:
                _download_once(backend, found.name)
        for spec in specs:
            check_window(spec, found.shape, found.crop(spec.crop))
    except DataError as e:
        fail(str(e))
    return found, n_train


def _download_once(backend: str, dataset: str) -> None:
    """Get a data set through Keras's download here, once, so that the workers read
    Keras's cached copy instead of each downloading it; exit 2 with one line if it
    cannot (offline without --data). In a subprocess: this process imports no Keras."""
    err_console.print(f"data: no --data or RETHINK_DATA; getting {dataset} through Keras once")
    env = dict(os.environ, KERAS_BACKEND=backend)
    proc = subprocess.run(
        [sys.executable, "-c", _DOWNLOAD, dataset],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        fail(lines[-1] if lines else f"could not get {dataset} (exit code {proc.returncode})")


def _from_environment(ctx: typer.Context, name: str) -> bool:
    """Whether option `name` came from its environment variable, not the command line."""
    source = ctx.get_parameter_source(name)  # Typer's or Click's ParameterSource enum
    return getattr(source, "name", None) == "ENVIRONMENT"


def _data_path(data: Path | None) -> str | None:
    if data is None:
        return None
    if not data.exists():
        fail(f"data not found: {data}")
    return str(data.expanduser().resolve())  # workers and resumes may run elsewhere


def _execution_extra(
    loop: str | None, steps_per_execution: int | None, torch_compile: str | None
) -> dict[str, Any] | None:
    """The execution options given, as stored in each spec's extra (checked here)."""
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
    make_execution(given, "auto", None, "auto")
    return given


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
