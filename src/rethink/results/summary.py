"""One run folder as numbers: a `RunSummary` of its settings and outcome.

    summary = summarize(RunDir(path), spec)        # spec.json, metrics.csv, result.json, env.json
    summary.final_train_acc, summary.steps_to_fit  # numbers are None where unknown, never NaN
    summary.chance_error                           # 1 - 1/classes of the data set it trained on

Reads only the run folder, so finished, partial (no result.json: status
"incomplete"), diverged and crashed runs, and runs from other machines, all
summarize: result.json's number where it has one, else the number recomputed
from metrics.csv (full `log_every` windows only, `rethink.train.windows`).
Reading whole folders, or several (`load_grid`, `load_grids`), is
`rethink.results.loading`. Pure Python/NumPy; no Keras.

Each run knows its data set (`run_dataset`: env.json's "dataset", else
spec.json's data set name, else CIFAR-10 for folders written before runs
recorded one), and with it its chance level (test error 1 - 1/classes, loss
ln(classes)) and its splits' sizes (`RunSummary.split_sizes`: env.json's
"data_images", else the named data set's).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rethink.base.text import as_number, percent
from rethink.run.folder import RunDir, read_json
from rethink.spec import CORRUPTIONS, DataSpec, RunSpec, TrainingSpec, randomization_label
from rethink.spec.datasets import DEFAULT, KNOWN, Dataset
from rethink.train import windows

INCOMPLETE = "incomplete"  # no result.json: still running, or killed without one
CIFAR10 = KNOWN[DEFAULT]  # the data set of folders that record none (written before others)
START_FRACTION = 0.9  # "the loss has started to drop": first row below this x chance loss
WINDOW_MARK = "(w)"  # a training accuracy that is the window mean, not an evaluation

Rows = Sequence[dict[str, float | None]]


def chance_loss(num_classes: int) -> float:
    """Cross-entropy of a uniform guess over `num_classes` classes: ln(classes)."""
    return math.log(num_classes)


def start_loss(num_classes: int) -> float:
    """The training loss below which it "has started to drop": 0.9 ln(classes)."""
    return START_FRACTION * chance_loss(num_classes)


START_LOSS = start_loss(CIFAR10.num_classes)  # CIFAR-10's: 0.9 ln 10


def training_images(spec: DataSpec, sizes: tuple[int, int] | None) -> int | None:
    """The images a run trains on: its subset, else its data set's whole training split
    (`sizes`: (training, test) images); None where neither is known."""
    return spec.train_subset or (sizes[0] if sizes else None)


def planned_steps(spec: RunSpec, sizes: tuple[int, int] | None) -> int | None:
    """The steps a run is set to train: `steps`, or `epochs` whole passes over its
    training images (None where their number is not known)."""
    if spec.steps is not None:
        return spec.steps
    images = training_images(spec, sizes)
    return None if images is None else spec.total_steps(images)


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
    def split_sizes(self) -> tuple[int, int] | None:
        """(training, test) images of its data set's whole splits: as the run recorded
        them, else the named data set's (`Dataset.split_sizes`); None for an image
        folder's run that recorded none."""
        return self.data_images or self.dataset.split_sizes

    @property
    def randomization(self) -> str:
        return randomization_label(self.corruption, self.level)

    @property
    def plain(self) -> bool:
        """The randomization-test setting: no weight decay, no augmentation."""
        return self.weight_decay == 0 and not self.augment

    @property
    def sort_key(self) -> tuple[Any, ...]:
        """The order of tables: model, randomization (in CORRUPTIONS' order), level,
        weight decay, augmentation."""
        return (
            self.model,
            CORRUPTIONS.index(self.corruption),
            self.level or 0.0,
            self.weight_decay,
            self.augment,
        )

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


def window_marked(text: str, measure: str | None) -> str:
    """`text` marked WINDOW_MARK where the training accuracy it shows is (or includes)
    the window mean: `measure` "window" or "mixed"."""
    return f"{text} {WINDOW_MARK}" if measure in ("window", "mixed") else text


def train_acc_text(r: RunSummary, digits: int = 2) -> str:
    """The run's training accuracy, marked (w) where it is the window mean."""
    return window_marked(percent(r.final_train_acc, digits), r.train_acc_measure)


def datasets_of(runs: Iterable[RunSummary]) -> list[Dataset]:
    """The data sets of `runs`: CIFAR-10 first, then by name."""
    found = {r.dataset for r in runs}
    return sorted(found, key=lambda d: (d.name != CIFAR10.name, d.name, d.num_classes))


