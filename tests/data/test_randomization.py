"""The paper's randomizations (section 2.1): what each changes, and what it must not."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.data.randomization import CORRUPTION_NAMES, corrupt_labels, randomize
from rethink.spec import CORRUPTIONS

LABEL_CORRUPTIONS = ("partial_labels", "random_labels")
PIXEL_CORRUPTIONS = ("shuffled_pixels", "random_pixels", "gaussian")


def make_data(n_train: int = 40, n_test: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8)
    x_test = rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8)
    y_train = rng.integers(0, 10, (n_train, 1), dtype=np.uint8)  # Keras' CIFAR-10 layout
    y_test = rng.integers(0, 10, (n_test, 1), dtype=np.uint8)
    return x_train, y_train, x_test, y_test


def position_coded(n: int, offset: int) -> np.ndarray:
    """Images whose pixel at position i is (i // 256, i % 256, image number): all distinct."""
    pos = np.arange(32 * 32)
    img = np.stack([pos // 256, pos % 256, np.zeros_like(pos)], axis=-1)
    x = np.repeat(img[None], n, axis=0)
    x[..., 2] = (np.arange(n) + offset)[:, None]
    return x.reshape(n, 32, 32, 3).astype(np.uint8)


def source_positions(x: np.ndarray) -> np.ndarray:
    """For position-coded images, the original position of each output pixel: (N, 1024)."""
    flat = x.reshape(len(x), -1, 3).astype(np.int64)
    return flat[..., 0] * 256 + flat[..., 1]


def pixel_multisets(x: np.ndarray) -> list[np.ndarray]:
    flat = x.reshape(len(x), -1, 3)
    return [np.unique(img, axis=0, return_counts=True) for img in flat]


def test_names_are_the_spec_corruptions():
    assert CORRUPTION_NAMES == CORRUPTIONS


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_shapes_dtypes_and_inputs_untouched(corruption):
    data = make_data()
    before = [a.copy() for a in data]
    out = randomize(*data, corruption, level=0.5, seed=1)
    for original, kept, result in zip(before, data, out, strict=True):
        np.testing.assert_array_equal(kept, original)  # not modified in place
        assert result.dtype == original.dtype
        assert result.shape == original.shape
        assert not np.shares_memory(result, kept)


def test_true_labels_is_an_unchanged_copy():
    data = make_data()
    for original, result in zip(data, randomize(*data, "true_labels"), strict=True):
        np.testing.assert_array_equal(result, original)


@pytest.mark.parametrize("level", [0.2, 0.5, 1.0])
def test_partial_labels_changes_about_level_times_nine_tenths(level):
    n = 20_000
    rng = np.random.default_rng(5)
    x = np.zeros((n, 1, 1, 3), np.uint8)
    y = rng.integers(0, 10, n)
    corruption = "random_labels" if level == 1.0 else "partial_labels"
    _, y_new, _, _ = randomize(x, y, x[:5], y[:5], corruption, level=level, seed=3)
    expected = level * 9 / 10
    stderr = np.sqrt(expected * (1 - expected) / n)
    assert abs(np.mean(y_new != y) - expected) < 4 * stderr
    assert set(np.unique(y_new)) == set(range(10))


def test_partial_labels_at_level_zero_changes_nothing():
    data = make_data()
    np.testing.assert_array_equal(randomize(*data, "partial_labels", level=0.0)[1], data[1])


def test_partial_labels_sets_are_nested_across_levels():
    n = 5_000
    x = np.zeros((n, 1, 1, 3), np.uint8)
    y = np.zeros(n, np.int64)
    low = randomize(x, y, x, y, "partial_labels", level=0.3, seed=2)[1]
    high = randomize(x, y, x, y, "partial_labels", level=0.7, seed=2)[1]
    changed_low, changed_high = low != 0, high != 0
    assert changed_low.sum() < changed_high.sum()
    assert np.all(changed_high[changed_low])
    np.testing.assert_array_equal(low[changed_low], high[changed_low])


def test_num_classes_bounds_the_random_labels():
    y = np.zeros(2_000, np.int64)
    out = corrupt_labels(y, 1.0, np.random.default_rng(0), num_classes=3)
    assert set(np.unique(out)) == {0, 1, 2}


@pytest.mark.parametrize("corruption", LABEL_CORRUPTIONS)
def test_label_corruptions_touch_training_labels_only(corruption):
    x_train, y_train, x_test, y_test = make_data(n_train=400)
    out = randomize(x_train, y_train, x_test, y_test, corruption, level=0.8, seed=0)
    np.testing.assert_array_equal(out[0], x_train)
    np.testing.assert_array_equal(out[2], x_test)
    np.testing.assert_array_equal(out[3], y_test)
    assert np.any(out[1] != y_train)


@pytest.mark.parametrize("corruption", PIXEL_CORRUPTIONS)
def test_pixel_corruptions_keep_labels_and_change_train_and_test_images(corruption):
    x_train, y_train, x_test, y_test = make_data()
    out = randomize(x_train, y_train, x_test, y_test, corruption, seed=0)
    np.testing.assert_array_equal(out[1], y_train)
    np.testing.assert_array_equal(out[3], y_test)
    assert np.mean(out[0] != x_train) > 0.5
    assert np.mean(out[2] != x_test) > 0.5


def test_shuffled_pixels_is_one_permutation_for_every_train_and_test_image():
    x_train, x_test = position_coded(6, 0), position_coded(4, 100)
    y_train, y_test = np.arange(6), np.arange(4)
    out = randomize(x_train, y_train, x_test, y_test, "shuffled_pixels", seed=0)
    perms = np.concatenate([source_positions(out[0]), source_positions(out[2])])
    perm = perms[0]
    np.testing.assert_array_equal(np.sort(perm), np.arange(1024))  # a permutation
    assert np.mean(perm != np.arange(1024)) > 0.9
    np.testing.assert_array_equal(perms, np.broadcast_to(perm, perms.shape))
    # RGB triples travel together: the image number (blue) stays with its image
    np.testing.assert_array_equal(out[0][..., 2], x_train[..., 2])


def test_random_pixels_draws_a_permutation_per_image():
    x_train, x_test = position_coded(6, 0), position_coded(4, 100)
    out = randomize(x_train, np.arange(6), x_test, np.arange(4), "random_pixels", seed=0)
    perms = np.concatenate([source_positions(out[0]), source_positions(out[2])])
    for perm in perms:
        np.testing.assert_array_equal(np.sort(perm), np.arange(1024))
    assert len({p.tobytes() for p in perms}) == len(perms)
    np.testing.assert_array_equal(out[2][..., 2], x_test[..., 2])


@pytest.mark.parametrize("corruption", ["shuffled_pixels", "random_pixels"])
def test_pixel_permutations_keep_each_image_multiset(corruption):
    x_train, y_train, x_test, y_test = make_data(n_train=5, n_test=3)
    out = randomize(x_train, y_train, x_test, y_test, corruption, seed=4)
    for before, after in [(x_train, out[0]), (x_test, out[2])]:
        for (vals_b, counts_b), (vals_a, counts_a) in zip(
            pixel_multisets(before), pixel_multisets(after), strict=True
        ):
            np.testing.assert_array_equal(vals_a, vals_b)
            np.testing.assert_array_equal(counts_a, counts_b)


def test_gaussian_matches_training_channel_statistics():
    rng = np.random.default_rng(0)
    mean, std = np.array([60.0, 128.0, 190.0]), np.array([10.0, 30.0, 20.0])
    x_train = np.clip(np.rint(rng.normal(mean, std, (200, 32, 32, 3))), 0, 255).astype(np.uint8)
    x_test = rng.integers(0, 256, (100, 32, 32, 3), dtype=np.uint8)  # its stats must not matter
    data_mean = x_train.reshape(-1, 3).mean(axis=0)
    data_std = x_train.reshape(-1, 3).std(axis=0)
    out = randomize(x_train, np.zeros(200), x_test, np.zeros(100), "gaussian", seed=0)
    for noise in (out[0], out[2]):
        assert noise.dtype == np.uint8
        values = noise.reshape(-1, 3).astype(np.float64)
        np.testing.assert_allclose(values.mean(axis=0), data_mean, atol=0.5)
        np.testing.assert_allclose(values.std(axis=0), data_std, rtol=0.02)
    # noise, not the images: nothing left of the training pixels
    correlation = np.corrcoef(out[0][..., 1].ravel(), x_train[..., 1].ravel())[0, 1]
    assert abs(correlation) < 0.02


def test_gaussian_clips_to_uint8_range():
    x = np.full((20, 32, 32, 3), 250, np.uint8)
    x[::2] = 5  # mean ~128, std ~122: lots of mass outside 0..255
    out = randomize(x, np.zeros(20), x, np.zeros(20), "gaussian", seed=0)[0]
    assert out.min() == 0 and out.max() == 255


@pytest.mark.parametrize("corruption", [c for c in CORRUPTIONS if c != "true_labels"])
def test_same_seed_same_output_other_seed_differs(corruption):
    data = make_data(n_train=200)
    first = randomize(*data, corruption, level=0.5, seed=7)
    again = randomize(*data, corruption, level=0.5, seed=7)
    other = randomize(*data, corruption, level=0.5, seed=8)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_global_numpy_seed_is_not_used():
    data = make_data()
    np.random.seed(0)
    first = randomize(*data, "random_pixels", seed=1)
    np.random.seed(1)
    second = randomize(*data, "random_pixels", seed=1)
    np.testing.assert_array_equal(first[0], second[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"corruption": "uniform_noise"}, "unknown corruption 'uniform_noise'.*random_pixels"),
        ({"corruption": "partial_labels", "level": 1.5}, r"level must be in \[0, 1\]"),
        ({"corruption": "partial_labels", "level": -0.1}, r"level must be in \[0, 1\]"),
        ({"corruption": "random_labels", "seed": -1}, "seed"),
        ({"corruption": "random_labels", "num_classes": 1}, "num_classes"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        randomize(*make_data(), **kwargs)


def test_bad_arrays_raise_value_error():
    x_train, y_train, x_test, y_test = make_data()
    with pytest.raises(ValueError, match="uint8"):
        randomize(x_train.astype(np.float32), y_train, x_test, y_test, "random_pixels")
    with pytest.raises(ValueError, match="labels"):
        randomize(x_train, y_train[:-1], x_test, y_test, "random_labels")
