"""Stage 1, the data: a data set loaded, subset, randomized, preprocessed, per run.

    from rethink.data import load, preprocess, subset, randomize, prepare

    loaded = load("cifar10-jpeg.tar.gz")          # or load(dataset="mnist"): Keras's download
    (x_train, y_train), (x_test, y_test) = loaded.arrays
    loaded.dataset                     # Dataset("cifar10", classes, (32, 32, 3))
    x_small, y_small = subset(x_train, y_train, n=10_000, seed=0)
    x = preprocess(x_small)            # float32, whitened per image
    data = prepare(spec, raw)          # a run's arrays: subset -> randomize -> preprocess

`rethink.spec.datasets` names what a run trains on (`Dataset`: name, classes,
image shape; CIFAR-10, CIFAR-100, MNIST and Fashion-MNIST are known by name).
This package's modules, all pure NumPy:

    sources        every local form (CIFAR-10's and CIFAR-100's official archives,
                   MNIST's npz and IDX files, an image-folder tree of any data set)
                   and Keras's download: a package, one module per format
    cache          decoded arrays kept on disk by the source's content
    subset         class-balanced random subsets
    randomization  the paper's six randomizations (`randomize`)
    preprocess     the paper's preprocessing (centre crop, per-image whitening)
    pipeline       the arrays one run trains on (`RunData`, `prepare`), their
                   per-epoch order and random crops

`load` returns uint8 images (N, H, W, C), always 4-D channels-last with C 1
or 3, int64 labels (N,), and the `Dataset` they are (`Loaded`); local copies
are decoded once and cached by content. `load_cifar10` is
`load(source, "cifar10")`'s arrays. Importing this package does not import
Keras: only a download does, when it is used.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

from rethink.data import cache, sources
from rethink.data.cache import source_digest
from rethink.data.pipeline import RunData, prepare
from rethink.data.preprocess import preprocess
from rethink.data.randomization import randomize
from rethink.data.sources import Arrays
from rethink.data.subset import subset
from rethink.spec import datasets
from rethink.spec.datasets import DataError, Dataset

__all__ = [
    "Arrays",
    "DataError",
    "Dataset",
    "Loaded",
    "RunData",
    "load",
    "load_cifar10",
    "prepare",
    "preprocess",
    "randomize",
    "source_digest",
    "subset",
]


@dataclass(frozen=True)
class Loaded:
    """A loaded data set.

    `arrays`: ((x_train, y_train), (x_test, y_test)), uint8 (N, H, W, C) with C
    1 or 3, int64 (N,) labels in 0..classes-1. `dataset`: what they are.
    `digest`: the sha256 hex of the source's content (`source_digest`).
    `source`: the local path read, or None when keras.datasets served it.
    """

    arrays: Arrays
    dataset: Dataset
    digest: str
    source: str | None


def load(
    source: str | os.PathLike[str] | None = None,
    dataset: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Loaded:
    """A data set from a local copy or Keras's download.

    `source`: a local copy (any form `rethink.data.sources` reads); None means
    `$RETHINK_DATA`, else `keras.datasets.<dataset>.load_data()` (`dataset`
    None: CIFAR-10). With a path, the copy's format decides what it holds,
    and `dataset`, when given, must match it (class count and image shape).
    Raises DataError, one line naming path and problem, for an unknown
    `dataset`, a copy that cannot be read, or one that is not `dataset`.
    """
    if dataset is not None:
        datasets.known(dataset)
    path = sources.resolve(source)
    if path is None:
        name = dataset or datasets.DEFAULT
        arrays = sources.download(name)
        return Loaded(arrays, datasets.known(name), cache.download_digest(name), None)
    layout = sources.locate(path)
    digest = cache.layout_digest(layout)
    target = cache.cache_path(digest, cache_dir)
    hit = cache.read(target, layout.label)
    if hit is not None:
        arrays, found = hit
    else:
        arrays, found = sources.decode(layout)
        try:
            cache.write(target, arrays, found, layout.label)
        except OSError as e:  # a read-only cache only costs the next load its time
            warnings.warn(f"could not cache {found.name} at {target}: {e}", stacklevel=2)
    # A copy named by $RETHINK_DATA says so: a stale setting is the likely cause.
    where = f"{path} (from ${sources.ENV_VAR})" if source is None else str(path)
    return Loaded(arrays, datasets.identify(found, dataset, where), digest, str(path))


def load_cifar10(
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Arrays:
    """((x_train, y_train), (x_test, y_test)): uint8 (N, 32, 32, 3), int64 (N,).

    `source`: a local copy (the official cifar-10-python.tar.gz or its
    extracted folder, an image-folder tree of 10 classes of 32x32 RGB images
    or a tar of one); None means `$RETHINK_DATA`, else
    `keras.datasets.cifar10.load_data()`. Raises DataError, naming path and
    problem, for anything that is not CIFAR-10. `load(source, "cifar10")`'s
    arrays.
    """
    return load(source, "cifar10", cache_dir).arrays
