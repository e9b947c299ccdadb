"""One run folder as numbers: a `RunSummary` per run and its loss curve.

    grid = load_grid(Path("output_3"))      # run folders -> Run (summary + loss curve)

Reads only the run folders (spec.json, metrics.csv, result.json, env.json), so
finished, partial (no result.json: status "incomplete"), diverged and crashed
runs, and runs from other machines, all summarize. Pure Python/NumPy; no Keras.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rethink.rundir import SPEC, RunDir, find_runs
from rethink.spec import RunSpec

INCOMPLETE = "incomplete"  # no result.json: still running, or killed without one
CHANCE_LOSS = math.log(10)  # cross-entropy of a uniform guess over 10 classes
START_LOSS = 0.9 * CHANCE_LOSS  # "the loss has started to drop": first row below this


@dataclass(frozen=True)
class RunSummary:
    """One run's settings and outcome; numbers are None where unknown (never NaN)."""

    run_id: str
    path: str
    model: str
    corruption: str
    level: float | None  # label-corruption level: 0 true, 1 random, p partial; None for pixels
    seed: int
    weight_decay: float
    augment: bool
    status: str  # result.json status, or "incomplete"
    step: int | None  # last step logged
    total_steps: int | None
    train_loss: float | None
    train_acc: float | None
    test_acc: float | None  # last evaluation
    steps_to_fit: int | None
    steps_to_loss: int | None
    first_drop_step: int | None  # first row with training loss below START_LOSS
    fit_threshold: float
    loss_threshold: float
    diverged_at_step: int | None
    wall_seconds: float | None
    images_per_s: float | None
    backend: str | None
    device: str | None
    error: str | None

    @property
    def randomization(self) -> str:
        return randomization_label(self.corruption, self.level)

    @property
    def plain(self) -> bool:
        """The randomization-test setting: no weight decay, no augmentation."""
        return self.weight_decay == 0 and not self.augment


@dataclass(frozen=True, eq=False)
class Run:
    """A run folder read: its summary and its training-loss curve (finite rows only)."""

    summary: RunSummary
    steps: np.ndarray
    train_loss: np.ndarray


@dataclass(frozen=True)
class Grid:
    path: Path
    runs: tuple[Run, ...]
    skipped: tuple[str, ...]  # run folders whose spec.json could not be read


def randomization_label(corruption: str, level: float | None = None) -> str:
    if corruption == "partial_labels":
        return f"partial labels p={level:g}" if level is not None else "partial labels"
    return corruption.replace("_", " ")


def label_level(spec: RunSpec) -> float | None:
    """The label-corruption level of Figure 1b/1c; None for pixel corruptions."""
    if spec.corruption == "true_labels":
        return 0.0
    if spec.corruption == "random_labels":
        return 1.0
    if spec.corruption == "partial_labels":
        return spec.level
    return None


def run_dirs(path: Path) -> list[RunDir]:
    """A run folder itself, the runs of a grid folder, or those of a folder of grids."""
    if (path / SPEC).is_file():
        return [RunDir(path)]
    runs = find_runs(path)
    if not runs and path.is_dir():
        for sub in sorted(p for p in path.iterdir() if p.is_dir()):
            runs += find_runs(sub)
    return runs


def load_grid(path: Path) -> Grid:
    runs, skipped = [], []
    for rd in run_dirs(path):
        spec = rd.spec()
        if spec is None:
            skipped.append(str(rd.path))
            continue
        rows = rd.metrics_rows()
        summary = summarize(rd, spec, rows)
        pairs = [(r["step"], r["train_loss"]) for r in rows if _finite(r.get("train_loss"))]
        pairs = [(s, v) for s, v in pairs if s is not None]
        steps = np.array([p[0] for p in pairs], dtype=float)
        losses = np.array([p[1] for p in pairs], dtype=float)
        runs.append(Run(summary, steps, losses))
    return Grid(path, tuple(runs), tuple(skipped))


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)


def _num(x: Any) -> float | None:
    return float(x) if _finite(x) else None


def _int(x: Any) -> int | None:
    return int(x) if _finite(x) else None


def _first_step(rows: Sequence[dict[str, float | None]], test: Any) -> int | None:
    for r in rows:
        if r.get("step") is not None and test(r):
            return _int(r["step"])
    return None


def _from_metrics(rows: Sequence[dict[str, float | None]], spec: RunSpec) -> dict[str, Any]:
    """The result.json numbers recomputed from metrics.csv (for runs without one)."""
    rows = [r for r in rows if r.get("step") is not None]
    last = rows[-1] if rows else {}
    tests = [r["test_acc"] for r in rows if _finite(r.get("test_acc"))]
    speeds = [v for v in (_num(r.get("images_per_s")) for r in rows) if v is not None]

    def acc_ok(r: dict[str, Any]) -> bool:
        return _finite(r.get("train_acc")) and r["train_acc"] >= spec.fit_threshold

    def loss_ok(r: dict[str, Any]) -> bool:
        return _finite(r.get("train_loss")) and r["train_loss"] <= spec.loss_threshold

    def bad(r: dict[str, Any]) -> bool:
        return r.get("train_loss") is not None and not _finite(r["train_loss"])

    return {
        "step": _int(last.get("step")),
        "train_loss": last.get("train_loss"),
        "train_acc": last.get("train_acc"),
        "test_acc": tests[-1] if tests else None,
        "steps_to_fit": _first_step(rows, acc_ok),
        "steps_to_loss": _first_step(rows, loss_ok),
        "diverged_at_step": _first_step(rows, bad),
        "wall_seconds": last.get("seconds"),
        "images_per_s": float(np.median(speeds)) if speeds else None,
    }


def _device_name(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("name") or value.get("kind") or value.get("type") or value
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value)


def summarize(
    rd: RunDir, spec: RunSpec, rows: Sequence[dict[str, float | None]] | None = None
) -> RunSummary:
    """One run's summary: result.json where it has a number, metrics.csv otherwise."""
    rows = rd.metrics_rows() if rows is None else rows
    result = rd.result() or {}
    env = rd.env() or {}
    derived = _from_metrics(rows, spec)

    def pick(key: str) -> Any:
        value = result.get(key)
        return value if value is not None else derived[key]

    try:
        total: int | None = spec.total_steps(spec.train_subset or 50_000)
    except AssertionError:
        total = None
    return RunSummary(
        run_id=spec.run_id,
        path=str(rd.path),
        model=spec.model,
        corruption=spec.corruption,
        level=label_level(spec),
        seed=spec.seed,
        weight_decay=spec.weight_decay,
        augment=spec.augment,
        status=str(result.get("status") or INCOMPLETE),
        step=_int(pick("step")),
        total_steps=total,
        train_loss=_num(pick("train_loss")),
        train_acc=_num(pick("train_acc")),
        test_acc=_num(pick("test_acc")),
        steps_to_fit=_int(pick("steps_to_fit")),
        steps_to_loss=_int(pick("steps_to_loss")),
        first_drop_step=_first_step(
            rows, lambda r: _finite(r.get("train_loss")) and r["train_loss"] <= START_LOSS
        ),
        fit_threshold=float(result.get("fit_threshold") or spec.fit_threshold),
        loss_threshold=float(result.get("loss_threshold") or spec.loss_threshold),
        diverged_at_step=_int(pick("diverged_at_step")),
        wall_seconds=_num(pick("wall_seconds")),
        images_per_s=_num(pick("images_per_s")),
        backend=env.get("backend"),
        device=_device_name(env.get("device")),
        error=result.get("error"),
    )
