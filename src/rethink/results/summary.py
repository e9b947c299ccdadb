"""One run folder as numbers: a `RunSummary` per run and its loss curve.

    grid = load_grid(Path("output_3"))      # run folders -> Run (summary + loss curve)
    grid = load_grids(["results/part1", "results/part3"], prefer="newer")  # one set

Reads only the run folders (spec.json, metrics.csv, result.json, env.json), so
finished, partial (no result.json: status "incomplete"), diverged and crashed
runs, and runs from other machines, all summarize. Pure Python/NumPy; no Keras.

Each run knows its data set (`run_dataset`: env.json's "dataset", else
spec.json's data set name, else CIFAR-10 for folders written before runs
recorded one), and with it its chance level: test error 1 - 1/classes,
loss ln(classes).

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
from typing import Any

import numpy as np

from rethink.run.folder import SPEC, RunDir, find_runs, read_json
from rethink.spec import RunSpec, randomization_label
from rethink.spec.datasets import DEFAULT, KNOWN, Dataset
from rethink.train import windows

INCOMPLETE = "incomplete"  # no result.json: still running, or killed without one
CIFAR10 = KNOWN[DEFAULT]  # the data set of folders that record none (written before others)
START_FRACTION = 0.9  # "the loss has started to drop": first row below this x chance loss
PREFER = ("first", "newer")  # load_grids(prefer=...): which copy of a run in two folders to keep


def chance_loss(num_classes: int) -> float:
    """Cross-entropy of a uniform guess over `num_classes` classes: ln(classes)."""
    return math.log(num_classes)


def start_loss(num_classes: int) -> float:
    """The training loss below which it "has started to drop": 0.9 ln(classes)."""
    return START_FRACTION * chance_loss(num_classes)


CHANCE_LOSS = chance_loss(CIFAR10.num_classes)  # CIFAR-10's: ln 10
START_LOSS = start_loss(CIFAR10.num_classes)  # CIFAR-10's: 0.9 ln 10


@dataclass(frozen=True)
class RunSummary:
    """One run's settings and outcome; numbers are None where unknown (never NaN).

    Two training accuracies, measured differently (README, "The protocol"):
    `train_acc` is the trained model evaluated on the whole training split
    (inference mode, corrupted as the run sees it, no augmentation): the
    paper's training accuracy, None for runs without that evaluation (ended
    early, or written before rethink made it). `window_train_acc` is the
    mean over the last full `log_every` window in training mode, as trained:
    what the curves and the time to fit use.
    """

    run_id: str
    path: str
    model: str
    corruption: str
    level: float | None  # label-corruption level: 0 true, 1 random, p partial; None for pixels
    seed: int
    weight_decay: float
    augment: bool
    status: str  # result.json status, or "incomplete"
    step: int | None  # last step logged
    total_steps: int | None
    train_loss: float | None  # training-split evaluation (see above)
    train_acc: float | None
    window_train_loss: float | None  # last full window's means
    window_train_acc: float | None
    test_acc: float | None  # last evaluation
    best_test_acc: float | None  # highest test accuracy of any evaluation
    best_test_step: int | None
    steps_to_fit: int | None  # first full window at fit_threshold
    steps_to_loss: int | None  # first full window at loss_threshold
    first_drop_step: int | None  # first row with training loss below `start_loss`
    fit_threshold: float
    loss_threshold: float
    diverged_at_step: int | None
    wall_seconds: float | None
    images_per_s: float | None
    backend: str | None
    device: str | None
    error: str | None
    spec: RunSpec  # every setting, for protocol checks
    dataset: Dataset = CIFAR10  # what it trained on (`run_dataset`)
    # (training, test) images of the data set's whole splits (env.json "data_images",
    # before any subset); None where not recorded
    data_images: tuple[int, int] | None = None
    source: str | None = None  # the folder it was found under, as given (`load_grids`)
    # env.json, where recorded (None for folders written before it was):
    host: str | None = None  # the machine's host name
    started: float | None = None  # when the run (or its last resume) started, unix time
    rethink_commit: str | None = None  # the rethink checkout's git commit ("+dirty" if so)
    data_sha256: str | None = None  # the digest of the data it trained on
    data_source: str | None = None  # where that data came from (a path, or keras.datasets.*)

    @property
    def chance_error(self) -> float:
        """The test error of guessing on its data set: 1 - 1/classes (CIFAR-10: 90%)."""
        return self.dataset.chance_error

    @property
    def chance_loss(self) -> float:
        """The loss of a uniform guess on its data set: ln(classes)."""
        return chance_loss(self.dataset.num_classes)

    @property
    def start_loss(self) -> float:
        """The loss below which its training loss "has started to drop": 0.9 ln(classes)."""
        return start_loss(self.dataset.num_classes)

    @property
    def randomization(self) -> str:
        return randomization_label(self.corruption, self.level)

    @property
    def plain(self) -> bool:
        """The randomization-test setting: no weight decay, no augmentation."""
        return self.weight_decay == 0 and not self.augment

    @property
    def final_train_acc(self) -> float | None:
        """The training-split evaluation where there is one, else the last window's mean."""
        return self.train_acc if self.train_acc is not None else self.window_train_acc

    @property
    def train_acc_measure(self) -> str | None:
        """How `final_train_acc` was measured: "evaluation", "window" or None."""
        if self.train_acc is not None:
            return "evaluation"
        return "window" if self.window_train_acc is not None else None


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
        return _curve(self.rows, column)


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
    path: Path  # the folder read (load_grids: the first one given)
    runs: tuple[Run, ...]
    skipped: tuple[str, ...]  # run folders whose spec.json could not be read
    sources: tuple[str, ...] = ()  # every folder read, as given (distinct folders)
    dropped: tuple[Dropped, ...] = ()  # copies of runs left out as duplicates (load_grids)


