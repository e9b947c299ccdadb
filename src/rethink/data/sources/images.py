"""Image-folder trees: `train/<class>/*.jpg|png` and `test/<class>/*`, of any data set.

    tree = checked_tree(root, ["train/cat/0001.png", ...])    # split -> class -> files
    arrays, found = decode_images(root, tree, {file: bytes, ...}, "my_images")

Classes are the sorted folder names (two or more; train/ and test/ must have
the same ones); labels follow that order. Every image of both splits must have
the same height x width (sizes in messages are HxW, as in `Dataset.describe`).
The first image (the first file of the first train class) fixes the channels:
a greyscale one (PIL mode L, 1 or LA) makes a 1-channel data set, whose other
images must be greyscale too; any other 8-bit mode (RGB, RGBA, P, CMYK, ...)
makes an RGB data set, into which every image is converted (greyscale ones
included; alpha is dropped). 16-bit and float images are refused. Hidden files
(macOS's "._0001.jpg" twins) are no images.

From `PARALLEL_MIN` images on, Linux decodes in a pool of forked processes
(at most `MAX_WORKERS`); the arrays are the same either way.
"""

from __future__ import annotations

import io
import itertools
import multiprocessing
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path, PurePath, PurePosixPath
from typing import NamedTuple

import numpy as np
from PIL import Image

from rethink.data.sources.arrays import SPLITS, Arrays, found_dataset, one_line
from rethink.spec.datasets import DataError, Dataset

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_WORKERS",
    "PARALLEL_MIN",
    "checked_tree",
    "decode_images",
    "is_image",
    "worker_count",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
# Below this many images a process pool costs more than it saves.
PARALLEL_MIN = 4096
MAX_WORKERS = 8
_IMAGE_FORMATS = ("JPEG", "PNG")
# PIL modes: the greyscale ones make (or fit) a 1-channel data set; every 8-bit mode
# converts to RGB; anything else (I;16, I, F, ...) is refused.
_GREY_MODES = ("L", "1", "LA")
_COLOUR_MODES = ("RGB", "RGBA", "P", "PA", "CMYK", "YCbCr")


class _Reference(NamedTuple):
    """What every image must match: the first image's size and channels, and its name."""

    height: int
    width: int
    channels: int
    name: str


def is_image(name: str) -> bool:
    """Whether a file (or member) name is an image: .jpg/.jpeg/.png, not hidden."""
    # Hidden files are no images: macOS tars carry "._0001.jpg" metadata twins.
    path = PurePosixPath(name)
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def checked_tree(
    source: Path, files: Sequence[str], classes: Mapping[str, Sequence[PurePath]] | None = None
) -> dict[str, dict[str, list[str]]]:
    """split -> class -> sorted files, checked: both splits, two or more classes, none
    empty, the same in each.

    `files` are `<split>/<class>/<file>` names; `classes` lists each split's class
    folders, so that empty ones count too.
    """
    tree: dict[str, dict[str, list[str]]] = {split: {} for split in SPLITS}
    if classes is not None:
        for split, folders in classes.items():
            for folder in folders:
                tree[split][folder.name] = []
    for name in files:
        split, cls, _ = name.split("/", 2)
        tree[split].setdefault(cls, []).append(name)
    for split in SPLITS:
        if not any(tree[split].values()):
            raise DataError(f"{source}: {split} split missing (no {split}/<class>/ images)")
    for split in SPLITS:
        found = tree[split]
        if len(found) < 2:
            raise DataError(
                f"{source}: {split}/ has 1 class ({', '.join(found)}); a data set needs two or more"
            )
        empty = sorted(cls for cls, names in found.items() if not names)
        if empty:
            raise DataError(f"{source}: {split}/{empty[0]}/ has no images")
    if sorted(tree["train"]) != sorted(tree["test"]):
        differ = sorted(set(tree["train"]) ^ set(tree["test"]))
        raise DataError(f"{source}: train/ and test/ classes differ ({', '.join(differ)})")
    return {
        split: {cls: sorted(tree[split][cls]) for cls in sorted(tree[split])} for split in SPLITS
    }


