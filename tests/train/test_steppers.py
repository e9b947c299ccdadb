"""How steps execute (rethink.train.steppers): Execution settings, chunks, the steppers'
contract (every step's loss equals Keras's own step, augmented or not).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from rethink.data import preprocess
from rethink.data.pipeline import RunData, augmented_images, crop_draws, epoch_order
from rethink.spec import RunSpec
from rethink.train.steppers import (
    ACCELERATOR_CHUNK,
    Execution,
    ExecutionError,
    chunk_length,
    chunk_limit,
    make_stepper,
)
from tests.helpers.training import (
    assert_same_state,
    loop_spec,
    never,
    run_recorded,
    stepper_for,
    synthetic_data,
    tiny_model,
)

NATIVE = Execution(loop="native")
LOOPS_ALL = ("auto", "keras", "native")
native_backends = pytest.mark.requires_backend("jax", "torch")


# -- settings and chunking: pure ------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"loop": "fast"}, "unknown loop 'fast'"),
        ({"loop": "Keras"}, "unknown loop"),
        ({"torch_compile": "max-autotune"}, "unknown torch compile mode"),
        ({"torch_compile": "on"}, "unknown torch compile mode"),
        ({"steps_per_execution": 0}, "must be positive, got 0"),
        ({"steps_per_execution": -2}, "must be positive, got -2"),
    ],
)
def test_execution_rejects_unusable_settings(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ExecutionError, match=message):
        Execution(**settings)
    assert issubclass(ExecutionError, ValueError)


def test_execution_accepts_every_documented_setting() -> None:
    for loop, mode, k in itertools.product(
        ("auto", "keras", "native"),
        ("auto", "off", "cudagraphs", "inductor", "aot_eager"),
        (None, 1, 7),
    ):
        execution = Execution(loop=loop, steps_per_execution=k, torch_compile=mode)
        assert (execution.loop, execution.torch_compile, execution.steps_per_execution) == (
            loop,
            mode,
            k,
        )


def test_execution_round_trips_through_a_specs_extra_with_defaults_omitted() -> None:
    assert Execution().to_extra() == {}
    assert Execution(loop="auto", torch_compile="auto").to_extra() == {}
    assert Execution(steps_per_execution=4).to_extra() == {"steps_per_execution": 4}
    full = Execution(loop="native", steps_per_execution=3, torch_compile="aot_eager")
    assert full.to_extra() == {
        "loop": "native",
        "steps_per_execution": 3,
        "torch_compile": "aot_eager",
    }
    for loop, mode, k in itertools.product(LOOPS_ALL, ("auto", "off", "inductor"), (None, 1, 9)):
        execution = Execution(loop=loop, steps_per_execution=k, torch_compile=mode)
        assert Execution.from_extra(execution.to_extra()) == execution
    # A spec's extra holds other keys too, and JSON or a command line may give strings.
    extra = {"steps_per_execution": "8", "note": "x", "loop": "keras"}
    assert Execution.from_extra(extra) == Execution(loop="keras", steps_per_execution=8)
    # Keys absent from extra come from the base, present ones override it.
    base = Execution(loop="native", torch_compile="off")
    assert Execution.from_extra({"torch_compile": "aot_eager"}, base) == Execution(
        loop="native", torch_compile="aot_eager"
    )
    assert Execution.from_extra({}, base) == base
    with pytest.raises(ExecutionError):
        Execution.from_extra({"loop": "turbo"})
    with pytest.raises(ExecutionError):
        Execution.from_extra({"steps_per_execution": 0})


def test_uses_native_only_for_jax_and_torch_outside_float16() -> None:
    for loop in ("auto", "native"):
        execution = Execution(loop=loop)
        assert not execution.uses_native("tensorflow", "float32")
        assert not execution.uses_native("jax", "mixed_float16")
        assert not execution.uses_native("torch", "mixed_float16")
        for backend, precision in itertools.product(
            ("jax", "torch"), ("float32", "mixed_bfloat16")
        ):
            assert execution.uses_native(backend, precision), (loop, backend, precision)
    keras_loop = Execution(loop="keras", steps_per_execution=5)
    for backend in ("jax", "torch", "tensorflow"):
        assert not keras_loop.uses_native(backend, "float32")


def _chunks(spe: int, total: int, log_every: int, limit: int) -> list[tuple[int, int, int]]:
    """Every chunk of a run as train() asks for it: (epoch_start, done, count)."""
    chunks = []
    for epoch in range(math.ceil(total / spe)):
        epoch_start = epoch * spe
        steps = min(spe, total - epoch_start)
        done = 0
        while done < steps:
            count = chunk_length(epoch_start, done, steps, log_every, limit)
            chunks.append((epoch_start, done, count))
            done += count
        assert done == steps, "a chunk ran past the epoch's end"
    return chunks


def test_chunksnever_cross_a_row_or_an_epoch_end_and_are_as_long_as_allowed() -> None:
    for spe, log_every, limit, extra in itertools.product(
        (1, 3, 8, 10), (1, 2, 4, 5, 7, 100), (1, 2, 3, 4, 1000), (0, 1, 5)
    ):
        total = 3 * spe + extra % spe if spe > 1 else 3 + extra
        chunks = _chunks(spe, total, log_every, limit)
        ends = []
        for epoch_start, done, count in chunks:
            case = (spe, log_every, limit, total, epoch_start, done, count)
            steps = min(spe, total - epoch_start)
            assert 1 <= count <= limit, case
            assert done + count <= steps, case
            first, last = epoch_start + done + 1, epoch_start + done + count  # global steps
            # No row strictly inside the chunk: rows are read at chunk ends only.
            assert all(s % log_every for s in range(first, last)), case
            # Not shorter than needed: it stops at the limit, a row or the epoch's end.
            assert count == limit or last % log_every == 0 or done + count == steps, case
            ends.append(last)
        assert ends == sorted(set(ends)) and ends[-1] == total
        rows = {s for s in range(1, total + 1) if s % log_every == 0}
        epoch_ends = {min(e * spe, total) for e in range(1, math.ceil(total / spe) + 1)}
        assert rows | epoch_ends <= set(ends)


def test_chunk_length_counts_the_global_step_not_the_epochs() -> None:
    # Epoch 2 of 7 steps starts at global step 7: the next row (log_every 4) is step 8.
    assert chunk_length(7, 0, 7, 4, 1000) == 1
    assert chunk_length(7, 1, 7, 4, 1000) == 4
    assert chunk_length(7, 5, 7, 4, 1000) == 2  # the epoch ends before the row at 16


def test_chunk_limit_defaults() -> None:
    for on_cpu in (True, False):
        assert chunk_limit(Execution(steps_per_execution=7), on_cpu) == 7
        assert chunk_limit(Execution(loop="native", steps_per_execution=1), on_cpu) == 1
    # A CPU runs each step before returning anyway: one per dispatch keeps
    # progress and Ctrl-C per step. An accelerator runs up to the next row.
    assert chunk_limit(Execution(), True) == 1
    assert chunk_limit(Execution(loop="native"), True) == 1
    assert chunk_limit(Execution(), False) == ACCELERATOR_CHUNK
    assert chunk_limit(Execution(loop="native", torch_compile="off"), False) == ACCELERATOR_CHUNK


# -- the steppers: step by step against Keras -------------------------------------


@native_backends
def test_stepper_losses_equal_keras_train_on_batch_step_by_step() -> None:
    import keras

    rng = np.random.default_rng(1)
    x = rng.normal(size=(96, 4, 4, 3)).astype("float32")
    y = rng.integers(0, 10, 96).astype("int32")
    bs, steps = 8, 12
    order = rng.permutation(96)[: steps * bs]

    reference = tiny_model(3)
    want = [
        reference.train_on_batch(
            x[order[i * bs : (i + 1) * bs]], y[order[i * bs : (i + 1) * bs]], return_dict=True
        )
        for i in range(steps)
    ]
    model = tiny_model(3)
    stepper = stepper_for(Execution(loop="native", torch_compile="off"), model, x, y, bs)
    assert stepper is not None and stepper.name == keras.backend.backend()
    stepper.begin_epoch(order)
    losses: list[float] = []
    accs: list[float] = []
    for first, count in [(0, 1), (1, 4), (5, 2), (7, 5)]:  # chunks of varying length
        loss, acc = stepper.run(first, count, never)
        assert loss.shape == acc.shape == (count,)
        losses.extend(loss)
        accs.extend(acc)
    np.testing.assert_allclose(losses, [w["loss"] for w in want], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(accs, [w["acc"] for w in want], atol=1e-6)
    stepper.sync()
    assert_same_state(model, reference, "moving_mean")


@native_backends
@pytest.mark.parametrize("mode", ["window", "padded"])
def test_an_augmenting_stepper_trains_on_the_keras_loops_crops_step_by_step(mode: str) -> None:
    import keras

    rng = np.random.default_rng(4)
    raw = rng.integers(0, 256, size=(48, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 48).astype("int32")
    bs, steps, epoch = 8, 5, 1
    spec = RunSpec(
        model="mlp_1x512", steps=1, batch_size=bs, seed=2, augment=True, augment_crop=mode
    )
    data = RunData(preprocess(raw), y, preprocess(raw[:8]), y[:8], x_train_raw=raw)
    order = epoch_order(spec.seed, epoch, 48)[: steps * bs]
    images = augmented_images(spec, data, order, epoch)  # what fit() trains on
    reference = tiny_model(3, (28, 28, 3))
    want = [
        reference.train_on_batch(
            images[i * bs : (i + 1) * bs], y[order[i * bs : (i + 1) * bs]], return_dict=True
        )
        for i in range(steps)
    ]
    model = tiny_model(3, (28, 28, 3))
    stepper = make_stepper(Execution(loop="native", torch_compile="off"), model, data, spec)
    assert stepper is not None
    with pytest.raises(ValueError, match="no crops"):
        stepper.begin_epoch(order)
    with pytest.raises(ValueError, match="39 crops for an order of 40"):
        stepper.begin_epoch(order, crop_draws(spec.seed, epoch, 39, mode))
    stepper.begin_epoch(order, crop_draws(spec.seed, epoch, len(order), mode))
    losses = np.concatenate([stepper.run(0, 2, never)[0], stepper.run(2, 3, never)[0]])
    np.testing.assert_allclose(losses, [w["loss"] for w in want], rtol=1e-5, atol=1e-6)
    stepper.sync()
    for a, b in zip(model.trainable_variables, reference.trainable_variables, strict=True):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(a.value),
            keras.ops.convert_to_numpy(b.value),
            rtol=1e-4,
            atol=1e-6,
            err_msg=a.path,
        )


@native_backends
def test_the_window_crop_needs_the_raw_images() -> None:
    model = tiny_model(0, (28, 28, 3))
    x, y = np.zeros((16, 28, 28, 3), "float32"), np.zeros(16, "int32")
    spec = RunSpec(model="mlp_1x512", steps=1, batch_size=8, augment=True)
    with pytest.raises(ValueError, match="x_train_raw"):
        make_stepper(NATIVE, model, RunData(x, y, x, y), spec)
    plain: Any = stepper_for(NATIVE, model, x, y, 8)
    with pytest.raises(ValueError, match="got crops"):
        plain.begin_epoch(np.arange(16), crop_draws(0, 0, 16))


@native_backends
def test_make_stepper_leaves_the_keras_loop_to_fit() -> None:
    model = tiny_model(0)
    x, y = np.zeros((16, 4, 4, 3), "float32"), np.zeros(16, "int32")
    assert stepper_for(Execution(loop="keras"), model, x, y, 8) is None
    assert stepper_for(Execution(loop="auto"), model, x, y, 8) is not None


@pytest.mark.requires_backend("tensorflow")
def test_tensorflow_always_runs_the_keras_loop() -> None:
    model = tiny_model(0)
    x, y = np.zeros((16, 4, 4, 3), "float32"), np.zeros(16, "int32")
    for loop in LOOPS_ALL:
        assert stepper_for(Execution(loop=loop), model, x, y, 8) is None
    # "native" asked for on tensorflow still trains (through fit()).
    out, rec = run_recorded(loop_spec(steps=8), synthetic_data(raw=True), NATIVE)
    assert out.status == "completed" and [r["step"] for r in rec.rows] == [4, 8]
