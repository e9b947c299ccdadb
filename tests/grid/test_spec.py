"""What a grid is (pure, no Keras): selection, expansion into runs, ids, errors, JSON."""

from __future__ import annotations

import json

import pytest

from rethink.grid.presets import PAPER_CORRUPTIONS, PRESETS
from rethink.grid.spec import GridError, GridSpec, expand, select
from rethink.models import MODELS


def test_expansion_is_model_major_and_stable() -> None:
    specs = expand(PRESETS["paper"])
    assert [s.model for s in specs[::5]] == list(MODELS)
    assert [s.corruption for s in specs[:5]] == list(PAPER_CORRUPTIONS)
    assert [s.run_id for s in expand(PRESETS["paper"])] == [s.run_id for s in specs]
    assert len({s.run_id for s in specs}) == len(specs)


def test_selection_and_training_flags_override_the_preset() -> None:
    grid = select(
        PRESETS["smoke"],
        models=["mlp_3x512", "mlp_1x512", "mlp_1x512"],
        corruptions=["gaussian", "true_labels"],
        seeds=3,
        overrides={"steps": 7, "batch_size": None, "augment": True},
    )
    specs = expand(grid)
    # Canonical order whatever order they were given in; repeats dropped.
    assert [s.model for s in specs[::6]] == ["mlp_1x512", "mlp_3x512"]
    assert [s.corruption for s in specs[:6:3]] == ["true_labels", "gaussian"]
    assert [s.seed for s in specs[:3]] == [0, 1, 2]
    assert all(s.steps == 7 and s.augment for s in specs)
    assert all(s.batch_size == PRESETS["smoke"].base["batch_size"] for s in specs)  # None: kept
    assert len(specs) == 2 * 2 * 3


def test_levels_add_partial_label_runs() -> None:
    grid = select(PRESETS["paper"], models=["alexnet"], levels=[0.5, 0.0, 0.5])
    specs = expand(grid)
    partial = [s for s in specs if s.corruption == "partial_labels"]
    assert [s.level for s in partial] == [0.0, 0.5]
    assert len(specs) == 5 + 2
    assert "p0.5" in partial[1].run_id


def test_corruptions_given_drop_the_presets_levels_unless_partial_labels_is_named() -> None:
    assert {s.corruption for s in expand(select(PRESETS["fig1b"], corruptions=["gaussian"]))} == {
        "gaussian"
    }
    kept = expand(select(PRESETS["fig1b"], corruptions=["partial_labels", "gaussian"]))
    assert len(kept) == len(expand(PRESETS["fig1b"])) + 3


def test_epochs_replace_the_presets_steps_and_the_other_way_round() -> None:
    by_epochs = expand(select(PRESETS["smoke"], overrides={"epochs": 2}))
    assert all(s.epochs == 2 and s.steps is None for s in by_epochs)
    with pytest.raises(GridError, match="steps or epochs"):
        select(PRESETS["smoke"], overrides={"epochs": 2, "steps": 5})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"models": ["resnet"]}, "unknown model 'resnet'"),
        ({"corruptions": ["noise"]}, "unknown corruption 'noise'"),
        ({"models": []}, "no models"),
        ({"corruptions": []}, "no corruptions"),
        ({"levels": [1.5]}, r"level must be in \[0, 1\]"),
        ({"levels": [float("nan")]}, "level must be a number"),
        ({"levels": []}, "no corruption levels"),
        ({"corruptions": ["partial_labels"]}, "needs corruption levels"),
        ({"seeds": 0}, "at least 1"),
        ({"overrides": {"batch_size": 0}}, "batch_size must be positive"),
        ({"overrides": {"momentum": 0.5}}, None),  # fine: a training field
        ({"overrides": {"model": "alexnet"}}, "not a training setting"),
    ],
)
def test_bad_selections_raise_one_clear_error(kwargs: dict, message: str | None) -> None:
    if message is None:
        expand(select(PRESETS["smoke"], **kwargs))
        return
    with pytest.raises(GridError, match=message):
        expand(select(PRESETS["smoke"], **kwargs))


def test_runs_that_would_share_a_folder_are_an_error() -> None:
    # Table 1 with random crop forced on: its crop and no-crop rows become one.
    with pytest.raises(GridError, match="share the id"):
        expand(select(PRESETS["table1"], overrides={"augment": True}))


def test_grid_round_trips_through_json() -> None:
    for name, grid in PRESETS.items():
        again = GridSpec.from_dict(json.loads(json.dumps(grid.to_dict())))
        assert again == grid, name
        assert [s.to_dict() for s in expand(again)] == [s.to_dict() for s in expand(grid)]


def test_select_takes_listed_seeds_and_drops_plain_runs() -> None:
    grid = select(PRESETS["table1"], models=("alexnet",), seeds=(2, 1), plain=False)
    specs = expand(grid)
    assert {s.seed for s in specs} == {1, 2}
    assert specs and all(s.weight_decay > 0 or s.augment for s in specs)
    assert len(specs) == 2 * len(expand(select(PRESETS["table1"], models=("alexnet",)))) - 4
    with pytest.raises(GridError, match="no seeds"):
        select(PRESETS["paper"], seeds=())
    with pytest.raises(GridError, match="leaves no run"):
        select(PRESETS["paper"], plain=False)
