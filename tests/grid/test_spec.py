"""Grid expansion (pure, no Keras): presets, selection, ids, errors, grid.json."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest

from rethink.grid.spec import (
    PAPER_CORRUPTIONS,
    PRESETS,
    TABLE1_WEIGHT_DECAY,
    GridError,
    GridSpec,
    difference,
    expand,
    grid_of,
    next_output_dir,
    read_record,
    record,
    select,
    write_record,
)
from rethink.models import MODELS
from rethink.spec import RunSpec


def test_paper_preset_is_five_models_by_five_randomizations_with_paper_defaults() -> None:
    specs = expand(PRESETS["paper"])
    assert {(s.model, s.corruption) for s in specs} == {
        (m, c) for m in MODELS for c in PAPER_CORRUPTIONS
    }
    assert len(specs) == 25
    defaults = RunSpec(model="inception")
    for s in specs:
        assert (s.steps, s.batch_size, s.lr_decay, s.weight_decay, s.augment) == (
            defaults.steps,
            defaults.batch_size,
            defaults.lr_decay,
            defaults.weight_decay,
            defaults.augment,
        )
        assert s.train_subset is None and s.seed == 0


def test_expansion_is_model_major_and_stable() -> None:
    specs = expand(PRESETS["paper"])
    assert [s.model for s in specs[::5]] == list(MODELS)
    assert [s.corruption for s in specs[:5]] == list(PAPER_CORRUPTIONS)
    assert [s.run_id for s in expand(PRESETS["paper"])] == [s.run_id for s in specs]
    assert len({s.run_id for s in specs}) == len(specs)


def test_smoke_is_the_same_grid_made_tiny() -> None:
    paper, smoke = expand(PRESETS["paper"]), expand(PRESETS["smoke"])
    assert [s.run_id for s in smoke] == [s.run_id for s in paper]
    for s in smoke:
        assert s.train_subset is not None and s.train_subset <= 2000
        assert s.steps is not None and s.steps * s.batch_size <= 5 * s.train_subset
        assert s.test_subset is not None and s.log_every <= s.steps


def test_fig1b_sweeps_label_corruption_for_three_models_stopping_at_fit() -> None:
    specs = expand(PRESETS["fig1b"])
    assert {s.model for s in specs} == {"inception", "alexnet", "mlp_1x512"}
    assert all(s.corruption == "partial_labels" and s.stop_at_fit for s in specs)
    levels = sorted({s.level for s in specs})
    assert levels[0] == 0.0 and levels[-1] == 1.0 and len(levels) >= 5
    assert len(specs) == 3 * len(levels)


def test_table1_follows_the_rows_of_the_table() -> None:
    rows = Counter(
        (s.model, s.corruption, s.augment, s.weight_decay > 0) for s in expand(PRESETS["table1"])
    )
    assert all(n == 1 for n in rows.values())
    for model in MODELS:
        # Every model: with and without weight decay, plus random labels without either.
        assert (model, "true_labels", False, True) in rows
        assert (model, "true_labels", False, False) in rows
        assert (model, "random_labels", False, False) in rows
    crop = {m for (m, _, aug, _) in rows if aug}
    assert crop == {"inception", "alexnet"}  # the table has random crop for these only
    assert ("alexnet", "true_labels", True, True) in rows
    assert ("alexnet", "true_labels", True, False) in rows
    assert len(rows) == 19


def test_regularized_is_random_labels_with_weight_decay_on_the_papers_protocol() -> None:
    specs = expand(PRESETS["regularized"])
    assert sorted(s.model for s in specs) == ["alexnet", "inception", "mlp_1x512", "mlp_3x512"]
    assert {s.corruption for s in specs} == {"random_labels"}
    assert {s.weight_decay for s in specs} == {TABLE1_WEIGHT_DECAY}
    assert not any(s.augment for s in specs)
    protocol = RunSpec(model="alexnet")  # everything else is the protocol's default
    for s in specs:
        assert (s.steps, s.batch_size, s.train_subset) == (
            protocol.steps,
            protocol.batch_size,
            protocol.train_subset,
        )
    # --weight-decay overrides it, as for table1.
    changed = expand(select(PRESETS["regularized"], overrides={"weight_decay": 1e-3}))
    assert {s.weight_decay for s in changed} == {1e-3}


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


def test_difference_names_what_changed() -> None:
    smoke = expand(PRESETS["smoke"])
    assert difference(smoke, expand(PRESETS["smoke"])) is None
    longer = expand(select(PRESETS["smoke"], overrides={"steps": 80}))
    assert "steps 40" in difference(smoke, longer)
    fewer = expand(select(PRESETS["smoke"], models=["alexnet"]))
    assert "left out" in difference(smoke, fewer)
    assert "does not hold" in difference(fewer, smoke)


def test_grid_json_says_what_the_folder_holds(tmp_path: Path) -> None:
    grid = select(PRESETS["smoke"], models=["mlp_1x512"])
    specs = expand(grid)
    write_record(tmp_path, record(grid, specs, preset="smoke", backend="torch", argv=["rethink"]))
    rec = read_record(tmp_path)
    assert rec is not None
    assert rec["preset"] == "smoke" and rec["backend"] == "torch" and rec["created"]
    assert rec["runs"] == [s.run_id for s in specs]
    assert grid_of(rec) == grid
    assert read_record(tmp_path / "elsewhere") is None
    with pytest.raises(GridError):
        grid_of({"grid": {"models": ["mlp_1x512"]}})


def test_next_output_dir_is_one_past_the_highest(tmp_path: Path) -> None:
    assert next_output_dir(tmp_path) == tmp_path / "output_1"
    for name in ("output_1", "output_3", "output_x", "outputs_9"):
        (tmp_path / name).mkdir()
    assert next_output_dir(tmp_path) == tmp_path / "output_4"


def test_fig2_is_inception_with_and_without_batchnorm_on_true_labels_at_the_protocol() -> None:
    from rethink.results.report import protocol_deviations

    specs = expand(PRESETS["fig2"])
    assert [(s.model, s.corruption, s.seed) for s in specs] == [
        ("inception", "true_labels", 0),
        ("inception_no_bn", "true_labels", 0),
    ]
    for s in specs:
        defaults = RunSpec(model=s.model)
        assert dataclasses.replace(s, corruption=defaults.corruption) == defaults
        assert s.weight_decay == 0 and not s.augment  # Figure 2(b) is the plain setting
        assert protocol_deviations(s) == ()


def test_every_preset_is_a_choice_of_the_cli() -> None:
    from rethink.cli.grid import Preset

    assert {p.value for p in Preset} == set(PRESETS)


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
