"""Fake grids read as Runs, shared by the figure tests (read only).

grid            the five randomizations of MLP 1x512 and AlexNet, two seeds
with_inception  ... of MLP 1x512, Inception and AlexNet, one seed
sweep           both models at five label-corruption levels, two seeds
unfitted        MLP 1x512 where only the true labels reach 100%
fig2            both Inceptions on true labels, two seeds, and runs Figure 2(b) leaves out
"""

from __future__ import annotations

import pytest

from rethink.results.loading import Run, load_grid
from tests.helpers.run_folders import level_sweep, randomization_grid, spec_for, write_run
from tests.results.figures.grids import FIG2B_BEST, FIG2B_FINAL, MODELS


@pytest.fixture(scope="session")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, ...]:
    return load_grid(randomization_grid(tmp_path_factory.mktemp("grid"), MODELS, (0, 1))).runs


@pytest.fixture(scope="session")
def with_inception(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, ...]:
    root = tmp_path_factory.mktemp("inception")
    return load_grid(randomization_grid(root, ("mlp_1x512", "inception", "alexnet"), (0,))).runs


@pytest.fixture(scope="session")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, ...]:
    return load_grid(level_sweep(tmp_path_factory.mktemp("sweep"), MODELS, seeds=(0, 1))).runs


@pytest.fixture(scope="session")
def unfitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, ...]:
    """MLP 1x512 at the paper's protocol: only the true labels reach 100%.

    Level 0.5 gets to 99% (its accuracy climbs towards 100% at step 3000,
    past the 2400-step budget); level 1 never gets near.
    """
    root = tmp_path_factory.mktemp("unfitted")
    write_run(root, spec_for("mlp_1x512", "true_labels"), fit_step=600)
    write_run(root, spec_for("mlp_1x512", "partial_labels", level=0.5), fit_step=3000)
    write_run(root, spec_for("mlp_1x512", "random_labels"), plateau=700, fit_step=None)
    return load_grid(root).runs


@pytest.fixture(scope="session")
def fig2(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, ...]:
    """Both Inceptions on true labels, two seeds; w/o BatchNorm peaks half-way, then falls."""
    root = tmp_path_factory.mktemp("fig2")
    for model, test in FIG2B_FINAL.items():
        for seed in (0, 1):
            fit = 600 if model == "inception" else 1200
            spec = spec_for(model, "true_labels", seed)
            write_run(
                root,
                spec,
                fit_step=fit + 100 * seed,
                test_acc=test,
                best_test_acc=FIG2B_BEST[model],
            )
    # Runs Figure 2(b) leaves out: weight decay, random labels, another model.
    write_run(root, spec_for("inception", "true_labels", weight_decay=5e-4), test_acc=0.2)
    write_run(root, spec_for("inception_no_bn", "random_labels"), test_acc=0.1)
    write_run(root, spec_for("alexnet", "true_labels"), test_acc=0.3)
    return load_grid(root).runs
