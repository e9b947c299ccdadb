"""rethink.results.comparisons: slowdowns, Table 1 and Figure 1a beside the paper."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rethink import paper
from rethink.results.claims import SUPPORTED, claim_test_error, claim_time_to_fit
from rethink.results.comparisons import figure1a_comparison, slowdowns, table1
from rethink.results.protocol import protocol_deviations
from rethink.results.render import render_markdown
from rethink.results.report import build_report
from rethink.results.summary import RunSummary
from tests.helpers.run_folders import (
    FIT_STEPS,
    PAPER,
    SMOKE,
    THREE,
    fit_step,
    level_sweep,
    paper_spec,
    randomization_grid,
    spec_for,
    summaries,
    write_run,
)

MODELS = ("mlp_1x512", "alexnet")
SEEDS = (0, 1)


def test_slowdown_is_the_ratio_of_mean_steps_to_fit(paper_summaries: list[RunSummary]) -> None:
    found = {(s.model, s.corruption): s for s in slowdowns(paper_summaries)}
    assert len(found) == len(MODELS) * len(FIT_STEPS)
    for model in MODELS:
        base = sum(fit_step(model, "true_labels", seed) for seed in SEEDS) / len(SEEDS)
        for corruption in FIT_STEPS:
            mean = sum(fit_step(model, corruption, seed) for seed in SEEDS) / len(SEEDS)
            s = found[(model, corruption)]
            assert s.measure == "steps_to_fit"
            assert s.ratio == pytest.approx(mean / base)
            assert (s.runs, s.baseline_runs) == (len(SEEDS), len(SEEDS))
            assert (s.baseline, s.deviations) == ("true labels", ())


def test_slowdown_baseline_is_partial_labels_at_p0(tmp_path: Path) -> None:
    """The fig1b preset has no true_labels run: level 0 is partial labels at p = 0."""
    root = level_sweep(
        tmp_path, ("mlp_1x512",), (0.0, 0.5, 1.0), partial_zero=True, stop_at_fit=True, **PAPER
    )
    runs = summaries(root)
    assert {r.corruption for r in runs} == {"partial_labels"}
    found = {s.level: s for s in slowdowns(runs)}
    assert set(found) == {0.0, 0.5, 1.0}
    assert found[0.0].ratio == pytest.approx(1.0)
    assert found[0.5].ratio == pytest.approx(1100 / 600)
    assert found[1.0].ratio == pytest.approx(1600 / 600)
    assert {s.baseline for s in found.values()} == {"partial labels p=0"}
    c = claim_time_to_fit(runs)
    assert c.verdict == SUPPORTED and "2.67x" in c.evidence
    # Stopped at fit: on the protocol, counted for Figure 1b/1c, kept out of Table 1.
    report = build_report(runs)
    assert report.protocol.startswith("the paper's protocol: 25,000 steps")
    assert "3 run(s) stop at fit" in report.protocol
    assert claim_test_error(runs).verdict == SUPPORTED


def test_slowdown_compares_runs_with_the_same_settings(
    paper_summaries: list[RunSummary], smoke_summaries: list[RunSummary]
) -> None:
    found = slowdowns(paper_summaries + smoke_summaries)
    on = [s for s in found if not s.deviations]
    off = [s for s in found if s.deviations]
    assert len(on) == len(off) == len(MODELS) * len(FIT_STEPS)
    assert {s.deviations for s in off} == {protocol_deviations(smoke_summaries[0].spec)}
    assert all(s.ratio is None and s.measure is None for s in off)  # nothing fitted in 40 steps
    assert [s.ratio for s in on] == [s.ratio for s in slowdowns(paper_summaries)]


def test_slowdown_falls_back_to_steps_to_loss(paper_summaries: list[RunSummary]) -> None:
    runs = [
        dataclasses.replace(r, steps_to_fit=None)
        if (r.model, r.corruption, r.seed) == ("alexnet", "random_labels", 1)
        else r
        for r in paper_summaries
    ]
    found = {(s.model, s.corruption): s for s in slowdowns(runs)}
    s = found[("alexnet", "random_labels")]
    loss = [
        r.steps_to_loss for r in runs if r.model == "alexnet" and r.corruption == "random_labels"
    ]
    base = [r.steps_to_loss for r in runs if r.model == "alexnet" and r.corruption == "true_labels"]
    assert s.measure == "steps_to_loss"
    assert s.ratio == pytest.approx((sum(loss) / 2) / (sum(base) / 2))
    assert found[("alexnet", "gaussian")].measure == "steps_to_fit"
    none = [dataclasses.replace(r, steps_to_loss=None) for r in runs]
    assert {
        s.ratio for s in slowdowns(none) if s.model == "alexnet" and s.corruption == "random_labels"
    } == {None}


def test_table1_differences_against_the_paper(paper_summaries: list[RunSummary]) -> None:
    rows = table1(paper_summaries)
    assert {(t.model, t.corruption) for t in rows} == {
        (m, c) for m in MODELS for c in ("true_labels", "random_labels")
    }
    for t in rows:
        ours = [r for r in paper_summaries if (r.model, r.corruption) == (t.model, t.corruption)]
        row = paper.table1_row(t.model, t.corruption, random_crop=False, weight_decay=False)
        assert row is not None and t.runs == len(SEEDS)
        test = 100 * sum(r.test_acc or 0 for r in ours) / len(ours)
        assert t.test == pytest.approx(test)
        assert t.test_diff == pytest.approx(test - row.test)
        assert t.train == pytest.approx(100.0) and t.train_measure == "evaluation"
        assert t.train_diff == pytest.approx(100.0 - row.train)


def test_table1_counts_completed_protocol_runs_that_ran_their_steps(tmp_path: Path) -> None:
    write_run(tmp_path, paper_spec("mlp_3x512", "true_labels", weight_decay=5e-4), test_acc=0.6)
    write_run(tmp_path, paper_spec("mlp_3x512", "true_labels", 1, weight_decay=5e-4), stop_at=500)
    write_run(tmp_path, paper_spec("mlp_3x512", "true_labels", 2, stop_at_fit=True))
    write_run(tmp_path, spec_for("mlp_3x512", "true_labels", 3, **SMOKE))
    runs = summaries(tmp_path)
    (t,) = table1(runs)
    assert (t.weight_decay, t.weight_decay_values, t.runs) == (True, (5e-4,), 1)
    assert t.paper_test == 53.35 and t.test_diff == pytest.approx(60.0 - 53.35)
    assert len(table1([r for r in runs if r.weight_decay == 0])) == 0  # stop at fit, smoke


def test_table1_keeps_weight_decay_layers_apart(tmp_path: Path) -> None:
    for layers, acc in (("all", 1.0), ("hidden_dense", 0.5)):
        spec = paper_spec("alexnet", "true_labels", weight_decay=0.004, weight_decay_layers=layers)
        write_run(tmp_path, spec, train_acc=acc)
    rows = [t for t in table1(summaries(tmp_path)) if t.weight_decay]
    assert sorted((t.weight_decay_layers, t.train) for t in rows) == [
        ("all", 100.0),
        ("hidden_dense", 50.0),
    ]
    md = render_markdown(build_report(summaries(tmp_path)))
    assert "0.004 (hidden_dense)" in md


def test_figure1a_beside_the_reproduction(tmp_path: Path) -> None:
    runs = summaries(randomization_grid(tmp_path / "a", ("inception",), (0, 1), **PAPER))
    rows = {c.corruption: c for c in figure1a_comparison(runs)}
    assert list(rows) == list(paper.FIGURE1A_STEPS_TO_LOSS)  # the reproduction's order
    steps = {
        c: sum(r.steps_to_loss or 0 for r in runs if r.corruption == c) / 2
        for c in paper.FIGURE1A_STEPS_TO_LOSS
    }
    for corruption, c in rows.items():
        assert (c.model, c.runs, c.reached) == ("inception", 2, 2)
        assert c.steps == pytest.approx(steps[corruption])
        assert c.slowdown == pytest.approx(steps[corruption] / steps["true_labels"])
        assert c.paper_steps == paper.FIGURE1A_STEPS_TO_LOSS[corruption]
    assert rows["random_labels"].paper_slowdown == pytest.approx(17_700 / 5_700)
    # Only CIFAR-10 runs on the paper's protocol of the reproduction's model.
    assert figure1a_comparison([r for r in runs if r.seed == 0], model="alexnet") == []
    assert figure1a_comparison([dataclasses.replace(r, dataset=THREE) for r in runs]) == []
    small = summaries(randomization_grid(tmp_path / "b", ("inception",), (0,)))
    assert figure1a_comparison(small) == []
    # A run stopped at fit before the loss got to 0.01 is left out, not counted as missing.
    stopped = [
        dataclasses.replace(
            r, steps_to_loss=None, spec=dataclasses.replace(r.spec, stop_at_fit=True)
        )
        if r.corruption == "gaussian" and r.seed == 1
        else r
        for r in runs
    ]
    gaussian = {c.corruption: c for c in figure1a_comparison(stopped)}["gaussian"]
    assert (gaussian.runs, gaussian.reached) == (1, 1)
