"""Each training example's history while a run trains, from the predictions its steps make.

    history = ExampleHistory(y_trained, spe, epochs, y_original, replaced)
    history.record(step, indices, predictions)   # after every dispatch
    row.update(history.close_window())           # at every metrics row
    arrays = history.state()                     # examples.npz, and the checkpoint
    history = ExampleHistory.from_state(arrays)  # resuming

Every training step classifies its batch anyway (the forward pass of the
update); the steppers return each example's predicted class, and the host,
which knows the epoch's order, keeps per example (a visit is a training step
whose batch holds the example; `step` is the global step, 1-based, as in
metrics.csv; the prediction is the one made in that step's forward pass,
before its update):

- `first_learned`: the first visit predicting the trained label (-1: never);
- `learned_for_good`: the visit that began the final run of correct visits:
  correct there and at every visit since (-1: wrong at its latest visit);
- `forgotten`: forgetting events, visits that are wrong after a correct one
  (Toneva et al. 2019);
- `visits`, `last_correct` (-1 before the first visit), `last_seen`.

For a label corruption (`y_original` and `replaced` given), each window also
sums the accuracy on the examples whose label changed and on those kept (a
label redrawn as its own class counts as kept: `randomization.label_changes`),
and how often a changed example is predicted as its original label. The
forgetting curve counts, per epoch and per gap since the example's previous
visit (in tenths of an epoch, up to two epochs), the visits, the correct ones,
those correct at the previous visit and those correct at both. Pure NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rethink.data.randomization import label_changes

GAP_BINS = 20  # gaps of 0.1 epoch, the last bin holding everything from 1.9 epochs on
BINS_PER_EPOCH = 10
FORMAT = 1
# The arrays of examples.npz: per example, then the forgetting curve (epoch, gap bin).
PER_EXAMPLE = (
    "first_learned",
    "learned_for_good",
    "forgotten",
    "visits",
    "last_correct",
    "last_seen",
)
CURVE = ("gap_visits", "gap_correct", "gap_was_correct", "gap_retained")
WINDOW_COLUMNS = ("train_acc_changed", "train_acc_kept", "train_orig_changed")


class ExampleHistory:
    """The per-example record of one run (see the module); `y_trained` the labels trained
    on, `spe` steps per epoch, `epochs` the run's epoch count."""

    def __init__(
        self,
        y_trained: np.ndarray,
        spe: int,
        epochs: int,
        y_original: np.ndarray | None = None,
        replaced: np.ndarray | None = None,
    ) -> None:
        self.y = np.asarray(y_trained, dtype=np.int32).reshape(-1)
        n = len(self.y)
        self.spe, self.epochs = int(spe), int(epochs)
        self.y_original = self.changed = self.replaced = None
        if y_original is not None and replaced is not None:
            self.y_original = np.asarray(y_original, dtype=np.int32).reshape(-1)
            self.replaced = np.asarray(replaced, dtype=bool).reshape(-1)
            self.changed, _ = label_changes(self.y_original, self.y, self.replaced)
        self.first_learned = np.full(n, -1, np.int32)
        self.learned_for_good = np.full(n, -1, np.int32)
        self.forgotten = np.zeros(n, np.int32)
        self.visits = np.zeros(n, np.int32)
        self.last_correct = np.full(n, -1, np.int8)
        self.last_seen = np.full(n, -1, np.int32)
        shape = (self.epochs, GAP_BINS)
        self.gap_visits, self.gap_correct = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
        self.gap_was_correct, self.gap_retained = (np.zeros(shape, np.int64) for _ in range(2))
        # The open window: changed visits, correct, as original; kept visits, correct.
        self.window = np.zeros(5, np.int64)
        self.step = 0

    @property
    def corrupted(self) -> bool:
        """Whether the run's labels were corrupted (the window columns are measured)."""
        return self.changed is not None

    def record(self, step: int, indices: np.ndarray, predictions: np.ndarray) -> None:
        """Steps `step`..`step`+c-1 (global, 1-based) trained the examples `indices` (c, b)
        and predicted `predictions` (c, b) for them. An example appears at most once in
        one call (a call never crosses an epoch end)."""
        indices = np.asarray(indices).reshape(len(indices), -1)
        predictions = np.asarray(predictions).reshape(indices.shape)
        count, batch = indices.shape
        idx = indices.reshape(-1).astype(np.int64)
        pred = predictions.reshape(-1)
        steps = np.repeat(np.arange(step, step + count, dtype=np.int32), batch)
        correct = pred == self.y[idx]
        prev = self.last_correct[idx]
        self.forgotten[idx] += (prev == 1) & ~correct
        first = correct & (self.first_learned[idx] < 0)
        self.first_learned[idx[first]] = steps[first]
        since = self.learned_for_good[idx]
        since = np.where(correct, np.where(prev == 1, since, steps), -1)
        self.learned_for_good[idx] = since
        self._gaps(idx, steps, correct, prev)
        self.visits[idx] += 1
        self.last_seen[idx] = steps
        self.last_correct[idx] = correct
        if self.changed is not None and self.y_original is not None:
            changed = self.changed[idx]
            original = pred == self.y_original[idx]
            self.window += [
                np.count_nonzero(changed),
                np.count_nonzero(changed & correct),
                np.count_nonzero(changed & original),
                np.count_nonzero(~changed),
                np.count_nonzero(~changed & correct),
            ]
        self.step = max(self.step, step + count - 1)

    def _gaps(
        self, idx: np.ndarray, steps: np.ndarray, correct: np.ndarray, prev: np.ndarray
    ) -> None:
        seen = self.last_seen[idx] >= 0
        if not np.any(seen):
            return
        gap = steps[seen] - self.last_seen[idx][seen]
        bins = np.minimum(GAP_BINS - 1, gap * BINS_PER_EPOCH // self.spe)
        epoch = np.minimum(self.epochs - 1, (steps[seen] - 1) // self.spe)
        was, now = prev[seen] == 1, correct[seen]
        cell = epoch * GAP_BINS + bins
        size = self.gap_visits.size
        for table, mask in (
            (self.gap_visits, None),
            (self.gap_correct, now),
            (self.gap_was_correct, was),
            (self.gap_retained, was & now),
        ):
            cells = cell if mask is None else cell[mask]
            table += np.bincount(cells, minlength=size).reshape(table.shape)

    def close_window(self) -> dict[str, float | None]:
        """The window's accuracies on changed and kept examples (None where not measured:
        no corruption, or no such example in the window); starts the next window."""
        changed, changed_correct, changed_original, kept, kept_correct = (
            int(v) for v in self.window
        )
        self.window[:] = 0
        if not self.corrupted:
            return dict.fromkeys(WINDOW_COLUMNS)
        return {
            "train_acc_changed": _ratio(changed_correct, changed),
            "train_acc_kept": _ratio(kept_correct, kept),
            "train_orig_changed": _ratio(changed_original, changed),
        }

    def state(self) -> dict[str, np.ndarray]:
        """Everything needed to continue exactly, as NumPy arrays (examples.npz)."""
        arrays: dict[str, np.ndarray] = {k: getattr(self, k) for k in (*PER_EXAMPLE, *CURVE)}
        arrays.update(
            y_trained=self.y,
            window=self.window.copy(),
            header=np.array([FORMAT, self.spe, self.epochs, self.step], np.int64),
        )
        if self.y_original is not None and self.replaced is not None:
            arrays.update(y_original=self.y_original, replaced=self.replaced)
            arrays["changed"] = np.asarray(self.changed)
        return {k: np.array(v, copy=True) for k, v in arrays.items()}

    @classmethod
    def from_state(cls, arrays: dict[str, Any]) -> ExampleHistory:
        """The history `state()` returned (ValueError when arrays are missing)."""
        missing = [
            k for k in (*PER_EXAMPLE, *CURVE, "y_trained", "window", "header") if k not in arrays
        ]
        if missing:
            raise ValueError(f"an example history without {', '.join(missing)}")
        _, spe, epochs, step = (int(v) for v in arrays["header"])
        history = cls(
            arrays["y_trained"], spe, epochs, arrays.get("y_original"), arrays.get("replaced")
        )
        for k in (*PER_EXAMPLE, *CURVE):
            value = getattr(history, k)
            value[...] = np.asarray(arrays[k], dtype=value.dtype)
        history.window[:] = np.asarray(arrays["window"], dtype=np.int64)
        history.step = step
        return history


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def forgetting_counts(correct: np.ndarray) -> np.ndarray:
    """Forgetting events per example from its visits' correctness (visits, examples):
    a visit that is wrong after a correct one. The reference `record` must agree with."""
    c = np.asarray(correct, dtype=bool)
    return np.sum(c[:-1] & ~c[1:], axis=0) if len(c) > 1 else np.zeros(c.shape[1:], int)
