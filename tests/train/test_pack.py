"""Packed runs (rethink.train.pack, steppers.lockstep): each run's numbers as if trained alone.

Runs of one model and protocol train in lockstep through one vmapped step (JAX's
`jax.vmap`, torch's `torch.func.vmap`),
each with its own loop in a thread. A packed run's rows, outcome and
checkpoints must equal the same run trained alone (same seed, same data
order) up to float rounding; a run that leaves early (stop at fit,
divergence, a failure) must not change the others' numbers.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rethink.train.outcome import Outcome, Status
from rethink.train.steppers import Execution
from tests.helpers.training import (
    Recorder,
    assert_same_rows,
    loop_spec,
    run_recorded,
    synthetic_data,
)

pytestmark = pytest.mark.requires_backend("jax", "torch")
NATIVE = Execution(loop="native")


def _packed(specs, datas, **kw):  # type: ignore[no-untyped-def]
    from rethink.train.pack import PackedRun, train_packed

    recorders = [Recorder() for _ in specs]
    runs = [PackedRun(s, d, rec) for s, d, rec in zip(specs, datas, recorders, strict=True)]
    return train_packed(runs, **kw), recorders


def _alone(spec, data):  # type: ignore[no-untyped-def]
    return run_recorded(spec, data, NATIVE)


def test_three_packed_runs_give_the_rows_of_three_runs_trained_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rethink.train.steppers.lockstep import Lockstep

    lanes_per_dispatch: list[int] = []
    dispatch = Lockstep._dispatch

    def counted(self: Lockstep) -> None:
        lanes_per_dispatch.append(len(self._active()))
        dispatch(self)

    monkeypatch.setattr(Lockstep, "_dispatch", counted)
    # Different seeds and labels (a randomization is just other data): one step for all.
    specs = [loop_spec(seed=s, steps=20, log_every=4) for s in (0, 1, 2)]
    datas = [synthetic_data(raw=False, seed=s) for s in (0, 1, 2)]
    outcomes, recorders = _packed(specs, datas, execution=Execution(steps_per_execution=4))
    # 20 steps in chunks of 4 (rows every 4, epoch ends every 8): 5 dispatches for all three.
    assert lanes_per_dispatch == [3] * 5
    monkeypatch.undo()
    for spec, data, got, rec in zip(specs, datas, outcomes, recorders, strict=True):
        assert isinstance(got, Outcome), got
        want, alone = _alone(spec, data)
        assert got.status == want.status == Status.COMPLETED
        assert_same_rows(rec.rows, alone.rows)
        assert got.train_acc == pytest.approx(want.train_acc, abs=1e-6)
        assert [c.step for c in rec.checkpoints] == [c.step for c in alone.checkpoints]
    assert outcomes[0].train_loss != outcomes[1].train_loss  # type: ignore[union-attr]


def test_augmented_runs_pack_too() -> None:
    specs = [loop_spec(seed=s, augment=True, augment_crop="window") for s in (0, 1)]
    datas = [synthetic_data(raw=True, seed=s) for s in (3, 4)]
    outcomes, recorders = _packed(specs, datas)
    for spec, data, got, rec in zip(specs, datas, outcomes, recorders, strict=True):
        assert isinstance(got, Outcome), got
        _, alone = _alone(spec, data)
        assert_same_rows(rec.rows, alone.rows)


def test_a_diverging_run_leaves_the_pack_and_the_others_keep_their_numbers() -> None:
    # The learning rate is part of the protocol the pack shares: the data diverges instead.
    calm = loop_spec(seed=0, steps=24, log_every=4)
    data = synthetic_data(seed=0)
    bad = synthetic_data(seed=1)
    bad.x_train[:] = bad.x_train * 1e30  # the first step's loss overflows
    outcomes, recorders = _packed([calm, dataclasses.replace(calm, seed=1)], [data, bad])
    assert isinstance(outcomes[1], Outcome) and outcomes[1].status == Status.DIVERGED
    assert isinstance(outcomes[0], Outcome) and outcomes[0].status == Status.COMPLETED
    _, alone = _alone(calm, data)
    assert_same_rows(recorders[0].rows, alone.rows)


def test_a_run_stopping_at_fit_leaves_while_the_other_trains_on() -> None:
    base = loop_spec(steps=40, log_every=4, stop_at_fit=True, fit_threshold=0.3)
    easy = synthetic_data(seed=5)
    easy.y_train[:] = 3  # one class: fitted within a few rows
    hard = synthetic_data(seed=6)
    specs = [base, dataclasses.replace(base, seed=1, fit_threshold=0.3)]
    outcomes, recorders = _packed(specs, [easy, hard])
    for spec, data, got, rec in zip(specs, [easy, hard], outcomes, recorders, strict=True):
        assert isinstance(got, Outcome), got
        want, alone = _alone(spec, data)
        assert got.step == want.step
        assert_same_rows(rec.rows, alone.rows)
    assert outcomes[0].step < outcomes[1].step  # type: ignore[union-attr]


def test_runs_of_different_protocols_or_start_steps_refuse_to_pack() -> None:
    from rethink.train.pack import PackedRun, PackError, check_pack

    data = synthetic_data()
    a = PackedRun(loop_spec(), data)
    with pytest.raises(PackError, match="batch_size"):
        check_pack([a, PackedRun(loop_spec(batch_size=16), data)], "jax")
    with pytest.raises(PackError, match="jax or torch backend"):
        check_pack([a], "tensorflow")
    small = synthetic_data(n=128)
    with pytest.raises(PackError, match="another shape"):
        check_pack([a, PackedRun(loop_spec(seed=1), dataclasses.replace(small))], "jax")
    # Only the randomization, its level and the seed may differ.
    check_pack([a, PackedRun(loop_spec(seed=3, corruption="random_labels"), data)], "jax")


def test_a_failing_run_ends_with_its_error_and_the_others_complete() -> None:
    specs = [loop_spec(seed=0), loop_spec(seed=1)]
    datas = [synthetic_data(seed=0), synthetic_data(seed=1)]

    class Boom(Recorder):
        def on_row(self, row):  # type: ignore[no-untyped-def]
            raise OSError("disk full")

    from rethink.train.pack import PackedRun, train_packed

    good = Recorder()
    outcomes = train_packed(
        [PackedRun(specs[0], datas[0], good), PackedRun(specs[1], datas[1], Boom())]
    )
    assert isinstance(outcomes[1], OSError)
    assert isinstance(outcomes[0], Outcome) and outcomes[0].status == Status.COMPLETED
    _, alone = _alone(specs[0], datas[0])
    assert_same_rows(good.rows, alone.rows)
    assert outcomes[0].train_loss is not None and np.isfinite(outcomes[0].train_loss)


def test_a_pack_too_large_for_the_device_is_refused_naming_the_sizes() -> None:
    from rethink.train.pack import PackedRun, PackError, check_memory, pack_bytes

    runs = [PackedRun(loop_spec(seed=s), synthetic_data()) for s in range(4)]
    each = pack_bytes(runs[:1])
    assert pack_bytes(runs) == 4 * each == 4 * (256 * 28 * 28 * 3 * 4 + 256 * 4)
    check_memory(runs, None)  # unknown (a CPU): not checked
    check_memory(runs, int(4 * each * 1.25) + 1)
    with pytest.raises(PackError, match=r"a pack of 4 runs needs .* use --pack 2"):
        check_memory(runs, int(2.5 * each * 1.25))


@pytest.mark.requires_backend("torch")
@pytest.mark.parametrize(
    ("model", "extra"),
    [
        ("inception", {"augment": True, "augment_crop": "window"}),
        ("alexnet", {"weight_decay": 5e-3}),
    ],
)
def test_torch_packs_convolutions_batchnorm_and_weight_penalties_as_alone(
    model: str, extra: dict[str, object]
) -> None:
    # torch.func.vmap of Keras's stateless_call: BatchNorm's statistics, LRN, "same"
    # max pooling, Keras's channels-last convolutions and L2 penalties, lane by lane.
    # BatchNorm's backward on 16 images cancels digits: float32 gradients differ from
    # float64 ones by ~1e-3 alone or packed, and steps amplify it (rows: losses only).
    specs = [
        loop_spec(model=model, seed=s, steps=4, log_every=2, batch_size=16, **extra) for s in (0, 1)
    ]
    datas = [synthetic_data(n=64, raw=True, seed=s) for s in (7, 8)]
    outcomes, recorders = _packed(specs, datas)
    for spec, data, got, rec in zip(specs, datas, outcomes, recorders, strict=True):
        assert isinstance(got, Outcome), got
        _, alone = _alone(spec, data)
        assert_same_rows(rec.rows, alone.rows, rel=2e-3, keys=("train_loss", "test_loss"))


@pytest.mark.requires_backend("torch")
def test_torch_refuses_to_pack_a_step_that_draws_random_numbers() -> None:
    import keras

    from rethink.train.loop import compile_model
    from rethink.train.steppers.torch_pack import check_packable

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dropout(0.5)(inputs)))
    compile_model(model, keras.optimizers.SGD(0.1, momentum=0.9), 1, 0)
    with pytest.raises(ValueError, match=r"random numbers .*dropout.*--pack off"):
        check_packable(model)
    plain = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    compile_model(plain, keras.optimizers.Adam(), 1, 0)
    with pytest.raises(ValueError, match="protocol's SGD"):
        check_packable(plain)
