"""Stage 1, the data: CIFAR-10 loaded, subset, randomized, preprocessed, per run.

    from rethink.data import load_cifar10, preprocess, subset, randomize, prepare

    (x_train, y_train), (x_test, y_test) = load_cifar10("cifar10-jpeg.tar.gz")
    x_small, y_small = subset(x_train, y_train, n=10_000, seed=0)
    x = preprocess(x_small)            # float32 (N, 28, 28, 3), whitened per image
    data = prepare(spec, raw)          # a run's arrays: subset -> randomize -> preprocess

`sources` reads every local form (and Keras's download), `cache` keeps
decoded arrays by content, `subset` draws class-balanced subsets,
`randomize` is the paper's six randomizations, `preprocess` its
preprocessing, and `pipeline` the arrays one run trains on (`RunData`),
their per-epoch order and random crops. All pure NumPy.

`load_cifar10` returns uint8 images (N, 32, 32, 3) and int64 labels (N,) for
every source (see `rethink.data.sources`); local copies are decoded once and
cached by content (`rethink.data.cache`). Importing this package does not
import Keras: only the default download does, when it is used.
"""

from __future__ import annotations

import os
import warnings

from rethink.data import cache, sources
from rethink.data.cache import source_digest
from rethink.data.pipeline import RunData, prepare
from rethink.data.preprocess import preprocess
from rethink.data.randomization import randomize
from rethink.data.sources import Arrays, DataError
from rethink.data.subset import subset

__all__ = [
    "Arrays",
    "DataError",
    "RunData",
    "load_cifar10",
    "prepare",
    "preprocess",
    "randomize",
    "source_digest",
    "subset",
]


def load_cifar10(
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Arrays:
    """((x_train, y_train), (x_test, y_test)): uint8 (N, 32, 32, 3), int64 (N,).

    `source`: a local copy (the official cifar-10-python.tar.gz or its
    extracted folder, an image-folder tree or a tar of one); None means
    `$RETHINK_DATA`, else `keras.datasets.cifar10.load_data()`. Raises
    DataError, naming path and problem, for anything that is not CIFAR-10.
    """
    path = sources.resolve(source)
    if path is None:
        return sources.download()
    layout = sources.locate(path)
    target = cache.cache_path(cache.layout_digest(layout), cache_dir)
    cached = cache.read(target)
    if cached is not None:
        return cached
    arrays = sources.decode(layout)
    try:
        cache.write(target, arrays)
    except OSError as e:  # a read-only cache only costs the next load its time
        warnings.warn(f"could not cache CIFAR-10 at {target}: {e}", stacklevel=2)
    return arrays
