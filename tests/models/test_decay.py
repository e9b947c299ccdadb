"""Which layers weight decay applies to: every kernel, or only the hidden dense layers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from rethink.models import MODELS, REGISTRY, build
from rethink.train import train
from tests.helpers.training import Recorder, synthetic_data, tiny_spec

WITH_HIDDEN_DENSE = [m for m in MODELS if REGISTRY[m].hidden_dense]


def decayed_layers(model: keras.Model) -> list[str]:
    return [
        layer.name
        for layer in model.layers
        if getattr(layer, "kernel_regularizer", None) is not None
    ]


def squared(model: keras.Model, names: list[str]) -> float:
    return sum(
        float(np.sum(np.square(keras.ops.convert_to_numpy(model.get_layer(n).kernel))))
        for n in names
    )


def test_the_registry_knows_which_models_have_hidden_dense_layers() -> None:
    assert WITH_HIDDEN_DENSE == ["alexnet", "mlp_1x512", "mlp_3x512"]
    assert [REGISTRY[m].hidden_dense for m in WITH_HIDDEN_DENSE] == [2, 1, 3]


@pytest.mark.parametrize("name", WITH_HIDDEN_DENSE)
def test_hidden_dense_decays_exactly_the_dense_layers_before_the_output(name: str) -> None:
    model = build(name, weight_decay=0.004, weight_decay_layers="hidden_dense")
    hidden = [f"dense{i}" for i in range(1, REGISTRY[name].hidden_dense + 1)]
    assert decayed_layers(model) == hidden  # no conv, not the logits
    assert len(model.losses) == len(hidden)
    total = sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses)
    assert total == pytest.approx(0.004 / 2 * squared(model, hidden), rel=1e-4)
    # The same network: names and parameter counts do not depend on the choice.
    plain = build(name)
    assert [layer.name for layer in model.layers] == [layer.name for layer in plain.layers]
    assert model.count_params() == plain.count_params() == REGISTRY[name].paper_parameters


@pytest.mark.parametrize("name", MODELS)
def test_all_decays_every_conv_and_dense_kernel(name: str) -> None:
    model = build(name, weight_decay=5e-4, weight_decay_layers="all")
    kernels = [
        layer.name
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)
    ]
    assert decayed_layers(model) == kernels and "logits" in kernels
    assert decayed_layers(build(name, weight_decay=5e-4)) == kernels  # the default


@pytest.mark.parametrize("name", ["inception", "inception_no_bn"])
def test_a_model_without_hidden_dense_layers_refuses_hidden_dense(name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} has no hidden dense layer"):
        build(name, weight_decay=0.004, weight_decay_layers="hidden_dense")
    assert build(name, weight_decay_layers="hidden_dense").losses == []  # no decay: nothing


def test_an_unknown_choice_names_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown weight-decay layers 'conv'.*all, hidden_dense"):
        build("alexnet", weight_decay=5e-4, weight_decay_layers="conv")


def test_training_reports_the_penalty_of_the_layers_chosen() -> None:
    """The same seed and data: the loss differs by the penalty on the output layer."""
    data = synthetic_data(64)

    def window_loss(**kw: object) -> float:
        rec = Recorder()
        out = train(tiny_spec(steps=5, **kw), data, rec)
        assert out.status == "completed"
        (row,) = [r for r in rec.rows if r["train_loss"] is not None]  # the 5-step window
        return float(row["train_loss"])  # type: ignore[arg-type]

    every = window_loss(weight_decay=0.5, weight_decay_layers="all")
    hidden = window_loss(weight_decay=0.5, weight_decay_layers="hidden_dense")
    assert every > hidden > window_loss()
