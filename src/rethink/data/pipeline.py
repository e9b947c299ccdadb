"""The arrays one run trains on, and their order: pure NumPy, no Keras.

    raw = rethink.data.load(spec.data, spec.dataset)
    data = prepare(spec, raw.arrays, raw.dataset)  # subset -> randomize -> preprocess
    order = epoch_order(spec.seed, epoch=3, n=len(data.y_train))
    crops = epoch_crops(spec, data, epoch=3, n=len(order))  # crop_draws over crop_margin
    images = augmented_images(spec, data, order, epoch=3)  # the keras loop's input

The images trained on are the data set's centre crop (`Dataset.crop`: the
paper's 28x28 of CIFAR's 32x32; whole images elsewhere unless `spec.crop`
asks for one), whitened. Random crop (`spec.augment`) comes in two modes
(`spec.augment_crop`): "window" takes a random window of that size from the
whole image (CIFAR: offsets 0..4; the centre, offset 2, is what evaluation
sees) and whitens it, so it needs the images before preprocessing
(`RunData.x_train_raw`) and a crop smaller than the image; "padded"
zero-pads the preprocessed image by PAD = 4 and crops it back to its size
(offsets 0..8). Either then flips half the images horizontally.

The functions here are the reference, and the one description of a random
crop: position i of an epoch's order is cut at rows dy[i].. and columns
dx[i].. (`Crops`, drawn once per epoch by `crop_draws`), mirrored left to
right where flip[i], then, for "window", whitened as `preprocess.whiten` does
it. The native steppers do the same on the device from the same draws
(`rethink.train.steppers.augmentation`, tested against these).

Everything random here is drawn from a `np.random.Generator` seeded by the
spec, never from global state, so the same spec gives the same corruption,
the same data order and the same augmentation on every backend, and a resumed
run continues with exactly the batches an uninterrupted one would have seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rethink.spec.datasets import KNOWN, PAPER_CROP, DataError

if TYPE_CHECKING:
    from rethink.spec import DataSpec
    from rethink.spec.datasets import Dataset

# Stream tags keep the generators for different purposes independent.
_ORDER, _AUGMENT = 1, 2

PAD = 4  # "padded" crops: zeros on every side of the image trained on
# The largest crop offset of each mode on CIFAR: a window slides over 32 - 28 pixels.
MAX_OFFSET = {"window": KNOWN["cifar10"].shape[0] - PAPER_CROP, "padded": 2 * PAD}

Raw = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class RunData:
    """Preprocessed float32 images (N, h, w, C) and int32 labels, as trained on
    (CIFAR: (N, 28, 28, 3)), and the number of classes the labels come from.

    `x_train` is the centre crop, preprocessed: without augmentation it is
    trained on, and it is always what the training split is evaluated on.
    `x_train_raw` (uint8 (N, H, W, C), the whole images, subset and corrupted
    as `x_train`, not preprocessed) is there for the "window" random crop, else
    None. For a label corruption, `y_original` holds the training labels before it
    and `replaced` which of them it drew anew (`randomization.replaced_labels`);
    both None otherwise.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_train_raw: np.ndarray | None = None
    num_classes: int = 10
    y_original: np.ndarray | None = None
    replaced: np.ndarray | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """(h, w, C) of the images the model sees."""
        return tuple(int(d) for d in self.x_train.shape[1:])


@dataclass(frozen=True)
class Crops:
    """One epoch's random crops, aligned with the positions of its order.

    Position i of the epoch's order is cropped at rows dy[i]..dy[i]+h-1 and
    columns dx[i]..dx[i]+w-1 (CIFAR: 28x28 of the 32x32 image, or of the 36x36
    padded one), then mirrored left to right where flip[i].
    """

    dy: np.ndarray  # int32 (n,)
    dx: np.ndarray  # int32 (n,)
    flip: np.ndarray  # bool (n,)

    def __len__(self) -> int:
        return len(self.dy)


