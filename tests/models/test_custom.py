"""Models of yours: references, the registry, the checks on what a builder returns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import pytest

from rethink.models import build, configure, register, unregister
from rethink.models.custom import ModelError, provenance
from rethink.spec import RunSpec, SpecError
from rethink.spec.architectures import DEFAULT_LEARNING_RATE, parse_reference

SHAPE, CLASSES = (6, 6, 3), 4


def tiny(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(x), name="tiny")


def soft(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, x)


@pytest.fixture
def registered() -> Iterator[str]:
    register("tiny-test", tiny, learning_rate=0.05)
    yield "tiny-test"
    unregister("tiny-test")


def test_references_parse_into_one_spelling_and_safe_run_ids() -> None:
    file = parse_reference("./my nets/Res Net.py:ResNet20")
    assert file is not None and file.kind == "file" and file.where == "my nets/Res Net.py"
    module = parse_reference("pkg.nets:build")
    assert module is not None and module.kind == "module" and module.attr == "build"
    for text in ("alexnet", "pkg.nets", "pkg nets:build", "x.py:", ":f", "x.py:1f"):
        assert parse_reference(text) is None, text
    a = RunSpec(model="./my nets/Res Net.py:ResNet20", corruption="random_labels")
    b = RunSpec(model="my nets/Res Net.py:ResNet20", corruption="random_labels")
    assert a == b and a.run_id == b.run_id
    assert re.fullmatch(r"resnet20-[0-9a-f]{8}-random_labels-s0", a.run_id)
    other = RunSpec(model="other/Res Net.py:ResNet20", corruption="random_labels")
    assert other.run_id != a.run_id  # same builder name, another file: another run


def test_default_and_registered_learning_rates(registered: str) -> None:
    assert RunSpec(model="pkg.nets:build").lr == DEFAULT_LEARNING_RATE == 0.01
    assert RunSpec(model=registered).lr == 0.05
    assert RunSpec(model=registered, learning_rate=0.2).lr == 0.2
    assert RunSpec(model=registered).run_id == "tiny-test-true_labels-s0"


def test_unknown_names_and_weight_decay_are_refused(registered: str) -> None:
    with pytest.raises(SpecError, match=r"unknown model 'tiny'.*tiny-test.*module.path:builder"):
        RunSpec(model="tiny")
    with pytest.raises(SpecError, match="weight decay is for the paper's models"):
        RunSpec(model=registered, weight_decay=5e-4)
    with pytest.raises(ValueError, match="one of the paper's models"):
        register("alexnet", tiny)
    with pytest.raises(ValueError, match="must start with a letter"):
        register("my/net", tiny)


def test_a_registered_builder_builds_and_its_provenance_names_this_file(registered: str) -> None:
    model = build(registered, SHAPE, CLASSES)
    assert model.output_shape == (None, CLASSES)
    record = provenance(registered)
    assert record["kind"] == "registered"
    assert record["builder"] == f"{__name__}:tiny"
    assert Path(record["file"]) == Path(__file__).resolve()


def test_file_and_module_references_build(tmp_path: Path) -> None:
    path = tmp_path / "nets.py"
    path.write_text(
        "import keras\n"
        "def small(shape, classes):\n"
        "    i = keras.Input(shape=shape)\n"
        "    return keras.Model(i, keras.layers.Dense(classes)(keras.layers.Flatten()(i)))\n"
    )
    assert build(f"{path}:small", SHAPE, CLASSES).output_shape == (None, CLASSES)
    assert build(f"{__name__}:tiny", SHAPE, 7).output_shape == (None, 7)


def test_a_probabilities_model_trains_on_their_logarithm() -> None:
    name = f"{__name__}:soft"
    configure(name, output="probabilities")
    try:
        model = build(name, SHAPE, CLASSES)
    finally:
        unregister(name)
    x = np.random.default_rng(0).normal(size=(5, *SHAPE)).astype("float32")
    logits = keras.ops.convert_to_numpy(model(x))
    inner = keras.ops.convert_to_numpy(model.layers[1](x))  # the builder's own model
    np.testing.assert_allclose(np.exp(logits), inner, rtol=1e-5, atol=1e-7)
    assert not np.allclose(logits, inner)


BAD = {
    "no file": ("{tmp}/missing.py:f", "model file .*missing.py not found"),
    "does not import": ("{tmp}/broken.py:f", r"cannot import model file .*broken.py: SyntaxError"),
    "no module": ("no_such_module_xyz.nets:f", "cannot import module no_such_module_xyz.nets"),
    "no name": ("{tmp}/good.py:nothing", "good.py has no nothing"),
    "not callable": ("{tmp}/good.py:WIDTH", r"good.py:WIDTH is not callable: int"),
    "raises": ("{tmp}/good.py:raises", "the builder of .* raised RuntimeError: no GPU here"),
    "no keras.Model": ("{tmp}/good.py:layer", "returned Dense, not a keras.Model"),
    "wrong classes": (
        "{tmp}/good.py:extra",
        r"outputs shape \('batch', \d+\); it must be \(batch, \d+\)",
    ),
}
GOOD = """
import keras
WIDTH = 3
def raises(shape, classes):
    raise RuntimeError("no GPU here")
def layer(shape, classes):
    return keras.layers.Dense(classes)
def extra(shape, classes):
    i = keras.Input(shape=shape)
    return keras.Model(i, keras.layers.Dense(classes + 1)(keras.layers.Flatten()(i)))
"""


def write_bad_builders(folder: Path) -> None:
    (folder / "good.py").write_text(GOOD)
    (folder / "broken.py").write_text("def f(:\n")


@pytest.mark.parametrize("case", sorted(BAD))
def test_every_bad_builder_is_one_line_naming_it(case: str, tmp_path: Path) -> None:
    write_bad_builders(tmp_path)
    reference, message = BAD[case]
    with pytest.raises(ModelError, match=message.format(tmp=tmp_path)) as caught:
        build(reference.format(tmp=tmp_path), SHAPE, CLASSES)
    assert "\n" not in str(caught.value)
