"""The paper's randomizations of a data set (Zhang et al. 2017, section 2.1), in NumPy.

Pure NumPy, no Keras. The corruption is drawn once from `seed` and is a pure
function of (data, corruption, level, seed), so a run can redraw exactly the
same corrupted data set at any time:

    x_tr, y_tr, x_te, y_te = randomize(x_tr, y_tr, x_te, y_te, "shuffled_pixels", seed=3)

Images are uint8 arrays (N, H, W, C) (CIFAR-10: 32x32x3), labels integer
arrays (N,) or (N, 1) in 0..num_classes-1, where `num_classes` is the data
set's class count (`Dataset.num_classes`; CIFAR-10's 10, the paper's, unless
given). Outputs are new arrays of the same dtype and shape; the inputs are
never modified. Label corruptions change the training labels only
(test labels stay true, so test error measures generalization); pixel
corruptions transform training and test images alike.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

from rethink.spec import CORRUPTIONS
from rethink.spec.datasets import DEFAULT, KNOWN

CORRUPTION_NAMES: tuple[str, ...] = CORRUPTIONS
# The class count when none is given: the default data set's (CIFAR-10, 10).
DEFAULT_CLASSES = KNOWN[DEFAULT].num_classes

# Pixel corruptions work on this many images at a time, to bound the memory of
# the per-image permutation indices and of the float noise.
_CHUNK = 4096

Randomized = tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray
]  # x_train, y_train, x_test, y_test


def randomize(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    corruption: str,
    level: float = 1.0,
    seed: int = 0,
    num_classes: int = DEFAULT_CLASSES,
) -> Randomized:
    """Return (x_train, y_train, x_test, y_test) with `corruption` applied.

    Corruptions (paper section 2.1):
      - true_labels: unchanged copies.
      - partial_labels: independently with probability `level`, a training
        label is replaced by a uniformly random class out of `num_classes`
        (which may equal the old one, so about level * (1 - 1/num_classes)
        of the labels change: level * 9/10 for CIFAR-10).
        For one seed the corrupted sets are nested: every label replaced at
        level p is also replaced at any level above p.
      - random_labels: every training label replaced (level 1; `level` ignored).
      - shuffled_pixels: one random permutation of the H*W pixel positions
        (channel values of a pixel move together), drawn once and applied to
        every training and test image.
      - random_pixels: an independent random permutation for each image,
        training and test.
      - gaussian: every training and test image replaced by Gaussian noise
        with the training set's per-channel mean and standard deviation (in
        0..255 units), rounded to the nearest integer and clipped to 0..255
        to stay uint8. Clipping trims the tails slightly (about 2% of CIFAR-10
        values fall outside 0..255), so the noise's standard deviation comes
        out a little below the data's; the noise is not refitted after it.

    `level` applies to partial_labels only and must lie in [0, 1]. Each
    corruption draws from its own stream of `np.random.default_rng`, keyed by
    (seed, corruption name); the global NumPy seed is never used.

    Raises ValueError for an unknown corruption, a level outside [0, 1], a
    negative seed or arrays of the wrong kind.
    """
    if corruption not in CORRUPTION_NAMES:
        raise ValueError(
            f"unknown corruption {corruption!r}; choose from {', '.join(CORRUPTION_NAMES)}"
        )
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"corruption level must be in [0, 1], got {level}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    _check_split("train", x_train, y_train)
    _check_split("test", x_test, y_test)

    rng = _stream(seed, corruption)
    x_train, y_train, x_test, y_test = (a.copy() for a in (x_train, y_train, x_test, y_test))
    if corruption == "partial_labels":
        y_train = corrupt_labels(y_train, level, rng, num_classes)
    elif corruption == "random_labels":
        y_train = corrupt_labels(y_train, 1.0, rng, num_classes)
    elif corruption == "shuffled_pixels":
        perm = rng.permutation(x_train.shape[1] * x_train.shape[2])
        x_train = _permute_pixels(x_train, lambda n: perm)
        x_test = _permute_pixels(x_test, lambda n: perm)
    elif corruption == "random_pixels":
        n_pixels = x_train.shape[1] * x_train.shape[2]

        def per_image(n: int) -> np.ndarray:
            return rng.permuted(np.tile(np.arange(n_pixels), (n, 1)), axis=1)

        x_train = _permute_pixels(x_train, per_image)
        x_test = _permute_pixels(x_test, per_image)
    elif corruption == "gaussian":
        mean, std = channel_stats(x_train)
        x_train = _gaussian_like(x_train.shape, mean, std, rng)
        x_test = _gaussian_like(x_test.shape, mean, std, rng)
    return x_train, y_train, x_test, y_test


def replaced_labels(
    n: int, corruption: str, level: float = 1.0, seed: int = 0
) -> np.ndarray | None:
    """Which of `n` training labels `randomize` drew anew (bool (n,)), or None for a
    corruption that keeps the labels: the randomization's own record, redrawn from
    the same stream. A replaced label may equal the old one by chance (1 in
    `num_classes`); `label_changes` tells those apart."""
    if corruption not in ("partial_labels", "random_labels"):
        return None
    level = 1.0 if corruption == "random_labels" else level
    return _stream(seed, corruption).random(n) < level


def label_changes(
    y_original: np.ndarray, y_trained: np.ndarray, replaced: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(changed, kept) masks of a label corruption: changed = replaced by another class;
    kept = everything else, a label replaced by its own class included (its example
    trains on its true label, so it counts as clean)."""
    differ = np.asarray(y_original).reshape(-1) != np.asarray(y_trained).reshape(-1)
    if np.any(differ & ~replaced):
        raise ValueError("labels differ where the randomization replaced none")
    return differ, ~differ


