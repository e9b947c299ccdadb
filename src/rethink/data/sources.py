"""Where CIFAR-10 comes from: find a local copy's layout and decode it to arrays.

A source is one of

- the official `cifar-10-python.tar.gz`, its extracted `cifar-10-batches-py/`
  folder, or a folder holding that folder;
- an image-folder tree `train/<class>/*.jpg|png`, `test/<class>/*`, a folder
  holding exactly one such tree, or a `.tar`/`.tar.gz`/`.tgz` of one;
- nothing (`None`): Keras's own download, `keras.datasets.cifar10.load_data()`.

    layout = locate(Path("cifar10-jpeg.tar.gz"))
    (x_train, y_train), (x_test, y_test) = decode(layout)

Every source gives the same arrays: uint8 images (N, 32, 32, 3) and int64
labels (N,), in the source's own order. Classes of an image tree are its
sorted folder names (CIFAR-10's label order is alphabetical). Anything that is
not a usable copy raises `DataError` with a one-line message naming the path.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import pickle
import socket
import sys
import tarfile
import warnings
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import numpy as np
from PIL import Image

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

NUM_CLASSES = 10
SPLITS = ("train", "test")
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
OFFICIAL_BATCHES = (*TRAIN_BATCHES, "test_batch")
OFFICIAL_FOLDER = "cifar-10-batches-py"
# sha256 of the official cifar-10-python.tar.gz; Keras checks its download against it.
OFFICIAL_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
ENV_VAR = "RETHINK_DATA"
DOWNLOAD_TIMEOUT_S = 15.0

_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".gz")
_FORMATS_HINT = (
    "the official cifar-10-python.tar.gz or its cifar-10-batches-py/ folder, or an "
    "image-folder tree train/<class>/*.jpg|png + test/<class>/* (a folder or a .tar.gz of one)"
)
# Below this many images a process pool costs more than it saves.
_PARALLEL_MIN = 4096
_MAX_WORKERS = 8


class DataError(ValueError):
    """A data source that cannot be read as CIFAR-10 (the message names path and problem)."""


@dataclass(frozen=True)
class Layout:
    """A local copy of CIFAR-10: what kind it is and where its data files are.

    An archive's contents are only known once it is read (`decode`), so for
    `kind == "archive"` `files` is empty; for folders it lists the data files
    relative to `root` (POSIX separators), in the order they are decoded.
    """

    kind: Literal["archive", "official", "images"]
    root: Path
    files: tuple[str, ...] = ()


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
        return Layout("archive", path)
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
        raise DataError(f"{path}: holds {len(inside)} copies of CIFAR-10 ({names}); point at one")
    raise DataError(f"{path}: unknown layout; expected {_FORMATS_HINT}")


def decode(layout: Layout) -> Arrays:
    """Read and decode a located copy into ((x_train, y_train), (x_test, y_test))."""
    if layout.kind == "archive":
        return _decode_archive(layout.root)
    blobs = {name: read_bytes(layout.root, name) for name in layout.files}
    if layout.kind == "official":
        return _decode_official(layout.root, blobs)
    return _decode_images(layout.root, _tree(layout.root, layout.files), blobs)


def read_bytes(root: Path, name: str) -> bytes:
    """One data file of a folder copy; DataError when it cannot be read."""
    try:
        return (root / name).read_bytes()
    except OSError as e:
        raise DataError(f"{root}: cannot read {name} ({_one_line(e)})") from e


def download(timeout: float = DOWNLOAD_TIMEOUT_S) -> Arrays:
    """CIFAR-10 through `keras.datasets.cifar10.load_data()`, failing fast when offline."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        from keras.datasets import cifar10  # lazy: importing keras fixes the backend

        (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    except Exception as e:
        raise DataError(
            f"could not get CIFAR-10 through keras.datasets.cifar10.load_data() "
            f"({_one_line(e)}); point rethink at a local copy with --data PATH or "
            f"{ENV_VAR}=PATH: {_FORMATS_HINT}"
        ) from e
    finally:
        socket.setdefaulttimeout(previous)
    return (_channels_last(x_train), _labels(y_train)), (_channels_last(x_test), _labels(y_test))


# --- folders ---------------------------------------------------------------


def _subfolders(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def _layout_in(folder: Path) -> Layout | None:
    """The copy rooted at `folder` itself (or its cifar-10-batches-py/), if any."""
    batches = folder / OFFICIAL_FOLDER
    for base in (folder, batches):
        present = [n for n in OFFICIAL_BATCHES if (base / n).is_file()]
        if present or (base == batches and base.is_dir()):
            _check_batches(base, present)
            return Layout("official", base, OFFICIAL_BATCHES)
    if any((folder / split).is_dir() for split in SPLITS):
        files: list[str] = []
        for split in SPLITS:
            base = folder / split
            if not base.is_dir():
                raise DataError(f"{folder}: {split} split missing (no {split}/ folder)")
            for cls in _subfolders(base):
                files += sorted(
                    f"{split}/{cls.name}/{f.name}"
                    for f in cls.iterdir()
                    if _is_image(f.name) and f.is_file()
                )
        layout = Layout("images", folder, tuple(files))
        _tree(folder, layout.files, classes={s: _subfolders(folder / s) for s in SPLITS})
        return layout
    return None


# --- archives --------------------------------------------------------------


def _decode_archive(path: Path) -> Arrays:
    blobs = _read_archive(path)
    batches = {PurePosixPath(n).name: b for n, b in blobs.items() if _is_batch(n)}
    if batches:
        return _decode_official(path, batches)
    images = {n: b for n, b in blobs.items() if _is_image(n)}
    roots = {_tree_root(n) for n in images} - {None}
    if not roots:
        raise DataError(f"{path}: unknown layout; expected {_FORMATS_HINT}")
    if len(roots) > 1:
        names = ", ".join(sorted(str(r) or "." for r in roots))
        raise DataError(f"{path}: holds {len(roots)} image-folder trees ({names}); expected one")
    (root,) = roots
    prefix = f"{root}/" if str(root) not in ("", ".") else ""
    files = sorted(n[len(prefix) :] for n in images if _tree_root(n) == root)
    return _decode_images(path, _tree(path, files), {f: images[prefix + f] for f in files})


def _read_archive(path: Path) -> dict[str, bytes]:
    """Every batch and image member of a tar archive, by normalized member name."""
    blobs: dict[str, bytes] = {}
    opened = False
    try:
        with tarfile.open(path, "r:*") as tar:
            opened = True
            for member in tar:
                name = PurePosixPath(member.name).as_posix()
                if member.isfile() and (_is_batch(name) or _is_image(name)):
                    handle = tar.extractfile(member)
                    if handle is not None:
                        blobs[name] = handle.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        if not opened and not _looks_like_archive(path):
            raise DataError(
                f"{path}: not a tar archive or a folder; expected {_FORMATS_HINT}"
            ) from e
        raise DataError(f"{path}: truncated or corrupt archive ({_one_line(e)})") from e
    return blobs


def _looks_like_archive(path: Path) -> bool:
    if path.name.lower().endswith(_ARCHIVE_SUFFIXES):
        return True
    with path.open("rb") as f:
        return f.read(2) == b"\x1f\x8b"  # gzip magic


def _is_batch(name: str) -> bool:
    return PurePosixPath(name).name in OFFICIAL_BATCHES


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


# --- the official pickled batches ------------------------------------------


def _check_batches(source: Path, present: Sequence[str]) -> None:
    if not present:
        raise DataError(f"{source}: no CIFAR-10 batches (expected data_batch_1..5 and test_batch)")
    missing = [n for n in OFFICIAL_BATCHES if n not in present]
    if "test_batch" in missing:
        raise DataError(f"{source}: test split missing (no test_batch)")
    if missing:
        raise DataError(f"{source}: train split incomplete (no {', '.join(missing)})")


def _decode_official(source: Path, blobs: Mapping[str, bytes]) -> Arrays:
    _check_batches(source, list(blobs))
    parts = [_read_batch(source, name, blobs[name]) for name in OFFICIAL_BATCHES]
    x_train = np.concatenate([x for x, _ in parts[:-1]])
    y_train = np.concatenate([y for _, y in parts[:-1]])
    return (x_train, y_train), parts[-1]


# What a CIFAR-10 batch's pickle may name: NumPy's array reconstruction, and the
# codec protocol-2 pickles use for bytes (`_codecs.encode`, a pure function).
_BATCH_GLOBALS = {
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
} | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR-10 batch (dicts, lists, bytes, ints, NumPy arrays) and refuses
    any other global: a pickle from a downloaded archive could otherwise run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _BATCH_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing {module}.{name}: a CIFAR-10 batch holds only arrays, lists and bytes"
        )


def _read_batch(source: Path, name: str, blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch: b'data' (N, 3072) uint8 in CHW order and b'labels'."""
    try:
        batch = _BatchUnpickler(io.BytesIO(blob), encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64).reshape(-1)
        x = data.reshape(len(labels), 3, 32, 32).transpose(0, 2, 3, 1)
    except Exception as e:
        raise DataError(f"{source}: {name} is not a CIFAR-10 batch ({_one_line(e)})") from e
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(f"{source}: {name} has labels outside 0..{NUM_CLASSES - 1}")
    return np.ascontiguousarray(x), labels


# --- image-folder trees ----------------------------------------------------


def _tree(
    source: Path, files: Sequence[str], classes: Mapping[str, Sequence[Path]] | None = None
) -> dict[str, dict[str, list[str]]]:
    """split -> class -> sorted files, checked: both splits, 10 classes, the same in each.

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
        if len(found) != NUM_CLASSES:
            raise DataError(
                f"{source}: {split}/ has {len(found)} classes ({', '.join(sorted(found))}), "
                f"expected {NUM_CLASSES}"
            )
        empty = [cls for cls, names in found.items() if not names]
        if empty:
            raise DataError(f"{source}: {split}/{empty[0]}/ has no images")
    if sorted(tree["train"]) != sorted(tree["test"]):
        differ = sorted(set(tree["train"]) ^ set(tree["test"]))
        raise DataError(f"{source}: train/ and test/ classes differ ({', '.join(differ)})")
    return {
        split: {cls: sorted(tree[split][cls]) for cls in sorted(tree[split])} for split in SPLITS
    }


def _decode_images(
    source: Path, tree: Mapping[str, Mapping[str, Sequence[str]]], blobs: Mapping[str, bytes]
) -> Arrays:
    """Decode both splits at once (one process pool), labels from sorted class names."""
    items: list[tuple[str, bytes]] = []
    labels: dict[str, np.ndarray] = {}
    for split in SPLITS:
        classes = tree[split]
        counts = [len(names) for names in classes.values()]
        labels[split] = np.repeat(np.arange(len(classes), dtype=np.int64), counts)
        items += [(name, blobs[name]) for names in classes.values() for name in names]
    images = _decode_all(source, items)
    n_train = len(labels["train"])
    return (images[:n_train], labels["train"]), (images[n_train:], labels["test"])


def _decode_all(source: Path, items: Sequence[tuple[str, bytes]]) -> np.ndarray:
    workers = _workers(len(items))
    size = -(-len(items) // (workers * 4))
    chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
    results = _map_parallel(chunks, workers) if workers > 1 else None
    if results is None:
        results = [_decode_chunk(chunk) for chunk in chunks]
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
    chunks: list[list[tuple[str, bytes]]], workers: int
) -> list[tuple[np.ndarray, str | None]] | None:
    """Decode chunks in forked workers; None if a pool cannot run here."""
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns about fork() in a threaded process; the
            # workers only run Pillow and NumPy, never the parent's threads' code.
            warnings.simplefilter("ignore", DeprecationWarning)
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                return list(pool.map(_decode_chunk, chunks))
    except (BrokenProcessPool, OSError):
        return None


def _decode_chunk(items: Sequence[tuple[str, bytes]]) -> tuple[np.ndarray, str | None]:
    """Decode images into (n, 32, 32, 3) uint8; stop at the first bad one and say why."""
    out = np.empty((len(items), 32, 32, 3), dtype=np.uint8)
    for i, (name, blob) in enumerate(items):
        try:
            with Image.open(io.BytesIO(blob), formats=("JPEG", "PNG")) as image:
                if image.size != (32, 32) or image.mode != "RGB":
                    w, h = image.size
                    return out, f"image {name} is {w}x{h} {image.mode}, expected 32x32 RGB"
                out[i] = np.asarray(image)
        except Exception as e:
            return out, f"cannot decode image {name} ({_one_line(e)})"
    return out, None


# --- helpers ---------------------------------------------------------------


def _channels_last(x: np.ndarray) -> np.ndarray:
    """Keras returns (N, 3, 32, 32) under image_data_format 'channels_first'."""
    x = np.asarray(x, dtype=np.uint8)
    if x.ndim == 4 and x.shape[1] == 3 and x.shape[-1] != 3:
        x = x.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x)


def _labels(y: np.ndarray) -> np.ndarray:
    return np.asarray(y, dtype=np.int64).reshape(-1)


def _one_line(e: BaseException, limit: int = 200) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
