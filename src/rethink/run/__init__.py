"""Stage 4, one run on disk: the run folder's format and executing a run into it.

    from rethink.run import execute, RunDir
    result, exit_code = execute(spec, Path("runs"), backend="jax")
    RunDir(Path("runs") / spec.run_id).metrics_rows()

`folder` is the self-describing run folder (spec.json, env.json,
metrics.csv, result.json, checkpoint.npz, progress.json) that plots and
reports read; `execute` checks the input, loads the data, trains with
`rethink.train` and writes the folder (exit codes 0, 1, 2, 130);
`progress` is the terminal display of one run; `environment` describes the
machine for env.json.
"""

from rethink.run.execute import EXIT_CODES, RunError, execute
from rethink.run.folder import METRICS_COLUMNS, MetricsWriter, RunDir, find_runs

__all__ = [
    "EXIT_CODES",
    "METRICS_COLUMNS",
    "MetricsWriter",
    "RunDir",
    "RunError",
    "execute",
    "find_runs",
]
