"""Image-folder data sets written by tests: train/<class>/*.png and test/<class>/*.png.

    root = write_image_folder(tmp_path / "shapes", ("circle", "cross", "square"), (20, 20, 1))
    root = write_image_folder(tmp_path / "tiny-cifar", CIFAR10_CLASSES, (32, 32, 3), 1, 1)

Each class gets a different mean brightness plus noise, so the classes can be
learned (a few steps already beat chance on the training set).
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
