"""Training on tiny synthetic data: the data, a small spec, an observer that records."""

from __future__ import annotations

from typing import Any

import numpy as np

from rethink.data.pipeline import RunData
from rethink.spec import RunSpec
from rethink.train.checkpoint import Checkpoint
from rethink.train.observer import Observer


def synthetic_data(n: int = 256, seed: int = 0, *, raw: bool = False) -> RunData:
    """`n` random preprocessed images and labels; the first 64 again as the test split.

    `raw`: also random uint8 32x32 images, the ones the window crop takes its
    windows from (drawn after the others: the same seed gives the same `x`, `y`).
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 28, 28, 3)).astype("float32")
    y = rng.integers(0, 10, n).astype("int32")
    if not raw:
        return RunData(x, y, x[:64], y[:64])
    raw_images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    return RunData(x, y, x[:64], y[:64], x_train_raw=raw_images)


def tiny_spec(**kw: Any) -> RunSpec:
    """An MLP spec, 40 steps of batch 32 logged every 5; `kw` overrides any field."""
    base: dict[str, Any] = dict(
        model="mlp_1x512", steps=40, batch_size=32, log_every=5, learning_rate=0.01
    )
    base.update(kw)
    return RunSpec(**base)


class Recorder(Observer):
    """Keeps every row, checkpoint and progress step; can interrupt after a row."""

    def __init__(self, interrupt_after_row_step: int | None = None) -> None:
        self.rows: list[dict[str, float | None]] = []
        self.checkpoints: list[Checkpoint] = []
        self.progress: list[int] = []  # the step of every progress report
        self.interrupt_after = interrupt_after_row_step

    def on_row(self, row: dict[str, float | None]) -> None:
        self.rows.append(row)
        if self.interrupt_after is not None and row["step"] == self.interrupt_after:
            raise KeyboardInterrupt

    def on_progress(self, progress: dict[str, float | None]) -> None:
        self.progress.append(int(progress["step"] or 0))

    def on_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.checkpoints.append(checkpoint)