def corrupt_labels(
    y: np.ndarray, level: float, rng: np.random.Generator, num_classes: int = DEFAULT_CLASSES
) -> np.ndarray:
    """A copy of `y` where each label, with probability `level`, is a uniform random class.

    Draws one uniform number and one candidate class per label whatever the
    level, so for a given generator state the labels replaced at level p are a
    subset of those replaced at any higher level.
    """
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"corruption level must be in [0, 1], got {level}")
    flat = np.asarray(y).reshape(-1)
    replace = rng.random(flat.shape[0]) < level
    candidates = rng.integers(0, num_classes, size=flat.shape[0])
    out = np.where(replace, candidates, flat).astype(flat.dtype, copy=False)
    return out.reshape(np.shape(y))


def channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and (population) standard deviation of images (N, H, W, C), float64."""
    channels = x.shape[-1]
    total = np.zeros(channels)
    total_sq = np.zeros(channels)
    for start in range(0, x.shape[0], _CHUNK):
        chunk = x[start : start + _CHUNK].reshape(-1, channels).astype(np.float64)
        total += chunk.sum(axis=0)
        total_sq += np.square(chunk).sum(axis=0)
    count = x.size // channels
    mean = total / count
    var = np.maximum(total_sq / count - np.square(mean), 0.0)
    return mean, np.sqrt(var)


def _stream(seed: int, corruption: str) -> np.random.Generator:
    # A stable key per corruption (crc32, unlike hash(), does not vary between
    # processes), so two corruptions with the same seed never share draws.
    return np.random.default_rng([int(seed), zlib.crc32(corruption.encode())])


def _check_split(split: str, x: np.ndarray, y: np.ndarray) -> None:
    if not isinstance(x, np.ndarray) or x.ndim != 4 or x.dtype != np.uint8:
        raise ValueError(
            f"{split} images must be a uint8 array (N, H, W, C), got "
            f"{getattr(x, 'dtype', type(x).__name__)} {getattr(x, 'shape', '')}"
        )
    if len(y) != len(x):
        raise ValueError(f"{split} split has {len(x)} images but {len(y)} labels")


def _permute_pixels(x: np.ndarray, perms: Callable[[int], np.ndarray]) -> np.ndarray:
    """Move whole pixels of each image; `perms(n)` gives (P,) or (n, P) source positions."""
    n, h, w, c = x.shape
    flat = x.reshape(n, h * w, c)
    out = np.empty_like(flat)
    for start in range(0, n, _CHUNK):
        chunk = flat[start : start + _CHUNK]
        perm = perms(chunk.shape[0])
        if perm.ndim == 1:
            out[start : start + _CHUNK] = chunk[:, perm, :]
        else:
            out[start : start + _CHUNK] = np.take_along_axis(chunk, perm[:, :, None], axis=1)
    return out.reshape(x.shape)


def _gaussian_like(
    shape: tuple[int, ...], mean: np.ndarray, std: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    out = np.empty(shape, dtype=np.uint8)
    mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
    for start in range(0, shape[0], _CHUNK):
        n = min(_CHUNK, shape[0] - start)
        noise = rng.standard_normal((n, *shape[1:]), dtype=np.float32) * std32 + mean32
        out[start : start + n] = np.clip(np.rint(noise), 0, 255)
    return out
