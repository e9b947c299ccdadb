"""rethink.data.cache: decoded arrays kept by the source's content (a digest that follows
content, not location), read back as the same data set, refused when stale or damaged."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rethink.data import Dataset, cache, load, load_cifar10, source_digest, sources
from tests.helpers.data_copies import (
    CIFAR10_TEST,
    CIFAR10_TRAIN,
    GREY_CLASSES,
    assert_cifar10_arrays,
    assert_loaded,
)
from tests.helpers.image_folders import class_sorted

# --- the digest -----------------------------------------------------------------


def test_digest_is_the_archive_sha256_and_follows_content(cifar10_copies, tmp_path):
    archive = cifar10_copies["official_tgz"]
    assert source_digest(archive) == hashlib.sha256(archive.read_bytes()).hexdigest()
    changed = tmp_path / "changed.tar.gz"
    changed.write_bytes(archive.read_bytes() + b"\0" * 512)  # padding: still a valid archive
    assert source_digest(changed) != source_digest(archive)
    load_cifar10(archive, cache_dir=tmp_path / "cache")
    load_cifar10(changed, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_folder_digest_ignores_location_but_not_content(cifar10_copies, tmp_path):
    moved = shutil.copytree(cifar10_copies["tree_dir"], tmp_path / "elsewhere")
    assert source_digest(moved) == source_digest(cifar10_copies["tree_dir"])
    assert source_digest(tmp_path) == source_digest(moved)  # the folder holding it
    victim = moved / "test" / "cat" / "0003.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(victim)
    assert source_digest(moved) != source_digest(cifar10_copies["tree_dir"])


# --- hits and misses --------------------------------------------------------------


def test_second_load_comes_from_the_cache(cifar10_copies, tmp_path, monkeypatch):
    first = load_cifar10(cifar10_copies["tree_tgz"], cache_dir=tmp_path)
    written = list(tmp_path.iterdir())
    digest = source_digest(cifar10_copies["tree_tgz"])
    assert [p.name for p in written] == [f"data-{digest}.v{cache.CACHE_VERSION}.npz"]

    def no_decoding(layout):
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr(sources, "decode", no_decoding)
    second = load_cifar10(cifar10_copies["tree_tgz"], cache_dir=tmp_path)
    assert_cifar10_arrays(second, *first)
    assert_cifar10_arrays(second, class_sorted(CIFAR10_TRAIN), class_sorted(CIFAR10_TEST))


def test_corrupt_cache_is_ignored_and_rewritten(cifar10_copies, tmp_path):
    path = cache.cache_path(source_digest(cifar10_copies["official_tgz"]), tmp_path)
    path.write_bytes(b"PK\x03\x04 not really a zip")
    arrays = load_cifar10(cifar10_copies["official_tgz"], cache_dir=tmp_path)
    assert_cifar10_arrays(arrays, CIFAR10_TRAIN, CIFAR10_TEST)
    assert cache.read(path) is not None
    np.savez(path, x_train=np.zeros((2, 32, 32), np.uint8))  # valid npz, wrong content
    arrays = load_cifar10(cifar10_copies["official_tgz"], cache_dir=tmp_path)
    assert_cifar10_arrays(arrays, CIFAR10_TRAIN, CIFAR10_TEST)


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
    assert_loaded(second, expected)
    hit = cache.read(written, "greys")
    assert hit is not None and hit[1] == Dataset("greys", GREY_CLASSES, (20, 20, 1))


def test_a_renamed_tree_is_decoded_again_under_its_new_name(greys, tmp_path):
    tree, expected = greys
    load(tree, cache_dir=tmp_path / "cache")
    renamed = shutil.copytree(tree, tmp_path / "renamed")
    assert source_digest(renamed) == source_digest(tree)  # same content
    loaded = load(renamed, cache_dir=tmp_path / "cache")
    assert loaded.dataset.name == "renamed"
    assert_loaded(loaded, expected)


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
