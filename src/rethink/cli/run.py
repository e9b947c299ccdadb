"""`rethink run`: train one model on one randomization into a run folder.

Parses and wires only: the settings are `rethink.cli.options` (declared once
with `rethink grid`), the spec `rethink.spec.RunSpec`, the run
`rethink.run.execute`, the display `rethink.run.progress`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer

from rethink.base.console import say
from rethink.base.text import percent
from rethink.cli import (
    BackendOption,
    app,
    console,
    err_console,
    fail,
    make_execution,
    own_model,
    use_backend,
)
from rethink.cli import options as o
from rethink.cli.settings import Settings, with_settings
from rethink.models import MODELS
from rethink.spec import RunSpec, SpecError

D = o.DEFAULTS


@app.command("run")
@with_settings()
def run_command(
    model: o.ModelOption = None,
    model_output: o.ModelOutputOption = "logits",
    corruption: o.CorruptionOption = D["corruption"],
    level: o.Level = D["level"],
    seed: o.Seed = D["seed"],
    *,
    settings: Settings,
    out: Annotated[Path, typer.Option(help="Folder the run folder is created in.")] = Path("runs"),
    resume: Annotated[
        bool, typer.Option(help="Continue the run folder from its last checkpoint.")
    ] = False,
    spec_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--spec",
            help="Read every setting from a spec.json (other settings ignored). Given "
            "several times: train those runs as one pack, as `rethink grid --pack` packs "
            "them: on a GPU one compiled step for all (jax, torch; they must share model and "
            "protocol), on a CPU one after another in this process.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress display.")] = False,
    save_model: Annotated[
        bool,
        typer.Option(
            envvar="RETHINK_SAVE_MODEL",
            help="Save the trained model as model.keras when the run completes.",
        ),
    ] = True,
    keep_checkpoint: Annotated[
        bool,
        typer.Option(
            envvar="RETHINK_KEEP_CHECKPOINT",
            help="Keep checkpoint.npz once the run completed or diverged (a grid's "
            "--compact turns it off; a stopped or failed run always keeps it).",
        ),
    ] = True,
    backend: BackendOption = None,
) -> None:
    """Train one model on one randomization of CIFAR-10 (or --dataset/--data) with the paper's protocol.

    Writes OUT/<run id>/ with spec.json, env.json, metrics.csv, result.json, a
    checkpoint at each epoch end and, once completed, model.keras. Exit code 0 completed, 1 diverged or
    failed, 130 stopped (resume with --resume), 2 bad settings.
    """
    from rethink.run.execute import RunError, execute, load_spec

    if spec_files and model is not None:
        fail("give --spec or --model, not both")
    if spec_files and len(spec_files) > 1:
        _run_pack(spec_files, out, backend, resume, quiet, settings, save_model, keep_checkpoint)
    try:
        if spec_files:
            spec = load_spec(spec_files[0])
        else:
            spec = _spec(model, corruption, level, seed, settings)
    except (SpecError, RunError) as e:
        fail(str(e))
    own_model.outputs([] if spec_files else [spec.model], model_output)
    execution = make_execution(settings.execution(), spec.extra)
    name = use_backend(backend, quiet=quiet)
    own_model.importable(spec.model)

    from rethink.run.progress import display_for

    shown = contextlib.nullcontext() if quiet else display_for(err_console, spec.run_id, spec.steps)
    try:
        with shown as display:
            result, code = execute(
                spec,
                out,
                backend=name,
                resume=resume,
                display=display,
                execution=execution,
                save_model=save_model,
                keep_checkpoint=keep_checkpoint,
            )
    except RunError as e:
        fail(str(e))
    status = result.get("status")
    say(console, _result_line(spec, result))
    say(console, f"run folder: {out / spec.run_id}")
    if status == "stopped":
        err_console.print("stopped; continue with the same command plus --resume")
    raise typer.Exit(code)


def _run_pack(
    spec_files: list[Path],
    out: Path,
    backend: str | None,
    resume: bool,
    quiet: bool,
    settings: Settings,
    save_model: bool,
    keep_checkpoint: bool,
) -> None:
    """Several spec.json files trained as packs (`rethink.run.pack`); exits with the
    worst run's code (2 bad input, 130 stopped, 1 diverged or failed, 0 all completed)."""
    from rethink.run.execute import RunError, load_spec
    from rethink.run.pack import execute_pack
    from rethink.run.progress import LineDisplay

    try:
        specs = [load_spec(path) for path in spec_files]
    except RunError as e:
        fail(str(e))
    execution = make_execution(settings.execution(), specs[0].extra)
    name = use_backend(backend, quiet=quiet)
    lines = None if quiet else (lambda spec: LineDisplay(err_console, spec.run_id, spec.steps))
    try:
        results = execute_pack(
            specs, out, name, resume, lines, execution, save_model, keep_checkpoint
        )
    except RunError as e:
        fail(str(e))
    for spec, (result, _) in zip(specs, results, strict=True):
        say(console, _result_line(spec, result))
    codes = {code for _, code in results}
    raise typer.Exit(130 if 130 in codes else max(codes))


def _result_line(spec: RunSpec, result: dict[str, Any]) -> str:
    line = (
        f"{spec.run_id}: {result.get('status')} at step {result.get('step')}"
        f", train acc {percent(result.get('train_acc'), 2)}, test acc {percent(result.get('test_acc'), 2)}"
        f", steps to fit {result.get('steps_to_fit')}"
    )
    return line + (f" ({result['error']})" if result.get("error") else "")


def _spec(
    model: str | None, corruption: str, level: float | None, seed: int, settings: Settings
) -> RunSpec:
    """The run the options describe (SpecError for a bad one)."""
    if model is None:
        fail(f"missing --model (one of {', '.join(MODELS)}, or module:builder, file.py:builder)")
    layers = settings["weight_decay_layers"]
    if layers != "all" and not settings["weight_decay"]:
        # The spec would store "all": say so instead of ignoring the flag.
        fail(
            f"--weight-decay-layers {layers} chooses where weight decay applies: "
            "give --weight-decay L > 0 too"
        )
    fields = settings.spec_fields()
    return RunSpec(model=model, corruption=corruption, level=level, seed=seed, **fields)
