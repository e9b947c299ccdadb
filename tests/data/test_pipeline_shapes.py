"""rethink.data.pipeline on data sets that are not CIFAR's 32x32x3: a run's arrays follow
the data set's shape and classes, and the random crops its images' margin."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.data.pipeline import (
    Crops,
    augmented_images,
    crop_draws,
    crop_margin,
    epoch_order,
    prepare,
    random_window_crop,
)
from rethink.data.preprocess import preprocess
from rethink.spec import RunSpec
from rethink.spec.datasets import DataError, Dataset

GREY = Dataset("shapes", ("circle", "cross", "square"), (20, 20, 1))


def arrays(dataset: Dataset, n_train: int = 30, n_test: int = 9, seed: int = 0):
    rng = np.random.default_rng(seed)
    k = dataset.num_classes

    def split(n: int):
        x = rng.integers(0, 256, size=(n, *dataset.shape), dtype=np.uint8)
        return x, np.arange(n, dtype=np.int64) % k

    return split(n_train), split(n_test)


def test_prepare_follows_the_data_sets_shape_and_classes() -> None:
    raw = arrays(GREY)
    spec = RunSpec(model="mlp_1x512", corruption="random_labels", seed=3)
    data = prepare(spec, raw, GREY)
    assert data.x_train.shape == (30, 20, 20, 1) and data.input_shape == (20, 20, 1)
    assert data.num_classes == 3
    assert set(np.unique(data.y_train)) == {0, 1, 2}  # random labels over its 3 classes
    cropped = prepare(RunSpec(model="mlp_1x512", crop=12), raw, GREY)
    assert cropped.x_train.shape == (30, 12, 12, 1)
    np.testing.assert_array_equal(cropped.x_train, preprocess(raw[0][0], 12))


def test_pixel_permutations_work_on_grey_images_of_any_size() -> None:
    raw = arrays(GREY)
    data = prepare(RunSpec(model="mlp_1x512", corruption="shuffled_pixels"), raw, GREY)
    # One permutation of the 400 pixels for every image: the sorted pixels are kept.
    np.testing.assert_array_equal(
        np.sort(data.x_train.reshape(30, -1), axis=1),
        np.sort(prepare(RunSpec(model="mlp_1x512"), raw, GREY).x_train.reshape(30, -1), axis=1),
    )


def test_the_window_crop_slides_over_the_images_margin() -> None:
    raw = arrays(GREY)
    spec = RunSpec(model="mlp_1x512", augment=True, crop=16, seed=1)
    data = prepare(spec, raw, GREY)
    assert crop_margin(data, "window") == (4, 4)
    order = epoch_order(spec.seed, 0, 30)
    images = augmented_images(spec, data, order, 0)
    assert images.shape == (30, 16, 16, 1)
    crops = crop_draws(spec.seed, 0, 30, "window", (4, 4))
    assert crops.dy.max() <= 4 and crops.dx.max() <= 4
    # The centred window unflipped is preprocess's centre crop.
    fixed = Crops(np.array([2], np.int32), np.array([2], np.int32), np.array([False]))
    np.testing.assert_array_equal(
        random_window_crop(raw[0][0][:1], fixed, (16, 16)), preprocess(raw[0][0][:1], 16)
    )


def test_the_window_crop_needs_room_and_padded_does_not() -> None:
    raw = arrays(GREY)
    with pytest.raises(DataError, match="window random crop needs a crop smaller"):
        prepare(RunSpec(model="mlp_1x512", augment=True), raw, GREY)
    padded = prepare(RunSpec(model="mlp_1x512", augment=True, augment_crop="padded"), raw, GREY)
    assert crop_margin(padded, "padded") == (8, 8)
    spec = RunSpec(model="mlp_1x512", augment=True, augment_crop="padded")
    assert augmented_images(spec, padded, np.arange(30), 0).shape == (30, 20, 20, 1)


def test_cifar_draws_are_unchanged_by_the_margin_argument() -> None:
    for mode, margin in (("window", (4, 4)), ("padded", (8, 8))):
        a, b = crop_draws(5, 2, 100, mode), crop_draws(5, 2, 100, mode, margin)
        np.testing.assert_array_equal(a.dy, b.dy)
        np.testing.assert_array_equal(a.dx, b.dx)
        np.testing.assert_array_equal(a.flip, b.flip)
