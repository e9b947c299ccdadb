"""The fake worker (tests/helpers/fake_worker.py) as the grid's worker, and what it leaves.

    executor = Executor(grid_dir, specs, backend="jax", launcher=LocalLauncher(fake_worker()))
    calls(grid_dir / run_id)     # each start of the worker there: argv, env, pid

`snapshot` takes every file of a folder with its bytes and mtime, to show that
a resume left finished runs untouched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rethink.grid.launch import WorkerCommand, rethink_worker

FAKE_WORKER = Path(__file__).resolve().with_name("fake_worker.py")


def fake_worker() -> WorkerCommand:
    """The fake worker's command, the real one's argv with the script in place of rethink."""

    def command(spec_path: Path, grid_dir: Path, backend: str) -> list[str]:
        return [sys.executable, str(FAKE_WORKER), *rethink_worker(spec_path, grid_dir, backend)[3:]]

    return command


def calls(run_dir: Path) -> list[dict]:
    """Each start of the fake worker in `run_dir`: argv, env and pid."""
    path = run_dir / "calls.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below `folder` with its bytes and mtime."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
