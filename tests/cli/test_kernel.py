"""`rethink kernel` end to end: the printed table, the JSON, the figure, the refusals.

On a small image folder of CIFAR-10's classes and shape (fast), and on the real
CIFAR-10 (slow): the paper's number beside the measured one, JAX in float64.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rethink.cli as cli
import rethink.cli.kernel
from rethink.spec.datasets import CIFAR10_CLASSES
from tests.helpers.image_folders import write_image_folder

runner = CliRunner()
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
SMALL = ["--train-subset", "300", "--test-subset", "200"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 training and 50 test images of CIFAR-10's ten classes, 32x32x3."""
    root = tmp_path_factory.mktemp("data") / "tiny-cifar"
    return write_image_folder(root, CIFAR10_CLASSES, (32, 32, 3), 12, 5)


def rethink(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, ["kernel", *args, "--backend", BACKEND])
    return result.exit_code, result.output


def test_a_sweep_prints_rows_and_writes_json_and_the_norm_figure(
    folder: Path, tmp_path: Path
) -> None:
    code, output = rethink(
        "--levels", "0,1", "--data", str(folder), "--out", str(tmp_path), "--quiet"
    )
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].startswith("Gaussian kernel, bandwidth ")
    assert "120 training and 50 test images of cifar10" in lines[0]
    header = next(i for i, line in enumerate(lines) if line.startswith("labels  train err"))
    assert lines[header + 1].startswith("partial_labels p=0  0.0%  0.0%")
    assert "46.0%" in lines[header + 1]  # the paper's number beside the measured one
    assert lines[header + 2].startswith("partial_labels p=1  0.0%")
    report = json.loads((tmp_path / "kernel.json").read_text())
    assert [r["level"] for r in report["results"]] == [0.0, 1.0]
    assert report["results"][0]["train_error"] == 0.0
    assert report["settings"]["kernel"] == "gaussian" and report["n_train"] == 120
    assert report["settings"]["filters"] == 2000  # resolved for this CPU
    assert (tmp_path / "kernel_norm.png").stat().st_size > 0
    assert (tmp_path / "kernel_norm.pdf").stat().st_size > 0
    assert f"wrote {tmp_path / 'kernel_norm.pdf'}" in output


def test_progress_is_a_line_per_stage_off_a_terminal(folder: Path) -> None:
    code, output = rethink("--data", str(folder), "--train-subset", "50", "--test-subset", "20")
    assert code == 0, output
    assert "kernel: 2 steps" in output and "factorize: 1 steps" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kernel", "laplace"], "unknown kernel"),
        (["--bandwidth", "0"], "bandwidth"),
        (["--levels", "0,x"], "bad corruption level 'x'"),
        (["--levels", "0,2"], "levels must be in [0, 1], got 2.0"),
        (["--max-memory", "0"], "--max-memory must be positive"),
        (["--max-memory", "0.0001"], "too large: 120 training and 50 test points"),
        (["--train-subset", "500"], "larger than the 120 training images"),
        (["--kernel", "features", "--patch", "40"], "patch must be smaller"),
        (["--kernel", "features", "--design", "coates"], "unknown design 'coates'"),
        (["--kernel", "features", "--patch-source", "noise"], "unknown patch source"),
        (["--kernel", "features", "--feature-kernel", "poly"], "unknown feature kernel"),
        (["--kernel", "features", "--gamma", "-1"], "gamma must be a positive number"),
        (["--kernel", "features", "--zca-bias", "0"], "zca-bias must be a positive number"),
        (["--kernel", "features", "--threshold", "-1"], "threshold must be >= 0"),
        (["--kernel", "features", "--pool", "0"], "pool must be positive"),
        (["--kernel", "features", "--pool", "2", "--pool-window", "5"], "do not cover"),
        (["--bandwidth-scale", "0"], "bandwidth-scale must be a positive number"),
    ],
)
def test_bad_input_is_one_line(folder: Path, args: list[str], message: str) -> None:
    code, output = rethink(*args, "--data", str(folder), "--quiet")
    assert code == 2
    assert output.startswith("error:") and len(output.strip().splitlines()) == 1, output
    assert message in output.replace("\n", " ")


def test_the_patch_network_from_the_command_line(folder: Path, tmp_path: Path) -> None:
    """Every flag of the patch network reaches kernel.json; its state is saved beside it."""
    code, output = rethink(
        "--kernel", "features", "--filters", "16", "--crop", "8", "--patch", "4",
        "--pool", "2", "--pool-window", "3", "--threshold", "0.5", "--zca-bias", "0.2",
        "--feature-kernel", "gaussian", "--gamma", "0.5", "--lam", "1e-6",
        "--data", str(folder), "--out", str(tmp_path), "--quiet",
    )  # fmt: skip
    assert code == 0, output
    assert output.startswith("random features (patches): 16 filters 4x4, 128 features; Gaussian")
    assert "note: the ZCA is fitted on 120 training images of 192 dimensions" in output
    report = json.loads((tmp_path / "kernel.json").read_text())
    s = report["settings"]
    assert (s["design"], s["patch"], s["pool_window"], s["threshold"], s["zca_bias"]) == (
        "patches",
        4,
        3,
        0.5,
        0.2,
    )
    assert report["gamma"] == 0.5 and report["state_file"] == "kernel_features.npz"
    assert (tmp_path / "kernel_features.npz").stat().st_size > 0
    code, output = rethink(
        "--kernel", "features", "--design", "gaussian-filters", "--filters", "16",
        "--data", str(folder), "--quiet",
    )  # fmt: skip
    assert code == 0 and output.startswith("random features (gaussian-filters): 16 filters 5x5")


def test_missing_data_is_one_line(tmp_path: Path) -> None:
    code, output = rethink(*SMALL, "--data", str(tmp_path / "nothing"), "--quiet")
    assert code == 2 and output.startswith("error:") and "nothing" in output


@pytest.mark.slow
def test_a_sweep_on_cifar10_shows_the_papers_number(cifar_archive: Path, tmp_path: Path) -> None:
    code, output = rethink(
        *SMALL, "--levels", "0,1", "--data", str(cifar_archive), "--out", str(tmp_path), "--quiet"
    )
    assert code == 0, output
    assert "46.0%" in output  # the paper's number beside the measured one
    report = json.loads((tmp_path / "kernel.json").read_text())
    assert [r["level"] for r in report["results"]] == [0.0, 1.0]
    assert report["results"][0]["train_error"] == 0.0
    assert report["settings"]["kernel"] == "gaussian" and report["n_train"] == 300
    assert (tmp_path / "kernel_norm.png").stat().st_size > 0
    assert (tmp_path / "kernel_norm.pdf").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.requires_backend("jax")
def test_the_command_runs_jax_in_float64(cifar_archive: Path) -> None:
    """JAX has float64 only if x64 is on before it starts: the command turns it on."""
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    done = subprocess.run(
        [sys.executable, "-m", "rethink", "kernel", *SMALL, "--data", str(cifar_archive),
         "--backend", "jax", "--quiet", "--corruption", "random_labels"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "jax, float64" in done.stdout
    row = next(line for line in done.stdout.splitlines() if line.startswith("random_labels"))
    assert float(row.split()[6]) < 1e-9  # relative residual of an exact float64 solve
