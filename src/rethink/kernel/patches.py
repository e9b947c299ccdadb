"""The filters of the patch network: patches of the whitened training images, or noise.

    filters = sample_patches(white_train, count=2000, size=6, seed=0)   # (2000, 6, 6, 3)
    filters = gaussian_patches(count=2000, size=6, channels=3, seed=0)  # standard normal

`sample_patches` is the "empirical" filter generator of Shankar's cifar-fun
(KeystoneML's RandomPatchCifar samples its filters the same way): size x
size x channels windows at uniformly drawn (image, row, column) of the
whitened training images, dropping near-constant ones (variance over the
patch's values at most `min_var`, 1e-4), drawn in rounds until `count` are
kept. The patches are used as they are (not rescaled), as in cifar-fun.
`gaussian_patches` is cifar-fun's "gaussian" generator: standard normal
entries. Both are seeded by the run's seed (their own stream) and pure NumPy.
"""

from __future__ import annotations

import numpy as np

_PATCH_STREAM = 5  # apart from rethink's other streams (data order 1, augmentation 2, ...)
MIN_VAR = 1e-4


def sample_patches(
    images: np.ndarray, count: int, size: int, seed: int = 0, min_var: float = MIN_VAR
) -> np.ndarray:
    """(count, size, size, channels) float32 patches of `images` (n, h, w, channels)."""
    n, h, w, _ = images.shape
    if size > min(h, w):
        raise ValueError(f"the patch ({size}) must fit the {h}x{w} images")
    rng = np.random.default_rng([seed, _PATCH_STREAM])
    offsets = np.arange(size)
    kept: list[np.ndarray] = []
    total = 0
    for _ in range(100):
        i = rng.integers(0, n, size=count)
        r = rng.integers(0, h - size + 1, size=count)
        c = rng.integers(0, w - size + 1, size=count)
        rows = (r[:, None] + offsets)[:, :, None]
        cols = (c[:, None] + offsets)[:, None, :]
        patches = images[i[:, None, None], rows, cols]  # (count, size, size, channels)
        patches = patches[patches.reshape(count, -1).var(axis=1) > min_var]
        kept.append(patches)
        total += len(patches)
        if total >= count:
            return np.ascontiguousarray(np.concatenate(kept)[:count], dtype=np.float32)
    raise ValueError(
        f"only {total} of {count} patches vary by more than {min_var}: the images are constant"
    )


def gaussian_patches(count: int, size: int, channels: int, seed: int = 0) -> np.ndarray:
    """(count, size, size, channels) float32 standard normal filters."""
    rng = np.random.default_rng([seed, _PATCH_STREAM])
    return rng.standard_normal((count, size, size, channels)).astype(np.float32)
