"""`rethink export --to compact` (rethink.results.compact): only the result files, whole or not at all."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rethink.cli as cli
from rethink.grid.record import GRID_JSON
from rethink.results import compact as compact_module
from rethink.results.compact import CompactError, compact
from rethink.results.loading import load_grid
from rethink.results.render import render_markdown
from rethink.results.report import build_report
from tests.helpers.run_folders import randomization_grid, spec_for, write_run

cli._register()
runner = CliRunner()

KEPT = {"spec.json", "env.json", "result.json", "metrics.csv"}  # what results read of a run
LEFT_BEHIND = ("checkpoint.npz", "model.keras", "progress.json", "worker.log")
CUT_OFF = "alexnet-true_labels-s0"  # no result.json
STOPPED = "mlp_1x512-gaussian-s0"  # result.json says "stopped": to be trained on


def _grid(root: Path) -> Path:
    """A grid as training leaves it: result files, plus what a compact copy drops."""
    randomization_grid(root, ("mlp_1x512",), (0,))
    write_run(root, spec_for("alexnet", "true_labels"), stop_at=700)  # cut off: no result.json
    result = json.loads((root / STOPPED / "result.json").read_text())
    (root / STOPPED / "result.json").write_text(json.dumps({**result, "status": "stopped"}))
    (root / GRID_JSON).write_text('{"format": 1, "runs": []}\n')
    (root / ".lock").write_text("")
    for run in root.iterdir():
        if run.is_dir():
            for name in LEFT_BEHIND:
                (run / name).write_bytes(b"\0" * 4096)
    for extra in ("figures/figure1a.png", "tensorboard/run/events.out", "report.md"):
        (root / extra).parent.mkdir(parents=True, exist_ok=True)
        (root / extra).write_bytes(b"x" * 100)
    return root


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_copies_exactly_the_result_files_byte_for_byte(tmp_path: Path) -> None:
    grid = _grid(tmp_path / "grid")
    copy = compact(grid, tmp_path / "kept")
    runs = sorted(p.name for p in grid.iterdir() if (p / "spec.json").is_file())
    want = {GRID_JSON} | {f"{r}/{n}" for r in runs for n in KEPT}
    want.discard(f"{CUT_OFF}/result.json")
    assert _files(copy.folder) == want
    for name in want:
        assert (copy.folder / name).read_bytes() == (grid / name).read_bytes(), name
    assert copy.size == sum((copy.folder / n).stat().st_size for n in want)
    assert sorted(copy.runs) == runs and copy.unfinished == (CUT_OFF, STOPPED)
    assert compact_module.GRID_JSON == GRID_JSON  # the grid's own name for it
    # Nothing beside the copy: the temporary folder was renamed into place.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid", "kept"]


def test_the_copy_reports_and_loads_as_the_original(tmp_path: Path) -> None:
    grid = _grid(tmp_path / "grid")
    copy = compact(grid, tmp_path / "kept")
    before, after = load_grid(grid), load_grid(copy.folder)
    assert [r.summary.run_id for r in after.runs] == [r.summary.run_id for r in before.runs]
    for a, b in zip(after.runs, before.runs, strict=True):
        assert a.rows == b.rows
        assert a.summary.status == b.summary.status and a.summary.backend == b.summary.backend
    md = [
        render_markdown(build_report([r.summary for r in g.runs], "grid")) for g in (before, after)
    ]
    assert md[0] == md[1]


def test_refuses_a_non_empty_destination_and_writes_nothing(tmp_path: Path) -> None:
    grid = _grid(tmp_path / "grid")
    dest = tmp_path / "kept"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    with pytest.raises(CompactError, match="exists and is not empty"):
        compact(grid, dest)
    assert _files(dest) == {"notes.txt"}
    (tmp_path / "a-file").write_text("")
    with pytest.raises(CompactError, match="is a file"):
        compact(grid, tmp_path / "a-file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "grid", "kept"]
    # An empty folder is fine: it is replaced by the copy.
    (dest / "notes.txt").unlink()
    assert len(compact(grid, dest).runs) == 6 and (dest / GRID_JSON).is_file()


def test_a_failed_copy_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    grid = _grid(tmp_path / "grid")
    calls = []

    def failing_copy(src: Path, dst: Path) -> None:
        calls.append(src)
        if len(calls) == 5:
            raise OSError("disk full")
        shutil.copyfile(src, dst)

    monkeypatch.setattr(compact_module.shutil, "copy2", failing_copy)
    with pytest.raises(OSError, match="disk full"):
        compact(grid, tmp_path / "kept")
    assert len(calls) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid"]


def test_a_single_run_folder(tmp_path: Path) -> None:
    rd = write_run(tmp_path / "runs", spec_for("mlp_1x512", "random_labels"))
    (rd.path / "checkpoint.npz").write_bytes(b"\0")
    copy = compact(rd.path, tmp_path / "one")
    assert _files(copy.folder) == KEPT
    assert copy.runs == (".",) and copy.unfinished == ()
    assert load_grid(copy.folder).runs[0].summary.run_id == "mlp_1x512-random_labels-s0"


def test_a_folder_of_grids_keeps_its_layout_and_each_grid_json(tmp_path: Path) -> None:
    root = tmp_path / "campaign"
    _grid(root / "part1")
    write_run(root / "part2", spec_for("mlp_3x512", "gaussian"))
    (root / "part2" / GRID_JSON).write_text("{}\n")
    (root / "notes").mkdir()  # no runs: not copied
    copy = compact(root, tmp_path / "kept")
    assert sorted(p.name for p in copy.folder.iterdir()) == ["part1", "part2"]
    assert (copy.folder / "part1" / GRID_JSON).is_file()
    assert (copy.folder / "part2" / GRID_JSON).read_text() == "{}\n"
    assert "part2/mlp_3x512-gaussian-s0" in copy.runs
    assert copy.unfinished == (f"part1/{CUT_OFF}", f"part1/{STOPPED}")
    assert not any(n.endswith(LEFT_BEHIND) for n in _files(copy.folder))


def test_a_folder_without_runs_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(CompactError, match="no run folders"):
        compact(tmp_path / "empty", tmp_path / "kept")
    with pytest.raises(CompactError, match="no such folder"):
        compact(tmp_path / "missing", tmp_path / "kept")
    assert not (tmp_path / "kept").exists()


def test_cli_writes_folder_compact_beside_it_and_counts_unfinished(tmp_path: Path) -> None:
    grid = _grid(tmp_path / "grid")
    result = runner.invoke(cli.app, ["export", str(grid), "--to", "compact"])
    assert result.exit_code == 0, result.output
    kept = tmp_path / "grid-compact"
    assert "wrote 6 runs" in result.output and str(kept) in result.output
    assert (
        f"2 of them unfinished (stopped, failed or no result.json): {CUT_OFF}, {STOPPED}"
        in result.output
    )
    assert not any(n.endswith(LEFT_BEHIND) for n in _files(kept))
    # Again: the copy is there now, so it is refused in one line, exit 2.
    result = runner.invoke(cli.app, ["export", str(grid), "--to", "compact"])
    assert result.exit_code == 2
    assert "exists and is not empty" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_out_and_bad_folders(tmp_path: Path) -> None:
    rd = write_run(tmp_path / "runs", spec_for("mlp_1x512", "true_labels"))
    out = tmp_path / "results" / "part1"
    result = runner.invoke(cli.app, ["export", str(rd.path), "--to", "compact", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _files(out) == KEPT and "unfinished" not in result.output
    assert "wrote 1 run (" in result.output
    (tmp_path / "empty").mkdir()
    for folder, message in ((tmp_path / "empty", "no run folders"), (tmp_path / "no", "no such")):
        result = runner.invoke(cli.app, ["export", str(folder), "--to", "compact"])
        assert result.exit_code == 2 and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "empty-compact").exists()
