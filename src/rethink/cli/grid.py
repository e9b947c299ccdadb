"""`rethink grid`: train a grid of runs in worker processes, with a live table.

Parses and wires only: the grid is `rethink.grid.spec` (and its presets),
the checks before it trains `rethink.grid.preflight` and `rethink.data.probe`,
the folder, lock and workers `rethink.grid.run_grid` (or a Ray cluster with
`--executor ray`, which alone imports Ray), the view `rethink.grid.live`. The
options are `rethink.cli.grid_options` and the run settings of
`rethink.cli.options`. Keras is never imported here; the workers train.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.table import Table

from rethink.base.console import print_table, say
from rethink.cli import (
    BackendOption,
    app,
    console,
    err_console,
    fail,
    make_execution,
    own_model,
    parse_levels,
    use_backend,
)
from rethink.cli import grid_options as g
from rethink.cli import options as o
from rethink.cli.grid_options import Preset
from rethink.cli.settings import Settings, with_settings
from rethink.data.probe import absolute_source, identify
from rethink.grid import PRESETS, GridError, GridFolderError, expand, run_grid, select
from rethink.grid.folder import check_same, next_output_dir, stored_record
from rethink.grid.launch import WorkerCommand, rethink_worker
from rethink.grid.live import reporter_for, summary
from rethink.grid.preflight import (
    check_decay_layers,
    check_executor,
    devices,
    fit_subsets,
    gpu_warning,
    jobs_for,
    pack_for,
)
from rethink.grid.record import grid_of
from rethink.run.folder import RunDir
from rethink.spec import RunSpec
from rethink.spec.datasets import DataError

if TYPE_CHECKING:
    from rethink.grid.ray.cluster import Cluster

T = TypeVar("T")

# The worker command; tests swap in a fake worker here.
worker_command: WorkerCommand = rethink_worker

__all__ = ["Preset", "grid_command", "worker_command"]


@app.command("grid")
@with_settings(grid=True)
def grid_command(
    preset: g.PresetOption = None,
    models: g.ModelsOption = None,
    corruptions: g.CorruptionsOption = None,
    levels: g.LevelsOption = None,
    seeds: g.SeedsOption = None,
    plain: g.PlainOption = None,
    *,
    settings: Settings,
    backend: BackendOption = None,
    out: g.OutOption = None,
    resume: g.ResumeOption = None,
    jobs: g.JobsOption = None,
    pack: g.PackOption = None,
    gpus: g.GpusOption = None,
    executor: g.ExecutorOption = g.ExecutorName.local,
    address: g.AddressOption = None,
    gpus_per_run: g.GpusPerRunOption = None,
    cpus_per_run: g.CpusPerRunOption = None,
    save_model: g.SaveModelOption = True,
    compact: g.CompactOption = False,
    dry_run: g.DryRunOption = False,
    model_output: o.ModelOutputOption = "logits",
) -> None:
    """Train a grid of runs (default: the paper's 5 models x 5 randomizations), one worker process each.

    Shows a live table; without a terminal, plain lines. Ctrl-C stops cleanly,
    and `rethink grid --resume DIR` (or the same command again) skips completed
    and diverged runs and continues the others from their checkpoints.
    With --executor ray each run is a task on a Ray cluster (pip install 'rethink-generalization\\[ray]');
    the run folders still end up in the grid folder here.
    Exit code 0 if every run completed, 1 if any failed or diverged, 130 if stopped.
    """
    overrides = _overrides(settings)
    selection = {
        "preset": preset,
        "models": models,
        "corruptions": corruptions,
        "levels": levels,
        "seeds": seeds,
        "plain": plain,
    }
    if resume is not None:
        if out is not None and out.resolve() != resume.resolve():
            fail("give --resume DIR or --out DIR, not both")
        given = [f"--{k}" for k, v in selection.items() if v is not None]
        given += [o.SETTING[k].flag_text for k in settings.values if settings.typed(k)]
        if given:
            fail(f"--resume continues the grid stored in {resume}/grid.json; drop {given[0]}")
        stored = _or_fail(lambda: stored_record(resume))
        if stored is None:
            fail(f"{resume} is not a grid folder (no readable grid.json)")
        folder: Path | None = resume
        preset_name = str(stored.get("preset"))
        grid = _or_fail(lambda: grid_of(stored))
    else:
        folder, preset_name = out, str(preset or "paper")
        grid = _or_fail(
            lambda: select(
                PRESETS[preset_name],
                models=g.names(models),
                corruptions=g.names(corruptions),
                levels=parse_levels(levels),
                seeds=g.seeds(seeds),
                overrides=overrides,
                plain=plain is not False,
            )
        )
    specs = _or_fail(lambda: expand(grid))
    layers = settings["weight_decay_layers"] if settings.given("weight_decay_layers") else None
    _or_fail(lambda: check_decay_layers(specs, layers))
    existing = _or_fail(lambda: stored_record(folder)) if folder is not None else None
    on_ray = executor == g.ExecutorName.ray
    _or_fail(lambda: check_executor(on_ray, address, gpus, gpus_per_run, cpus_per_run))
    gpu_list = _or_fail(lambda: devices(gpus, on_ray))
    n_jobs = _or_fail(lambda: jobs_for(jobs, gpu_list, on_ray))
    if dry_run:
        if existing is not None and resume is None:
            _or_fail(lambda: check_same(folder, existing, specs))
        _print_plan(specs, folder, preset_name)
        return

    # The grid process trains nothing: the backend is for its workers.
    name = use_backend(backend or (existing or {}).get("backend"), in_process=False)
    n_pack = _or_fail(lambda: pack_for(pack, name, gpu_list, on_ray, len(specs), n_jobs))
    cluster = _connect(address, gpus_per_run, cpus_per_run) if on_ray else None
    # Before any folder exists: bad or missing data is one line and exit 2.
    found = _or_fail(lambda: identify(specs, name, not on_ray, lambda t: say(err_console, t)))
    own_model.for_grid(specs, found, name, model_output, resume)  # models of yours: checked
    if resume is None:
        explicit = settings.given("train_subset")
        grid, note = _or_fail(lambda: fit_subsets(grid, found, explicit))
        if note:
            say(console, note)
    warning = None if on_ray else gpu_warning(name, gpu_list)
    if warning:
        say(err_console, warning)
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
            dataset=found.dataset if found is not None else None,
            compact=compact,
            pack=n_pack,
        )
    )
    print_table(console, summary(result.state))
    where = result.folder
    if result.exit_code == 130:
        say(console, f"stopped; finished runs are kept. Resume with: rethink grid --resume {where}")
    elif result.exit_code == 1:
        say(
            console,
            f"some runs did not complete (see {where}/<run>/worker.log); failed runs are "
            f"retried by: rethink grid --resume {where}",
        )
    say(console, f"plot with: rethink plot {where}")
    raise typer.Exit(result.exit_code)


def _overrides(settings: Settings) -> dict[str, Any]:
    """The run settings given, as `select` takes them: --data made absolute (workers and
    resumes may run elsewhere), the execution settings checked, in each spec's extra."""
    overrides = settings.overrides()
    if settings.given("data"):
        data = _or_fail(lambda: absolute_source(settings["data"]))
        # $RETHINK_DATA, checked here, reaches the workers as it is, unstored (on --resume
        # the stored grid's data is what counts).
        overrides["data"] = None if settings.from_environment("data") else data
    extra = settings.execution()
    if extra:
        make_execution(extra)
        overrides["extra"] = extra
    return overrides


def _connect(
    address: str | None, gpus_per_run: float | None, cpus_per_run: float | None
) -> Cluster:
    """The Ray cluster, connected and checked, or a one-line error (exit 2)."""
    from rethink.grid.ray.cluster import ClusterError, connect

    try:
        return connect(address, gpus_per_run, 1.0 if cpus_per_run is None else cpus_per_run)
    except ClusterError as e:
        fail(str(e))


def _or_fail(make: Callable[[], T]) -> T:
    try:
        return make()
    except (GridError, GridFolderError, DataError) as e:
        fail(str(e))


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
    print_table(console, table)
    say(console, "dry run: nothing was created")
