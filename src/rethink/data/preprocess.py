"""The paper's preprocessing (Appendix A): scale, centre-crop 28x28, whiten each image.

    x = preprocess(x_train)   # uint8 (N, 32, 32, 3) -> float32 (N, 28, 28, 3)
    w = whiten(crops)         # any (N, H, W, C) on the 0..255 scale, e.g. random crops

Whitening is TensorFlow's `per_image_standardization`, in NumPy: subtract the
image's mean and divide by `max(std, 1/sqrt(28*28*3))`, both over all of the
image's values, so a constant image becomes zeros instead of a division by 0.
"""

from __future__ import annotations

import numpy as np

CROP = 28
_CHUNK = 1024  # images per step: bounds the float64 temporaries to ~20 MB each


def preprocess(x: np.ndarray) -> np.ndarray:
    """Pixels on the 0..255 scale (N, 32, 32, 3) -> whitened float32 (N, 28, 28, 3)."""
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1:] != (32, 32, 3):
        raise ValueError(f"preprocess expects images of shape (N, 32, 32, 3), got {x.shape}")
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(f"preprocess expects numeric pixels (uint8), got dtype {x.dtype}")
    top = (32 - CROP) // 2
    return whiten(x[:, top : top + CROP, top : top + CROP, :])


def whiten(pixels: np.ndarray) -> np.ndarray:
    """Images (N, H, W, C) on the 0..255 scale -> float32, each standardized.

    `per_image_standardization` of `pixels / 255`: subtract the image's mean,
    divide by `max(std, 1/sqrt(H*W*C))`. The one definition for `preprocess`
    and random crops (`rethink.data.pipeline`); the native steppers do the same on
    the device.
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
