"""Features streamed chunk by chunk into the kernel's tiles equal the dense kernel."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.kernel.device import solve_dtype
from rethink.kernel.stream import Sums
from rethink.kernel.tiles import split

DTYPE, _ = solve_dtype("float64")
TOL = 1e-10 if DTYPE == "float64" else 1e-4


def _dense(tiles: list[list[object]], blocks: list[tuple[int, int]], cols: int) -> np.ndarray:
    from keras import ops

    out = np.zeros((blocks[-1][1], cols))
    for (a, b), row in zip(blocks, tiles, strict=True):
        out[a:b, : sum(np.shape(t)[1] for t in row)] = np.concatenate(
            [ops.convert_to_numpy(t) for t in row], axis=1
        )
    return out


def _sums(phi: np.ndarray, n: int, chunk: int) -> Sums:
    from keras import ops

    chunks = (ops.convert_to_tensor(phi[:, a : a + chunk]) for a in range(0, phi.shape[1], chunk))
    return Sums.accumulate(chunks, n, split(n, 7), split(len(phi) - n, 4), DTYPE)


@pytest.mark.parametrize("chunk", [5, 13, 40])
def test_streamed_gram_equals_the_dense_one(chunk: int) -> None:
    rng = np.random.default_rng(0)
    phi = rng.uniform(0, 1, size=(30, 40))  # 20 training, 10 test rows; 40 features
    n = 20
    sums = _sums(phi, n, chunk)
    assert sums.features == 40
    upper = (((phi[:7, None] - phi[None, :7]) ** 2).sum(-1) / 40)[np.triu_indices(7, 1)]
    assert sums.median_distance() == pytest.approx(np.median(upper), rel=1e-6)  # first tile
    linear = sums.linear()
    with pytest.raises(ValueError, match="consumed"):
        sums.linear()  # the sums became the kernel: K is never held twice
    sums = _sums(phi, n, chunk)
    full = linear.train
    dense = np.array([[np.asarray(full.get(i, j)) for j in range(3)] for i in range(3)], object)
    k = np.block([[np.asarray(dense[i, j], np.float64) for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(k, phi[:n] @ phi[:n].T / 40, rtol=TOL, atol=TOL)
    k_test = _dense(linear.test, linear.test_blocks, n)
    np.testing.assert_allclose(k_test, phi[n:] @ phi[:n].T / 40, rtol=TOL, atol=TOL)

    gaussian = sums.gaussian(gamma=0.7)
    d2 = ((phi[:, None, :] - phi[None, :n, :]) ** 2).sum(-1) / 40
    k = np.block(
        [[np.asarray(gaussian.train.get(i, j), np.float64) for j in range(3)] for i in range(3)]
    )
    np.testing.assert_allclose(k, np.exp(-0.7 * d2[:n]), rtol=TOL, atol=TOL)
    k_test = _dense(gaussian.test, gaussian.test_blocks, n)
    np.testing.assert_allclose(k_test, np.exp(-0.7 * d2[n:]), rtol=TOL, atol=TOL)


def test_no_chunks_and_a_bad_gamma_are_refused() -> None:
    with pytest.raises(ValueError, match="no features"):
        Sums.accumulate(iter([]), 4, split(4, 4), split(2, 4), DTYPE)
    sums = _sums(np.ones((6, 3)), 4, 3)
    with pytest.raises(ValueError, match="gamma must be positive"):
        sums.gaussian(0.0)
