"""Your own model on the command line: `--model module:builder` or `--model file.py:builder`.

    outputs(models, "probabilities")      # --model-output, for the models of yours among them
    importable(spec.model)                # after the backend is chosen: the builder imports
    check_builds(specs, dataset, "jax")   # rethink grid: each builds, in a child process
    for_grid(specs, found, "jax", "logits", resumed)   # rethink grid: all of the above

Each problem is one line and exit code 2 before anything is written (the run's
own build, `rethink.run.execute.claim`, checks the output's shape for `rethink
run`). Keras is imported only by `importable` (the builder's module imports it)
and in the child of `check_builds`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rethink.cli import fail
from rethink.spec import RunSpec
from rethink.spec.architectures import is_custom
from rethink.spec.datasets import Dataset

if TYPE_CHECKING:
    from rethink.data.probe import Identified


def outputs(models: Iterable[str], output: str) -> None:
    """Say what the models of yours among `models` output (`--model-output`)."""
    from rethink.models.custom import configure

    mine = [m for m in models if is_custom(m)]
    if output != "logits" and not mine:
        fail(
            "--model-output is for a model of your own (--model module:builder or file.py:builder)"
        )
    for model in mine:
        try:
            configure(model, output=output)
        except ValueError as e:
            fail(str(e))


def importable(model: str) -> None:
    """Fail unless model `model` of yours imports and names a callable (Keras imported)."""
    if not is_custom(model):
        return
    from rethink.models.custom import ModelError, builder_of

    try:
        builder_of(model)
    except ModelError as e:
        fail(str(e))


def adopt_records(folder: Path | None) -> None:
    """A resumed grid's models of yours as its run folders recorded them (their output)."""
    from rethink.run.folder import find_runs
    from rethink.run.model import adopt_model

    for run in find_runs(folder) if folder is not None else []:
        try:
            adopt_model(run.path)
        except ValueError as e:
            fail(str(e))


def check_builds(specs: Sequence[RunSpec], dataset: Dataset | None, backend: str) -> None:
    """Fail unless every model of yours in `specs` builds for the data's input and class
    count and outputs one value per class: one child process per model (the grid's own
    process never imports Keras)."""
    from rethink.base.process import backend_env
    from rethink.models.custom import output_of

    if dataset is None:  # not identified here (a Ray cluster): the workers check
        return
    checked = set()
    for spec in specs:
        if not is_custom(spec.model) or (spec.model, spec.crop) in checked:
            continue
        checked.add((spec.model, spec.crop))
        shape = ",".join(str(d) for d in dataset.input_shape(spec.crop))
        argv = [sys.executable, "-m", "rethink.models.check", spec.model,
                output_of(spec.model), shape, str(dataset.num_classes)]  # fmt: skip
        done = subprocess.run(
            argv, env=backend_env(backend), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            fail(lines[-1] if lines else f"model {spec.model} failed to build")


def for_grid(
    specs: Sequence[RunSpec],
    found: Identified | None,
    backend: str,
    output: str,
    resumed: Path | None,
) -> None:
    """`rethink grid`'s models of yours, before it trains: their output (`--model-output`,
    or a resumed grid's records) and each built once for the data (`check_builds`)."""
    if resumed is not None:
        adopt_records(resumed)
    outputs([s.model for s in specs] if resumed is None or output != "logits" else [], output)
    check_builds(specs, found.dataset if found is not None else None, backend)
