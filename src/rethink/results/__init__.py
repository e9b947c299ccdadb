"""Stage 6, results: run folders read back as numbers, figures and a report.

    from rethink.results import load_grid, build_report
    grid = load_grid(Path("output_3"))           # Run: summary, curves, metrics rows
    report = build_report([r.summary for r in grid.runs], folder="output_3")
    grid = load_grids(["results/part1", "results/part3"], prefer="newer")  # one set
    report = build_report([r.summary for r in grid.runs], grid.sources, grid.skipped, grid.dropped)

`summary` reads run folders (pure Python/NumPy), `frames` loads them into
pandas DataFrames (pandas imported when called), `report` compares them with
the paper and judges its claims, `render` writes the report as markdown,
JSON or Rich tables, `figures` draws the paper's figures (matplotlib,
imported only by `rethink.results.figures`).
"""

from rethink.results.frames import metrics_frame, runs_frame
from rethink.results.report import Report, build_report
from rethink.results.summary import (
    DuplicateRunError,
    Grid,
    Run,
    RunSummary,
    load_grid,
    load_grids,
)

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
