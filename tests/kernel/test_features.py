"""Random convolutional features: filters independent of the chunking, pooled per quadrant."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.kernel.features import FeatureDesign, draw_filters, pooled_features


def test_random_features_do_not_depend_on_the_chunking() -> None:
    whole = draw_filters(FeatureDesign(filters=10), seed=3, start=0, stop=10)
    assert np.array_equal(whole[..., 4:7], draw_filters(FeatureDesign(10), 3, 4, 7))
    assert np.allclose(np.linalg.norm(whole.reshape(-1, 10), axis=0), 1.0)


def test_design_counts_features_and_chunks() -> None:
    design = FeatureDesign(filters=600, chunk=256)
    assert design.features == 2400
    assert design.chunks() == [(0, 256), (256, 512), (512, 600)]
    with pytest.raises(ValueError, match="patch must be positive"):
        FeatureDesign(filters=10, patch=0)


def test_pooled_features_sum_the_relu_maps_per_quadrant() -> None:
    from keras import ops

    rng = np.random.default_rng(0)
    images = rng.standard_normal((2, 6, 6, 1)).astype(np.float32)
    filters = np.ones((1, 1, 1, 1), np.float32)  # a 1x1 identity filter: maps are the images
    got = ops.convert_to_numpy(pooled_features(ops.convert_to_tensor(images), filters))
    relu = np.maximum(images[..., 0], 0)
    quadrants = [relu[:, :3, :3], relu[:, :3, 3:], relu[:, 3:, :3], relu[:, 3:, 3:]]
    np.testing.assert_allclose(got, np.stack([q.sum(axis=(1, 2)) for q in quadrants], 1), 1e-5)
