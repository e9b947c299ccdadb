"""rethink.data.subset: seeded, class-balanced, shuffled."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.data import subset


def class_by_class(per_class: int, classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Stored like an image-folder tree; x[i] == i, so pairs can be checked."""
    y = np.repeat(np.arange(classes, dtype=np.int64), per_class)
    return np.arange(len(y)), y


@pytest.mark.parametrize("n", [50, 53, 7])
def test_as_balanced_as_possible(n):
    x, y = class_by_class(20)
    xs, ys = subset(x, y, n, seed=0)
    counts = np.bincount(ys, minlength=10)
    assert counts.sum() == n
    assert counts.max() - counts.min() <= 1
    np.testing.assert_array_equal(ys, y[xs])  # pairs kept
    assert len(np.unique(xs)) == n  # no repeats


def test_order_is_shuffled_not_class_by_class():
    x, y = class_by_class(20)
    _, ys = subset(x, y, 100, seed=0)
    assert len(np.unique(ys[:20])) > 3
    assert np.any(np.diff(ys) < 0)


def test_same_seed_same_subset_other_seed_other_subset():
    x, y = class_by_class(30)
    a, _ = subset(x, y, 40, seed=5)
    b, _ = subset(x, y, 40, seed=5)
    c, _ = subset(x, y, 40, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.sort(a), np.sort(c))


def test_remainder_goes_to_different_classes_per_seed():
    x, y = class_by_class(5)
    favoured = {
        tuple(np.flatnonzero(np.bincount(subset(x, y, 13, seed=s)[1]) == 2)) for s in range(8)
    }
    assert len(favoured) > 1  # not always the first classes


def test_small_class_gives_all_it_has_and_others_share_the_rest():
    x, y = class_by_class(10)
    keep = (y != 0) | (x < 2)  # class 0 has only 2 examples
    _, ys = subset(x[keep], y[keep], 50, seed=1)
    counts = np.bincount(ys, minlength=10)
    assert counts[0] == 2
    assert counts.sum() == 50 and counts[1:].max() - counts[1:].min() <= 1


def test_whole_set_is_a_permutation():
    x, y = class_by_class(3)
    xs, _ = subset(x, y, len(x), seed=0)
    np.testing.assert_array_equal(np.sort(xs), x)


@pytest.mark.parametrize("n", [0, -1, 31])
def test_size_out_of_range_raises(n):
    x, y = class_by_class(3)
    with pytest.raises(ValueError, match=r"1\.\.30"):
        subset(x, y, n, seed=0)


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="labels"):
        subset(np.zeros((5, 2)), np.zeros(4, dtype=int), 2, seed=0)
