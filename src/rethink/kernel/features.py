"""The `gaussian-filters` design: Gaussian random filters on the cropped images, linear kernel.

    gram = feature_gram(x_train, x_test, FeatureDesign(filters=2000), blocks, test_blocks,
                        "float64", seed=0)

rethink's first design of "a random convolutional network of 32,000 random
filters" (the paper gives no more), kept as `--design gaussian-filters`; the
default design is the public pipeline's (`rethink.kernel.network`). Its parts:

  - the preprocessed images (28x28x3, whitened per image, as every run);
  - `filters` random filters of `patch` x `patch` x 3 (default 5x5), each
    drawn from a standard normal and scaled to unit norm, seeded by the run's
    seed (stream 3), drawn filter by filter so that the chunking below does
    not change them;
  - a valid convolution (stride 1: 24x24 maps for 5x5), then a ReLU;
  - sum pooling over the four quadrants of each map: 4 x filters features;
  - each feature scaled to unit root mean square over the training set, and
    the kernel k(x, x') = phi(x).phi(x') / (4 filters), so its diagonal has
    mean 1 on the training set, as the Gaussian kernel's. The features are
    not centred: features centred on the training set sum to zero over it,
    so K would have the all-ones vector in its null space (singular: an
    exact interpolation impossible, whatever the precision).

K has rank at most 4 x filters: to interpolate n points, 4 x filters >= n.
The features are never held all at once: for each chunk of `chunk`
filters, the features of every training and test image are computed in
batches of `batch` images (`keras.ops.conv` on the backend's device),
scaled, and their products added to K's tiles and to the test tiles
(`rethink.kernel.stream`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from rethink.kernel.gram import Gram
from rethink.kernel.stream import Sums
from rethink.kernel.tiles import Block, Tensor

_FILTER_STREAM = 3  # the filters' generator, apart from rethink's other streams


@dataclass(frozen=True)
class FeatureDesign:
    """The random network: filter count and size, filters per chunk, images per batch."""

    filters: int
    patch: int = 5
    chunk: int = 256
    batch: int = 256

    def __post_init__(self) -> None:
        for name in ("filters", "patch", "chunk", "batch"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def features(self) -> int:
        return 4 * self.filters

    def chunks(self) -> list[tuple[int, int]]:
        """[start, stop) of each chunk of filters."""
        return [(a, min(a + self.chunk, self.filters)) for a in range(0, self.filters, self.chunk)]


def draw_filters(
    design: FeatureDesign, seed: int, start: int, stop: int, channels: int = 3
) -> np.ndarray:
    """Filters start..stop-1, float32 (patch, patch, channels, stop - start), each of
    unit norm."""
    rng = np.random.default_rng([seed, _FILTER_STREAM])
    size = design.patch * design.patch * channels
    rng.standard_normal((start, size))  # skip the earlier filters: chunking changes nothing
    w = rng.standard_normal((stop - start, size))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    return np.ascontiguousarray(
        w.reshape(stop - start, design.patch, design.patch, channels).transpose(1, 2, 3, 0),
        dtype=np.float32,
    )


def pooled_features(images: Tensor, filters: Tensor) -> Tensor:
    """(B, h, w, C) images, (p, p, C, F) filters -> (B, 4F): ReLU maps summed per quadrant."""
    from keras import ops

    maps = ops.relu(ops.conv(images, filters, strides=1, padding="valid"))
    _, h, w, f = maps.shape
    hh, hw = h // 2, w // 2
    maps = maps[:, : 2 * hh, : 2 * hw, :]  # an odd map loses its last row/column
    maps = ops.reshape(maps, (-1, 2, hh, 2, hw, f))
    return ops.reshape(ops.sum(maps, axis=(2, 4)), (-1, 4 * f))


def feature_gram(
    x_train: np.ndarray,
    x_test: np.ndarray,
    design: FeatureDesign,
    blocks: list[Block],
    test_blocks: list[Block],
    dtype: str,
    seed: int = 0,
    step: Callable[[], None] | None = None,
) -> Gram:
    """The linear kernel of the scaled random features, accumulated chunk by chunk.

    `step()` after each chunk of filters.
    """
    from keras import ops

    n, h, w, channels = x_train.shape
    if design.patch >= min(h, w):
        raise ValueError(
            f"the patch must be smaller than the {h}x{w} images (at most {min(h, w) - 1} "
            f"pixels), got {design.patch}"
        )
    images = [
        ops.convert_to_tensor(x[a : a + design.batch], dtype="float32")
        for x in (x_train, x_test)
        for a in range(0, len(x), design.batch)
    ]

    def chunks() -> Iterator[Tensor]:
        for start, stop in design.chunks():
            filters = ops.convert_to_tensor(draw_filters(design, seed, start, stop, channels))
            phi = ops.concatenate([pooled_features(b, filters) for b in images], axis=0)
            phi = ops.cast(phi, dtype)
            rms = ops.sqrt(ops.mean(ops.square(phi[:n]), axis=0))
            rms = ops.where(rms > 0, rms, ops.ones_like(rms))  # a feature zero on every image
            yield phi / rms

    return Sums.accumulate(chunks(), n, blocks, test_blocks, dtype, step).linear()
