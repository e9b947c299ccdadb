"""Per-image normalization and global ZCA whitening, fitted on the training split only.

    flat = normalize_images(x_train, norm=55.0)     # (n, h*w*c): mean 0, L2 norm 55 each
    zca = Whitening.fit(flat, bias=0.1)             # mean and (d, d) matrix of the training split
    white = zca.apply(normalize_images(x_test))     # the test split whitened the same way

The preprocessing of the random-patch pipelines of the paper's authors' group
(Shankar's cifar-fun `preprocess`, KeystoneML's `ZCAWhitener`): every image
has its own mean removed and is scaled to a fixed L2 norm (55, about
sqrt(32*32*3): one unit per pixel); then the covariance C of the training
images (1/n, after removing their mean image) gives the symmetric whitening
matrix W = V diag(1 / sqrt(e + bias)) V^T (C = V diag(e) V^T), and every
image x becomes (x - mean) W. With the bias 0.1 the training images'
covariance becomes C (C + bias I)^-1: the identity on the directions whose
variance is much larger than the bias. Pure NumPy; the products are done
4,096 images at a time (float32, accumulated in float64).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROWS = 4096  # images per product: no single huge BLAS call (see rethink.kernel)


def normalize_images(x: np.ndarray, norm: float = 55.0, min_divisor: float = 1e-8) -> np.ndarray:
    """(n, ...) images -> (n, d) float32: each image's mean removed, scaled to L2 norm `norm`.

    An image whose norm is below `min_divisor` (constant) is left at zero.
    """
    flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    flat = flat - flat.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(flat, axis=1, keepdims=True)
    norms = np.where(norms < min_divisor, np.inf, norms)
    return np.asarray(flat / norms * norm, dtype=np.float32)


@dataclass(frozen=True)
class Whitening:
    """ZCA: x -> (x - mean) @ matrix; `eigenvalues` of the training covariance, ascending."""

    mean: np.ndarray  # (d,) float64
    matrix: np.ndarray  # (d, d) float64, symmetric
    eigenvalues: np.ndarray  # (d,) float64
    bias: float

    @classmethod
    def fit(cls, x: np.ndarray, bias: float = 0.1, rows: int = ROWS) -> Whitening:
        """The ZCA of the rows of `x` (n, d), with `bias` added to the covariance's
        eigenvalues."""
        if not (np.isfinite(bias) and bias > 0):
            raise ValueError(f"the ZCA bias must be positive, got {bias}")
        n, d = x.shape
        mean = np.zeros(d)
        scatter = np.zeros((d, d))
        for a in range(0, n, rows):
            chunk = np.asarray(x[a : a + rows], dtype=np.float32)
            mean += chunk.sum(axis=0, dtype=np.float64)
            scatter += chunk.T @ chunk
        mean /= n
        cov = scatter / n - np.outer(mean, mean)
        cov = (cov + cov.T) / 2
        eigenvalues, vectors = np.linalg.eigh(cov)
        matrix = (vectors / np.sqrt(np.maximum(eigenvalues, 0.0) + bias)) @ vectors.T
        return cls(mean=mean, matrix=matrix, eigenvalues=eigenvalues, bias=float(bias))

    def apply(self, x: np.ndarray, rows: int = ROWS) -> np.ndarray:
        """(n, d) -> (n, d) float32 whitened (NumPy; the kernel does this on the device)."""
        w = self.matrix.astype(np.float32)
        m = self.mean.astype(np.float32)
        out = np.empty((len(x), w.shape[1]), dtype=np.float32)
        for a in range(0, len(x), rows):
            out[a : a + rows] = (np.asarray(x[a : a + rows], np.float32) - m) @ w
        return out
