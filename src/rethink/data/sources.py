"""Where a data set comes from: find a local copy's layout and decode it to arrays.

A source is one of

- CIFAR-10: the official `cifar-10-python.tar.gz`, its extracted
  `cifar-10-batches-py/` folder, or a folder holding that folder;
- CIFAR-100: the official `cifar-100-python.tar.gz`, its extracted
  `cifar-100-python/` folder (files `train`, `test`, `meta`; the 100 fine
  labels), or a folder holding that folder;
- MNIST or Fashion-MNIST: Keras's `mnist.npz` (x_train, y_train, x_test,
  y_test), or the four IDX files (`train-images-idx3-ubyte`,
  `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
  `t10k-labels-idx1-ubyte`, each plain or `.gz`) in a folder or a tar;
- any other data set: an image-folder tree `train/<class>/*.jpg|png`,
  `test/<class>/*`, a folder holding exactly one such tree, or a
  `.tar`/`.tar.gz`/`.tgz` of one;
- nothing (`None`): Keras's own download, `download(name)`, made uniform by
  the pure `adapt(name, arrays)`.

    layout = locate(Path("cifar10-jpeg.tar.gz"))
    (x_train, y_train), (x_test, y_test) = decode(layout)[0]

`decode` gives the arrays and the `Dataset` the source holds (before
`datasets.identify` applies the name a user asked for). Every source gives the
same kind of arrays: uint8 images (N, H, W, C), always 4-D channels-last with
C 1 (greyscale) or 3 (RGB), and int64 labels (N,), in the source's own order.

Names. CIFAR-10 and CIFAR-100 are named by their format. MNIST and
Fashion-MNIST share their file names, so a copy is "fashion_mnist" when its
name (the file, the folder, or a folder inside a tar) contains "fashion", else
"mnist". An image tree is named after its folder, or after its archive's file
name without .tar/.tar.gz/.tgz (`Layout.label`).

Image trees. Classes are the sorted folder names (two or more; train/ and
test/ must have the same ones); labels follow that order. Every image of both
splits must have the same height x width (sizes in messages are HxW, as in
`Dataset.describe`). The first image (the first file of the first train class)
fixes the channels: a greyscale one (PIL mode L, 1 or LA) makes a 1-channel data
set, whose other images must be greyscale too; any other 8-bit mode (RGB, RGBA,
P, CMYK, ...) makes an RGB data set, into which every image is converted
(greyscale ones included; alpha is dropped). 16-bit and float images are
refused.

Anything that is not a usable copy raises `DataError` with a one-line message
naming the path.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import itertools
import multiprocessing
import os
import pickle
import socket
import struct
import sys
import tarfile
import warnings
import zlib
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, Literal

import numpy as np
from PIL import Image

from rethink.spec import datasets
from rethink.spec.datasets import DataError, Dataset

__all__ = ["Arrays", "DataError", "Layout", "adapt", "decode", "download", "locate", "resolve"]

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

# CIFAR-10's class count (what the paper's experiments use).
NUM_CLASSES = 10
SPLITS = ("train", "test")
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
OFFICIAL_BATCHES = (*TRAIN_BATCHES, "test_batch")
OFFICIAL_FOLDER = "cifar-10-batches-py"
CIFAR100_FOLDER = "cifar-100-python"
CIFAR100_FILES = ("train", "test", "meta")
# The four IDX files of MNIST and Fashion-MNIST (each may be gzipped: name + ".gz"),
# in the order train images, train labels, test images, test labels.
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")

# sha256 of the official cifar-10-python.tar.gz; Keras checks its download against it.
OFFICIAL_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
# Fashion-MNIST's own published MD5s of its four files (Keras publishes no hash for
# them; these are the ones in zalandoresearch/fashion-mnist's README).
FASHION_MNIST_MD5 = {
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
}
# What `source_digest` gives for a keras.datasets download: the published sha256 of
# the file Keras fetches (Keras checks its download against it), and for
# Fashion-MNIST's four files the sha256 of their md5sum manifest
# ("<md5>  <file>\n" per file, in Keras's download order).
DOWNLOAD_SHA256 = {
    "cifar10": OFFICIAL_SHA256,
    "cifar100": "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
    "mnist": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    "fashion_mnist": hashlib.sha256(
        "".join(f"{md5}  {name}\n" for name, md5 in FASHION_MNIST_MD5.items()).encode()
    ).hexdigest(),
}
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
ENV_VAR = "RETHINK_DATA"
DOWNLOAD_TIMEOUT_S = 15.0

_TITLES = {
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
}
_TREE_HINT = (
    "an image-folder tree train/<class>/*.jpg|png + test/<class>/* (a folder or a .tar.gz of one)"
)
_OFFLINE_HINTS = {
    "cifar10": "the official cifar-10-python.tar.gz or its cifar-10-batches-py/ folder",
    "cifar100": "the official cifar-100-python.tar.gz or its cifar-100-python/ folder",
    "mnist": "Keras's mnist.npz or the four MNIST IDX files (a folder or a tar of them)",
    "fashion_mnist": "the four Fashion-MNIST IDX files in a folder named fashion-mnist (or a tar of it)",
}
_FORMATS_HINT = (
    "cifar-10-python.tar.gz, cifar-100-python.tar.gz or their extracted folders, mnist.npz, "
    f"the MNIST IDX files (a folder or a tar of them), or {_TREE_HINT}"
)
_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".gz")
# Stripped from a file's name to name what it holds: "my_set.tar.gz" -> "my_set".
_NAME_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".gz", ".npz")
_IMAGE_FORMATS = ("JPEG", "PNG")
# PIL modes: the greyscale ones make (or fit) a 1-channel data set; every 8-bit mode
# converts to RGB; anything else (I;16, I, F, ...) is refused.
_GREY_MODES = ("L", "1", "LA")
_COLOUR_MODES = ("RGB", "RGBA", "P", "PA", "CMYK", "YCbCr")
# Below this many images a process pool costs more than it saves.
_PARALLEL_MIN = 4096
_MAX_WORKERS = 8

Kind = Literal["archive", "npz", "cifar10", "cifar100", "idx", "images"]


@dataclass(frozen=True)
class Layout:
    """A local copy of a data set: what kind it is and where its data files are.

    An archive's contents are only known once it is read (`decode`), so for
    `kind == "archive"` (and a single `"npz"` file) `files` is empty; for
    folders it lists the data files relative to `root` (POSIX separators), in
    the order they are decoded.
    """

    kind: Kind
    root: Path
    files: tuple[str, ...] = ()

    @property
    def is_file(self) -> bool:
        """Whether the copy is one file (read whole), not a folder of data files."""
        return self.kind in ("archive", "npz")

    @property
    def label(self) -> str:
        """The name the path gives the copy: a folder's name, or a file's name
        without .tar/.tar.gz/.tgz/.gz/.npz (what an image tree is named after)."""
        name = Path(os.path.abspath(self.root)).name
        if self.is_file:
            lower = name.lower()
            for suffix in _NAME_SUFFIXES:
                if lower.endswith(suffix) and len(name) > len(suffix):
                    return name[: -len(suffix)]
        return name or str(self.root)


def resolve(source: str | os.PathLike[str] | None) -> Path | None:
    """The local path to read: `source`, else `$RETHINK_DATA`, else None (download)."""
    if source is None:
        source = os.environ.get(ENV_VAR) or None
    if source is None:
        return None
    return Path(source).expanduser()


def locate(path: Path) -> Layout:
    """Find which kind of copy `path` is; raise DataError when it is none."""
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_file():
        return Layout("npz" if _looks_like_npz(path) else "archive", path)
    if not path.is_dir():
        raise DataError(f"{path}: not a file or a folder")
    found = _layout_in(path)
    if found is not None:
        return found
    inside = [lay for sub in _subfolders(path) if (lay := _layout_in(sub)) is not None]
    if len(inside) == 1:
        return inside[0]
    if len(inside) > 1:
        names = ", ".join(lay.root.relative_to(path).as_posix() for lay in inside)
        raise DataError(f"{path}: holds {len(inside)} data sets ({names}); point at one")
    raise DataError(f"{path}: unknown layout; expected {_FORMATS_HINT}")


def decode(layout: Layout) -> tuple[Arrays, Dataset]:
    """Read and decode a located copy: ((x_train, y_train), (x_test, y_test)) and
    the data set it holds (named by format or path, see the module doc)."""
    if layout.kind == "archive":
        return _decode_archive(layout.root, layout.label)
    if layout.kind == "npz":
        return _decode_npz(layout.root, layout.label)
    blobs = {name: read_bytes(layout.root, name) for name in layout.files}
    if layout.kind == "cifar10":
        return _decode_cifar10(layout.root, blobs)
    if layout.kind == "cifar100":
        return _decode_cifar100(layout.root, blobs)
    if layout.kind == "idx":
        return _decode_idx(layout.root, blobs, layout.files, _mnist_name(layout.label))
    return _decode_images(layout.root, _tree(layout.root, layout.files), blobs, layout.label)


def read_bytes(root: Path, name: str) -> bytes:
    """One data file of a folder copy; DataError when it cannot be read."""
    try:
        return (root / name).read_bytes()
    except OSError as e:
        raise DataError(f"{root}: cannot read {name} ({_one_line(e)})") from e


# --- Keras's download --------------------------------------------------------


def download(dataset: str = datasets.DEFAULT, timeout: float = DOWNLOAD_TIMEOUT_S) -> Arrays:
    """A named data set through `keras.datasets.<name>.load_data()` (CIFAR-100's fine
    labels), failing fast when offline, made uniform by `adapt`."""
    datasets.known(dataset)
    title = _TITLES[dataset]
    call = f"keras.datasets.{dataset}.load_data()"
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        # lazy: importing keras fixes the backend
        module = importlib.import_module(f"keras.datasets.{dataset}")
        raw = module.load_data(**({"label_mode": "fine"} if dataset == "cifar100" else {}))
    except Exception as e:
        raise DataError(
            f"could not get {title} through {call} ({_one_line(e)}); point rethink at a local "
            f"copy with --data PATH or {ENV_VAR}=PATH: {_OFFLINE_HINTS[dataset]}, or {_TREE_HINT}"
        ) from e
    finally:
        socket.setdefaulttimeout(previous)
    return adapt(dataset, raw)


def adapt(name: str, arrays: Any) -> Arrays:
    """What `keras.datasets.<name>.load_data()` returns, in rethink's layout: uint8
    (N, H, W, C) channels-last images (MNIST's (N, 28, 28) gains its channel,
    channels-first (N, C, H, W) is transposed) and int64 (N,) labels, checked
    against the named data set's shape and classes. Pure: no Keras, no I/O."""
    return _conform(f"keras.datasets.{name}", datasets.known(name), arrays)


