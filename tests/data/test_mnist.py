"""rethink.data.sources.mnist: MNIST and Fashion-MNIST from the four IDX files (plain or
gzipped, in a folder or a tar) or Keras's mnist.npz, told apart by name."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from rethink.data import load
from rethink.data.sources.mnist import IDX_FILES
from rethink.spec import datasets
from tests.helpers.data_copies import assert_loaded, one_line_error, write_tar


def mnist_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=n).astype(np.uint8),
    )


M_TRAIN, M_TEST = mnist_split(6, 3), mnist_split(4, 4)
M_EXPECTED = tuple((x[..., None], y.astype(np.int64)) for x, y in (M_TRAIN, M_TEST))


def idx_bytes(a: np.ndarray) -> bytes:
    header = bytes((0, 0, 0x08, a.ndim)) + struct.pack(f">{a.ndim}I", *a.shape)
    return header + a.astype(np.uint8).tobytes()


def write_idx(folder: Path, gz: bool) -> Path:
    folder.mkdir(parents=True)
    arrays = (M_TRAIN[0], M_TRAIN[1], M_TEST[0], M_TEST[1])
    for name, a in zip(IDX_FILES, arrays, strict=True):
        data = idx_bytes(a)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize(
    "kind, name",
    [
        ("folder", "mnist"),
        ("fashion folder", "fashion_mnist"),
        ("tar", "mnist"),
        ("fashion tar", "fashion_mnist"),
        ("tar of a fashion-mnist folder", "fashion_mnist"),
        ("parent", "fashion_mnist"),
    ],
)
def test_mnist_idx_files_load_as_one_channel_images(tmp_path, gz, kind, name):
    fashion = "fashion" in kind or kind == "parent"
    folder = write_idx(tmp_path / "holder" / ("fashion-mnist" if fashion else "digits"), gz)
    source = {
        "folder": folder,
        "fashion folder": folder,
        "tar": tmp_path / "idx.tar",
        "fashion tar": tmp_path / "FashionMNIST.tar.gz",
        "tar of a fashion-mnist folder": tmp_path / "data.tgz",
        "parent": folder.parent,
    }[kind]
    if source.suffix in (".tar", ".gz", ".tgz"):
        arcname = "fashion-mnist" if kind == "tar of a fashion-mnist folder" else "files"
        write_tar(folder, source, arcname)
    loaded = load(source, cache_dir=tmp_path / "cache")
    assert loaded.dataset is datasets.KNOWN[name]
    assert loaded.arrays[0][0].shape == (6, 28, 28, 1)
    assert_loaded(loaded, M_EXPECTED)


def test_the_asked_name_tells_fashion_mnist_from_mnist(tmp_path):
    folder = write_idx(tmp_path / "digits", gz=True)
    assert load(folder, "fashion_mnist", tmp_path / "c").dataset is datasets.KNOWN["fashion_mnist"]
    assert load(folder, "mnist", tmp_path / "c").dataset is datasets.KNOWN["mnist"]
    one_line_error(folder, "holds 10 classes of 28x28x1 images, not cifar100", dataset="cifar100")


@pytest.mark.parametrize(
    "file_name, name", [("mnist.npz", "mnist"), ("fashion.npz", "fashion_mnist")]
)
def test_keras_mnist_npz_loads(tmp_path, file_name, name):
    path = tmp_path / file_name
    np.savez(path, x_train=M_TRAIN[0], y_train=M_TRAIN[1], x_test=M_TEST[0], y_test=M_TEST[1])
    loaded = load(path, cache_dir=tmp_path / "cache")
    assert loaded.dataset is datasets.KNOWN[name]
    assert loaded.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert_loaded(loaded, M_EXPECTED)


def damaged_idx(change):
    def build(tmp_path):
        folder = write_idx(tmp_path / "mnist", gz=False)
        change(folder)
        return folder

    return build


def rewrite(path: Path, edit) -> None:
    path.write_bytes(edit(path.read_bytes()))


IMAGES, LABELS = IDX_FILES[0], IDX_FILES[1]
IDX_ERRORS = {
    "bad magic": (
        damaged_idx(lambda f: rewrite(f / IMAGES, lambda b: b"\x00\x00\x08\x01" + b[4:])),
        f"{IMAGES} is not an IDX file of 3-D unsigned bytes (magic 00000801, expected 00000803)",
    ),
    "truncated": (
        damaged_idx(lambda f: rewrite(f / IMAGES, lambda b: b[:-100])),
        f"{IMAGES} is truncated or damaged",
    ),
    "truncated header": (
        damaged_idx(lambda f: rewrite(f / LABELS, lambda b: b[:6])),
        f"{LABELS} is truncated",
    ),
    "corrupt gzip": (
        damaged_idx(
            lambda f: (
                (f / IMAGES).unlink(),
                (f / f"{IMAGES}.gz").write_bytes(gzip.compress(b"x" * 99)[:-9]),
            )
        ),
        f"cannot decompress {IMAGES}.gz",
    ),
    "labels for fewer images": (
        damaged_idx(lambda f: (f / LABELS).write_bytes(idx_bytes(M_TRAIN[1][:5]))),
        "train has 6 images but labels of shape (5,)",
    ),
    "label 10": (
        damaged_idx(lambda f: (f / LABELS).write_bytes(idx_bytes(np.full(6, 10, np.uint8)))),
        "train has labels outside 0..9",
    ),
    "14x14 images": (
        damaged_idx(lambda f: (f / IMAGES).write_bytes(idx_bytes(np.zeros((6, 14, 14))))),
        "train images have shape (6, 14, 14, 1), expected (N, 28, 28, 1) for mnist",
    ),
    "a file missing": (
        damaged_idx(lambda f: (f / LABELS).unlink()),
        f"MNIST IDX files incomplete (no {LABELS}[.gz])",
    ),
}


@pytest.mark.parametrize("case", list(IDX_ERRORS))
def test_damaged_idx_files_raise_one_line(tmp_path, case):
    build, expected = IDX_ERRORS[case]
    source = build(tmp_path)
    one_line_error(source, expected, cache_dir=tmp_path / "cache")
    archive = write_tar(source, tmp_path / "mnist.tar.gz", "mnist")
    one_line_error(archive, expected, cache_dir=tmp_path / "cache")


def test_bad_npz_files_raise_one_line(tmp_path):
    missing = tmp_path / "mnist.npz"
    np.savez(missing, x_train=M_TRAIN[0], y_train=M_TRAIN[1])
    one_line_error(missing, "no x_test, y_test in the .npz")
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, x_train=np.array([object()] * 2), y_train=M_TRAIN[1], x_test=[], y_test=[])
    one_line_error(pickled, "not a readable .npz")
    broken = tmp_path / "cut.npz"
    broken.write_bytes(missing.read_bytes()[:50])
    one_line_error(broken, "not a readable .npz")
