"""Metrics windows: training loss and accuracy as means over fixed step windows.

Pure Python; no Keras, no NumPy needed. Training feeds per-step sums in; a
row comes out at every global step that is a multiple of `log_every`, its
loss and accuracy the means over exactly the `log_every` steps before it,
whatever the epoch boundaries:

    window = Window(log_every=100)
    window.add(steps=37, loss_sum=..., acc_sum=...)   # any split of the steps
    if window.due(step):                               # step % 100 == 0
        loss, acc, n = window.close()                  # n == 100

Readers of metrics.csv use the same rules (`full_rows`, `first_full_step`):
only rows whose window is a whole `log_every` count for "time to fit" and
"time to loss", so a short window (the last one of a run, or a row of a
folder written before windows were fixed, right after an epoch end) never
decides them. Divergence is the first row whose loss is not finite, window
or not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Float rounding of means: 100% accuracy can read as 0.99999994.
EPS = 1e-6

Row = Mapping[str, Any]


@dataclass
class Window:
    """The running sums of the current window; its state survives checkpoints."""

    log_every: int
    count: int = 0
    loss_sum: float = 0.0
    acc_sum: float = 0.0

    def add(self, steps: int, loss_sum: float, acc_sum: float) -> None:
        """Add `steps` training steps whose losses and accuracies sum to these."""
        self.count += steps
        self.loss_sum += loss_sum
        self.acc_sum += acc_sum

    def due(self, step: int) -> bool:
        """Whether global step `step` ends a window (a multiple of log_every)."""
        return step > 0 and step % self.log_every == 0 and self.count > 0

    def means(self) -> tuple[float | None, float | None]:
        if self.count == 0:
            return None, None
        return self.loss_sum / self.count, self.acc_sum / self.count

    def close(self) -> tuple[float | None, float | None, int]:
        """(mean loss, mean accuracy, steps) of the window so far; a new one starts."""
        loss, acc = self.means()
        n = self.count
        self.count, self.loss_sum, self.acc_sum = 0, 0.0, 0.0
        return loss, acc, n

    def state(self) -> list[float]:
        return [self.count, self.loss_sum, self.acc_sum]

    @classmethod
    def from_state(cls, log_every: int, state: Sequence[float] | None) -> Window:
        if not state:
            return cls(log_every)
        return cls(log_every, int(state[0]), float(state[1]), float(state[2]))


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def row_windows(rows: Iterable[Row]) -> list[int | None]:
    """Each row's window: the steps its training columns average (None: no training values).

    Rows written since windows were fixed carry a `window` column; older rows
    averaged the steps since the previous row, which is what is inferred
    for them here (so a row right after an epoch end gets its short window).
    """
    out: list[int | None] = []
    last_step: float | None = 0.0
    for r in rows:
        step: Any = r.get("step")
        window: Any = r.get("window")
        has_train = r.get("train_loss") is not None or r.get("train_acc") is not None
        if not has_train:
            out.append(None)
        elif _finite(window):
            out.append(int(window))
        elif _finite(step) and last_step is not None:
            out.append(int(step - last_step))
        else:
            out.append(None)
        if _finite(step):
            last_step = float(step)
    return out


def full_rows(rows: Sequence[Row], log_every: int) -> list[Row]:
    """The rows whose training means cover a whole `log_every` window."""
    return [r for r, w in zip(rows, row_windows(rows), strict=True) if w == log_every]


def first_full_step(rows: Sequence[Row], log_every: int, test: Callable[[Row], bool]) -> int | None:
    """The step of the first full-window row passing `test`, or None."""
    for r in full_rows(rows, log_every):
        if _finite(r.get("step")) and test(r):
            return int(r["step"])
    return None


def steps_to_acc(rows: Sequence[Row], log_every: int, threshold: float) -> int | None:
    """First full window whose mean training accuracy reaches `threshold`."""
    return first_full_step(
        rows, log_every, lambda r: _finite(r.get("train_acc")) and r["train_acc"] >= threshold - EPS
    )


def steps_to_loss(rows: Sequence[Row], log_every: int, threshold: float) -> int | None:
    """First full window whose mean training loss is at most `threshold`."""
    return first_full_step(
        rows, log_every, lambda r: _finite(r.get("train_loss")) and r["train_loss"] <= threshold
    )


def diverged_at(rows: Iterable[Row]) -> int | None:
    """The step of the first row whose training loss is not finite (NaN or inf)."""
    for r in rows:
        loss = r.get("train_loss")
        if isinstance(loss, float) and not math.isfinite(loss) and _finite(r.get("step")):
            return int(r["step"])
    return None


def reached_acc(acc: float | None, threshold: float) -> bool:
    """Whether a (mean) accuracy counts as reaching `threshold`, rounding allowed."""
    return acc is not None and math.isfinite(acc) and acc >= threshold - EPS


__all__ = [
    "EPS",
    "Window",
    "diverged_at",
    "first_full_step",
    "full_rows",
    "reached_acc",
    "row_windows",
    "steps_to_acc",
    "steps_to_loss",
]
