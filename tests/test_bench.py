"""`rethink bench`: the worker's numbers and estimates, the subprocess per backend, the CLI.

Never asserts a speed: only that the numbers exist and agree with each other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

import rethink.bench as bench
import rethink.cli as cli
from rethink.bench import BenchError, BenchSpec
from rethink.cli.bench import render
from rethink.models import MODELS

cli._register()
runner = CliRunner()
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
SRC = Path(__file__).resolve().parents[1] / "src"


def test_settings_reject_unknown_names_and_bad_sizes() -> None:
    with pytest.raises(BenchError, match="unknown model 'resnet'"):
        BenchSpec(models=("resnet",), backends=(BACKEND,))
    with pytest.raises(BenchError, match="unknown backend 'theano'"):
        BenchSpec(backends=("theano",))
    with pytest.raises(BenchError, match="unknown precision"):
        BenchSpec(precisions=("float8",), backends=(BACKEND,))
    with pytest.raises(BenchError, match="steps must be positive"):
        BenchSpec(steps=0, backends=(BACKEND,))
    with pytest.raises(BenchError, match="one batch"):
        BenchSpec(images=10, batch_size=32, backends=(BACKEND,))
    spec = BenchSpec.tiny(backends=(BACKEND,), steps=7)
    assert BenchSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_paper_grid_is_five_runs_of_each_model_and_names_the_missing() -> None:
    rng = np.random.default_rng(0)
    runs = {m: float(rng.uniform(10, 1000)) for m in MODELS}
    total, missing = bench.paper_grid(runs)
    assert total == pytest.approx(5 * sum(runs.values()))
    assert missing == []

    some = {m: runs[m] for m in MODELS[::2]}
    total, missing = bench.paper_grid(some)
    assert total == pytest.approx(5 * sum(some.values()))
    assert sorted(missing) == sorted(set(MODELS) - set(some))


def test_grid_estimates_are_per_backend_and_precision() -> None:
    rows: list[dict[str, Any]] = [
        {"backend": "jax", "precision": "float32", "model": m, "paper_run_s": 100.0 + i}
        for i, m in enumerate(MODELS)
    ]
    rows.append(
        {"backend": "torch", "precision": "float32", "model": "mlp_1x512", "paper_run_s": 7.0}
    )
    rows.append(
        {"backend": "torch", "precision": None, "model": None, "paper_run_s": None, "error": "x"}
    )
    out = bench.add_grid_estimates(rows)
    jax_rows = [r for r in out if r["backend"] == "jax"]
    assert len(jax_rows) == 5
    for r in jax_rows:
        assert r["paper_grid_s"] == pytest.approx(5 * sum(100.0 + i for i in range(5)))
        assert r["paper_grid_missing"] == []
    torch_row = next(r for r in out if r["backend"] == "torch" and r["model"] == "mlp_1x512")
    assert torch_row["paper_grid_s"] == pytest.approx(35.0)
    assert "mlp_1x512" not in torch_row["paper_grid_missing"]
    assert len(torch_row["paper_grid_missing"]) == len(MODELS) - 1
    assert "paper_grid_s" not in rows[0]  # the input is not modified


def test_window_starts_at_the_first_callback_after_warmup() -> None:
    stamps = [(2, 1.0), (4, 2.0), (6, 3.5), (8, 4.0)]
    assert bench.window(stamps, warmup=3) == (4, 2.0)
    assert bench.window(stamps, warmup=4) == (4, 2.0)
    with pytest.raises(RuntimeError, match="too few timed steps"):
        bench.window(stamps, warmup=7)


@pytest.mark.parametrize("loop", ["keras", "native"])
def test_worker_on_this_backend_gives_consistent_numbers(loop: str) -> None:
    # 320 images at batch 32: 10 steps per epoch; rows every 2 steps (the warm-up).
    settings = BenchSpec.tiny(
        backends=(BACKEND,), warmup=2, steps=10, images=320, steps_per_execution=2, loop=loop
    )
    [row] = bench.measure(settings)
    assert row["error"] is None, row["error"]
    assert row["backend"] == BACKEND and row["model"] == "mlp_1x512"
    native = loop == "native" and BACKEND != "tensorflow"
    assert row["loop"] == ("native" if native else "keras")
    # Keras's torch trainer runs one step per dispatch; the others honour 2.
    assert row["steps_per_execution"] == (1 if BACKEND == "torch" and not native else 2)
    assert row["timed_steps"] == 10  # an epoch end at step 10 lies inside the window
    assert row["images_per_s"] > 0 and row["ms_per_step"] > 0 and row["compile_s"] >= 0
    assert row["images_per_s"] == pytest.approx(32 * 1000 / row["ms_per_step"])
    assert row["paper_run_s"] == pytest.approx(25_000 * row["ms_per_step"] / 1000)
    assert row["paper_grid_s"] == pytest.approx(5 * row["paper_run_s"])
    assert sorted(row["paper_grid_missing"]) == sorted(set(MODELS) - {"mlp_1x512"})
    assert row["peak_memory_bytes"] is None or row["peak_memory_bytes"] > 0


def test_engine_settings_are_checked() -> None:
    with pytest.raises(BenchError, match="unknown loop"):
        BenchSpec.tiny(loop="fast")
    with pytest.raises(BenchError, match="steps per execution must be positive"):
        BenchSpec.tiny(steps_per_execution=0)


def test_a_failing_model_becomes_an_error_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> dict[str, Any]:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(bench, "measure_one", broken)
    settings = BenchSpec.tiny(backends=(BACKEND,), models=("mlp_1x512", "mlp_3x512"))
    rows = bench.measure(settings)
    assert [r["model"] for r in rows] == ["mlp_1x512", "mlp_3x512"]
    assert all(r["error"] == "RuntimeError: out of memory" for r in rows)
    assert all(r["paper_grid_s"] is None for r in rows)


def test_a_backend_whose_process_fails_is_an_error_row_not_a_crash() -> None:
    settings = BenchSpec.tiny(backends=(BACKEND,))
    out = bench.run_backend(settings, "no_such_backend")  # the worker refuses it
    assert out["environment"] is None
    [row] = out["results"]
    assert row["backend"] == "no_such_backend"
    assert "exited with code" in row["error"] and "no_such_backend" in row["error"]


def test_render_shows_numbers_errors_and_partial_grids() -> None:
    rows = [
        {
            "backend": "jax",
            "model": "mlp_3x512",
            "precision": "float32",
            "images_per_s": 1234.5,
            "ms_per_step": 103.7,
            "compile_s": 2.0,
            "peak_memory_bytes": 3 << 30,
            "paper_run_s": 2592.5,
            "paper_grid_s": 12962.5,
            "paper_grid_missing": ["alexnet"],
            "error": None,
        },
        {
            "backend": "torch",
            "model": None,
            "precision": None,
            "error": "worker exited with code 1: boom",
        },
    ]
    console = Console(width=160, record=True)
    console.print(render(rows))
    text = console.export_text()
    assert "1,234" in text and "103.70" in text and "3.00 GiB" in text and "43.2 min" in text
    assert ">=3.6 h*" in text and "without the runs of alexnet" in text
    assert "error (1)" in text and "(1) torch -: worker exited with code 1: boom" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backends", "theano"], "unknown backend 'theano'"),
        (["--models", "resnet"], "unknown model 'resnet'"),
        (["--precisions", "float8"], "unknown precision 'float8'"),
    ],
)
def test_bad_settings_exit_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["bench", "--tiny", *args, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "bench.json").exists()


def test_a_requested_backend_that_is_not_installed_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("rethink.base.backend.installed", lambda name: name != BACKEND)
    result = runner.invoke(
        cli.app, ["bench", "--tiny", "--backends", BACKEND, "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert f"backend {BACKEND!r} is not installed" in result.output
    assert not (tmp_path / "bench.json").exists()


@pytest.mark.slow
def test_cli_runs_the_tiny_bench_in_a_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "b.json"
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rethink",
            "bench",
            "--tiny",
            "--backends",
            BACKEND,
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "images/s" in proc.stdout and "mlp_1x512" in proc.stdout
    doc = json.loads(out.read_text())
    assert doc["settings"]["backends"] == [BACKEND] and doc["settings"]["models"] == ["mlp_1x512"]
    assert doc["host"]["cpus"] >= 1 and doc["date"]
    info = doc["backends"][BACKEND]
    assert info["error"] is None
    assert info["environment"]["backend"] == BACKEND and info["environment"]["device"]
    assert info["environment"]["keras_version"]
    [row] = doc["results"]
    assert row["error"] is None and row["images_per_s"] > 0
    assert not (tmp_path / "bench.json").exists()  # --json wins over the default
