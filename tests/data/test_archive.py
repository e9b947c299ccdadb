"""rethink.data.sources.archive: a tar of any form, named after the archive, and refused
in one line naming the archive when it is not a tar, is cut short, or is ambiguous."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile

import numpy as np
import pytest
from PIL import Image

from rethink.data import DataError, Dataset, load, load_cifar10
from tests.helpers.data_copies import (
    GREY_CLASSES,
    assert_cifar10_refused,
    assert_loaded,
    one_line_error,
    write_tar,
)


@pytest.mark.parametrize("archive", ["grey-set.tar.gz", "grey-set.tgz", "grey-set.tar"])
def test_a_tar_of_a_tree_is_named_after_the_archive(greys, tmp_path, archive):
    tree, expected = greys
    path = write_tar(tree, tmp_path / archive, "inside")
    loaded = load(path, cache_dir=tmp_path / "cache")
    assert loaded.dataset == Dataset("grey-set", GREY_CLASSES, (20, 20, 1))
    assert loaded.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert_loaded(loaded, expected)


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


ERRORS = {
    "text file": (text_file, "not a tar archive, a .npz file or a folder"),
    "truncated": (truncated, "truncated or corrupt archive"),
    "not gzip": (not_gzip, "truncated or corrupt archive"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_a_file_that_is_no_archive_raises_one_line_data_error(cifar10_copies, tmp_path, case):
    build, expected = ERRORS[case]
    (tmp_path / "src").mkdir()
    source = build(cifar10_copies, tmp_path / "src")
    assert_cifar10_refused(source, expected, tmp_path / "cache")


def test_tar_archive_of_a_bad_tree_names_the_file(cifar10_copies, tmp_path):
    root = shutil.copytree(cifar10_copies["tree_dir"], tmp_path / "t")
    Image.fromarray(np.zeros((32, 30, 3), np.uint8)).save(root / "train/dog/0004.png")
    archive = write_tar(root, tmp_path / "bad.tgz", "cifar10-bad")
    with pytest.raises(DataError, match=r"bad\.tgz: image train/dog/0004\.png is 32x30, expected"):
        load_cifar10(archive, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_a_tar_of_two_trees_or_of_no_data_is_refused(greys, tmp_path):
    tree, _ = greys
    both = tmp_path / "both.tar"
    with tarfile.open(both, "w") as tar:
        tar.add(tree, arcname="a")
        tar.add(tree, arcname="b")
    one_line_error(both, "holds 2 image-folder trees (a, b); expected one")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no data here\n")
    empty = write_tar(tmp_path / "notes", tmp_path / "notes.tar.gz", "notes")
    one_line_error(empty, "unknown layout; expected cifar-10-python.tar.gz")
