"""rethink.data.sources.cifar: CIFAR-10's and CIFAR-100's official pickles, in every
form (folder, its parent, a tar), and the restricted unpickler refusing code."""

from __future__ import annotations

import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from rethink.data import DataError, load, load_cifar10
from rethink.data.sources.cifar import CIFAR10_BATCHES
from rethink.spec import datasets
from tests.helpers.data_copies import (
    CIFAR10_TEST,
    CIFAR10_TRAIN,
    assert_cifar10_arrays,
    assert_cifar10_refused,
    assert_loaded,
    one_line_error,
    write_tar,
)

# --- CIFAR-10 -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["official_tgz", "official_dir", "official_parent"])
def test_official_format_loads_in_source_order(cifar10_copies, kind, tmp_path):
    arrays = load_cifar10(cifar10_copies[kind], cache_dir=tmp_path)
    assert_cifar10_arrays(arrays, CIFAR10_TRAIN, CIFAR10_TEST)


def official_without(batch):
    def build(copies, tmp_path):
        root = shutil.copytree(copies["official_dir"], tmp_path / "batches")
        (root / batch).unlink()
        return root

    return build


ERRORS = {
    "no test_batch": (official_without("test_batch"), "test split missing (no test_batch)"),
    "no data_batch_3": (
        official_without("data_batch_3"),
        "train split incomplete (no data_batch_3)",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_incomplete_batches_raise_one_line_data_error(cifar10_copies, tmp_path, case):
    build, expected = ERRORS[case]
    (tmp_path / "src").mkdir()
    source = build(cifar10_copies, tmp_path / "src")
    assert_cifar10_refused(source, expected, tmp_path / "cache")


def test_labels_beyond_the_data_sets_classes_are_refused(cifar10_copies, cifar100, tmp_path):
    ten = shutil.copytree(cifar10_copies["official_dir"], tmp_path / "cifar-10-batches-py")
    batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, 10]}
    (ten / "data_batch_2").write_bytes(pickle.dumps(batch, protocol=2))
    one_line_error(ten, "data_batch_2 has labels outside 0..9", cache_dir=tmp_path / "c")
    hundred = shutil.copytree(cifar100, tmp_path / "cifar-100-python")
    test = {b"data": np.zeros((1, 3072), np.uint8), b"fine_labels": [100]}
    (hundred / "test").write_bytes(pickle.dumps(test, protocol=2))
    one_line_error(hundred, "test has labels outside 0..99", cache_dir=tmp_path / "c")


