"""Copies of small data sets shared by the data tests, written once per session.

`cifar10_copies`: CIFAR10_TRAIN/CIFAR10_TEST (tests.helpers.data_copies) in every
form a CIFAR-10 copy takes. `greys`: a 3-class tree of 20x20 greyscale PNGs
and the arrays loading it must give.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rethink.spec.datasets import CIFAR10_CLASSES
from tests.helpers.data_copies import (
    CIFAR10_TEST,
    CIFAR10_TRAIN,
    GREY_CLASSES,
    write_cifar10_batches,
    write_tar,
)
from tests.helpers.image_folders import Split, random_splits, write_image_tree


@pytest.fixture(scope="session")
def cifar10_copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every CIFAR-10 source form, by kind: the official batches (a .tar.gz, the
    folder, the folder holding it) and a PNG image tree (the folder, its parent,
    a .tar.gz of it, a plain tar with the tree at the top)."""
    base = tmp_path_factory.mktemp("cifar10-copies")
    official = write_cifar10_batches(base / "extracted")
    tree = write_image_tree(
        base / "holder" / "cifar10-tiny", (CIFAR10_TRAIN, CIFAR10_TEST), CIFAR10_CLASSES
    )
    return {
        "official_tgz": write_tar(official, base / "cifar-10-python.tar.gz", "cifar-10-batches-py"),
        "official_dir": official,
        "official_parent": official.parent,
        "tree_dir": tree,
        "tree_parent": tree.parent,
        "tree_tgz": write_tar(tree, base / "cifar10-tiny.tar.gz", "cifar10-tiny"),
        "tree_tar_flat": write_tar(tree, base / "flat.tar", "."),
    }


@pytest.fixture(scope="session")
def greys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[Split, Split]]:
    """holder/greys/: 3 classes of 20x20x1 PNGs (3 train, 2 test each), and its arrays."""
    expected = random_splits(len(GREY_CLASSES), (20, 20, 1))
    root = tmp_path_factory.mktemp("greys") / "holder" / "greys"
    return write_image_tree(root, expected, GREY_CLASSES), expected
