"""From one run's speed to the paper's: a paper-length run and the "paper" grid preset.

    PAPER_STEPS                           # 25,000: the paper's run length (Figure 1a)
    total, missing = paper_grid({"mlp_1x512": 120.0, "inception": 900.0})
    rows = add_grid_estimates(rows)       # paper_grid_s, paper_grid_missing per row

A row's `paper_run_s` is PAPER_STEPS at its steady ms/step, compile excluded.
`paper_grid_s` sums the runs of the "paper" grid preset (5 runs of each model)
for the row's (backend, precision); models not benchmarked are left out and
named in `paper_grid_missing`, so the sum is then a lower bound. Pure Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rethink.models import MODELS
from rethink.spec import RunSpec

PAPER_STEPS = RunSpec(model=MODELS[0]).steps or 25_000  # a run's default length


def paper_grid(run_seconds: Mapping[str, float]) -> tuple[float, list[str]]:
    """Seconds of the "paper" grid preset's runs whose model has an estimate, and the rest.

    `run_seconds` maps a model to the seconds of one paper-length run.
    """
    from rethink.grid.presets import PRESETS
    from rethink.grid.spec import expand

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
