"""The tiled Cholesky solve: equal to NumPy's, jitter only when needed, one factor for all."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.kernel.device import solve_dtype
from rethink.kernel.errors import KernelError
from rethink.kernel.solve import Factor, tile_count
from rethink.kernel.tiles import SymTiles, split


def _tiles(k: np.ndarray, block: int, dtype: str) -> SymTiles:
    from keras import ops

    blocks = split(len(k), block)
    return SymTiles.build(
        blocks, lambda i, j: ops.convert_to_tensor(k[slice(*blocks[i]), slice(*blocks[j])], dtype)
    )


def _solve(factor: Factor, y: np.ndarray, dtype: str) -> np.ndarray:
    from keras import ops

    parts = [ops.convert_to_tensor(y[s:e], dtype) for s, e in factor.lower.blocks]
    return np.concatenate([ops.convert_to_numpy(p) for p in factor.solve(parts)]).astype(np.float64)


@pytest.mark.parametrize("block", [7, 16, 100])
def test_tiled_solve_equals_numpy(block: int) -> None:
    dtype, _ = solve_dtype("float64")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((40, 60))
    k = a @ a.T / 60 + 0.1 * np.eye(40)  # well conditioned
    y = rng.standard_normal((40, 3))
    steps = []
    factor = Factor.of(_tiles(k, block, dtype), lam=0.5, dtype=dtype, step=lambda: steps.append(1))
    assert factor.jitter == 0 and factor.tries == 1
    assert len(steps) == tile_count(len(split(40, block)))
    tol = 1e-10 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(
        _solve(factor, y, dtype), np.linalg.solve(k + 0.5 * np.eye(40), y), rtol=tol, atol=tol
    )


def test_a_singular_matrix_is_factorized_with_a_reported_jitter() -> None:
    dtype, _ = solve_dtype("float64")
    rng = np.random.default_rng(2)
    a = rng.standard_normal((30, 5))
    k = a @ a.T  # rank 5
    retries: list[float] = []
    factor = Factor.of(_tiles(k, 8, dtype), dtype=dtype, retry=retries.append)
    assert factor.jitter > 0 and factor.tries == len(retries) + 1 >= 2
    assert retries[-1] == factor.jitter


def test_an_indefinite_matrix_fails_with_one_line() -> None:
    k = -np.eye(6)
    with pytest.raises(KernelError, match=r"6 x 6 .* failed"):
        Factor.of(_tiles(k, 4, "float32"), dtype="float32")
