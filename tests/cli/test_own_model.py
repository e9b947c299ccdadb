"""`--model module:builder` and `--model file.py:builder` end to end: run, resume, grid,
report, model.keras, and every bad builder refused before anything is written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from typer.testing import CliRunner

import rethink.cli as cli
from rethink.models import load, register, unregister
from rethink.run.execute import execute
from rethink.run.folder import RunDir
from rethink.spec import RunSpec
from tests.helpers.image_folders import write_image_folder
from tests.models.test_custom import BAD, write_bad_builders

cli._register()
runner = CliRunner()
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
SRC = str(Path(__file__).resolve().parents[2] / "src")
ROOT = str(Path(__file__).resolve().parents[2])
# 3 classes of 8x8 images, 8 training images each: 3 steps of 8 per epoch.
TINY = ["--steps", "6", "--batch-size", "8", "--log-every", "3", "--quiet"]
FILE_BUILDER = """
import keras

def small(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Dense(num_classes)(x), name="small")
"""


def tiny(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    """The test module's builder: flatten, 16 ReLUs, logits."""
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Dense(num_classes)(x), name="tiny")


def tiny_softmax(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, x)


@pytest.fixture
def images(tmp_path: Path) -> Path:
    return write_image_folder(tmp_path / "three", ["a", "b", "c"], (8, 8, 3))


def rethink(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, [*args, "--backend", BACKEND])
    return result.exit_code, result.output


def only_run(out: Path) -> RunDir:
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return RunDir(folder)


def test_a_builder_in_a_test_module_trains_and_records_itself(images: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    model = f"{__name__}:tiny"
    code, text = rethink("run", "--model", model, "--data", str(images), "--out", str(out), *TINY)
    assert code == 0, text
    run = only_run(out)
    assert run.path.name.startswith("tiny-") and run.path.name.endswith("-true_labels-s0")
    assert run.result()["status"] == "completed"
    spec = run.spec()
    assert spec is not None and spec.model == model and spec.learning_rate == 0.01
    record = json.loads((run.path / "model.json").read_text())
    assert record["kind"] == "module" and record["builder"] == model
    assert not (run.path / "model.py").exists()  # a module is imported, not copied
    env = run.env()
    assert env["model_parameters"] == 8 * 8 * 3 * 16 + 16 + 16 * 3 + 3
    assert env["model_summary"].startswith("tiny: ") and "(8, 8, 3) -> (3,)" in env["model_summary"]


def test_a_file_builder_resumes_from_its_copy_and_its_model_loads(
    images: Path, tmp_path: Path
) -> None:
    source = tmp_path / "mine" / "nets.py"
    source.parent.mkdir()
    source.write_text(FILE_BUILDER)
    out = tmp_path / "runs"
    code, text = rethink(
        "run", "--model", f"{source}:small", "--corruption", "random_labels",
        "--data", str(images), "--out", str(out), *TINY,
    )  # fmt: skip
    assert code == 0, text
    run = only_run(out)
    first = run.result()
    record = json.loads((run.path / "model.json").read_text())
    assert record["kind"] == "file" and record["source"] == "model.py"
    assert (run.path / "model.py").read_text() == FILE_BUILDER
    predictions = load(run.path).predict(np.zeros((2, 8, 8, 3), "float32"), verbose=0)
    assert predictions.shape == (2, 3)

    # The original file is gone: --resume builds the model from the run folder's copy.
    shutil.rmtree(source.parent)
    run.result_path.unlink()
    (run.path / "model.keras").unlink()
    code, text = rethink("run", "--spec", str(run.spec_path), "--out", str(out), "--resume")
    assert code == 0, text
    again = run.result()
    assert again["status"] == "completed" and again["test_acc"] == first["test_acc"]

    # A copy that is not the recorded file is refused, naming it.
    (run.path / "model.py").write_text(FILE_BUILDER + "\n# edited\n")
    run.result_path.unlink()
    code, text = rethink("run", "--spec", str(run.spec_path), "--out", str(out), "--resume")
    assert code == 2 and "sha256 differs" in text


def test_a_probabilities_model_trains_and_records_it(images: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    code, text = rethink(
        "run", "--model", f"{__name__}:tiny_softmax", "--model-output", "probabilities",
        "--data", str(images), "--out", str(out), *TINY,
    )  # fmt: skip
    assert code == 0, text
    run = only_run(out)
    assert json.loads((run.path / "model.json").read_text())["output"] == "probabilities"
    assert np.isfinite(run.result()["train_loss"])
    code, text = rethink("run", "--model", "mlp_1x512", "--model-output", "probabilities")
    assert code == 2 and "--model-output is for a model of your own" in text


def test_a_registered_model_is_rebuilt_elsewhere_from_the_run_folder(
    images: Path, tmp_path: Path
) -> None:
    register("tiny-api", tiny, learning_rate=0.02)
    try:
        spec = RunSpec(model="tiny-api", data=str(images), steps=3, batch_size=8, log_every=3)
        result, code = execute(spec, tmp_path / "runs", backend=BACKEND)
    finally:
        unregister("tiny-api")
    assert code == 0, result
    run = RunDir(tmp_path / "runs" / "tiny-api-true_labels-s0")
    assert json.loads((run.path / "model.json").read_text())["kind"] == "registered"
    assert (run.path / "model.py").read_text() == Path(__file__).read_text()
    # Another process, where nothing is registered, reads the run and resumes it.
    run.result_path.unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "rethink", "run", "--spec", str(run.spec_path),
         "--out", str(run.path.parent), "--resume", "--quiet", "--backend", BACKEND],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([SRC, ROOT])},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert run.result()["status"] == "completed" and run.spec().lr == 0.02


