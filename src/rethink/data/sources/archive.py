"""A tar archive (.tar, .tar.gz, .tgz) of any form rethink reads, decoded in one pass.

    arrays, found = decode_archive(Path("cifar10-jpeg.tar.gz"), "cifar10-jpeg")

The archive is read once, keeping only data members (CIFAR-10 batches,
CIFAR-100 files, IDX files, images); what they are decides the format, tried
in that order: CIFAR-10's batches anywhere, then one folder of CIFAR-100
files, then one folder of IDX files (Fashion-MNIST when the archive's or the
folder's name says so), then one image-folder tree `<root>/train/<class>/*`,
which may sit at the top of the archive or under any one folder. Errors name
the archive's path.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from rethink.data.sources.arrays import SPLITS, Arrays, one_line
from rethink.data.sources.cifar import (
    CIFAR100_FILES,
    check_cifar100,
    decode_cifar10,
    decode_cifar100,
    is_batch,
)
from rethink.data.sources.images import checked_tree, decode_images, is_image
from rethink.data.sources.layout import FORMATS_HINT
from rethink.data.sources.mnist import decode_idx, idx_files, is_idx, mnist_name
from rethink.spec.datasets import DataError, Dataset

__all__ = ["decode_archive"]

_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".gz")


def decode_archive(path: Path, label: str) -> tuple[Arrays, Dataset]:
    """The data set in a tar archive; `label`, the archive's name without its
    suffix, names an image tree (and tells Fashion-MNIST from MNIST)."""
    blobs, folders = _read_archive(path)
    batches = {PurePosixPath(n).name: b for n, b in blobs.items() if is_batch(n)}
    if batches:
        return decode_cifar10(path, batches)
    hundred = _by_folder(n for n in blobs if PurePosixPath(n).name in CIFAR100_FILES)
    hundred = {d: f for d, f in hundred.items() if {"train", "test"} & set(f)}
    if hundred:
        _, files = _only(path, hundred, "CIFAR-100 copies")
        check_cifar100(path, list(files))
        return decode_cifar100(path, {base: blobs[name] for base, name in files.items()})
    idx = _by_folder(n for n in blobs if is_idx(n))
    if idx:
        folder, files = _only(path, idx, "sets of IDX files")
        chosen = idx_files(path, list(files))
        assert chosen is not None
        name = mnist_name(label, folder)
        return decode_idx(path, {f: blobs[files[f]] for f in chosen}, chosen, name)
    images = {n: b for n, b in blobs.items() if is_image(n)}
    roots = {_tree_root(n) for n in images} - {None}
    if not roots:
        raise DataError(f"{path}: unknown layout; expected {FORMATS_HINT}")
    if len(roots) > 1:
        names = ", ".join(sorted(str(r) or "." for r in roots))
        raise DataError(f"{path}: holds {len(roots)} image-folder trees ({names}); expected one")
    (root,) = roots
    prefix = f"{root}/" if str(root) not in ("", ".") else ""
    tree_files = sorted(n[len(prefix) :] for n in images if _tree_root(n) == root)
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
    tree = checked_tree(path, tree_files, classes)
    return decode_images(path, tree, {f: images[prefix + f] for f in tree_files}, label)


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
                f"{path}: not a tar archive, a .npz file or a folder; expected {FORMATS_HINT}"
            ) from e
        raise DataError(f"{path}: truncated or corrupt archive ({one_line(e)})") from e
    return blobs, folders


def _by_folder(names: Iterable[str]) -> dict[str, dict[str, str]]:
    """Member names grouped by their folder: folder -> base name -> member name."""
    groups: dict[str, dict[str, str]] = {}
    for name in names:
        path = PurePosixPath(name)
        groups.setdefault(str(path.parent), {})[path.name] = name
    return groups


def _only(
    path: Path, groups: Mapping[str, dict[str, str]], what: str
) -> tuple[str, dict[str, str]]:
    """The one folder of `groups`; DataError naming them when there are several."""
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
    return is_batch(name) or is_image(name) or is_idx(name) or base in CIFAR100_FILES


def _tree_root(name: str) -> PurePosixPath | None:
    """The folder holding train/ and test/ for a member `<root>/<split>/<class>/<file>`."""
    parts = PurePosixPath(name).parts
    if len(parts) >= 3 and parts[-3] in SPLITS:
        return PurePosixPath(*parts[:-3])
    return None
