"""Execution engines: Execution settings, chunking, and the native loop against fit().

The native loop (JAX and torch steppers) must train exactly what the keras
loop trains: the same rows up to float rounding, whatever the chunk length,
with weight penalties and augmentation, across checkpoints taken by either
loop, and with the same divergence step.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from rethink.data import preprocess
from rethink.data.pipeline import RunData, augmented_images, crop_draws, epoch_order
from rethink.spec import RunSpec
from rethink.train.loop import train
from rethink.train.outcome import Outcome
from rethink.train.steppers import (
    ACCELERATOR_CHUNK,
    Execution,
    ExecutionError,
    chunk_length,
    chunk_limit,
    make_stepper,
)
from tests.helpers.training import Recorder, synthetic_data, tiny_spec

KERAS = Execution(loop="keras")
NATIVE = Execution(loop="native")
# Chunks as long as rows and epoch ends allow (the default on a CPU is one step).
CHUNKED = Execution(loop="native", steps_per_execution=100)
LOOPS_ALL = ("auto", "keras", "native")
ROW_KEYS = ("lr", "train_loss", "train_acc", "test_loss", "test_acc")
native_backends = pytest.mark.requires_backend("jax", "torch")


# -- pure: settings and chunking ------------------------------------------------


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
def test_engine_rejects_unusable_settings(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ExecutionError, match=message):
        Execution(**settings)
    assert issubclass(ExecutionError, ValueError)


def test_engine_accepts_every_documented_setting() -> None:
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


def test_engine_round_trips_through_a_specs_extra_with_defaults_omitted() -> None:
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


def test_chunks_never_cross_a_row_or_an_epoch_end_and_are_as_long_as_allowed() -> None:
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


# -- training through either loop ---------------------------------------------


# 256 images (with the raw ones the window crop takes its windows from), batch 32:
# 8 steps per epoch; 22 steps end in a partial epoch.
_data = functools.partial(synthetic_data, raw=True)
_spec = functools.partial(tiny_spec, steps=22, log_every=4)


def _run(spec: RunSpec, data: RunData, execution: Execution, **kw: Any) -> tuple[Outcome, Recorder]:
    rec = Recorder(kw.pop("interrupt_after_row_step", None))
    out = train(spec, data, rec, execution=execution, **kw)
    return out, rec


def _assert_same_rows(
    got: list[dict[str, float | None]], want: list[dict[str, float | None]]
) -> None:
    assert [r["step"] for r in got] == [r["step"] for r in want]
    assert [r["epoch"] for r in got] == [r["epoch"] for r in want]
    for a, b in zip(got, want, strict=True):
        for key in ROW_KEYS:
            x, y = a[key], b[key]
            if y is None:
                assert x is None, (a["step"], key)
            elif math.isnan(y):
                assert x is not None and math.isnan(x), (a["step"], key)
            else:
                assert x == pytest.approx(y, rel=1e-4, abs=1e-5), (a["step"], key)


@pytest.fixture
def float32_afterwards() -> Any:
    """Put Keras's global dtype policy back: train() leaves the spec's in place."""
    yield
    import keras

    keras.config.set_dtype_policy("float32")


@native_backends
@pytest.mark.usefixtures("float32_afterwards")
@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"weight_decay": 5e-4},
        {"augment": True},
        {"augment": True, "augment_crop": "padded"},
        {"precision": "mixed_bfloat16", "steps": 12},
    ],
    ids=["plain", "weight_decay", "augment", "augment_padded", "bfloat16"],
)
def test_the_native_loop_gives_the_keras_loops_rows(settings: dict[str, Any]) -> None:
    spec, data = _spec(**settings), _data()
    if spec.weight_decay:  # the penalty must weigh enough for a missing one to show
        import keras

        from rethink.train.loop import build_model

        model = build_model(spec.resolved(256), (28, 28, 3), 8)
        assert float(keras.ops.convert_to_numpy(sum(model.losses))) > 0.05
    out_k, keras_rec = _run(spec, data, KERAS)
    out_n, native_rec = _run(spec, data, CHUNKED)
    assert out_n.status == out_k.status == "completed"
    assert out_n.step == out_k.step == spec.steps
    assert [r["step"] for r in native_rec.rows] == [4, 8, 12, 16, 20, 22][: len(native_rec.rows)]
    assert native_rec.rows[-1]["step"] == spec.steps
    _assert_same_rows(native_rec.rows, keras_rec.rows)
    assert [c.step for c in native_rec.checkpoints] == [c.step for c in keras_rec.checkpoints]
    # The window crop whitens in float32 on the device and in float64 on the
    # host: the images differ by rounding (~4e-7), which a ReLU at its kink can
    # turn into a different update of its unit (one column of a kernel). The
    # padded crop only moves values: the images are the same bit for bit.
    rounded_inputs = spec.augment and spec.augment_crop == "window"
    for a, b in zip(native_rec.checkpoints, keras_rec.checkpoints, strict=True):
        for x, y in zip(a.weights + a.optimizer, b.weights + b.optimizer, strict=True):
            if rounded_inputs:
                assert np.isclose(x, y, rtol=1e-4, atol=1e-5).mean() > 0.99
                np.testing.assert_allclose(x, y, rtol=0, atol=1e-3)
            else:
                np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)


@native_backends
@pytest.mark.parametrize("k", [3, 100])
def test_several_native_steps_per_dispatch_give_the_rows_of_one(k: int) -> None:
    spec, data = _spec(), _data()
    out_1, one = _run(spec, data, Execution(loop="native", steps_per_execution=1))
    out_k, many = _run(spec, data, Execution(loop="native", steps_per_execution=k))
    assert out_k.step == out_1.step == 22
    _assert_same_rows(many.rows, one.rows)
    # Progress comes once per dispatch: never more often than with one step each.
    assert set(many.progress) <= set(one.progress)
    assert {r["step"] for r in many.rows} <= set(many.progress)


@native_backends
@pytest.mark.parametrize(
    ("first", "then"),
    [(KERAS, CHUNKED), (CHUNKED, KERAS), (NATIVE, CHUNKED)],
    ids=["keras-native", "native-keras", "native1-native"],
)
def test_a_checkpoint_of_one_loop_resumes_in_the_other(first: Execution, then: Execution) -> None:
    # Rows every 5 steps, epochs of 8: the resumed chunks start between rows.
    spec, data = _spec(steps=20, log_every=5), _data()
    _, full = _run(spec, data, KERAS)
    out, part = _run(spec, data, first, interrupt_after_row_step=10)
    assert out.status == "stopped"
    assert [c.step for c in part.checkpoints] == [8]
    out2, rest = _run(spec, data, then, resume=part.checkpoints[-1])
    assert out2.status == "completed" and out2.step == 20
    resumed = [r for r in part.rows if (r["step"] or 0) <= 8] + rest.rows
    _assert_same_rows(resumed, full.rows)


@native_backends
@pytest.mark.parametrize("k", [1, 100])
def test_the_native_loop_diverges_at_the_keras_loops_step(k: int) -> None:
    # Rows only at epoch ends: a native chunk covers a whole epoch when k allows.
    spec, data = _spec(steps=24, learning_rate=1e8, log_every=24), _data()
    out_k, keras_rec = _run(spec, data, Execution(loop="keras", steps_per_execution=1))
    out_n, native_rec = _run(spec, data, Execution(loop="native", steps_per_execution=k))
    assert out_k.status == out_n.status == "diverged"
    assert out_k.diverged_at_step is not None
    if k > 1:  # divergence inside a chunk, not at its end: the stepper reports the step
        assert out_k.diverged_at_step % 8 != 0
    assert out_n.diverged_at_step == out_k.diverged_at_step
    assert out_n.step == out_k.step
    _assert_same_rows(native_rec.rows, keras_rec.rows)
    assert not math.isfinite(native_rec.rows[-1]["train_loss"] or math.nan)


@native_backends
def test_stop_at_fit_ends_both_loops_at_the_same_row() -> None:
    spec = _spec(steps=400, learning_rate=0.05, log_every=5, stop_at_fit=True)
    data = _data(128)  # 4 steps per epoch: rows and epoch ends interleave
    out_k, keras_rec = _run(spec, data, KERAS)
    out_n, native_rec = _run(spec, data, CHUNKED)
    assert out_k.steps_to_fit is not None and out_k.step == out_k.steps_to_fit < 400
    assert (out_n.status, out_n.step, out_n.steps_to_fit) == (
        out_k.status,
        out_k.step,
        out_k.steps_to_fit,
    )
    _assert_same_rows(native_rec.rows, keras_rec.rows)


@native_backends
def test_a_stop_flag_during_a_long_native_chunk_keeps_the_epoch_checkpoint() -> None:
    spec, data = _spec(steps=40, log_every=40), _data()  # one chunk per epoch
    rec = Recorder()
    calls_since_checkpoint = [0]

    def should_stop() -> bool:
        # The flag turns true during epoch 2: its first check is before the
        # epoch, the next one inside (or at the end of) the chunk.
        if rec.checkpoints:
            calls_since_checkpoint[0] += 1
        return calls_since_checkpoint[0] >= 2

    out = train(spec, data, rec, execution=CHUNKED, should_stop=should_stop)
    assert out.status == "stopped"
    assert [c.step for c in rec.checkpoints] == [8]
    assert 8 < out.step <= 16
    if keras_backend() == "torch":  # its stepper checks the flag after every step
        assert out.step == 9
    assert [r["step"] for r in rec.rows] == [8]  # no row for the interrupted epoch
    # The kept checkpoint resumes into the uninterrupted run.
    _, full = _run(spec, data, CHUNKED)
    _, rest = _run(spec, data, CHUNKED, resume=rec.checkpoints[0])
    _assert_same_rows(rec.rows + rest.rows, full.rows)


# -- the steppers themselves ----------------------------------------------------


def keras_backend() -> str:
    import keras

    return str(keras.backend.backend())


def _tiny_model(seed: int, shape: tuple[int, ...] = (4, 4, 3)) -> Any:
    """Dense, BatchNorm (non-trainable state), Dropout (random state), L2 penalty."""
    import keras

    from rethink.train.loop import seed_everything

    seed_everything(seed)
    keras.config.set_dtype_policy("float32")
    l2 = keras.regularizers.L2(1e-3)
    model = keras.Sequential(
        [
            keras.Input(shape),
            keras.layers.Flatten(),
            keras.layers.Dense(32, kernel_regularizer=l2),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(10, kernel_regularizer=l2),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
    )
    model.optimizer.build(model.trainable_variables)
    return model


def _never() -> bool:
    return False


def _stepper(
    execution: Execution, model: Any, x: np.ndarray, y: np.ndarray, batch_size: int, **spec: Any
) -> Any:
    """make_stepper on training images `x` (raw uint8 32x32 for the window crop)."""
    if spec.get("augment") and spec.get("augment_crop", "window") == "window":
        data = RunData(preprocess(x), y, preprocess(x[:1]), y[:1], x_train_raw=x)
    else:
        data = RunData(x, y, x[:1], y[:1])
    run = RunSpec(model="mlp_1x512", steps=1, batch_size=batch_size, **spec)
    return make_stepper(execution, model, data, run)


@native_backends
def test_stepper_losses_equal_keras_train_on_batch_step_by_step() -> None:
    import keras

    rng = np.random.default_rng(1)
    x = rng.normal(size=(96, 4, 4, 3)).astype("float32")
    y = rng.integers(0, 10, 96).astype("int32")
    bs, steps = 8, 12
    order = rng.permutation(96)[: steps * bs]

    reference = _tiny_model(3)
    want = [
        reference.train_on_batch(
            x[order[i * bs : (i + 1) * bs]], y[order[i * bs : (i + 1) * bs]], return_dict=True
        )
        for i in range(steps)
    ]
    model = _tiny_model(3)
    stepper = _stepper(Execution(loop="native", torch_compile="off"), model, x, y, bs)
    assert stepper is not None and stepper.name == keras.backend.backend()
    stepper.begin_epoch(order)
    losses: list[float] = []
    accs: list[float] = []
    for first, count in [(0, 1), (1, 4), (5, 2), (7, 5)]:  # chunks of varying length
        loss, acc = stepper.run(first, count, _never)
        assert loss.shape == acc.shape == (count,)
        losses.extend(loss)
        accs.extend(acc)
    np.testing.assert_allclose(losses, [w["loss"] for w in want], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(accs, [w["acc"] for w in want], atol=1e-6)
    stepper.sync()
    pairs = [
        *zip(model.variables, reference.variables, strict=True),
        *zip(model.optimizer.variables, reference.optimizer.variables, strict=True),
    ]
    assert any("moving_mean" in v.path for v, _ in pairs)
    for a, b in pairs:
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(a.value),
            keras.ops.convert_to_numpy(b.value),
            rtol=1e-4,
            atol=1e-6,
            err_msg=a.path,
        )


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
    reference = _tiny_model(3, (28, 28, 3))
    want = [
        reference.train_on_batch(
            images[i * bs : (i + 1) * bs], y[order[i * bs : (i + 1) * bs]], return_dict=True
        )
        for i in range(steps)
    ]
    model = _tiny_model(3, (28, 28, 3))
    stepper = make_stepper(Execution(loop="native", torch_compile="off"), model, data, spec)
    assert stepper is not None
    with pytest.raises(ValueError, match="no crops"):
        stepper.begin_epoch(order)
    with pytest.raises(ValueError, match="39 crops for an order of 40"):
        stepper.begin_epoch(order, crop_draws(spec.seed, epoch, 39, mode))
    stepper.begin_epoch(order, crop_draws(spec.seed, epoch, len(order), mode))
    losses = np.concatenate([stepper.run(0, 2, _never)[0], stepper.run(2, 3, _never)[0]])
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
    model = _tiny_model(0, (28, 28, 3))
    x, y = np.zeros((16, 28, 28, 3), "float32"), np.zeros(16, "int32")
    spec = RunSpec(model="mlp_1x512", steps=1, batch_size=8, augment=True)
    with pytest.raises(ValueError, match="x_train_raw"):
        make_stepper(NATIVE, model, RunData(x, y, x, y), spec)
    plain: Any = _stepper(NATIVE, model, x, y, 8)
    with pytest.raises(ValueError, match="got crops"):
        plain.begin_epoch(np.arange(16), crop_draws(0, 0, 16))


@native_backends
def test_make_stepper_leaves_the_keras_loop_to_fit() -> None:
    model = _tiny_model(0)
    x, y = np.zeros((16, 4, 4, 3), "float32"), np.zeros(16, "int32")
    assert _stepper(Execution(loop="keras"), model, x, y, 8) is None
    assert _stepper(Execution(loop="auto"), model, x, y, 8) is not None


@pytest.mark.requires_backend("tensorflow")
def test_tensorflow_always_runs_the_keras_loop() -> None:
    model = _tiny_model(0)
    x, y = np.zeros((16, 4, 4, 3), "float32"), np.zeros(16, "int32")
    for loop in LOOPS_ALL:
        assert _stepper(Execution(loop=loop), model, x, y, 8) is None
    # "native" asked for on tensorflow still trains (through fit()).
    out, rec = _run(_spec(steps=8), _data(), NATIVE)
    assert out.status == "completed" and [r["step"] for r in rec.rows] == [4, 8]


@pytest.mark.requires_backend("jax")
def test_the_jax_chunk_compiles_once_for_every_chunk_length() -> None:
    model = _tiny_model(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4, 4, 3)).astype("float32")
    y = rng.integers(0, 10, 64).astype("int32")
    stepper: Any = _stepper(NATIVE, model, x, y, 4)
    if not hasattr(stepper._chunk, "_cache_size"):
        pytest.skip("this jax has no jit cache size")
    stepper.begin_epoch(rng.permutation(64))
    for first, count in [(0, 2), (2, 5), (7, 3), (10, 6)]:
        losses, _ = stepper.run(first, count, _never)
        assert len(losses) == count and np.isfinite(losses).all()
    assert stepper._chunk._cache_size() == 1
    # A new epoch's order, even a partial epoch's shorter one, reuses it.
    stepper.begin_epoch(rng.permutation(64))
    stepper.run(0, 4, _never)
    stepper.begin_epoch(rng.permutation(64)[:40])
    losses, _ = stepper.run(0, 10, _never)
    assert len(losses) == 10 and np.isfinite(losses).all()
    assert stepper._chunk._cache_size() == 1


@pytest.mark.requires_backend("jax")
@pytest.mark.parametrize("mode", ["window", "padded"])
def test_the_jax_chunk_compiles_once_across_augmented_epochs(mode: str) -> None:
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 256, size=(64, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 64).astype("int32")
    x = raw if mode == "window" else preprocess(raw)
    model = _tiny_model(0, (28, 28, 3))
    stepper = _stepper(NATIVE, model, x, y, 4, augment=True, augment_crop=mode)
    if not hasattr(stepper._chunk, "_cache_size"):
        pytest.skip("this jax has no jit cache size")
    # Every epoch has new crops; the last one is partial (40 of 64 images).
    for epoch, k in [(0, 64), (1, 64), (2, 40)]:
        order = epoch_order(0, epoch, 64)[:k]
        stepper.begin_epoch(order, crop_draws(0, epoch, k, mode))
        for first, count in [(0, 2), (2, 5), (7, 3)]:
            losses, _ = stepper.run(first, count, _never)
            assert len(losses) == count and np.isfinite(losses).all()
    assert stepper._chunk._cache_size() == 1


@pytest.mark.requires_backend("jax")
def test_a_jax_chunk_longer_than_its_buffers_is_split(monkeypatch: pytest.MonkeyPatch) -> None:
    from rethink.train.steppers import jax_stepper

    rng = np.random.default_rng(2)
    x = rng.normal(size=(48, 4, 4, 3)).astype("float32")
    y = rng.integers(0, 10, 48).astype("int32")
    order = rng.permutation(48)
    single: Any = _stepper(NATIVE, _tiny_model(5), x, y, 4)
    single.begin_epoch(order)
    want = np.concatenate([single.run(i, 1, _never)[0] for i in range(11)])
    monkeypatch.setattr(jax_stepper, "BUFFER", 4)
    split: Any = _stepper(NATIVE, _tiny_model(5), x, y, 4)
    split.begin_epoch(order)
    got = np.concatenate([split.run(0, 10, _never)[0], split.run(10, 1, _never)[0]])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # A stop flag is honoured between buffers: at least one, never all of them.
    split.begin_epoch(order)
    assert 1 <= len(split.run(0, 10, lambda: True)[0]) < 10


# -- torch.compile ----------------------------------------------------------------


@pytest.mark.requires_backend("torch")
@pytest.mark.parametrize("settings", [{}, {"augment": True}], ids=["plain", "augment"])
def test_torch_compile_trains_what_eager_trains(settings: dict[str, Any]) -> None:
    spec, data = _spec(steps=10, log_every=5, **settings), _data()
    messages: list[str] = []
    _, eager = _run(spec, data, Execution(loop="native", torch_compile="off"))
    out, compiled = _run(
        spec, data, Execution(loop="native", torch_compile="aot_eager"), log=messages.append
    )
    assert out.status == "completed" and out.step == 10
    assert messages == []  # no fallback: the compiled step ran
    _assert_same_rows(compiled.rows, eager.rows)


@pytest.mark.requires_backend("torch")
def test_a_failing_torch_compile_falls_back_to_eager_with_one_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    spec, data = _spec(steps=10, log_every=5), _data()
    _, eager = _run(spec, data, Execution(loop="native", torch_compile="off"))
    requested: list[str] = []

    def fake_compile(fn: Callable[..., Any], backend: str = "", **kw: Any) -> Callable[..., Any]:
        requested.append(backend)

        def compiled(*args: Any) -> Any:
            fn(*args)  # a whole step's updates happen, then compilation "fails"
            raise RuntimeError("backend exploded\nsecond line")

        return compiled

    monkeypatch.setattr(torch, "compile", fake_compile)
    messages: list[str] = []
    out, fallback = _run(
        spec, data, Execution(loop="native", torch_compile="aot_eager"), log=messages.append
    )
    assert requested == ["aot_eager"]
    assert out.status == "completed" and out.step == 10
    assert len(messages) == 1
    assert "aot_eager" in messages[0] and "backend exploded" in messages[0]
    assert "second line" not in messages[0]
    # The failed step's updates were undone: training is exactly the eager run.
    _assert_same_rows(fallback.rows, eager.rows)


@pytest.mark.requires_backend("torch")
@pytest.mark.parametrize("momentum", [0.9, 0.0])
def test_the_torch_sgd_update_is_kerass_apply(momentum: float) -> None:
    """SgdUpdate keeps the learning rate on the device; it must update exactly as
    Keras's own apply: weights, velocities, iterations, across a schedule's decay."""
    import keras
    import torch

    from rethink.train.steppers.torch_stepper import SgdUpdate

    def model_and_optimizer() -> tuple[Any, Any]:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4), keras.layers.Dense(3)])
        lr = keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5, staircase=True)
        optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
        optimizer.build(model.trainable_variables)
        return model, optimizer

    (ours, opt_ours), (theirs, opt_theirs) = model_and_optimizer(), model_and_optimizer()
    assert SgdUpdate.supports(opt_ours, ours.trainable_variables)
    update = SgdUpdate(opt_ours, list(ours.trainable_variables))
    rng = np.random.default_rng(1)
    for _ in range(5):  # the rate halves after steps 2 and 4
        grads = [
            torch.as_tensor(rng.standard_normal(v.shape), dtype=torch.float32)
            for v in ours.trainable_variables
        ]
        with torch.no_grad():
            update([g.clone() for g in grads])
            opt_theirs.apply([g.clone() for g in grads], theirs.trainable_variables)
    assert int(opt_ours.iterations.value) == int(opt_theirs.iterations.value) == 5
    for a, b in zip(
        opt_ours.variables + ours.weights, opt_theirs.variables + theirs.weights, strict=True
    ):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), rtol=1e-6, atol=1e-7
        )
    # What it does not do (clipping, here), it leaves to Keras's apply.
    clipped = keras.optimizers.SGD(learning_rate=0.1, momentum=momentum, clipnorm=1.0)
    assert not SgdUpdate.supports(clipped, ours.trainable_variables)


@pytest.mark.requires_backend("torch")
def test_the_compiled_torch_step_breaks_only_at_backward() -> None:
    """Every graph break splits the compiled step; a host read of the learning rate
    (Keras's SGD passes it as a Python number) also stops the host from queueing
    the next step while the GPU runs this one: half the speed on an H200."""
    import keras
    import torch
    import torch._dynamo

    from rethink.train.loop import build_model
    from rethink.train.steppers.torch_stepper import TorchStepper, _dynamo_friendly

    # The protocol's optimizer on a small model with BatchNorm (as Inception's),
    # whose layers broke the graph once too (see _dynamo_friendly).
    data = synthetic_data(64)
    compiled = build_model(_spec().resolved(64), data.x_train.shape[1:], 8)
    model = keras.Sequential(
        [
            keras.Input(data.x_train.shape[1:]),
            keras.layers.Conv2D(4, 3, padding="same"),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ]
    )
    model.compile(optimizer=type(compiled.optimizer).from_config(compiled.optimizer.get_config()))
    model.optimizer.build(model.trainable_variables)
    stepper = TorchStepper(model, data.x_train, data.y_train, 8, "off")
    _dynamo_friendly(model)
    batch = (stepper.x[:8], stepper.y[:8])
    explained = torch._dynamo.explain(stepper._eager_step)(*batch)
    reasons = [str(b.reason).splitlines()[0] for b in explained.break_reasons]
    assert explained.graph_break_count == 1, reasons
    assert "backward" in reasons[0]
