"""Keras's download of a named data set (`download`), made uniform by `adapt`.

    arrays = download("cifar100")          # keras.datasets.cifar100.load_data("fine")
    arrays = adapt("mnist", raw)           # (N, 28, 28) -> (N, 28, 28, 1), int64 labels

`download` fails fast when offline (a short socket timeout, one try) with a
message naming the local forms to use instead. `adapt` is pure (no Keras, no
I/O): it checks Keras's arrays against the named data set's shape and classes
and brings them to rethink's layout. `DOWNLOAD_SHA256` is the published hash
of what Keras fetches for each name (the cache's `source_digest` of a download).
"""

from __future__ import annotations

import hashlib
import importlib
import socket
from typing import Any

from rethink.data.sources.arrays import Arrays, conform, one_line
from rethink.data.sources.layout import TREE_HINT
from rethink.data.sources.locate import ENV_VAR
from rethink.spec import datasets
from rethink.spec.datasets import DataError

__all__ = ["DOWNLOAD_SHA256", "DOWNLOAD_TIMEOUT_S", "FASHION_MNIST_MD5", "adapt", "download"]

DOWNLOAD_TIMEOUT_S = 15.0
# Fashion-MNIST's own published MD5s of its four files (Keras publishes no hash for
# them; these are the ones in zalandoresearch/fashion-mnist's README).
FASHION_MNIST_MD5 = {
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
}
# What `source_digest` gives for a keras.datasets download: the published sha256 of
# the file Keras fetches (Keras checks its download against it; for CIFAR-10, the
# official cifar-10-python.tar.gz), and for Fashion-MNIST's four files the sha256 of
# their md5sum manifest ("<md5>  <file>\n" per file, in Keras's download order).
DOWNLOAD_SHA256 = {
    "cifar10": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    "cifar100": "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
    "mnist": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    "fashion_mnist": hashlib.sha256(
        "".join(f"{md5}  {name}\n" for name, md5 in FASHION_MNIST_MD5.items()).encode()
    ).hexdigest(),
}

_TITLES = {
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
}
_OFFLINE_HINTS = {
    "cifar10": "the official cifar-10-python.tar.gz or its cifar-10-batches-py/ folder",
    "cifar100": "the official cifar-100-python.tar.gz or its cifar-100-python/ folder",
    "mnist": "Keras's mnist.npz or the four MNIST IDX files (a folder or a tar of them)",
    "fashion_mnist": "the four Fashion-MNIST IDX files in a folder named fashion-mnist (or a tar of it)",
}


def download(dataset: str = datasets.DEFAULT, timeout: float = DOWNLOAD_TIMEOUT_S) -> Arrays:
    """A named data set through `keras.datasets.<name>.load_data()` (CIFAR-100's fine
    labels), failing fast when offline, made uniform by `adapt`."""
    datasets.known(dataset)
    title = _TITLES[dataset]
    call = f"keras.datasets.{dataset}.load_data()"
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        # lazy: importing keras fixes the backend
        module = importlib.import_module(f"keras.datasets.{dataset}")
        raw = module.load_data(**({"label_mode": "fine"} if dataset == "cifar100" else {}))
    except Exception as e:
        raise DataError(
            f"could not get {title} through {call} ({one_line(e)}); point rethink at a local "
            f"copy with --data PATH or {ENV_VAR}=PATH: {_OFFLINE_HINTS[dataset]}, or {TREE_HINT}"
        ) from e
    finally:
        socket.setdefaulttimeout(previous)
    return adapt(dataset, raw)


def adapt(name: str, arrays: Any) -> Arrays:
    """What `keras.datasets.<name>.load_data()` returns, in rethink's layout: uint8
    (N, H, W, C) channels-last images (MNIST's (N, 28, 28) gains its channel,
    channels-first (N, C, H, W) is transposed) and int64 (N,) labels, checked
    against the named data set's shape and classes. Pure: no Keras, no I/O."""
    return conform(f"keras.datasets.{name}", datasets.known(name), arrays)