@pytest.mark.parametrize("case", sorted(BAD))
def test_every_bad_model_is_one_line_exit_2_and_nothing_written(
    case: str, images: Path, tmp_path: Path
) -> None:
    write_bad_builders(tmp_path)
    reference, message = BAD[case]
    out = tmp_path / "runs"
    code, text = rethink(
        "run", "--model", reference.format(tmp=tmp_path), "--data", str(images),
        "--out", str(out), *TINY,
    )  # fmt: skip
    assert code == 2, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), text
    assert re.search(message.format(tmp=tmp_path), " ".join(text.split())), text
    assert not out.exists()


@pytest.mark.slow
def test_a_grid_of_a_file_model_trains_in_worker_processes_then_reports(
    images: Path, tmp_path: Path
) -> None:
    source = tmp_path / "nets.py"
    source.write_text(FILE_BUILDER)
    out = tmp_path / "grid"
    env = {**os.environ, "PYTHONPATH": SRC}
    grid = [sys.executable, "-m", "rethink", "grid", "--backend", BACKEND, "--data", str(images)]
    bad = subprocess.run(
        [*grid, "--model", f"{source}:nothing", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2 and "has no nothing" in bad.stderr and not out.exists()
    proc = subprocess.run(
        [*grid, "--preset", "smoke", "--model", f"{source}:small", "--out", str(out),
         "--corruptions", "true_labels,random_labels", "--steps", "6", "--batch-size", "8",
         "--log-every", "3", "--jobs", "2"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = sorted(p for p in out.iterdir() if (p / "spec.json").is_file())
    assert len(runs) == 2
    for path in runs:
        assert RunDir(path).result()["status"] == "completed"
        assert (path / "model.py").read_text() == FILE_BUILDER
        assert RunDir(path).env()["model_parameters"] > 0
    report = subprocess.run(
        [sys.executable, "-m", "rethink", "report", str(out), "--format", "json"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr[-2000:]
    rows = json.loads(report.stdout)["runs"]
    assert {r["model"] for r in rows} == {f"{source}:small"}
    assert all(r.get("paper_train_acc") is None for r in rows)
