"""The native torch stepper (rethink.train.steppers.torch_stepper): torch.compile, its
fallback, the SGD update that keeps the learning rate on the device, graph breaks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from rethink.train.steppers import Execution
from tests.helpers.training import assert_same_rows, loop_spec, run_recorded, synthetic_data

pytestmark = pytest.mark.requires_backend("torch")


@pytest.mark.parametrize("settings", [{}, {"augment": True}], ids=["plain", "augment"])
def test_torch_compile_trains_what_eager_trains(settings: dict[str, Any]) -> None:
    spec, data = loop_spec(steps=10, log_every=5, **settings), synthetic_data(raw=True)
    messages: list[str] = []
    _, eager = run_recorded(spec, data, Execution(loop="native", torch_compile="off"))
    out, compiled = run_recorded(
        spec, data, Execution(loop="native", torch_compile="aot_eager"), log=messages.append
    )
    assert out.status == "completed" and out.step == 10
    assert messages == []  # no fallback: the compiled step ran
    assert_same_rows(compiled.rows, eager.rows)


def test_a_failing_torch_compile_falls_back_to_eager_with_one_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    spec, data = loop_spec(steps=10, log_every=5), synthetic_data(raw=True)
    _, eager = run_recorded(spec, data, Execution(loop="native", torch_compile="off"))
    requested: list[str] = []

    def fake_compile(fn: Callable[..., Any], backend: str = "", **kw: Any) -> Callable[..., Any]:
        requested.append(backend)

        def compiled(*args: Any) -> Any:
            fn(*args)  # a whole step's updates happen, then compilation "fails"
            raise RuntimeError("backend exploded\nsecond line")

        return compiled

    monkeypatch.setattr(torch, "compile", fake_compile)
    messages: list[str] = []
    out, fallback = run_recorded(
        spec, data, Execution(loop="native", torch_compile="aot_eager"), log=messages.append
    )
    assert requested == ["aot_eager"]
    assert out.status == "completed" and out.step == 10
    assert len(messages) == 1
    assert "aot_eager" in messages[0] and "backend exploded" in messages[0]
    assert "second line" not in messages[0]
    # The failed step's updates were undone: training is exactly the eager run.
    assert_same_rows(fallback.rows, eager.rows)


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
    compiled = build_model(loop_spec().resolved(64), data.x_train.shape[1:], 8)
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
