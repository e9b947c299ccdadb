"""The run folder: the stable, self-describing on-disk format of one run.

    <out>/<run id>/
        spec.json      every setting, defaults resolved (RunSpec.to_dict())
        env.json       backend, versions, device, host, data source + sha256
        metrics.csv    a row every `log_every` steps (fixed windows) and at each epoch end
        result.json    written last, atomically: status and final numbers
        checkpoint.npz model + optimizer state at the last epoch end (atomic)
        examples.npz   each training example's history (rethink.train.examples),
                       as of the checkpoint, and at the end (atomic)
        progress.json  live progress, rewritten every ~2 s while training

Plots, reports and the grid read runs only through this module, so a crashed
or half-finished grid, or one made on another machine, can still be read.
Pure Python/NumPy; no Keras.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rethink.base.atomic import write_text_atomically
from rethink.spec import RunSpec
from rethink.train.outcome import Status

SPEC = "spec.json"
ENV = "env.json"
METRICS = "metrics.csv"
RESULT = "result.json"
CHECKPOINT = "checkpoint.npz"
PROGRESS = "progress.json"
MODEL_FILE = "model.keras"  # the trained model, once a run completed
EXAMPLES = "examples.npz"

# progress.json keys: step, total_steps, epoch, train_loss, train_acc, test_acc
# (last evaluated, or null), images_per_s, seconds (elapsed training time),
# updated (unix time), pid, host.

# metrics.csv columns, in order (documented in the README, "The run folder").
# A row is written at every global step that is a multiple of log_every, and
# at every epoch end and the last step (where the test split is evaluated);
# one row per step, whichever of these it is.
#   window       steps the training columns average: log_every for a full
#                window; fewer only in the last row of a run (or a diverged
#                one); empty where the row has no training columns (an
#                evaluation that does not fall on a multiple of log_every)
#   train_loss   mean training loss (penalty included) over the window, in
#   train_acc    training mode on the batches as trained (augmented, if so)
#   test_loss    the whole test split, inference mode, at epoch ends and the
#   test_acc     last step; empty elsewhere
#   eval_train_loss  the whole training split as the run sees it (corrupted,
#   eval_train_acc   not augmented), inference mode: at the last step, and every
#                    eval_train_every epochs when set; empty elsewhere
#   train_acc_changed  label corruptions only (else empty): the window's training
#   train_acc_kept     accuracy on the examples whose label the corruption changed
#                      and on those it kept (a label redrawn as itself is kept),
#   train_orig_changed and how often a changed one was predicted as its original
#                      label; from each step's own predictions (no extra pass)
# Files written before windows were fixed have no window/eval_train columns;
# their rows averaged the steps since the previous row (rethink.train.windows).
METRICS_COLUMNS = (
    "step",
    "epoch",
    "lr",
    "window",
    "train_loss",
    "train_acc",
    "test_loss",
    "test_acc",
    "eval_train_loss",
    "eval_train_acc",
    "seconds",
    "images_per_s",
    "train_acc_changed",
    "train_acc_kept",
    "train_orig_changed",
)

# result.json: `rethink.train.outcome` (RESULT_KEYS, Status, RESULT_FORMAT) defines
# it; every key is present, numbers may be null. Its numbers:
#   train_loss, train_acc        the whole training split (as the run sees it, not
#                                augmented), inference mode, at the end; null if
#                                the run ended before it (format 1: the last window)
#   window_train_loss/_acc       the last full window's means, as trained
#   test_loss, test_acc          the last evaluation of the test split
#   best_test_acc, _step         the highest test accuracy of any evaluation, its step
#   steps_to_fit, steps_to_loss  first full window at fit_threshold / loss_threshold
#   diverged_at_step             first row whose loss was NaN or inf
#   wall_seconds, images_per_s   training time (resumed segments added up), speed


def _clean(value: Any) -> Any:
    """JSON has no NaN/inf: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_text_atomically(path, json.dumps(_clean(data), indent=2, sort_keys=True) + "\n")


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object at `path`, or None if it is missing or unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class RunDir:
    """A run folder on disk; reading never raises for a partial folder."""

    path: Path

    @property
    def spec_path(self) -> Path:
        return self.path / SPEC

    @property
    def env_path(self) -> Path:
        return self.path / ENV

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS

    @property
    def result_path(self) -> Path:
        return self.path / RESULT

    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT

    @property
    def examples_path(self) -> Path:
        return self.path / EXAMPLES

    @property
    def progress_path(self) -> Path:
        return self.path / PROGRESS

    def progress(self) -> dict[str, Any] | None:
        return read_json(self.progress_path)

    def spec(self) -> RunSpec | None:
        data = read_json(self.spec_path)
        if data is None:
            return None
        try:
            from rethink.run.model import adopt_model  # a model registered elsewhere

            adopt_model(self.path, if_unknown=True)
            return RunSpec.from_dict(data)
        except (TypeError, ValueError):
            return None

    def env(self) -> dict[str, Any] | None:
        return read_json(self.env_path)

    def result(self) -> dict[str, Any] | None:
        return read_json(self.result_path)

    def status(self) -> str | None:
        """result.json's status, or None while the run has not ended."""
        result = self.result()
        return None if result is None else result.get("status")

    def is_completed(self) -> bool:
        return self.status() == Status.COMPLETED

    def metrics_rows(self) -> list[dict[str, float | None]]:
        """metrics.csv as dicts of floats (None for empty cells); [] if absent."""
        return list(iter_metrics(self.metrics_path))


def _num(cell: str) -> float | None:
    if cell == "":
        return None
    try:
        return float(cell)
    except ValueError:
        return None


def iter_metrics(path: Path) -> Iterator[dict[str, float | None]]:
    """Rows of a metrics.csv; a torn last line (a run killed mid-write) is skipped."""
    try:
        f = path.open(newline="")
    except OSError:
        return
    with f:
        reader = csv.DictReader(f)
        for row in reader:
            if None in row.values() or None in row:  # short or long row: torn write
                continue
            yield {k: _num(v) for k, v in row.items()}


class MetricsWriter:
    """Appends rows to metrics.csv, flushing each, so pandas can read it mid-run."""

    def __init__(self, path: Path, keep_until_step: int | None = None) -> None:
        """Open for appending; with `keep_until_step`, rows past it are dropped first.

        Resuming from a checkpoint at step S keeps rows with step <= S, so the
        resumed run's metrics equal an uninterrupted run's.
        """
        self.path = path
        rows = list(iter_metrics(path)) if path.exists() else []
        if keep_until_step is not None:
            rows = [r for r in rows if r["step"] is not None and r["step"] <= keep_until_step]
        else:
            rows = []
        text = ",".join(METRICS_COLUMNS) + "\n"
        for r in rows:
            text += ",".join(_fmt(r.get(c)) for c in METRICS_COLUMNS) + "\n"
        write_text_atomically(path, text)
        self._f = path.open("a", newline="")

    def write(self, row: dict[str, Any]) -> None:
        self._f.write(",".join(_fmt(row.get(c)) for c in METRICS_COLUMNS) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def find_runs(folder: Path) -> list[RunDir]:
    """Run folders directly below `folder` (those holding a spec.json), sorted."""
    if not folder.is_dir():
        return []
    return [RunDir(p) for p in sorted(folder.iterdir()) if (p / SPEC).is_file()]
