"""A kernel on features, accumulated chunk by chunk: the features are never held whole.

    sums = Sums.accumulate(chunks, n, blocks, test_blocks, "float64", step)
    gram = sums.linear()                 # k = phi.phi' / features
    gram = sums.gaussian(gamma)          # k = exp(-gamma |phi - phi'|^2 / features)
    sums.median_distance()               # median |phi - phi'|^2 / features, first 1,000 images

`chunks` yields, for each chunk of filters, the features of every training
image and then every test image ((n + m, k) backend tensors). Their products
are added into the training tiles (lower triangle) and the test tiles, and
their squares into the squared norms, so memory holds one chunk of features
and the matrices, whatever the number of features (50,000 images x 256,000
float32 features would be 51 GB). The Gaussian kernel on the features is
computed from these at the end, tile by tile:
|phi - phi'|^2 = |phi|^2 + |phi'|^2 - 2 phi.phi', clipped at 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from rethink.kernel.gram import Gram
from rethink.kernel.tiles import Block, SymTiles, Tensor, dot

MEDIAN_SAMPLE = 1000


@dataclass
class Sums:
    """Sums over the features so far: products (tiles) and squared norms (row blocks)."""

    blocks: list[Block]
    test_blocks: list[Block]
    train: list[list[Tensor]]  # train[i][j], j <= i: sum of phi_a . phi_b
    test: list[list[Tensor]]  # test[t][j]
    norms: list[Tensor]  # per training block: sum of phi_a^2
    test_norms: list[Tensor]
    features: int

    @classmethod
    def accumulate(
        cls,
        chunks: Iterable[Tensor],
        n: int,
        blocks: list[Block],
        test_blocks: list[Block],
        dtype: str,
        step: Callable[[], None] | None = None,
    ) -> Sums:
        """Add up every chunk's products in `dtype`; `step()` after each chunk."""
        from keras import ops

        sums: Sums | None = None
        for phi in chunks:
            phi = ops.cast(phi, dtype)
            rows = [phi[a:b] for a, b in blocks]
            test_rows = [phi[n + a : n + b] for a, b in test_blocks]
            train = [[_outer(rows[i], rows[j]) for j in range(i + 1)] for i in range(len(rows))]
            test = [[_outer(t, r) for r in rows] for t in test_rows]
            norms = [ops.sum(r * r, axis=1) for r in rows]
            test_norms = [ops.sum(t * t, axis=1) for t in test_rows]
            k = int(phi.shape[1])
            if sums is None:
                sums = cls(list(blocks), list(test_blocks), train, test, norms, test_norms, k)
            else:
                sums.add(train, test, norms, test_norms, k)
            del phi, rows, test_rows
            if step is not None:
                step()
        if sums is None:
            raise ValueError("no features to accumulate")
        return sums

    def add(
        self,
        train: list[list[Tensor]],
        test: list[list[Tensor]],
        norms: list[Tensor],
        test_norms: list[Tensor],
        features: int,
    ) -> None:
        for i, row in enumerate(train):
            for j, tile in enumerate(row):
                self.train[i][j] = self.train[i][j] + tile
        for t, row in enumerate(test):
            for j, tile in enumerate(row):
                self.test[t][j] = self.test[t][j] + tile
        self.norms = [a + b for a, b in zip(self.norms, norms, strict=True)]
        self.test_norms = [a + b for a, b in zip(self.test_norms, test_norms, strict=True)]
        self.features += features

    def linear(self) -> Gram:
        """k(x, x') = phi(x).phi(x') / features. Consumes the sums (memory: one copy of K)."""
        scale = 1.0 / max(self.features, 1)
        return self._map(lambda g, rows, cols: g * scale)

    def gaussian(self, gamma: float) -> Gram:
        """k(x, x') = exp(-gamma |phi(x) - phi(x')|^2 / features). Consumes the sums."""
        from keras import ops

        if not (np.isfinite(gamma) and gamma > 0):
            raise ValueError(f"gamma must be positive, got {gamma}")
        scale = -gamma / max(self.features, 1)

        def tile(g: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
            return ops.exp(ops.relu(rows[:, None] + cols[None, :] - 2.0 * g) * scale)

        return self._map(tile)

    def _map(self, tile: Callable[[Tensor, Tensor, Tensor], Tensor]) -> Gram:
        """The kernel's tiles, tile(sum, row norms, column norms) of each; every sum is
        dropped once mapped, so K is never held twice (50,000 images: 20 GB in float64)."""
        if self.features == 0:
            raise ValueError("these sums were consumed already")
        train: list[list[Tensor]] = []
        for i, row in enumerate(self.train):
            train.append([])
            for j in range(len(row)):
                train[i].append(tile(row[j], self.norms[i], self.norms[j]))
                row[j] = None
        test: list[list[Tensor]] = []
        for t, row in enumerate(self.test):
            test.append([])
            for j in range(len(row)):
                test[t].append(tile(row[j], self.test_norms[t], self.norms[j]))
                row[j] = None
        self.features = 0
        return Gram(SymTiles(self.blocks, train), test, self.test_blocks)

    def median_distance(self, sample: int = MEDIAN_SAMPLE) -> float:
        """The median of |phi - phi'|^2 / features over the distinct pairs of the first
        `sample` training images (within the first tile)."""
        from keras import ops

        k = min(sample, self.blocks[0][1] - self.blocks[0][0])
        g = np.asarray(ops.convert_to_numpy(self.train[0][0][:k, :k]), np.float64)
        sq = np.asarray(ops.convert_to_numpy(self.norms[0][:k]), np.float64)
        d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * g, 0.0)[np.triu_indices(k, 1)]
        return float(np.median(d2)) / self.features


def _outer(a: Tensor, b: Tensor) -> Tensor:
    from keras import ops

    return dot(a, ops.transpose(b))
