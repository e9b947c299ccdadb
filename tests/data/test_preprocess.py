"""rethink.data.preprocess: /255, centre crop 28x28, per-image standardization."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from rethink.data import preprocess

# The package exports the function under the module's name; fetch the module itself.
preprocess_module = importlib.import_module("rethink.data.preprocess")


def reference(x: np.ndarray) -> np.ndarray:
    """The paper's recipe, one image at a time, in float64."""
    out = []
    for image in x:
        crop = image[2:30, 2:30, :].astype(np.float64) / 255.0
        adjusted = max(crop.std(), 1.0 / np.sqrt(crop.size))
        out.append((crop - crop.mean()) / adjusted)
    return np.stack(out)


def images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)


def test_shape_dtype_and_whitened_statistics():
    out = preprocess(images(6))
    assert out.shape == (6, 28, 28, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(1, 2, 3)), 1.0, atol=1e-4)


def test_matches_reference_across_chunks(monkeypatch):
    monkeypatch.setattr(preprocess_module, "_CHUNK", 3)
    x = images(7, seed=1)
    x[2] = 17  # constant
    x[4, :16] = 0  # half dark
    np.testing.assert_allclose(preprocess(x), reference(x), atol=1e-5)


def test_constant_image_becomes_zeros():
    out = preprocess(np.stack([np.full((32, 32, 3), v, dtype=np.uint8) for v in (0, 1, 200, 255)]))
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out, 0.0)


def test_tiny_std_uses_the_adjusted_floor():
    x = np.full((1, 32, 32, 3), 100, dtype=np.uint8)
    x[0, 10, 10, 0] = 101  # std ~ 8e-5, far below 1/sqrt(2352) ~ 0.0206
    out = preprocess(x)
    crop = x[0, 2:30, 2:30].astype(np.float64) / 255.0
    np.testing.assert_allclose(out[0], (crop - crop.mean()) * np.sqrt(28 * 28 * 3), atol=1e-6)
    assert out.std() < 0.01  # not blown up to std 1


def test_only_the_centre_28x28_counts():
    x = images(1, seed=2)
    border = x.copy()
    border[:, :2] = 0
    border[:, 30:] = 255
    border[:, :, :2] = 255
    border[:, :, 30:] = 0
    np.testing.assert_array_equal(preprocess(border), preprocess(x))
    inside = x.copy()
    inside[0, 2, 2] ^= 0xFF
    assert not np.array_equal(preprocess(inside), preprocess(x))


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((2, 32, 32), r"\(N, H, W, 1 or 3\)"),
        ((32, 32, 3), r"\(N, H, W, 1 or 3\)"),
        ((2, 32, 32, 4), r"\(N, H, W, 1 or 3\)"),
        ((2, 20, 20, 3), "a 28x28 crop does not fit images of 20x20"),
    ],
)
def test_wrong_shape_raises(shape, message):
    with pytest.raises(ValueError, match=message):
        preprocess(np.zeros(shape, dtype=np.uint8))


def test_other_shapes_crop_to_the_centre_or_keep_the_whole_image():
    x = np.random.default_rng(0).integers(0, 256, size=(3, 20, 24, 1), dtype=np.uint8)
    assert preprocess(x, None).shape == (3, 20, 24, 1)
    np.testing.assert_array_equal(preprocess(x, 16), preprocess(x[:, 2:18, 4:20], None))


@pytest.mark.requires_backend("tensorflow")
def test_matches_tensorflow_per_image_standardization():
    tf = pytest.importorskip("tensorflow")
    x = images(5, seed=3)
    x[1] = 9
    crop = x[:, 2:30, 2:30, :].astype(np.float32) / 255.0
    want = tf.image.per_image_standardization(crop).numpy()
    np.testing.assert_allclose(preprocess(x), want, atol=1e-5)
