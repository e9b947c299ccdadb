"""`rethink construct`: section 4's finite-sample construction (Theorem 1) on CIFAR-10.

Builds the depth-2 ReLU network that fits every training label of a
randomization of CIFAR-10 (`rethink.construct`), checks the fit in NumPy
float64 and as a float32 Keras model on the backend, counts its weights
against 2n + d, and scores it on the test split.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from rethink.base.text import number, percent
from rethink.cli import BackendOption, app, console, err_console, fail, use_backend
from rethink.cli import options as o

D = o.DEFAULTS


@app.command("construct")
def construct_command(
    corruption: o.CorruptionOption = D["corruption"],
    level: o.Level = D["level"],
    seed: Annotated[
        int, typer.Option(help="Seed of the corruption and of the projection direction.")
    ] = D["seed"],
    train_subset: o.TrainSubset = D["train_subset"],
    test_subset: o.TestSubset = D["test_subset"],
    outputs: Annotated[
        str,
        typer.Option(
            help="onehot: one output per class sharing the hidden layer, fitted to one-hot "
            "labels (d + 11n weights for 10 classes); label: one output fitted to the label "
            "0..k-1 (2n + d weights)."
        ),
    ] = "onehot",
    bias_position: Annotated[
        float,
        typer.Option(
            help="Where each bias sits between consecutive sorted projections (0.5: midpoint)."
        ),
    ] = 0.5,
    keras_model: Annotated[
        bool,
        typer.Option(
            "--keras/--no-keras", help="Also evaluate the float32 Keras model on the backend."
        ),
    ] = True,
    data: o.DataOption = None,
    dataset: o.DatasetOption = None,
    crop: o.CropOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write the numbers and settings to OUT/construct.json."),
    ] = None,
    backend: BackendOption = None,
) -> None:
    """Build Theorem 1's 2-layer ReLU network that memorizes the training labels.

    Projects the training images onto one random direction, puts a ReLU's bias
    between each pair of consecutive projections and solves the triangular
    system for the output weights in O(n). Reports the weights against 2n + d,
    the largest error and the labels recovered in float64 and in the float32
    Keras model, and the test accuracy (chance: 1/classes, CIFAR-10's 10%).
    """
    from rethink.construct import OUTPUTS, ConstructionError, measure
    from rethink.run.execute import RunError, load_data
    from rethink.spec import RunSpec, SpecError

    if outputs not in OUTPUTS:
        fail(f"unknown --outputs {outputs!r}; choose from {', '.join(OUTPUTS)}")
    if not 0.0 < bias_position < 1.0:
        fail(f"--bias-position must be between 0 and 1 (exclusive), got {bias_position}")
    try:
        spec = RunSpec(
            model="mlp_1x512",  # unused: only the data settings matter here
            corruption=corruption,
            level=level,
            seed=seed,
            train_subset=train_subset,
            test_subset=test_subset,
            data=data,
            dataset=dataset,
            crop=crop,
        )
    except SpecError as e:
        fail(str(e))
    name = use_backend(backend) if keras_model else None

    from rethink.data import prepare

    start = time.perf_counter()
    try:
        loaded = load_data(spec)
        prepared = prepare(spec, loaded.arrays, loaded.dataset)
    except (RunError, ValueError) as e:
        fail(str(e))
    load_s = time.perf_counter() - start

    def notify(message: str) -> None:
        err_console.print(message, highlight=False)

    try:
        result = measure(
            prepared,
            seed=seed,
            outputs=outputs,
            position=bias_position,
            on_backend=keras_model,
            notify=notify,
        )
    except ConstructionError as e:
        fail(str(e))
    result.update(
        {
            "corruption": corruption,
            "level": level,
            "seed": seed,
            "train_subset": train_subset,
            "test_subset": test_subset,
            "backend": name,
            "data": loaded.source or f"keras.datasets.{loaded.dataset.name}",
            "data_sha256": loaded.digest,
            "dataset": loaded.dataset.to_dict(),
            "load_s": load_s,
            "total_s": time.perf_counter() - start,
        }
    )
    console.print(_table(result))
    fitted = result["recovered"] == result["n"]
    console.print(
        f"float64: {'every' if fitted else 'not every'} training label recovered "
        f"({number(result['recovered'])} of {number(result['n'])})",
        highlight=False,
    )
    if out is not None:
        from rethink.run.folder import write_json

        path = out / "construct.json"
        write_json(path, result)
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)


def _table(r: dict[str, Any]) -> Table:
    corruption = r["corruption"]
    if corruption == "partial_labels" and r["level"] is not None:
        corruption += f" p={r['level']:g}"
    name = r["dataset"]["name"]
    table = Table(title=f"Theorem 1 network on {name}, {corruption}, seed {r['seed']}")
    table.add_column("quantity")
    table.add_column("float64 (NumPy)", justify="right")
    table.add_column("float32 (Keras)", justify="right")
    keras = "keras_recovered" in r

    def k(key: str, fmt: Any) -> str:
        return fmt(r[key]) if keras else "-"

    n, d, outs = r["n"], r["d"], r["outputs"]
    shared = (
        f"{number(r['weights'])} = d + n + {outs}n"
        if outs > 1
        else f"{number(r['weights'])} = 2n + d"
    )
    table.add_row("training points n", number(n), "")
    table.add_row("dimensions d", number(d), "")
    table.add_row("weights", shared, k("keras_weights", number))
    table.add_row("2n + d", number(r["weights_2n_plus_d"]), "")
    table.add_row("smallest projection gap", f"{r['min_gap']:.3g}", "")
    table.add_row("largest |output weight|", f"{r['max_abs_weight']:.3g}", "")
    table.add_row("largest |error| (train)", f"{r['max_error']:.3g}", k("keras_max_error", _g))
    table.add_row(
        "labels recovered",
        f"{number(r['recovered'])} / {number(n)}",
        k("keras_recovered", lambda v: f"{number(v)} / {number(n)}"),
    )
    table.add_row("train accuracy", percent(r["train_acc"], 2), k("keras_train_acc", _pct))
    table.add_row(
        f"test accuracy ({number(r['n_test'])})",
        percent(r["test_acc"], 2),
        k("keras_test_acc", _pct),
    )
    table.add_row(
        "wall time",
        f"{r['total_s']:.1f} s (data {r['load_s']:.1f}, solve {r['construct_s']:.1f}, "
        f"check {r['float64_s']:.1f})",
        f"{r['keras_s']:.1f} s" if keras else "-",
    )
    return table


def _g(v: Any) -> str:
    return f"{v:.3g}"


def _pct(v: Any) -> str:
    return percent(v, 2)
