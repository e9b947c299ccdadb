"""The named grids: each preset is the experiment of the paper it names (pure, no Keras)."""

from __future__ import annotations

import dataclasses
from collections import Counter

from rethink.grid.presets import PAPER_CORRUPTIONS, PRESETS, TABLE1_WEIGHT_DECAY
from rethink.grid.spec import expand, select
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


def test_fig2_is_inception_with_and_without_batchnorm_on_true_labels_at_the_protocol() -> None:
    from rethink.results.protocol import protocol_deviations

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
