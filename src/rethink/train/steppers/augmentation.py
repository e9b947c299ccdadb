"""Random crop, flip and whitening of a batch on the device, in `keras.ops`: both steppers.

    x = augment_batch(images, dy, dx, flip, "window", crop=(28, 28))  # inside a step

The device version of `rethink.data.pipeline.random_window_crop` and
`random_padded_crop` (the NumPy reference, which also describes the draws):
the batch's crops are cut at their own offsets with one gather, mirrored by
reversing the gathered columns where `flip`, and, for the "window" crop,
whitened per image as `rethink.data.preprocess.whiten` does it, in float32.
Written once for the JAX and the torch stepper: inside `jax.jit` and
`torch.compile` alike, every shape is static (the batch's and the crop's).
"""

from __future__ import annotations

import math
from typing import Any

from keras import ops

from rethink.data.pipeline import PAD


def whiten(x: Any) -> Any:
    """Images (b, H, W, C) on the 0..255 scale -> float32, each standardized as
    `rethink.data.preprocess.whiten` does it: (v - mean) / max(std, 255/sqrt(H*W*C))."""
    v = ops.cast(x, "float32")
    size = v.shape[1] * v.shape[2] * v.shape[3]
    mean = ops.mean(v, axis=(1, 2, 3), keepdims=True)
    std = ops.sqrt(ops.mean(ops.square(v - mean), axis=(1, 2, 3), keepdims=True))
    # The floor as a tensor like `std`, by operator: keras.ops given a Python number
    # build a tensor from it on the host in every step (torch), which stalls the
    # host and which a CUDA graph cannot capture. The same float32 value.
    floor = ops.zeros_like(std) + 255.0 / math.sqrt(size)
    return (v - mean) / ops.maximum(std, floor)


def augment_batch(
    x: Any, dy: Any, dx: Any, flip: Any, mode: str, crop: tuple[int, int] | None = None
) -> Any:
    """A batch's random crops, as `rethink.data.pipeline` cuts them on the host.

    "window": uint8 (b, H, W, C) -> whitened float32 (b, *crop, C) (CIFAR: 32 -> 28);
    "padded": preprocessed (b, h, w, C), zero-padded by PAD, -> (b, h, w, C) (`crop`
    unused). `dy`, `dx`: each image's top-left offset; `flip`: bool, mirror it.
    """
    if mode == "padded":
        crop = (x.shape[1], x.shape[2])
        x = ops.pad(x, ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)))
    elif mode != "window" or crop is None:
        raise ValueError(f"augment_batch: mode {mode!r} with crop {crop}; 'window' needs a crop")
    b, h, w, c = x.shape
    span_y = ops.arange(crop[0], dtype="int32")
    span_x = ops.arange(crop[1], dtype="int32")
    rows = ops.cast(dy, "int32")[:, None] + span_y[None, :]  # (b, crop rows)
    mirrored = ops.where(flip[:, None], crop[1] - 1 - span_x[None, :], span_x[None, :])
    cols = ops.cast(dx, "int32")[:, None] + mirrored  # (b, crop columns)
    # One gather from the batch's pixels as rows of C values: pixel (i, r, q) is row (i*h + r)*w + q.
    first = ops.arange(b, dtype="int32")[:, None, None] * (h * w)
    index = first + rows[:, :, None] * w + cols[:, None, :]
    crops = ops.take(ops.reshape(x, (b * h * w, c)), index, axis=0)
    return whiten(crops) if mode == "window" else crops


__all__ = ["augment_batch", "whiten"]