def prepare(spec: DataSpec, raw: Raw, dataset: Dataset | None = None) -> RunData:
    """Subset (same for every run of a grid), corrupt (by spec.seed), preprocess.

    `dataset` (default CIFAR-10) gives the classes the labels are corrupted over
    and, with `spec.crop`, the centre crop; DataError when the crop or the random
    crop does not fit its images.
    """
    from rethink.data import preprocess, subset
    from rethink.data.randomization import randomize, replaced_labels

    dataset = KNOWN["cifar10"] if dataset is None else dataset
    side = dataset.crop(spec.crop)
    (x_train, y_train), (x_test, y_test) = raw
    check_window_crop(spec, dataset.shape, side)
    if spec.train_subset is not None:
        if spec.train_subset > len(x_train):
            raise ValueError(
                f"train subset {spec.train_subset} is larger than the {len(x_train)} training images"
            )
        x_train, y_train = subset(x_train, y_train, spec.train_subset, seed=spec.subset_seed)
    if spec.test_subset is not None and spec.test_subset < len(x_test):
        x_test, y_test = subset(x_test, y_test, spec.test_subset, seed=spec.subset_seed)
    level = 1.0 if spec.level is None else spec.level
    y_original = np.asarray(y_train, dtype=np.int32).reshape(-1)
    replaced = replaced_labels(len(y_original), spec.corruption, level, spec.seed)
    x_train, y_train, x_test, y_test = randomize(
        x_train,
        y_train,
        x_test,
        y_test,
        spec.corruption,
        level=level,
        seed=spec.seed,
        num_classes=dataset.num_classes,
    )
    keep_raw = spec.augment and spec.augment_crop == "window"
    return RunData(
        x_train=preprocess(x_train, side),
        y_train=np.asarray(y_train, dtype=np.int32),
        x_test=preprocess(x_test, side),
        y_test=np.asarray(y_test, dtype=np.int32),
        x_train_raw=np.ascontiguousarray(x_train, dtype=np.uint8) if keep_raw else None,
        num_classes=dataset.num_classes,
        y_original=y_original if replaced is not None else None,
        replaced=replaced,
    )


def check_window_crop(spec: DataSpec, shape: tuple[int, ...], side: int | None) -> None:
    """DataError unless the "window" random crop (when asked for) has room to move:
    a crop smaller than the images (CIFAR: 28 of 32)."""
    if not (spec.augment and spec.augment_crop == "window"):
        return
    h, w = int(shape[0]), int(shape[1])
    if side is None or side >= max(h, w):
        raise DataError(
            f"the window random crop needs a crop smaller than the {h}x{w} images "
            f"(--crop N with N < {max(h, w)}) or --augment-crop padded"
        )


