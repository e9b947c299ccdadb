"""Finding a local copy of a data set (`locate`) and decoding it (`decode`).

    path = resolve(None)                  # $RETHINK_DATA, else None: Keras's download
    layout = locate(Path("cifar10-jpeg.tar.gz"))
    (x_train, y_train), (x_test, y_test) = decode(layout)[0]

`locate` looks at the path only as far as telling its kind: a file is an
archive or a .npz (read whole by `decode`); a folder is a copy itself (CIFAR-10's
batches, CIFAR-100's files, the four IDX files, or an image tree with train/
and test/), holds cifar-10-batches-py/ or cifar-100-python/, or holds exactly
one such copy one level down. `decode` hands the copy's bytes to its format's
module (cifar, mnist, images, archive).
"""

from __future__ import annotations

import os
from pathlib import Path

from rethink.data.sources.archive import decode_archive
from rethink.data.sources.arrays import SPLITS, Arrays, one_line
from rethink.data.sources.cifar import (
    CIFAR10_BATCHES,
    CIFAR10_FOLDER,
    CIFAR100_FILES,
    CIFAR100_FOLDER,
    check_cifar10,
    check_cifar100,
    decode_cifar10,
    decode_cifar100,
)
from rethink.data.sources.images import checked_tree, decode_images, is_image
from rethink.data.sources.layout import FORMATS_HINT, Layout
from rethink.data.sources.mnist import decode_idx, decode_npz, idx_files, is_npz, mnist_name
from rethink.spec.datasets import DataError, Dataset

__all__ = ["ENV_VAR", "decode", "locate", "read_bytes", "resolve"]

# Names the local copy to read when no path is given.
ENV_VAR = "RETHINK_DATA"


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
        return Layout("npz" if is_npz(path) else "archive", path)
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
    raise DataError(f"{path}: unknown layout; expected {FORMATS_HINT}")


def decode(layout: Layout) -> tuple[Arrays, Dataset]:
    """Read and decode a located copy: ((x_train, y_train), (x_test, y_test)) and
    the data set it holds (named by format or path, see `rethink.data.sources`)."""
    if layout.kind == "archive":
        return decode_archive(layout.root, layout.label)
    if layout.kind == "npz":
        return decode_npz(layout.root, layout.label)
    blobs = {name: read_bytes(layout.root, name) for name in layout.files}
    if layout.kind == "cifar10":
        return decode_cifar10(layout.root, blobs)
    if layout.kind == "cifar100":
        return decode_cifar100(layout.root, blobs)
    if layout.kind == "idx":
        return decode_idx(layout.root, blobs, layout.files, mnist_name(layout.label))
    tree = checked_tree(layout.root, layout.files)
    return decode_images(layout.root, tree, blobs, layout.label)


def read_bytes(root: Path, name: str) -> bytes:
    """One data file of a folder copy; DataError when it cannot be read."""
    try:
        return (root / name).read_bytes()
    except OSError as e:
        raise DataError(f"{root}: cannot read {name} ({one_line(e)})") from e


def _subfolders(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def _layout_in(folder: Path) -> Layout | None:
    """The copy rooted at `folder` itself (or its cifar-10-batches-py/ or
    cifar-100-python/), if any."""
    batches = folder / CIFAR10_FOLDER
    for base in (folder, batches):
        present = [n for n in CIFAR10_BATCHES if (base / n).is_file()]
        if present or (base == batches and base.is_dir()):
            check_cifar10(base, present)
            return Layout("cifar10", base, CIFAR10_BATCHES)
    hundred = folder / CIFAR100_FOLDER
    for base in (folder, hundred):
        present = [n for n in CIFAR100_FILES if (base / n).is_file()]
        if {"train", "test"} & set(present) or (base == hundred and base.is_dir()):
            check_cifar100(base, present)
            return Layout("cifar100", base, tuple(present))
    files = [f.name for f in folder.iterdir() if f.is_file()]
    idx = idx_files(folder, files)
    if idx is not None:
        return Layout("idx", folder, idx)
    if any((folder / split).is_dir() for split in SPLITS):
        return Layout("images", folder, _tree_files(folder))
    return None


def _tree_files(folder: Path) -> tuple[str, ...]:
    """An image tree's `<split>/<class>/<file>` names, checked (`checked_tree`), so
    that a bad tree is refused before anything is read."""
    files: list[str] = []
    for split in SPLITS:
        base = folder / split
        if not base.is_dir():
            raise DataError(f"{folder}: {split} split missing (no {split}/ folder)")
        for cls in _subfolders(base):
            files += sorted(
                f"{split}/{cls.name}/{f.name}"
                for f in cls.iterdir()
                if is_image(f.name) and f.is_file()
            )
    checked_tree(folder, files, classes={s: _subfolders(folder / s) for s in SPLITS})
    return tuple(files)
