"""rethink.results.report: run folders -> protocol, slowdowns, Table 1, claims, renderings."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from rethink import paper
from rethink.results import report as report_module
from rethink.results.render import render_markdown, render_rich, report_dict
from rethink.results.report import (
    BATCHNORM_GAP_SLACK,
    EARLY_STOP_MAX_GAIN,
    FIT_DEFAULT,
    FIT_TOLERANCE,
    MAX_SLOWDOWN,
    NOT_ENOUGH,
    NOT_SUPPORTED,
    SUPPORTED,
    WINDOW_MARK,
    build_report,
    claim_alexnet_weight_decay,
    claim_batchnorm,
    claim_early_stopping,
    claim_fitted,
    claim_regularized_fit,
    claim_slow_start,
    claim_test_error,
    claim_time_to_fit,
    claim_weight_decay_memorizes,
    protocol_deviations,
    slowdowns,
    table1,
)
from rethink.results.summary import INCOMPLETE, START_LOSS, RunSummary, load_grid, run_dirs
from rethink.spec import RunSpec
from tests.helpers.run_folders import (
    FIT_STEPS,
    PLATEAUS,
    error_at_level,
    fit_step,
    spec_for,
    write_run,
)

MODELS = ("mlp_1x512", "alexnet")
SEEDS = (0, 1)
# The paper's protocol (spec_for's defaults are a 2,560-image, 2,400-step subset).
PROTOCOL: dict[str, Any] = {"train_subset": None, "steps": 25_000, "learning_rate": None}
# The smoke preset's settings: not the paper's protocol.
SMOKE: dict[str, Any] = {
    "train_subset": 500,
    "test_subset": 250,
    "steps": 40,
    "batch_size": 16,
    "log_every": 10,
}


def paper_spec(model: str, corruption: str, seed: int = 0, **kw: Any) -> RunSpec:
    return spec_for(model, corruption, seed, **{**PROTOCOL, **kw})


def paper_grid(
    root: Path, models: tuple[str, ...] = MODELS, seeds: tuple[int, ...] = SEEDS
) -> Path:
    """run_folders.randomization_grid on the paper's protocol."""
    for model in models:
        for corruption in FIT_STEPS:
            for seed in seeds:
                write_run(
                    root,
                    paper_spec(model, corruption, seed),
                    plateau=PLATEAUS[corruption],
                    fit_step=fit_step(model, corruption, seed),
                    test_acc=0.5 if corruption == "true_labels" else 0.1,
                )
    return root


def sweep_spec(model: str, p: float, partial_zero: bool = False, **kw: Any) -> RunSpec:
    if p == 0.0 and not partial_zero:
        return paper_spec(model, "true_labels", **kw)
    if p == 1.0 and not partial_zero:
        return paper_spec(model, "random_labels", **kw)
    return paper_spec(model, "partial_labels", level=p, **kw)


def paper_sweep(
    root: Path,
    models: tuple[str, ...] = MODELS,
    levels: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0),
    partial_zero: bool = False,
    **kw: Any,
) -> Path:
    """run_folders.level_sweep on the paper's protocol; `partial_zero`: every level as
    partial_labels (the fig1b preset), so level 0 is partial labels at p = 0."""
    for model in models:
        for p in levels:
            write_run(
                root,
                sweep_spec(model, p, partial_zero, **kw),
                plateau=int(700 * p) // 100 * 100,
                fit_step=600 + int(1000 * p) // 100 * 100,
                test_acc=1 - error_at_level(p),
            )
    return root


def _load(root: Path) -> list[RunSummary]:
    return [r.summary for r in load_grid(root).runs]


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> list[RunSummary]:
    return _load(paper_grid(tmp_path_factory.mktemp("grid")))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> list[RunSummary]:
    return _load(paper_sweep(tmp_path_factory.mktemp("sweep")))


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> list[RunSummary]:
    root = tmp_path_factory.mktemp("smoke")
    for model in MODELS:
        for corruption in FIT_STEPS:
            write_run(root, spec_for(model, corruption, **SMOKE), fit_step=None, test_acc=0.1)
    return _load(root)


