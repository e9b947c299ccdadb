"""rethink.data.load_cifar10: every CIFAR-10 source format, the cache, the errors, the download.

Other data sets (any image tree, CIFAR-100, MNIST, Keras's other downloads):
tests/data/test_datasets_sources.py.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import rethink
from rethink.data import DataError, cache, load_cifar10, source_digest, sources

CLASSES = sorted(
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
)
PER_CLASS = 10  # images per class per split: 100 train, 100 test


def make_split(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random images with labels in random order (not class by class)."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(10, dtype=np.int64), PER_CLASS))
    x = rng.integers(0, 256, size=(len(y), 32, 32, 3), dtype=np.uint8)
    return x, y


TRAIN, TEST = make_split(1), make_split(2)


def class_sorted(split: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The order an image tree gives: class by class, files in name order."""
    x, y = split
    order = np.argsort(y, kind="stable")
    return x[order], y[order]


def write_official(folder: Path) -> Path:
    """cifar-10-batches-py/ with 5 train batches and a test batch, like the original."""
    out = folder / "cifar-10-batches-py"
    out.mkdir(parents=True)
    x, y = TRAIN
    chunks = np.array_split(np.arange(len(y)), 5)
    batches = [(f"data_batch_{i + 1}", x[c], y[c]) for i, c in enumerate(chunks)]
    batches.append(("test_batch", *TEST))
    for name, bx, by in batches:
        data = bx.transpose(0, 3, 1, 2).reshape(len(bx), 3072)  # CHW rows
        batch = {b"batch_label": name.encode(), b"labels": by.tolist(), b"data": data}
        (out / name).write_bytes(pickle.dumps(batch, protocol=2))
    (out / "batches.meta").write_bytes(pickle.dumps({b"label_names": CLASSES}))
    return out


def write_tree(root: Path, ext: str = ".png") -> Path:
    """root/train/<class>/NNNN.png and root/test/..., numbered in the split's order."""
    for split, (x, y) in (("train", TRAIN), ("test", TEST)):
        for label, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            for rank, i in enumerate(np.flatnonzero(y == label)):
                # Best JPEG quality: noise is JPEG's worst case.
                Image.fromarray(x[i]).save(folder / f"{rank:04d}{ext}", quality=100, subsampling=0)
    return root


