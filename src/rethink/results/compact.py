"""A compact copy of run folders: only what plots and reports read (`rethink export --to compact`).

    copy = compact(Path("output_3"), Path("results/part1-inception"))
    copy.runs, copy.unfinished, copy.size     # run folders copied, those not finished, bytes

Takes a run folder, a grid folder or a folder of grids (as
`rethink.results.loading.run_dirs` finds them) and keeps, in the same layout,
each grid's grid.json and each run's spec.json, env.json, result.json and
metrics.csv, byte for byte: about 30 KB for a paper-length run; and
examples.npz where there is one (the per-example history: about 0.25 MB for
50,000 images). Checkpoints,
saved models, progress.json, worker logs, figures and TensorBoard files stay
behind; runs not finished (cut off without result.json, stopped, failed)
are copied too, and named. env.json is kept whole: its machine paths (data_source,
compilation_cache) and host say where a number came from.

The copy is made in a temporary folder beside `dest` and renamed into place
at the end, so `dest` holds the whole copy or nothing. Pure Python; no Keras.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rethink.results.loading import run_dirs
from rethink.run.folder import ENV, EXAMPLES, METRICS, RESULT, SPEC, RunDir
from rethink.train.outcome import Status

GRID_JSON = "grid.json"  # rethink.grid.record.GRID_JSON (results reads grids, never imports them)
RUN_FILES = (SPEC, ENV, RESULT, METRICS, EXAMPLES)  # what rethink.results reads of a run


class CompactError(ValueError):
    """A copy that cannot be made (no runs, `dest` in the way): one line."""


@dataclass(frozen=True)
class CompactCopy:
    """What `compact` wrote: the folder, its run folders, the unfinished ones, its bytes."""

    folder: Path
    runs: tuple[str, ...]  # run folders, relative to `folder` ("." for a single run)
    unfinished: tuple[str, ...]  # not completed or diverged: no result.json, stopped, failed
    size: int  # bytes of every file copied


def compact(source: Path, dest: Path) -> CompactCopy:
    """Copy `source`'s runs' result files into `dest`, which must not exist or be empty."""
    if not source.is_dir():
        raise CompactError(f"{source}: no such folder")
    runs = run_dirs(source)
    if not runs:
        raise CompactError(f"{source}: no run folders (folders holding a spec.json)")
    if dest.exists() and not dest.is_dir():
        raise CompactError(f"{dest} is a file; choose another --out")
    if dest.is_dir() and any(dest.iterdir()):
        raise CompactError(f"{dest} exists and is not empty; choose another --out")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp"))
    try:
        size = _copy(source, runs, tmp)
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; results are shared
        os.replace(tmp, dest)  # replaces an empty `dest`; fails if one appeared meanwhile
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    names = tuple(_relative(rd.path, source) for rd in runs)
    unfinished = tuple(n for rd, n in zip(runs, names, strict=True) if not _finished(rd))
    return CompactCopy(dest, names, unfinished, size)


def _finished(rd: RunDir) -> bool:
    """Completed or diverged: a grid would not train it again (`Status.done`)."""
    return rd.status() in (Status.COMPLETED, Status.DIVERGED)


def _relative(path: Path, source: Path) -> str:
    return "." if path == source else path.relative_to(source).as_posix()


def _copy(source: Path, runs: list[RunDir], tmp: Path) -> int:
    """Copy the grids' and runs' files below `tmp`; returns the bytes copied."""
    size = 0
    # grid.json of the folder itself and of each grid holding runs (a folder of grids).
    grids = {source} | {rd.path.parent for rd in runs if rd.path != source}
    for grid in sorted(grids):
        size += _copy_file(grid / GRID_JSON, tmp / _relative(grid, source) / GRID_JSON)
    for rd in runs:
        target = tmp / _relative(rd.path, source)
        for name in RUN_FILES:
            size += _copy_file(rd.path / name, target / name)
    return size


def _copy_file(src: Path, dst: Path) -> int:
    if not src.is_file():
        return 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    return dst.stat().st_size