def one_dataset(runs: Iterable[RunSummary]) -> Dataset:
    """The one data set of `runs` (CIFAR-10 for none); ValueError if they mix data sets,
    which no claim or figure compares (the report and the figures take each apart)."""
    found = list(dict.fromkeys(r.dataset for r in runs))
    if len(found) > 1:
        names = ", ".join(d.name for d in found)
        raise ValueError(f"runs of several data sets ({names}): take each data set apart")
    return found[0] if found else CIFAR10


def label_level(spec: DataSpec) -> float | None:
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


def curve(rows: Rows, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of the rows where `column` is a finite number."""
    pairs = [
        (r["step"], r[column])
        for r in rows
        if r.get("step") is not None and as_number(r.get(column)) is not None
    ]
    return (
        np.array([p[0] for p in pairs], dtype=float),
        np.array([p[1] for p in pairs], dtype=float),
    )


def summarize(
    rd: RunDir, spec: RunSpec, rows: Rows | None = None, source: str | None = None
) -> RunSummary:
    """One run's summary: result.json where it has a number, metrics.csv otherwise
    (`rows`: its rows already read); `source`: the folder it was found under."""
    rows = rd.metrics_rows() if rows is None else rows
    result = _result_fields(rd.result() or {})
    env = rd.env() or {}
    derived = _from_metrics(rows, spec)

    def pick(key: str) -> Any:
        value = result.get(key)
        return value if value is not None else derived[key]

    dataset = run_dataset(rd, env)
    data_images = _sizes(env.get("data_images"))
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
        total_steps=planned_steps(spec, data_images or dataset.split_sizes),
        train_loss=as_number(pick("train_loss")),
        train_acc=as_number(pick("train_acc")),
        window_train_loss=as_number(pick("window_train_loss")),
        window_train_acc=as_number(pick("window_train_acc")),
        test_acc=as_number(pick("test_acc")),
        best_test_acc=as_number(pick("best_test_acc")),
        best_test_step=_int(pick("best_test_step")),
        steps_to_fit=_int(pick("steps_to_fit")),
        steps_to_loss=_int(pick("steps_to_loss")),
        first_drop_step=_first_step(rows, lambda r: _below(r.get("train_loss"), drop)),
        fit_threshold=float(result.get("fit_threshold") or spec.fit_threshold),
        loss_threshold=float(result.get("loss_threshold") or spec.loss_threshold),
        diverged_at_step=_int(pick("diverged_at_step")),
        wall_seconds=as_number(pick("wall_seconds")),
        images_per_s=as_number(pick("images_per_s")),
        backend=env.get("backend"),
        device=_device_name(env.get("device")),
        error=result.get("error"),
        spec=spec,
        dataset=dataset,
        data_images=data_images,
        source=source,
        host=_text(env.get("host")),
        started=as_number(env.get("started")),
        rethink_commit=_text(env.get("rethink_commit")),
        data_sha256=_text(env.get("data_sha256")),
        data_source=_text(env.get("data_source")),
    )


def _int(x: Any) -> int | None:
    v = as_number(x)
    return None if v is None else int(v)


def _below(x: Any, limit: float) -> bool:
    v = as_number(x)
    return v is not None and v <= limit


def _first_step(rows: Rows, test: Callable[[dict[str, float | None]], bool]) -> int | None:
    for r in rows:
        if r.get("step") is not None and test(r):
            return _int(r["step"])
    return None


def _from_metrics(rows: Rows, spec: TrainingSpec) -> dict[str, Any]:
    """The result.json numbers recomputed from metrics.csv (full windows only)."""
    rows = [r for r in rows if r.get("step") is not None]
    last = rows[-1] if rows else {}
    full = windows.full_rows(rows, spec.log_every)
    last_full = full[-1] if full else {}
    tests = [(r["step"], v) for r in rows if (v := as_number(r.get("test_acc"))) is not None]
    best = max(tests, key=lambda t: t[1]) if tests else (None, None)  # the first of equals
    evals = [r for r in rows if as_number(r.get("eval_train_acc")) is not None]
    speeds = [v for v in (as_number(r.get("images_per_s")) for r in rows) if v is not None]
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


def _text(value: Any) -> str | None:
    """A non-empty string from env.json, else None."""
    return value if isinstance(value, str) and value else None


def _sizes(value: Any) -> tuple[int, int] | None:
    """env.json's "data_images" [training, test], or None when absent or malformed."""
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (int(value[0]), int(value[1]))
    return None
