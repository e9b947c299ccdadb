"""Tiles: the blocks cover the rows, a tiled product equals the full one, float64 stays."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.kernel.tiles import SymTiles, dot, rect_matvec, split


def test_split_covers_the_rows_in_even_blocks() -> None:
    blocks = split(10, 4)
    assert blocks == [(0, 3), (3, 7), (7, 10)]
    assert split(5, 100) == [(0, 5)]
    with pytest.raises(ValueError):
        split(0, 4)


def _tiles(k: np.ndarray, block: int, dtype: str) -> SymTiles:
    from keras import ops

    blocks = split(len(k), block)
    return SymTiles.build(
        blocks, lambda i, j: ops.convert_to_tensor(k[slice(*blocks[i]), slice(*blocks[j])], dtype)
    )


def test_tiled_products_equal_the_full_ones() -> None:
    from keras import ops

    rng = np.random.default_rng(0)
    a = rng.standard_normal((23, 23))
    k = a @ a.T
    x = rng.standard_normal((23, 4))
    tiles = _tiles(k, 5, "float32")
    parts = [ops.convert_to_tensor(x[s:e], "float32") for s, e in tiles.blocks]
    got = np.concatenate([ops.convert_to_numpy(p) for p in tiles.matvec(parts)])
    np.testing.assert_allclose(got, k @ x, rtol=1e-4, atol=1e-3)
    rect = [[tiles.get(i, j) for j in range(len(tiles.blocks))] for i in range(2)]
    got = np.concatenate([ops.convert_to_numpy(p) for p in rect_matvec(rect, parts)])
    stop = tiles.blocks[1][1]
    np.testing.assert_allclose(got, k[:stop] @ x, rtol=1e-4, atol=1e-3)
    assert tiles.diagonal_mean() == pytest.approx(np.trace(k) / 23, rel=1e-5)


def test_dot_keeps_float64_where_the_backend_has_it() -> None:
    """keras.ops.matmul computes float64 in float32 on torch (Keras 3.15); dot must not."""
    import keras
    from keras import ops

    from rethink.kernel.device import solve_dtype

    dtype, _ = solve_dtype("float64")
    if dtype != "float64":
        pytest.skip(f"{keras.backend.backend()} has no float64 in this process")
    a = ops.convert_to_tensor(np.full((2, 2), 1.0 + 2.0**-40), "float64")
    product = dot(a, a)
    assert keras.backend.standardize_dtype(product.dtype) == "float64"
    assert float(ops.convert_to_numpy(product)[0, 0]) == pytest.approx(
        2.0 * (1 + 2.0**-40) ** 2, abs=0
    )
