"""Data order and augmentation: seeded, resumable, shape-preserving (no Keras)."""

from __future__ import annotations

import numpy as np

from rethink.inputs import augment, epoch_order


def test_epoch_order_is_a_fixed_permutation_per_seed_and_epoch() -> None:
    a = epoch_order(seed=0, epoch=3, n=1000)
    assert sorted(a.tolist()) == list(range(1000))
    np.testing.assert_array_equal(a, epoch_order(seed=0, epoch=3, n=1000))
    assert not np.array_equal(a, epoch_order(seed=0, epoch=4, n=1000))
    assert not np.array_equal(a, epoch_order(seed=1, epoch=3, n=1000))


def test_augment_crops_within_the_padding_and_flips() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 28, 28, 3)).astype("float32")
    y = augment(x, seed=0, epoch=0)
    assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_array_equal(y, augment(x, seed=0, epoch=0))
    assert not np.array_equal(y, augment(x, seed=0, epoch=1))
    padded = np.pad(x, ((0, 0), (4, 4), (4, 4), (0, 0)))
    flips = 0
    for i in range(len(x)):
        found = False
        for dy in range(9):
            for dx in range(9):
                window = padded[i, dy : dy + 28, dx : dx + 28]
                if np.array_equal(y[i], window):
                    found = True
                elif np.array_equal(y[i], window[:, ::-1]):
                    found, flips = True, flips + 1
        assert found, f"image {i} is not a (flipped) crop of its padded original"
    assert 10 < flips < 54  # about half are flipped