class _RunsCode:
    """A pickle that calls a function when loaded: what a hostile archive could hold."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (shutil.copyfile, (__file__, str(self.marker)))


def test_a_batch_pickle_that_would_run_code_is_refused(cifar10_copies, tmp_path):
    root = shutil.copytree(cifar10_copies["official_dir"], tmp_path / "batches")
    marker = tmp_path / "the-pickle-ran"
    hostile = {b"data": _RunsCode(marker), b"labels": [0]}
    (root / "data_batch_3").write_bytes(pickle.dumps(hostile, protocol=2))
    with pytest.raises(DataError) as info:
        load_cifar10(root, cache_dir=tmp_path / "cache")
    assert not marker.exists()  # refused before anything ran
    message = str(info.value)
    assert (
        "data_batch_3 is not a CIFAR-10 batch" in message and "refusing shutil.copyfile" in message
    )
    assert "\n" not in message
    # The real batches (NumPy arrays inside) still load.
    check = load_cifar10(cifar10_copies["official_dir"], cache_dir=tmp_path / "cache2")
    assert check[0][0].shape[1:] == (32, 32, 3)


def test_a_dotted_name_inside_an_allowed_package_is_refused(cifar10_copies, tmp_path):
    """Allowing "numpy" as a prefix would let numpy.lib... hand out os functions."""
    root = shutil.copytree(cifar10_copies["official_dir"], tmp_path / "batches")
    marker = tmp_path / "ran"
    # Protocol 0 by hand: GLOBAL numpy / lib.npyio.os.system, then call it.
    hostile = f"cnumpy\nlib.npyio.os.system\n(S'touch {marker}'\ntR.".encode()
    (root / "test_batch").write_bytes(hostile)
    with pytest.raises(DataError, match=r"test_batch is not a CIFAR-10 batch \(refusing numpy"):
        load_cifar10(root, cache_dir=tmp_path / "cache")
    assert not marker.exists()


# --- CIFAR-100 ----------------------------------------------------------------


def cifar100_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8),
        rng.integers(0, 100, size=n).astype(np.int64),
    )


C100_TRAIN, C100_TEST = cifar100_split(7, 1), cifar100_split(4, 2)


def write_cifar100(folder: Path, meta: bool = True) -> Path:
    out = folder / "cifar-100-python"
    out.mkdir(parents=True)
    for name, (x, y) in (("train", C100_TRAIN), ("test", C100_TEST)):
        blob = {
            b"filenames": [b"x.png"] * len(y),
            b"batch_label": name.encode(),
            b"fine_labels": y.tolist(),
            b"coarse_labels": (y // 5).tolist(),
            b"data": x.transpose(0, 3, 1, 2).reshape(len(x), 3072),
        }
        (out / name).write_bytes(pickle.dumps(blob, protocol=2))
    if meta:
        names = [n.encode() for n in datasets.CIFAR100_CLASSES]
        blob = {b"fine_label_names": names, b"coarse_label_names": [b"c"] * 20}
        (out / "meta").write_bytes(pickle.dumps(blob, protocol=2))
    return out


@pytest.fixture(scope="module")
def cifar100(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cifar100(tmp_path_factory.mktemp("c100"))


@pytest.mark.parametrize("kind", ["folder", "parent", "tgz", "no meta"])
def test_cifar100_official_form_loads_its_fine_labels(cifar100, tmp_path, kind):
    source = {
        "folder": lambda: cifar100,
        "parent": lambda: cifar100.parent,
        "tgz": lambda: write_tar(cifar100, tmp_path / "c.tar.gz", "cifar-100-python"),
        "no meta": lambda: write_cifar100(tmp_path / "bare", meta=False),
    }[kind]()
    loaded = load(source, cache_dir=tmp_path / "cache")
    assert loaded.dataset is datasets.KNOWN["cifar100"]
    assert loaded.dataset.num_classes == 100
    assert_loaded(loaded, (C100_TRAIN, C100_TEST))
    assert load(source, "cifar100", cache_dir=tmp_path / "cache").dataset.name == "cifar100"
    one_line_error(source, "not cifar10: 10 classes", dataset="cifar10", cache_dir=tmp_path)


def test_cifar100_without_its_test_file_is_refused(cifar100, tmp_path):
    root = shutil.copytree(cifar100, tmp_path / "cifar-100-python")
    (root / "test").unlink()
    with pytest.raises(DataError, match=r"test split missing \(no CIFAR-100 test file\)"):
        load(root, cache_dir=tmp_path / "cache")


# --- hostile pickles in either ------------------------------------------------


# Written by hand in protocol 0 (with a protocol-4 header for the dotted name, which
# an unpickler resolves attribute by attribute from protocol 4).
def _calls(module: str, name: str, arg: str, proto4: bool = False) -> bytes:
    header = b"\x80\x04" if proto4 else b""
    return header + f"c{module}\n{name}\n(S'{arg}'\ntR.".encode()


HOSTILE = {
    "os.system": lambda m: _calls("os", "system", f"touch {m}"),
    "posix.system": lambda m: _calls("posix", "system", f"touch {m}"),
    "numpy.lib._npyio_impl.os.system": lambda m: _calls(
        "numpy.lib._npyio_impl", "os.system", f"touch {m}", proto4=True
    ),
    "numpy.load": lambda m: _calls("numpy", "load", str(m)),
    "numpy.core.multiarray._reconstruct.__globals__": lambda m: _calls(
        "numpy.core.multiarray", "_reconstruct.__globals__", str(m), proto4=True
    ),
}


@pytest.mark.parametrize("target", ["cifar100 train", "cifar100 meta", "cifar10 test_batch"])
@pytest.mark.parametrize("gadget", list(HOSTILE))
def test_a_pickle_that_would_run_code_is_refused(cifar100, tmp_path, gadget, target):
    marker = tmp_path / "the-pickle-ran"
    if target.startswith("cifar100"):
        root = shutil.copytree(cifar100, tmp_path / "cifar-100-python")
        name = target.split()[1]
    else:
        root = tmp_path / "cifar-10-batches-py"
        root.mkdir()
        x = np.zeros((1, 3072), np.uint8)
        for batch in CIFAR10_BATCHES:
            blob = {b"data": x, b"labels": [0]}
            (root / batch).write_bytes(pickle.dumps(blob, protocol=2))
        name = "test_batch"
    (root / name).write_bytes(HOSTILE[gadget](marker))
    module = gadget.rsplit(".", 1)[0] if "__globals__" not in gadget else "numpy.core.multiarray"
    with pytest.raises(DataError) as info:
        load(root, cache_dir=tmp_path / "cache")
    assert not marker.exists()  # refused before anything ran
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{root}: {name} is not a CIFAR-")
    assert f"(refusing {module}." in message
    # The same pickle inside an archive is refused too, naming the archive.
    archive = write_tar(root, tmp_path / "hostile.tar.gz", root.name)
    with pytest.raises(DataError, match=re.escape(f"{archive}: {name} is not a CIFAR-")):
        load(archive, cache_dir=tmp_path / "cache")
    assert not marker.exists()
