"""grid.json: what a grid folder holds and how it was made, written once, read on resume.

    rec = record(grid, specs, preset="smoke", backend="jax", argv=sys.argv)
    write_record(folder, rec)
    rec = read_record(folder)          # None: no (readable) grid.json
    grid_of(rec) == grid               # the GridSpec stored in it
    difference(expand(grid_of(rec)), specs)   # None, or how the runs differ, in a few words

The record (format 1) holds the preset's name, the grid (`GridSpec.to_dict`),
the workers' backend, the creation time, the command line, the run ids and
whether the grid is compact; so the folder alone says what it holds, and
`rethink grid --resume DIR` can continue it. Pure Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rethink.grid.spec import GridError, GridSpec
from rethink.run.folder import read_json, write_json
from rethink.spec import RunSpec

GRID_JSON = "grid.json"
GRID_FORMAT = 1


def record(
    grid: GridSpec,
    specs: Sequence[RunSpec],
    *,
    preset: str,
    backend: str,
    argv: Sequence[str] = (),
    compact: bool = False,
) -> dict[str, Any]:
    """grid.json's content: what the folder holds and how it was made.

    `compact`: each finished run's checkpoint and model are removed (`rethink grid
    --compact`); stored so that a resumed grid keeps doing it (absent: off)."""
    return {
        "format": GRID_FORMAT,
        "preset": preset,
        "grid": grid.to_dict(),
        "backend": backend,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(argv),
        "runs": [s.run_id for s in specs],
        "compact": compact,
    }


def is_compact(rec: Mapping[str, Any]) -> bool:
    """Whether a grid.json record asks for a compact grid (older records: no)."""
    return rec.get("compact") is True


def write_record(folder: Path, rec: Mapping[str, Any]) -> None:
    write_json(folder / GRID_JSON, dict(rec))


def read_record(folder: Path) -> dict[str, Any] | None:
    """grid.json of `folder`, or None if there is none (or it is unreadable)."""
    return read_json(folder / GRID_JSON)


def grid_of(rec: Mapping[str, Any]) -> GridSpec:
    """The GridSpec stored in a grid.json record (GridError if it is not one)."""
    if not isinstance(rec.get("grid"), dict):
        raise GridError("grid.json holds no grid description")
    return GridSpec.from_dict(rec["grid"])


def difference(old: Sequence[RunSpec], new: Sequence[RunSpec]) -> str | None:
    """How two grids' runs differ, in a few words; None if they are the same runs."""
    old_ids, new_ids = [s.run_id for s in old], [s.run_id for s in new]
    if old_ids != new_ids:
        added = [i for i in new_ids if i not in old_ids]
        missing = [i for i in old_ids if i not in new_ids]
        parts = []
        if added:
            parts.append(f"{len(added)} run(s) it does not hold (e.g. {added[0]})")
        if missing:
            parts.append(f"{len(missing)} of its runs left out (e.g. {missing[0]})")
        return "; ".join(parts) or "the runs are in another order"
    for a, b in zip(old, new, strict=True):
        da, db = a.to_dict(), b.to_dict()
        for key in da:
            if da[key] != db.get(key):
                return f"{a.run_id}: {key} {da[key]!r} there, {db.get(key)!r} here"
    return None