def _conform(where: str, dataset: Dataset, arrays: Any) -> Arrays:
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


# --- folders ---------------------------------------------------------------


def _subfolders(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def _layout_in(folder: Path) -> Layout | None:
    """The copy rooted at `folder` itself (or its cifar-10-batches-py/ or
    cifar-100-python/), if any."""
    batches = folder / OFFICIAL_FOLDER
    for base in (folder, batches):
        present = [n for n in OFFICIAL_BATCHES if (base / n).is_file()]
        if present or (base == batches and base.is_dir()):
            _check_batches(base, present)
            return Layout("cifar10", base, OFFICIAL_BATCHES)
    hundred = folder / CIFAR100_FOLDER
    for base in (folder, hundred):
        present = [n for n in CIFAR100_FILES if (base / n).is_file()]
        if {"train", "test"} & set(present) or (base == hundred and base.is_dir()):
            _check_cifar100(base, present)
            return Layout("cifar100", base, tuple(present))
    files = [f.name for f in folder.iterdir() if f.is_file()]
    idx = _idx_choice(folder, files)
    if idx is not None:
        return Layout("idx", folder, idx)
    if any((folder / split).is_dir() for split in SPLITS):
        tree_files: list[str] = []
        for split in SPLITS:
            base = folder / split
            if not base.is_dir():
                raise DataError(f"{folder}: {split} split missing (no {split}/ folder)")
            for cls in _subfolders(base):
                tree_files += sorted(
                    f"{split}/{cls.name}/{f.name}"
                    for f in cls.iterdir()
                    if _is_image(f.name) and f.is_file()
                )
        layout = Layout("images", folder, tuple(tree_files))
        _tree(folder, layout.files, classes={s: _subfolders(folder / s) for s in SPLITS})
        return layout
    return None


def _looks_like_npz(path: Path) -> bool:
    if path.name.lower().endswith(".npz"):
        return True
    try:
        with path.open("rb") as f:
            return f.read(4) == b"PK\x03\x04"  # zip magic: np.savez's container
    except OSError as e:
        raise DataError(f"{path}: cannot read ({_one_line(e)})") from e


# --- archives --------------------------------------------------------------


def _decode_archive(path: Path, label: str) -> tuple[Arrays, Dataset]:
    blobs, folders = _read_archive(path)
    batches = {PurePosixPath(n).name: b for n, b in blobs.items() if _is_batch(n)}
    if batches:
        return _decode_cifar10(path, batches)
    hundred = _by_folder(n for n in blobs if PurePosixPath(n).name in CIFAR100_FILES)
    hundred = {d: f for d, f in hundred.items() if {"train", "test"} & set(f)}
    if hundred:
        _, files = _only(path, hundred, "CIFAR-100 copies")
        _check_cifar100(path, list(files))
        return _decode_cifar100(path, {base: blobs[name] for base, name in files.items()})
    idx = _by_folder(n for n in blobs if _is_idx(n))
    if idx:
        folder, files = _only(path, idx, "sets of IDX files")
        chosen = _idx_choice(path, list(files))
        assert chosen is not None
        name = _mnist_name(label, folder)
        return _decode_idx(path, {f: blobs[files[f]] for f in chosen}, chosen, name)
    images = {n: b for n, b in blobs.items() if _is_image(n)}
    roots = {_tree_root(n) for n in images} - {None}
    if not roots:
        raise DataError(f"{path}: unknown layout; expected {_FORMATS_HINT}")
    if len(roots) > 1:
        names = ", ".join(sorted(str(r) or "." for r in roots))
        raise DataError(f"{path}: holds {len(roots)} image-folder trees ({names}); expected one")
    (root,) = roots
    prefix = f"{root}/" if str(root) not in ("", ".") else ""
    files_ = sorted(n[len(prefix) :] for n in images if _tree_root(n) == root)
    # Class folders, so that an empty one is reported as such (tars list folders too).
    classes = {
        split: [
            PurePosixPath(d)
            for d in folders
            if PurePosixPath(d).parent == PurePosixPath(prefix, split)
            and not PurePosixPath(d).name.startswith(".")
        ]
        for split in SPLITS
    }
    tree = _tree(path, files_, classes)
    return _decode_images(path, tree, {f: images[prefix + f] for f in files_}, label)


def _read_archive(path: Path) -> tuple[dict[str, bytes], set[str]]:
    """Every data member of a tar archive (batches, CIFAR-100 files, IDX files,
    images), by normalized member name, and the names of its folders."""
    blobs: dict[str, bytes] = {}
    folders: set[str] = set()
    opened = False
    try:
        with tarfile.open(path, "r:*") as tar:
            opened = True
            for member in tar:
                name = PurePosixPath(member.name).as_posix()
                if member.isdir():
                    folders.add(name)
                elif member.isfile() and _is_data(name):
                    handle = tar.extractfile(member)
                    if handle is not None:
                        blobs[name] = handle.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        if not opened and not _looks_like_archive(path):
            raise DataError(
                f"{path}: not a tar archive, a .npz file or a folder; expected {_FORMATS_HINT}"
            ) from e
        raise DataError(f"{path}: truncated or corrupt archive ({_one_line(e)})") from e
    return blobs, folders


def _by_folder(names: Any) -> dict[str, dict[str, str]]:
    """Member names grouped by their folder: folder -> base name -> member name."""
    groups: dict[str, dict[str, str]] = {}
    for name in names:
        path = PurePosixPath(name)
        groups.setdefault(str(path.parent), {})[path.name] = name
    return groups


def _only(
    path: Path, groups: Mapping[str, dict[str, str]], what: str
) -> tuple[str, dict[str, str]]:
    if len(groups) > 1:
        raise DataError(f"{path}: holds {len(groups)} {what} ({', '.join(sorted(groups))})")
    ((folder, files),) = groups.items()
    return folder, files


def _looks_like_archive(path: Path) -> bool:
    if path.name.lower().endswith(_ARCHIVE_SUFFIXES):
        return True
    with path.open("rb") as f:
        return f.read(2) == b"\x1f\x8b"  # gzip magic


def _is_data(name: str) -> bool:
    base = PurePosixPath(name).name
    return _is_batch(name) or _is_image(name) or _is_idx(name) or base in CIFAR100_FILES


def _is_batch(name: str) -> bool:
    return PurePosixPath(name).name in OFFICIAL_BATCHES


def _is_idx(name: str) -> bool:
    base = PurePosixPath(name).name
    return base.removesuffix(".gz") in IDX_FILES


def _is_image(name: str) -> bool:
    # Hidden files are no images: macOS tars carry "._0001.jpg" metadata twins.
    path = PurePosixPath(name)
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def _tree_root(name: str) -> PurePosixPath | None:
    """The folder holding train/ and test/ for a member `<root>/<split>/<class>/<file>`."""
    parts = PurePosixPath(name).parts
    if len(parts) >= 3 and parts[-3] in SPLITS:
        return PurePosixPath(*parts[:-3])
    return None


# --- CIFAR-10's and CIFAR-100's pickles --------------------------------------


def _check_batches(source: Path, present: Sequence[str]) -> None:
    if not present:
        raise DataError(f"{source}: no CIFAR-10 batches (expected data_batch_1..5 and test_batch)")
    missing = [n for n in OFFICIAL_BATCHES if n not in present]
    if "test_batch" in missing:
        raise DataError(f"{source}: test split missing (no test_batch)")
    if missing:
        raise DataError(f"{source}: train split incomplete (no {', '.join(missing)})")


def _check_cifar100(source: Path, present: Sequence[str]) -> None:
    for split in SPLITS:
        if split not in present:
            raise DataError(f"{source}: {split} split missing (no CIFAR-100 {split} file)")


def _decode_cifar10(source: Path, blobs: Mapping[str, bytes]) -> tuple[Arrays, Dataset]:
    _check_batches(source, list(blobs))
    parts = [
        _read_batch(source, name, blobs[name], b"labels", NUM_CLASSES, "CIFAR-10 batch")
        for name in OFFICIAL_BATCHES
    ]
    x_train = np.concatenate([x for x, _ in parts[:-1]])
    y_train = np.concatenate([y for _, y in parts[:-1]])
    return ((x_train, y_train), parts[-1]), datasets.KNOWN["cifar10"]


def _decode_cifar100(source: Path, blobs: Mapping[str, bytes]) -> tuple[Arrays, Dataset]:
    """`train` and `test` with b'data' and b'fine_labels'; class names from `meta`."""
    _check_cifar100(source, list(blobs))
    classes = datasets.CIFAR100_CLASSES
    if "meta" in blobs:
        meta = _unpickle(source, "meta", blobs["meta"], "CIFAR-100 meta file")
        names = meta.get(b"fine_label_names") if isinstance(meta, dict) else None
        if names is not None:
            try:
                classes = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
            except (TypeError, UnicodeDecodeError) as e:
                raise DataError(
                    f"{source}: meta has unreadable fine_label_names ({_one_line(e)})"
                ) from e
    found = _dataset(source, "cifar100", classes, (32, 32, 3))
    train, test = (
        _read_batch(source, n, blobs[n], b"fine_labels", len(classes), "CIFAR-100 file")
        for n in SPLITS
    )
    return (train, test), found


# What a CIFAR batch's pickle may name: NumPy's array reconstruction, and the
# codec protocol-2 pickles use for bytes (`_codecs.encode`, a pure function).
# Exact (module, name) pairs: never a module prefix, whose attributes could
# reach anything (numpy.lib._npyio_impl.os.system).
_BATCH_GLOBALS = {
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
} | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR batch (dicts, lists, bytes, ints, NumPy arrays) and refuses
    any other global: a pickle from a downloaded archive could otherwise run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _BATCH_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing {module}.{name}: a CIFAR batch holds only arrays, lists and bytes"
        )


