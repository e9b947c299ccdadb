"""The `rethink` app itself: --version, and what works where Unix-only modules are missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import rethink
import rethink.cli as cli

cli._register()
runner = CliRunner()
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "grid-0.1"

# Run rethink's CLI as on Windows, as far as imports go: no fcntl, no resource.
WITHOUT_UNIX = (
    "import sys; sys.modules['fcntl'] = None; sys.modules['resource'] = None; "
    "sys.argv[0] = 'rethink'; from rethink.cli import main; main()"
)


def test_version_prints_the_version_and_the_distribution() -> None:
    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"rethink {rethink.__version__} ({rethink.DISTRIBUTION})"


def _without_unix(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_UNIX, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def test_help_report_and_plot_need_no_unix_only_module(tmp_path: Path) -> None:
    out = _without_unix("--help", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "grid" in out.stdout and "report" in out.stdout
    grid = tmp_path / "grid"
    shutil.copytree(FIXTURE, grid)
    out = _without_unix("report", str(grid), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (grid / "report.md").is_file()
    out = _without_unix("plot", str(grid), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert list((grid / "figures").glob("*.png"))
