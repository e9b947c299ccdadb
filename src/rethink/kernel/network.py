"""The `patches` design: the random-patch network of the paper's authors' group.

    net = PatchNetwork(filters=2000)
    result = patch_gram(x_train, x_test, net, blocks, test_blocks, "float64", seed=0)
    result.gram, result.gamma, result.state   # state: ZCA and filters (kernel_features.npz)

Section 5's "random convolutional network of 32,000 random filters" most
likely is the Recht group's 2016 CIFAR-10 pipeline (Shankar's cifar-fun,
KeystoneML's RandomPatchCifar / RandomPatchCifarKernel). Its parts, each a
field here (the README's table names the source of each default):

  - the whole images, each with its mean removed and scaled to L2 norm 55,
    then ZCA-whitened with the training split's statistics, bias 0.1
    (`rethink.kernel.whitening`);
  - `filters` 6x6x3 patches of the whitened training images, near-constant
    ones dropped, or standard normal filters (`rethink.kernel.patches`);
  - a valid convolution, stride 1 (27x27 maps), then the symmetric
    thresholded rectifier: relu(z - 1) and relu(-z - 1), two channels per
    filter;
  - average pooling over a 2x2 grid of windows (14x14 at offsets 0 and 13 of
    a 27x27 map, KeystoneML's poolSize 14 / poolStride 13), or any grid
    (cifar-fun's 3x3: windows of 15 at stride 6): 2 x grid^2 x filters
    features;
  - a Gaussian kernel on the features, exp(-gamma |phi - phi'|^2 / features)
    (KeystoneML's GaussianKernelGenerator, cifar-fun's rbf), or their linear
    kernel phi.phi' / features.

The features are computed chunk by chunk of filters on the backend's device
(`keras.ops.conv`) and streamed into the kernel's tiles (`rethink.kernel.stream`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from rethink.kernel.gram import Gram
from rethink.kernel.patches import MIN_VAR, gaussian_patches, sample_patches
from rethink.kernel.stream import Sums
from rethink.kernel.tiles import Block, Tensor
from rethink.kernel.whitening import Whitening, normalize_images

SOURCES = ("data", "gaussian")
FEATURE_KERNELS = ("gaussian", "linear")


@dataclass(frozen=True)
class PatchNetwork:
    """The network and its kernel (see the module docstring); gamma None: the median rule."""

    filters: int
    patch: int = 6
    source: str = "data"  # SOURCES
    zca_bias: float | None = 0.1  # None: no ZCA
    image_norm: float = 55.0
    min_var: float = MIN_VAR
    threshold: float = 1.0
    pool: int = 2  # grid of pooling windows per side
    pool_window: int | None = None  # None: pool_windows' default (14 on 27x27 maps)
    kernel: str = "gaussian"  # FEATURE_KERNELS
    gamma: float | None = None
    chunk: int = 256
    batch: int = 256

    def __post_init__(self) -> None:
        for name in ("filters", "patch", "pool", "chunk", "batch"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.source not in SOURCES:
            raise ValueError(f"unknown patch source {self.source!r}; choose data or gaussian")
        if self.kernel not in FEATURE_KERNELS:
            raise ValueError(f"unknown feature kernel {self.kernel!r}; choose gaussian or linear")

    def chunks(self) -> list[tuple[int, int]]:
        """[start, stop) of each chunk of filters."""
        return [(a, min(a + self.chunk, self.filters)) for a in range(0, self.filters, self.chunk)]

    def features(self) -> int:
        """Features per image: two rectifier channels x pool^2 windows x filters."""
        return 2 * self.pool * self.pool * self.filters

    def windows(self, length: int) -> tuple[list[int], int]:
        """The start of each pooling window along a map of `length`, and their side."""
        return pool_windows(length, self.pool, self.pool_window)


def pool_windows(length: int, grid: int, window: int | None = None) -> tuple[list[int], int]:
    """`grid` windows of side `window` (None: ceil((length + grid - 1) / grid), so that
    neighbours share a row: 14 at 0 and 13 on 27) spread evenly over [0, length)."""
    side = math.ceil((length + grid - 1) / grid) if window is None else window
    if not 1 <= side <= length or grid * side < length or grid > length:
        raise ValueError(
            f"{grid} pooling windows of {side} do not cover a {length}-pixel map "
            f"(need {grid} x window >= {length} and window <= {length})"
        )
    if grid == 1:
        return [0], side
    return [round(k * (length - side) / (grid - 1)) for k in range(grid)], side


def rectify_pool(
    images: Tensor, filters: Tensor, threshold: float, starts: list[int], side: int
) -> Tensor:
    """(B, h, w, C) images, (p, p, C, F) filters -> (B, 2 x len(starts)^2 x F): the
    averages of relu(z - threshold) and relu(-z - threshold) over each window."""
    from keras import ops

    z = ops.conv(images, filters, strides=1, padding="valid")
    steps = {b - a for a, b in pairwise(starts)} or {side}
    parts = []
    for maps in (ops.relu(z - threshold), ops.relu(-z - threshold)):
        if len(steps) == 1 and starts[0] == 0:  # evenly spaced: one pooling op
            (stride,) = steps
            pooled = ops.average_pool(maps, side, strides=stride, padding="valid")
            parts.append(ops.reshape(pooled[:, : len(starts), : len(starts), :], (len(z), -1)))
        else:
            for r in starts:
                for c in starts:
                    parts.append(ops.mean(maps[:, r : r + side, c : c + side, :], axis=(1, 2)))
    return ops.concatenate(parts, axis=1)


@dataclass
class PatchGram:
    """The kernel, the gamma it used (None: linear), and what to save (ZCA, filters)."""

    gram: Gram
    gamma: float | None
    median: float  # median |phi - phi'|^2 / features over the first 1,000 training images
    state: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


def whiten_images(
    x_train: np.ndarray, x_test: np.ndarray, net: PatchNetwork
) -> tuple[np.ndarray, np.ndarray, Whitening | None]:
    """Both splits normalized and whitened with the training split's ZCA (float32,
    image-shaped); the ZCA (None without one)."""
    shape = x_train.shape[1:]
    train = normalize_images(x_train, net.image_norm)
    test = normalize_images(x_test, net.image_norm)
    zca = None
    if net.zca_bias is not None:
        zca = Whitening.fit(train, net.zca_bias)
        train, test = zca.apply(train), zca.apply(test)
    return train.reshape(-1, *shape), test.reshape(-1, *shape), zca


def patch_gram(
    x_train: np.ndarray,
    x_test: np.ndarray,
    net: PatchNetwork,
    blocks: list[Block],
    test_blocks: list[Block],
    dtype: str,
    seed: int = 0,
    step: Callable[[], None] | None = None,
) -> PatchGram:
    """The network's kernel on (n + m) images; `step()` after each chunk of filters."""
    from keras import ops

    n, h, w, channels = x_train.shape
    if net.patch >= min(h, w):
        raise ValueError(
            f"the patch must be smaller than the {h}x{w} images (at most {min(h, w) - 1} "
            f"pixels), got {net.patch}"
        )
    starts, side = net.windows(min(h, w) - net.patch + 1)
    train, test, zca = whiten_images(x_train, x_test, net)
    if net.source == "data":
        filters = sample_patches(train, net.filters, net.patch, seed, net.min_var)
    else:
        filters = gaussian_patches(net.filters, net.patch, channels, seed)
    images = [
        ops.convert_to_tensor(x[a : a + net.batch], dtype="float32")
        for x in (train, test)
        for a in range(0, len(x), net.batch)
    ]
    del train, test

    def chunks() -> Iterator[Tensor]:
        for a, b in net.chunks():
            f = ops.convert_to_tensor(np.ascontiguousarray(filters[a:b].transpose(1, 2, 3, 0)))
            yield ops.concatenate(
                [rectify_pool(x, f, net.threshold, starts, side) for x in images], axis=0
            )

    sums = Sums.accumulate(chunks(), n, blocks, test_blocks, dtype, step)
    median = sums.median_distance()
    gamma = None
    if net.kernel == "gaussian":
        gamma = net.gamma if net.gamma is not None else 1.0 / median
        gram = sums.gaussian(gamma)
    else:
        gram = sums.linear()
    state: dict[str, np.ndarray] = {"filters": filters}
    if zca is not None:  # float32, as applied
        state |= {
            "zca_mean": zca.mean.astype(np.float32),
            "zca_matrix": zca.matrix.astype(np.float32),
        }
    info = {"pool_starts": starts, "pool_window": side, "features": sums.features}
    return PatchGram(gram, gamma, median, state, info)
