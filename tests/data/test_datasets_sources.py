"""rethink.data.load on data sets other than CIFAR-10's own forms: image trees of any
classes, size and channels, CIFAR-100's official pickles, MNIST's npz and IDX files,
Keras's downloads (`adapt`), and the cache keeping the data set's identity."""

from __future__ import annotations

import gzip
import hashlib
import inspect
import pickle
import re
import shutil
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rethink.data import DataError, Dataset, Loaded, cache, load, source_digest, sources
from rethink.spec import datasets

GREY_CLASSES = ("ant", "bee", "cat")


def write_tree(
    root: Path,
    classes=GREY_CLASSES,
    shape=(20, 20, 1),
    per_split=(3, 2),
    seed=0,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """root/<split>/<class>/NNNN.png of random pixels; the arrays a load should give."""
    rng = np.random.default_rng(seed)
    out = []
    for split, n in zip(("train", "test"), per_split, strict=True):
        xs, ys = [], []
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                x = rng.integers(0, 256, size=shape, dtype=np.uint8)
                Image.fromarray(x[..., 0] if shape[2] == 1 else x).save(folder / f"{i:04d}.png")
                xs.append(x)
                ys.append(label)
        out.append((np.stack(xs), np.array(ys, dtype=np.int64)))
    return out[0], out[1]


def write_tar(source: Path, target: Path, arcname: str) -> Path:
    mode = "w:gz" if target.name.endswith(("gz", "tgz")) else "w"
    with tarfile.open(target, mode) as tar:
        tar.add(source, arcname=arcname)
    return target


def check(loaded: Loaded, expected) -> None:
    for (x, y), (x_want, y_want) in zip(loaded.arrays, expected, strict=True):
        assert x.dtype == np.uint8 and x.ndim == 4 and x.flags.c_contiguous
        assert y.dtype == np.int64 and y.shape == (len(x),)
        np.testing.assert_array_equal(x, x_want)
        np.testing.assert_array_equal(y, y_want)


def one_line_error(source, expected: str, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        load(source, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{source}: "), message
    assert expected in message, message
    return message


@pytest.fixture(scope="module")
def greys(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("greys")
    expected = write_tree(base / "holder" / "greys")
    return base / "holder" / "greys", expected


# --- image trees of any data set ----------------------------------------------


def test_a_grey_tree_loads_named_after_its_folder(greys, tmp_path):
    tree, expected = greys
    loaded = load(tree, cache_dir=tmp_path)
    assert loaded.dataset == Dataset("greys", GREY_CLASSES, (20, 20, 1))
    assert loaded.source == str(tree) and loaded.digest == source_digest(tree)
    check(loaded, expected)
    # The folder holding it: the tree's own name.
    assert load(tree.parent, cache_dir=tmp_path).dataset.name == "greys"


@pytest.mark.parametrize("archive", ["grey-set.tar.gz", "grey-set.tgz", "grey-set.tar"])
def test_a_tar_of_a_tree_is_named_after_the_archive(greys, tmp_path, archive):
    tree, expected = greys
    path = write_tar(tree, tmp_path / archive, "inside")
    loaded = load(path, cache_dir=tmp_path / "cache")
    assert loaded.dataset == Dataset("grey-set", GREY_CLASSES, (20, 20, 1))
    assert loaded.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    check(loaded, expected)


def test_an_rgb_tree_of_another_size_loads(tmp_path):
    classes = ("x", "y", "z", "w")
    expected = write_tree(tmp_path / "colours", classes, shape=(12, 16, 3), per_split=(2, 1))
    loaded = load(tmp_path / "colours", cache_dir=tmp_path / "cache")
    assert loaded.dataset == Dataset("colours", ("w", "x", "y", "z"), (12, 16, 3))
    # Labels follow the sorted class names.
    order = [classes.index(c) for c in sorted(classes)]
    remap = np.argsort(order)
    for split, (x, y) in enumerate(loaded.arrays):
        x_want, y_want = expected[split]
        y_new = remap[y_want]
        idx = np.argsort(y_new, kind="stable")
        np.testing.assert_array_equal(x, x_want[idx])
        np.testing.assert_array_equal(y, y_new[idx])


def test_parallel_decode_of_a_grey_tree_gives_the_same_arrays(greys, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "_PARALLEL_MIN", 1)
    tree, expected = greys
    check(load(tree, cache_dir=tmp_path), expected)


def test_a_tree_of_cifar10_classes_at_32x32_is_cifar10(tmp_path):
    classes = sorted(datasets.CIFAR10_CLASSES)
    write_tree(tmp_path / "mine", classes, shape=(32, 32, 3), per_split=(1, 1))
    assert load(tmp_path / "mine", cache_dir=tmp_path / "c").dataset is datasets.KNOWN["cifar10"]
    # The same classes at another size are not.
    write_tree(tmp_path / "small", classes, shape=(8, 8, 3), per_split=(1, 1))
    small = load(tmp_path / "small", cache_dir=tmp_path / "c").dataset
    assert small == Dataset("small", tuple(classes), (8, 8, 3))


def test_a_named_data_set_must_match_the_tree(greys, tmp_path):
    tree, _ = greys
    message = one_line_error(tree, "holds 3 classes", dataset="cifar10", cache_dir=tmp_path)
    assert message == (
        f"{tree}: holds 3 classes of 20x20x1 images, not cifar10: 10 classes of 32x32x3 images"
    )
    with pytest.raises(DataError, match="unknown data set 'imagenet'; choose from cifar10"):
        load(tree, dataset="imagenet", cache_dir=tmp_path)


def tree_variant(change):
    def build(greys, tmp_path):
        root = shutil.copytree(greys[0], tmp_path / "variant")
        change(root)
        return root

    return build


def save(path: Path, image: np.ndarray) -> None:
    Image.fromarray(image).save(path)


TREE_ERRORS = {
    "size": (
        tree_variant(lambda r: save(r / "train/cat/0002.png", np.zeros((24, 20), np.uint8))),
        "image train/cat/0002.png is 24x20, expected 20x20 like train/ant/0000.png",
    ),
    "size in test": (
        tree_variant(lambda r: save(r / "test/bee/0001.png", np.zeros((20, 21), np.uint8))),
        "image test/bee/0001.png is 20x21, expected 20x20 like train/ant/0000.png",
    ),
    "rgb in a grey set": (
        tree_variant(lambda r: save(r / "test/ant/0000.png", np.zeros((20, 20, 3), np.uint8))),
        "image test/ant/0000.png is RGB, expected greyscale like train/ant/0000.png",
    ),
    "one class": (
        tree_variant(
            lambda r: [shutil.rmtree(r / s / c) for s in ("train", "test") for c in ("ant", "bee")]
        ),
        "train/ has 1 class (cat); a data set needs two or more",
    ),
    "empty class": (
        tree_variant(lambda r: [p.unlink() for p in (r / "train" / "bee").iterdir()]),
        "train/bee/ has no images",
    ),
    "classes differ": (
        tree_variant(lambda r: (r / "test" / "cat").rename(r / "test" / "cow")),
        "train/ and test/ classes differ (cat, cow)",
    ),
    "missing split": (
        tree_variant(lambda r: shutil.rmtree(r / "test")),
        "test split missing",
    ),
}


@pytest.mark.parametrize("case", list(TREE_ERRORS))
def test_a_bad_tree_raises_one_line_naming_path_and_file(greys, tmp_path, case):
    build, expected = TREE_ERRORS[case]
    (tmp_path / "src").mkdir()
    source = build(greys, tmp_path / "src")
    message = one_line_error(source, expected, cache_dir=tmp_path / "cache")
    if case == "size":  # the whole message, as the user sees it
        assert message == f"{source}: {expected}"
    assert not (tmp_path / "cache").exists()
    # The same in an archive: named by the archive's path.
    archive = write_tar(source, tmp_path / "bad.tar.gz", "bad")
    one_line_error(archive, expected, cache_dir=tmp_path / "cache")


# --- CIFAR-100's official form ------------------------------------------------


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
    check(loaded, (C100_TRAIN, C100_TEST))
    assert load(source, "cifar100", cache_dir=tmp_path / "cache").dataset.name == "cifar100"
    one_line_error(source, "not cifar10: 10 classes", dataset="cifar10", cache_dir=tmp_path)


def test_cifar100_without_its_test_file_is_refused(cifar100, tmp_path):
    root = shutil.copytree(cifar100, tmp_path / "cifar-100-python")
    (root / "test").unlink()
    with pytest.raises(DataError, match=r"test split missing \(no CIFAR-100 test file\)"):
        load(root, cache_dir=tmp_path / "cache")


# Hostile pickles, written by hand in protocol 0 (with a protocol-4 header for the
# dotted name, which an unpickler resolves attribute by attribute from protocol 4).
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
        for batch in sources.OFFICIAL_BATCHES:
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


# --- MNIST and Fashion-MNIST ---------------------------------------------------


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
    for name, a in zip(sources.IDX_FILES, arrays, strict=True):
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
    check(loaded, M_EXPECTED)


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
    check(loaded, M_EXPECTED)


def damaged_idx(change):
    def build(tmp_path):
        folder = write_idx(tmp_path / "mnist", gz=False)
        change(folder)
        return folder

    return build


def rewrite(path: Path, edit) -> None:
    path.write_bytes(edit(path.read_bytes()))


IMAGES, LABELS = sources.IDX_FILES[0], sources.IDX_FILES[1]
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


# --- Keras's downloads ----------------------------------------------------------


def keras_like(name: str, n: int = 3, channels_first: bool = False):
    h, w, c = datasets.KNOWN[name].shape
    rng = np.random.default_rng(0)
    splits = []
    for _ in range(2):
        shape = (n, h, w) if c == 1 else ((n, c, h, w) if channels_first else (n, h, w, c))
        x = rng.integers(0, 256, size=shape, dtype=np.uint8)
        y = rng.integers(0, datasets.KNOWN[name].num_classes, size=n).astype(np.uint8)
        splits.append((x, y.reshape(-1, 1) if name.startswith("cifar") else y))
    return tuple(splits)


@pytest.mark.parametrize("channels_first", [False, True])
@pytest.mark.parametrize("name", list(datasets.KNOWN))
def test_adapt_makes_keras_arrays_uniform(name, channels_first):
    raw = keras_like(name, channels_first=channels_first)
    (x_train, y_train), (x_test, y_test) = sources.adapt(name, raw)
    h, w, c = datasets.KNOWN[name].shape
    for x, y, (x_raw, y_raw) in ((x_train, y_train, raw[0]), (x_test, y_test, raw[1])):
        assert x.shape == (3, h, w, c) and x.dtype == np.uint8 and x.flags.c_contiguous
        assert y.shape == (3,) and y.dtype == np.int64
        np.testing.assert_array_equal(y, y_raw.reshape(-1))
        want = x_raw.transpose(0, 2, 3, 1) if channels_first and c == 3 else x_raw
        np.testing.assert_array_equal(x, want.reshape(x.shape))


@pytest.mark.parametrize(
    "name, broken, expected",
    [
        ("mnist", lambda r: ((r[0][0][:, :27], r[0][1]), r[1]), "train images have shape"),
        ("cifar10", lambda r: (r[0], (r[1][0][..., :1], r[1][1])), "test images have shape"),
        ("cifar100", lambda r: ((r[0][0], r[0][1] + 100), r[1]), "labels outside 0..99"),
        ("fashion_mnist", lambda r: ((r[0][0], r[0][1][:2]), r[1]), "train has 3 images but"),
        ("mnist", lambda r: ((r[0][0] * 1.0, r[0][1]), r[1]), "images are float64"),
    ],
)
def test_adapt_refuses_arrays_of_the_wrong_shape(name, broken, expected):
    with pytest.raises(DataError, match=re.escape(expected)) as info:
        sources.adapt(name, broken(keras_like(name)))
    assert str(info.value).startswith(f"keras.datasets.{name}: ")


def test_load_without_a_path_downloads_the_named_data_set(monkeypatch):
    monkeypatch.delenv("RETHINK_DATA", raising=False)
    import keras

    calls = []

    def fake(**kwargs):
        calls.append(kwargs)
        return keras_like("cifar100")

    monkeypatch.setattr(keras.datasets.cifar100, "load_data", fake)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: keras_like("mnist"))
    loaded = load(dataset="cifar100")
    assert calls == [{"label_mode": "fine"}]
    assert loaded.source is None and loaded.dataset is datasets.KNOWN["cifar100"]
    assert loaded.digest == source_digest(dataset="cifar100")
    assert loaded.arrays[0][0].shape == (3, 32, 32, 3)
    mnist = load(dataset="mnist")
    assert mnist.dataset is datasets.KNOWN["mnist"] and mnist.arrays[1][0].shape == (3, 28, 28, 1)
    with pytest.raises(DataError, match="unknown data set 'svhn'"):
        load(dataset="svhn")


def test_offline_download_names_the_data_set_and_local_forms(monkeypatch):
    monkeypatch.delenv("RETHINK_DATA", raising=False)
    import keras

    def offline():
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(DataError) as info:
        load(dataset="fashion_mnist")
    message = str(info.value)
    assert "\n" not in message and "Fashion-MNIST" in message and "--data PATH" in message
    assert "keras.datasets.fashion_mnist.load_data()" in message and "IDX" in message


def test_download_digests_are_the_published_hashes(monkeypatch):
    monkeypatch.delenv("RETHINK_DATA", raising=False)
    from keras.src.datasets import cifar10, cifar100, mnist

    for name, module in (("cifar10", cifar10), ("cifar100", cifar100), ("mnist", mnist)):
        published = re.search(r'"([0-9a-f]{64})"', inspect.getsource(module))
        assert published is not None
        assert source_digest(dataset=name) == published.group(1)
    # Keras publishes none for Fashion-MNIST: the sha256 of its four files' md5sums.
    assert source_digest(dataset="fashion_mnist") == (
        "1210860001bd5d3cde1c739e487c8ee124615d7020f5305067a4ba0480c0fd41"
    )
    assert source_digest() == source_digest(dataset="cifar10") == sources.OFFICIAL_SHA256


# --- the cache -------------------------------------------------------------------


def test_a_grey_data_set_comes_back_from_the_cache_as_itself(greys, tmp_path, monkeypatch):
    tree, expected = greys
    first = load(tree, cache_dir=tmp_path)
    (written,) = tmp_path.iterdir()
    assert written.name == f"data-{first.digest}.v{cache.CACHE_VERSION}.npz"
    monkeypatch.setattr(sources, "decode", lambda layout: pytest.fail("decoded despite the cache"))
    second = load(tree, cache_dir=tmp_path)
    assert (second.dataset, second.digest, second.source) == (
        first.dataset,
        first.digest,
        str(tree),
    )
    check(second, expected)
    hit = cache.read(written, "greys")
    assert hit is not None and hit[1] == Dataset("greys", GREY_CLASSES, (20, 20, 1))


def test_a_renamed_tree_is_decoded_again_under_its_new_name(greys, tmp_path):
    tree, expected = greys
    load(tree, cache_dir=tmp_path / "cache")
    renamed = shutil.copytree(tree, tmp_path / "renamed")
    assert source_digest(renamed) == source_digest(tree)  # same content
    loaded = load(renamed, cache_dir=tmp_path / "cache")
    assert loaded.dataset.name == "renamed"
    check(loaded, expected)


def test_cache_round_trip_and_refusals(tmp_path):
    path = tmp_path / "c.npz"
    x = np.zeros((2, 5, 4, 1), np.uint8)
    y = np.array([0, 2], np.int64)
    found = Dataset("tiny", ("a", "bb", "ccc"), (5, 4, 1))
    cache.write(path, ((x, y), (x[:1], y[:1])), found, "tiny")
    hit = cache.read(path, "tiny")
    assert hit is not None and hit[1] == found and hit[0][1][0].shape == (1, 5, 4, 1)
    assert cache.read(path) is not None
    assert cache.read(path, "other") is None
    # A version-1 file (CIFAR-10 arrays, no data set) is never read as version 2.
    old = tmp_path / "old.npz"
    z = np.zeros((1, 32, 32, 3), np.uint8)
    np.savez(old, x_train=z, y_train=np.zeros(1, np.int64), x_test=z, y_test=np.zeros(1, np.int64))
    assert cache.read(old) is None
    assert cache.cache_path("ab", tmp_path).name == f"data-ab.v{cache.CACHE_VERSION}.npz"
    assert cache.CACHE_VERSION >= 2


def test_data_error_is_one_class_everywhere():
    from rethink.data import DataError as from_package
    from rethink.data.sources import DataError as from_sources

    assert from_sources is from_package is datasets.DataError
