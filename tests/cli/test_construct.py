"""`rethink construct` end to end: the table, the verdict, construct.json, one-line errors.

On a small image folder of CIFAR-10's classes and shape (fast), and on the real
CIFAR-10 (slow).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rethink.cli as cli
import rethink.cli.construct
from rethink.spec.datasets import CIFAR10_CLASSES
from tests.helpers.image_folders import write_image_folder

runner = CliRunner()
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 training and 30 test images of CIFAR-10's ten classes, 32x32x3."""
    root = tmp_path_factory.mktemp("data") / "tiny-cifar"
    return write_image_folder(root, CIFAR10_CLASSES, (32, 32, 3), 6, 3)


def rethink(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, ["construct", *args, "--backend", BACKEND])
    return result.exit_code, result.output


def test_construct_prints_the_table_and_writes_the_numbers(folder: Path, tmp_path: Path) -> None:
    code, out = rethink(
        "--data", str(folder), "--corruption", "random_labels", "--out", str(tmp_path)
    )
    assert code == 0, out
    assert "Theorem 1 network on cifar10, random_labels, seed 0" in out
    assert "3,012 = d + n + 10n" in out  # 2352 + 60 + 10 * 60
    assert "60 / 60" in out and "float64: every training label recovered (60 of 60)" in out
    assert f"wrote {tmp_path / 'construct.json'}" in out
    result = json.loads((tmp_path / "construct.json").read_text())
    assert result["corruption"] == "random_labels" and result["backend"] == BACKEND
    assert result["n"] == 60 and result["d"] == 2352 and result["outputs"] == 10
    assert result["weights"] == result["keras_weights"] == 2352 + 60 + 10 * 60
    assert result["recovered"] == 60 and result["n_test"] == 30


def test_no_keras_leaves_the_float32_column_empty(folder: Path) -> None:
    code, out = rethink("--data", str(folder), "--outputs", "label", "--no-keras")
    assert code == 0, out
    assert "2,472 = 2n + d" in out and "60 / 60" in out  # 2 * 60 + 2352
    row = next(line for line in out.splitlines() if "labels recovered" in line)
    assert row.rstrip(" │|").endswith("-")


def test_bad_input_is_one_line(folder: Path, tmp_path: Path) -> None:
    cases = [
        (["--data", str(tmp_path / "missing.tar.gz")], "no such file"),
        (["--data", str(folder), "--corruption", "noise"], "noise"),
        (["--data", str(folder), "--train-subset", "61"], "larger than"),
        (["--data", str(folder), "--outputs", "softmax"], "onehot, label"),
        (["--data", str(folder), "--bias-position", "1"], "between 0 and 1"),
        (["--data", str(folder), "--corruption", "partial_labels"], "corruption level"),
    ]
    for args, words in cases:
        code, out = rethink(*args)
        assert code == 2, out
        lines = out.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], out


@pytest.mark.slow
def test_construct_memorizes_random_labels_of_cifar10(cifar_archive: Path, tmp_path: Path) -> None:
    code, out = rethink(
        "--data", str(cifar_archive), "--corruption", "random_labels",
        "--train-subset", "500", "--test-subset", "500", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, out
    assert "7,852 = d + n + 10n" in out  # 2352 + 500 + 10 * 500
    assert "500 / 500" in out and "every training label recovered" in out
    result = json.loads((tmp_path / "construct.json").read_text())
    assert result["corruption"] == "random_labels" and result["backend"] == BACKEND
    assert result["n"] == 500 and result["d"] == 2352 and result["outputs"] == 10
    assert result["weights"] == result["keras_weights"] == 2352 + 500 + 10 * 500
    assert result["weights_2n_plus_d"] == 2 * 500 + 2352
    assert result["recovered"] == 500 and result["max_error"] < 1e-6
    assert result["test_acc"] < 0.2 and result["n_test"] == 500

    code, out = rethink(
        "--data", str(cifar_archive), "--outputs", "label", "--no-keras",
        "--train-subset", "300", "--test-subset", "300",
    )  # fmt: skip
    assert code == 0, out
    assert "2,952 = 2n + d" in out and "300 / 300" in out


@pytest.mark.slow
def test_a_subset_larger_than_cifar10_is_one_line(cifar_archive: Path) -> None:
    code, out = rethink("--data", str(cifar_archive), "--train-subset", "60000", "--no-keras")
    assert code == 2
    assert out.strip() == "error: train subset 60000 is larger than the 50000 training images"
