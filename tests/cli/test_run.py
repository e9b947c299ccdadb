"""`rethink run` end to end: real data, the run folder, resume, failures, bad input."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rethink.cli as cli
from rethink.data import source_digest
from rethink.run.folder import METRICS_COLUMNS, RunDir
from rethink.train.outcome import RESULT_KEYS
from tests.helpers.image_folders import write_image_folder

cli._register()
runner = CliRunner()
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
QUICK = ["--train-subset", "1000", "--test-subset", "1000", "--batch-size", "50", "--lr", "0.02"]


def rethink(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, [*args, "--backend", BACKEND])
    return result.exit_code, result.output


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_true_labels_learn_and_random_labels_are_memorized(
    cifar_archive: Path, tmp_path: Path
) -> None:
    data = ["--data", str(cifar_archive), "--out", str(tmp_path), "--quiet", *QUICK]
    code, out = rethink("run", "--model", "mlp_1x512", "--steps", "300", *data)
    assert code == 0, out
    true = RunDir(tmp_path / "mlp_1x512-true_labels-s0").result()
    assert true is not None and true["status"] == "completed"
    assert true["test_acc"] > 0.25  # chance is 0.10

    code, out = rethink(
        "run", "--model", "mlp_1x512", "--corruption", "random_labels", "--steps", "300", *data
    )
    assert code == 0, out
    rand = RunDir(tmp_path / "mlp_1x512-random_labels-s0").result()
    assert rand is not None
    assert rand["train_acc"] > 0.5  # memorized well above chance ...
    assert rand["test_acc"] < 0.16  # ... while the test split stays at chance

    # The run folder: every file, every column, every result field.
    run = RunDir(tmp_path / "mlp_1x512-true_labels-s0")
    assert {
        "spec.json",
        "env.json",
        "metrics.csv",
        "result.json",
        "checkpoint.npz",
        "model.keras",
    } <= {p.name for p in run.path.iterdir()}
    assert not run.progress_path.exists()
    rows = _rows(run.metrics_path)
    assert tuple(rows[0].keys()) == METRICS_COLUMNS
    assert int(rows[-1]["step"]) == 300
    assert set(RESULT_KEYS) <= set(true)
    spec = json.loads(run.spec_path.read_text())
    assert spec["steps"] == 300 and spec["learning_rate"] == 0.02 and spec["epochs"] is None
    env = run.env()
    assert env is not None and env["backend"] == BACKEND and env["device"]
    assert env["data_sha256"] == source_digest(cifar_archive)


@pytest.mark.slow
def test_ctrl_c_keeps_the_checkpoint_and_resume_matches_an_uninterrupted_run(
    cifar_archive: Path, tmp_path: Path
) -> None:
    args = [
        "--model",
        "mlp_1x512",
        "--steps",
        "400",
        "--log-every",
        "10",
        "--data",
        str(cifar_archive),
        *QUICK,
    ]
    base = [sys.executable, "-m", "rethink", "run", *args, "--backend", BACKEND, "--quiet"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    straight = subprocess.run(
        [*base, "--out", str(tmp_path / "a")], env=env, capture_output=True, text=True
    )
    assert straight.returncode == 0, straight.stderr[-2000:]

    out_b = tmp_path / "b"
    run = RunDir(out_b / "mlp_1x512-true_labels-s0")
    proc = subprocess.Popen(
        [*base, "--out", str(out_b)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.time() + 300
    while not run.checkpoint_path.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before it could be interrupted")
    assert proc.returncode == 130, err.decode()[-2000:]
    stopped = run.result()
    assert stopped is not None and stopped["status"] == "stopped"

    # The same command without --resume refuses to touch the folder.
    again = subprocess.run([*base, "--out", str(out_b)], env=env, capture_output=True, text=True)
    assert again.returncode == 2 and "--resume" in again.stderr

    resumed = subprocess.run(
        [*base, "--out", str(out_b), "--resume"], env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a = _rows(tmp_path / "a" / "mlp_1x512-true_labels-s0" / "metrics.csv")
    b = _rows(run.metrics_path)
    assert [r["step"] for r in a] == [r["step"] for r in b]
    for ra, rb in zip(a, b, strict=True):
        for key in ("lr", "train_loss", "train_acc", "test_loss", "test_acc"):
            if ra[key] == "":
                assert rb[key] == ""
            else:
                assert float(ra[key]) == pytest.approx(float(rb[key]), rel=1e-4, abs=1e-6), (
                    ra["step"],
                    key,
                )
    result = run.result()
    assert result is not None and result["status"] == "completed" and result["step"] == 400
    # Resuming a completed run changes nothing.
    before = run.result_path.read_bytes()
    done = subprocess.run(
        [*base, "--out", str(out_b), "--resume"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and run.result_path.read_bytes() == before


@pytest.mark.slow
def test_huge_learning_rate_ends_as_diverged(cifar_archive: Path, tmp_path: Path) -> None:
    code, out = rethink(
        "run", "--model", "mlp_1x512", "--steps", "200", "--train-subset", "1000", "--test-subset", "200",
        "--lr", "1e9", "--data", str(cifar_archive), "--out", str(tmp_path), "--quiet",
    )  # fmt: skip
    assert code == 1, out
    result = RunDir(tmp_path / "mlp_1x512-true_labels-s0").result()
    assert result is not None and result["status"] == "diverged"
    assert result["diverged_at_step"] is not None and result["step"] < 200
    # env.json says how the steps ran: natively on JAX and torch unless asked otherwise.
    env = json.loads((tmp_path / "mlp_1x512-true_labels-s0" / "env.json").read_text())
    assert env["loop"] == ("keras" if BACKEND == "tensorflow" else "native")
    assert env["engine"] == {"loop": "auto", "steps_per_execution": None, "torch_compile": "auto"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "resnet"], "unknown model 'resnet'; choose from inception, inception_no_bn"),
        (["--model", "mlp_1x512", "--corruption", "noise"], "'noise' is not one of 'true_labels'"),
        (["--model", "mlp_1x512", "--corruption", "partial_labels", "--level", "1.5"], "[0, 1]"),
        (["--model", "mlp_1x512", "--corruption", "partial_labels"], "needs a corruption level"),
        (["--model", "mlp_1x512", "--level", "0.5"], "partial_labels only"),
        (["--model", "mlp_1x512", "--steps", "0"], "steps must be positive"),
        (["--model", "mlp_1x512", "--batch-size", "-1"], "batch_size must be positive"),
        (["--model", "mlp_1x512", "--precision", "int8"], "'int8' is not one of 'float32'"),
        (["--model", "mlp_1x512", "--loop", "fast"], "'fast' is not one of 'auto', 'keras'"),
        (["--model", "mlp_1x512", "--torch-compile", "max"], "'max' is not one of 'auto', 'off'"),
        (["--model", "mlp_1x512", "--steps", "many"], "Invalid value for '--steps'"),
        (["--model", "mlp_1x512", "--steps-per-execution", "0"], "must be positive"),
        ([], "missing --model"),
        (
            ["--model", "mlp_1x512", "--weight-decay-layers", "conv"],
            "'conv' is not one of 'all', 'hidden_dense'",
        ),
        (
            ["--model", "alexnet", "--weight-decay-layers", "hidden_dense"],
            "give --weight-decay L > 0 too",
        ),
        (
            [
                "--model",
                "inception",
                "--weight-decay",
                "0.004",
                "--weight-decay-layers",
                "hidden_dense",
            ],
            "inception has no hidden dense layer",
        ),
    ],
)
def test_bad_settings_fail_before_any_work(args: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = rethink("run", *args, "--out", str(out))
    assert code == 2
    assert message in text
    assert len(text.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.slow
def test_train_subset_larger_than_the_data(tmp_path: Path, cifar_archive: Path) -> None:
    out = tmp_path / "out"
    code, text = rethink(
        "run",
        "--model",
        "mlp_1x512",
        "--train-subset",
        "60000",
        "--data",
        str(cifar_archive),
        "--out",
        str(out),
    )
    assert code == 2 and "larger than the 50000 training images" in text
    assert not out.exists()


def test_weight_decay_layers_reach_the_spec_and_the_run_id(tmp_path: Path) -> None:
    data = write_image_folder(tmp_path / "shapes", ("circle", "cross", "square"), (12, 12, 1))
    code, text = rethink(
        "run", "--model", "mlp_1x512", "--weight-decay", "0.004",
        "--weight-decay-layers", "hidden_dense", "--data", str(data), "--steps", "3",
        "--batch-size", "8", "--log-every", "3", "--no-save-model", "--quiet",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, text
    run = RunDir(tmp_path / "out" / "mlp_1x512-true_labels-wd0.004-hd-s0")
    spec = json.loads(run.spec_path.read_text())
    assert spec["weight_decay_layers"] == "hidden_dense" and spec["weight_decay"] == 0.004
    assert run.result()["status"] == "completed"
    assert run.checkpoint_path.exists()  # kept by default (an epoch ended at step 3)


def test_no_keep_checkpoint_removes_it_once_the_run_completed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a compact grid's workers do (RETHINK_KEEP_CHECKPOINT=0)."""
    data = write_image_folder(tmp_path / "shapes", ("circle", "cross", "square"), (12, 12, 1))
    monkeypatch.setenv("RETHINK_KEEP_CHECKPOINT", "0")
    code, text = rethink(
        "run", "--model", "mlp_1x512", "--data", str(data), "--steps", "3", "--batch-size", "8",
        "--log-every", "3", "--no-save-model", "--quiet", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, text
    run = RunDir(tmp_path / "out" / "mlp_1x512-true_labels-s0")
    assert run.result()["status"] == "completed" and run.metrics_path.exists()
    assert not run.checkpoint_path.exists()


def test_out_folder_that_is_a_file(tmp_path: Path) -> None:
    out = tmp_path / "file"
    out.write_text("x")
    code, text = rethink("run", "--model", "mlp_1x512", "--out", str(out))
    assert code == 2 and "is a file" in text
    assert out.read_text() == "x"


def test_missing_data_is_a_one_line_error(tmp_path: Path) -> None:
    code, text = rethink(
        "run",
        "--model",
        "mlp_1x512",
        "--data",
        str(tmp_path / "nope.tar.gz"),
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2 and "nope.tar.gz" in text
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_progress_without_a_terminal_is_plain_lines(cifar_archive: Path, tmp_path: Path) -> None:
    code, out = rethink(
        "run", "--model", "mlp_1x512", "--steps", "12", "--batch-size", "50", "--log-every", "4",
        "--train-subset", "500", "--test-subset", "100", "--data", str(cifar_archive), "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, out
    lines = [line for line in out.splitlines() if line.startswith("mlp_1x512-true_labels-s0 step")]
    assert lines and lines[-1].startswith("mlp_1x512-true_labels-s0 step 12/12")
    assert "test_acc" in lines[-1] and "\x1b[" not in out  # no terminal control codes


@pytest.mark.slow
def test_resuming_a_run_folder_of_rethink_0_1_keeps_its_penalty_and_crop(
    cifar_archive: Path, tmp_path: Path
) -> None:
    """A spec.json without a version (0.1) meant Keras's L2 coefficient and the padded crop."""
    from rethink.spec import RunSpec

    args = ["--model", "mlp_1x512", "--steps", "20", "--weight-decay", "5e-4", "--augment"]
    args += ["--data", str(cifar_archive), "--out", str(tmp_path), "--quiet", *QUICK]
    run = RunDir(tmp_path / "mlp_1x512-true_labels-wd0.0005-aug-s0")
    run.path.mkdir(parents=True)
    spec = RunSpec(
        model="mlp_1x512",
        steps=20,
        weight_decay=5e-4,
        augment=True,
        train_subset=1000,
        test_subset=1000,
        batch_size=50,
        learning_rate=0.02,
        data=str(cifar_archive),
    ).to_dict()
    for key in ("spec_version", "augment_crop", "eval_train_every"):
        del spec[key]  # as rethink 0.1 wrote it: a folder stopped before its first checkpoint
    run.spec_path.write_text(json.dumps(spec))
    code, out = rethink("run", *args)
    assert code == 2 and "already exists" in out
    code, out = rethink("run", *args, "--resume")
    assert code == 0, out
    stored = json.loads(run.spec_path.read_text())
    assert stored["spec_version"] == 1 and stored["augment_crop"] == "padded"
    assert stored["weight_decay"] == 5e-4
    result = run.result()
    assert result is not None and result["status"] == "completed" and result["format"] == 2


@pytest.mark.slow
def test_a_run_warns_when_its_backend_does_not_see_the_gpus(
    cifar_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100 (UUID: a)'\n")
    (tools / "nvidia-smi").chmod(0o755)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    code, out = rethink(
        "run", "--model", "mlp_1x512", "--steps", "2", "--data", str(cifar_archive),
        "--out", str(tmp_path / "out"), "--quiet", *QUICK,
    )  # fmt: skip
    assert code == 0, out
    assert out.count("warning: 1 NVIDIA GPU(s) visible") == 1
    assert RunDir(tmp_path / "out" / "mlp_1x512-true_labels-s0").env()["device"] == "CPU"
