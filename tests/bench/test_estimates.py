"""From a run's speed to the paper's grid: five runs of each model, per backend and precision."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rethink.bench import PAPER_STEPS, add_grid_estimates, paper_grid
from rethink.models import MODELS


def test_a_paper_run_is_25000_steps() -> None:
    assert PAPER_STEPS == 25_000


def test_paper_grid_is_five_runs_of_each_model_and_names_the_missing() -> None:
    rng = np.random.default_rng(0)
    runs = {m: float(rng.uniform(10, 1000)) for m in MODELS}
    total, missing = paper_grid(runs)
    assert total == pytest.approx(5 * sum(runs.values()))
    assert missing == []

    some = {m: runs[m] for m in MODELS[::2]}
    total, missing = paper_grid(some)
    assert total == pytest.approx(5 * sum(some.values()))
    assert sorted(missing) == sorted(set(MODELS) - set(some))


def test_grid_estimates_are_per_backend_and_precision() -> None:
    rows: list[dict[str, Any]] = [
        {"backend": "jax", "precision": "float32", "model": m, "paper_run_s": 100.0 + i}
        for i, m in enumerate(MODELS)
    ]
    rows.append(
        {"backend": "torch", "precision": "float32", "model": "mlp_1x512", "paper_run_s": 7.0}
    )
    rows.append(
        {"backend": "torch", "precision": None, "model": None, "paper_run_s": None, "error": "x"}
    )
    out = add_grid_estimates(rows)
    jax_rows = [r for r in out if r["backend"] == "jax"]
    assert len(jax_rows) == 5
    for r in jax_rows:
        assert r["paper_grid_s"] == pytest.approx(5 * sum(100.0 + i for i in range(5)))
        assert r["paper_grid_missing"] == []
    torch_row = next(r for r in out if r["backend"] == "torch" and r["model"] == "mlp_1x512")
    assert torch_row["paper_grid_s"] == pytest.approx(35.0)
    assert "mlp_1x512" not in torch_row["paper_grid_missing"]
    assert len(torch_row["paper_grid_missing"]) == len(MODELS) - 1
    assert "paper_grid_s" not in rows[0]  # the input is not modified