def label_level(spec: RunSpec) -> float | None:
    """The label-corruption level of Figure 1b/1c; None for pixel corruptions."""
    if spec.corruption == "true_labels":
        return 0.0
    if spec.corruption == "random_labels":
        return 1.0
    if spec.corruption == "partial_labels":
        return spec.level
    return None


def run_dataset(rd: RunDir, env: dict[str, Any] | None = None) -> Dataset:
    """The data set a run folder trained on: env.json's "dataset" (`Dataset.to_dict()`),
    else spec.json's "dataset" name (a `KNOWN` one), else CIFAR-10 (folders written
    before runs recorded their data set). `env`: env.json already read. Never raises."""
    env = rd.env() if env is None else env
    recorded = env.get("dataset") if env else None
    if isinstance(recorded, dict):
        try:
            return Dataset.from_dict(recorded)
        except (KeyError, TypeError, ValueError):  # DataError is a ValueError
            pass
    elif isinstance(recorded, str) and recorded in KNOWN:
        return KNOWN[recorded]
    name = (read_json(rd.spec_path) or {}).get("dataset")
    if isinstance(name, str) and name in KNOWN:
        return KNOWN[name]
    return CIFAR10


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
    return Run(summary, *_curve(rows, "train_loss"), rows)


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
    """What makes two run folders the same run: every setting (resolved) but those that
    do not change what is computed, the data's path (`data`) and `extra`."""
    n_train = summary.data_images[0] if summary.data_images else 50_000
    try:
        settings = summary.spec.resolved(n_train).to_dict()
    except (AssertionError, ValueError):
        settings = summary.spec.to_dict()
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


