"""A run's clock: wall time, training time and trained steps, across resumed segments.

    clock = Clock(wall_seconds, train_seconds, trained_steps)  # from a checkpoint (or zeros)
    clock.start_fit(); clock.count(steps); clock.end_fit()    # around each epoch's training
    clock.segment_images_per_s(batch_size)                    # progress: this segment so far
    clock.images_per_s_since_mark(batch_size)                 # a metrics row: since the last one

Training time counts only the time inside fits (not evaluations, not
checkpoints), and the totals (`train_seconds`, `trained_steps`) only closed
fits: a run stopped inside an epoch reports the speed of its whole epochs.
Pure Python.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    """Times one segment of a run (start to stop or end), on top of what earlier ones took.

    `now`: the time in seconds (default `time.perf_counter`; tests pass their own)."""

    def __init__(
        self,
        wall_seconds: float = 0.0,
        train_seconds: float = 0.0,
        trained_steps: int = 0,
        now: Callable[[], float] = time.perf_counter,
    ):
        self.now = now
        self.prior_wall_seconds = wall_seconds
        self.prior_train_seconds = train_seconds
        self.prior_trained_steps = trained_steps
        self.t0 = self.now()
        self.fit_seconds = 0.0  # this segment's closed fits
        self.fit_steps = 0  # this segment's closed fits
        self._fit_t0: float | None = None
        self._open_steps = 0  # steps of the fit running now
        self._mark = (0.0, 0)  # (training seconds, steps) at the last speed mark

    def wall_seconds(self) -> float:
        """Since the run's first segment began, this one up to now."""
        return self.prior_wall_seconds + self.now() - self.t0

    def start_fit(self) -> None:
        self._fit_t0 = self.now()
        self._open_steps = 0

    def count(self, steps: int) -> None:
        """`steps` more training steps of the fit running now."""
        self._open_steps += steps

    def end_fit(self) -> None:
        if self._fit_t0 is not None:
            self.fit_seconds += self.now() - self._fit_t0
        self._fit_t0 = None
        self.fit_steps += self._open_steps
        self._open_steps = 0

    def segment_seconds(self) -> float:
        """This segment's training time so far, the running fit included."""
        running = 0.0 if self._fit_t0 is None else self.now() - self._fit_t0
        return self.fit_seconds + running

    def segment_steps(self) -> int:
        """This segment's training steps so far, the running fit included."""
        return self.fit_steps + self._open_steps

    def segment_images_per_s(self, batch_size: int) -> float | None:
        """This segment's speed so far (None before any training time)."""
        seconds = self.segment_seconds()
        return self.segment_steps() * batch_size / seconds if seconds > 0 else None

    def images_per_s_since_mark(self, batch_size: int) -> float | None:
        """The speed since the previous call (or the segment's start), rounded to 0.1;
        then marks now. None when no step or no time passed."""
        seconds, steps = self.segment_seconds(), self.segment_steps()
        dt, dn = seconds - self._mark[0], steps - self._mark[1]
        self._mark = (seconds, steps)
        return round(dn * batch_size / dt, 1) if dn > 0 and dt > 0 else None

    @property
    def train_seconds(self) -> float:
        """All segments' closed fits."""
        return self.prior_train_seconds + self.fit_seconds

    @property
    def trained_steps(self) -> int:
        """All segments' closed fits."""
        return self.prior_trained_steps + self.fit_steps

    def images_per_s(self, batch_size: int) -> float | None:
        """The run's speed over all its closed fits, rounded to 0.1 (None without any)."""
        if self.train_seconds <= 0 or self.trained_steps <= 0:
            return None
        return round(self.trained_steps * batch_size / self.train_seconds, 1)
