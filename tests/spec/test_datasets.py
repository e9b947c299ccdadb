"""rethink.spec.datasets: a data set's identity (name, classes, image shape), its crop and
input shape, chance error, and recognizing the named data sets. Pure Python, no Keras."""

from __future__ import annotations

import pytest

from rethink.spec import RunSpec, SpecError
from rethink.spec.datasets import KNOWN, DataError, Dataset, identify, known

GREY = Dataset("shapes", ("circle", "cross", "square"), (20, 20, 1))


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