def test_completed_run_summary_matches_result_json(tmp_path: Path) -> None:
    rd = write_run(
        tmp_path, spec_for("mlp_1x512", "gaussian", 3), plateau=300, fit_step=900, test_acc=0.12
    )
    (run,) = load_grid(tmp_path).runs
    s, result = run.summary, rd.result()
    assert result is not None
    assert s.status == "completed" and s.seed == 3 and s.level is None
    assert s.steps_to_fit == result["steps_to_fit"] == 900
    assert s.steps_to_loss == result["steps_to_loss"]
    assert s.test_acc == pytest.approx(result["test_acc"])
    assert (s.best_test_acc, s.best_test_step) == (result["best_test_acc"], 2400)
    assert s.wall_seconds == pytest.approx(result["wall_seconds"])
    assert (s.backend, s.device) == ("jax", "cpu")
    assert s.first_drop_step is not None and s.first_drop_step > 300
    rows = rd.metrics_rows()
    first_below = next(
        r["step"] for r in rows if r["train_loss"] is not None and r["train_loss"] <= START_LOSS
    )
    assert s.first_drop_step == first_below
    assert len(run.steps) == sum(r["train_loss"] is not None for r in rows)


def test_partial_run_is_summarized_from_metrics(tmp_path: Path) -> None:
    write_run(tmp_path, spec_for("alexnet", "true_labels"), fit_step=600, stop_at=1000, env=None)
    (run,) = load_grid(tmp_path).runs
    s = run.summary
    assert s.status == INCOMPLETE
    assert s.step == 1000 and s.total_steps == 2400
    assert s.steps_to_fit == 600  # from metrics.csv: first row at 100% training accuracy
    assert s.test_acc is not None  # the last epoch-end evaluation
    assert s.backend is None and s.device is None  # no env.json


def test_diverged_run_keeps_no_nan(tmp_path: Path) -> None:
    write_run(
        tmp_path,
        spec_for("mlp_1x512", "random_labels"),
        plateau=700,
        fit_step=1600,
        diverge_at=1000,
    )
    (run,) = load_grid(tmp_path).runs
    s = run.summary
    assert s.status == "diverged" and s.diverged_at_step == 1000
    assert s.train_loss is None and s.steps_to_fit is None
    assert run.steps.max() == 900 and all(math.isfinite(v) for v in run.train_loss)
    json.dumps(report_dict(build_report([s])), allow_nan=False)


def test_run_dirs_accepts_a_run_folder_and_a_folder_of_grids(tmp_path: Path) -> None:
    a = write_run(tmp_path / "g1", spec_for("mlp_1x512", "true_labels"))
    write_run(tmp_path / "g2", spec_for("mlp_1x512", "gaussian"))
    assert [d.path for d in run_dirs(a.path)] == [a.path]
    assert len(run_dirs(tmp_path)) == 2
    (tmp_path / "g1" / "broken").mkdir()
    (tmp_path / "g1" / "broken" / "spec.json").write_text("{not json")
    grid = load_grid(tmp_path / "g1")
    assert len(grid.runs) == 1 and grid.skipped == (str(tmp_path / "g1" / "broken"),)


def test_protocol_constants_are_rethinks_defaults() -> None:
    spec = RunSpec(model="alexnet")
    assert spec.steps == report_module.PROTOCOL_STEPS
    assert spec.batch_size == report_module.PROTOCOL_BATCH_SIZE
    assert spec.precision == report_module.PROTOCOL_PRECISION
    assert spec.lr_decay == report_module.PROTOCOL_LR_DECAY
    assert spec.momentum == report_module.PROTOCOL_MOMENTUM
    assert protocol_deviations(spec) == ()


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
        ({"steps": None, "epochs": 64}, ("24,960 steps",)),  # 64 x 390
        ({"precision": "mixed_bfloat16"}, ("precision mixed_bfloat16",)),
        ({"learning_rate": 0.1}, ("learning rate 0.1 (paper 0.01)",)),
        ({"learning_rate": 0.01}, ()),  # the MLP's default, given explicitly
        ({"lr_decay": 1.0, "momentum": 0.0}, ("learning-rate decay 1 per epoch", "momentum 0")),
    ],
)
def test_protocol_deviations(settings: dict[str, Any], expected: tuple[str, ...]) -> None:
    spec = RunSpec(model="mlp_1x512", **settings)
    assert protocol_deviations(spec) == expected


def test_slowdown_is_the_ratio_of_mean_steps_to_fit(grid: list[RunSummary]) -> None:
    found = {(s.model, s.corruption): s for s in slowdowns(grid)}
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
    runs = _load(
        paper_sweep(tmp_path, ("mlp_1x512",), (0.0, 0.5, 1.0), partial_zero=True, stop_at_fit=True)
    )
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
    grid: list[RunSummary], smoke: list[RunSummary]
) -> None:
    found = slowdowns(grid + smoke)
    on = [s for s in found if not s.deviations]
    off = [s for s in found if s.deviations]
    assert len(on) == len(off) == len(MODELS) * len(FIT_STEPS)
    assert {s.deviations for s in off} == {protocol_deviations(smoke[0].spec)}
    assert all(s.ratio is None and s.measure is None for s in off)  # nothing fitted in 40 steps
    assert [s.ratio for s in on] == [s.ratio for s in slowdowns(grid)]


