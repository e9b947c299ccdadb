"""A run's per-example history read back (examples.npz), and what the report says of it.

    arrays = load_examples(Path(run.summary.path))    # None: no examples.npz
    stats = memorization_stats(runs)                  # one per run with corrupted labels
    curve = forgetting_curve(arrays, first, last)     # accuracy against the gap since last seen

examples.npz is written by training (`rethink.train.examples`, whose module
doc defines its arrays): per example the step it was first learned, the step
it was learned for good, its forgetting events; for a label corruption which
labels changed. The report's section "Memorization, example by example"
states, per run with corrupted labels, whether the kept (clean) examples were
learned first (median first-learned step, kept against changed: "yes" when
the kept median is lower by more than half an epoch, "no" when higher by as
much, else no difference: an example is visited once an epoch, so its
first-learned step is known to an epoch at best), the peak
test accuracy and its step against the final one, and the forgetting counts.
A run without the file (made before rethink recorded it) gets a row that
says so, and no verdict. Pure NumPy; no Keras.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rethink.results.summary import RunSummary
from rethink.run.folder import EXAMPLES
from rethink.train.examples import BINS_PER_EPOCH

LABEL_CORRUPTIONS = ("partial_labels", "random_labels")


def load_examples(run_path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a run folder's examples.npz, or None (absent or unreadable)."""
    path = run_path / EXAMPLES
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None


@dataclass(frozen=True)
class MemorizationStats:
    """One run with corrupted labels, example by example (None: not measured)."""

    run_id: str
    model: str
    level: float | None
    examples: int | None  # training examples recorded
    changed: int | None  # labels the corruption changed
    redrawn_same: int | None  # labels redrawn as their own class: counted as kept
    median_first_kept: float | None  # median first-learned step of kept examples learned
    median_first_changed: float | None
    never_kept: float | None  # fraction of kept examples never learned
    never_changed: float | None
    clean_first: bool | None  # kept median half an epoch below changed (None: neither way)
    forgotten_kept: float | None  # mean forgetting events per kept example
    forgotten_changed: float | None
    best_test_acc: float | None
    best_test_step: int | None
    final_test_acc: float | None
    note: str = ""


MISSING = (
    "examples",
    "changed",
    "redrawn_same",
    "median_first_kept",
    "median_first_changed",
    "never_kept",
    "never_changed",
    "clean_first",
    "forgotten_kept",
    "forgotten_changed",
)


def _median(values: np.ndarray) -> float | None:
    learned = values[values >= 0]
    return float(np.median(learned)) if learned.size else None


def _mean(values: np.ndarray) -> float | None:
    return float(np.mean(values)) if values.size else None


def _never(first: np.ndarray) -> float | None:
    return float(np.mean(first < 0)) if first.size else None


def run_stats(summary: RunSummary) -> MemorizationStats | None:
    """The stats of one run; None unless its labels were corrupted (level above 0)."""
    if summary.corruption not in LABEL_CORRUPTIONS or not (summary.level or 0) > 0:
        return None
    tests = (summary.best_test_acc, summary.best_test_step, summary.test_acc)
    arrays = load_examples(Path(summary.path))
    if arrays is None or "changed" not in arrays:
        none = dict.fromkeys(MISSING)
        return MemorizationStats(
            summary.run_id,
            summary.model,
            summary.level,
            **none,
            best_test_acc=tests[0],
            best_test_step=tests[1],
            final_test_acc=tests[2],
            note="no examples.npz with the changed labels (a run made before rethink "
            "recorded them): nothing judged",
        )
    changed = arrays["changed"].astype(bool)
    first, forgotten = arrays["first_learned"], arrays["forgotten"]
    kept_first, changed_first = _median(first[~changed]), _median(first[changed])
    clean_first = None
    if kept_first is not None and changed_first is not None:
        margin = int(arrays["header"][1]) / 2  # half an epoch of steps
        if abs(changed_first - kept_first) > margin:
            clean_first = kept_first < changed_first
    same = arrays["replaced"].astype(bool) & ~changed
    return MemorizationStats(
        summary.run_id,
        summary.model,
        summary.level,
        int(changed.size),
        int(changed.sum()),
        int(same.sum()),
        kept_first,
        changed_first,
        _never(first[~changed]),
        _never(first[changed]),
        clean_first,
        _mean(forgotten[~changed]),
        _mean(forgotten[changed]),
        *tests,
    )


def memorization_stats(runs: Sequence[RunSummary]) -> list[MemorizationStats]:
    """`run_stats` of every run with corrupted labels, in the runs' order."""
    return [s for s in (run_stats(r) for r in runs) if s is not None]


def forgetting_curve(
    arrays: dict[str, np.ndarray], first_epoch: int, last_epoch: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gap in epochs, accuracy, retention) over epochs first..last-1: per gap bin since
    an example's previous visit, the fraction of visits correct, and of those correct
    at the previous visit, the fraction still correct (NaN where no visit)."""
    visits = arrays["gap_visits"][first_epoch:last_epoch].sum(axis=0)
    correct = arrays["gap_correct"][first_epoch:last_epoch].sum(axis=0)
    was = arrays["gap_was_correct"][first_epoch:last_epoch].sum(axis=0)
    kept = arrays["gap_retained"][first_epoch:last_epoch].sum(axis=0)
    gaps = (np.arange(len(visits)) + 0.5) / BINS_PER_EPOCH  # the bins' centres
    with np.errstate(invalid="ignore", divide="ignore"):
        return gaps, correct / visits, kept / was
