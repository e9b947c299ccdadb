"""grid.json: what a grid folder holds, read back, and how two grids' runs differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from rethink.grid.presets import PRESETS
from rethink.grid.record import (
    difference,
    grid_of,
    is_compact,
    read_record,
    record,
    write_record,
)
from rethink.grid.spec import GridError, expand, select


def test_difference_names_what_changed() -> None:
    smoke = expand(PRESETS["smoke"])
    assert difference(smoke, expand(PRESETS["smoke"])) is None
    longer = expand(select(PRESETS["smoke"], overrides={"steps": 80}))
    assert "steps 40" in difference(smoke, longer)
    fewer = expand(select(PRESETS["smoke"], models=["alexnet"]))
    assert "left out" in difference(smoke, fewer)
    assert "does not hold" in difference(fewer, smoke)
    assert difference(smoke, smoke[::-1]) == "the runs are in another order"


def test_grid_json_says_what_the_folder_holds(tmp_path: Path) -> None:
    grid = select(PRESETS["smoke"], models=["mlp_1x512"])
    specs = expand(grid)
    write_record(tmp_path, record(grid, specs, preset="smoke", backend="torch", argv=["rethink"]))
    rec = read_record(tmp_path)
    assert rec is not None
    assert rec["preset"] == "smoke" and rec["backend"] == "torch" and rec["created"]
    assert rec["format"] == 1 and rec["command"] == ["rethink"]
    assert rec["runs"] == [s.run_id for s in specs]
    assert not is_compact(rec)
    assert grid_of(rec) == grid
    assert read_record(tmp_path / "elsewhere") is None
    with pytest.raises(GridError):
        grid_of({"grid": {"models": ["mlp_1x512"]}})


def test_only_a_record_that_says_so_is_compact() -> None:
    grid = select(PRESETS["smoke"], models=["mlp_1x512"])
    rec = record(grid, expand(grid), preset="smoke", backend="jax", compact=True)
    assert rec["compact"] is True and is_compact(rec)
    assert not is_compact({})  # written before compact grids existed
    assert not is_compact({"compact": "yes"})
