"""The torch step as one CUDA graph (rethink.train.steppers.torch_graph, `--torch-compile
graph`): no host read inside a step, updates equal to the eager step and to Keras's own
training over many steps, the native loop's rows. On a CPU the same step runs uncaptured;
on a CUDA GPU the last test also replays the captured graph (examples/gpu_check.sh)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from rethink.data.pipeline import crop_draws, epoch_order
from rethink.spec import RunSpec
from rethink.train.steppers import Execution
from tests.helpers.training import (
    assert_same_rows,
    assert_same_state,
    loop_spec,
    never,
    run_recorded,
    stepper_for,
    synthetic_data,
    tiny_model,
)

pytestmark = pytest.mark.requires_backend("torch")

GRAPH = Execution(loop="native", torch_compile="graph")
EAGER = Execution(loop="native", torch_compile="off")
HOST_READS = ("item", "cpu", "numpy", "tolist", "__bool__", "__int__", "__float__", "__index__")


class HostRead(AssertionError):
    """A step read a tensor back to the host or built one from host values."""


@contextlib.contextmanager
def no_host_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Inside: every way a step could read the device (`.item()`, `.cpu()`, `bool()` of a
    tensor ...) or build a tensor from Python numbers or NumPy (`torch.tensor`,
    `torch.as_tensor` of a non-tensor, ...) raises HostRead."""
    import torch

    with monkeypatch.context() as m:
        for name in HOST_READS:

            def read(self: Any, *args: Any, _name: str = name, **kw: Any) -> Any:
                raise HostRead(f"Tensor.{_name} inside the step")

            m.setattr(torch.Tensor, name, read)
        as_tensor = torch.as_tensor

        def built(x: Any, *args: Any, **kw: Any) -> Any:
            if isinstance(x, torch.Tensor):
                return as_tensor(x, *args, **kw)  # a view or a cast: no host data
            raise HostRead(f"torch.as_tensor({x!r:.40}) inside the step")

        m.setattr(torch, "as_tensor", built)
        for name in ("tensor", "from_numpy", "scalar_tensor"):

            def forbidden(*args: Any, _name: str = name, **kw: Any) -> Any:
                raise HostRead(f"torch.{_name} inside the step")

            m.setattr(torch, name, forbidden)
        yield


def protocol_model(name: str, seed: int = 0, spe: int = 4, **spec: Any) -> Any:
    """`name` compiled as a run builds it: SGD with momentum, the staircase decay."""
    from rethink.train.loop import build_model

    run = RunSpec(model=name, steps=1, batch_size=8, seed=seed, **spec).resolved(64)
    return build_model(run, (28, 28, 3), spe)


@pytest.mark.parametrize(
    ("name", "augment"),
    [
        ("mlp_1x512", None),
        ("mlp_3x512", "window"),
        ("alexnet", "padded"),
        pytest.param("inception", "window", marks=pytest.mark.slow),
        pytest.param("inception_no_bn", None, marks=pytest.mark.slow),
    ],
)
def test_the_graph_step_reads_nothing_back_to_the_host(
    monkeypatch: pytest.MonkeyPatch, name: str, augment: str | None
) -> None:
    """What a CUDA graph cannot capture (and what stalls the host on a GPU) raises here:
    the paper's models, their decay schedule and the device-side crops step without it."""
    import torch

    from rethink.data import preprocess
    from rethink.train.steppers.torch_stepper import TorchStepper

    rng = np.random.default_rng(0)
    raw = rng.integers(0, 256, size=(32, 32, 32, 3), dtype=np.uint8)
    x = raw if augment == "window" else preprocess(raw)
    y = rng.integers(0, 10, 32)
    model = protocol_model(name, spe=2, weight_decay=5e-4)  # penalties too
    stepper = TorchStepper(model, x, y, 8, "graph", augment=augment, crop=(28, 28))
    assert stepper.graph is not None
    crops = crop_draws(0, 0, 32, augment) if augment else None
    stepper.begin_epoch(rng.permutation(32), crops)
    before = [v.value.detach().clone() for v in model.trainable_variables]
    with no_host_reads(monkeypatch):
        for _ in range(3):  # across the schedule's first decay (2 steps per epoch)
            stepper.graph.step()
    assert int(model.optimizer.iterations.value) == 3
    assert all(
        not torch.equal(a, v.value) for a, v in zip(before, model.trainable_variables, strict=True)
    )
    losses = stepper.graph.losses[:3].numpy()
    assert np.all(np.isfinite(losses)) and np.all(losses > 0)
    # The same guard catches the eager step: Keras's L2 penalty builds its factor from a number.
    eager_model = protocol_model(name, weight_decay=5e-4)
    eager = TorchStepper(eager_model, x, y, 8, "off", augment=augment, crop=(28, 28))
    batch = (eager.x[:8], eager.y[:8], *[c[:8] for c in torch_crops(crops)])
    with no_host_reads(monkeypatch), pytest.raises(HostRead):
        eager._eager_step(*batch)


