"""Each example's history: hand-made sequences, the steps' own predictions, both loops, resume."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pytest

from rethink.data.pipeline import RunData
from rethink.data.randomization import corrupt_labels, label_changes, replaced_labels
from rethink.train.checkpoint import Checkpoint
from rethink.train.examples import ExampleHistory, forgetting_counts
from rethink.train.steppers import Execution
from tests.helpers.training import Recorder, loop_spec, never, stepper_for, synthetic_data

native_backends = pytest.mark.requires_backend("jax", "torch")


class Examples(Recorder):
    """Also keeps the example histories the loop hands over."""

    def __init__(self, interrupt_after_row_step: int | None = None) -> None:
        super().__init__(interrupt_after_row_step)
        self.examples: list[dict[str, np.ndarray]] = []

    def on_examples(self, arrays: dict[str, np.ndarray]) -> None:
        self.examples.append(arrays)


def test_forgetting_counts_and_learned_steps_on_a_hand_made_sequence() -> None:
    # Three examples, one per step, visited at steps 1..5 (example e at step v*3+e+1 ...):
    # every "epoch" of 3 steps visits each once; `correct[v, e]` at visit v.
    correct = np.array(
        [[0, 1, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=bool
    )  # example 0: learned, forgotten, learned; 1: forgotten once; 2: forgotten at visit 1
    y = np.array([4, 5, 6])
    history = ExampleHistory(y, spe=3, epochs=5)
    for v, row in enumerate(correct):
        preds = np.where(row, y, (y + 1) % 10)
        for e in range(3):  # one example per step
            history.record(v * 3 + e + 1, np.array([[e]]), preds[e : e + 1, None])
    assert history.forgotten.tolist() == forgetting_counts(correct).tolist() == [1, 1, 1]
    steps = np.arange(15).reshape(5, 3) + 1  # the step of visit v of example e
    assert history.first_learned.tolist() == [steps[1, 0], steps[0, 1], steps[0, 2]]
    assert history.learned_for_good.tolist() == [steps[3, 0], steps[4, 1], steps[2, 2]]
    assert history.visits.tolist() == [5, 5, 5]
    # Gaps of exactly one epoch: every revisit falls in bin 10 of its epoch.
    assert history.gap_visits[:, 10].tolist() == [0, 3, 3, 3, 3]
    assert history.gap_retained.sum() == np.sum(correct[:-1] & correct[1:])


def test_never_learned_and_wrong_at_the_end_are_minus_one() -> None:
    history = ExampleHistory(np.array([1, 2]), spe=1, epochs=2)
    history.record(1, np.array([[0, 1]]), np.array([[1, 0]]))
    history.record(2, np.array([[0, 1]]), np.array([[0, 0]]))
    assert history.first_learned.tolist() == [1, -1]
    assert history.learned_for_good.tolist() == [-1, -1]
    assert history.forgotten.tolist() == [1, 0]


def _corrupted(n: int, level: float, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    original = rng.integers(0, 10, n).astype(np.int32)
    stream = np.random.default_rng([seed, zlib.crc32(b"partial_labels")])
    trained = corrupt_labels(original, level, stream)
    return original, trained, replaced_labels(n, "partial_labels", level, seed)  # type: ignore[return-value]


def test_the_changed_split_follows_the_randomizations_own_record() -> None:
    original, trained, replaced = _corrupted(5000, 0.4)
    changed, kept = label_changes(original, trained, replaced)
    assert np.array_equal(changed, original != trained)
    assert not np.any(changed & ~replaced)  # nothing changes that was not redrawn
    # Redrawn as its own class (about 1 in 10 of the redrawn): kept.
    same = replaced & (original == trained)
    assert 0 < same.sum() < replaced.sum() / 5 and np.all(kept[same])
    assert replaced_labels(10, "true_labels") is None
    assert replaced_labels(10, "random_labels", level=0.1).all()
    with pytest.raises(ValueError, match="replaced none"):
        label_changes(original, trained, np.zeros_like(replaced))


def test_window_columns_recompute_from_the_predictions() -> None:
    original, trained, replaced = _corrupted(64, 0.5)
    history = ExampleHistory(trained, spe=2, epochs=1, y_original=original, replaced=replaced)
    preds = np.random.default_rng(1).integers(0, 10, (2, 32))
    indices = np.random.default_rng(2).permutation(64).reshape(2, 32)
    history.record(1, indices, preds)
    row = history.close_window()
    idx, p = indices.ravel(), preds.ravel()
    changed = original[idx] != trained[idx]
    assert row["train_acc_changed"] == pytest.approx(np.mean(p[changed] == trained[idx][changed]))
    assert row["train_acc_kept"] == pytest.approx(np.mean(p[~changed] == trained[idx][~changed]))
    assert row["train_orig_changed"] == pytest.approx(np.mean(p[changed] == original[idx][changed]))
    assert history.close_window()["train_acc_kept"] is None  # an empty window
    assert ExampleHistory(trained, 2, 1).close_window()["train_acc_kept"] is None


def test_state_round_trips() -> None:
    original, trained, replaced = _corrupted(64, 0.5)
    history = ExampleHistory(trained, spe=2, epochs=2, y_original=original, replaced=replaced)
    history.record(1, np.arange(64).reshape(2, 32), np.zeros((2, 32), int))
    again = ExampleHistory.from_state(history.state())
    for key, value in history.state().items():
        assert np.array_equal(again.state()[key], value), key
    with pytest.raises(ValueError, match="without"):
        ExampleHistory.from_state({"header": np.zeros(4)})


def _plain_model(seed: int) -> Any:
    """Dense-ReLU-Dense, no dropout or batch statistics: its training-mode logits are a
    function of the weights and the batch alone, so NumPy can recompute them."""
    import keras

    from rethink.train.loop import seed_everything

    seed_everything(seed)
    keras.config.set_dtype_policy("float32")
    model = keras.Sequential(
        [
            keras.Input((4, 4, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(16),
            keras.layers.ReLU(),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.5, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
    )
    model.optimizer.build(model.trainable_variables)
    return model


@native_backends
def test_native_step_predictions_equal_numpy_from_the_weights_before_each_step() -> None:
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4, 4, 3)).astype("float32")
    y = rng.integers(0, 10, 64).astype("int32")
    model = _plain_model(1)
    stepper = stepper_for(Execution(loop="native"), model, x, y, 16)
    order = rng.permutation(64)
    stepper.begin_epoch(order)
    for i in range(4):
        stepper.sync()
        w = [keras.ops.convert_to_numpy(v.value) for v in model.trainable_variables]
        xb = x[order[i * 16 : (i + 1) * 16]].reshape(16, -1)
        logits = np.maximum(xb @ w[0] + w[1], 0) @ w[2] + w[3]
        stepper.run(i, 1, never)
        assert stepper.predictions.shape == (1, 16)
        assert stepper.predictions[0].tolist() == np.argmax(logits, axis=1).tolist()


def corrupted_data(n: int = 256) -> RunData:
    data = synthetic_data(n)
    original = np.asarray(data.y_train)
    replaced = np.random.default_rng(5).random(n) < 0.5
    trained = np.where(replaced, np.random.default_rng(6).integers(0, 10, n), original)
    return RunData(
        data.x_train,
        trained.astype(np.int32),
        data.x_test,
        data.y_test,
        y_original=original,
        replaced=replaced,
    )


@pytest.mark.parametrize("loop", ["keras", "native"])
def test_rows_carry_the_split_and_the_loop_hands_over_the_history(loop: str) -> None:
    import keras

    if loop == "native" and keras.backend.backend() not in ("jax", "torch"):
        pytest.skip("no native loop on this backend")
    data = corrupted_data()
    rec = Examples()
    out = _train(loop_spec(), data, rec, Execution(loop=loop))
    assert out.status == "completed"
    final = rec.examples[-1]
    assert int(final["header"][3]) == 22  # the last step recorded
    assert final["visits"].sum() == 22 * 32
    assert np.array_equal(final["changed"], data.y_original != data.y_train)  # type: ignore[operator]
    windows = [r for r in rec.rows if r["window"]]
    assert all(r["train_acc_changed"] is not None for r in windows)
    # The kept and changed accuracies, weighted by their shares, give the window's.
    for r in windows:
        assert min(r["train_acc_changed"], r["train_acc_kept"]) - 1e-9 <= r["train_acc"]  # type: ignore[type-var, operator]
        assert r["train_acc"] <= max(r["train_acc_changed"], r["train_acc_kept"]) + 1e-9  # type: ignore[type-var, operator]
    assert [c.examples["header"][3] for c in rec.checkpoints] == [8, 16]


def _train(spec: Any, data: RunData, rec: Recorder, execution: Execution, **kw: Any) -> Any:
    from rethink.train.loop import train

    return train(spec, data, rec, execution=execution, **kw)


def test_keras_and_native_loops_record_the_same_history() -> None:
    import keras

    if keras.backend.backend() not in ("jax", "torch"):
        pytest.skip("no native loop on this backend")
    data = corrupted_data()
    got = {}
    for loop, k in (("keras", 2), ("native", 4)):
        rec = Examples()
        _train(loop_spec(), data, rec, Execution(loop=loop, steps_per_execution=k))
        got[loop] = rec.examples[-1]
    a, b = got["keras"], got["native"]
    assert np.array_equal(a["visits"], b["visits"])
    # Equal up to argmax ties broken differently by float rounding.
    assert np.mean(a["first_learned"] == b["first_learned"]) > 0.97
    assert np.mean(a["forgotten"] == b["forgotten"]) > 0.97


def test_resume_restores_the_history_exactly() -> None:
    data = corrupted_data()
    spec = loop_spec()
    full = Examples()
    _train(spec, data, full, Execution())
    first = Examples(interrupt_after_row_step=12)  # after the checkpoint at step 8
    assert _train(spec, data, first, Execution()).status == "stopped"
    ckpt = first.checkpoints[-1]
    assert ckpt.step == 8
    second = Examples()
    _train(spec, data, second, Execution(), resume=Checkpoint(**vars(ckpt)))
    want, got = full.examples[-1], second.examples[-1]
    assert set(got) == set(want)
    for key in want:
        assert np.array_equal(got[key], want[key]), key


@pytest.mark.requires_backend("jax")
def test_packed_runs_record_the_histories_of_runs_trained_alone() -> None:
    from rethink.train.pack import PackedRun, train_packed

    specs = [loop_spec(seed=s) for s in (0, 1)]
    datas = [corrupted_data(), synthetic_data(seed=1)]
    packed = [Examples(), Examples()]
    runs = [PackedRun(s, d, r) for s, d, r in zip(specs, datas, packed, strict=True)]
    outcomes = train_packed(runs, execution=Execution(steps_per_execution=4))
    assert all(getattr(o, "status", None) == "completed" for o in outcomes)
    for spec, data, rec in zip(specs, datas, packed, strict=True):
        alone = Examples()
        _train(spec, data, alone, Execution(loop="native", steps_per_execution=4))
        a, b = rec.examples[-1], alone.examples[-1]
        assert set(a) == set(b) and np.array_equal(a["visits"], b["visits"])
        assert np.mean(a["first_learned"] == b["first_learned"]) > 0.97
        assert ("changed" in a) == (data.y_original is not None)
