"""The patch network's filters: windows of the training images, near-constant ones dropped."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.kernel.patches import gaussian_patches, sample_patches


def _images(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 9, 9, 3)).astype(np.float32)
    x[:3] = 0.5  # half the images constant: their patches must all be dropped
    return x


def _windows(x: np.ndarray, size: int) -> np.ndarray:
    n, h, w, _ = x.shape
    return np.stack(
        [x[i, r : r + size, s : s + size] for i in range(n) for r in range(h - size + 1)
         for s in range(w - size + 1)]
    )  # fmt: skip


def test_patches_are_windows_of_the_images_and_vary() -> None:
    x = _images()
    patches = sample_patches(x, count=50, size=4, seed=3)
    assert patches.shape == (50, 4, 4, 3) and patches.dtype == np.float32
    windows = _windows(x, 4).reshape(-1, 48)
    for p in patches.reshape(50, -1):
        assert np.any(np.all(windows == p, axis=1))  # cut from an image, unchanged
    assert np.all(patches.reshape(50, -1).var(axis=1) > 1e-4)  # no constant patch
    assert len({p.tobytes() for p in patches}) > 40  # drawn all over, not one window


def test_patches_are_seeded() -> None:
    x = _images()
    same = sample_patches(x, 20, 4, seed=1)
    np.testing.assert_array_equal(same, sample_patches(x, 20, 4, seed=1))
    assert not np.array_equal(same, sample_patches(x, 20, 4, seed=2))


def test_constant_images_give_no_patches() -> None:
    with pytest.raises(ValueError, match="only 0 of 5 patches"):
        sample_patches(np.ones((3, 8, 8, 3), np.float32), 5, 4)
    with pytest.raises(ValueError, match="must fit"):
        sample_patches(_images(), 5, 10)


def test_gaussian_patches_are_standard_normal() -> None:
    f = gaussian_patches(2000, 6, 3, seed=0)
    assert f.shape == (2000, 6, 6, 3)
    assert abs(f.mean()) < 0.01 and abs(f.std() - 1.0) < 0.01