def _unpickle(source: Path, name: str, blob: bytes, what: str) -> Any:
    try:
        return _BatchUnpickler(io.BytesIO(blob), encoding="bytes").load()
    except Exception as e:
        raise DataError(f"{source}: {name} is not a {what} ({_one_line(e)})") from e


def _read_batch(
    source: Path, name: str, blob: bytes, label_key: bytes, num_classes: int, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch: b'data' (N, 3072) uint8 in CHW order and its labels."""
    batch = _unpickle(source, name, blob, what)
    try:
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[label_key], dtype=np.int64).reshape(-1)
        x = data.reshape(len(labels), 3, 32, 32).transpose(0, 2, 3, 1)
    except Exception as e:
        raise DataError(f"{source}: {name} is not a {what} ({_one_line(e)})") from e
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DataError(f"{source}: {name} has labels outside 0..{num_classes - 1}")
    return np.ascontiguousarray(x), labels


# --- MNIST and Fashion-MNIST -------------------------------------------------


def _mnist_name(*names: str) -> str:
    """MNIST and Fashion-MNIST share file names: "fashion" in a name tells them apart."""
    return "fashion_mnist" if any("fashion" in n.lower() for n in names) else "mnist"


def _idx_choice(source: Path, names: Collection[str]) -> tuple[str, ...] | None:
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


def _read_idx(source: Path, name: str, blob: bytes, dims: int) -> np.ndarray:
    """An IDX file of unsigned bytes with `dims` dimensions (3: images, 1: labels)."""
    if name.endswith(".gz"):
        try:
            blob = gzip.decompress(blob)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{source}: cannot decompress {name} ({_one_line(e)})") from e
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


def _decode_idx(
    source: Path, blobs: Mapping[str, bytes], files: Sequence[str], name: str
) -> tuple[Arrays, Dataset]:
    x_train, y_train, x_test, y_test = (
        _read_idx(source, f, blobs[f], 3 if "images" in f else 1) for f in files
    )
    dataset = datasets.KNOWN[name]
    return _conform(str(source), dataset, ((x_train, y_train), (x_test, y_test))), dataset


def _decode_npz(path: Path, label: str) -> tuple[Arrays, Dataset]:
    """Keras's mnist.npz: x_train, y_train, x_test, y_test, read without pickles."""
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
        raise DataError(f"{path}: not a readable .npz ({_one_line(e)})") from e
    dataset = datasets.KNOWN[_mnist_name(label)]
    return _conform(str(path), dataset, ((x_train, y_train), (x_test, y_test))), dataset


# --- image-folder trees ----------------------------------------------------


def _tree(
    source: Path, files: Sequence[str], classes: Mapping[str, Sequence[PurePath]] | None = None
) -> dict[str, dict[str, list[str]]]:
    """split -> class -> sorted files, checked: both splits, two or more classes, none
    empty, the same in each.

    `classes` lists a folder's class folders, so that empty ones count too.
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


# (height, width, channels, the first image's name): what every image must match.
_Spec = tuple[int, int, int, str]


def _decode_images(
    source: Path,
    tree: Mapping[str, Mapping[str, Sequence[str]]],
    blobs: Mapping[str, bytes],
    name: str,
) -> tuple[Arrays, Dataset]:
    """Decode both splits at once (one process pool), labels from sorted class names."""
    items: list[tuple[str, bytes]] = []
    labels: dict[str, np.ndarray] = {}
    for split in SPLITS:
        classes = tree[split]
        counts = [len(names) for names in classes.values()]
        labels[split] = np.repeat(np.arange(len(classes), dtype=np.int64), counts)
        items += [(file, blobs[file]) for names in classes.values() for file in names]
    spec = _probe(source, *items[0])
    images = _decode_all(source, items, spec)
    n_train = len(labels["train"])
    found = _dataset(source, name, tuple(tree["train"]), spec[:3])
    return ((images[:n_train], labels["train"]), (images[n_train:], labels["test"])), found


def _probe(source: Path, name: str, blob: bytes) -> _Spec:
    """The size and channels the first image fixes for the whole data set."""
    try:
        with Image.open(io.BytesIO(blob), formats=_IMAGE_FORMATS) as image:
            (w, h), mode = image.size, image.mode
    except Exception as e:
        raise DataError(f"{source}: cannot decode image {name} ({_one_line(e)})") from e
    if mode not in _GREY_MODES + _COLOUR_MODES:
        raise DataError(f"{source}: {_mode_refused(name, mode)}")
    return h, w, 1 if mode in _GREY_MODES else 3, name


def _mode_refused(name: str, mode: str) -> str:
    return f"image {name} has mode {mode}; expected 8-bit greyscale or colour (L, RGB, RGBA, P)"


def _decode_all(source: Path, items: Sequence[tuple[str, bytes]], spec: _Spec) -> np.ndarray:
    workers = _workers(len(items))
    size = -(-len(items) // (workers * 4))
    chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
    results = _map_parallel(chunks, spec, workers) if workers > 1 else None
    if results is None:
        results = [_decode_chunk(chunk, spec) for chunk in chunks]
    for _, problem in results:
        if problem is not None:
            raise DataError(f"{source}: {problem}")
    return np.concatenate([images for images, _ in results])


def _workers(n_images: int) -> int:
    # fork only: spawn would re-import the user's __main__, breaking unguarded scripts.
    if n_images < _PARALLEL_MIN or not sys.platform.startswith("linux"):
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), _MAX_WORKERS))


def _map_parallel(
    chunks: list[list[tuple[str, bytes]]], spec: _Spec, workers: int
) -> list[tuple[np.ndarray, str | None]] | None:
    """Decode chunks in forked workers; None if a pool cannot run here."""
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns about fork() in a threaded process; the
            # workers only run Pillow and NumPy, never the parent's threads' code.
            warnings.simplefilter("ignore", DeprecationWarning)
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                return list(pool.map(_decode_chunk, chunks, itertools.repeat(spec)))
    except (BrokenProcessPool, OSError):
        return None


def _decode_chunk(items: Sequence[tuple[str, bytes]], spec: _Spec) -> tuple[np.ndarray, str | None]:
    """Decode images into (n, H, W, C) uint8; stop at the first bad one and say why."""
    h, w, c, first = spec
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
            return out, f"cannot decode image {name} ({_one_line(e)})"
    return out, None


# --- helpers ---------------------------------------------------------------


def _dataset(source: Path, name: str, classes: tuple[str, ...], shape: Any) -> Dataset:
    """Dataset(...), with the path in front of its complaint."""
    try:
        return Dataset(name, classes, (int(shape[0]), int(shape[1]), int(shape[2])))
    except DataError as e:
        raise DataError(f"{source}: {e}") from e


def _one_line(e: BaseException, limit: int = 200) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
