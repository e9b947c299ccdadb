"""The grid folder and `run_grid`: a new folder or the same grid, one grid process per
folder, grid.json written once and obeyed on resume (compact grids included).

With the fake worker (tests/helpers/fake_worker.py), which writes a checkpoint every
`log_every` steps.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from rethink.base.lock import FolderLock
from rethink.grid.folder import GridFolderError, make_folder, next_output_dir, run_grid
from rethink.grid.record import is_compact, read_record, write_record
from rethink.grid.spec import GridSpec
from rethink.run.folder import CHECKPOINT
from tests.helpers.workers import calls, fake_worker

SMALL = GridSpec(models=("mlp_1x512",), corruptions=("true_labels", "gaussian"),
                 base={"steps": 20, "log_every": 5})  # fmt: skip


def files(run_dir: Path) -> set[str]:
    return {p.name for p in run_dir.iterdir()}


def test_a_grid_writes_grid_json_and_trains_every_run(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    result = run_grid(SMALL, folder, backend="jax", preset="smoke", worker=fake_worker(),
                      argv=["rethink", "grid"])  # fmt: skip
    assert result.exit_code == 0 and result.folder == folder
    rec = read_record(folder)
    assert rec is not None and rec["preset"] == "smoke" and rec["backend"] == "jax"
    assert rec["command"] == ["rethink", "grid"] and rec["compact"] is False
    assert rec["runs"] == [r.run_id for r in result.state.runs]
    for run in result.state.runs:
        (call,) = calls(folder / run.run_id)
        assert call["env"]["RETHINK_SAVE_MODEL"] == "1"


def test_a_folder_holding_another_grid_or_backend_is_refused_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    run_grid(SMALL, folder, backend="jax", worker=fake_worker())
    before = read_record(folder)
    other = GridSpec(models=("mlp_1x512",), corruptions=("true_labels",), base=SMALL.base)
    with pytest.raises(GridFolderError, match=r"holds a different grid \(1 of its runs left out"):
        run_grid(other, folder, backend="jax", worker=fake_worker())
    with pytest.raises(GridFolderError, match="trained with backend jax; continue it with"):
        run_grid(SMALL, folder, backend="torch", worker=fake_worker())
    assert read_record(folder) == before


def test_a_file_a_stranger_folder_or_a_locked_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(GridFolderError, match="is a file, not a grid folder"):
        run_grid(SMALL, tmp_path / "file", backend="jax", worker=fake_worker())
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"x")
    with pytest.raises(GridFolderError, match="not empty and holds no grid"):
        run_grid(SMALL, tmp_path / "photos", backend="jax", worker=fake_worker())
    assert files(tmp_path / "photos") == {"cat.jpg"}
    (tmp_path / "busy").mkdir()
    with FolderLock(tmp_path / "busy"), pytest.raises(GridFolderError, match=f"pid {os.getpid()}"):
        run_grid(SMALL, tmp_path / "busy", backend="jax", worker=fake_worker())
    assert read_record(tmp_path / "busy") is None


def test_without_a_folder_the_grid_takes_the_next_free_output_n(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert next_output_dir(tmp_path) == tmp_path / "output_1"
    for name in ("output_1", "output_3", "output_x", "outputs_9"):
        (tmp_path / name).mkdir()
    assert next_output_dir(tmp_path) == tmp_path / "output_4"
    monkeypatch.chdir(tmp_path)
    assert make_folder(None) == Path("output_4") and (tmp_path / "output_4").is_dir()
    assert make_folder(None) == Path("output_5")


def _recording_worker(spec_path: Path, grid_dir: Path, backend: str) -> list[str]:
    """The fake worker, after noting the two settings a compact grid gives its workers."""
    note = shlex.quote(str(spec_path.parent / "settings.txt"))
    script = f'echo "$RETHINK_SAVE_MODEL $RETHINK_KEEP_CHECKPOINT" >> {note}; exec "$@"'
    return ["sh", "-c", script, "sh", *fake_worker()(spec_path, grid_dir, backend)]


def test_grid_json_keeps_a_grid_compact_and_the_workers_are_told(tmp_path: Path) -> None:
    grid = SMALL
    folder = tmp_path / "g"
    result = run_grid(grid, folder, backend="jax", worker=_recording_worker, compact=True)
    assert result.exit_code == 0
    rec = read_record(folder)
    assert rec is not None and rec["compact"] is True
    for run in result.state.runs:
        assert CHECKPOINT not in files(folder / run.run_id)
        # No model saved; the worker removes its own checkpoint (a Ray task then never
        # ships it back).
        assert (folder / run.run_id / "settings.txt").read_text().split() == ["0", "0"]

    # Resumed without asking: still compact (grid.json says so).
    target = folder / result.state.runs[1].run_id
    (target / "result.json").unlink()
    again = run_grid(grid, folder, backend="jax", worker=_recording_worker)
    assert again.exit_code == 0 and len(calls(target)) == 2
    assert CHECKPOINT not in files(target)
    assert (target / "settings.txt").read_text().split()[2:] == ["0", "0"]


def test_a_grid_json_without_the_field_is_not_compact_until_asked(tmp_path: Path) -> None:
    grid = GridSpec(models=("mlp_1x512",), corruptions=("true_labels",),
                    base={"steps": 20, "log_every": 5})  # fmt: skip
    folder = tmp_path / "g"
    run_grid(grid, folder, backend="jax", worker=fake_worker())
    rec = read_record(folder)
    assert rec is not None
    del rec["compact"]  # as written before compact grids existed
    write_record(folder, rec)
    assert not is_compact(rec)
    run_id = grid.models[0] + "-true_labels-s0"
    assert run_grid(grid, folder, backend="jax", worker=fake_worker()).exit_code == 0
    assert CHECKPOINT in files(folder / run_id)  # off: nothing removed
    # Made compact on a later call: from now on, finished runs included.
    assert run_grid(grid, folder, backend="jax", worker=fake_worker(), compact=True).exit_code == 0
    assert CHECKPOINT not in files(folder / run_id)
    assert is_compact(read_record(folder) or {})
