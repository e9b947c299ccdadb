"""Training throughput of rethink's own training loop on synthetic data (`rethink bench`).

    from rethink.bench import BenchSpec, run, measure
    settings = BenchSpec(models=("mlp_3x512",), backends=("jax", "torch"))
    doc = run(settings)          # parent: one subprocess per backend -> JSON document
    rows = measure(settings)     # worker: KERAS_BACKEND already set, Keras imported here

The pieces: `settings` (BenchSpec: what to measure, checked once), `worker`
(one backend's process: synthetic data, the real training loop, time stamps
-> images/s, ms/step, compile time, peak memory), `estimates` (a paper run
and the paper grid from a speed), `runner` (the parent: a worker process per
backend, one document) and `table` (the rows as a Rich table).
`python -m rethink.bench SETTINGS OUT` is a worker. Importing this package
does not import Keras.
"""

from __future__ import annotations

from rethink.bench.estimates import PAPER_STEPS, add_grid_estimates, paper_grid
from rethink.bench.runner import FORMAT, run, run_backend
from rethink.bench.settings import BenchError, BenchSpec
from rethink.bench.worker import measure, measure_one, synthetic_data

__all__ = [
    "FORMAT",
    "PAPER_STEPS",
    "BenchError",
    "BenchSpec",
    "add_grid_estimates",
    "measure",
    "measure_one",
    "paper_grid",
    "run",
    "run_backend",
    "synthetic_data",
]
