"""`rethink construct` end to end on real data, and its one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

import rethink.cli as cli

cli._register()
runner = CliRunner()
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def rethink(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, ["construct", *args, "--backend", BACKEND])
    return result.exit_code, result.output


def test_construct_memorizes_random_labels_and_writes_the_numbers(
    cifar_archive: Path, tmp_path: Path
) -> None:
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


def test_bad_input_is_one_line(cifar_archive: Path, tmp_path: Path) -> None:
    cases = [
        (["--data", str(tmp_path / "missing.tar.gz")], "no such file"),
        (["--data", str(cifar_archive), "--corruption", "noise"], "noise"),
        (["--data", str(cifar_archive), "--train-subset", "60000"], "larger than"),
        (["--data", str(cifar_archive), "--outputs", "softmax"], "onehot, label"),
        (["--data", str(cifar_archive), "--bias-position", "1"], "between 0 and 1"),
    ]
    for args, words in cases:
        code, out = rethink(*args)
        assert code == 2, out
        lines = out.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], out
