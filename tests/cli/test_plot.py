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
from rethink.spec.datasets import Dataset
from tests.helpers.run_folders import (
    DAY,
    FIT_STEPS,
    PLATEAUS,
    T0,
    fit_step,
    level_sweep,
    machine_env,
    randomization_grid,
    spec_for,
    write_run,
)

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
    names = sorted(p.name for p in (root / "figures").iterdir())
    assert names == ["figure1a.png", "figure1a_models.png", "figure1c.png"]


def test_plot_model_all_draws_the_mean_over_models(grid: Path, tmp_path: Path) -> None:
    out = tmp_path / "figs"
    result = runner.invoke(
        cli.app, ["plot", str(grid), "--out", str(out), "--model", "all", "--format", "png"]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["figure1a_all.png", "figure1a_models.png", "figure1c.png"]


def test_plot_one_model_to_out_as_svg(grid: Path, tmp_path: Path) -> None:
    out = tmp_path / "figs"
    result = runner.invoke(
        cli.app, ["plot", str(grid), "--out", str(out), "--model", "mlp_1x512", "--format", "svg"]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["figure1a_mlp_1x512.svg", "figure1a_models.svg", "figure1c.svg"]
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

    import rethink.cli.report as report_cli

    # CliRunner's stdout is no terminal: the report is report.md's text, untouched.
    result = runner.invoke(cli.app, ["report", str(grid), "--out", str(tmp_path / "pipe")])
    assert result.exit_code == 0, result.output
    md = (tmp_path / "pipe" / "report.md").read_text()
    assert result.stdout.startswith(md.rstrip("\n"))
    assert "─" not in result.stdout and "\x1b[" not in result.stdout  # no Rich drawing
    assert "wrote" not in result.stdout and "wrote" in result.stderr
    # A terminal gets Rich tables.
    screen = io.StringIO()
    monkeypatch.setattr(report_cli, "console", Console(file=screen, force_terminal=True, width=160))
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
        "import sys; from typer.testing import CliRunner; "
        "from rethink.cli import _register, app; _register(); r = CliRunner(); "
        f"assert r.invoke(app, ['plot', {str(grid)!r}, '--out', {str(tmp_path)!r}]).exit_code == 0; "
        f"assert r.invoke(app, ['report', {str(grid)!r}, '--out', {str(tmp_path)!r}]).exit_code == 0; "
        "assert 'keras' not in sys.modules, 'keras imported'"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# --- several folders as one set ------------------------------------------------------


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """results/part1-mlp (MLP 1x512 on gpu-a) and results/part2-alexnet (AlexNet on gpu-b),
    the five randomizations each, and a file beside them."""
    results = tmp_path_factory.mktemp("results")
    for name, model, host, day in (
        ("part1-mlp", "mlp_1x512", "gpu-a", 0),
        ("part2-alexnet", "alexnet", "gpu-b", 1),
    ):
        for corruption in FIT_STEPS:
            write_run(
                results / name,
                spec_for(model, corruption),
                plateau=PLATEAUS[corruption],
                fit_step=fit_step(model, corruption, 0),
                env=machine_env(host, T0 + day * DAY),
            )
    (results / "notes.md").write_text("not a folder of runs\n")
    return results


def test_plot_and_report_of_a_quoted_glob_read_every_folder_as_one_set(
    parts: Path, tmp_path: Path
) -> None:
    out = tmp_path / "paper"
    result = runner.invoke(
        cli.app, ["plot", str(parts / "part*"), "--out", str(out), "--format", "png"]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["figure1a.png", "figure1a_models.png", "figure1c.png"]
    assert not (parts / "part1-mlp" / "figures").exists()
    # '*' also matches notes.md: a file, left out; the report reads both folders.
    result = runner.invoke(cli.app, ["report", str(parts / "*"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    md = (out / "report.md").read_text()
    assert md.startswith(
        f"# rethink report: 2 folders: {parts / 'part1-mlp'}, {parts / 'part2-alexnet'}"
    )
    assert (
        "## Sources" in md
        and "gpu-a / NVIDIA H200 / jax" in md
        and "gpu-b / NVIDIA H200 / jax" in md
    )
    assert f"| {parts / 'part2-alexnet'} | alexnet | random labels |" in md
    data = json.loads(
        runner.invoke(cli.app, ["report", str(parts / "part*"), "--format", "json"]).stdout
    )
    assert len(data["runs"]) == 10 and [s["runs"] for s in data["sources"]] == [5, 5]


def test_a_glob_that_matches_no_folder_is_a_one_line_error(parts: Path, tmp_path: Path) -> None:
    for pattern in (str(parts / "nothing*"), str(parts / "*.md")):
        for command in ("plot", "report"):
            result = runner.invoke(cli.app, [command, pattern, "--out", str(tmp_path / "x")])
            assert result.exit_code == 2, result.output
            assert f"{pattern}: no folder matches" in result.output
            assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
    result = runner.invoke(cli.app, ["report", str(parts / "notes.md")])
    assert result.exit_code == 2 and "notes.md: not a folder" in result.output


@pytest.mark.parametrize("command", ["plot", "report"])
def test_several_folders_need_out_and_nothing_is_written(parts: Path, command: str) -> None:
    folders = [str(parts / "part1-mlp"), str(parts / "part2-alexnet")]
    before = sorted(p.relative_to(parts) for p in parts.rglob("*"))
    result = runner.invoke(cli.app, [command, *folders])
    assert result.exit_code == 2
    assert result.output.strip() == "error: several folders: say where to write with --out DIR"
    assert sorted(p.relative_to(parts) for p in parts.rglob("*")) == before
    # The same folder twice is one folder: written where one folder's outputs go.
    result = runner.invoke(cli.app, ["report", folders[0], folders[0], "--format", "json"])
    assert result.exit_code == 0 and len(json.loads(result.stdout)["runs"]) == 5


def test_the_same_run_in_two_folders_needs_prefer(tmp_path: Path) -> None:
    spec = spec_for("alexnet", "true_labels")
    write_run(tmp_path / "A", spec, env=machine_env("gpu-a", T0))
    write_run(tmp_path / "B", spec, env=machine_env("gpu-b", T0 + DAY))
    out = tmp_path / "out"
    args = [str(tmp_path / "A"), str(tmp_path / "B"), "--out", str(out)]
    for command in ("plot", "report"):
        result = runner.invoke(cli.app, [command, *args])
        assert result.exit_code == 2
        assert result.output.strip() == (
            f"error: run {spec.run_id} is in both {tmp_path / 'A' / spec.run_id} and "
            f"{tmp_path / 'B' / spec.run_id}; pass --prefer newer or --prefer first"
        )
    assert not out.exists()
    result = runner.invoke(cli.app, ["report", *args, "--prefer", "newer"])
    assert result.exit_code == 0, result.output
    assert f"dropped {tmp_path / 'A' / spec.run_id}: the same run as" in result.stderr
    md = (out / "report.md").read_text()
    assert "dropped as duplicates (prefer newer): 1 run(s) of" in md
    result = runner.invoke(cli.app, ["report", *args, "--prefer", "first", "--format", "json"])
    assert result.exit_code == 0, result.output
    (run,) = json.loads(result.stdout)["runs"]
    assert (run["host"], run["source"]) == ("gpu-a", str(tmp_path / "A"))
    result = runner.invoke(cli.app, ["plot", *args, "--prefer", "oldest"])
    assert result.exit_code == 2 and "oldest" in result.output


def test_a_folder_without_runs_among_several_is_named_and_passed_over(
    parts: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "figures"
    empty.mkdir()
    args = [str(parts / "part1-mlp"), str(empty), "--out", str(tmp_path / "out")]
    result = runner.invoke(cli.app, ["report", *args])
    assert result.exit_code == 0, result.output
    assert f"no run folders in {empty}" in result.stderr
    md = (tmp_path / "out" / "report.md").read_text()
    assert f"| {empty} | 0 | - | - | - | 0 |" in md
    # None of them holds runs: the usual one-line error, nothing written.
    args = [str(empty), str(tmp_path / "out"), "--out", str(tmp_path / "none")]
    result = runner.invoke(cli.app, ["report", *args])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert f"2 folders: {empty}, {tmp_path / 'out'}: no run folders" in result.output
    assert not (tmp_path / "none").exists()
