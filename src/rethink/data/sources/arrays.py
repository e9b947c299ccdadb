"""The arrays every source gives, and how a format's output is made so.

    (x_train, y_train), (x_test, y_test) = arrays            # an `Arrays`
    arrays = conform("mnist.npz", KNOWN["mnist"], raw)       # (N, 28, 28) -> (N, 28, 28, 1)
    found = found_dataset(path, "cifar100", classes, (32, 32, 3))

Every source gives uint8 images (N, H, W, C), always 4-D channels-last with C 1
(greyscale) or 3 (RGB), and int64 labels (N,), in the source's own order.
`conform` makes arrays of a known data set so (adding MNIST's channel,
transposing channels-first images) or raises `DataError`; `found_dataset` is
the `Dataset` a copy holds, with the path in front of any complaint; `one_line`
is how a reader's exception reads inside such a message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rethink.spec.datasets import DataError, Dataset

__all__ = ["SPLITS", "Arrays", "conform", "found_dataset", "one_line"]

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

SPLITS = ("train", "test")


def conform(where: str, dataset: Dataset, arrays: Any) -> Arrays:
    """((x_train, y_train), (x_test, y_test)) of `dataset` as uint8 (N, H, W, C)
    images and int64 (N,) labels; DataError, starting with `where`, when they
    cannot be (wrong shape, non-integer pixels or labels, labels out of range)."""
    h, w, c = dataset.shape
    out = []
    try:
        splits = [(np.asarray(x), np.asarray(y)) for x, y in arrays]
    except (TypeError, ValueError) as e:
        raise DataError(f"{where}: expected ((x_train, y_train), (x_test, y_test))") from e
    if len(splits) != 2:
        raise DataError(f"{where}: expected ((x_train, y_train), (x_test, y_test))")
    for split, (x, y) in zip(SPLITS, splits, strict=True):
        if x.ndim == 3 and c == 1:
            x = x[..., np.newaxis]
        elif x.ndim == 4 and x.shape[1:] == (c, h, w) and x.shape[1:] != (h, w, c):
            x = x.transpose(0, 2, 3, 1)  # image_data_format "channels_first"
        if x.ndim != 4 or x.shape[1:] != (h, w, c):
            raise DataError(
                f"{where}: {split} images have shape {tuple(x.shape)}, "
                f"expected (N, {h}, {w}, {c}) for {dataset.name}"
            )
        if x.dtype != np.uint8:
            if not np.issubdtype(x.dtype, np.integer) or (
                x.size and (x.min() < 0 or x.max() > 255)
            ):
                raise DataError(f"{where}: {split} images are {x.dtype}, expected uint8 pixels")
            x = x.astype(np.uint8)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.shape != (len(x),):
            raise DataError(
                f"{where}: {split} has {len(x)} images but labels of shape {tuple(y.shape)}"
            )
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{where}: {split} labels are {y.dtype}, expected integers")
        if y.size and (y.min() < 0 or y.max() >= dataset.num_classes):
            raise DataError(
                f"{where}: {split} has labels outside 0..{dataset.num_classes - 1} "
                f"({dataset.name}'s classes)"
            )
        out.append((np.ascontiguousarray(x), y.astype(np.int64)))
    return out[0], out[1]


def found_dataset(source: Path, name: str, classes: tuple[str, ...], shape: Any) -> Dataset:
    """Dataset(name, classes, shape), with `source` in front of its complaint."""
    try:
        return Dataset(name, classes, (int(shape[0]), int(shape[1]), int(shape[2])))
    except DataError as e:
        raise DataError(f"{source}: {e}") from e


def one_line(e: BaseException, limit: int = 200) -> str:
    """An exception's message on one line of at most `limit` characters (its type's
    name when it has none): what goes in brackets after a DataError's problem."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
