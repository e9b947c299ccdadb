"""The paper's preprocessing (Appendix A): scale, centre-crop 28x28, whiten each image.

    x = preprocess(x_train)            # uint8 (N, 32, 32, 3) -> float32 (N, 28, 28, 3)
    x = preprocess(mnist, crop=None)   # uint8 (N, 28, 28, 1) -> float32 (N, 28, 28, 1)
    w = whiten(crops)                  # any (N, H, W, C) on the 0..255 scale, e.g. random crops

The crop is the data set's (`rethink.spec.datasets.Dataset.crop`): the paper's
centre 28x28 of CIFAR's 32x32, the whole image for other data sets unless a
crop is asked for.

Whitening is TensorFlow's `per_image_standardization`, in NumPy: subtract the
image's mean and divide by `max(std, 1/sqrt(28*28*3))`, both over all of the
image's values, so a constant image becomes zeros instead of a division by 0.
"""

from __future__ import annotations

import numpy as np

from rethink.spec.datasets import PAPER_CROP

_CHUNK = 1024  # images per step: bounds the float64 temporaries to ~20 MB each


def preprocess(x: np.ndarray, crop: int | None = PAPER_CROP) -> np.ndarray:
    """Pixels on the 0..255 scale (N, H, W, C) -> whitened float32 (N, crop, crop, C),
    the centre crop x crop window (the default: 28x28 of CIFAR's 32x32), or the
    whole (N, H, W, C) image with `crop=None`."""
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"preprocess expects images (N, H, W, 1 or 3), got {x.shape}")
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(f"preprocess expects numeric pixels (uint8), got dtype {x.dtype}")
    if crop is None:
        return whiten(x)
    _, h, w, _ = x.shape
    if not 1 <= crop <= min(h, w):
        raise ValueError(f"a {crop}x{crop} crop does not fit images of {h}x{w}")
    top, left = (h - crop) // 2, (w - crop) // 2
    return whiten(x[:, top : top + crop, left : left + crop, :])


def whiten(pixels: np.ndarray) -> np.ndarray:
    """Images (N, H, W, C) on the 0..255 scale -> float32, each standardized.

    `per_image_standardization` of `pixels / 255`: subtract the image's mean,
    divide by `max(std, 1/sqrt(H*W*C))`. The one NumPy definition, for
    `preprocess` and random crops (`rethink.data.pipeline`); the native steppers
    do the same on the device (`rethink.train.steppers.augmentation`).
    """
    pixels = np.asarray(pixels)
    out = np.empty(pixels.shape, dtype=np.float32)
    min_std = 1.0 / np.sqrt(np.prod(pixels.shape[1:]))
    for start in range(0, len(pixels), _CHUNK):
        # Statistics in pixel units (0..255) and float64: sums of whole numbers
        # are exact, so a constant image gives exact zeros. Dividing by 255 is
        # folded into the floor: (v/255 - m/255) / max(s/255, f) = (v - m) / max(s, 255 f).
        chunk = pixels[start : start + _CHUNK].astype(np.float64)
        mean = chunk.mean(axis=(1, 2, 3), keepdims=True)
        std = chunk.std(axis=(1, 2, 3), keepdims=True)
        np.subtract(chunk, mean, out=chunk)
        np.divide(chunk, np.maximum(std, 255.0 * min_std), out=chunk)
        out[start : start + _CHUNK] = chunk
    return out
