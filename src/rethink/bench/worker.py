"""The worker: one process, one backend, every (model, precision) of a benchmark.

    python -m rethink.bench SETTINGS.json OUT.json    # KERAS_BACKEND set by the parent
    rows = measure(settings)                           # in a process whose backend is set

The worker drives `rethink.train.loop.train` itself (the code path of every
real run: `build_model`, the loop of `settings.loop`, the metrics with their
host reads) on random float32 images and labels of CIFAR-10's input shape,
with an observer that time-stamps every progress callback. From those stamps:

- compile_s: from calling `train()` to the end of the first executed step(s):
  model build, tracing/compilation and the first dispatch;
- ms_per_step, images_per_s: wall time between the first callback at or
  after step `warmup` and the last one (step `warmup + steps`; the callbacks
  come every steps_per_execution steps), steady state; if it crosses an
  epoch end (only when `images` is small) it includes what the real loop
  does there too: the next epoch's setup and the test evaluation on a
  one-batch test split;
- paper_run_s and the paper grid (`rethink.bench.estimates`);
- peak memory: peak RSS of the worker process on a CPU (all models so far,
  the data included), else the framework's peak device allocation.

A (model, precision) that fails becomes a row with `error` set.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rethink.base.frameworks import device_name, peak_memory, reset_peak_memory
from rethink.bench.estimates import PAPER_STEPS, add_grid_estimates
from rethink.bench.settings import BenchSpec
from rethink.data.pipeline import RunData
from rethink.spec import RunSpec
from rethink.spec.datasets import KNOWN
from rethink.train.observer import Observer

CIFAR10 = KNOWN["cifar10"]  # what the synthetic images stand for


class _Stamps(Observer):
    """An observer recording (step, time) at every training callback."""

    def __init__(self) -> None:
        self.stamps: list[tuple[int, float]] = []

    def on_progress(self, progress: dict[str, float | None]) -> None:
        self.stamps.append((int(progress["step"] or 0), time.perf_counter()))


def synthetic_data(settings: BenchSpec, seed: int = 0) -> RunData:
    """Random standard-normal images (like whitened CIFAR-10 at its centre crop) and
    random labels; the test split is one batch of them."""
    rng = np.random.default_rng(seed)
    n, b = settings.images, settings.batch_size
    x = rng.standard_normal((n, *CIFAR10.input_shape()), dtype=np.float32)
    y = rng.integers(0, CIFAR10.num_classes, size=n).astype(np.int32)
    return RunData(
        x_train=x, y_train=y, x_test=x[:b], y_test=y[:b], num_classes=CIFAR10.num_classes
    )


def run_spec(settings: BenchSpec, model: str, precision: str) -> RunSpec:
    """The run the benchmark trains: the paper's protocol, warmup + steps long.

    Rows come every min(100, warmup) steps, so a chunk of the native loop
    ends at the warm-up's end: the timed span starts there.
    """
    return RunSpec(
        model=model,
        steps=settings.warmup + settings.steps,
        batch_size=settings.batch_size,
        precision=precision,
        log_every=min(100, settings.warmup),
    ).resolved(settings.images)


def timed_span(stamps: Sequence[tuple[int, float]], warmup: int) -> tuple[int, float]:
    """(steps, seconds) from the first stamp at or after `warmup` to the last stamp."""
    after = [s for s in stamps if s[0] >= warmup]
    if len(after) < 2:
        raise RuntimeError(
            "too few timed steps for the steps per execution; raise --steps or lower --warmup"
        )
    (s0, t0), (s1, t1) = after[0], after[-1]
    return s1 - s0, t1 - t0


def measure_one(settings: BenchSpec, model: str, precision: str, data: RunData) -> dict[str, Any]:
    """Train one (model, precision) for warmup + steps and time it (see the module doc)."""
    import keras

    from rethink.train.loop import train

    spec = run_spec(settings, model, precision)
    backend = keras.backend.backend()
    reset_peak_memory(backend)
    stamps = _Stamps()
    t0 = time.perf_counter()
    execution = settings.execution()
    k = settings.pack
    if k > 1:  # K runs of other seeds and data in one step; lane 0's stamps time them all
        outcome = _train_pack(settings, spec, data, stamps, execution)
    else:
        outcome = train(spec, data, stamps, execution=execution)
    if outcome.status != "completed" or not stamps.stamps:
        raise RuntimeError(f"training {outcome.status} at step {outcome.step}")
    steps, seconds = timed_span(stamps.stamps, settings.warmup)
    ms = 1000 * seconds / steps
    peak, peak_kind = peak_memory(backend)
    first_step, first_time = stamps.stamps[0]
    return {
        "model": model,
        "precision": precision,
        "batch_size": spec.batch_size,
        "loop": execution.loop_for(backend, precision) + (f" x{k}" if k > 1 else ""),
        "pack": k,
        # The most steps between two callbacks: what one dispatch (or chunk) ran.
        "steps_per_execution": max(
            [b[0] - a[0] for a, b in itertools.pairwise(stamps.stamps)], default=first_step
        ),
        "timed_steps": steps,
        "images_per_s": k * spec.batch_size * steps / seconds,  # all runs of a pack
        "ms_per_step": ms,
        # The first callback may come after several steps: their steady time is not compile.
        "compile_s": max(0.0, first_time - t0 - (first_step - 1) * ms / 1000),
        "peak_memory_bytes": peak,
        "peak_memory_kind": peak_kind,
        "paper_run_s": PAPER_STEPS * ms / 1000 / k,  # a run's share of its pack
    }


def _train_pack(
    settings: BenchSpec, spec: RunSpec, data: RunData, stamps: Observer, execution: Any
) -> Any:
    """Train `settings.pack` runs as one pack (rethink.train.pack); lane 0's outcome."""
    import dataclasses

    from rethink.train.pack import PackedRun, train_packed

    runs = [PackedRun(spec, data, stamps)] + [
        PackedRun(dataclasses.replace(spec, seed=i), synthetic_data(settings, seed=i))
        for i in range(1, settings.pack)
    ]
    outcomes = train_packed(runs, execution)
    for got in outcomes:
        if isinstance(got, BaseException):
            raise got
    return outcomes[0]


