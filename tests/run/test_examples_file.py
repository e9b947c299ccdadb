"""examples.npz in a run folder survives kill -9: the resumed run writes the arrays of an
uninterrupted one (the history is checkpointed with the model at epoch ends)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rethink.run.folder import RunDir

BACKEND = os.environ.get("KERAS_BACKEND", "jax")
RUN = "mlp_1x512-partial_labels-p0.5-s0"


@pytest.mark.slow
def test_kill_9_and_resume_give_the_history_of_an_uninterrupted_run(
    cifar_archive: Path, tmp_path: Path
) -> None:
    base = [
        sys.executable, "-m", "rethink", "run", "--model", "mlp_1x512",
        "--corruption", "partial_labels", "--level", "0.5", "--steps", "300",
        "--log-every", "10", "--data", str(cifar_archive), "--train-subset", "1000",
        "--test-subset", "500", "--batch-size", "50", "--lr", "0.02",
        "--backend", BACKEND, "--quiet", "--no-save-model",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    straight = subprocess.run(
        [*base, "--out", str(tmp_path / "a")], env=env, capture_output=True, text=True
    )
    assert straight.returncode == 0, straight.stderr[-2000:]
    run = RunDir(tmp_path / "b" / RUN)
    proc = subprocess.Popen([*base, "--out", str(tmp_path / "b")], env=env)
    deadline = time.time() + 300
    while not run.checkpoint_path.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    if run.result_path.exists():
        pytest.skip("the run finished before it could be killed")
    resumed = subprocess.run(
        [*base, "--out", str(tmp_path / "b"), "--resume"], env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    with np.load(tmp_path / "a" / RUN / "examples.npz") as a, np.load(run.examples_path) as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            assert np.array_equal(a[key], b[key]), key
        assert int(b["header"][3]) == 300 and b["changed"].any()
    with run.metrics_path.open() as f:
        rows = [r for r in csv.DictReader(f) if r["window"]]
    assert rows and all(r["train_acc_changed"] and r["train_acc_kept"] for r in rows)
