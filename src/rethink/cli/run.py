"""`rethink run`: train one model on one randomization into a run folder."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from rethink.cli import (
    BackendOption,
    LoopOption,
    StepsOption,
    TorchCompileOption,
    app,
    console,
    err_console,
    fail,
    make_engine,
    use_backend,
)
from rethink.spec import RunSpec


@app.command("run")
def run_command(
    model: Annotated[
        str | None,
        typer.Option(help="inception, inception_no_bn, alexnet, mlp_1x512 or mlp_3x512."),
    ] = None,
    corruption: Annotated[
        str,
        typer.Option(
            help="true_labels, partial_labels, random_labels, shuffled_pixels, random_pixels or gaussian."
        ),
    ] = "true_labels",
    level: Annotated[
        float | None, typer.Option(help="Label-corruption probability p, partial_labels only.")
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Seed of the corruption, initialization and data order.")
    ] = 0,
    steps: Annotated[
        int | None, typer.Option(help="Training steps (default: 25000).", show_default=False)
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Train whole epochs instead of --steps.")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Images per step.")] = 128,
    lr: Annotated[
        float | None,
        typer.Option(
            help="Initial learning rate (default: 0.1 Inception, 0.01 others).", show_default=False
        ),
    ] = None,
    lr_decay: Annotated[float, typer.Option(help="Learning-rate factor after every epoch.")] = 0.95,
    momentum: Annotated[float, typer.Option(help="SGD momentum.")] = 0.9,
    weight_decay: Annotated[
        float,
        typer.Option(
            help="Weight decay L: gradient + L*w on every kernel (penalty L/2*sum w^2; Table 1: 5e-4)."
        ),
    ] = 0.0,
    augment: Annotated[
        bool, typer.Option(help="Random crop + horizontal flip (Table 1's 'random crop').")
    ] = False,
    augment_crop: Annotated[
        str,
        typer.Option(
            help="window: a random 28x28 window of the 32x32 image; padded: pad the centre crop by 4."
        ),
    ] = "window",
    train_subset: Annotated[
        int | None, typer.Option(help="Train on a seeded class-balanced subset of N images.")
    ] = None,
    test_subset: Annotated[
        int | None, typer.Option(help="Evaluate on a class-balanced subset of N test images.")
    ] = None,
    precision: Annotated[
        str, typer.Option(help="float32, mixed_bfloat16 or mixed_float16.")
    ] = "float32",
    stop_at_fit: Annotated[
        bool, typer.Option(help="Stop once training accuracy reaches --fit-threshold.")
    ] = False,
    fit_threshold: Annotated[
        float, typer.Option(help="Training accuracy that counts as fitted.")
    ] = 1.0,
    loss_threshold: Annotated[
        float, typer.Option(help="Training loss for 'steps to loss'.")
    ] = 0.01,
    log_every: Annotated[
        int, typer.Option(help="A metrics row every N steps, the mean of those N steps.")
    ] = 100,
    eval_train_every: Annotated[
        int | None,
        typer.Option(
            help="Also evaluate the whole training split every K epochs (always at the end).",
            show_default=False,
        ),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            help="CIFAR-10 source: archive or folder (default: $RETHINK_DATA, else Keras download).",
            show_default=False,
        ),
    ] = None,
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
    loop: LoopOption = "auto",
    steps_per_execution: StepsOption = None,
    torch_compile: TorchCompileOption = "auto",
    quiet: Annotated[bool, typer.Option(help="No progress display.")] = False,
    backend: BackendOption = None,
) -> None:
    """Train one model on one randomization of CIFAR-10 with the paper's protocol.

    Writes OUT/<run id>/ with spec.json, env.json, metrics.csv, result.json and
    a checkpoint at each epoch end. Exit code 0 completed, 1 diverged or
    failed, 130 stopped (resume with --resume), 2 bad settings.
    """
    from rethink.spec import SpecError

    try:
        if spec_file is not None:
            if model is not None:
                fail("give --spec or --model, not both")
            spec = _read_spec(spec_file)
        else:
            if model is None:
                fail(
                    "missing --model (one of inception, inception_no_bn, alexnet, mlp_1x512, mlp_3x512)"
                )
            spec = RunSpec(
                model=model,
                corruption=corruption,
                level=level,
                seed=seed,
                steps=steps if steps is not None or epochs is not None else 25_000,
                epochs=epochs,
                batch_size=batch_size,
                learning_rate=lr,
                lr_decay=lr_decay,
                momentum=momentum,
                weight_decay=weight_decay,
                augment=augment,
                augment_crop=augment_crop,
                train_subset=train_subset,
                test_subset=test_subset,
                precision=precision,
                stop_at_fit=stop_at_fit,
                fit_threshold=fit_threshold,
                loss_threshold=loss_threshold,
                log_every=log_every,
                eval_train_every=eval_train_every,
                data=data,
            )
    except SpecError as e:
        fail(str(e))
    engine = make_engine(spec.extra, loop, steps_per_execution, torch_compile)
    name = use_backend(backend, quiet=quiet)

    from rethink.progress import display_for
    from rethink.runner import RunError, execute

    shown = (
        contextlib.nullcontext()
        if quiet
        else display_for(err_console, spec.run_id, spec.steps or 0)
    )
    try:
        with shown as display:
            result, code = execute(
                spec,
                out,
                backend=name,
                resume=resume,
                display=display,
                engine=engine,
            )
    except RunError as e:
        fail(str(e))
    status = result.get("status")
    line = (
        f"{spec.run_id}: {status} at step {result.get('step')}"
        f", train acc {_pct(result.get('train_acc'))}, test acc {_pct(result.get('test_acc'))}"
        f", steps to fit {result.get('steps_to_fit')}"
    )
    if result.get("error"):
        line += f" ({result['error']})"
    console.print(line, highlight=False, soft_wrap=True)
    console.print(f"run folder: {out / spec.run_id}", highlight=False, soft_wrap=True)
    if status == "stopped":
        err_console.print("stopped; continue with the same command plus --resume")
    raise typer.Exit(code)


def _pct(value: object) -> str:
    return "-" if not isinstance(value, int | float) else f"{100 * value:.2f}%"


def _read_spec(path: Path) -> RunSpec:
    from rethink.rundir import read_json
    from rethink.spec import SpecError

    data = read_json(path)
    if data is None:
        fail(f"cannot read a spec from {path}")
    try:
        return RunSpec.from_dict(data)
    except (TypeError, SpecError) as e:
        fail(f"{path}: {e}")
