"""Training throughput of rethink's own training loop on synthetic data (`rethink bench`).

    settings = BenchSpec(models=("mlp_3x512",), backends=("jax", "torch"))
    doc = run(settings)          # parent: one subprocess per backend -> JSON document
    rows = measure(settings)     # worker: KERAS_BACKEND already set, Keras imported here

The worker drives `rethink.train.loop.train` itself (the code path of every real
run: `build_model`, `fit()` on NumPy arrays once per epoch, the metrics
callback with its per-step host reads) on random float32 images and labels,
with an observer that time-stamps every callback. From those stamps:

- compile_s: from calling `train()` to the end of the first executed step(s):
  model build, tracing/compilation and the first dispatch;
- ms_per_step, images_per_s: wall time between the first callback at or
  after step `warmup` and the last one (step `warmup + steps`, the callbacks
  come every steps_per_execution steps), steady state; if it crosses an
  epoch end (only when `images` is small) it includes what the real loop
  does there too: the next fit()'s setup and the test evaluation on a
  one-batch test split;
- paper_run_s: 25,000 steps (the paper's run length) at ms_per_step, compile
  excluded; paper_grid_s: the 25 runs of the "paper" grid preset (5 runs of
  each model) for the (backend, precision) — models not benchmarked are left
  out and named in `paper_grid_missing`, so the sum is then a lower bound;
- peak memory: peak RSS of the worker process on a CPU (all models so far,
  the data included), else the framework's peak device allocation.

Each backend runs in its own process (`python -m rethink.bench SETTINGS OUT`)
because Keras fixes its backend at import; a backend whose process fails
becomes an error row, not a crash.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rethink.base.backend import BACKENDS, installed
from rethink.base.frameworks import device_name, peak_memory, reset_peak_memory
from rethink.base.platform import host_info
from rethink.base.process import run_python
from rethink.data.pipeline import RunData
from rethink.models import MODELS
from rethink.spec import PRECISIONS, RunSpec
from rethink.train.observer import Observer
from rethink.train.steppers import Execution, ExecutionError

PAPER_STEPS = RunSpec(model=MODELS[0]).steps or 25_000  # the paper's run length
IMAGE_SHAPE = (28, 28, 3)
NUM_CLASSES = 10
FORMAT = 1


class BenchError(ValueError):
    """Settings that cannot describe a benchmark (unknown name, value out of range)."""


def _installed_backends() -> tuple[str, ...]:
    return tuple(b for b in BACKENDS if installed(b))


@dataclass(frozen=True)
class BenchSpec:
    """What to benchmark; defaults are sized for a GPU (see `tiny()` for CI)."""

    models: tuple[str, ...] = ("inception", "mlp_3x512")
    backends: tuple[str, ...] = field(default_factory=_installed_backends)
    precisions: tuple[str, ...] = ("float32",)
    batch_size: int = 128  # the paper's
    warmup: int = 50  # steps before the timed window (compilation, caches)
    steps: int = 300  # timed steps
    steps_per_execution: int | None = None  # most steps per dispatch; None: per loop/device
    images: int = 50_000  # synthetic training set: the paper's steps per epoch
    loop: str = "auto"  # keras, native or auto, as `rethink run --loop`
    torch_compile: str = "auto"  # as `rethink run --torch-compile`

    def __post_init__(self) -> None:
        for name, known in (
            ("model", MODELS),
            ("backend", BACKENDS),
            ("precision", PRECISIONS),
        ):
            chosen = getattr(self, name + "s")
            if not chosen:
                raise BenchError(f"no {name}s selected")
            for value in chosen:
                if value not in known:
                    raise BenchError(f"unknown {name} {value!r}; choose from {', '.join(known)}")
        for name in ("batch_size", "steps", "images"):
            if getattr(self, name) <= 0:
                raise BenchError(f"{name} must be positive, got {getattr(self, name)}")
        try:
            self.execution()
        except ExecutionError as e:
            raise BenchError(str(e)) from None
        if self.warmup < 1:
            raise BenchError(f"warmup must be at least 1 step, got {self.warmup}")
        if self.images < self.batch_size:
            raise BenchError(f"images ({self.images}) must hold one batch ({self.batch_size})")

    def execution(self) -> Execution:
        return Execution(self.loop, self.steps_per_execution, self.torch_compile)

    @classmethod
    def tiny(cls, **changes: Any) -> BenchSpec:
        """A few steps of the smallest model: seconds on a CPU, for CI."""
        base: dict[str, Any] = {
            "models": ("mlp_1x512",),
            "batch_size": 32,
            "warmup": 2,
            "steps": 5,
            "images": 256,
        }
        return cls(**{**base, **changes})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BenchSpec:
        fields: dict[str, Any] = dict(d)
        for name in ("models", "backends", "precisions"):
            if name in fields:
                fields[name] = tuple(fields[name])
        return cls(**fields)


# -- the worker (one process, one backend) ---------------------------------


class _Stamps(Observer):
    """An observer recording (step, time) at every training callback."""

    def __init__(self) -> None:
        self.stamps: list[tuple[int, float]] = []

    def on_progress(self, progress: dict[str, float | None]) -> None:
        self.stamps.append((int(progress["step"] or 0), time.perf_counter()))


def synthetic_data(settings: BenchSpec, seed: int = 0) -> RunData:
    """Random standard-normal images (like whitened CIFAR-10) and random labels."""
    rng = np.random.default_rng(seed)
    n, b = settings.images, settings.batch_size
    x = rng.standard_normal((n, *IMAGE_SHAPE), dtype=np.float32)
    y = rng.integers(0, NUM_CLASSES, size=n).astype(np.int32)
    return RunData(x_train=x, y_train=y, x_test=x[:b], y_test=y[:b])


def run_spec(settings: BenchSpec, model: str, precision: str) -> RunSpec:
    """The run the benchmark trains: the paper's protocol, warmup + steps long.

    Rows come every min(100, warmup) steps, so a chunk of the native loop
    ends at the warm-up's end: the timed window starts there.
    """
    return RunSpec(
        model=model,
        steps=settings.warmup + settings.steps,
        batch_size=settings.batch_size,
        precision=precision,
        log_every=min(100, settings.warmup),
    ).resolved(settings.images)


def window(stamps: Sequence[tuple[int, float]], warmup: int) -> tuple[int, float]:
    """(steps, seconds) from the first stamp at or after `warmup` to the last stamp."""
    after = [s for s in stamps if s[0] >= warmup]
    if len(after) < 2:
        raise RuntimeError(
            "too few timed steps for the steps per execution; raise --steps or lower --warmup"
        )
    (s0, t0), (s1, t1) = after[0], after[-1]
    return s1 - s0, t1 - t0


def measure_one(settings: BenchSpec, model: str, precision: str, data: RunData) -> dict[str, Any]:
    """Train one (model, precision) for warmup + steps and time it (see module doc)."""
    import keras

    from rethink.train.loop import train

    spec = run_spec(settings, model, precision)
    backend = keras.backend.backend()
    reset_peak_memory(backend)
    stamps = _Stamps()
    t0 = time.perf_counter()
    execution = settings.execution()
    outcome = train(spec, data, stamps, execution=execution)
    if outcome.status != "completed" or not stamps.stamps:
        raise RuntimeError(f"training {outcome.status} at step {outcome.step}")
    steps, seconds = window(stamps.stamps, settings.warmup)
    ms = 1000 * seconds / steps
    peak, peak_kind = peak_memory(backend)
    first_step, first_time = stamps.stamps[0]
    return {
        "model": model,
        "precision": precision,
        "batch_size": spec.batch_size,
        "loop": execution.loop_for(backend, precision),
        # The most steps between two callbacks: what one dispatch (or chunk) ran.
        "steps_per_execution": max(
            [b[0] - a[0] for a, b in itertools.pairwise(stamps.stamps)], default=first_step
        ),
        "timed_steps": steps,
        "images_per_s": spec.batch_size * steps / seconds,
        "ms_per_step": ms,
        # The first callback may come after several steps: their steady time is not compile.
        "compile_s": max(0.0, first_time - t0 - (first_step - 1) * ms / 1000),
        "peak_memory_bytes": peak,
        "peak_memory_kind": peak_kind,
        "paper_run_s": PAPER_STEPS * ms / 1000,
    }


def paper_grid(run_seconds: Mapping[str, float]) -> tuple[float, list[str]]:
    """Seconds of the "paper" grid preset's runs whose model has an estimate, and the rest.

    `run_seconds` maps a model to the seconds of one paper-length run.
    """
    from rethink.grid.spec import PRESETS, expand

    total, missing = 0.0, []
    for spec in expand(PRESETS["paper"]):
        if spec.model in run_seconds:
            total += run_seconds[spec.model] * (spec.steps or PAPER_STEPS) / PAPER_STEPS
        elif spec.model not in missing:
            missing.append(spec.model)
    return total, missing


def add_grid_estimates(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of `rows` with paper_grid_s / paper_grid_missing per (backend, precision)."""
    out = [dict(r) for r in rows]
    groups = {(r.get("backend"), r.get("precision")) for r in out}
    for group in groups:
        members = [r for r in out if (r.get("backend"), r.get("precision")) == group]
        runs = {r["model"]: r["paper_run_s"] for r in members if r.get("paper_run_s") is not None}
        total, missing = paper_grid(runs)
        for r in members:
            r["paper_grid_s"] = total if runs else None
            r["paper_grid_missing"] = missing
    return out


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

    from rethink.base.platform import describe_environment

    environment = describe_environment(backend)
    rows = measure(settings)
    write_json(out_path, {"environment": environment, "results": rows})
    return 0


