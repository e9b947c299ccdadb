"""Issue 16 end to end: a data set of the user's own (3 classes of 20x20 grey PNGs)
through `rethink run`, a small grid, `rethink plot` and `rethink report`, on the
backend of this process (nox runs it on all three); and the one-line errors of a
folder that is not a data set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rethink
import rethink.cli as cli
from rethink.grid.record import read_record
from rethink.run.folder import RunDir
from tests.helpers.image_folders import write_image_folder

cli._register()
runner = CliRunner()
SRC = str(Path(rethink.__file__).resolve().parents[1])
CLASSES = ("circle", "cross", "square")


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 classes of 20x20 grey images, 8 per class to train on and 4 to test."""
    return write_image_folder(tmp_path_factory.mktemp("data") / "shapes", CLASSES, (20, 20, 1))


def rethink_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rethink", *args],
        env={**os.environ, "PYTHONPATH": SRC},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_run_on_an_image_folder_trains_for_its_classes_and_size(
    shapes: Path, tmp_path: Path
) -> None:
    proc = rethink_cli(
        "run", "--model", "mlp_1x512", "--corruption", "random_labels", "--data", str(shapes),
        "--steps", "12", "--batch-size", "8", "--log-every", "4", "--out", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    run = RunDir(tmp_path / "mlp_1x512-random_labels-s0")
    env = run.env()
    assert env["dataset"]["name"] == "shapes"
    assert env["dataset"]["classes"] == list(CLASSES)
    assert env["dataset"]["shape"] == [20, 20, 1]
    assert env["input_shape"] == [20, 20, 1]  # no crop: only CIFAR is cropped to 28
    assert env["data_images"] == [24, 12]  # the whole splits: 8 and 4 per class
    assert len(env["data_sha256"]) == 64
    result = run.result()
    assert result["status"] == "completed" and result["step"] == 12
    import keras

    model = keras.saving.load_model(run.path / "model.keras", compile=False)
    assert tuple(model.input_shape[1:]) == (20, 20, 1)
    assert model.output_shape[-1] == 3
    # Random labels over the data's 3 classes, not CIFAR-10's 10.
    from rethink.data import load
    from rethink.data.pipeline import prepare

    loaded = load(str(shapes))
    data = prepare(run.spec(), loaded.arrays, loaded.dataset)
    assert set(np.unique(data.y_train)) <= {0, 1, 2}
    assert data.x_train.shape == (24, 20, 20, 1)


def test_random_crops_of_a_centre_crop_train_on_every_backends_loop(
    shapes: Path, tmp_path: Path
) -> None:
    """--crop 16 --augment: 16x16 windows slide over the 20x20 images (the native
    steppers on jax and torch, the keras loop's NumPy crops on TensorFlow)."""
    proc = rethink_cli(
        "run", "--model", "alexnet", "--data", str(shapes), "--crop", "16", "--augment",
        "--steps", "6", "--batch-size", "8", "--log-every", "3", "--out", str(tmp_path),
        "--no-save-model",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    run = RunDir(tmp_path / "alexnet-true_labels-aug-s0")
    assert run.env()["input_shape"] == [16, 16, 1]
    assert run.spec().crop == 16
    result = run.result()
    assert result["status"] == "completed" and np.isfinite(result["train_loss"])


def test_a_smoke_grid_on_an_image_folder_then_plot_and_report(shapes: Path, tmp_path: Path) -> None:
    """`rethink grid --data my_images/ --preset smoke` (two models, two randomizations):
    the whole pipeline, with the folder's class count and chance level."""
    out = tmp_path / "grid"
    proc = rethink_cli(
        "grid", "--data", str(shapes), "--preset", "smoke", "--models", "mlp_1x512,alexnet",
        "--corruptions", "true_labels,random_labels", "--steps", "8", "--batch-size", "8",
        "--log-every", "4", "--jobs", "2", "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "shapes: 3 classes of 20x20x1 images" in proc.stdout
    assert "fewer than the preset's --train-subset 500" in proc.stdout
    rec = read_record(out)
    assert rec is not None and rec["dataset"]["name"] == "shapes" and len(rec["runs"]) == 4
    for run_id in rec["runs"]:
        run = RunDir(out / run_id)
        assert run.result()["status"] == "completed", run_id
        assert run.spec().train_subset == 24  # all of it, not the preset's 500
        assert run.env()["dataset"]["num_classes"] == 3

    plot = rethink_cli("plot", str(out))
    assert plot.returncode == 0, plot.stdout[-2000:] + plot.stderr[-2000:]
    assert (out / "figures" / "figure1a.png").stat().st_size > 1000

    report = rethink_cli("report", str(out))
    assert report.returncode == 0, report.stderr[-2000:]
    text = report.stdout
    assert "shapes" in text and "3 classes" in text
    assert "66.67%" in text  # chance: 1 - 1/3 test error
    # The preset's subsets cover the whole (small) data set: not protocol deviations.
    assert "24 training images" not in text and "250 test images" not in text
    assert "8 steps" in text  # while the short run is one
    as_json = rethink_cli("report", str(out), "--format", "json")
    assert as_json.returncode == 0, as_json.stderr[-2000:]
    runs = json.loads(as_json.stdout)["runs"]
    assert sorted(r["run_id"] for r in runs) == sorted(rec["runs"])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        ("one_class", "a data set needs two or more"),
        ("empty_class", "has no images"),
        ("mixed_sizes", "expected 20x20"),
        ("wrong_dataset", "not cifar10"),
        ("crop_too_large", "crop 24 does not fit"),
        ("window_without_room", "window random crop needs a crop smaller"),
    ],
)
def test_bad_data_is_one_line_exit_2_and_creates_nothing(
    make: str, message: str, tmp_path: Path
) -> None:
    root = tmp_path / "data"
    extra: list[str] = []
    if make == "one_class":
        write_image_folder(root, ("only",), (20, 20, 1), 2, 1)
    else:
        write_image_folder(root, CLASSES, (20, 20, 1), 2, 1)
    if make == "empty_class":
        (root / "train" / "empty").mkdir()
        (root / "test" / "empty").mkdir()
    if make == "mixed_sizes":
        write_image_folder(tmp_path / "big", ("circle",), (24, 20, 1), 1, 0)
        (tmp_path / "big" / "train" / "circle" / "0000.png").rename(
            root / "train" / "circle" / "9999.png"
        )
    if make == "wrong_dataset":
        extra = ["--dataset", "cifar10"]
    if make == "crop_too_large":
        extra = ["--crop", "24"]
    if make == "window_without_room":
        extra = ["--augment"]
    out = tmp_path / "runs"
    for command in (["run", "--model", "mlp_1x512"], ["grid", "--preset", "smoke"]):
        result = runner.invoke(
            cli.app, [*command, "--data", str(root), "--out", str(out), "--steps", "2", *extra]
        )
        assert result.exit_code == 2, (command, result.output)
        errors = [line for line in result.output.splitlines() if line.strip()]
        assert len(errors) == 1 and message in errors[0], (command, result.output)
        assert not out.exists(), command


def test_construct_and_kernel_take_the_same_folder(shapes: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        cli.app,
        ["construct", "--data", str(shapes), "--no-keras", "--corruption", "random_labels",
         "--out", str(tmp_path / "c")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Theorem 1 network on shapes" in result.output
    construct = json.loads((tmp_path / "c" / "construct.json").read_text())
    assert construct["dataset"]["name"] == "shapes" and construct["num_classes"] == 3
    assert construct["outputs"] == 3 and construct["d"] == 20 * 20 * 1
    assert construct["recovered"] == construct["n"] == 24

    result = runner.invoke(
        cli.app,
        ["kernel", "--data", str(shapes), "--levels", "0,1", "--quiet", "--out", str(tmp_path / "k")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "no paper numbers for shapes" in result.output
    kernel = json.loads((tmp_path / "k" / "kernel.json").read_text())
    assert kernel["dataset"]["name"] == "shapes" and kernel["n_train"] == 24
    for r in kernel["results"]:
        assert r["train_error"] == 0.0  # interpolates 3-class one-hot targets exactly
        assert r["paper_test_error"] is None  # the paper's 46% is CIFAR-10's


def test_the_example_writes_cifar10_classes_as_a_grey_image_folder(tmp_path: Path) -> None:
    """examples/image_folder_from_cifar10.py on a CIFAR-10-like folder: the folder it
    writes loads as a 2-class 32x32x1 data set named after it."""
    from rethink.data import load
    from rethink.spec.datasets import CIFAR10_CLASSES

    source = write_image_folder(tmp_path / "cifar", CIFAR10_CLASSES, (32, 32, 3), 3, 2)
    script = Path(__file__).resolve().parents[2] / "examples" / "image_folder_from_cifar10.py"
    out = tmp_path / "pets"
    proc = subprocess.run(
        [sys.executable, str(script), str(source), str(out), "--classes", "dog,cat", "--grey"],
        env={**os.environ, "PYTHONPATH": SRC},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = load(str(out))
    assert loaded.dataset.name == "pets" and loaded.dataset.classes == ("cat", "dog")
    assert loaded.dataset.shape == (32, 32, 1)
    assert [len(y) for _, y in loaded.arrays] == [6, 4]