def torch_crops(crops: Any) -> list[Any]:
    import torch

    return [] if crops is None else [torch.as_tensor(a) for a in (crops.dy, crops.dx, crops.flip)]


def test_the_device_learning_rate_is_kerass_schedule_at_every_step() -> None:
    import keras
    import torch

    from rethink.train.steppers.torch_update import device_learning_rate

    for staircase in (True, False):
        schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 7, 0.95, staircase=staircase)
        optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
        optimizer.build([keras.Variable(np.zeros(3, "float32"))])
        rate = device_learning_rate(optimizer)
        assert rate is not None
        for step in [*range(30), 6999, 7000, 7001, 24_999]:  # epoch ends included
            optimizer.iterations.assign(step)
            want = keras.ops.convert_to_numpy(schedule(step))
            assert rate().dtype == torch.float32
            assert float(rate()) == float(want), (staircase, step)
    constant = keras.optimizers.SGD(learning_rate=0.05)
    constant.build([keras.Variable(np.zeros(3, "float32"))])
    rate = device_learning_rate(constant)
    assert rate is not None and float(rate()) == pytest.approx(0.05)
    other = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.PiecewiseConstantDecay([5], [0.1, 0.01]))  # fmt: skip
    other.build([keras.Variable(np.zeros(3, "float32"))])
    assert device_learning_rate(other) is None  # Keras evaluates it (eagerly)


def schedule_model(seed: int) -> Any:
    """`tiny_model` (BatchNorm, Dropout, L2) with the protocol's staircase decay, fast."""
    import keras

    model = tiny_model(seed)
    lr = keras.optimizers.schedules.ExponentialDecay(0.05, 8, 0.5, staircase=True)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
    )
    model.optimizer.build(model.trainable_variables)
    return model


def test_graph_updates_equal_eager_updates_and_kerass_training_over_many_steps() -> None:
    """Five epochs of 8 steps (the rate halving at each epoch end), in chunks of every
    length: the graph step's losses, weights, moving statistics and optimizer state
    are Keras's `train_on_batch` and the eager step's, to float rounding."""

    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4, 4, 3)).astype("float32")
    y = rng.integers(0, 10, 64).astype("int32")
    bs, epochs = 8, 5
    orders = [epoch_order(0, e, 64) for e in range(epochs)]
    reference = schedule_model(3)
    want = [
        reference.train_on_batch(x[o[i * bs : (i + 1) * bs]], y[o[i * bs : (i + 1) * bs]])[0]
        for o in orders
        for i in range(8)
    ]
    results = {}
    for name, execution in (("graph", GRAPH), ("eager", EAGER)):
        model = schedule_model(3)
        stepper = stepper_for(execution, model, x, y, bs)
        assert stepper.compile_mode == ("graph" if name == "graph" else "off")
        losses: list[float] = []
        for order in orders:
            stepper.begin_epoch(order)
            for first, count in [(0, 1), (1, 4), (5, 3)]:
                loss, acc = stepper.run(first, count, never)
                assert loss.shape == acc.shape == (count,)
                losses.extend(loss)
        stepper.sync()
        results[name] = (model, losses)
        np.testing.assert_allclose(losses, want, rtol=1e-5, atol=1e-6, err_msg=name)
    graph_model, eager_model = results["graph"][0], results["eager"][0]
    assert int(graph_model.optimizer.iterations.value) == epochs * 8
    for other in (eager_model, reference):
        assert_same_state(graph_model, other, "moving_variance")


@pytest.mark.parametrize("settings", [{}, {"augment": True}], ids=["plain", "augment"])
def test_the_graph_path_gives_the_native_loops_rows(settings: dict[str, Any]) -> None:
    spec, data = loop_spec(**settings), synthetic_data(raw=True)
    messages: list[str] = []
    _, eager = run_recorded(spec, data, EAGER)
    out, graph = run_recorded(spec, data, GRAPH, log=messages.append)
    assert out.status == "completed" and out.step == spec.steps
    assert messages == []  # the graph step ran: no fallback
    assert_same_rows(graph.rows, eager.rows)
    # Several steps per chunk (a GPU's default) read the buffers once per chunk.
    _, chunked = run_recorded(
        spec, data, Execution(loop="native", torch_compile="graph", steps_per_execution=4)
    )
    assert_same_rows(chunked.rows, eager.rows)


