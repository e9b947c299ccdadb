"""CIFAR-10's and CIFAR-100's official pickles, read without running their code.

    check_cifar10(folder, present)          # DataError unless all six batches are there
    arrays, found = decode_cifar10(folder, {name: bytes, ...})   # found: KNOWN["cifar10"]
    arrays, found = decode_cifar100(folder, {"train": ..., "test": ..., "meta": ...})

CIFAR-10 is `data_batch_1`..`data_batch_5` (train) and `test_batch`, in
`cifar-10-batches-py/`; CIFAR-100 is `train`, `test` and optionally `meta`
(the fine label names) in `cifar-100-python/`. Each file is a pickled dict
whose b"data" holds one image a row in CHW order; labels are b"labels"
(CIFAR-10) or b"fine_labels" (CIFAR-100's 100 classes). Image shape and class
count come from the data sets' identities (`rethink.spec.datasets.KNOWN`).

The pickles are read by a restricted unpickler that names only NumPy's array
reconstruction and the bytes codec: a pickle from a downloaded archive could
otherwise run any code.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from rethink.data.sources.arrays import SPLITS, Arrays, found_dataset, one_line
from rethink.spec import datasets
from rethink.spec.datasets import DataError, Dataset

__all__ = [
    "CIFAR10_BATCHES",
    "CIFAR10_FOLDER",
    "CIFAR100_FILES",
    "CIFAR100_FOLDER",
    "check_cifar10",
    "check_cifar100",
    "decode_cifar10",
    "decode_cifar100",
    "is_batch",
]

CIFAR10_FOLDER = "cifar-10-batches-py"
# The five train batches, then the test batch: the order they are decoded in.
CIFAR10_BATCHES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")
CIFAR100_FOLDER = "cifar-100-python"
CIFAR100_FILES = ("train", "test", "meta")


def is_batch(name: str) -> bool:
    """Whether a (member) name is one of CIFAR-10's batch files."""
    return PurePosixPath(name).name in CIFAR10_BATCHES


def check_cifar10(source: Path, present: Sequence[str]) -> None:
    """DataError unless `present` names all of CIFAR-10's batches."""
    if not present:
        raise DataError(f"{source}: no CIFAR-10 batches (expected data_batch_1..5 and test_batch)")
    missing = [n for n in CIFAR10_BATCHES if n not in present]
    if "test_batch" in missing:
        raise DataError(f"{source}: test split missing (no test_batch)")
    if missing:
        raise DataError(f"{source}: train split incomplete (no {', '.join(missing)})")


def check_cifar100(source: Path, present: Sequence[str]) -> None:
    """DataError unless `present` names CIFAR-100's train and test files."""
    for split in SPLITS:
        if split not in present:
            raise DataError(f"{source}: {split} split missing (no CIFAR-100 {split} file)")


def decode_cifar10(source: Path, blobs: Mapping[str, bytes]) -> tuple[Arrays, Dataset]:
    """The six batches (by file name) decoded: five train batches joined, the test batch."""
    check_cifar10(source, list(blobs))
    dataset = datasets.KNOWN["cifar10"]
    parts = [
        read_batch(source, name, blobs[name], b"labels", dataset, "CIFAR-10 batch")
        for name in CIFAR10_BATCHES
    ]
    x_train = np.concatenate([x for x, _ in parts[:-1]])
    y_train = np.concatenate([y for _, y in parts[:-1]])
    return ((x_train, y_train), parts[-1]), dataset


def decode_cifar100(source: Path, blobs: Mapping[str, bytes]) -> tuple[Arrays, Dataset]:
    """`train` and `test` with b'data' and b'fine_labels'; class names from `meta`."""
    check_cifar100(source, list(blobs))
    known = datasets.KNOWN["cifar100"]
    classes = known.classes
    if "meta" in blobs:
        meta = _unpickle(source, "meta", blobs["meta"], "CIFAR-100 meta file")
        names = meta.get(b"fine_label_names") if isinstance(meta, dict) else None
        if names is not None:
            try:
                classes = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
            except (TypeError, UnicodeDecodeError) as e:
                raise DataError(
                    f"{source}: meta has unreadable fine_label_names ({one_line(e)})"
                ) from e
    found = found_dataset(source, known.name, classes, known.shape)
    train, test = (
        read_batch(source, n, blobs[n], b"fine_labels", found, "CIFAR-100 file") for n in SPLITS
    )
    return (train, test), found


def read_batch(
    source: Path, name: str, blob: bytes, label_key: bytes, dataset: Dataset, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch: b'data' (N, C*H*W) uint8 in CHW order and its labels, as
    (N, H, W, C) images of `dataset`'s shape and labels below its class count."""
    batch = _unpickle(source, name, blob, what)
    h, w, c = dataset.shape
    try:
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[label_key], dtype=np.int64).reshape(-1)
        x = data.reshape(len(labels), c, h, w).transpose(0, 2, 3, 1)
    except Exception as e:
        raise DataError(f"{source}: {name} is not a {what} ({one_line(e)})") from e
    if labels.size and (labels.min() < 0 or labels.max() >= dataset.num_classes):
        raise DataError(f"{source}: {name} has labels outside 0..{dataset.num_classes - 1}")
    return np.ascontiguousarray(x), labels


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
        raise DataError(f"{source}: {name} is not a {what} ({one_line(e)})") from e