# -- the parent: one subprocess per backend --------------------------------


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def run_backend(settings: BenchSpec, backend: str) -> dict[str, Any]:
    """Run the worker for one backend in a new process; never raises for its failure.

    Returns {"environment": ..., "results": [...], "error": None | "message"}.
    """
    with tempfile.TemporaryDirectory(prefix="rethink-bench-") as tmp:
        settings_path, out_path = Path(tmp, "settings.json"), Path(tmp, "out.json")
        settings_path.write_text(json.dumps(settings.to_dict()))
        proc = run_python(["-m", "rethink.bench", str(settings_path), str(out_path)], backend)
        if proc.returncode == 0 and out_path.is_file():
            doc = json.loads(out_path.read_text())
            return {"environment": doc["environment"], "results": doc["results"], "error": None}
    error = f"worker exited with code {proc.returncode}: {_last_line(proc.stderr + proc.stdout)}"
    rows = [{"backend": backend, "model": None, "precision": None, "error": error}]
    return {"environment": None, "results": rows, "error": error}


def run(settings: BenchSpec, argv: Sequence[str] = (), on_backend: Any = None) -> dict[str, Any]:
    """Every backend of `settings` in its own process; the JSON document of the bench.

    `on_backend(name)` is called before each backend starts (progress display).
    """
    started = datetime.now(UTC).isoformat(timespec="seconds")
    backends: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    for backend in settings.backends:
        if on_backend is not None:
            on_backend(backend)
        t0 = time.perf_counter()
        out = run_backend(settings, backend)
        backends[backend] = {
            "environment": out["environment"],
            "error": out["error"],
            "wall_s": round(time.perf_counter() - t0, 2),
        }
        results.extend(out["results"])
    return {
        "format": FORMAT,
        "date": started,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(argv),
        "host": host_info(),
        "settings": settings.to_dict(),
        "paper_steps": PAPER_STEPS,
        "backends": backends,
        "results": results,
    }


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
