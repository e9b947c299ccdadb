"""The native JAX stepper (rethink.train.steppers.jax_stepper): one compilation, buffers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rethink.data import preprocess
from rethink.data.pipeline import crop_draws, epoch_order
from rethink.train.steppers import Execution
from tests.helpers.training import never, stepper_for, tiny_model

NATIVE = Execution(loop="native")
pytestmark = pytest.mark.requires_backend("jax")


def test_the_jax_chunk_compiles_once_for_every_chunk_length() -> None:
    model = tiny_model(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4, 4, 3)).astype("float32")
    y = rng.integers(0, 10, 64).astype("int32")
    stepper: Any = stepper_for(NATIVE, model, x, y, 4)
    if not hasattr(stepper._chunk, "_cache_size"):
        pytest.skip("this jax has no jit cache size")
    stepper.begin_epoch(rng.permutation(64))
    for first, count in [(0, 2), (2, 5), (7, 3), (10, 6)]:
        losses, _ = stepper.run(first, count, never)
        assert len(losses) == count and np.isfinite(losses).all()
    assert stepper._chunk._cache_size() == 1
    # A new epoch's order, even a partial epoch's shorter one, reuses it.
    stepper.begin_epoch(rng.permutation(64))
    stepper.run(0, 4, never)
    stepper.begin_epoch(rng.permutation(64)[:40])
    losses, _ = stepper.run(0, 10, never)
    assert len(losses) == 10 and np.isfinite(losses).all()
    assert stepper._chunk._cache_size() == 1


@pytest.mark.parametrize("mode", ["window", "padded"])
def test_the_jax_chunk_compiles_once_across_augmented_epochs(mode: str) -> None:
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 256, size=(64, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 64).astype("int32")
    x = raw if mode == "window" else preprocess(raw)
    model = tiny_model(0, (28, 28, 3))
    stepper = stepper_for(NATIVE, model, x, y, 4, augment=True, augment_crop=mode)
    if not hasattr(stepper._chunk, "_cache_size"):
        pytest.skip("this jax has no jit cache size")
    # Every epoch has new crops; the last one is partial (40 of 64 images).
    for epoch, k in [(0, 64), (1, 64), (2, 40)]:
        order = epoch_order(0, epoch, 64)[:k]
        stepper.begin_epoch(order, crop_draws(0, epoch, k, mode))
        for first, count in [(0, 2), (2, 5), (7, 3)]:
            losses, _ = stepper.run(first, count, never)
            assert len(losses) == count and np.isfinite(losses).all()
    assert stepper._chunk._cache_size() == 1


def test_a_jax_chunk_longer_than_its_buffers_is_split(monkeypatch: pytest.MonkeyPatch) -> None:
    from rethink.train.steppers import jax_stepper

    rng = np.random.default_rng(2)
    x = rng.normal(size=(48, 4, 4, 3)).astype("float32")
    y = rng.integers(0, 10, 48).astype("int32")
    order = rng.permutation(48)
    single: Any = stepper_for(NATIVE, tiny_model(5), x, y, 4)
    single.begin_epoch(order)
    want = np.concatenate([single.run(i, 1, never)[0] for i in range(11)])
    monkeypatch.setattr(jax_stepper, "BUFFER", 4)
    split: Any = stepper_for(NATIVE, tiny_model(5), x, y, 4)
    split.begin_epoch(order)
    got = np.concatenate([split.run(0, 10, never)[0], split.run(10, 1, never)[0]])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # A stop flag is honoured between buffers: at least one, never all of them.
    split.begin_epoch(order)
    assert 1 <= len(split.run(0, 10, lambda: True)[0]) < 10
