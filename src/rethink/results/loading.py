"""Run folders read back: a `Run` per folder, a `Grid` per folder (or set of folders) read.

    grid = load_grid(Path("output_3"))      # run folders -> Run (summary + loss curve)
    grid = load_grids(["results/part1", "results/part3"], prefer="newer")  # one set
    grid.runs[0].summary, grid.runs[0].curve("test_acc")

A folder is a run folder itself, a grid folder of runs, or a folder of grids
(`run_dirs`); a run folder whose spec.json is unreadable is skipped and
named (`Grid.skipped`). Each run is summarized as `rethink.results.summary`
says; pure Python/NumPy, no Keras.

Results made in parts on different machines live in several folders;
`load_grids` reads them as one `Grid`. Each run remembers the folder it was
found under (`RunSummary.source`) and the machine that ran it (env.json's
host, device, backend, start time, rethink commit, data digest). The same
run (`run_identity`: the same spec apart from the data's path and `extra`)
in two folders is a `DuplicateRunError` unless `prefer` says which copy to
keep: "first" (the folder given first) or "newer" (a finished run before an
unfinished one, then the later env.json "started"); the copies left out are
the grid's `dropped`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rethink.results.summary import INCOMPLETE, RunSummary, curve, summarize, training_images
from rethink.run.folder import SPEC, RunDir, find_runs
from rethink.train import windows

PREFER = ("first", "newer")  # load_grids(prefer=...): which copy of a run in two folders to keep


@dataclass(frozen=True, eq=False)
class Run:
    """A run folder read: its summary, its metrics rows, and its training-loss curve.

    `steps`/`train_loss` are the rows with a finite training loss (any
    window); `rows` are metrics.csv's rows as read, for anything else
    (accuracy curves, evaluations, times to other thresholds).
    """

    summary: RunSummary
    steps: np.ndarray
    train_loss: np.ndarray
    rows: tuple[dict[str, float | None], ...] = ()

    def steps_to_acc(self, threshold: float) -> int | None:
        """First full window whose mean training accuracy reaches `threshold`."""
        return windows.steps_to_acc(self.rows, self.summary.spec.log_every, threshold)

    def curve(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of the rows where `column` is a finite number."""
        return curve(self.rows, column)


@dataclass(frozen=True)
class Dropped:
    """A copy of a run left out because the same run is in another folder (`load_grids`)."""

    run_id: str
    path: str  # the copy left out
    source: str  # the folder it was found under, as given
    kept: str  # the copy kept
    kept_source: str
    prefer: str  # the rule that chose: "first" or "newer"


class DuplicateRunError(ValueError):
    """The same run (`run_identity`) is in two folders and no preference says which to keep."""


@dataclass(frozen=True)
class Grid:
    """The runs read from one folder or several, as one set."""

    path: Path  # the folder read (load_grids: the first one given)
    runs: tuple[Run, ...]
    skipped: tuple[str, ...]  # run folders whose spec.json could not be read
    sources: tuple[str, ...] = ()  # every folder read, as given (distinct folders)
    dropped: tuple[Dropped, ...] = ()  # copies of runs left out as duplicates (load_grids)


def run_dirs(path: Path) -> list[RunDir]:
    """A run folder itself, the runs of a grid folder, or those of a folder of grids."""
    if (path / SPEC).is_file():
        return [RunDir(path)]
    runs = find_runs(path)
    if not runs and path.is_dir():
        for sub in sorted(p for p in path.iterdir() if p.is_dir()):
            runs += find_runs(sub)
    return runs


def load_run(rd: RunDir, source: str | None = None) -> Run | None:
    """A run folder read (None if its spec.json is unreadable); `source`: the folder
    argument it was found under."""
    spec = rd.spec()
    if spec is None:
        return None
    rows = tuple(rd.metrics_rows())
    summary = summarize(rd, spec, rows, source)
    return Run(summary, *curve(rows, "train_loss"), rows)


def load_grid(path: Path) -> Grid:
    """The runs of one folder (`run_dirs`), every run folder read as it is."""
    runs, skipped = [], []
    for rd in run_dirs(path):
        run = load_run(rd, str(path))
        if run is None:
            skipped.append(str(rd.path))
        else:
            runs.append(run)
    return Grid(path, tuple(runs), tuple(skipped), (str(path),))


def load_grids(paths: Sequence[str | Path], prefer: str | None = None) -> Grid:
    """The runs of several folders (each as `run_dirs` reads it) as one set.

    A run folder found under two arguments (the same folder given twice, or a
    folder and its own subfolder) is read once, under the first. The same run
    in two run folders (`run_identity`) raises `DuplicateRunError` unless
    `prefer` ("first" or "newer", see the module's docstring) chooses; the
    copies left out are listed in `Grid.dropped`.
    """
    if prefer is not None and prefer not in PREFER:
        raise ValueError(f"unknown preference {prefer!r}; choose from {', '.join(PREFER)}")
    given: dict[Path, str] = {}  # each distinct folder, as first spelled
    for p in paths:
        given.setdefault(Path(p).resolve(), str(p))
    seen: set[Path] = set()
    found, skipped = [], []
    for source in given.values():
        for rd in run_dirs(Path(source)):
            real = rd.path.resolve()
            if real in seen:
                continue
            seen.add(real)
            run = load_run(rd, source)
            if run is None:
                skipped.append(str(rd.path))
            else:
                found.append(run)
    runs, dropped = _one_copy_each(found, prefer)
    first = Path(paths[0]) if paths else Path()
    return Grid(first, tuple(runs), tuple(skipped), tuple(given.values()), tuple(dropped))


def run_identity(summary: RunSummary) -> str:
    """What makes two run folders the same run: every setting, with the learning rate
    and step count made explicit where they can be, but those that do not change what
    is computed, the data's path (`data`) and `extra`."""
    spec = summary.spec
    images = training_images(spec, summary.split_sizes)
    resolved = spec if images is None else spec.resolved(images)
    settings = resolved.to_dict()
    settings.pop("data", None)
    settings.pop("extra", None)
    return json.dumps(settings, sort_keys=True, default=str)


def _newer_key(summary: RunSummary) -> tuple[bool, float]:
    """prefer="newer": a finished run (result.json written) first, then the later start."""
    started = summary.started if summary.started is not None else -math.inf
    return summary.status != INCOMPLETE, started


def _one_copy_each(runs: Sequence[Run], prefer: str | None) -> tuple[list[Run], list[Dropped]]:
    """`runs` with one copy of each run (`run_identity`), in their order; the others."""
    copies: dict[str, list[Run]] = {}
    for run in runs:
        copies.setdefault(run_identity(run.summary), []).append(run)
    keep: set[int] = set()
    dropped: list[Dropped] = []
    for group in copies.values():
        chosen = group[0]
        if len(group) > 1:
            a, b = group[0].summary, group[1].summary
            if prefer is None:
                raise DuplicateRunError(
                    f"run {a.run_id} is in both {a.path} and {b.path}; "
                    "pass --prefer newer or --prefer first"
                )
            if prefer == "newer":
                for run in group[1:]:  # strictly newer: ties keep the first given
                    if _newer_key(run.summary) > _newer_key(chosen.summary):
                        chosen = run
        keep.add(id(chosen))
        k = chosen.summary
        dropped += [
            Dropped(s.run_id, s.path, s.source or "", k.path, k.source or "", str(prefer))
            for s in (run.summary for run in group if run is not chosen)
        ]
    return [run for run in runs if id(run) in keep], dropped