def test_the_graph_falls_back_to_eager_for_an_optimizer_it_cannot_keep_on_the_device() -> None:
    import keras

    model = tiny_model(0)
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, clipnorm=1.0), loss="mse")
    model.optimizer.build(model.trainable_variables)
    messages: list[str] = []
    x, y = np.zeros((16, 4, 4, 3), "float32"), np.zeros(16, "int32")
    from rethink.train.steppers.torch_stepper import TorchStepper

    stepper = TorchStepper(model, x, y, 8, "graph", log=messages.append)
    assert stepper.graph is None and stepper.compile_mode == "off"
    assert len(messages) == 1 and "graph" in messages[0]
    stepper.begin_epoch(np.arange(16))
    loss, _ = stepper.run(0, 2, never)
    assert loss.shape == (2,) and np.all(np.isfinite(loss))


def test_a_stop_request_ends_the_chunk_with_the_steps_done() -> None:
    model = schedule_model(0)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 4, 4, 3)).astype("float32")
    y = rng.integers(0, 10, 64).astype("int32")
    stepper = stepper_for(GRAPH, model, x, y, 8)
    stepper.begin_epoch(np.arange(64))
    calls = iter([False, False, True])
    loss, acc = stepper.run(0, 8, lambda: next(calls))
    assert loss.shape == acc.shape == (3,)
    assert int(model.optimizer.iterations.value) == 3


def test_100_replayed_steps_equal_100_eager_steps_on_a_gpu() -> None:
    """The captured graph itself (skipped without CUDA; examples/gpu_check.sh runs it)."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU: the CPU runs the same step uncaptured")
    from rethink.data import preprocess
    from rethink.train.steppers.torch_stepper import TorchStepper

    rng = np.random.default_rng(3)
    raw = rng.integers(0, 256, size=(128 * 25, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, len(raw))
    for name in ("inception", "alexnet", "mlp_3x512"):
        runs = {}
        for mode in ("graph", "off"):
            model = protocol_model(name, spe=25)
            messages: list[str] = []
            stepper = TorchStepper(model, preprocess(raw), y, 128, mode, messages.append)
            losses = []
            for epoch in range(4):
                stepper.begin_epoch(epoch_order(0, epoch, len(y)))
                losses.append(stepper.run(0, 25, never)[0])
            assert messages == [], messages
            if mode == "graph":
                assert stepper.graph is not None and stepper.graph.graph is not None
            runs[mode] = (np.concatenate(losses), [v.value.cpu().numpy() for v in model.weights])
        np.testing.assert_allclose(runs["graph"][0], runs["off"][0], rtol=2e-3, atol=2e-4)
        for a, b in zip(runs["graph"][1], runs["off"][1], strict=True):
            np.testing.assert_allclose(a, b, rtol=2e-2, atol=2e-3, err_msg=name)


def test_env_json_says_torch_computes_float32_as_jax_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """JAX's default on a GPU is TF32 for matmuls and convolutions; torch's is not (its
    matmuls are full float32): training sets torch's (`apply`), env.json says which."""
    import torch

    from rethink.base import frameworks
    from rethink.base.platform import describe_environment

    if not torch.cuda.is_available():
        assert describe_environment("torch")["float32_precision"] == "cpu"
    matmul, conv = torch.backends.cuda.matmul, torch.backends.cudnn.conv
    saved = matmul.fp32_precision, conv.fp32_precision
    monkeypatch.setattr(frameworks, "on_cpu", lambda backend: False)  # as on a GPU
    try:
        matmul.fp32_precision = conv.fp32_precision = "ieee"
        assert frameworks.float32_precision("torch") == "ieee"  # describing changes nothing
        assert frameworks.float32_precision("torch", apply=True) == "tf32"
        assert (matmul.fp32_precision, conv.fp32_precision) == ("tf32", "tf32")
        assert describe_environment("torch")["float32_precision"] == "tf32"
    finally:
        matmul.fp32_precision, conv.fp32_precision = saved


def test_graph_is_a_torch_compile_choice_and_what_auto_runs_on_cuda() -> None:
    import torch

    from rethink.cli.options import TorchCompile
    from rethink.train.steppers.torch_stepper import resolve_compile

    assert "graph" in [c.value for c in TorchCompile]  # type: ignore[attr-defined]
    execution = Execution(torch_compile="graph")
    assert Execution.from_extra(execution.to_extra()) == execution
    assert resolve_compile("auto", torch.device("cuda")) == "graph"
    assert resolve_compile("auto", torch.device("cpu")) == "off"
    assert resolve_compile("graph", torch.device("cpu")) == "graph"  # uncaptured there
