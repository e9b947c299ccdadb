"""Image-folder data sets written by tests: train/<class>/*.png and test/<class>/*.png.

    root = write_image_folder(tmp_path / "shapes", ("circle", "cross", "square"), (20, 20, 1))
    root = write_image_folder(tmp_path / "tiny-cifar", CIFAR10_CLASSES, (32, 32, 3), 1, 1)

`write_image_folder` gives each class a different mean brightness plus noise,
so the classes can be learned (a few steps already beat chance on the training
set). To check decoding instead, write known arrays and compare:

    train, test = random_splits(3, (20, 20, 1))     # class by class
    write_image_tree(tmp_path / "greys", (train, test), ("ant", "bee", "cat"))
    load(tmp_path / "greys").arrays                 # == (train, test); else class_sorted(...)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image


def write_image_folder(
    root: Path,
    classes: Sequence[str],
    shape: tuple[int, int, int],
    per_class_train: int = 8,
    per_class_test: int = 4,
    seed: int = 0,
) -> Path:
    """Write PNGs of `shape` (H, W, 1 or 3) for every class and split; return `root`."""
    rng = np.random.default_rng(seed)
    h, w, c = shape
    for split, count in (("train", per_class_train), ("test", per_class_test)):
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            level = 40 + 170 * label / max(1, len(classes) - 1)
            for i in range(count):
                pixels = np.clip(rng.normal(level, 25, size=(h, w, c)), 0, 255).astype(np.uint8)
                image = Image.fromarray(pixels[:, :, 0] if c == 1 else pixels)
                image.save(folder / f"{i:04d}.png")
    return root


Split = tuple[np.ndarray, np.ndarray]


def random_splits(
    num_classes: int,
    shape: tuple[int, int, int],
    per_split: tuple[int, int] = (3, 2),
    seed: int = 0,
) -> tuple[Split, Split]:
    """Random uint8 images (N, H, W, C) and int64 labels for train and test, class by
    class (`per_split` images of each class in each split): what a tree of them gives."""
    rng = np.random.default_rng(seed)
    splits = []
    for n in per_split:
        y = np.repeat(np.arange(num_classes, dtype=np.int64), n)
        splits.append((rng.integers(0, 256, size=(len(y), *shape), dtype=np.uint8), y))
    return splits[0], splits[1]


def write_image_tree(
    root: Path, splits: tuple[Split, Split], classes: Sequence[str], ext: str = ".png"
) -> Path:
    """Write given images as root/<split>/<class>/NNNN<ext>, label i in folder
    classes[i], numbered in the split's order (PNG: exact pixels; JPEG: best
    quality, no chroma subsampling); return `root`."""
    for split, (x, y) in zip(("train", "test"), splits, strict=True):
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for rank, i in enumerate(np.flatnonzero(y == label)):
                image = Image.fromarray(x[i][..., 0] if x.shape[-1] == 1 else x[i])
                image.save(folder / f"{rank:04d}{ext}", quality=100, subsampling=0)
    return root


def class_sorted(split: Split) -> Split:
    """A split in the order a tree of it loads: class by class, each in file order."""
    x, y = split
    order = np.argsort(y, kind="stable")
    return x[order], y[order]
