"""Random crop and flip (rethink.data.pipeline): the per-epoch draws and the NumPy reference.

"window" crops 28x28 out of the 32x32 image (so real border pixels are kept
and the centre window is exactly `preprocess`); "padded" zero-pads the
preprocessed 28x28 image by 4 (rethink's crop before spec version 2). The
device version (tests/train/test_augmentation.py) must equal this reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from rethink.data import preprocess
from rethink.data.pipeline import Crops, crop_draws, random_padded_crop, random_window_crop
from rethink.data.preprocess import whiten

MODES = ("window", "padded")


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)


def _fixed(n: int, dy: int, dx: int, flip: bool) -> Crops:
    full = np.full(n, 0, np.int32)
    return Crops(full + dy, full + dx, np.full(n, flip))


def _reference_window(raw: np.ndarray, crops: Crops) -> np.ndarray:
    """One image at a time, in float64: slice, mirror, whiten."""
    out = []
    for image, dy, dx, flip in zip(raw, crops.dy, crops.dx, crops.flip, strict=True):
        window = image[dy : dy + 28, dx : dx + 28].astype(np.float64)
        if flip:
            window = window[:, ::-1]
        v = window / 255.0
        out.append((v - v.mean()) / max(v.std(), 1.0 / np.sqrt(v.size)))
    return np.stack(out)


# -- the draws --------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "high"), [("window", 4), ("padded", 8)])
def test_draws_are_fixed_per_seed_and_epoch_and_cover_the_offsets(mode: str, high: int) -> None:
    a = crop_draws(seed=3, epoch=2, n=2000, mode=mode)
    b = crop_draws(seed=3, epoch=2, n=2000, mode=mode)
    for x, y in zip((a.dy, a.dx, a.flip), (b.dy, b.dx, b.flip), strict=True):
        np.testing.assert_array_equal(x, y)
    for other in (crop_draws(3, 3, 2000, mode), crop_draws(4, 2, 2000, mode)):
        assert not np.array_equal(a.dy, other.dy)
        assert not np.array_equal(a.dx, other.dx)
        assert not np.array_equal(a.flip, other.flip)
    assert len(a) == 2000 and a.dy.dtype == a.dx.dtype == np.int32 and a.flip.dtype == bool
    for offsets in (a.dy, a.dx):
        assert sorted(set(offsets.tolist())) == list(range(high + 1))  # inclusive
    assert not np.array_equal(a.dy, a.dx)  # two independent draws
    assert 900 < a.flip.sum() < 1100  # about half flipped


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown random crop 'reflect'"):
        crop_draws(0, 0, 4, "reflect")


def test_padded_crops_are_rethinks_crops_before_the_window_mode() -> None:
    """An old (padded) run resumes with exactly the augmentation it began with."""

    def old_augment(x: np.ndarray, seed: int, epoch: int, pad: int = 4) -> np.ndarray:
        rng = np.random.default_rng([seed, 2, epoch])
        n, h, w, _ = x.shape
        padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        dy = np.asarray(rng.integers(0, 2 * pad + 1, size=(n,)))
        dx = np.asarray(rng.integers(0, 2 * pad + 1, size=(n,)))
        flip = np.asarray(rng.random(size=(n,))) < 0.5
        rows = dy[:, None] + np.arange(h)[None, :]
        cols = dx[:, None] + np.arange(w)[None, :]
        cols = np.where(flip[:, None], cols[:, ::-1], cols)
        out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
        return np.ascontiguousarray(out, dtype=x.dtype)

    x = preprocess(_images(50))
    for seed, epoch in [(0, 0), (7, 3)]:
        got = random_padded_crop(x, crop_draws(seed, epoch, len(x), "padded"))
        np.testing.assert_array_equal(got, old_augment(x, seed, epoch))


# -- the NumPy reference ------------------------------------------------------------


def test_the_centre_window_unflipped_is_preprocess() -> None:
    raw = _images(9)
    raw[3] = 77  # constant: zeros, not a division by 0
    np.testing.assert_array_equal(random_window_crop(raw, _fixed(9, 2, 2, False)), preprocess(raw))
    assert not np.array_equal(random_window_crop(raw, _fixed(9, 2, 1, False)), preprocess(raw))


def test_window_crops_equal_the_image_by_image_reference() -> None:
    raw = _images(64, seed=1)
    crops = crop_draws(1, 0, 64, "window")
    got = random_window_crop(raw, crops)
    assert got.shape == (64, 28, 28, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, _reference_window(raw, crops), atol=1e-5)


def test_window_crops_keep_the_border_pixels_the_centre_crop_drops() -> None:
    # Black 2-pixel border, bright interior: after whitening, the border is
    # exactly the crop's darkest value and nothing else is.
    n = 200
    raw = np.random.default_rng(2).integers(50, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    raw[:, border] = 0
    crops = crop_draws(0, 0, n, "window")
    got = random_window_crop(raw, crops)
    with_border = 0
    for i in range(n):
        dy, dx, flip = crops.dy[i], crops.dx[i], crops.flip[i]
        want = border[dy : dy + 28, dx : dx + 28]
        if flip:
            want = want[:, ::-1]
        darkest = np.all(got[i] == got[i].min(), axis=-1)
        if want.any():
            with_border += 1
            np.testing.assert_array_equal(darkest, want, err_msg=f"image {i}")
        else:  # only the centre window misses the border: it is the centre crop
            assert (dy, dx) == (2, 2)
            centre = preprocess(raw[i : i + 1])[0]
            np.testing.assert_array_equal(got[i], centre[:, ::-1] if flip else centre)
    assert with_border > n * 0.8  # 24 of 25 offsets reach into the border
    assert with_border < n  # and the centre window came up too


@pytest.mark.parametrize("mode", MODES)
def test_flip_reverses_the_columns(mode: str) -> None:
    raw = _images(6, seed=4)
    x = raw if mode == "window" else preprocess(raw)
    crop = random_window_crop if mode == "window" else random_padded_crop
    for dy, dx in [(0, 0), (1, 3), (4, 2)]:
        plain = crop(x, _fixed(6, dy, dx, False))
        flipped = crop(x, _fixed(6, dy, dx, True))
        np.testing.assert_array_equal(flipped, plain[:, :, ::-1, :])
        assert not np.array_equal(flipped, plain)


def test_padded_crop_takes_zeros_from_the_padding() -> None:
    x = preprocess(_images(3, seed=5))
    got = random_padded_crop(x, _fixed(3, 0, 8, False))  # top-right corner of the padded image
    np.testing.assert_array_equal(got[:, :4], 0.0)
    np.testing.assert_array_equal(got[:, :, 24:], 0.0)
    np.testing.assert_array_equal(got[:, 4:, :24], x[:, :24, 4:])


def test_whiten_is_what_preprocess_does_to_the_centre() -> None:
    raw = _images(5, seed=6)
    np.testing.assert_array_equal(whiten(raw[:, 2:30, 2:30]), preprocess(raw))


def test_crops_must_match_the_images() -> None:
    with pytest.raises(ValueError, match="4 crops for 5 images"):
        random_window_crop(_images(5), crop_draws(0, 0, 4))
    # Windows of 28x28 at offsets up to 4 need 32x32 images, not preprocessed 28x28 ones.
    with pytest.raises(ValueError, match="do not fit images of 28x28"):
        random_window_crop(preprocess(_images(2)), crop_draws(0, 0, 2))
    # Padded crops keep any image's size.
    assert random_padded_crop(_images(2), crop_draws(0, 0, 2, "padded")).shape == (2, 32, 32, 3)
