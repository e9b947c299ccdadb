"""The device random crop (rethink.train.steppers.augmentation) against the NumPy reference.

Written once in keras.ops for both native steppers, it must cut, mirror and
whiten exactly as rethink.data.pipeline does on the host, on every backend,
eagerly and (JAX) inside jit, for CIFAR's shapes and for others.
"""

from __future__ import annotations

import numpy as np
import pytest

from rethink.data import preprocess
from rethink.data.pipeline import Crops, crop_draws, random_padded_crop, random_window_crop

MODES = ("window", "padded")


def _device_cases(mode: str, grey: bool = False) -> tuple[np.ndarray, Crops, np.ndarray]:
    """CIFAR's 32x32x3 cropped to 28x28, or grey 24x20 images cropped to 16x16."""
    if grey:
        raw = np.random.default_rng(8).integers(0, 256, size=(40, 24, 20, 1), dtype=np.uint8)
        margin = (24 - 16, 20 - 16) if mode == "window" else None
        crops = crop_draws(9, 1, 40, mode, margin)
        if mode == "window":
            return raw, crops, random_window_crop(raw, crops, (16, 16))
        x = preprocess(raw, 16)
        return x, crops, random_padded_crop(x, crops)
    raw = np.random.default_rng(7).integers(0, 256, size=(40, 32, 32, 3), dtype=np.uint8)
    raw[5] = 200  # constant
    raw[6] = 100
    raw[6, 16, 16, 0] = 101  # std below the floor, inside every window
    crops = crop_draws(9, 1, 40, mode)
    if mode == "window":
        return raw, crops, random_window_crop(raw, crops)
    x = preprocess(raw)
    return x, crops, random_padded_crop(x, crops)


@pytest.mark.parametrize("grey", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_the_device_crops_equal_the_reference(mode: str, grey: bool) -> None:
    import keras

    from rethink.train.steppers.augmentation import augment_batch

    x, crops, want = _device_cases(mode, grey)
    crop = (16, 16) if grey else (28, 28)
    x_t, dy, dx, flip = (
        keras.ops.convert_to_tensor(a) for a in (x, crops.dy, crops.dx, crops.flip)
    )
    got = keras.ops.convert_to_numpy(augment_batch(x_t, dy, dx, flip, mode, crop))
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.requires_backend("jax")
@pytest.mark.parametrize("mode", MODES)
def test_the_device_crops_compile_under_jax_jit(mode: str) -> None:
    import jax

    from rethink.train.steppers.augmentation import augment_batch

    x, crops, want = _device_cases(mode)
    fn = jax.jit(augment_batch, static_argnames=("mode", "crop"))
    got = np.asarray(fn(x, crops.dy, crops.dx, crops.flip, mode=mode, crop=(28, 28)))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_the_window_crop_needs_its_size_and_unknown_modes_are_refused() -> None:
    from rethink.train.steppers.augmentation import augment_batch

    x, crops, _ = _device_cases("window")
    with pytest.raises(ValueError, match="'window' needs a crop"):
        augment_batch(x, crops.dy, crops.dx, crops.flip, "window")
    with pytest.raises(ValueError, match="mode 'reflect'"):
        augment_batch(x, crops.dy, crops.dx, crops.flip, "reflect", (28, 28))
