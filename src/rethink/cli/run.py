"""`rethink run`: train one model on one randomization into a run folder."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from rethink.base.text import percent
from rethink.cli import (
    BackendOption,
    LoopOption,
    StepsOption,
    TorchCompileOption,
    app,
    console,
    err_console,
    fail,
    make_execution,
    use_backend,
)
from rethink.cli import options as o
from rethink.spec import RunSpec

D = o.DEFAULTS


@app.command("run")
def run_command(
    model: o.ModelOption = None,
    corruption: o.CorruptionOption = D["corruption"],
    level: o.Level = D["level"],
    seed: o.Seed = D["seed"],
    steps: o.Steps = None,
    epochs: o.Epochs = D["epochs"],
    batch_size: o.BatchSize = D["batch_size"],
    lr: o.LearningRate = D["learning_rate"],
    lr_decay: o.LrDecay = D["lr_decay"],
    momentum: o.Momentum = D["momentum"],
    weight_decay: o.WeightDecay = D["weight_decay"],
    weight_decay_layers: o.WeightDecayLayers = D["weight_decay_layers"],
    augment: o.Augment = D["augment"],
    augment_crop: o.AugmentCrop = D["augment_crop"],
    train_subset: o.TrainSubset = D["train_subset"],
    test_subset: o.TestSubset = D["test_subset"],
    precision: o.PrecisionOption = D["precision"],
    stop_at_fit: o.StopAtFit = D["stop_at_fit"],
    fit_threshold: o.FitThreshold = D["fit_threshold"],
    loss_threshold: o.LossThreshold = D["loss_threshold"],
    log_every: o.LogEvery = D["log_every"],
    eval_train_every: o.EvalTrainEvery = D["eval_train_every"],
    data: o.DataOption = None,
    dataset: o.DatasetOption = None,
    crop: o.CropOption = None,
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
            if weight_decay_layers != "all" and not weight_decay:
                # The spec would store "all": say so instead of ignoring the flag.
                fail(
                    f"--weight-decay-layers {weight_decay_layers} chooses where weight decay "
                    "applies: give --weight-decay L > 0 too"
                )
            spec = RunSpec(
                model=model,
                corruption=corruption,
                level=level,
                seed=seed,
                steps=steps if steps is not None or epochs is not None else D["steps"],
                epochs=epochs,
                batch_size=batch_size,
                learning_rate=lr,
                lr_decay=lr_decay,
                momentum=momentum,
                weight_decay=weight_decay,
                weight_decay_layers=weight_decay_layers,
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
                dataset=dataset,
                crop=crop,
            )
    except SpecError as e:
        fail(str(e))
    execution = make_execution(spec.extra, loop, steps_per_execution, torch_compile)
    name = use_backend(backend, quiet=quiet)

    from rethink.run.execute import RunError, execute
    from rethink.run.progress import display_for

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
                execution=execution,
                save_model=save_model,
            )
    except RunError as e:
        fail(str(e))
    status = result.get("status")
    if not keep_checkpoint and status in ("completed", "diverged"):  # never trained again
        from rethink.run.folder import RunDir

        RunDir(out / spec.run_id).checkpoint_path.unlink(missing_ok=True)
    line = (
        f"{spec.run_id}: {status} at step {result.get('step')}"
        f", train acc {percent(result.get('train_acc'), 2)}, test acc {percent(result.get('test_acc'), 2)}"
        f", steps to fit {result.get('steps_to_fit')}"
    )
    if result.get("error"):
        line += f" ({result['error']})"
    console.print(line, highlight=False, soft_wrap=True)
    console.print(f"run folder: {out / spec.run_id}", highlight=False, soft_wrap=True)
    if status == "stopped":
        err_console.print("stopped; continue with the same command plus --resume")
    raise typer.Exit(code)


def _read_spec(path: Path) -> RunSpec:
    from rethink.run.folder import read_json
    from rethink.spec import SpecError

    data = read_json(path)
    if data is None:
        fail(f"cannot read a spec from {path}")
    try:
        return RunSpec.from_dict(data)
    except (TypeError, SpecError) as e:
        fail(f"{path}: {e}")
