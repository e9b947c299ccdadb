"""rethink.data.load and load_cifar10: the source read ($RETHINK_DATA by default), the
identity of what it holds against the name asked for, no Keras on import, and the real
CIFAR-10 (slow)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rethink
from rethink.data import DataError, Dataset, load, load_cifar10, source_digest, sources
from rethink.spec import datasets
from tests.helpers.data_copies import (
    CIFAR10_TEST,
    CIFAR10_TRAIN,
    assert_cifar10_arrays,
    one_line_error,
)
from tests.helpers.image_folders import random_splits, write_image_folder, write_image_tree


def test_rethink_data_env_var_is_the_default_source(cifar10_copies, tmp_path, monkeypatch):
    monkeypatch.setenv("RETHINK_DATA", str(cifar10_copies["official_tgz"]))
    assert_cifar10_arrays(load_cifar10(cache_dir=tmp_path), CIFAR10_TRAIN, CIFAR10_TEST)
    assert source_digest() == source_digest(cifar10_copies["official_tgz"])
    monkeypatch.delenv("RETHINK_DATA")
    assert source_digest() == sources.DOWNLOAD_SHA256["cifar10"]
    assert source_digest(dataset="cifar10") == sources.DOWNLOAD_SHA256["cifar10"]


def test_a_tree_of_nine_classes_is_not_cifar10(cifar10_copies, tmp_path):
    root = shutil.copytree(cifar10_copies["tree_dir"], tmp_path / "nine")
    for split in ("train", "test"):
        shutil.rmtree(root / split / "truck")
    with pytest.raises(DataError) as info:
        load_cifar10(root, cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert message == (
        f"{root}: holds 9 classes of 32x32x3 images, not cifar10: 10 classes of 32x32x3 images"
    )


def test_a_tree_of_cifar10_classes_at_32x32_is_cifar10(tmp_path):
    classes = sorted(datasets.CIFAR10_CLASSES)
    splits = random_splits(len(classes), (32, 32, 3), per_split=(1, 1))
    write_image_tree(tmp_path / "mine", splits, classes)
    assert load(tmp_path / "mine", cache_dir=tmp_path / "c").dataset is datasets.KNOWN["cifar10"]
    # The same classes at another size are not.
    small = random_splits(len(classes), (8, 8, 3), per_split=(1, 1))
    write_image_tree(tmp_path / "small", small, classes)
    found = load(tmp_path / "small", cache_dir=tmp_path / "c").dataset
    assert found == Dataset("small", tuple(classes), (8, 8, 3))


def test_a_named_data_set_must_match_the_tree(greys, tmp_path):
    tree, _ = greys
    message = one_line_error(tree, "holds 3 classes", dataset="cifar10", cache_dir=tmp_path)
    assert message == (
        f"{tree}: holds 3 classes of 20x20x1 images, not cifar10: 10 classes of 32x32x3 images"
    )
    with pytest.raises(DataError, match="unknown data set 'imagenet'; choose from cifar10"):
        load(tree, dataset="imagenet", cache_dir=tmp_path)


def test_a_data_set_that_does_not_match_rethink_data_names_the_variable(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grey = Dataset("shapes", ("circle", "cross", "square"), (20, 20, 1))
    folder = write_image_folder(tmp_path / "shapes", grey.classes, grey.shape, 2, 1)
    monkeypatch.setenv("RETHINK_DATA", str(folder))
    assert load().dataset.name == "shapes"
    with pytest.raises(DataError, match=r"shapes \(from \$RETHINK_DATA\): holds 3 classes"):
        load(None, "mnist")
    with pytest.raises(DataError, match=r"shapes: holds 3 classes"):
        load(str(folder), "mnist")


def test_data_error_is_one_class_everywhere():
    from rethink.data import DataError as from_package
    from rethink.data.sources import DataError as from_sources

    assert from_sources is from_package is datasets.DataError


def test_importing_rethink_data_does_not_import_keras():
    src = str(Path(rethink.__file__).resolve().parents[1])
    code = "import sys, rethink.data; assert 'keras' not in sys.modules, 'keras imported'"
    env = {**os.environ, "PYTHONPATH": src}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


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