def _curve(rows: Sequence[dict[str, float | None]], column: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of the rows where `column` is a finite number."""
    pairs = [
        (r["step"], r[column]) for r in rows if r.get("step") is not None and _finite(r.get(column))
    ]
    return (
        np.array([p[0] for p in pairs], dtype=float),
        np.array([p[1] for p in pairs], dtype=float),
    )


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)


def _num(x: Any) -> float | None:
    return float(x) if _finite(x) else None


def _int(x: Any) -> int | None:
    return int(x) if _finite(x) else None


def _first_step(rows: Sequence[dict[str, float | None]], test: Any) -> int | None:
    for r in rows:
        if r.get("step") is not None and test(r):
            return _int(r["step"])
    return None


def _from_metrics(rows: Sequence[dict[str, float | None]], spec: RunSpec) -> dict[str, Any]:
    """The result.json numbers recomputed from metrics.csv (full windows only)."""
    rows = [r for r in rows if r.get("step") is not None]
    last = rows[-1] if rows else {}
    full = windows.full_rows(rows, spec.log_every)
    last_full = full[-1] if full else {}
    tests: list[tuple[Any, float]] = [
        (r["step"], float(r["test_acc"] or 0.0)) for r in rows if _finite(r.get("test_acc"))
    ]
    best: tuple[Any, float | None] = (
        max(tests, key=lambda t: t[1]) if tests else (None, None)
    )  # the first of equals
    evals = [r for r in rows if _finite(r.get("eval_train_acc"))]
    speeds = [v for v in (_num(r.get("images_per_s")) for r in rows) if v is not None]
    return {
        "step": _int(last.get("step")),
        "train_loss": evals[-1].get("eval_train_loss") if evals else None,
        "train_acc": evals[-1]["eval_train_acc"] if evals else None,
        "window_train_loss": last_full.get("train_loss"),
        "window_train_acc": last_full.get("train_acc"),
        "test_acc": tests[-1][1] if tests else None,
        "best_test_acc": best[1],
        "best_test_step": best[0],
        "steps_to_fit": windows.steps_to_acc(rows, spec.log_every, spec.fit_threshold),
        "steps_to_loss": windows.steps_to_loss(rows, spec.log_every, spec.loss_threshold),
        "diverged_at_step": windows.diverged_at(rows),
        "wall_seconds": last.get("seconds"),
        "images_per_s": float(np.median(speeds)) if speeds else None,
    }


def _result_fields(result: dict[str, Any]) -> dict[str, Any]:
    """result.json in today's terms: format 1 had only the window means, as train_*."""
    if not result or result.get("format", 1) >= 2:
        return result
    out = dict(result)
    out["window_train_loss"] = out.pop("train_loss", None)
    out["window_train_acc"] = out.pop("train_acc", None)
    # Format 1 decided steps_to_fit/steps_to_loss on windows cut short at epoch
    # ends: they are recomputed from metrics.csv on full windows instead.
    out.pop("steps_to_fit", None)
    out.pop("steps_to_loss", None)
    return out


def _device_name(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("name") or value.get("kind") or value.get("type") or value
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value)


def summarize(
    rd: RunDir,
    spec: RunSpec,
    rows: Sequence[dict[str, float | None]] | None = None,
    source: str | None = None,
) -> RunSummary:
    """One run's summary: result.json where it has a number, metrics.csv otherwise;
    `source`: the folder it was found under."""
    rows = rd.metrics_rows() if rows is None else rows
    result = _result_fields(rd.result() or {})
    env = rd.env() or {}
    derived = _from_metrics(rows, spec)

    def pick(key: str) -> Any:
        value = result.get(key)
        return value if value is not None else derived[key]

    try:
        total: int | None = spec.total_steps(spec.train_subset or 50_000)
    except AssertionError:
        total = None
    dataset = run_dataset(rd, env)
    drop = start_loss(dataset.num_classes)
    return RunSummary(
        run_id=spec.run_id,
        path=str(rd.path),
        model=spec.model,
        corruption=spec.corruption,
        level=label_level(spec),
        seed=spec.seed,
        weight_decay=spec.weight_decay,
        augment=spec.augment,
        status=str(result.get("status") or INCOMPLETE),
        step=_int(pick("step")),
        total_steps=total,
        train_loss=_num(pick("train_loss")),
        train_acc=_num(pick("train_acc")),
        window_train_loss=_num(pick("window_train_loss")),
        window_train_acc=_num(pick("window_train_acc")),
        test_acc=_num(pick("test_acc")),
        best_test_acc=_num(pick("best_test_acc")),
        best_test_step=_int(pick("best_test_step")),
        steps_to_fit=_int(pick("steps_to_fit")),
        steps_to_loss=_int(pick("steps_to_loss")),
        first_drop_step=_first_step(
            rows, lambda r: _finite(r.get("train_loss")) and r["train_loss"] <= drop
        ),
        fit_threshold=float(result.get("fit_threshold") or spec.fit_threshold),
        loss_threshold=float(result.get("loss_threshold") or spec.loss_threshold),
        diverged_at_step=_int(pick("diverged_at_step")),
        wall_seconds=_num(pick("wall_seconds")),
        images_per_s=_num(pick("images_per_s")),
        backend=env.get("backend"),
        device=_device_name(env.get("device")),
        error=result.get("error"),
        spec=spec,
        dataset=dataset,
        data_images=_sizes(env.get("data_images")),
        source=source,
        host=_text(env.get("host")),
        started=_num(env.get("started")),
        rethink_commit=_text(env.get("rethink_commit")),
        data_sha256=_text(env.get("data_sha256")),
        data_source=_text(env.get("data_source")),
    )


def _text(value: Any) -> str | None:
    """A non-empty string from env.json, else None."""
    return value if isinstance(value, str) and value else None


def _sizes(value: Any) -> tuple[int, int] | None:
    """env.json's "data_images" [training, test], or None when absent or malformed."""
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (int(value[0]), int(value[1]))
    return None
