"""The arrays one run trains on, and their order: pure NumPy, no Keras.

    raw = rethink.data.load_cifar10(spec.data)
    data = prepare(spec, raw)          # subset -> randomize -> preprocess
    order = epoch_order(spec.seed, epoch=3, n=len(data.y_train))
    crops = crop_draws(spec.seed, epoch=3, n=len(order), mode=spec.augment_crop)
    images = augmented_images(spec, data, order, epoch=3)  # the keras loop's input

Random crop (`spec.augment`) comes in two modes (`spec.augment_crop`):
"window" takes a random 28x28 window of the 32x32 image (offsets 0..4; the
centre, offset 2, is what evaluation sees) and whitens it, so it needs the
images before preprocessing (`RunData.x_train_raw`); "padded" zero-pads the
preprocessed 28x28 image by 4 and crops 28x28 (offsets 0..8). Either then
flips half the images horizontally. The functions here are the NumPy
reference; the native steppers do the same on the device from the same draws.

Everything random here is drawn from a `np.random.Generator` seeded by the
spec, never from global state, so the same spec gives the same corruption,
the same data order and the same augmentation on every backend, and a resumed
run continues with exactly the batches an uninterrupted one would have seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rethink.spec import RunSpec

# Stream tags keep the generators for different purposes independent.
_ORDER, _AUGMENT = 1, 2

CROP = 28  # the side of every image trained on
RAW = 32  # the side of a CIFAR-10 image
PAD = 4  # "padded" crops: zeros on every side of the 28x28 image
# The largest crop offset of each mode: a window slides over 32 - 28 pixels.
MAX_OFFSET = {"window": RAW - CROP, "padded": 2 * PAD}

Raw = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class RunData:
    """Preprocessed float32 images (N, 28, 28, 3) and int32 labels, as trained on.

    `x_train` is the centre crop, preprocessed: without augmentation it is
    trained on, and it is always what the training split is evaluated on.
    `x_train_raw` (uint8 (N, 32, 32, 3), subset and corrupted as `x_train`,
    not preprocessed) is there for the "window" random crop, else None.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_train_raw: np.ndarray | None = None


@dataclass(frozen=True)
class Crops:
    """One epoch's random crops, aligned with the positions of its order.

    Position i of the epoch's order is cropped at rows dy[i]..dy[i]+27 and
    columns dx[i]..dx[i]+27 (of the 32x32 image, or of the 36x36 padded one),
    then mirrored left to right where flip[i].
    """

    dy: np.ndarray  # int32 (n,)
    dx: np.ndarray  # int32 (n,)
    flip: np.ndarray  # bool (n,)

    def __len__(self) -> int:
        return len(self.dy)


def prepare(spec: RunSpec, raw: Raw) -> RunData:
    """Subset (same for every run of a grid), corrupt (by spec.seed), preprocess."""
    from rethink.data import preprocess, subset
    from rethink.data.randomization import randomize

    (x_train, y_train), (x_test, y_test) = raw
    if spec.train_subset is not None:
        if spec.train_subset > len(x_train):
            raise ValueError(
                f"train subset {spec.train_subset} is larger than the {len(x_train)} training images"
            )
        x_train, y_train = subset(x_train, y_train, spec.train_subset, seed=spec.subset_seed)
    if spec.test_subset is not None and spec.test_subset < len(x_test):
        x_test, y_test = subset(x_test, y_test, spec.test_subset, seed=spec.subset_seed)
    level = 1.0 if spec.level is None else spec.level
    x_train, y_train, x_test, y_test = randomize(
        x_train, y_train, x_test, y_test, spec.corruption, level=level, seed=spec.seed
    )
    window = spec.augment and spec.augment_crop == "window"
    return RunData(
        x_train=preprocess(x_train),
        y_train=np.asarray(y_train, dtype=np.int32),
        x_test=preprocess(x_test),
        y_test=np.asarray(y_test, dtype=np.int32),
        x_train_raw=np.ascontiguousarray(x_train, dtype=np.uint8) if window else None,
    )


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The permutation of the training set used in `epoch` (0-based)."""
    return np.random.default_rng([seed, _ORDER, epoch]).permutation(n)


def crop_draws(seed: int, epoch: int, n: int, mode: str = "window") -> Crops:
    """The random crops and flips of `epoch` (0-based) for its `n` positions.

    Offsets are uniform on 0..MAX_OFFSET[mode] (window: 0..4, padded: 0..8),
    flips have probability 1/2. The draws for "padded" are those of rethink
    before "window" existed, so an old run resumes with the crops it had.
    """
    if mode not in MAX_OFFSET:
        raise ValueError(f"unknown random crop {mode!r}; choose from {', '.join(MAX_OFFSET)}")
    rng = np.random.default_rng([seed, _AUGMENT, epoch])
    high = MAX_OFFSET[mode] + 1
    dy = rng.integers(0, high, size=(n,))
    dx = rng.integers(0, high, size=(n,))
    flip = rng.random(size=(n,)) < 0.5
    return Crops(dy.astype(np.int32), dx.astype(np.int32), np.asarray(flip, dtype=bool))


def _crop(x: np.ndarray, crops: Crops) -> np.ndarray:
    """A CROP x CROP window of each image at its offsets, flipped where drawn."""
    n = len(x)
    if len(crops) != n:
        raise ValueError(f"{len(crops)} crops for {n} images")
    span = np.arange(CROP)
    rows = crops.dy[:, None] + span[None, :]  # (n, CROP)
    cols = crops.dx[:, None] + np.where(crops.flip[:, None], span[None, ::-1], span[None, :])
    return np.asarray(x[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]])


def window_crop(raw: np.ndarray, crops: Crops) -> np.ndarray:
    """uint8 images (n, 32, 32, 3), in the crops' order -> whitened float32 (n, 28, 28, 3).

    The window at (2, 2) unflipped is exactly `preprocess` of the image.
    """
    from rethink.data.preprocess import whiten

    if raw.ndim != 4 or raw.shape[1:3] != (RAW, RAW):
        raise ValueError(f"window crop expects images (n, {RAW}, {RAW}, C), got {raw.shape}")
    return whiten(_crop(raw, crops))


def padded_crop(x: np.ndarray, crops: Crops) -> np.ndarray:
    """Preprocessed images (n, 28, 28, 3), in the crops' order, zero-padded by PAD
    and cropped back to 28x28; zero is each image's mean after whitening."""
    if x.ndim != 4 or x.shape[1:3] != (CROP, CROP):
        raise ValueError(f"padded crop expects images (n, {CROP}, {CROP}, C), got {x.shape}")
    padded = np.pad(x, ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)))
    return np.ascontiguousarray(_crop(padded, crops), dtype=x.dtype)


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


def augmented_images(spec: RunSpec, data: RunData, order: np.ndarray, epoch: int) -> np.ndarray:
    """The epoch's training images in `order`, randomly cropped and flipped (float32
    (len(order), 28, 28, 3)): what the keras loop trains on when `spec.augment`."""
    crops = crop_draws(spec.seed, epoch, len(order), spec.augment_crop)
    images = crop_source(data, spec.augment_crop)[order]
    if spec.augment_crop == "window":
        return window_crop(images, crops)
    return padded_crop(images, crops)
