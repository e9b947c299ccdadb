"""Stage 5, the grid: many runs (models x randomizations x levels x seeds) in one folder.

    from rethink.grid import PRESETS, select, expand
    grid = select(PRESETS["smoke"], models=("mlp_1x512",))
    specs = expand(grid)                         # RunSpecs, one per run folder
    result = run_grid(grid, Path("output_1"), backend="jax")   # what `rethink grid` does

`spec` is what a grid is (GridSpec, presets, grid.json), `folder` the grid
folder's lifecycle (checks, lock, grid.json) and `run_grid`, `executor` trains
its runs as worker processes and never loses one, `live` is the Rich live
table, `shipping` moves run files between machines, and `ray` runs the same
grid on a Ray cluster.
"""

from rethink.grid.folder import GridFolderError, GridResult, auto_jobs, run_grid
from rethink.grid.spec import (
    GRID_JSON,
    PRESET_HELP,
    PRESETS,
    GridError,
    GridSpec,
    Variant,
    expand,
    next_output_dir,
    select,
)

__all__ = [
    "GRID_JSON",
    "PRESETS",
    "PRESET_HELP",
    "GridError",
    "GridFolderError",
    "GridResult",
    "GridSpec",
    "Variant",
    "auto_jobs",
    "expand",
    "next_output_dir",
    "run_grid",
    "select",
]
