"""Stage 6, results: run folders read back as numbers, figures and a report.

    from rethink.results import load_grid, build_report
    grid = load_grid(Path("output_3"))           # Run: summary, curves, metrics rows
    report = build_report([r.summary for r in grid.runs], folder="output_3")
    grid = load_grids(["results/part1", "results/part3"], prefer="newer")  # one set
    report = build_report([r.summary for r in grid.runs], grid.sources, grid.skipped, grid.dropped)

From the bottom up: `summary` (one run folder -> `RunSummary`) and `loading`
(folders -> `Run`s in a `Grid`, duplicates across folders) read the run
folders; `protocol` checks runs against the paper's protocol; `comparisons`
sets their numbers beside each other and the paper's (slowdowns, Table 1,
Figure 1a); `claims` judges the paper's claims; `sources` says where the
runs came from; `report` assembles all of it into a `Report`, `tables` and
`render` write it as markdown, JSON or Rich tables. Beside them: `frames`
(pandas DataFrames, pandas imported when called), `figures` (the paper's
figures; matplotlib, imported only by `rethink.results.figures`), `compact`
and `tensorboard` (exports). Pure Python/NumPy; no Keras.
"""

from rethink.results.frames import metrics_frame, runs_frame
from rethink.results.loading import DuplicateRunError, Grid, Run, load_grid, load_grids
from rethink.results.report import Report, build_report
from rethink.results.summary import RunSummary

__all__ = [
    "DuplicateRunError",
    "Grid",
    "Report",
    "Run",
    "RunSummary",
    "build_report",
    "load_grid",
    "load_grids",
    "metrics_frame",
    "runs_frame",
]
