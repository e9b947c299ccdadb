"""Solve (K + lambda I) alpha = Y by a tiled Cholesky factorization, factorized once.

    factor = Factor.of(gram, lam=0.0)      # L L^T = K + (lam + jitter) I, tile by tile
    alpha = factor.solve(y_blocks)          # any number of right-hand sides at once
    factor.jitter                           # 0.0 unless the plain factorization failed

The factorization is the right-hand-side-free part: it is computed once and
every labelling (one-hot Y of each corruption level, stacked as columns)
is solved with two triangular sweeps. It is a left-looking blocked
Cholesky over `SymTiles`: for each diagonal tile the Schur complement
K_jj - sum_k L_jk L_jk^T is factorized (`keras.ops.linalg.cholesky`) and the
tiles below it solved against it (`solve_triangular`), so no operation sees
a matrix larger than one tile. Memory: the factor's lower tiles, as many
bytes as K's.

K is positive semi-definite (the Gaussian kernel matrix of distinct points
is positive definite; a linear kernel of d features has rank at most d).
When a diagonal Cholesky fails (a non-positive pivot: rounding, float32, or
rank deficiency), the whole factorization restarts with a jitter
eps * mean(diag K) added to the diagonal, eps = 1e-12 in float64, 1e-6 in
float32, times 100 per further failure, at most `MAX_TRIES` times; the
jitter used is reported, and the residual is always measured against
K + lambda I itself, not against the jittered matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rethink.kernel.errors import KernelError
from rethink.kernel.tiles import SymTiles, Tensor, dot

MAX_TRIES = 6
FIRST_JITTER = {"float64": 1e-12, "float32": 1e-6}


@dataclass
class Factor:
    """The lower Cholesky tiles of K + shift I (shift = lam + jitter)."""

    lower: SymTiles
    lam: float
    jitter: float
    tries: int

    @classmethod
    def of(
        cls,
        gram: SymTiles,
        lam: float = 0.0,
        dtype: str = "float64",
        step: Callable[[], None] | None = None,
        retry: Callable[[float], None] | None = None,
    ) -> Factor:
        """Factorize K + lam I, adding a jitter only if that fails.

        `step()` after each tile; `retry(jitter)` before each restart.
        Raises KernelError when even the largest jitter fails.
        """
        if lam < 0:
            raise KernelError(f"lambda must be >= 0, got {lam}")
        scale = gram.diagonal_mean()
        jitter = 0.0
        for tries in range(1, MAX_TRIES + 1):
            lower = _cholesky(gram, lam + jitter, step)
            if lower is not None:
                return cls(lower, lam, jitter, tries)
            jitter = FIRST_JITTER.get(dtype, 1e-6) * scale if jitter == 0 else jitter * 100
            if tries < MAX_TRIES and retry is not None:
                retry(jitter)
        raise KernelError(
            f"the Cholesky factorization of the {gram.n} x {gram.n} kernel matrix failed "
            f"even with a jitter of {jitter:.3g} in {dtype}; use --dtype float64 or --lam > 0"
        )

    @property
    def shift(self) -> float:
        return self.lam + self.jitter

    def solve(self, y: Sequence[Tensor]) -> list[Tensor]:
        """alpha (row blocks) with L L^T alpha = Y (row blocks)."""
        from keras import ops

        tiles = self.lower.tiles
        count = len(tiles)
        z: list[Tensor] = []
        for i in range(count):  # forward: L z = Y
            b = y[i]
            for k in range(i):
                b = b - dot(tiles[i][k], z[k])
            z.append(ops.linalg.solve_triangular(tiles[i][i], b, lower=True))
        alpha: list[Tensor] = [None] * count
        for i in reversed(range(count)):  # backward: L^T alpha = z
            b = z[i]
            for k in range(i + 1, count):
                b = b - dot(ops.transpose(tiles[k][i]), alpha[k])
            alpha[i] = ops.linalg.solve_triangular(ops.transpose(tiles[i][i]), b, lower=False)
        return alpha


def _cholesky(gram: SymTiles, shift: float, step: Callable[[], None] | None) -> SymTiles | None:
    """Lower tiles L with L L^T = K + shift I, or None if a pivot was not positive."""
    from keras import ops

    count = len(gram.blocks)
    lower: list[list[Tensor]] = [[None] * (i + 1) for i in range(count)]
    for j in range(count):
        a = gram.tiles[j][j]
        if shift:
            size = gram.blocks[j][1] - gram.blocks[j][0]
            a = a + shift * ops.eye(size, dtype=a.dtype)
        for k in range(j):
            a = a - dot(lower[j][k], ops.transpose(lower[j][k]))
        try:
            ljj = ops.linalg.cholesky(a)
        except Exception:  # each backend raises its own (Keras: ValueError)
            return None
        if not bool(ops.convert_to_numpy(ops.all(ops.isfinite(ljj)))):
            return None
        lower[j][j] = ljj
        if step is not None:
            step()
        for i in range(j + 1, count):
            b = gram.tiles[i][j]
            for k in range(j):
                b = b - dot(lower[i][k], ops.transpose(lower[j][k]))
            # L_ij L_jj^T = B  <=>  L_jj L_ij^T = B^T
            lower[i][j] = ops.transpose(
                ops.linalg.solve_triangular(ljj, ops.transpose(b), lower=True)
            )
            if step is not None:
                step()
    return SymTiles(list(gram.blocks), lower)


def tile_count(blocks: int) -> int:
    """Steps of one factorization (progress): the lower tiles, diagonal included."""
    return blocks * (blocks + 1) // 2
