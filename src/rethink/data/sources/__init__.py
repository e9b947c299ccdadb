"""Where a data set comes from: find a local copy's layout and decode it to arrays.

A source is one of

- CIFAR-10: the official `cifar-10-python.tar.gz`, its extracted
  `cifar-10-batches-py/` folder, or a folder holding that folder (`cifar`);
- CIFAR-100: the official `cifar-100-python.tar.gz`, its extracted
  `cifar-100-python/` folder (files `train`, `test`, `meta`; the 100 fine
  labels), or a folder holding that folder (`cifar`);
- MNIST or Fashion-MNIST: Keras's `mnist.npz` (x_train, y_train, x_test,
  y_test), or the four IDX files (`train-images-idx3-ubyte`,
  `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
  `t10k-labels-idx1-ubyte`, each plain or `.gz`) in a folder or a tar (`mnist`);
- any other data set: an image-folder tree `train/<class>/*.jpg|png`,
  `test/<class>/*`, a folder holding exactly one such tree, or a
  `.tar`/`.tar.gz`/`.tgz` of one (`images`; any tar: `archive`);
- nothing (`None`): Keras's own download, `download(name)`, made uniform by
  the pure `adapt(name, arrays)` (`download`).

    layout = locate(Path("cifar10-jpeg.tar.gz"))     # a Layout (`layout`, `locate`)
    (x_train, y_train), (x_test, y_test) = decode(layout)[0]

`decode` gives the arrays and the `Dataset` the source holds (before
`datasets.identify` applies the name a user asked for). Every source gives the
same kind of arrays (`Arrays`): uint8 images (N, H, W, C), always 4-D
channels-last with C 1 (greyscale) or 3 (RGB), and int64 labels (N,), in the
source's own order.

Names. CIFAR-10 and CIFAR-100 are named by their format. MNIST and
Fashion-MNIST share their file names, so a copy is "fashion_mnist" when its
name (the file, the folder, or a folder inside a tar) contains "fashion", else
"mnist". An image tree is named after its folder, or after its archive's file
name without .tar/.tar.gz/.tgz (`Layout.label`); its classes, sizes and
channels follow the rules in `rethink.data.sources.images`.

Anything that is not a usable copy raises `DataError` with a one-line message
naming the path.

The modules, bottom to top: `arrays` (what every source gives), `layout`,
`cifar`, `mnist`, `images` (one format each), `archive` (a tar of any of
them), `locate` (path -> Layout -> arrays), `download` (Keras's).
"""

from __future__ import annotations

from rethink.data.sources.arrays import Arrays
from rethink.data.sources.download import DOWNLOAD_SHA256, DOWNLOAD_TIMEOUT_S, adapt, download
from rethink.data.sources.layout import Layout
from rethink.data.sources.locate import ENV_VAR, decode, locate, read_bytes, resolve
from rethink.spec.datasets import DataError

__all__ = [
    "DOWNLOAD_SHA256",
    "DOWNLOAD_TIMEOUT_S",
    "ENV_VAR",
    "Arrays",
    "DataError",
    "Layout",
    "adapt",
    "decode",
    "download",
    "locate",
    "read_bytes",
    "resolve",
]