def decode_images(
    source: Path,
    tree: Mapping[str, Mapping[str, Sequence[str]]],
    blobs: Mapping[str, bytes],
    name: str,
) -> tuple[Arrays, Dataset]:
    """Decode both splits at once (one process pool), labels from sorted class names;
    the data set is named `name`, with the train classes."""
    items: list[tuple[str, bytes]] = []
    labels: dict[str, np.ndarray] = {}
    for split in SPLITS:
        classes = tree[split]
        counts = [len(names) for names in classes.values()]
        labels[split] = np.repeat(np.arange(len(classes), dtype=np.int64), counts)
        items += [(file, blobs[file]) for names in classes.values() for file in names]
    reference = _probe(source, *items[0])
    images = _decode_all(source, items, reference)
    n_train = len(labels["train"])
    found = found_dataset(source, name, tuple(tree["train"]), reference[:3])
    return ((images[:n_train], labels["train"]), (images[n_train:], labels["test"])), found


def worker_count(n_images: int) -> int:
    """How many processes decode `n_images`: 1 below PARALLEL_MIN or off Linux."""
    # fork only: spawn would re-import the user's __main__, breaking unguarded scripts.
    if n_images < PARALLEL_MIN or not sys.platform.startswith("linux"):
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))


def _probe(source: Path, name: str, blob: bytes) -> _Reference:
    """The size and channels the first image fixes for the whole data set."""
    try:
        with Image.open(io.BytesIO(blob), formats=_IMAGE_FORMATS) as image:
            (w, h), mode = image.size, image.mode
    except Exception as e:
        raise DataError(f"{source}: cannot decode image {name} ({one_line(e)})") from e
    if mode not in _GREY_MODES + _COLOUR_MODES:
        raise DataError(f"{source}: {_mode_refused(name, mode)}")
    return _Reference(h, w, 1 if mode in _GREY_MODES else 3, name)


def _mode_refused(name: str, mode: str) -> str:
    return f"image {name} has mode {mode}; expected 8-bit greyscale or colour (L, RGB, RGBA, P)"


def _decode_all(
    source: Path, items: Sequence[tuple[str, bytes]], reference: _Reference
) -> np.ndarray:
    workers = worker_count(len(items))
    size = -(-len(items) // (workers * 4))
    chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
    results = _map_parallel(chunks, reference, workers) if workers > 1 else None
    if results is None:
        results = [_decode_chunk(chunk, reference) for chunk in chunks]
    for _, problem in results:
        if problem is not None:
            raise DataError(f"{source}: {problem}")
    return np.concatenate([images for images, _ in results])


def _map_parallel(
    chunks: list[list[tuple[str, bytes]]], reference: _Reference, workers: int
) -> list[tuple[np.ndarray, str | None]] | None:
    """Decode chunks in forked workers; None if a pool cannot run here."""
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns about fork() in a threaded process; the
            # workers only run Pillow and NumPy, never the parent's threads' code.
            warnings.simplefilter("ignore", DeprecationWarning)
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                return list(pool.map(_decode_chunk, chunks, itertools.repeat(reference)))
    except (BrokenProcessPool, OSError):
        return None


def _decode_chunk(
    items: Sequence[tuple[str, bytes]], reference: _Reference
) -> tuple[np.ndarray, str | None]:
    """Decode images into (n, H, W, C) uint8; stop at the first bad one and say why."""
    h, w, c, first = reference
    target = "L" if c == 1 else "RGB"
    out = np.empty((len(items), h, w, c), dtype=np.uint8)
    for i, (name, blob) in enumerate(items):
        try:
            with Image.open(io.BytesIO(blob), formats=_IMAGE_FORMATS) as image:
                if image.size != (w, h):
                    iw, ih = image.size
                    return out, f"image {name} is {ih}x{iw}, expected {h}x{w} like {first}"
                if image.mode not in _GREY_MODES + _COLOUR_MODES:
                    return out, _mode_refused(name, image.mode)
                if c == 1 and image.mode not in _GREY_MODES:
                    return out, f"image {name} is {image.mode}, expected greyscale like {first}"
                pixels = np.asarray(image if image.mode == target else image.convert(target))
            out[i] = pixels.reshape(h, w, c)
        except Exception as e:
            return out, f"cannot decode image {name} ({one_line(e)})"
    return out, None
