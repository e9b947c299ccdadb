"""The patch network: the symmetric rectifier's two channels, the pooling windows, its kernel."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.kernel.device import solve_dtype
from rethink.kernel.network import PatchNetwork, patch_gram, pool_windows, rectify_pool
from rethink.kernel.tiles import split

DTYPE, _ = solve_dtype("float64")


def test_pooling_windows_cover_the_map() -> None:
    assert pool_windows(27, 2) == ([0, 13], 14)  # KeystoneML: poolSize 14, poolStride 13
    assert pool_windows(27, 3, 15) == ([0, 6, 12], 15)  # cifar-fun's overlapping 3x3
    assert pool_windows(28, 2) == ([0, 13], 15)  # neighbours always share a row
    assert pool_windows(23, 2) == ([0, 11], 12)
    assert pool_windows(27, 1) == ([0], 27)
    with pytest.raises(ValueError, match="do not cover"):
        pool_windows(27, 2, 10)


def test_the_symmetric_rectifier_has_two_channels() -> None:
    from keras import ops

    rng = np.random.default_rng(0)
    images = (3 * rng.standard_normal((2, 8, 8, 1))).astype(np.float32)
    identity = np.ones((1, 1, 1, 1), np.float32)  # a 1x1 filter: the maps are the images
    starts, side = pool_windows(8, 2)
    got = ops.convert_to_numpy(
        rectify_pool(ops.convert_to_tensor(images), identity, 1.0, starts, side)
    )
    assert got.shape == (2, 2 * 2 * 2 * 1)
    x = images[..., 0]
    for channel, maps in enumerate((np.maximum(x - 1, 0), np.maximum(-x - 1, 0))):
        expected = [maps[:, r : r + side, c : c + side].mean(axis=(1, 2)) for r in starts
                    for c in starts]  # fmt: skip
        np.testing.assert_allclose(got[:, 4 * channel : 4 * channel + 4], np.stack(expected, 1),
                                   rtol=1e-5)  # fmt: skip
    # Pixels within the threshold of 0 feed neither channel; no pixel feeds both.
    assert np.all((np.maximum(x - 1, 0) > 0) & (np.maximum(-x - 1, 0) > 0) == False)  # noqa: E712


@pytest.mark.parametrize("grid,window", [(2, None), (3, 15), (3, None)])
def test_pooled_features_have_the_grid_shape(grid: int, window: int | None) -> None:
    from keras import ops

    rng = np.random.default_rng(1)
    images = ops.convert_to_tensor(rng.standard_normal((3, 32, 32, 3)).astype(np.float32))
    filters = ops.convert_to_tensor(rng.standard_normal((6, 6, 3, 5)).astype(np.float32))
    starts, side = pool_windows(27, grid, window)
    phi = ops.convert_to_numpy(rectify_pool(images, filters, 1.0, starts, side))
    assert phi.shape == (3, 2 * grid * grid * 5)
    assert np.all(phi >= 0) and np.any(phi > 0)
    assert PatchNetwork(filters=5, pool=grid).features() == 2 * grid * grid * 5


def test_patch_kernel_is_a_gaussian_of_the_features() -> None:
    """Unit diagonal, symmetric, in (0, 1]; chunking the filters changes nothing."""
    from keras import ops

    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, size=(40, 12, 12, 3)).astype(np.float32)
    xt = rng.uniform(0, 1, size=(10, 12, 12, 3)).astype(np.float32)
    blocks, test_blocks = split(40, 16), split(10, 16)

    def dense(net: PatchNetwork) -> tuple[np.ndarray, np.ndarray, float | None]:
        r = patch_gram(x, xt, net, blocks, test_blocks, DTYPE, seed=0)
        k = np.block([[np.asarray(ops.convert_to_numpy(r.gram.train.get(i, j)), np.float64)
                       for j in range(3)] for i in range(3)])  # fmt: skip
        return k, np.asarray(ops.convert_to_numpy(r.gram.test[0][0])), r.gamma

    k, k_test, gamma = dense(PatchNetwork(filters=12, patch=4, chunk=5))
    assert gamma is not None and gamma > 0
    np.testing.assert_allclose(np.diag(k), 1.0, atol=1e-6)
    np.testing.assert_allclose(k, k.T, atol=1e-6)
    assert k.min() > 0 and k_test.max() <= 1.0
    k2, _, gamma2 = dense(PatchNetwork(filters=12, patch=4, chunk=12))
    np.testing.assert_allclose(k2, k, rtol=1e-5, atol=1e-6)
    assert gamma2 == pytest.approx(gamma, rel=1e-5)
    linear, _, none = dense(PatchNetwork(filters=12, patch=4, kernel="linear"))
    assert none is None and not np.allclose(linear, k)
