"""The arrays one run trains on, and their order: pure NumPy, no Keras.

    raw = rethink.data.load_cifar10(spec.data)
    data = prepare(spec, raw)          # subset -> randomize -> preprocess
    order = epoch_order(spec.seed, epoch=3, n=len(data.y_train))

Everything random here is drawn from a `np.random.Generator` seeded by the
spec, never from global state, so the same spec gives the same corruption,
the same data order and the same augmentation on every backend, and a resumed
run continues with exactly the batches an uninterrupted one would have seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rethink.spec import RunSpec

# Stream tags keep the generators for different purposes independent.
_ORDER, _AUGMENT = 1, 2

Raw = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class RunData:
    """Preprocessed float32 images (N, 28, 28, 3) and int32 labels, as trained on."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def prepare(spec: RunSpec, raw: Raw) -> RunData:
    """Subset (same for every run of a grid), corrupt (by spec.seed), preprocess."""
    from rethink.corruption import randomize
    from rethink.data import preprocess, subset

    (x_train, y_train), (x_test, y_test) = raw
    if spec.train_subset is not None:
        if spec.train_subset > len(x_train):
            raise ValueError(
                f"train subset {spec.train_subset} is larger than the {len(x_train)} training images"
            )
        x_train, y_train = subset(x_train, y_train, spec.train_subset, seed=spec.subset_seed)
    if spec.test_subset is not None and spec.test_subset < len(x_test):
        x_test, y_test = subset(x_test, y_test, spec.test_subset, seed=spec.subset_seed)
    level = 1.0 if spec.level is None else spec.level
    x_train, y_train, x_test, y_test = randomize(
        x_train, y_train, x_test, y_test, spec.corruption, level=level, seed=spec.seed
    )
    return RunData(
        x_train=preprocess(x_train),
        y_train=np.asarray(y_train, dtype=np.int32),
        x_test=preprocess(x_test),
        y_test=np.asarray(y_test, dtype=np.int32),
    )


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The permutation of the training set used in `epoch` (0-based)."""
    return np.random.default_rng([seed, _ORDER, epoch]).permutation(n)


def augment(x: np.ndarray, seed: int, epoch: int, pad: int = 4) -> np.ndarray:
    """Random crop after zero-padding by `pad`, and a random horizontal flip.

    Table 1's "random crop" (paper section 3); applied to preprocessed images,
    so the zero padding is the per-image mean. Drawn per (seed, epoch).
    """
    rng = np.random.default_rng([seed, _AUGMENT, epoch])
    n, h, w, _ = x.shape
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dy = np.asarray(rng.integers(0, 2 * pad + 1, size=(n,)))
    dx = np.asarray(rng.integers(0, 2 * pad + 1, size=(n,)))
    flip = np.asarray(rng.random(size=(n,))) < 0.5
    rows = dy[:, None] + np.arange(h)[None, :]  # (n, h)
    cols = dx[:, None] + np.arange(w)[None, :]  # (n, w)
    cols = np.where(flip[:, None], cols[:, ::-1], cols)
    out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return np.ascontiguousarray(out, dtype=x.dtype)
