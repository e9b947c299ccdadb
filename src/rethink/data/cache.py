"""Decoded data sets cached on disk, keyed by the sha256 of the source.

Decoding 60,000 JPEGs takes seconds; hashing the 19 MB archive and loading an
.npz takes a fraction of that. The key is the source's content, so a changed
copy never reuses stale arrays, and a moved one still hits:

    layout = sources.locate(path)
    path = cache_path(layout_digest(layout))   # <cache>/data-<digest>.v2.npz
    hit = read(path, layout.label)             # (arrays, found Dataset) or None
    if hit is None:
        write(path, arrays, found, layout.label)   # atomic: tmp file + os.replace

A file holds the arrays (uint8 (N, H, W, C) with C 1 or 3, int64 labels) and
the data set they were decoded as: its name and class names (fixed-width
unicode arrays, read with allow_pickle=False), so a hit gives the same
`Dataset` as a decode. An image tree is named after its folder, so the
source's `label` (its folder or file name) is stored too, and a hit needs the
same label: a renamed copy is decoded again.

The cache folder is `cache_dir`, else `$RETHINK_CACHE`, else
`$XDG_CACHE_HOME/rethink`, else `~/.cache/rethink`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from rethink.base.atomic import write_atomically
from rethink.base.platform import cache_root
from rethink.data import sources
from rethink.data.sources import Arrays, Layout
from rethink.spec import datasets
from rethink.spec.datasets import DataError, Dataset

# Bump when decoding or the file's content changes, so old caches are not reused
# (v1: CIFAR-10 arrays only; v2: any shape, with the data set's name and classes).
CACHE_VERSION = 2
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def source_digest(source: str | os.PathLike[str] | None = None, dataset: str | None = None) -> str:
    """The sha256 hex of a source's content (what `load(source)` reads).

    An archive or .npz: its bytes. A folder: its data files' paths (relative
    to the copy's root) and bytes. None: `$RETHINK_DATA`, else what Keras
    downloads for `dataset` (default CIFAR-10): `download_digest(dataset)`.
    `dataset` only matters for the download.
    """
    path = sources.resolve(source)
    if path is None:
        return download_digest(dataset or datasets.DEFAULT)
    return layout_digest(sources.locate(path))


def download_digest(dataset: str) -> str:
    """The published sha256 of what `keras.datasets.<dataset>` downloads (for
    Fashion-MNIST, of the md5sum manifest of its four files: see
    `sources.DOWNLOAD_SHA256`)."""
    return sources.DOWNLOAD_SHA256[datasets.known(dataset).name]


def layout_digest(layout: Layout) -> str:
    """The sha256 hex of a located copy's content."""
    if layout.is_file:
        try:
            with layout.root.open("rb") as f:
                return hashlib.file_digest(f, "sha256").hexdigest()
        except OSError as e:
            raise DataError(f"{layout.root}: cannot read ({e.strerror or e})") from e
    digest = hashlib.sha256()
    for name in layout.files:
        data = sources.read_bytes(layout.root, name)
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def cache_path(digest: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the arrays decoded from the source with this digest are kept."""
    return cache_root(cache_dir) / f"data-{digest}.v{CACHE_VERSION}.npz"


def read(path: Path, label: str | None = None) -> tuple[Arrays, Dataset] | None:
    """The cached arrays and data set, or None when the file is absent, corrupt,
    malformed, or was written for a source of another `label` (None: any)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            x_train, y_train, x_test, y_test = (np.asarray(npz[k]) for k in _KEYS)
            name, stored_label = str(npz["name"][()]), str(npz["label"][()])
            classes = tuple(str(c) for c in np.asarray(npz["classes"]).reshape(-1))
            h, w, c = (int(n) for n in x_train.shape[1:])
            found = Dataset(name, classes, (h, w, c))
    except Exception:  # truncated zip, bad header, missing key, bad data set: decode again
        return None
    if label is not None and stored_label != label:
        return None
    for x, y in ((x_train, y_train), (x_test, y_test)):
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != found.shape:
            return None
        if y.dtype != np.int64 or y.shape != (len(x),):
            return None
        if y.size and (y.min() < 0 or y.max() >= found.num_classes):
            return None
    return ((x_train, y_train), (x_test, y_test)), found


def write(path: Path, arrays: Arrays, found: Dataset, label: str = "") -> None:
    """Save arrays and their data set so readers see a whole file or none (tmp
    file + os.replace); `label` is the source's (`Layout.label`)."""
    (x_train, y_train), (x_test, y_test) = arrays
    name, classes, stored_label = (
        np.array(found.name),
        np.array(found.classes, dtype=str),
        np.array(label),
    )
    # Uncompressed: loading 180 MB beats inflating it by about a second.
    write_atomically(
        path,
        lambda f: np.savez(
            f,
            x_train=x_train,
            y_train=y_train,
            x_test=x_test,
            y_test=y_test,
            name=name,
            classes=classes,
            label=stored_label,
        ),
    )
