"""RunSpec: defaults from the paper, ids, resolution, validation (no Keras)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from rethink.models import MODELS
from rethink.spec import RunSpec, SpecError


def test_defaults_are_the_papers_protocol() -> None:
    spec = RunSpec(model="inception")
    assert (spec.batch_size, spec.steps, spec.momentum, spec.lr_decay) == (128, 25_000, 0.9, 0.95)
    assert spec.weight_decay == 0.0 and not spec.augment and spec.precision == "float32"
    assert RunSpec(model="inception").lr == 0.1
    assert RunSpec(model="inception_no_bn").lr == 0.1
    for model in ("alexnet", "mlp_1x512", "mlp_3x512"):
        assert RunSpec(model=model).lr == 0.01
    assert RunSpec(model="alexnet", learning_rate=0.5).lr == 0.5


def test_run_ids_distinguish_grid_runs() -> None:
    assert (
        RunSpec(model="inception", corruption="random_labels").run_id
        == "inception-random_labels-s0"
    )
    partial = RunSpec(model="alexnet", corruption="partial_labels", level=0.4, seed=2)
    assert partial.run_id == "alexnet-partial_labels-p0.4-s2"
    table1 = RunSpec(model="mlp_3x512", weight_decay=5e-4, augment=True)
    assert table1.run_id == "mlp_3x512-true_labels-wd0.0005-aug-s0"
    # Weight decay on the hidden dense layers only: a short suffix; "all" keeps its id.
    tutorial = RunSpec(
        model="alexnet",
        corruption="random_labels",
        weight_decay=0.004,
        weight_decay_layers="hidden_dense",
    )
    assert tutorial.run_id == "alexnet-random_labels-wd0.004-hd-s0"
    every = RunSpec(model="alexnet", corruption="random_labels", weight_decay=0.004)
    assert every.weight_decay_layers == "all"
    assert every.run_id == "alexnet-random_labels-wd0.004-s0"
    ids = {
        RunSpec(model=m, corruption="partial_labels", level=p).run_id
        for m in MODELS
        for p in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    }
    assert len(ids) == len(MODELS) * 6


def test_resolved_fills_learning_rate_and_steps_from_epochs() -> None:
    spec = RunSpec(model="mlp_1x512", steps=None, epochs=3, batch_size=100)
    assert spec.steps_per_epoch(1050) == 10  # the remainder of an epoch is dropped
    resolved = spec.resolved(1050)
    assert resolved.steps == 30 and resolved.epochs is None and resolved.learning_rate == 0.01
    assert resolved.run_id == spec.run_id
    # 25,000 steps of 128 on CIFAR-10 are about 64 epochs (paper.md).
    assert 25_000 / RunSpec(model="inception").steps_per_epoch(50_000) == pytest.approx(
        64.1, abs=0.1
    )


def test_json_round_trip() -> None:
    spec = RunSpec(model="alexnet", corruption="partial_labels", level=0.6, seed=3, augment=True)
    again = RunSpec.from_dict(dataclasses.asdict(spec))
    assert again == spec
    with pytest.raises(SpecError, match="unknown spec field"):
        RunSpec.from_dict({**spec.to_dict(), "colour": "red"})


def test_weight_decay_layers_round_trip_and_default_to_all_in_older_files() -> None:
    spec = RunSpec(model="mlp_3x512", weight_decay=0.004, weight_decay_layers="hidden_dense")
    again = RunSpec.from_dict(json.loads(spec.to_json()))
    assert again == spec and again.weight_decay_layers == "hidden_dense"
    older = spec.to_dict()  # a version-2 spec.json written before the field existed
    del older["weight_decay_layers"]
    read = RunSpec.from_dict(older)
    assert read.weight_decay_layers == "all" and read.spec_version == 2
    assert read.run_id == "mlp_3x512-true_labels-wd0.004-s0"


def test_weight_decay_layers_mean_nothing_without_weight_decay() -> None:
    """Stored as "all", so runs that train the same compare equal (a grid's variants
    without weight decay keep their ids)."""
    plain = RunSpec(model="inception", weight_decay_layers="hidden_dense")
    assert plain.weight_decay_layers == "all" and plain == RunSpec(model="inception")


def test_a_spec_written_before_versions_keeps_its_meaning() -> None:
    """spec.json of rethink 0.1: weight decay was Keras's L2 coefficient, the crop padded."""
    old = RunSpec(model="alexnet", weight_decay=5e-4, augment=True).to_dict()
    del old["spec_version"], old["augment_crop"], old["eval_train_every"]
    read = RunSpec.from_dict(old)
    assert read.spec_version == 1 and read.augment_crop == "padded"
    assert read.weight_decay_gradient == pytest.approx(1e-3)  # gradient 2 * 5e-4 * w
    new = RunSpec(model="alexnet", weight_decay=5e-4, augment=True)
    assert new.spec_version == 2 and new.augment_crop == "window"
    assert new.weight_decay_gradient == pytest.approx(5e-4)
    # Resuming the old folder with today's command trains what the folder started with.
    continued = new.continuing(read)
    assert continued == read
    assert new.continuing(new) is new


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "vgg"}, "unknown model"),
        ({"model": "mlp_1x512", "corruption": "blur"}, "unknown corruption"),
        ({"model": "mlp_1x512", "corruption": "partial_labels"}, "needs a corruption level"),
        ({"model": "mlp_1x512", "corruption": "partial_labels", "level": -0.1}, r"\[0, 1\]"),
        (
            {"model": "mlp_1x512", "corruption": "random_labels", "level": 0.5},
            "partial_labels only",
        ),
        ({"model": "mlp_1x512", "steps": 0}, "steps must be positive"),
        ({"model": "mlp_1x512", "steps": 5, "epochs": 5}, "not both"),
        ({"model": "mlp_1x512", "steps": None}, "give steps or epochs"),
        ({"model": "mlp_1x512", "batch_size": 0}, "batch_size"),
        ({"model": "mlp_1x512", "train_subset": 0}, "train_subset"),
        ({"model": "mlp_1x512", "learning_rate": -1.0}, "learning rate"),
        ({"model": "mlp_1x512", "lr_decay": 1.5}, "lr decay"),
        ({"model": "mlp_1x512", "weight_decay": -1.0}, "weight decay"),
        (
            {"model": "mlp_1x512", "weight_decay": 5e-4, "weight_decay_layers": "conv"},
            "unknown weight-decay layers 'conv'; choose from all, hidden_dense",
        ),
        (
            {"model": "inception", "weight_decay": 5e-4, "weight_decay_layers": "hidden_dense"},
            "^inception has no hidden dense layer",
        ),
        (
            {
                "model": "inception_no_bn",
                "weight_decay": 5e-4,
                "weight_decay_layers": "hidden_dense",
            },
            "^inception_no_bn has no hidden dense layer",
        ),
        ({"model": "mlp_1x512", "precision": "fp8"}, "unknown precision"),
        ({"model": "mlp_1x512", "seed": -1}, "seed"),
        ({"model": "mlp_1x512", "augment_crop": "zoom"}, "unknown random crop"),
        ({"model": "mlp_1x512", "eval_train_every": 0}, "eval_train_every"),
        ({"model": "mlp_1x512", "spec_version": 3}, "unknown spec version"),
    ],
)
def test_invalid_settings_name_the_problem(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        RunSpec(**kwargs)  # type: ignore[arg-type]


def test_a_runs_label_names_the_randomization_level_variant_and_seed() -> None:
    spec = RunSpec(model="alexnet", corruption="partial_labels", level=0.4, seed=2, augment=True)
    assert spec.label == "partial labels p=0.4 crop s2"
    assert RunSpec(model="alexnet", corruption="random_pixels").label == "random pixels s0"
    tutorial = RunSpec(model="alexnet", weight_decay=0.004, weight_decay_layers="hidden_dense")
    assert tutorial.variant == "wd0.004 hd" and tutorial.label == "true labels wd0.004 hd s0"
    assert RunSpec(model="mlp_1x512", precision="mixed_bfloat16").variant == "bfloat16"