def crop_margin(data: RunData, mode: str) -> tuple[int, int]:
    """The largest (row, column) offset of a random crop of `mode` on `data`:
    "window", the whole images' size less the crop's (CIFAR: 4, 4); "padded", 2 * PAD."""
    if mode == "padded":
        return (2 * PAD, 2 * PAD)
    if mode != "window":
        raise ValueError(f"unknown random crop {mode!r}; choose from {', '.join(MAX_OFFSET)}")
    raw = crop_source(data, mode)
    h, w = data.x_train.shape[1:3]
    return (int(raw.shape[1] - h), int(raw.shape[2] - w))


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The permutation of the training set used in `epoch` (0-based)."""
    return np.random.default_rng([seed, _ORDER, epoch]).permutation(n)


def crop_draws(
    seed: int, epoch: int, n: int, mode: str = "window", margin: tuple[int, int] | None = None
) -> Crops:
    """The random crops and flips of `epoch` (0-based) for its `n` positions.

    Offsets are uniform on 0..margin (rows, columns; `crop_margin`; None: CIFAR's
    MAX_OFFSET[mode], window 0..4, padded 0..8), flips have probability 1/2. The
    draws for "padded" are those of rethink before "window" existed, so an old
    run resumes with the crops it had.
    """
    if mode not in MAX_OFFSET:
        raise ValueError(f"unknown random crop {mode!r}; choose from {', '.join(MAX_OFFSET)}")
    rows, cols = (MAX_OFFSET[mode], MAX_OFFSET[mode]) if margin is None else margin
    rng = np.random.default_rng([seed, _AUGMENT, epoch])
    dy = rng.integers(0, rows + 1, size=(n,))
    dx = rng.integers(0, cols + 1, size=(n,))
    flip = rng.random(size=(n,)) < 0.5
    return Crops(dy.astype(np.int32), dx.astype(np.int32), np.asarray(flip, dtype=bool))


def _crop(x: np.ndarray, crops: Crops, size: tuple[int, int]) -> np.ndarray:
    """A size[0] x size[1] window of each image at its offsets, flipped where drawn."""
    n = len(x)
    if len(crops) != n:
        raise ValueError(f"{len(crops)} crops for {n} images")
    h, w = x.shape[1:3]
    if n and (crops.dy.max() + size[0] > h or crops.dx.max() + size[1] > w):
        raise ValueError(
            f"{size[0]}x{size[1]} crops at offsets up to ({crops.dy.max()}, {crops.dx.max()}) "
            f"do not fit images of {h}x{w}"
        )
    span_y, span_x = np.arange(size[0]), np.arange(size[1])
    rows = crops.dy[:, None] + span_y[None, :]  # (n, h)
    cols = crops.dx[:, None] + np.where(crops.flip[:, None], span_x[None, ::-1], span_x[None, :])
    return np.asarray(x[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]])


def random_window_crop(
    raw: np.ndarray, crops: Crops, size: tuple[int, int] = (PAPER_CROP, PAPER_CROP)
) -> np.ndarray:
    """uint8 images (n, H, W, C), in the crops' order -> whitened float32 windows
    (n, size[0], size[1], C); CIFAR: (n, 32, 32, 3) -> (n, 28, 28, 3).

    The centred window unflipped is exactly `preprocess` of the image.
    """
    from rethink.data.preprocess import whiten

    if raw.ndim != 4 or raw.shape[1] < size[0] or raw.shape[2] < size[1]:
        raise ValueError(
            f"window crop of {size[0]}x{size[1]} expects images (n, H, W, C) at least "
            f"that large, got {raw.shape}"
        )
    return whiten(_crop(raw, crops, size))


def random_padded_crop(x: np.ndarray, crops: Crops) -> np.ndarray:
    """Preprocessed images (n, h, w, C), in the crops' order, zero-padded by PAD
    and cropped back to h x w; zero is each image's mean after whitening."""
    if x.ndim != 4:
        raise ValueError(f"padded crop expects images (n, h, w, C), got {x.shape}")
    padded = np.pad(x, ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)))
    return np.ascontiguousarray(_crop(padded, crops, x.shape[1:3]), dtype=x.dtype)


def crop_source(data: RunData, mode: str) -> np.ndarray:
    """The training images a random crop of `mode` is taken from (all N, not in order)."""
    if mode != "window":
        return data.x_train
    if data.x_train_raw is None:
        raise ValueError(
            "the window random crop needs the raw training images (RunData.x_train_raw); "
            "prepare() fills them for a spec with augment and augment_crop='window'"
        )
    return data.x_train_raw


def epoch_crops(spec: DataSpec, data: RunData, epoch: int, n: int) -> Crops:
    """The run's random crops of `epoch` for its `n` positions, over `data`'s margin:
    what the keras loop crops by and the native steppers are handed."""
    margin = crop_margin(data, spec.augment_crop)
    return crop_draws(spec.seed, epoch, n, spec.augment_crop, margin)


def augmented_images(spec: DataSpec, data: RunData, order: np.ndarray, epoch: int) -> np.ndarray:
    """The epoch's training images in `order`, randomly cropped and flipped (float32
    (len(order), h, w, C)): what the keras loop trains on when `spec.augment`."""
    crops = epoch_crops(spec, data, epoch, len(order))
    images = crop_source(data, spec.augment_crop)[order]
    if spec.augment_crop == "window":
        return random_window_crop(images, crops, data.x_train.shape[1:3])
    return random_padded_crop(images, crops)