def write_tar(source: Path, target: Path, arcname: str) -> Path:
    mode = "w:gz" if target.name.endswith(("gz", "tgz")) else "w"
    with tarfile.open(target, mode) as tar:
        tar.add(source, arcname=arcname)
    return target


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every source format, written once for the module."""
    base = tmp_path_factory.mktemp("copies")
    official = write_official(base / "extracted")
    tree = write_tree(base / "holder" / "cifar10-tiny")
    return {
        "official_tgz": write_tar(official, base / "cifar-10-python.tar.gz", "cifar-10-batches-py"),
        "official_dir": official,
        "official_parent": official.parent,
        "tree_dir": tree,
        "tree_parent": tree.parent,
        "tree_tgz": write_tar(tree, base / "cifar10-tiny.tar.gz", "cifar10-tiny"),
        "tree_tar_flat": write_tar(tree, base / "flat.tar", "."),
    }


def check_arrays(arrays: sources.Arrays, train: tuple, test: tuple) -> None:
    for (x, y), (x_want, y_want) in zip(arrays, (train, test), strict=True):
        assert x.dtype == np.uint8 and x.shape == (len(y_want), 32, 32, 3)
        assert x.flags.c_contiguous
        assert y.dtype == np.int64 and y.shape == (len(y_want),)
        np.testing.assert_array_equal(y, y_want)
        np.testing.assert_array_equal(x, x_want)


@pytest.mark.parametrize("kind", ["official_tgz", "official_dir", "official_parent"])
def test_official_format_loads_in_source_order(copies, kind, tmp_path):
    check_arrays(load_cifar10(copies[kind], cache_dir=tmp_path), TRAIN, TEST)


@pytest.mark.parametrize("kind", ["tree_dir", "tree_parent", "tree_tgz", "tree_tar_flat"])
def test_image_tree_loads_class_by_class_with_exact_png_pixels(copies, kind, tmp_path):
    check_arrays(
        load_cifar10(copies[kind], cache_dir=tmp_path), class_sorted(TRAIN), class_sorted(TEST)
    )


def test_hidden_metadata_files_are_skipped(copies, tmp_path):
    root = shutil.copytree(copies["tree_dir"], tmp_path / "mac")
    (root / "train" / "cat" / "._0000.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    archive = write_tar(root, tmp_path / "mac.tgz", "mac")
    for source in (root, archive):
        arrays = load_cifar10(source, cache_dir=tmp_path / "cache")
        check_arrays(arrays, class_sorted(TRAIN), class_sorted(TEST))


def test_parallel_decode_gives_the_same_arrays(copies, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "_PARALLEL_MIN", 1)
    assert sources._workers(200) >= 1
    check_arrays(
        load_cifar10(copies["tree_tgz"], cache_dir=tmp_path),
        class_sorted(TRAIN),
        class_sorted(TEST),
    )


def test_jpeg_tree_loads_close_to_the_originals(tmp_path):
    write_tree(tmp_path / "jpg", ext=".jpg")
    (x, y), _ = load_cifar10(tmp_path / "jpg", cache_dir=tmp_path / "cache")
    x_want, y_want = class_sorted(TRAIN)
    np.testing.assert_array_equal(y, y_want)
    # Lossy but close (about 0.5); swapping R and B would be off by about 57.
    assert np.abs(x.astype(float) - x_want).mean() < 2
    assert np.abs(x.astype(float) - x_want[..., ::-1]).mean() > 20


def test_second_load_comes_from_the_cache(copies, tmp_path, monkeypatch):
    first = load_cifar10(copies["tree_tgz"], cache_dir=tmp_path)
    written = list(tmp_path.iterdir())
    digest = source_digest(copies["tree_tgz"])
    assert [p.name for p in written] == [f"data-{digest}.v{cache.CACHE_VERSION}.npz"]

    def no_decoding(layout):
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr(sources, "decode", no_decoding)
    second = load_cifar10(copies["tree_tgz"], cache_dir=tmp_path)
    check_arrays(second, *first)


def test_digest_is_the_archive_sha256_and_follows_content(copies, tmp_path):
    archive = copies["official_tgz"]
    assert source_digest(archive) == hashlib.sha256(archive.read_bytes()).hexdigest()
    changed = tmp_path / "changed.tar.gz"
    changed.write_bytes(archive.read_bytes() + b"\0" * 512)  # padding: still a valid archive
    assert source_digest(changed) != source_digest(archive)
    load_cifar10(archive, cache_dir=tmp_path / "cache")
    load_cifar10(changed, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_folder_digest_ignores_location_but_not_content(copies, tmp_path):
    moved = shutil.copytree(copies["tree_dir"], tmp_path / "elsewhere")
    assert source_digest(moved) == source_digest(copies["tree_dir"])
    assert source_digest(tmp_path) == source_digest(moved)  # the folder holding it
    victim = moved / "test" / "cat" / "0003.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(victim)
    assert source_digest(moved) != source_digest(copies["tree_dir"])


def test_corrupt_cache_is_ignored_and_rewritten(copies, tmp_path):
    path = cache.cache_path(source_digest(copies["official_tgz"]), tmp_path)
    path.write_bytes(b"PK\x03\x04 not really a zip")
    check_arrays(load_cifar10(copies["official_tgz"], cache_dir=tmp_path), TRAIN, TEST)
    assert cache.read(path) is not None
    np.savez(path, x_train=np.zeros((2, 32, 32), np.uint8))  # valid npz, wrong content
    check_arrays(load_cifar10(copies["official_tgz"], cache_dir=tmp_path), TRAIN, TEST)


def test_cache_folder_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("RETHINK_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_root() == tmp_path / "xdg" / "rethink"
    monkeypatch.setenv("RETHINK_CACHE", str(tmp_path / "mine"))
    assert cache.cache_root() == tmp_path / "mine"
    assert cache.cache_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("RETHINK_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.cache_root() == Path.home() / ".cache" / "rethink"


def test_rethink_data_env_var_is_the_default_source(copies, tmp_path, monkeypatch):
    monkeypatch.setenv("RETHINK_DATA", str(copies["official_tgz"]))
    check_arrays(load_cifar10(cache_dir=tmp_path), TRAIN, TEST)
    assert source_digest() == source_digest(copies["official_tgz"])
    monkeypatch.delenv("RETHINK_DATA")
    assert source_digest() == sources.OFFICIAL_SHA256
    assert source_digest(dataset="cifar10") == sources.OFFICIAL_SHA256


# --- errors -----------------------------------------------------------------


def truncated(copies, tmp_path):
    data = copies["tree_tgz"].read_bytes()
    path = tmp_path / "cut.tar.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


def not_gzip(copies, tmp_path):
    path = tmp_path / "junk.tar.gz"
    path.write_bytes(b"\x1f\x8b" + os.urandom(2000))
    return path


def text_file(copies, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a data set\n")
    return path


def tree_variant(change):
    def build(copies, tmp_path):
        root = shutil.copytree(copies["tree_dir"], tmp_path / "variant")
        change(root)
        return root

    return build


def official_without(batch):
    def build(copies, tmp_path):
        root = shutil.copytree(copies["official_dir"], tmp_path / "batches")
        (root / batch).unlink()
        return root

    return build


def two_trees(copies, tmp_path):
    for name in ("a", "b"):
        shutil.copytree(copies["tree_dir"], tmp_path / name)
    return tmp_path


def save(path: Path, image: np.ndarray) -> None:
    Image.fromarray(image).save(path)


ERRORS = {
    "missing": (lambda c, t: t / "nowhere.tar.gz", "no such file or folder"),
    "empty folder": (lambda c, t: t, "unknown layout"),
    "text file": (text_file, "not a tar archive, a .npz file or a folder"),
    "truncated": (truncated, "truncated or corrupt archive"),
    "not gzip": (not_gzip, "truncated or corrupt archive"),
    "wrong size": (
        tree_variant(lambda r: save(r / "train/dog/0004.png", np.zeros((31, 32, 3), np.uint8))),
        "image train/dog/0004.png is 31x32, expected 32x32 like train/airplane/0000.png",
    ),
    "16-bit": (
        tree_variant(lambda r: save(r / "test/cat/0001.png", np.zeros((32, 32), np.uint16) + 999)),
        "image test/cat/0001.png has mode I;16",
    ),
    "undecodable": (
        tree_variant(lambda r: (r / "train/cat/0002.png").write_bytes(b"\x89PNG garbage")),
        "cannot decode image train/cat/0002.png",
    ),
    "nine train classes": (
        tree_variant(lambda r: shutil.rmtree(r / "train" / "truck")),
        "train/ and test/ classes differ (truck)",
    ),
    "eleven test classes": (
        tree_variant(lambda r: shutil.copytree(r / "test" / "cat", r / "test" / "zebra")),
        "train/ and test/ classes differ (zebra)",
    ),
    "no test split": (tree_variant(lambda r: shutil.rmtree(r / "test")), "test split missing"),
    "no train split": (tree_variant(lambda r: shutil.rmtree(r / "train")), "train split missing"),
    "no test_batch": (official_without("test_batch"), "test split missing (no test_batch)"),
    "no data_batch_3": (
        official_without("data_batch_3"),
        "train split incomplete (no data_batch_3)",
    ),
    "two copies": (two_trees, "holds 2 data sets (a, b); point at one"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_source_raises_one_line_data_error(copies, tmp_path, case):
    build, expected = ERRORS[case]
    (tmp_path / "src").mkdir()
    source = build(copies, tmp_path / "src")
    cache_dir = tmp_path / "cache"
    with pytest.raises(DataError) as info:
        load_cifar10(source, cache_dir=cache_dir)
    message = str(info.value)
    assert expected in message
    assert message.startswith(f"{source}: ")
    assert "\n" not in message
    assert not cache_dir.exists()  # nothing half-written


def test_a_grey_image_in_an_rgb_tree_is_converted(copies, tmp_path):
    root = shutil.copytree(copies["tree_dir"], tmp_path / "t")
    grey = np.arange(32 * 32, dtype=np.uint8).reshape(32, 32)
    save(root / "test/cat/0001.png", grey)
    _, (x, _) = load_cifar10(root, cache_dir=tmp_path / "cache")
    x_want, y_want = class_sorted(TEST)
    i = int(np.flatnonzero(y_want == CLASSES.index("cat"))[1])
    np.testing.assert_array_equal(x[i], np.repeat(grey[..., None], 3, axis=-1))
    np.testing.assert_array_equal(np.delete(x, i, axis=0), np.delete(x_want, i, axis=0))


def test_a_tree_of_nine_classes_is_not_cifar10(copies, tmp_path):
    root = shutil.copytree(copies["tree_dir"], tmp_path / "nine")
    for split in ("train", "test"):
        shutil.rmtree(root / split / "truck")
    with pytest.raises(DataError) as info:
        load_cifar10(root, cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert message == (
        f"{root}: holds 9 classes of 32x32x3 images, not cifar10: 10 classes of 32x32x3 images"
    )


def test_tar_archive_of_a_bad_tree_names_the_file(copies, tmp_path):
    root = shutil.copytree(copies["tree_dir"], tmp_path / "t")
    save(root / "train/dog/0004.png", np.zeros((32, 30, 3), np.uint8))
    archive = write_tar(root, tmp_path / "bad.tgz", "cifar10-bad")
    with pytest.raises(DataError, match=r"bad\.tgz: image train/dog/0004\.png is 32x30, expected"):
        load_cifar10(archive, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


# --- Keras's download ---------------------------------------------------------


def test_offline_download_fails_fast_with_a_hint(monkeypatch, tmp_path):
    monkeypatch.delenv("RETHINK_DATA", raising=False)
    import keras

    seen = {"calls": 0}

    def offline():
        seen["calls"] += 1
        seen["timeout"] = socket.getdefaulttimeout()
        raise Exception(  # what keras.utils.get_file raises for a URLError
            "URL fetch failure on https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz: "
            "None -- [Errno -3] Temporary failure in name resolution"
        )

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    before = socket.getdefaulttimeout()
    with pytest.raises(DataError) as info:
        load_cifar10(cache_dir=tmp_path)
    assert seen["calls"] == 1  # fast: one try, no retry
    assert seen["timeout"] == sources.DOWNLOAD_TIMEOUT_S <= 30
    assert socket.getdefaulttimeout() == before
    message = str(info.value)
    assert "name resolution" in message and "\n" not in message
    assert "--data PATH" in message and "RETHINK_DATA=PATH" in message
    assert "cifar-10-python.tar.gz" in message and "train/<class>" in message


@pytest.mark.parametrize("channels_first", [False, True])
def test_keras_download_is_converted_to_rethink_layout(monkeypatch, channels_first):
    monkeypatch.delenv("RETHINK_DATA", raising=False)
    import keras

    def fake():
        splits = []
        for x, y in (TRAIN, TEST):
            xk = x.transpose(0, 3, 1, 2) if channels_first else x
            splits.append((xk, y.astype(np.uint8).reshape(-1, 1)))
        return tuple(splits)

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", fake)
    check_arrays(load_cifar10(), TRAIN, TEST)


def test_importing_rethink_data_does_not_import_keras():
    src = str(Path(rethink.__file__).resolve().parents[1])
    code = "import sys, rethink.data; assert 'keras' not in sys.modules, 'keras imported'"
    env = {**os.environ, "PYTHONPATH": src}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# --- the real data set --------------------------------------------------------


@pytest.mark.slow
def test_shared_archive_is_full_cifar10(cifar_archive, tmp_path, monkeypatch):
    (x_train, y_train), (x_test, y_test) = load_cifar10(cifar_archive, cache_dir=tmp_path)
    assert x_train.shape == (50_000, 32, 32, 3) and x_test.shape == (10_000, 32, 32, 3)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y_train), [5_000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1_000] * 10)
    # CIFAR-10's published per-channel means: catches a channel swap or a bad decode.
    means = x_train.reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(means, [125.3, 123.0, 113.9], atol=1.0)
    if cifar_archive.name == "cifar10-jpeg.tar.gz":  # the shared archive, not another copy
        assert source_digest(cifar_archive) == (
            "16477fc71efcb96494b98f349c57dfb5ea75f3faac453a417a34520b68460db0"
        )
    monkeypatch.setattr(sources, "decode", lambda layout: pytest.fail("cache missed"))
    (x_again, _), _ = load_cifar10(cifar_archive, cache_dir=tmp_path)
    np.testing.assert_array_equal(x_again, x_train)


class _RunsCode:
    """A pickle that calls a function when loaded: what a hostile archive could hold."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (shutil.copyfile, (__file__, str(self.marker)))


def test_a_batch_pickle_that_would_run_code_is_refused(copies, tmp_path):
    root = shutil.copytree(copies["official_dir"], tmp_path / "batches")
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
    # The real batches (NumPy arrays inside) still load: the test above this one.
    check = load_cifar10(copies["official_dir"], cache_dir=tmp_path / "cache2")
    assert check[0][0].shape[1:] == (32, 32, 3)


def test_a_dotted_name_inside_an_allowed_package_is_refused(copies, tmp_path):
    """Allowing "numpy" as a prefix would let numpy.lib... hand out os functions."""
    root = shutil.copytree(copies["official_dir"], tmp_path / "batches")
    marker = tmp_path / "ran"
    # Protocol 0 by hand: GLOBAL numpy / lib.npyio.os.system, then call it.
    hostile = f"cnumpy\nlib.npyio.os.system\n(S'touch {marker}'\ntR.".encode()
    (root / "test_batch").write_bytes(hostile)
    with pytest.raises(DataError, match=r"test_batch is not a CIFAR-10 batch \(refusing numpy"):
        load_cifar10(root, cache_dir=tmp_path / "cache")
    assert not marker.exists()
