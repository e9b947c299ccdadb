"""`rethink bench`: one-line refusals before measuring, and the tiny bench end to end (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rethink.cli as cli
import rethink.cli.bench  # noqa: F401  (registers the command on cli.app)

runner = CliRunner()
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backends", "theano"], "unknown backend 'theano'"),
        (["--models", "resnet"], "unknown model 'resnet'"),
        (["--precisions", "float8"], "unknown precision 'float8'"),
        (["--steps", "0"], "steps must be positive"),
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


class _Measured(Exception):
    """Raised by the stand-in for rethink.bench.run: what it was asked to measure."""


def test_execution_options_are_run_s_and_unset_ones_keep_the_bench_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from rethink.bench import BenchSpec

    def measured(spec: BenchSpec, **_: object) -> None:
        raise _Measured(spec)

    monkeypatch.setattr("rethink.bench.run", measured)
    args = ["bench", "--tiny", "--backends", BACKEND, "--out", str(tmp_path)]
    result = runner.invoke(cli.app, [*args, "--loop", "keras", "--steps-per-execution", "3"])
    assert isinstance(result.exception, _Measured), result.output
    spec = result.exception.args[0]
    assert (spec.loop, spec.steps_per_execution) == ("keras", 3)
    assert spec.torch_compile == BenchSpec.tiny().torch_compile
    result = runner.invoke(cli.app, args)
    default = result.exception.args[0]  # type: ignore[union-attr]
    tiny = BenchSpec.tiny()
    assert (default.loop, default.steps_per_execution) == (tiny.loop, tiny.steps_per_execution)


@pytest.mark.slow
def test_cli_runs_the_tiny_bench_in_a_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "b.json"
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "rethink", "bench", "--tiny", "--backends", BACKEND,
         "--json", str(out)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "images/s" in proc.stdout and "mlp_1x512" in proc.stdout
    assert f"results: {out}" in proc.stdout
    doc = json.loads(out.read_text())
    assert doc["format"] == 1 and doc["paper_steps"] == 25_000
    assert doc["settings"]["backends"] == [BACKEND] and doc["settings"]["models"] == ["mlp_1x512"]
    assert doc["host"]["cpus"] >= 1 and doc["date"]
    info = doc["backends"][BACKEND]
    assert info["error"] is None
    assert info["environment"]["backend"] == BACKEND and info["environment"]["device"]
    assert info["environment"]["keras_version"]
    [row] = doc["results"]
    assert row["error"] is None and row["images_per_s"] > 0
    assert not (tmp_path / "bench.json").exists()  # --json wins over the default
