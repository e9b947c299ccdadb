"""What training reports to: `Observer`, subclassed by whoever writes or shows a run.

    class Rows(Observer):
        def on_row(self, row): print(row["step"], row["train_loss"])
    train(spec, data, Rows())

Training itself writes nothing; a run folder (`rethink.run.execute.FolderObserver`)
and a progress display (`rethink.run.progress`) are observers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rethink.train.checkpoint import Checkpoint


class Observer:
    """What training reports to; subclass and override what you act upon (no-ops here)."""

    def on_row(self, row: dict[str, float | None]) -> None:
        """A metrics row (rethink.run.folder.METRICS_COLUMNS)."""

    def on_progress(self, progress: dict[str, float | None]) -> None:
        """After every dispatch: step, running means, speed."""

    def on_built(self, model: Any) -> None:
        """The compiled Keras model, built (and restored from a checkpoint) before its
        first step."""

    def on_checkpoint(self, checkpoint: Checkpoint) -> None:
        """At the end of every whole epoch."""

    def on_examples(self, arrays: dict[str, np.ndarray]) -> None:
        """The per-example history (`rethink.train.examples`) at every checkpoint and at
        the run's end."""

    def on_model(self, model: Any) -> None:
        """The trained Keras model once the run completed: its variables hold the final
        weights (a native loop's state written back into them)."""
