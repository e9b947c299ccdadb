"""A grid folder as pandas DataFrames, for notebooks.

    from rethink.results.frames import runs_frame, metrics_frame
    runs = runs_frame("output_3")          # one row per run: its settings and results
    rows = metrics_frame("output_3")       # every metrics.csv row, with its run's settings
    rows[rows.corruption == "random_labels"].pivot_table(
        index="step", columns="model", values="train_loss")
    runs = runs_frame(["results/part1", "results/part3"], prefer="newer")  # one set

Both read only the run folders (`rethink.results.loading.load_grid`), so a
grid still training, a crashed one, or one trained on other machines loads
the same. Column names are those of spec.json, result.json and metrics.csv;
`run_id` ties the two frames together. `dataset` names the data set a run
trained on (CIFAR-10 for folders that record none); `runs_frame` adds its
`num_classes` and `chance_error` (1 - 1/classes). Several folders load as one
set (`rethink.results.loading.load_grids`, `prefer` for a run in two of them);
`source` names the folder each run was found under.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rethink.results.loading import Grid, load_grids
from rethink.results.summary import RunSummary

if TYPE_CHECKING:
    import pandas as pd

# The settings repeated on every metrics row: what a plot groups or filters by.
RUN_KEYS = (
    "run_id",
    "dataset",
    "model",
    "corruption",
    "level",
    "seed",
    "weight_decay",
    "augment",
    "source",
)

GridSource = str | Path | Grid | Sequence[str | Path]  # what the frames read


def _grid(source: GridSource, prefer: str | None = None) -> Grid:
    """A loaded Grid as it is; a folder, or several, read as one set (`load_grids`)."""
    if isinstance(source, Grid):
        return source
    if isinstance(source, str | Path):
        return load_grids([source], prefer)
    return load_grids(source, prefer)


def _key(summary: RunSummary, key: str) -> Any:
    """A run's value for `key`; the data set by its name."""
    return summary.dataset.name if key == "dataset" else getattr(summary, key)


def _run_record(summary: RunSummary) -> dict[str, Any]:
    record = {
        f.name: _key(summary, f.name)
        for f in dataclasses.fields(summary)
        if f.name not in ("spec", "path")
    }
    record["num_classes"] = summary.dataset.num_classes
    record["chance_error"] = summary.dataset.chance_error
    record["randomization"] = summary.randomization
    record["path"] = summary.path
    # Every setting of the run, spec.json's keys, where the summary has no column of its name.
    for key, value in summary.spec.to_dict().items():
        if key not in record and not isinstance(value, dict | list):
            record[key] = value
    return record


def runs_frame(source: GridSource, prefer: str | None = None) -> pd.DataFrame:
    """One row per run folder: its settings (spec.json) and results (result.json, or
    what its metrics say so far), indexed by nothing; `run_id` names the run, `source`
    the folder it was found under. `source`: a folder, several, or a loaded Grid;
    `prefer`: "first" or "newer" for a run in two folders (else DuplicateRunError)."""
    import pandas as pd

    records = [_run_record(run.summary) for run in _grid(source, prefer).runs]
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return pd.DataFrame(columns=[f.name for f in dataclasses.fields(RunSummary)])
    return frame


def metrics_frame(source: GridSource, prefer: str | None = None) -> pd.DataFrame:
    """Every metrics.csv row of every run (windows and evaluations, as written), with
    the run's `RUN_KEYS` in front; missing values are NaN. `source`, `prefer`: as
    `runs_frame`'s."""
    import pandas as pd

    records = []
    for run in _grid(source, prefer).runs:
        s = run.summary
        keys = {k: _key(s, k) for k in RUN_KEYS}
        records += [{**keys, **row} for row in run.rows]
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return pd.DataFrame(columns=list(RUN_KEYS))
    numeric = [c for c in frame.columns if c not in RUN_KEYS]
    frame[numeric] = frame[numeric].apply(pd.to_numeric, errors="coerce")
    return frame


__all__ = ["RUN_KEYS", "metrics_frame", "runs_frame"]
