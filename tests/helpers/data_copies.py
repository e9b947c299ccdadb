"""Small copies of data sets in the forms rethink.data reads, and the checks on loading them.

    write_cifar10_batches(tmp_path)          # cifar-10-batches-py/ of CIFAR10_TRAIN, CIFAR10_TEST
    write_tar(folder, tmp_path / "copy.tar.gz", "inside")
    assert_loaded(load(path), (train, test))
    one_line_error(path, "train split missing")     # load(path) refused in one line

CIFAR10_TRAIN and CIFAR10_TEST are 100 random 32x32x3 images each, 10 of each
class, in random label order (not class by class), so a copy that loses the
source's order shows.
"""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rethink.data import Arrays, DataError, Loaded, load, load_cifar10
from rethink.spec.datasets import CIFAR10_CLASSES
from tests.helpers.image_folders import Split

PER_CLASS = 10  # CIFAR-10 images per class per split: 100 train, 100 test
GREY_CLASSES = ("ant", "bee", "cat")  # the classes of tests/data's `greys` tree


def _cifar10_split(seed: int) -> Split:
    """Random images with labels in random order (not class by class)."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(len(CIFAR10_CLASSES), dtype=np.int64), PER_CLASS))
    x = rng.integers(0, 256, size=(len(y), 32, 32, 3), dtype=np.uint8)
    return x, y


CIFAR10_TRAIN, CIFAR10_TEST = _cifar10_split(1), _cifar10_split(2)


def write_cifar10_batches(folder: Path) -> Path:
    """folder/cifar-10-batches-py/ with 5 train batches and a test batch, like the original."""
    out = folder / "cifar-10-batches-py"
    out.mkdir(parents=True)
    x, y = CIFAR10_TRAIN
    chunks = np.array_split(np.arange(len(y)), 5)
    batches = [(f"data_batch_{i + 1}", x[c], y[c]) for i, c in enumerate(chunks)]
    batches.append(("test_batch", *CIFAR10_TEST))
    for name, bx, by in batches:
        data = bx.transpose(0, 3, 1, 2).reshape(len(bx), 3072)  # CHW rows
        batch = {b"batch_label": name.encode(), b"labels": by.tolist(), b"data": data}
        (out / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {b"label_names": list(CIFAR10_CLASSES)}  # not read: no batch
    (out / "batches.meta").write_bytes(pickle.dumps(meta))
    return out


def write_tar(source: Path, target: Path, arcname: str) -> Path:
    """A tar of `source` under `arcname`, gzipped when `target` ends in gz or tgz."""
    mode = "w:gz" if target.name.endswith(("gz", "tgz")) else "w"
    with tarfile.open(target, mode) as tar:
        tar.add(source, arcname=arcname)
    return target


def assert_cifar10_arrays(arrays: Arrays, train: Split, test: Split) -> None:
    """`arrays` are exactly `train` and `test`, as uint8 (N, 32, 32, 3) C-contiguous
    images and int64 (N,) labels."""
    for (x, y), (x_want, y_want) in zip(arrays, (train, test), strict=True):
        assert x.dtype == np.uint8 and x.shape == (len(y_want), 32, 32, 3)
        assert x.flags.c_contiguous
        assert y.dtype == np.int64 and y.shape == (len(y_want),)
        np.testing.assert_array_equal(y, y_want)
        np.testing.assert_array_equal(x, x_want)


def assert_loaded(loaded: Loaded, expected: tuple[Split, Split]) -> None:
    """A load gave exactly `expected`, as uint8 4-D C-contiguous images, int64 labels."""
    for (x, y), (x_want, y_want) in zip(loaded.arrays, expected, strict=True):
        assert x.dtype == np.uint8 and x.ndim == 4 and x.flags.c_contiguous
        assert y.dtype == np.int64 and y.shape == (len(x),)
        np.testing.assert_array_equal(x, x_want)
        np.testing.assert_array_equal(y, y_want)


def one_line_error(source: Any, expected: str, **kwargs: Any) -> str:
    """`load(source, **kwargs)` raises one line, starting with the source, saying `expected`."""
    with pytest.raises(DataError) as info:
        load(source, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{source}: "), message
    assert expected in message, message
    return message


def assert_cifar10_refused(source: Path, expected: str, cache_dir: Path) -> None:
    """`load_cifar10(source)` refuses in one line naming the source, and caches nothing."""
    with pytest.raises(DataError) as info:
        load_cifar10(source, cache_dir=cache_dir)
    message = str(info.value)
    assert expected in message
    assert message.startswith(f"{source}: ")
    assert "\n" not in message
    assert not cache_dir.exists()  # nothing half-written
