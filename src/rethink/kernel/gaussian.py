"""The Gaussian kernel on pixels, in tiles, and its default bandwidth.

    sigma = median_bandwidth(x_train, seed=0)      # the median pairwise distance
    gram = gaussian_gram(x_train, x_test, sigma, blocks, test_blocks, "float64")

k(x, x') = exp(-|x - x'|^2 / (2 sigma^2)) on the flattened preprocessed
images (28x28x3, whitened per image, as every rethink run sees them). The
paper gives no bandwidth; the default is the median distance between
training images, estimated on a seeded sample of `MEDIAN_SAMPLE` of them
(the "median heuristic"). Squared distances come from |x|^2 + |x'|^2 -
2 x.x' in the solve's dtype, clipped at 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rethink.kernel.gram import Gram
from rethink.kernel.tiles import Block, SymTiles, Tensor, dot

MEDIAN_SAMPLE = 1000
_MEDIAN_STREAM = 4  # keeps the sample's generator apart from rethink's other streams


def median_bandwidth(x: np.ndarray, seed: int = 0, sample: int = MEDIAN_SAMPLE) -> float:
    """The median Euclidean distance between distinct images of a seeded sample of `x`."""
    flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    if len(flat) > sample:
        rng = np.random.default_rng([seed, _MEDIAN_STREAM])
        flat = flat[np.sort(rng.choice(len(flat), size=sample, replace=False))]
    sq = np.einsum("ij,ij->i", flat, flat)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * flat @ flat.T, 0.0)
    upper = d2[np.triu_indices(len(flat), k=1)]
    return float(np.sqrt(np.median(upper)))


def gaussian_gram(
    x_train: np.ndarray,
    x_test: np.ndarray,
    bandwidth: float,
    blocks: list[Block],
    test_blocks: list[Block],
    dtype: str,
    step: Callable[[], None] | None = None,
) -> Gram:
    """The Gaussian kernel's training tiles and test tiles; `step()` after each tile."""
    from keras import ops

    if not (np.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"the bandwidth must be positive, got {bandwidth}")
    scale = -0.5 / bandwidth**2

    def upload(x: np.ndarray, parts: list[Block]) -> list[tuple[Tensor, Tensor]]:
        out = []
        for a, b in parts:
            v = ops.convert_to_tensor(np.reshape(x[a:b], (b - a, -1)), dtype=dtype)
            out.append((v, ops.sum(v * v, axis=1)))
        return out

    train = upload(x_train, blocks)
    test = upload(x_test, test_blocks)

    def tile(rows: tuple[Tensor, Tensor], cols: tuple[Tensor, Tensor]) -> Tensor:
        (u, su), (v, sv) = rows, cols
        d2 = su[:, None] + sv[None, :] - 2.0 * dot(u, ops.transpose(v))
        return ops.exp(ops.relu(d2) * scale)  # ops.maximum(d2, 0.0): float32

    gram = SymTiles.build(blocks, lambda i, j: tile(train[i], train[j]), step)
    test_tiles = []
    for rows in test:
        row = []
        for cols in train:
            row.append(tile(rows, cols))
            if step is not None:
                step()
        test_tiles.append(row)
    return Gram(gram, test_tiles, list(test_blocks))