def measure(settings: BenchSpec) -> list[dict[str, Any]]:
    """Benchmark every (model, precision) on this process's backend; one row each.

    A (model, precision) that fails becomes a row with `error` set.
    """
    import keras

    backend = keras.backend.backend()
    device = device_name(backend)
    data = synthetic_data(settings)
    rows = []
    for model in settings.models:
        for precision in settings.precisions:
            row: dict[str, Any] = {"backend": backend, "device": device}
            try:
                row.update(measure_one(settings, model, precision, data))
                row["error"] = None
            except Exception as e:
                row.update(model=model, precision=precision, error=f"{type(e).__name__}: {e}")
            rows.append(row)
            keras.backend.clear_session()
            gc.collect()
    return add_grid_estimates(rows)


def worker_main(argv: Sequence[str]) -> int:
    """`python -m rethink.bench SETTINGS.json OUT.json`, KERAS_BACKEND set by the parent."""
    from rethink.base.backend import select
    from rethink.run.folder import write_json

    settings_path, out_path = Path(argv[0]), Path(argv[1])
    settings = BenchSpec.from_dict(json.loads(settings_path.read_text()))
    backend, _ = select(os.environ.get("KERAS_BACKEND"))
    import keras  # noqa: F401  (fixes the backend before describe_environment() and training)

    from rethink.base.frameworks import float32_precision
    from rethink.base.platform import describe_environment

    float32_precision(backend, apply=True)  # as training sets it, before describing
    environment = describe_environment(backend)
    rows = measure(settings)
    write_json(out_path, {"environment": environment, "results": rows})
    return 0
