"""Fake grids shared by the results tests, summarized once per session (read only).

paper_summaries   the five randomizations of MLP 1x512 and AlexNet, two seeds, on the
                  paper's protocol (a grid that behaves like the paper's)
sweep_summaries   both models at five label-corruption levels, on the paper's protocol
smoke_summaries   the five randomizations at the smoke preset's settings, never fitted
two_parts         two folders of runs made on two machines (part1, part2)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rethink.results.summary import RunSummary
from tests.helpers.run_folders import (
    DAY,
    FIT_STEPS,
    PAPER,
    SMOKE,
    T0,
    level_sweep,
    machine_env,
    machine_part,
    randomization_grid,
    spec_for,
    summaries,
    write_run,
)

MODELS = ("mlp_1x512", "alexnet")
SEEDS = (0, 1)


@pytest.fixture(scope="session")
def paper_summaries(tmp_path_factory: pytest.TempPathFactory) -> list[RunSummary]:
    return summaries(randomization_grid(tmp_path_factory.mktemp("grid"), MODELS, SEEDS, **PAPER))


@pytest.fixture(scope="session")
def sweep_summaries(tmp_path_factory: pytest.TempPathFactory) -> list[RunSummary]:
    return summaries(level_sweep(tmp_path_factory.mktemp("sweep"), MODELS, **PAPER))


@pytest.fixture(scope="session")
def smoke_summaries(tmp_path_factory: pytest.TempPathFactory) -> list[RunSummary]:
    root = tmp_path_factory.mktemp("smoke")
    for model in MODELS:
        for corruption in FIT_STEPS:
            write_run(root, spec_for(model, corruption, **SMOKE), fit_step=None, test_acc=0.1)
    return summaries(root)


@pytest.fixture(scope="session")
def two_parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """part1 (mlp_1x512 on gpu-a, 1 March) and part2 (alexnet on gpu-b, 3 and 4 March)."""
    root = tmp_path_factory.mktemp("parts")
    a = machine_part(root / "part1", "mlp_1x512", "gpu-a")
    b = machine_part(
        root / "part2", "alexnet", "gpu-b", T0 + 2 * DAY, backend="torch", commit="fedcba9876"
    )
    write_run(b, spec_for("alexnet", "gaussian"), env=machine_env("gpu-b", T0 + 3 * DAY))
    return a, b
