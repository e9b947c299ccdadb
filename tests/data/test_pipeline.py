"""Data order, preparation and augmentation: seeded, resumable, shape-preserving (no Keras)."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.data import preprocess
from rethink.data.pipeline import (
    augmented_images,
    crop_draws,
    epoch_order,
    prepare,
    random_padded_crop,
)
from rethink.spec import RunSpec


def test_epoch_order_is_a_fixed_permutation_per_seed_and_epoch() -> None:
    a = epoch_order(seed=0, epoch=3, n=1000)
    assert sorted(a.tolist()) == list(range(1000))
    np.testing.assert_array_equal(a, epoch_order(seed=0, epoch=3, n=1000))
    assert not np.array_equal(a, epoch_order(seed=0, epoch=4, n=1000))
    assert not np.array_equal(a, epoch_order(seed=1, epoch=3, n=1000))


def _padded_augment(x: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    """The padded crop as rethink did it before "window" existed (spec version 1)."""
    return random_padded_crop(x, crop_draws(seed, epoch, len(x), "padded"))


def test_padded_crop_crops_within_the_padding_and_flips() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 28, 28, 3)).astype("float32")
    y = _padded_augment(x, seed=0, epoch=0)
    assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_array_equal(y, _padded_augment(x, seed=0, epoch=0))
    assert not np.array_equal(y, _padded_augment(x, seed=0, epoch=1))
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


def _raw(n_train: int = 40, n_test: int = 12) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, size=(n_train + n_test, 32, 32, 3), dtype=np.uint8)
    y = np.arange(n_train + n_test) % 10
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def test_prepare_keeps_the_corrupted_raw_training_images_for_the_window_crop() -> None:
    raw = _raw()
    spec = RunSpec(model="mlp_1x512", steps=1, corruption="shuffled_pixels", augment=True)
    data = prepare(spec, raw)
    assert data.x_train_raw is not None
    assert data.x_train_raw.dtype == np.uint8 and data.x_train_raw.shape == (40, 32, 32, 3)
    assert not np.array_equal(data.x_train_raw, raw[0][0])  # corrupted, not the original
    # x_train keeps its meaning: the preprocessed centre crop of the same images.
    np.testing.assert_array_equal(preprocess(data.x_train_raw), data.x_train)
    # A subset is taken of the raw images as of the rest.
    small = prepare(RunSpec(model="mlp_1x512", steps=1, augment=True, train_subset=20), raw)
    assert small.x_train_raw is not None and len(small.x_train_raw) == len(small.y_train) == 20
    np.testing.assert_array_equal(preprocess(small.x_train_raw), small.x_train)
    # Only the window crop needs them.
    for kw in ({}, {"augment": True, "augment_crop": "padded"}, {"augment_crop": "window"}):
        assert prepare(RunSpec(model="mlp_1x512", steps=1, **kw), raw).x_train_raw is None, kw


def test_augmented_images_crop_the_epochs_order_from_the_modes_source() -> None:
    raw = _raw()
    order = epoch_order(0, 1, 40)[:32]
    window = RunSpec(model="mlp_1x512", steps=1, augment=True, seed=0)
    data = prepare(window, raw)
    assert data.x_train_raw is not None
    got = augmented_images(window, data, order, epoch=1)
    assert got.shape == (32, 28, 28, 3) and got.dtype == np.float32
    crops = crop_draws(0, 1, 32, "window")
    for i, j in enumerate(order):
        window_i = data.x_train_raw[
            j, crops.dy[i] : crops.dy[i] + 28, crops.dx[i] : crops.dx[i] + 28
        ]
        if crops.flip[i]:
            window_i = window_i[:, ::-1]
        np.testing.assert_allclose(got[i], _whiten_one(window_i), atol=1e-5)
    padded = RunSpec(model="mlp_1x512", steps=1, augment=True, augment_crop="padded")
    np.testing.assert_array_equal(
        augmented_images(padded, data, order, epoch=1), _padded_augment(data.x_train[order], 0, 1)
    )
    no_raw = prepare(padded, raw)
    with pytest.raises(ValueError, match="x_train_raw"):
        augmented_images(window, no_raw, order, epoch=1)


def _whiten_one(pixels: np.ndarray) -> np.ndarray:
    v = pixels.astype(np.float64) / 255.0
    return (v - v.mean()) / max(v.std(), 1.0 / np.sqrt(v.size))
