"""Decoded CIFAR-10 arrays cached on disk, keyed by the sha256 of the source.

Decoding 60,000 JPEGs takes seconds; hashing the 19 MB archive and loading an
.npz takes a fraction of that. The key is the source's content, so a changed
copy never reuses stale arrays, and a moved or renamed one still hits:

    digest = source_digest("cifar10-jpeg.tar.gz")
    path = cache_path(digest)          # <cache>/cifar10-<digest>.v1.npz
    arrays = read(path)                # None when absent or unreadable
    if arrays is None:
        write(path, decoded)           # atomic: tmp file + os.replace

The cache folder is `cache_dir`, else `$RETHINK_CACHE`, else
`$XDG_CACHE_HOME/rethink`, else `~/.cache/rethink`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from rethink.atomic import write_atomically
from rethink.data import sources
from rethink.data.sources import Arrays, Layout

# Bump when decoding changes, so old caches are not reused.
CACHE_VERSION = 1
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def source_digest(source: str | os.PathLike[str] | None = None) -> str:
    """The sha256 hex of a source's content (what `load_cifar10(source)` reads).

    An archive: its bytes. A folder: its data files' paths (relative to the
    copy's root) and bytes. None: `$RETHINK_DATA`, else the official
    archive's published sha256, which Keras checks its download against.
    """
    path = sources.resolve(source)
    if path is None:
        return sources.OFFICIAL_SHA256
    return layout_digest(sources.locate(path))


def layout_digest(layout: Layout) -> str:
    """The sha256 hex of a located copy's content."""
    if layout.kind == "archive":
        try:
            with layout.root.open("rb") as f:
                return hashlib.file_digest(f, "sha256").hexdigest()
        except OSError as e:
            raise sources.DataError(f"{layout.root}: cannot read ({e.strerror or e})") from e
    digest = hashlib.sha256()
    for name in layout.files:
        data = sources.read_bytes(layout.root, name)
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding cached arrays."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("RETHINK_CACHE"):
        return Path(os.environ["RETHINK_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "rethink"
    return Path.home() / ".cache" / "rethink"


def cache_path(digest: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the arrays decoded from the source with this digest are kept."""
    return cache_root(cache_dir) / f"cifar10-{digest}.v{CACHE_VERSION}.npz"


def read(path: Path) -> Arrays | None:
    """The cached arrays, or None when the file is absent, corrupt or malformed."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            x_train, y_train, x_test, y_test = (np.asarray(npz[k]) for k in _KEYS)
    except Exception:  # truncated zip, bad header, missing key: decode again
        return None
    for x, y in ((x_train, y_train), (x_test, y_test)):
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3):
            return None
        if y.dtype != np.int64 or y.shape != (len(x),):
            return None
    return (x_train, y_train), (x_test, y_test)


def write(path: Path, arrays: Arrays) -> None:
    """Save arrays so readers see a whole file or none (tmp file + os.replace)."""
    (x_train, y_train), (x_test, y_test) = arrays
    # Uncompressed: loading 180 MB beats inflating it by about a second.
    write_atomically(
        path,
        lambda f: np.savez(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test),
    )
