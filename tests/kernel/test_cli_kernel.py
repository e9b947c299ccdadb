"""`rethink kernel` end to end on real data: the table, the JSON, the figure, the refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rethink.cli as cli

cli._register()
runner = CliRunner()
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
SMALL = ["--train-subset", "300", "--test-subset", "200"]


def rethink(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, ["kernel", *args, "--backend", BACKEND])
    return result.exit_code, result.output


def test_a_sweep_writes_json_and_the_norm_figure(cifar_archive: Path, tmp_path: Path) -> None:
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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kernel", "laplace"], "unknown kernel"),
        (["--bandwidth", "0"], "bandwidth"),
        (["--levels", "0,x"], "bad corruption level 'x'"),
        (["--max-memory", "0.0001"], "too large: 300 training and 200 test points"),
    ],
)
def test_bad_input_is_one_line(cifar_archive: Path, args: list[str], message: str) -> None:
    code, output = rethink(*SMALL, *args, "--data", str(cifar_archive), "--quiet")
    assert code == 2
    assert message in output.replace("\n", " ")


def test_missing_data_is_one_line(tmp_path: Path) -> None:
    code, output = rethink(*SMALL, "--data", str(tmp_path / "nothing"), "--quiet")
    assert code == 2 and "error" in output


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