def test_slowdown_falls_back_to_steps_to_loss(grid: list[RunSummary]) -> None:
    runs = [
        dataclasses.replace(r, steps_to_fit=None)
        if (r.model, r.corruption, r.seed) == ("alexnet", "random_labels", 1)
        else r
        for r in grid
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


def test_table1_differences_against_the_paper(grid: list[RunSummary]) -> None:
    rows = table1(grid)
    assert {(t.model, t.corruption) for t in rows} == {
        (m, c) for m in MODELS for c in ("true_labels", "random_labels")
    }
    for t in rows:
        ours = [r for r in grid if (r.model, r.corruption) == (t.model, t.corruption)]
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
    runs = _load(tmp_path)
    (t,) = table1(runs)
    assert (t.weight_decay, t.weight_decay_values, t.runs) == (True, (5e-4,), 1)
    assert t.paper_test == 53.35 and t.test_diff == pytest.approx(60.0 - 53.35)
    assert len(table1([r for r in runs if r.weight_decay == 0])) == 0  # stop at fit, smoke


def _fits(tmp_path: Path, train_acc: float, corruption: str = "random_labels") -> Any:
    """A protocol MLP 1x512 grid whose `corruption` run ends at `train_acc` (evaluation)."""
    write_run(tmp_path, paper_spec("mlp_1x512", "true_labels"), test_acc=0.5)
    write_run(
        tmp_path,
        paper_spec("mlp_1x512", corruption),
        plateau=700,
        fit_step=1600,
        test_acc=0.1,
        train_acc=train_acc,
    )
    runs = _load(tmp_path)
    assert {r.train_acc_measure for r in runs} == {"evaluation"}
    return claim_fitted(runs)


def test_fits_within_the_papers_figure_for_the_row(tmp_path: Path) -> None:
    # Table 1: MLP 1x512 on random labels reached 99.34% in the paper.
    need = paper.table1_row("mlp_1x512", "random_labels", False, False).train - FIT_TOLERANCE
    c = _fits(tmp_path / "a", 0.995)
    assert c.verdict == SUPPORTED and "mlp_1x512 random labels 1/1" in c.evidence
    assert f"{FIT_TOLERANCE:g} points" in c.evidence and f">= {need:.2f}%" in c.evidence
    assert _fits(tmp_path / "b", 0.99).verdict == SUPPORTED  # 99.0% >= 98.84%
    c = _fits(tmp_path / "c", 0.90)
    assert c.verdict == NOT_SUPPORTED
    assert "did not fit: mlp_1x512-random_labels-s0 (90.00%" in c.evidence
    # No figure in the paper for pixel corruptions: 99.5%.
    assert _fits(tmp_path / "d", 0.99, "gaussian").verdict == NOT_SUPPORTED
    assert _fits(tmp_path / "e", FIT_DEFAULT / 100, "gaussian").verdict == SUPPORTED


def test_runs_stopped_at_fit_fit_by_their_steps_to_fit(tmp_path: Path) -> None:
    spec = paper_spec("mlp_1x512", "partial_labels", level=0.5, stop_at_fit=True)
    write_run(tmp_path / "a", spec, fit_step=1100, train_acc=0.97)
    c = claim_fitted(_load(tmp_path / "a"))
    assert c.verdict == SUPPORTED and "1/1" in c.evidence
    write_run(tmp_path / "b", spec, fit_step=None)  # ran its 25k steps without fitting
    c = claim_fitted(_load(tmp_path / "b"))
    assert c.verdict == NOT_SUPPORTED and spec.run_id in c.evidence


def test_regularized_runs_have_their_own_verdict(tmp_path: Path, grid: list[RunSummary]) -> None:
    write_run(tmp_path, paper_spec("alexnet", "true_labels", weight_decay=5e-4, augment=True))
    write_run(tmp_path, paper_spec("mlp_1x512", "true_labels", weight_decay=5e-4), train_acc=0.9)
    regularized = _load(tmp_path)
    runs = grid + regularized
    assert claim_fitted(runs).verdict == SUPPORTED  # judged on the plain runs only
    c = claim_regularized_fit(runs)
    assert c.verdict == NOT_SUPPORTED
    assert "weight decay used: 0.0005" in c.evidence
    assert "alexnet with weight decay 0.0005 + random crop 1/1" in c.evidence
    assert "did not fit: mlp_1x512-true_labels-wd0.0005-s0 (90.00%" in c.evidence
    ok = [dataclasses.replace(r, train_acc=0.999) for r in regularized]
    assert claim_regularized_fit(grid + ok).verdict == SUPPORTED  # 99.80% - 0.5 for MLP wd
    assert claim_regularized_fit(grid).verdict == NOT_ENOUGH


def _regularized(root: Path, accs: dict[str, float], **kw: Any) -> list[RunSummary]:
    """The regularized preset's runs (random labels, weight decay) ending at `accs`."""
    for model, acc in accs.items():
        spec = paper_spec(model, "random_labels", weight_decay=5e-4, **kw)
        write_run(root, spec, plateau=700, fit_step=None, test_acc=0.1, train_acc=acc)
    return _load(root)


def test_weight_decay_does_not_stop_memorization_verdicts(
    tmp_path: Path, grid: list[RunSummary]
) -> None:
    # The paper's outcome: the others fit, AlexNet does not converge.
    runs = _regularized(
        tmp_path / "paper",
        {"inception": 1.0, "mlp_1x512": 0.998, "mlp_3x512": 1.0, "alexnet": 0.12},
    )
    c = claim_weight_decay_memorizes(grid + runs)  # the plain runs are not counted
    assert c.verdict == SUPPORTED
    assert "weight decay used: 0.0005" in c.evidence
    assert "mlp_1x512 with weight decay 0.0005 1/1" in c.evidence and "alexnet" not in c.evidence
    a = claim_alexnet_weight_decay(grid + runs)
    assert a.verdict == SUPPORTED
    assert "alexnet-random_labels-wd0.0005-s0: not fitted (12.00%" in a.evidence
    # The opposite outcomes.
    runs = _regularized(tmp_path / "other", {"mlp_3x512": 0.6, "alexnet": 1.0})
    c = claim_weight_decay_memorizes(runs)
    assert (
        c.verdict == NOT_SUPPORTED and "did not fit: mlp_3x512-random_labels-wd0.0005" in c.evidence
    )
    assert claim_alexnet_weight_decay(runs).verdict == NOT_SUPPORTED
    # A diverged AlexNet did not converge either.
    diverged = tmp_path / "diverged"
    write_run(diverged, paper_spec("alexnet", "random_labels", weight_decay=5e-4), diverge_at=300)
    a = claim_alexnet_weight_decay(_load(diverged))
    assert a.verdict == SUPPORTED and ": diverged" in a.evidence
    # Not enough: only plain runs, or runs off the protocol.
    assert claim_weight_decay_memorizes(grid).verdict == NOT_ENOUGH
    assert claim_alexnet_weight_decay(grid).verdict == NOT_ENOUGH
    small = _regularized(tmp_path / "small", {"alexnet": 0.1, "inception": 1.0}, steps=500)
    assert claim_weight_decay_memorizes(small).verdict == NOT_ENOUGH
    assert claim_alexnet_weight_decay(small).verdict == NOT_ENOUGH
    # Unfinished AlexNet runs are not counted.
    unfinished = tmp_path / "unfinished"
    write_run(unfinished, paper_spec("alexnet", "random_labels", weight_decay=5e-4), stop_at=300)
    a = claim_alexnet_weight_decay(_load(unfinished))
    assert a.verdict == NOT_ENOUGH and "not counted" in a.evidence


def test_time_to_fit_verdict(tmp_path: Path, sweep: list[RunSummary]) -> None:
    c = claim_time_to_fit(sweep)
    assert c.verdict == SUPPORTED
    assert f"bound {MAX_SLOWDOWN:g}x" in c.evidence and "3.1x true labels" in c.evidence
    assert "largest factor 2.67x" in c.evidence  # random labels: 1600 / 600 steps

    slow = 3_600  # 6x the true labels' 600 steps: twice the reproduction's 3.1x
    write_run(tmp_path / "slow", paper_spec("mlp_1x512", "true_labels"), fit_step=600)
    write_run(tmp_path / "slow", paper_spec("mlp_1x512", "random_labels"), fit_step=slow)
    c = claim_time_to_fit(_load(tmp_path / "slow"))
    assert c.verdict == NOT_SUPPORTED and f"largest factor {slow / 600:.2f}x" in c.evidence

    write_run(tmp_path / "never", paper_spec("mlp_1x512", "true_labels"), fit_step=600)
    write_run(tmp_path / "never", paper_spec("mlp_1x512", "random_labels"), fit_step=None)
    c = claim_time_to_fit(_load(tmp_path / "never"))
    assert c.verdict == NOT_SUPPORTED
    assert "never fitted" in c.evidence and "mlp_1x512-random_labels-s0" in c.evidence

    spec = paper_spec("mlp_1x512", "partial_labels", level=0.5)
    write_run(tmp_path / "busy", spec, fit_step=1100, stop_at=900)  # unfinished, not fitted yet
    busy = sweep + _load(tmp_path / "busy")
    c = claim_time_to_fit(busy)
    assert c.verdict == NOT_ENOUGH and f"unfinished, not fitted yet: {spec.run_id}" in c.evidence
    assert claim_time_to_fit([]).verdict == NOT_ENOUGH


def test_smoke_grid_is_not_compared_with_the_paper(smoke: list[RunSummary]) -> None:
    report = build_report(smoke, folder="smoke")
    assert report.protocol.startswith("not the paper's protocol: 500 training images")
    assert "no comparison with the paper's numbers" in report.protocol
    assert report.table1 == () and report.figure1a == ()
    assert {c.verdict for c in report.claims} == {NOT_ENOUGH}
    assert all("paper's protocol" in c.evidence for c in report.claims)
    (group,) = report.deviations
    assert len(group.run_ids) == len(smoke) and "batch 16" in group.deviations
    md = render_markdown(report)
    assert "- protocol: not the paper's protocol: 500 training images" in md
    assert "## Table 1" not in md and "paper train" not in md and "76.07" not in md
    assert "## Not the paper's protocol: settings" in md
    assert "## Not the paper's protocol: slowdown" in md
    # Every run, its settings row, and each slowdown row (one per run: one seed).
    assert md.count("| off #1 |") == 2 * len(smoke) + 1
    data = report_dict(report)
    assert not data["table1"] and all(r["protocol_deviations"] for r in data["runs"])


def test_mixed_grid_judges_the_protocol_runs_only(
    grid: list[RunSummary], smoke: list[RunSummary]
) -> None:
    report = build_report(grid + smoke)
    assert f"for {len(grid)} of {len(grid) + len(smoke)} runs" in report.protocol
    assert [t.runs for t in report.table1] == [t.runs for t in table1(grid)]
    by_claim = {c.claim: c.verdict for c in report.claims}
    assert by_claim == {c.claim: c.verdict for c in build_report(grid).claims}


def test_window_mean_is_the_marked_fallback(grid: list[RunSummary]) -> None:
    """Runs without a training-split evaluation (old folders, runs ended early)."""
    old = [dataclasses.replace(r, train_acc=None) if r.model == "alexnet" else r for r in grid]
    assert {r.train_acc_measure for r in old if r.model == "alexnet"} == {"window"}
    rows = {(t.model, t.corruption): t for t in table1(old)}
    assert rows[("alexnet", "true_labels")].train_measure == "window"
    assert rows[("mlp_1x512", "true_labels")].train_measure == "evaluation"
    report = build_report(old)
    md = render_markdown(report)
    assert f"| 100.00% {WINDOW_MARK} |" in md  # an alexnet run
    assert "| 100.00% |" in md  # an mlp run: evaluated
    assert f"| 100.00 {WINDOW_MARK} |" in md  # Table 1, alexnet
    assert "whole training split, inference mode" in md and "running mean" in md
    c = claim_fitted(old)
    assert c.verdict == SUPPORTED and "judged by the window mean" in c.evidence
    data = report_dict(report)
    measures = {(r["model"], r["train_acc_measure"]) for r in data["runs"]}
    assert measures == {("alexnet", "window"), ("mlp_1x512", "evaluation")}


def test_claims_supported_on_a_grid_that_behaves_like_the_paper(
    grid: list[RunSummary], sweep: list[RunSummary]
) -> None:
    assert claim_fitted(grid).verdict == SUPPORTED
    assert claim_time_to_fit(grid).verdict == SUPPORTED
    assert claim_slow_start(grid).verdict == SUPPORTED
    assert claim_test_error(grid).verdict == SUPPORTED  # 50% at p=0, 90% at p=1
    c = claim_test_error(sweep)
    assert c.verdict == SUPPORTED
    assert f"{100 * error_at_level(0.5):.0f}% (p=0.5)" in c.evidence


def test_claims_not_supported_with_counter_evidence(tmp_path: Path, grid: list[RunSummary]) -> None:
    write_run(tmp_path, paper_spec("alexnet", "random_pixels"), fit_step=None)
    never = _load(tmp_path)
    c = claim_fitted(grid + never)
    assert c.verdict == NOT_SUPPORTED and "alexnet-random_pixels-s0" in c.evidence

    early = [dataclasses.replace(r, first_drop_step=100) for r in grid]
    assert claim_slow_start(early).verdict == NOT_SUPPORTED

    falling = [
        dataclasses.replace(r, test_acc=0.9 - r.test_acc) if r.test_acc is not None else r
        for r in grid
    ]
    assert claim_test_error(falling).verdict == NOT_SUPPORTED


def test_claims_without_enough_data(tmp_path: Path) -> None:
    write_run(tmp_path, paper_spec("mlp_1x512", "gaussian"))
    write_run(tmp_path, paper_spec("mlp_1x512", "true_labels"), stop_at=300)
    runs = _load(tmp_path)
    assert claim_slow_start(runs).verdict == NOT_ENOUGH
    assert claim_test_error(runs).verdict == NOT_ENOUGH
    assert claim_time_to_fit(runs).verdict == NOT_ENOUGH  # the baseline is still running
    fitted = claim_fitted(runs)
    assert fitted.verdict == SUPPORTED  # the gaussian run fitted; the partial one is not counted
    assert "not counted: mlp_1x512-true_labels-s0 (unfinished)" in fitted.evidence
    assert claim_fitted([]).verdict == NOT_ENOUGH


def test_report_renders_markdown_json_and_rich(grid: list[RunSummary]) -> None:
    report = build_report(grid, folder="grid_x")
    md = render_markdown(report)
    assert md.startswith("# rethink report: grid_x")
    assert "- protocol: the paper's protocol: 25,000 steps" in md
    assert md.count("| mlp_1x512 | random labels |") >= 2  # runs table and slowdown table
    assert "## Table 1" in md and "76.07" in md  # AlexNet, true labels, no crop, no wd
    assert "Not the paper's protocol" not in md
    assert "| 50.00% (50.00% @ 25,000) |" in md  # final test accuracy (best @ step)
    data = json.loads(json.dumps(report_dict(report), allow_nan=False))
    assert len(data["runs"]) == len(grid)
    assert data["protocol"] == report.protocol and data["rules"]["max_slowdown"] == MAX_SLOWDOWN
    verdicts = {c["claim"].split(" ")[0]: c["verdict"] for c in data["claims"]}
    assert len(data["claims"]) == 9 and set(verdicts.values()) == {SUPPORTED, NOT_ENOUGH}
    assert verdicts["With"] == NOT_ENOUGH  # no run with weight decay or random crop
    assert verdicts["BatchNorm"] == verdicts["Early"] == NOT_ENOUGH  # no Inception runs
    assert data["rules"]["early_stopping_max_gain_points"] == EARLY_STOP_MAX_GAIN
    assert {r["fit"] for r in data["runs"]} == {"fitted"}
    console = Console(width=250, record=True)
    for part in render_rich(report):
        console.print(part)
    text = console.export_text()
    assert "Table 1" in text and "The paper's claims" in text
    assert "protocol: the paper's protocol" in text and "Time to fit grows" in text
    rand = fit_step("mlp_1x512", "random_labels", 0) + fit_step("mlp_1x512", "random_labels", 1)
    ratio = rand / (
        fit_step("mlp_1x512", "true_labels", 0) + fit_step("mlp_1x512", "true_labels", 1)
    )
    assert f"{ratio:.2f}x" in md and f"{ratio:.2f}x" in text


def test_test_error_must_really_rise_and_untrained_models_do_not_count(
    grid: list[RunSummary],
) -> None:
    def at(summary: RunSummary, err: float) -> RunSummary:
        return dataclasses.replace(summary, test_acc=1 - err)

    leveled = [r for r in grid if r.level is not None and r.status == "completed" and r.plain]
    low = min(r.level for r in leveled if r.level is not None)
    flat_high = [at(r, 0.9) for r in leveled]  # chance at every level: nothing learned
    c = claim_test_error(flat_high)
    assert c.verdict == NOT_ENOUGH and "at chance already" in c.evidence
    barely = [at(r, 0.80 if r.level == low else 0.86) for r in leveled]  # rises 6 points only
    assert claim_test_error(barely).verdict == NOT_SUPPORTED


# --- Figure 2(b): BatchNorm and early stopping (section 3.1) -------------------------


def fig2_runs(
    root: Path,
    tests: dict[str, float],
    best: dict[str, float] | None = None,
    seeds: tuple[int, ...] = (0,),
    **kw: Any,
) -> list[RunSummary]:
    """True-label runs of the given Inceptions at these final test accuracies; `best`: a
    model's best test accuracy half-way, above its final one."""
    for model, test in tests.items():
        for seed in seeds:
            write_run(
                root,
                paper_spec(model, "true_labels", seed, **kw),
                test_acc=test,
                best_test_acc=(best or {}).get(model),
            )
    return _load(root)


def test_batchnorm_gap_of_three_to_four_points_is_supported(tmp_path: Path) -> None:
    runs = fig2_runs(tmp_path, {"inception": 0.86, "inception_no_bn": 0.825}, seeds=(0, 1))
    c = claim_batchnorm(runs)
    assert c.verdict == SUPPORTED
    assert "measured gap +3.50 points" in c.evidence
    assert "inception 86.00% (2 run(s))" in c.evidence
    assert "the paper's gap 3.75 points (3-4)" in c.evidence  # 85.75% vs 82.00%
    assert "85.75% vs 82.00%" in c.claim


@pytest.mark.parametrize(
    ("bn", "no_bn", "verdict"),
    [
        (0.92, 0.82, NOT_SUPPORTED),  # 10 points: far more than 3-4
        (0.82, 0.82, NOT_SUPPORTED),  # BatchNorm worth nothing
        (0.80, 0.83, NOT_SUPPORTED),  # BatchNorm worse
        (0.86, 0.82, SUPPORTED),  # 4 points
        (0.83, 0.82, SUPPORTED),  # 1 point: the edge, 3 - BATCHNORM_GAP_SLACK
        (0.88, 0.82, SUPPORTED),  # 6 points: the other edge, 4 + BATCHNORM_GAP_SLACK
        (0.889, 0.82, NOT_SUPPORTED),  # 6.9 points: past 4 + BATCHNORM_GAP_SLACK
    ],
)
def test_batchnorm_gap_outside_one_to_six_points_is_not_supported(
    tmp_path: Path, bn: float, no_bn: float, verdict: str
) -> None:
    c = claim_batchnorm(fig2_runs(tmp_path, {"inception": bn, "inception_no_bn": no_bn}))
    assert c.verdict == verdict
    assert f"measured gap {100 * (bn - no_bn):+.2f} points" in c.evidence


def test_batchnorm_needs_protocol_runs_of_both_inceptions(tmp_path: Path) -> None:
    only = fig2_runs(tmp_path / "one", {"inception": 0.86})
    c = claim_batchnorm(only)
    assert c.verdict == NOT_ENOUGH and "no completed inception_no_bn run" in c.evidence
    # Off the protocol (2,560 images, 2,400 steps): no verdict, whatever the gap.
    write_run(tmp_path / "off", spec_for("inception", "true_labels"), test_acc=0.92)
    write_run(tmp_path / "off", spec_for("inception_no_bn", "true_labels"), test_acc=0.82)
    off = _load(tmp_path / "off")
    assert claim_batchnorm(only + off).verdict == NOT_ENOUGH
    assert claim_early_stopping(off).verdict == NOT_ENOUGH
    # With weight decay it is not Figure 2(b)'s setting; a partial run has no final accuracy.
    wd = fig2_runs(tmp_path / "wd", {"inception_no_bn": 0.5}, weight_decay=5e-4)
    write_run(tmp_path / "part", paper_spec("inception_no_bn", "true_labels"), stop_at=5000)
    c = claim_batchnorm(only + wd + _load(tmp_path / "part"))
    assert c.verdict == NOT_ENOUGH and "not counted: inception_no_bn-true_labels-s0" in c.evidence


def test_early_stopping_helps_no_run_by_more_than_a_point(tmp_path: Path) -> None:
    tests = {"inception": 0.86, "inception_no_bn": 0.82}
    # The test accuracy only climbs: the best is the final evaluation, no gain.
    c = claim_early_stopping(fig2_runs(tmp_path / "flat", tests))
    assert c.verdict == SUPPORTED
    assert "inception_no_bn-true_labels-s0 +0.00 (best 82.00% @ step 25,000" in c.evidence
    # Half a point above the final one is still none.
    near = fig2_runs(tmp_path / "near", tests, best={"inception_no_bn": 0.825})
    assert claim_early_stopping(near).verdict == SUPPORTED


def test_early_stopping_fails_where_a_run_peaked_three_points_above_its_end(
    tmp_path: Path,
) -> None:
    tests = {"inception": 0.86, "inception_no_bn": 0.82}
    runs = fig2_runs(tmp_path, tests, best={"inception_no_bn": 0.85})
    (peaked,) = [r for r in runs if r.model == "inception_no_bn"]
    assert peaked.best_test_step is not None and peaked.best_test_step < 25_000
    c = claim_early_stopping(runs)
    assert c.verdict == NOT_SUPPORTED
    assert (
        f"inception_no_bn-true_labels-s0 +3.00 (best 85.00% @ step "
        f"{peaked.best_test_step:,}, final 82.00%)" in c.evidence
    )
    assert "would have helped: inception_no_bn-true_labels-s0" in c.evidence
    assert "inception-true_labels-s0 +0.00" in c.evidence
    assert claim_early_stopping([]).verdict == NOT_ENOUGH


def test_figure_2b_claims_render_in_markdown_json_and_rich(tmp_path: Path) -> None:
    tests = {"inception": 0.86, "inception_no_bn": 0.825}
    report = build_report(fig2_runs(tmp_path, tests, best={"inception_no_bn": 0.86}))
    md = render_markdown(report)
    assert "| BatchNorm changes test accuracy by only 3-4 points" in md
    assert "| Early stopping would not have helped" in md
    assert f"| {SUPPORTED} | measured gap +3.50 points" in md
    assert f"| {NOT_SUPPORTED} | gain = best test accuracy" in md
    data = json.loads(json.dumps(report_dict(report), allow_nan=False))
    verdicts = {c["claim"].split(" ")[0]: c["verdict"] for c in data["claims"]}
    assert verdicts["BatchNorm"] == SUPPORTED and verdicts["Early"] == NOT_SUPPORTED
    assert data["rules"]["batchnorm_gap_paper_points"] == [3.0, 4.0]
    assert data["rules"]["batchnorm_gap_slack_points"] == BATCHNORM_GAP_SLACK
    console = Console(width=250, record=True)
    for part in render_rich(report):
        console.print(part)
    text = console.export_text()
    assert "BatchNorm changes test accuracy" in text and "Early stopping would not" in text
    assert "+3.50 points" in text


def test_alexnet_weight_decay_is_judged_on_the_tutorials_layers(tmp_path: Path) -> None:
    # 5e-4 on every kernel fits; 0.004 on the hidden dense layers only (the TF tutorial's
    # AlexNet) does not: the verdict follows the tutorial's runs, the other is shown.
    write_run(
        tmp_path,
        paper_spec("alexnet", "random_labels", weight_decay=5e-4),
        plateau=700,
        fit_step=None,
        test_acc=0.1,
        train_acc=1.0,
    )
    tutorial = paper_spec(
        "alexnet", "random_labels", weight_decay=0.004, weight_decay_layers="hidden_dense"
    )
    write_run(tmp_path, tutorial, plateau=700, fit_step=None, test_acc=0.1, train_acc=0.3)
    runs = _load(tmp_path)
    a = claim_alexnet_weight_decay(runs)
    assert a.verdict == SUPPORTED
    assert "0.004 on the hidden dense layers only" in a.evidence
    assert "alexnet-random_labels-wd0.004-hd-s0: not fitted (30.00%" in a.evidence
    assert "alexnet-random_labels-wd0.0005-s0: fitted" in a.evidence
    assert "the others are shown, not judged" in a.evidence
    # Without the tutorial's run the 5e-4 run decides.
    only = [r for r in runs if r.spec.weight_decay_layers == "all"]
    assert claim_alexnet_weight_decay(only).verdict == NOT_SUPPORTED


def test_table1_keeps_weight_decay_layers_apart(tmp_path: Path) -> None:
    for layers, acc in (("all", 1.0), ("hidden_dense", 0.5)):
        spec = paper_spec("alexnet", "true_labels", weight_decay=0.004, weight_decay_layers=layers)
        write_run(tmp_path, spec, train_acc=acc)
    rows = [t for t in table1(_load(tmp_path)) if t.weight_decay]
    assert sorted((t.weight_decay_layers, t.train) for t in rows) == [
        ("all", 100.0),
        ("hidden_dense", 50.0),
    ]
    md = render_markdown(build_report(_load(tmp_path)))
    assert "0.004 (hidden_dense)" in md
