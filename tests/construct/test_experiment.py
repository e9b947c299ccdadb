"""run_construct: data of the settings, prepared as a run's, measured, with their record."""

from __future__ import annotations

from pathlib import Path

import pytest

from rethink.construct import ConstructionError, ConstructSettings, run_construct
from rethink.spec.datasets import CIFAR10_CLASSES
from tests.helpers.image_folders import write_image_folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data") / "tiny-cifar"
    return write_image_folder(root, CIFAR10_CLASSES, (32, 32, 3), 6, 3)


def test_the_result_records_what_produced_it(folder: Path) -> None:
    settings = ConstructSettings(
        corruption="random_labels", seed=2, data=str(folder), on_backend=False
    )
    result = run_construct(settings)
    assert result["n"] == 60 and result["n_test"] == 30 and result["d"] == 28 * 28 * 3
    assert result["recovered"] == 60 and result["max_error"] < 1e-6
    assert (result["corruption"], result["level"], result["seed"]) == ("random_labels", None, 2)
    assert result["backend"] is None and "keras_recovered" not in result
    assert result["data"] == str(folder) and len(result["data_sha256"]) == 64
    assert result["dataset"]["name"] == "cifar10"  # CIFAR-10's classes and shape
    assert result["total_s"] >= result["load_s"] >= 0


def test_on_the_backend_the_keras_model_is_measured(folder: Path) -> None:
    import keras

    result = run_construct(ConstructSettings(data=str(folder), train_subset=20, outputs="label"))
    assert result["backend"] == keras.backend.backend()
    assert result["keras_weights"] == result["weights"] == 2 * 20 + 28 * 28 * 3


def test_data_that_cannot_be_read_or_do_not_fit_are_one_line(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ConstructionError, match="no such file"):
        run_construct(ConstructSettings(data=str(tmp_path / "missing"), on_backend=False))
    with pytest.raises(ConstructionError, match="larger than the 60 training images"):
        run_construct(ConstructSettings(data=str(folder), train_subset=61, on_backend=False))
