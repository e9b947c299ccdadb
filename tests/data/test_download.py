"""rethink.data.sources.download: Keras's download of a named data set, failing fast
offline with a hint, made uniform by `adapt`; the published digests of what it fetches."""

from __future__ import annotations

import inspect
import re
import socket

import numpy as np
import pytest

from rethink.data import DataError, load, load_cifar10, source_digest
from rethink.data.sources import DOWNLOAD_SHA256, DOWNLOAD_TIMEOUT_S, adapt
from rethink.spec import datasets
from tests.helpers.data_copies import CIFAR10_TEST, CIFAR10_TRAIN, assert_cifar10_arrays


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
    assert seen["timeout"] == DOWNLOAD_TIMEOUT_S <= 30
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
        for x, y in (CIFAR10_TRAIN, CIFAR10_TEST):
            xk = x.transpose(0, 3, 1, 2) if channels_first else x
            splits.append((xk, y.astype(np.uint8).reshape(-1, 1)))
        return tuple(splits)

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", fake)
    assert_cifar10_arrays(load_cifar10(), CIFAR10_TRAIN, CIFAR10_TEST)


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
    (x_train, y_train), (x_test, y_test) = adapt(name, raw)
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
        adapt(name, broken(keras_like(name)))
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
    assert source_digest() == source_digest(dataset="cifar10") == DOWNLOAD_SHA256["cifar10"]
