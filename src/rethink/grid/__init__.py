"""Stage 5, the grid: many runs (models x randomizations x levels x seeds) in one folder.

    from rethink.grid import PRESETS, select, expand, run_grid
    grid = select(PRESETS["smoke"], models=("mlp_1x512",))
    specs = expand(grid)                         # RunSpecs, one per run folder
    result = run_grid(grid, Path("output_1"), backend="jax")   # what `rethink grid` does

The modules, from what a grid is to how it trains:
`spec` (GridSpec, `select`, `expand`), `presets` (the named grids), `record`
(grid.json), `folder` (the grid folder's lifecycle and `run_grid`), `state`
(RunState, GridState: what the view shows), `launch` (worker processes, any
launcher of attempts), `executor` (the loop that trains the runs and never
loses one), `live` (the Rich live table and plain lines), `shipping` (run
files between machines) and `ray` (the same grid on a Ray cluster).
Importing the grid imports neither Keras nor Ray.
"""

from rethink.grid.folder import (
    GridFolderError,
    GridResult,
    auto_jobs,
    next_output_dir,
    run_grid,
)
from rethink.grid.presets import PRESET_HELP, PRESETS
from rethink.grid.record import GRID_JSON
from rethink.grid.spec import GridError, GridSpec, Variant, expand, select

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
