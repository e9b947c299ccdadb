"""A grid folder as pandas DataFrames, for notebooks.

    from rethink.results.frames import runs_frame, metrics_frame
    runs = runs_frame("output_3")          # one row per run: its settings and results
    rows = metrics_frame("output_3")       # every metrics.csv row, with its run's settings
    rows[rows.corruption == "random_labels"].pivot_table(
        index="step", columns="model", values="train_loss")

Both read only the run folders (`rethink.results.summary.load_grid`), so a
grid still training, a crashed one, or one trained on other machines loads
the same. Column names are those of spec.json, result.json and metrics.csv;
`run_id` ties the two frames together. `dataset` names the data set a run
trained on (CIFAR-10 for folders that record none); `runs_frame` adds its
`num_classes` and `chance_error` (1 - 1/classes).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rethink.results.summary import Grid, RunSummary, load_grid

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
)


def _grid(source: str | Path | Grid) -> Grid:
    return source if isinstance(source, Grid) else load_grid(Path(source))


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


def runs_frame(source: str | Path | Grid) -> pd.DataFrame:
    """One row per run folder: its settings (spec.json) and results (result.json, or
    what its metrics say so far), indexed by nothing; `run_id` names the run."""
    import pandas as pd

    records = [_run_record(run.summary) for run in _grid(source).runs]
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return pd.DataFrame(columns=[f.name for f in dataclasses.fields(RunSummary)])
    return frame


def metrics_frame(source: str | Path | Grid) -> pd.DataFrame:
    """Every metrics.csv row of every run (windows and evaluations, as written), with
    the run's `RUN_KEYS` in front; missing values are NaN."""
    import pandas as pd

    records = []
    for run in _grid(source).runs:
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
