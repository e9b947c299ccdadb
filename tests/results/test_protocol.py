"""rethink.results.protocol: the paper's protocol from rethink's defaults, and deviations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rethink.results.protocol import (
    PROTOCOL,
    PROTOCOL_ANY_DATA,
    protocol_deviations,
    protocol_groups,
    protocol_summary,
    protocol_text,
    run_deviations,
)
from rethink.results.summary import RunSummary
from rethink.spec import RunSpec
from rethink.spec.architectures import MODELS
from rethink.spec.datasets import KNOWN
from tests.helpers.run_folders import ENV, SMOKE, THREE, spec_for, summaries, write_run

EPOCHS: dict[str, Any] = {"steps": None, "epochs": 64}


def test_the_protocol_is_the_papers_appendix_a() -> None:
    """rethink's defaults are the paper's protocol: a default changed breaks this."""
    assert PROTOCOL == (
        "25,000 steps, batch 128, SGD momentum 0.9, learning rate 0.1 (inception, "
        "inception_no_bn) / 0.01 (alexnet, mlp_1x512, mlp_3x512) x 0.95 per epoch, float32, "
        "all 50,000 training and 10,000 test images"
    )
    assert PROTOCOL_ANY_DATA.endswith("float32, all the data set's training and test images")
    for model in MODELS:
        assert protocol_deviations(RunSpec(model=model)) == ()
    assert protocol_text() == protocol_text([KNOWN["cifar10"]]) == PROTOCOL
    assert protocol_text([KNOWN["cifar10"], THREE]) == protocol_text([]) == PROTOCOL_ANY_DATA


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, ()),
        ({"weight_decay": 5e-4, "augment": True}, ()),  # Table 1's columns
        ({"stop_at_fit": True, "steps": 100_000}, ()),  # the fig1b preset: any budget
        ({"train_subset": 50_000, "test_subset": 10_000}, ()),  # the whole splits
        (
            SMOKE,
            ("500 training images", "250 test images", "40 steps", "batch 16"),
        ),
        (EPOCHS, ("24,960 steps",)),  # 64 x 390
        ({"precision": "mixed_bfloat16"}, ("precision mixed_bfloat16",)),
        ({"learning_rate": 0.1}, ("learning rate 0.1 (paper 0.01)",)),
        ({"learning_rate": 0.01}, ()),  # the MLP's default, given explicitly
        ({"lr_decay": 1.0, "momentum": 0.0}, ("learning-rate decay 1 per epoch", "momentum 0")),
    ],
)
def test_protocol_deviations(settings: dict[str, Any], expected: tuple[str, ...]) -> None:
    spec = RunSpec(model="mlp_1x512", **settings)
    assert protocol_deviations(spec) == expected


def test_epochs_count_on_the_data_sets_own_split() -> None:
    """64 epochs are 24,960 steps on CIFAR-10's 50,000 images, 29,952 on MNIST's 60,000;
    on an image folder of unknown size they cannot be counted."""
    spec = RunSpec(model="mlp_1x512", **EPOCHS)
    assert protocol_deviations(spec, KNOWN["mnist"]) == ("29,952 steps",)  # 64 x 468
    assert protocol_deviations(spec, THREE, (25_600, 100)) == ("12,800 steps",)  # 64 x 200
    assert protocol_deviations(spec, THREE) == ("64 epochs",)
    stop = RunSpec(model="mlp_1x512", stop_at_fit=True, **EPOCHS)
    assert protocol_deviations(stop, THREE) == ()  # stopped at fit: any length


def _one(root: Path, spec: RunSpec, **kw: Any) -> RunSummary:
    write_run(root, spec, **kw)
    (summary,) = summaries(root)
    return summary


def test_runs_off_the_protocol_are_grouped_by_their_deviations(
    paper_summaries: list[RunSummary], smoke_summaries: list[RunSummary]
) -> None:
    runs = paper_summaries + smoke_summaries
    (group,) = protocol_groups(runs)
    assert group.deviations == run_deviations(smoke_summaries[0]) != ()
    assert set(group.run_ids) == {r.run_id for r in smoke_summaries}
    assert protocol_groups(paper_summaries) == []
    summary = protocol_summary(runs, [group])
    assert summary.startswith(f"the paper's protocol ({PROTOCOL}) for 20 of 30 runs; 10 run(s)")
    assert protocol_summary(paper_summaries, []) == f"the paper's protocol: {PROTOCOL}"
    assert protocol_summary(smoke_summaries, [group]).startswith(
        "not the paper's protocol: 500 training images"
    )
    assert protocol_summary([], []) == "no runs"


def test_a_run_is_judged_on_its_recorded_splits(tmp_path: Path) -> None:
    # 12,800 images recorded: a 12,800-image subset is the whole split, no deviation.
    env = {**ENV, "data_images": [12_800, 100]}
    spec = spec_for("mlp_1x512", "true_labels", train_subset=12_800, learning_rate=None)
    whole = _one(tmp_path / "a", spec, dataset=THREE, env=env)
    assert run_deviations(whole) == ("2,400 steps",)
    assert run_deviations(_one(tmp_path / "b", spec, dataset=THREE)) == (
        "12,800 training images",  # nothing recorded: any subset of a folder is one
        "2,400 steps",
    )
