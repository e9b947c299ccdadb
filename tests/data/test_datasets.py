"""Per-data-set shapes and classes, without Keras: `rethink.spec.datasets` and the
pipeline on images that are not CIFAR's 32x32x3."""

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
    window_crop,
)
from rethink.data.preprocess import preprocess
from rethink.spec import RunSpec, SpecError
from rethink.spec.datasets import KNOWN, DataError, Dataset, identify, known

GREY = Dataset("shapes", ("circle", "cross", "square"), (20, 20, 1))


def arrays(dataset: Dataset, n_train: int = 30, n_test: int = 9, seed: int = 0):
    rng = np.random.default_rng(seed)
    k = dataset.num_classes

    def split(n: int):
        x = rng.integers(0, 256, size=(n, *dataset.shape), dtype=np.uint8)
        return x, np.arange(n, dtype=np.int64) % k

    return split(n_train), split(n_test)


def test_only_cifar_is_cropped_by_default_and_a_crop_must_fit() -> None:
    assert KNOWN["cifar10"].input_shape() == (28, 28, 3)
    assert KNOWN["cifar100"].input_shape() == (28, 28, 3)
    assert KNOWN["mnist"].input_shape() == (28, 28, 1)
    assert GREY.input_shape() == (20, 20, 1)
    assert GREY.input_shape(16) == (16, 16, 1)
    assert KNOWN["cifar10"].crop(32) is None  # the whole square image: no crop
    with pytest.raises(DataError, match="crop 21 does not fit its 20x20 images"):
        GREY.crop(21)


def test_chance_and_paper_numbers_follow_the_classes() -> None:
    assert KNOWN["cifar10"].chance_error == pytest.approx(0.9)
    assert KNOWN["cifar100"].chance_error == pytest.approx(0.99)
    assert GREY.chance_error == pytest.approx(2 / 3)
    assert [name for name, d in KNOWN.items() if d.has_paper_numbers] == ["cifar10"]
    assert KNOWN["cifar100"].num_classes == 100 and len(set(KNOWN["cifar100"].classes)) == 100


def test_a_data_set_needs_two_classes_and_one_or_three_channels() -> None:
    with pytest.raises(DataError, match="two or more"):
        Dataset("one", ("a",), (8, 8, 1))
    with pytest.raises(DataError, match="1 or 3 channels"):
        Dataset("rgba", ("a", "b"), (8, 8, 4))
    with pytest.raises(DataError, match="unknown data set 'svhn'"):
        known("svhn")


def test_identify_recognizes_named_sets_and_checks_a_named_one() -> None:
    cifar_like = Dataset("cifar10-jpeg", KNOWN["cifar10"].classes, (32, 32, 3))
    assert identify(cifar_like, None, "x") is KNOWN["cifar10"]
    assert identify(GREY, None, "x") is GREY
    digits = Dataset("digits", tuple("0123456789"), (28, 28, 1))
    assert identify(digits, "fashion_mnist", "x") is KNOWN["fashion_mnist"]
    with pytest.raises(DataError, match="x: holds 3 classes of 20x20x1 images, not cifar10"):
        identify(GREY, "cifar10", "x")


def test_round_trip_through_a_dict() -> None:
    assert Dataset.from_dict(GREY.to_dict()) == GREY


def test_spec_checks_dataset_and_crop() -> None:
    assert RunSpec(model="mlp_1x512", dataset="mnist", crop=20).crop == 20
    with pytest.raises(SpecError, match="unknown data set"):
        RunSpec(model="mlp_1x512", dataset="imagenet")
    with pytest.raises(SpecError, match="crop must be a positive"):
        RunSpec(model="mlp_1x512", crop=0)


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
        window_crop(raw[0][0][:1], fixed, (16, 16)), preprocess(raw[0][0][:1], 16)
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


def test_a_data_set_that_does_not_match_rethink_data_names_the_variable(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rethink.data import load
    from tests.helpers.image_folders import write_image_folder

    folder = write_image_folder(tmp_path / "shapes", GREY.classes, GREY.shape, 2, 1)
    monkeypatch.setenv("RETHINK_DATA", str(folder))
    assert load().dataset.name == "shapes"
    with pytest.raises(DataError, match=r"shapes \(from \$RETHINK_DATA\): holds 3 classes"):
        load(None, "mnist")
    with pytest.raises(DataError, match=r"shapes: holds 3 classes"):
        load(str(folder), "mnist")
