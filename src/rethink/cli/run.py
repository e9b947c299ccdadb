"""`rethink run`: train one model on one randomization into a run folder.

Parses and wires only: the settings are `rethink.cli.options` (declared once
with `rethink grid`), the spec `rethink.spec.RunSpec`, the run
`rethink.run.execute`, the display `rethink.run.progress`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from rethink.base.console import say
from rethink.base.text import percent
from rethink.cli import BackendOption, app, console, err_console, fail, make_execution, use_backend
from rethink.cli import options as o
from rethink.cli.settings import Settings, with_settings
from rethink.models import MODELS
from rethink.spec import RunSpec, SpecError

D = o.DEFAULTS


@app.command("run")
@with_settings()
def run_command(
    model: o.ModelOption = None,
    corruption: o.CorruptionOption = D["corruption"],
    level: o.Level = D["level"],
    seed: o.Seed = D["seed"],
    *,
    settings: Settings,
    out: Annotated[Path, typer.Option(help="Folder the run folder is created in.")] = Path("runs"),
    resume: Annotated[
        bool, typer.Option(help="Continue the run folder from its last checkpoint.")
    ] = False,
    spec_file: Annotated[
        Path | None,
        typer.Option(
            "--spec", help="Read every setting from a spec.json (other settings ignored)."
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

    try:
        if spec_file is not None:
            if model is not None:
                fail("give --spec or --model, not both")
            spec = load_spec(spec_file)
        else:
            spec = _spec(model, corruption, level, seed, settings)
    except (SpecError, RunError) as e:
        fail(str(e))
    execution = make_execution(settings.execution(), spec.extra)
    name = use_backend(backend, quiet=quiet)

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
    line = (
        f"{spec.run_id}: {status} at step {result.get('step')}"
        f", train acc {percent(result.get('train_acc'), 2)}, test acc {percent(result.get('test_acc'), 2)}"
        f", steps to fit {result.get('steps_to_fit')}"
    )
    if result.get("error"):
        line += f" ({result['error']})"
    say(console, line)
    say(console, f"run folder: {out / spec.run_id}")
    if status == "stopped":
        err_console.print("stopped; continue with the same command plus --resume")
    raise typer.Exit(code)


def _spec(
    model: str | None, corruption: str, level: float | None, seed: int, settings: Settings
) -> RunSpec:
    """The run the options describe (SpecError for a bad one)."""
    if model is None:
        fail(f"missing --model (one of {', '.join(MODELS)})")
    layers = settings["weight_decay_layers"]
    if layers != "all" and not settings["weight_decay"]:
        # The spec would store "all": say so instead of ignoring the flag.
        fail(
            f"--weight-decay-layers {layers} chooses where weight decay applies: "
            "give --weight-decay L > 0 too"
        )
    fields = settings.spec_fields()
    return RunSpec(model=model, corruption=corruption, level=level, seed=seed, **fields)
