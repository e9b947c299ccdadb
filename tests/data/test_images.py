"""rethink.data.sources.images: image-folder trees of any classes, size and channels,
decoded exactly (PNG) or closely (JPEG), in one process or a pool, and refused in one
line naming the file that is wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rethink.data import Dataset, load, load_cifar10, source_digest
from rethink.data.sources import images
from rethink.spec.datasets import CIFAR10_CLASSES
from tests.helpers.data_copies import (
    CIFAR10_TEST,
    CIFAR10_TRAIN,
    GREY_CLASSES,
    assert_cifar10_arrays,
    assert_cifar10_refused,
    assert_loaded,
    one_line_error,
    write_tar,
)
from tests.helpers.image_folders import class_sorted, random_splits, write_image_tree

CIFAR10_SORTED = class_sorted(CIFAR10_TRAIN), class_sorted(CIFAR10_TEST)


def save(path: Path, image: np.ndarray) -> None:
    Image.fromarray(image).save(path)


# --- CIFAR-10 as a tree ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["tree_dir", "tree_parent", "tree_tgz", "tree_tar_flat"])
def test_image_tree_loads_class_by_class_with_exact_png_pixels(cifar10_copies, kind, tmp_path):
    assert_cifar10_arrays(load_cifar10(cifar10_copies[kind], cache_dir=tmp_path), *CIFAR10_SORTED)


def test_hidden_metadata_files_are_skipped(cifar10_copies, tmp_path):
    root = shutil.copytree(cifar10_copies["tree_dir"], tmp_path / "mac")
    (root / "train" / "cat" / "._0000.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    archive = write_tar(root, tmp_path / "mac.tgz", "mac")
    for source in (root, archive):
        arrays = load_cifar10(source, cache_dir=tmp_path / "cache")
        assert_cifar10_arrays(arrays, *CIFAR10_SORTED)


def test_parallel_decode_gives_the_same_arrays(cifar10_copies, tmp_path, monkeypatch):
    monkeypatch.setattr(images, "PARALLEL_MIN", 1)
    assert images.worker_count(200) >= 1
    arrays = load_cifar10(cifar10_copies["tree_tgz"], cache_dir=tmp_path)
    assert_cifar10_arrays(arrays, *CIFAR10_SORTED)


def test_jpeg_tree_loads_close_to_the_originals(tmp_path):
    write_image_tree(tmp_path / "jpg", (CIFAR10_TRAIN, CIFAR10_TEST), CIFAR10_CLASSES, ".jpg")
    (x, y), _ = load_cifar10(tmp_path / "jpg", cache_dir=tmp_path / "cache")
    x_want, y_want = class_sorted(CIFAR10_TRAIN)
    np.testing.assert_array_equal(y, y_want)
    # Lossy but close (about 0.5); swapping R and B would be off by about 57.
    assert np.abs(x.astype(float) - x_want).mean() < 2
    assert np.abs(x.astype(float) - x_want[..., ::-1]).mean() > 20


def test_a_grey_image_in_an_rgb_tree_is_converted(cifar10_copies, tmp_path):
    root = shutil.copytree(cifar10_copies["tree_dir"], tmp_path / "t")
    grey = np.arange(32 * 32, dtype=np.uint8).reshape(32, 32)
    save(root / "test/cat/0001.png", grey)
    _, (x, _) = load_cifar10(root, cache_dir=tmp_path / "cache")
    x_want, y_want = class_sorted(CIFAR10_TEST)
    i = int(np.flatnonzero(y_want == CIFAR10_CLASSES.index("cat"))[1])
    np.testing.assert_array_equal(x[i], np.repeat(grey[..., None], 3, axis=-1))
    np.testing.assert_array_equal(np.delete(x, i, axis=0), np.delete(x_want, i, axis=0))


def cifar10_tree_variant(change):
    def build(copies, tmp_path):
        root = shutil.copytree(copies["tree_dir"], tmp_path / "variant")
        change(root)
        return root

    return build


CIFAR10_TREE_ERRORS = {
    "wrong size": (
        cifar10_tree_variant(
            lambda r: save(r / "train/dog/0004.png", np.zeros((31, 32, 3), np.uint8))
        ),
        "image train/dog/0004.png is 31x32, expected 32x32 like train/airplane/0000.png",
    ),
    "16-bit": (
        cifar10_tree_variant(
            lambda r: save(r / "test/cat/0001.png", np.zeros((32, 32), np.uint16) + 999)
        ),
        "image test/cat/0001.png has mode I;16",
    ),
    "undecodable": (
        cifar10_tree_variant(lambda r: (r / "train/cat/0002.png").write_bytes(b"\x89PNG garbage")),
        "cannot decode image train/cat/0002.png",
    ),
    "nine train classes": (
        cifar10_tree_variant(lambda r: shutil.rmtree(r / "train" / "truck")),
        "train/ and test/ classes differ (truck)",
    ),
    "eleven test classes": (
        cifar10_tree_variant(lambda r: shutil.copytree(r / "test" / "cat", r / "test" / "zebra")),
        "train/ and test/ classes differ (zebra)",
    ),
    "no test split": (
        cifar10_tree_variant(lambda r: shutil.rmtree(r / "test")),
        "test split missing",
    ),
    "no train split": (
        cifar10_tree_variant(lambda r: shutil.rmtree(r / "train")),
        "train split missing",
    ),
}


@pytest.mark.parametrize("case", list(CIFAR10_TREE_ERRORS))
def test_a_bad_cifar10_tree_raises_one_line_data_error(cifar10_copies, tmp_path, case):
    build, expected = CIFAR10_TREE_ERRORS[case]
    (tmp_path / "src").mkdir()
    source = build(cifar10_copies, tmp_path / "src")
    assert_cifar10_refused(source, expected, tmp_path / "cache")


# --- trees of any data set ------------------------------------------------------


def test_a_grey_tree_loads_named_after_its_folder(greys, tmp_path):
    tree, expected = greys
    loaded = load(tree, cache_dir=tmp_path)
    assert loaded.dataset == Dataset("greys", GREY_CLASSES, (20, 20, 1))
    assert loaded.source == str(tree) and loaded.digest == source_digest(tree)
    assert_loaded(loaded, expected)
    # The folder holding it: the tree's own name.
    assert load(tree.parent, cache_dir=tmp_path).dataset.name == "greys"


def test_an_rgb_tree_of_another_size_loads(tmp_path):
    classes = ("x", "y", "z", "w")
    expected = random_splits(len(classes), (12, 16, 3), per_split=(2, 1))
    write_image_tree(tmp_path / "colours", expected, classes)
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
    monkeypatch.setattr(images, "PARALLEL_MIN", 1)
    tree, expected = greys
    assert_loaded(load(tree, cache_dir=tmp_path), expected)


def tree_variant(change):
    def build(greys, tmp_path):
        root = shutil.copytree(greys[0], tmp_path / "variant")
        change(root)
        return root

    return build


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
