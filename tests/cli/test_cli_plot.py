"""`rethink plot` and `rethink report` through Typer's CliRunner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rethink.cli as cli
from rethink.data.datasets import Dataset
from tests.helpers.run_folders import level_sweep, randomization_grid, spec_for, write_run

THREE = Dataset("my_images", ("cat", "dog", "fox"), (20, 20, 1))

cli._register()
runner = CliRunner()


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = randomization_grid(tmp_path_factory.mktemp("grid") / "output_3", ("mlp_1x512",), (0,))
    write_run(root, spec_for("alexnet", "true_labels"), stop_at=700)  # still running
    return root


def test_plot_writes_figures_into_the_grid_folder(tmp_path: Path) -> None:
    root = level_sweep(tmp_path / "sweep", ("mlp_1x512",), levels=(0.0, 0.5, 1.0))
    result = runner.invoke(cli.app, ["plot", str(root)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (root / "figures").iterdir())
    assert names == sorted(f"figure1{x}.{f}" for x in "abc" for f in ("png", "pdf"))
    assert all((root / "figures" / n).stat().st_size > 0 for n in names)
    # No Inception in the grid: Figure 1a falls back to the model present, and says so.
    assert "figure1a: mlp_1x512 (no inception curves" in result.output


def test_plot_default_figure_1a_is_inception_without_a_note(tmp_path: Path) -> None:
    root = randomization_grid(tmp_path / "grid", ("mlp_1x512", "inception"), (0,))
    result = runner.invoke(cli.app, ["plot", str(root), "--format", "png"])
    assert result.exit_code == 0, result.output
    assert "figure1a:" not in result.output
    assert sorted(p.name for p in (root / "figures").iterdir()) == ["figure1a.png", "figure1c.png"]


def test_plot_model_all_draws_the_mean_over_models(grid: Path, tmp_path: Path) -> None:
    out = tmp_path / "figs"
    result = runner.invoke(
        cli.app, ["plot", str(grid), "--out", str(out), "--model", "all", "--format", "png"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["figure1a_all.png", "figure1c.png"]


def test_plot_one_model_to_out_as_svg(grid: Path, tmp_path: Path) -> None:
    out = tmp_path / "figs"
    result = runner.invoke(
        cli.app, ["plot", str(grid), "--out", str(out), "--model", "mlp_1x512", "--format", "svg"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["figure1a_mlp_1x512.svg", "figure1c.svg"]
    assert "skipped figure1b" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "inception"], "no runs of model 'inception'"),
        (["--model", "resnet"], "unknown model 'resnet'; choose from inception, "),
        (["--format", "gif"], "unknown figure format gif"),
    ],
)
def test_plot_bad_options_write_nothing(
    grid: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "figs"
    result = runner.invoke(cli.app, ["plot", str(grid), "--out", str(out), *args])
    assert result.exit_code == 2
    assert message in result.output and not out.exists()


@pytest.mark.parametrize("command", ["plot", "report"])
def test_missing_or_empty_folder_is_a_one_line_error(tmp_path: Path, command: str) -> None:
    result = runner.invoke(cli.app, [command, str(tmp_path / "nope")])
    assert result.exit_code == 2 and "no such folder" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(cli.app, [command, str(empty)])
    assert result.exit_code == 2 and "no run folders" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert list(empty.iterdir()) == []


def test_report_writes_markdown_and_prints_tables(grid: Path, tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["report", str(grid), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    md = (tmp_path / "report.md").read_text()
    assert f"| alexnet | true labels | 0 | 0 | incomplete {700 / 2400:.0%} | off #1 |" in md
    assert "- protocol: not the paper's protocol: 2,560 training images" in md
    assert "protocol: not the paper's protocol" in result.output
    assert "The paper's claims" in result.output
    assert not (grid / "report.md").exists()


def test_report_in_a_pipe_is_markdown_and_on_a_terminal_tables(
    grid: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console

    import rethink.cli.plot as plot_cli

    # CliRunner's stdout is no terminal: the report is report.md's text, untouched.
    result = runner.invoke(cli.app, ["report", str(grid), "--out", str(tmp_path / "pipe")])
    assert result.exit_code == 0, result.output
    md = (tmp_path / "pipe" / "report.md").read_text()
    assert result.stdout.startswith(md.rstrip("\n"))
    assert "─" not in result.stdout and "\x1b[" not in result.stdout  # no Rich drawing
    assert "wrote" not in result.stdout and "wrote" in result.stderr
    # A terminal gets Rich tables.
    screen = io.StringIO()
    monkeypatch.setattr(plot_cli, "console", Console(file=screen, force_terminal=True, width=160))
    result = runner.invoke(cli.app, ["report", str(grid), "--out", str(tmp_path / "tty")])
    assert result.exit_code == 0, result.output
    drawn = screen.getvalue()
    assert "The paper's claims" in drawn and "─" in drawn and "\x1b[" in drawn
    assert not drawn.lstrip().startswith("# rethink report")


def test_report_json_on_stdout(grid: Path) -> None:
    result = runner.invoke(cli.app, ["report", str(grid), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    statuses = sorted(r["status"] for r in data["runs"])
    assert statuses == ["completed"] * 5 + ["incomplete"]
    assert len(data["claims"]) == 9 and data["paper"]["table1"]
    assert data["protocol"].startswith("not the paper's protocol")
    assert all(r["protocol_deviations"] for r in data["runs"])
    assert not (grid / "report.md").exists()


def test_report_and_plot_name_the_data_set(tmp_path: Path) -> None:
    root = level_sweep(tmp_path / "grid", ("mlp_1x512",), (0.0, 1.0), dataset=THREE)
    result = runner.invoke(cli.app, ["report", str(root)])
    assert result.exit_code == 0, result.output
    assert "- data set: my_images: 3 classes of 20x20x1 images (chance: 66.67%" in result.stdout
    result = runner.invoke(cli.app, ["report", str(root), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [d["name"] for d in json.loads(result.stdout)["datasets"]] == ["my_images"]
    result = runner.invoke(cli.app, ["plot", str(root), "--format", "png"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (root / "figures").iterdir()) == ["figure1a.png", "figure1c.png"]


def test_plot_of_two_data_sets_writes_a_folder_each(tmp_path: Path) -> None:
    root = level_sweep(tmp_path / "grid", ("mlp_1x512",), (0.0, 1.0))
    level_sweep(root, ("alexnet",), (0.0, 1.0), dataset=THREE)
    result = runner.invoke(cli.app, ["plot", str(root), "--format", "png"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (root / "figures").iterdir()) == ["cifar10", "my_images"]
    assert (root / "figures" / "my_images" / "figure1c.png").stat().st_size > 0
    assert "skipped my_images/figure1b" in result.output


def test_plot_and_report_do_not_import_keras(grid: Path, tmp_path: Path) -> None:
    code = (
        "import sys; from typer.testing import CliRunner; import rethink.cli.plot; "
        "from rethink.cli import app; r = CliRunner(); "
        f"assert r.invoke(app, ['plot', {str(grid)!r}, '--out', {str(tmp_path)!r}]).exit_code == 0; "
        f"assert r.invoke(app, ['report', {str(grid)!r}, '--out', {str(tmp_path)!r}]).exit_code == 0; "
        "assert 'keras' not in sys.modules, 'keras imported'"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
