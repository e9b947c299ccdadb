"""A seeded, class-balanced random subset of a labelled data set.

    x_small, y_small = subset(x_train, y_train, n=5_000, seed=0)

Each class gets `n // classes` examples, the remainder going one each to
classes drawn at random (a class with too few examples gives what it has and
the rest is shared out among the others). The result is shuffled, so data
stored class by class do not come back as one class first. The same
(x, y, n, seed) always gives the same subset.
"""

from __future__ import annotations

import numpy as np


def subset(x: np.ndarray, y: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` examples of (x, y), as equally many per class as possible, in random order."""
    labels = np.asarray(y)
    if len(x) != len(labels):
        raise ValueError(f"x has {len(x)} examples but y has {len(labels)} labels")
    if labels.size != len(labels):
        raise ValueError(f"y must hold one label per example, got shape {labels.shape}")
    if not 0 < n <= len(x):
        raise ValueError(f"subset size must be in 1..{len(x)}, got {n}")
    labels = labels.reshape(-1)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quotas = _quotas(counts, n, rng)
    picked = [
        rng.choice(np.flatnonzero(labels == cls), size=quota, replace=False)
        for cls, quota in zip(classes, quotas, strict=True)
    ]
    index = rng.permutation(np.concatenate(picked))
    return x[index], y[index]


def _quotas(counts: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """How many to take of each class: equal shares, capped by what each class has."""
    quotas = np.zeros(len(counts), dtype=np.int64)
    remaining = n
    while remaining > 0:
        open_ = np.flatnonzero(quotas < counts)
        share = remaining // len(open_)
        if share == 0:  # fewer left than open classes: one each to random ones
            quotas[rng.choice(open_, size=remaining, replace=False)] += 1
            break
        add = np.minimum(share, counts[open_] - quotas[open_])
        quotas[open_] += add
        remaining -= int(add.sum())
    return quotas
