"""The five models: paper parameter counts, logits shape, trainability, weight decay."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from rethink.models import MODELS, REGISTRY, build


def trainable_count(model: keras.Model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def kernel_layer_count(model: keras.Model) -> int:
    return sum(
        isinstance(layer, keras.layers.Conv2D | keras.layers.Dense) for layer in model.layers
    )


def test_the_registry_is_the_papers_five_models_in_order():
    assert MODELS == ("inception", "inception_no_bn", "alexnet", "mlp_1x512", "mlp_3x512")
    assert all(REGISTRY[m].name == m for m in MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_parameter_count_and_logits_shape(name):
    model = build(name)
    assert model.name == name
    assert trainable_count(model) == REGISTRY[name].paper_parameters
    x = np.random.default_rng(0).standard_normal((2, 28, 28, 3)).astype("float32")
    logits = np.asarray(model.predict_on_batch(x))
    assert logits.shape == (2, 10)
    assert np.all(np.isfinite(logits))
    # logits, not probabilities: no softmax at the end
    assert not np.allclose(logits.sum(axis=1), 1.0, atol=1e-3)


@pytest.mark.parametrize("name", MODELS)
def test_a_few_sgd_steps_lower_the_loss(name):
    keras.utils.set_random_seed(0)
    model = build(name)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 28, 28, 3)).astype("float32")
    y = np.array([0, 3, 5, 9])
    losses = [float(model.train_on_batch(x, y)) for _ in range(6)]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("name", MODELS)
def test_weight_decay_penalizes_each_kernel_once(name):
    plain = build(name)
    decayed = build(name, weight_decay=5e-4)
    assert len(plain.losses) == 0
    assert len(decayed.losses) == kernel_layer_count(decayed)
    # the penalty is on kernels only: 5e-4 / 2 * sum of squared kernel entries, whose
    # gradient is 5e-4 * w (weight decay as PyTorch and the paper's code mean it)
    kernels = [layer.kernel for layer in decayed.layers if hasattr(layer, "kernel")]
    expected = (
        5e-4 / 2 * sum(float(np.sum(np.square(keras.ops.convert_to_numpy(k)))) for k in kernels)
    )
    total = sum(float(keras.ops.convert_to_numpy(loss)) for loss in decayed.losses)
    assert total == pytest.approx(expected, rel=1e-4)


def test_inception_without_batchnorm_has_conv_biases_instead():
    with_bn, without_bn = build("inception"), build("inception_no_bn")
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in with_bn.layers)
    assert not any(
        isinstance(layer, keras.layers.BatchNormalization) for layer in without_bn.layers
    )
    assert all(
        layer.use_bias for layer in without_bn.layers if isinstance(layer, keras.layers.Conv2D)
    )
    assert not any(
        layer.use_bias for layer in with_bn.layers if isinstance(layer, keras.layers.Conv2D)
    )


@pytest.mark.parametrize("name", ["alexnet", "mlp_1x512"])
def test_mixed_precision_keeps_logits_float32(name):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build(name)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.get_layer("logits").compute_dtype == "float32"
    assert model.get_layer("dense1").compute_dtype == "bfloat16"
    x = np.random.default_rng(0).standard_normal((2, 28, 28, 3)).astype("float32")
    logits = model(x, training=False)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"


def test_saved_alexnet_loads_back(tmp_path):
    model = build("alexnet")
    x = np.random.default_rng(0).standard_normal((2, 28, 28, 3)).astype("float32")
    model.save(tmp_path / "alexnet.keras")
    loaded = keras.saving.load_model(tmp_path / "alexnet.keras")
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("bad", [{"name": "resnet"}, {"name": "mlp", "weight_decay": 0.0}])
def test_unknown_model_names_the_choices(bad):
    with pytest.raises(
        ValueError, match=r"unknown model '(resnet|mlp)'.*inception, inception_no_bn"
    ):
        build(**bad)


def test_negative_weight_decay_is_rejected():
    with pytest.raises(ValueError, match="weight decay"):
        build("mlp_1x512", weight_decay=-1.0)
