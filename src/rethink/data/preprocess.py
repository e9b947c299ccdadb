"""The paper's preprocessing (Appendix A): scale, centre-crop 28x28, whiten each image.

    x = preprocess(x_train)   # uint8 (N, 32, 32, 3) -> float32 (N, 28, 28, 3)

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
    out = np.empty((len(x), CROP, CROP, 3), dtype=np.float32)
    min_std = 1.0 / np.sqrt(CROP * CROP * 3)
    for start in range(0, len(x), _CHUNK):
        crop = x[start : start + _CHUNK, top : top + CROP, top : top + CROP, :]
        # Statistics in pixel units (0..255) and float64: sums of whole numbers
        # are exact, so a constant image gives exact zeros. Dividing by 255 is
        # folded into the floor: (v/255 - m/255) / max(s/255, f) = (v - m) / max(s, 255 f).
        chunk = crop.astype(np.float64)
        mean = chunk.mean(axis=(1, 2, 3), keepdims=True)
        std = chunk.std(axis=(1, 2, 3), keepdims=True)
        np.subtract(chunk, mean, out=chunk)
        np.divide(chunk, np.maximum(std, 255.0 * min_std), out=chunk)
        out[start : start + _CHUNK] = chunk
    return out
