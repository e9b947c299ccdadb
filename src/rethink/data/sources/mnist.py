"""MNIST and Fashion-MNIST: the four IDX files, or Keras's mnist.npz.

    files = idx_files(folder, names)        # the four IDX files (plain or .gz), or None
    arrays, found = decode_idx(folder, {file: bytes, ...}, files, mnist_name(folder.name))
    arrays, found = decode_npz(Path("mnist.npz"), "mnist")

The IDX files are `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
`t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each plain or gzipped
(name + ".gz"); the npz holds x_train, y_train, x_test, y_test and is read
without pickles. Both data sets share these names, so a copy is
"fashion_mnist" when a name it comes with (the file, the folder, a folder
inside a tar) contains "fashion", else "mnist" (`mnist_name`). Images are
checked against the named data set's shape and classes (`conform`).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from rethink.data.sources.arrays import Arrays, conform, one_line
from rethink.spec import datasets
from rethink.spec.datasets import DataError, Dataset

__all__ = [
    "IDX_FILES",
    "NPZ_KEYS",
    "decode_idx",
    "decode_npz",
    "idx_files",
    "is_idx",
    "is_npz",
    "mnist_name",
]

# The four IDX files of MNIST and Fashion-MNIST (each may be gzipped: name + ".gz"),
# in the order train images, train labels, test images, test labels.
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def mnist_name(*names: str) -> str:
    """MNIST and Fashion-MNIST share file names: "fashion" in a name tells them apart."""
    return "fashion_mnist" if any("fashion" in n.lower() for n in names) else "mnist"


def is_idx(name: str) -> bool:
    """Whether a (member) name is one of the IDX files, plain or gzipped."""
    return PurePosixPath(name).name.removesuffix(".gz") in IDX_FILES


def is_npz(path: Path) -> bool:
    """Whether a file is a .npz: by its name, else by the zip magic np.savez writes."""
    if path.name.lower().endswith(".npz"):
        return True
    try:
        with path.open("rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError as e:
        raise DataError(f"{path}: cannot read ({one_line(e)})") from e


def idx_files(source: Path, names: Collection[str]) -> tuple[str, ...] | None:
    """The four IDX files among `names` (plain preferred to .gz), None when there
    is none; DataError when only some are."""
    chosen: list[str] = []
    missing: list[str] = []
    for stem in IDX_FILES:
        if stem in names:
            chosen.append(stem)
        elif f"{stem}.gz" in names:
            chosen.append(f"{stem}.gz")
        else:
            missing.append(stem)
    if not chosen:
        return None
    if missing:
        raise DataError(f"{source}: MNIST IDX files incomplete (no {', '.join(missing)}[.gz])")
    return tuple(chosen)


def decode_idx(
    source: Path, blobs: Mapping[str, bytes], files: Sequence[str], name: str
) -> tuple[Arrays, Dataset]:
    """The four IDX files (`files`, in IDX_FILES's order) as data set `name`."""
    x_train, y_train, x_test, y_test = (
        _read_idx(source, f, blobs[f], 3 if "images" in f else 1) for f in files
    )
    dataset = datasets.KNOWN[name]
    return conform(str(source), dataset, ((x_train, y_train), (x_test, y_test))), dataset


def decode_npz(path: Path, label: str) -> tuple[Arrays, Dataset]:
    """Keras's mnist.npz: x_train, y_train, x_test, y_test, read without pickles;
    Fashion-MNIST when `label` (the file's name) says so."""
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise DataError(f"{path}: a .npy array, not a .npz of {', '.join(NPZ_KEYS)}")
        with loaded as npz:
            missing = [k for k in NPZ_KEYS if k not in npz.files]
            if missing:
                raise DataError(
                    f"{path}: no {', '.join(missing)} in the .npz "
                    f"(expected Keras's mnist.npz: {', '.join(NPZ_KEYS)})"
                )
            x_train, y_train, x_test, y_test = (np.asarray(npz[k]) for k in NPZ_KEYS)
    except DataError:
        raise
    except Exception as e:
        raise DataError(f"{path}: not a readable .npz ({one_line(e)})") from e
    dataset = datasets.KNOWN[mnist_name(label)]
    return conform(str(path), dataset, ((x_train, y_train), (x_test, y_test))), dataset


def _read_idx(source: Path, name: str, blob: bytes, dims: int) -> np.ndarray:
    """An IDX file of unsigned bytes with `dims` dimensions (3: images, 1: labels)."""
    if name.endswith(".gz"):
        try:
            blob = gzip.decompress(blob)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{source}: cannot decompress {name} ({one_line(e)})") from e
    magic = bytes((0, 0, 0x08, dims))
    if blob[:4] != magic:
        raise DataError(
            f"{source}: {name} is not an IDX file of {dims}-D unsigned bytes "
            f"(magic {blob[:4].hex() or 'missing'}, expected {magic.hex()})"
        )
    header = 4 + 4 * dims
    if len(blob) < header:
        raise DataError(f"{source}: {name} is truncated ({len(blob)} bytes, header of {header})")
    shape = struct.unpack(f">{dims}I", blob[4:header])
    expected = header + int(np.prod(shape))
    if len(blob) != expected:
        dims_text = "x".join(str(d) for d in shape)
        raise DataError(
            f"{source}: {name} is truncated or damaged ({len(blob)} bytes, "
            f"expected {expected} for {dims_text} values)"
        )
    return np.frombuffer(blob, np.uint8, offset=header).reshape(shape)
