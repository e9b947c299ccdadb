"""rethink.data.sources.locate and .layout: which kind of copy a path is, where its data
files are, the name it gives, and the path read when none is given."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rethink.data.sources import Layout, locate, resolve
from tests.helpers.data_copies import assert_cifar10_refused


@pytest.mark.parametrize(
    "kind, expected_kind, root",
    [
        ("official_tgz", "archive", "cifar-10-python.tar.gz"),
        ("official_dir", "cifar10", "cifar-10-batches-py"),
        ("official_parent", "cifar10", "cifar-10-batches-py"),
        ("tree_dir", "images", "cifar10-tiny"),
        ("tree_parent", "images", "cifar10-tiny"),
    ],
)
def test_locate_finds_the_kind_and_the_root(cifar10_copies, kind, expected_kind, root):
    layout = locate(cifar10_copies[kind])
    assert (layout.kind, layout.root.name) == (expected_kind, root)
    if expected_kind == "cifar10":
        assert layout.files == (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")
    if expected_kind == "images":  # every image, split by split, class by class
        assert len(layout.files) == 200
        assert layout.files[0] == "train/airplane/0000.png"
        assert layout.files[-1] == "test/truck/0009.png"


@pytest.mark.parametrize(
    "path, label",
    [
        ("data/my_set.tar.gz", "my_set"),
        ("data/My_Set.TGZ", "My_Set"),
        ("data/plain.tar", "plain"),
        ("data/mnist.npz", "mnist"),
    ],
)
def test_a_files_label_drops_its_archive_suffix(path, label):
    assert Layout("archive", Path(path)).label == label


def test_a_folders_label_is_its_name_even_with_a_dot(tmp_path):
    assert Layout("images", tmp_path / "shapes.tar").label == "shapes.tar"
    assert Layout("images", Path(".")).label == Path.cwd().name


def test_resolve_prefers_the_argument_then_rethink_data(monkeypatch, tmp_path):
    monkeypatch.setenv("RETHINK_DATA", str(tmp_path / "env"))
    assert resolve(tmp_path / "arg") == tmp_path / "arg"
    assert resolve(None) == tmp_path / "env"
    assert resolve("~/x") == Path.home() / "x"
    monkeypatch.setenv("RETHINK_DATA", "")
    assert resolve(None) is None
    monkeypatch.delenv("RETHINK_DATA")
    assert resolve(None) is None


def two_trees(copies, tmp_path):
    for name in ("a", "b"):
        shutil.copytree(copies["tree_dir"], tmp_path / name)
    return tmp_path


ERRORS = {
    "missing": (lambda c, t: t / "nowhere.tar.gz", "no such file or folder"),
    "empty folder": (lambda c, t: t, "unknown layout"),
    "two copies": (two_trees, "holds 2 data sets (a, b); point at one"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_a_path_that_is_no_copy_raises_one_line_data_error(cifar10_copies, tmp_path, case):
    build, expected = ERRORS[case]
    (tmp_path / "src").mkdir()
    source = build(cifar10_copies, tmp_path / "src")
    assert_cifar10_refused(source, expected, tmp_path / "cache")
