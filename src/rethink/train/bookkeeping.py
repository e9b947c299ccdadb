"""What a run has measured so far, as a checkpoint carries it to the next segment.

    book = Bookkeeping.from_meta(checkpoint.meta)  # any rethink version's checkpoint
    book.milestones.steps_to_fit                   # None until a full window fits
    checkpoint.meta = book.to_meta()               # the stored keys (below)

`Milestones` are what the metrics rows decided: the first full window that
fits the training set (`steps_to_fit`) or reaches the loss threshold, the
last test evaluation, the best one and the last full window's means. A
`Bookkeeping` adds the clock's totals and the open metrics window's sums:
everything a resumed run needs to continue its rows and its result exactly.

The stored keys are part of the checkpoint format: wall_seconds,
train_seconds, trained_steps, steps_to_fit, steps_to_loss, test_loss,
test_acc, best_test ([accuracy, step]), last_window ([loss, accuracy] of the
last full window; "last_train" in checkpoints written before fixed windows,
the last row's means) and window (the open window's [steps, loss sum,
accuracy sum]). Pure Python.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rethink.train.windows import reached_acc


@dataclass
class Milestones:
    """What the rows so far decided; updated as rows come (`Tracker`)."""

    steps_to_fit: int | None = None
    steps_to_loss: int | None = None
    test_loss: float | None = None
    test_acc: float | None = None
    best_test: tuple[float | None, int | None] = (None, None)  # (accuracy, step)
    last_full_window: tuple[float | None, float | None] = (None, None)  # (loss, accuracy)

    def full_window(
        self,
        step: int,
        loss: float | None,
        acc: float | None,
        fit_threshold: float,
        loss_threshold: float,
    ) -> None:
        """A full window's means at `step`: they may fit the set or reach the loss."""
        self.last_full_window = (loss, acc)
        if self.steps_to_fit is None and reached_acc(acc, fit_threshold):
            self.steps_to_fit = step
        if (
            self.steps_to_loss is None
            and loss is not None
            and math.isfinite(loss)
            and loss <= loss_threshold
        ):
            self.steps_to_loss = step

    def test(self, step: int, loss: float, acc: float) -> None:
        """A test evaluation at `step`: the last one, and the best one if it is."""
        self.test_loss, self.test_acc = loss, acc
        if self.best_test[0] is None or acc > self.best_test[0]:
            self.best_test = (acc, step)


@dataclass(frozen=True)
class Bookkeeping:
    """A checkpoint's meta: the milestones, the clock's totals, the open window."""

    milestones: Milestones
    wall_seconds: float = 0.0
    train_seconds: float = 0.0
    trained_steps: int = 0
    window: Sequence[float] | None = None  # rethink.train.windows.Window.state()

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> Bookkeeping:
        """Read a checkpoint's meta, of any rethink version (missing keys: a fresh run)."""
        best = meta.get("best_test") or (None, None)
        last = meta.get("last_window") or meta.get("last_train") or (None, None)
        milestones = Milestones(
            steps_to_fit=meta.get("steps_to_fit"),
            steps_to_loss=meta.get("steps_to_loss"),
            test_loss=meta.get("test_loss"),
            test_acc=meta.get("test_acc"),
            best_test=(best[0], best[1]),
            last_full_window=(last[0], last[1]),
        )
        return cls(
            milestones,
            wall_seconds=float(meta.get("wall_seconds", 0.0)),
            train_seconds=float(meta.get("train_seconds", 0.0)),
            trained_steps=int(meta.get("trained_steps", 0)),
            window=meta.get("window"),
        )

    def to_meta(self) -> dict[str, Any]:
        """The stored keys, in their order (JSON-ready)."""
        m = self.milestones
        return {
            "wall_seconds": self.wall_seconds,
            "train_seconds": self.train_seconds,
            "trained_steps": self.trained_steps,
            "steps_to_fit": m.steps_to_fit,
            "steps_to_loss": m.steps_to_loss,
            "test_loss": m.test_loss,
            "test_acc": m.test_acc,
            "best_test": list(m.best_test),
            "last_window": list(m.last_full_window),
            "window": None if self.window is None else list(self.window),
        }
