"""`rethink construct`: section 4's finite-sample construction (Theorem 1) on CIFAR-10.

    rethink construct --data cifar10-jpeg.tar.gz --corruption random_labels --out construct/

Builds the depth-2 ReLU network that fits every training label of a
randomization of CIFAR-10, checks the fit in NumPy float64 and as a float32
Keras model on the backend, counts its weights against 2n + d, and scores it
on the test split. Parses the options into `rethink.construct.ConstructSettings`
(whose defaults these are), runs `run_construct` and prints its numbers
(`rethink.construct.summary`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rethink.base.console import print_table, say
from rethink.cli import BackendOption, app, console, err_console, fail, use_backend
from rethink.cli import options as o
from rethink.construct.settings import ConstructSettings

D = o.DEFAULTS
C = ConstructSettings()  # the defaults


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
    ] = C.outputs,
    bias_position: Annotated[
        float,
        typer.Option(
            help="Where each bias sits between consecutive sorted projections (0.5: midpoint)."
        ),
    ] = C.position,
    keras_model: Annotated[
        bool,
        typer.Option(
            "--keras/--no-keras", help="Also evaluate the float32 Keras model on the backend."
        ),
    ] = C.on_backend,
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
    from rethink.construct import ConstructionError, run_construct
    from rethink.construct.summary import COLUMNS, rows, title, verdict

    try:
        settings = ConstructSettings(
            corruption=corruption, level=level, seed=seed, train_subset=train_subset,
            test_subset=test_subset, data=data, dataset=dataset, crop=crop, outputs=outputs,
            position=bias_position, on_backend=keras_model,
        )  # fmt: skip
    except ConstructionError as e:
        fail(str(e))
    if settings.on_backend:
        use_backend(backend)
    try:
        result = run_construct(settings, notify=lambda message: say(err_console, message))
    except ConstructionError as e:
        fail(str(e))

    from rich.table import Table

    table = Table(*COLUMNS, title=title(result))
    for row in rows(result):
        table.add_row(*row)
    for column in table.columns[1:]:
        column.justify = "right"
    print_table(console, table)
    say(console, verdict(result))
    if out is not None:
        from rethink.run.folder import write_json

        path = out / "construct.json"
        write_json(path, result)
        say(console, f"wrote {path}")
