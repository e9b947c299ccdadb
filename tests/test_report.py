"""rethink.report: run folders -> summaries, slowdowns, Table 1, claims, renderings."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from rich.console import Console

from rethink import paper
from rethink.report import (
    NOT_ENOUGH,
    NOT_SUPPORTED,
    SUPPORTED,
    build_report,
    claim_fitted,
    claim_slow_start,
    claim_test_error,
    slowdowns,
    table1,
)
from rethink.report_render import render_markdown, render_rich, report_dict
from rethink.summary import INCOMPLETE, START_LOSS, RunSummary, load_grid, run_dirs
from run_folders import (
    FIT_STEPS,
    error_at_level,
    fit_step,
    level_sweep,
    randomization_grid,
    spec_for,
    write_run,
)

MODELS = ("mlp_1x512", "alexnet")
SEEDS = (0, 1)


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> list[RunSummary]:
    root = randomization_grid(tmp_path_factory.mktemp("grid"), MODELS, SEEDS)
    return [r.summary for r in load_grid(root).runs]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> list[RunSummary]:
    root = level_sweep(tmp_path_factory.mktemp("sweep"), MODELS)
    return [r.summary for r in load_grid(root).runs]


def _one(runs: list[RunSummary], model: str, corruption: str, seed: int = 0) -> RunSummary:
    (run,) = [r for r in runs if (r.model, r.corruption, r.seed) == (model, corruption, seed)]
    return run


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
    assert s.wall_seconds == pytest.approx(result["wall_seconds"])
    assert (s.backend, s.device) == ("jax", "cpu")
    assert s.first_drop_step is not None and s.first_drop_step > 300
    rows = rd.metrics_rows()
    first_below = next(r["step"] for r in rows if r["train_loss"] <= START_LOSS)
    assert s.first_drop_step == first_below
    assert len(run.steps) == len(rows)


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
        assert t.train_diff == pytest.approx(t.train - row.train)


def test_table1_counts_completed_runs_only(tmp_path: Path) -> None:
    write_run(tmp_path, spec_for("mlp_3x512", "true_labels", weight_decay=5e-4), test_acc=0.6)
    write_run(tmp_path, spec_for("mlp_3x512", "true_labels", 1, weight_decay=5e-4), stop_at=500)
    (t,) = table1([r.summary for r in load_grid(tmp_path).runs])
    assert (t.weight_decay, t.runs) == (True, 1)
    assert t.paper_test == 53.35 and t.test_diff == pytest.approx(60.0 - 53.35)


def test_claims_supported_on_a_grid_that_behaves_like_the_paper(
    grid: list[RunSummary], sweep: list[RunSummary]
) -> None:
    assert claim_fitted(grid).verdict == SUPPORTED
    assert claim_slow_start(grid).verdict == SUPPORTED
    assert claim_test_error(grid).verdict == SUPPORTED  # 50% at p=0, 90% at p=1
    c = claim_test_error(sweep)
    assert c.verdict == SUPPORTED
    assert f"{100 * error_at_level(0.5):.0f}% (p=0.5)" in c.evidence


def test_claims_not_supported_with_counter_evidence(tmp_path: Path, grid: list[RunSummary]) -> None:
    write_run(tmp_path, spec_for("alexnet", "random_pixels"), fit_step=None)
    never = [r.summary for r in load_grid(tmp_path).runs]
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
    write_run(tmp_path, spec_for("mlp_1x512", "gaussian"))
    write_run(tmp_path, spec_for("mlp_1x512", "true_labels"), stop_at=300)
    runs = [r.summary for r in load_grid(tmp_path).runs]
    assert claim_slow_start(runs).verdict == NOT_ENOUGH
    assert claim_test_error(runs).verdict == NOT_ENOUGH
    fitted = claim_fitted(runs)
    assert fitted.verdict == SUPPORTED  # the gaussian run fitted; the partial one is not counted
    assert "1 run(s) not counted" in fitted.evidence
    assert claim_fitted([]).verdict == NOT_ENOUGH


def test_report_renders_markdown_json_and_rich(grid: list[RunSummary]) -> None:
    report = build_report(grid, folder="grid_x")
    md = render_markdown(report)
    assert md.startswith("# rethink report: grid_x")
    assert md.count("| mlp_1x512 | random labels |") >= 2  # runs table and slowdown table
    assert "## Table 1" in md and "76.07" in md  # AlexNet, true labels, no crop, no wd
    data = json.loads(json.dumps(report_dict(report), allow_nan=False))
    assert len(data["runs"]) == len(grid)
    assert {c["verdict"] for c in data["claims"]} == {SUPPORTED}
    console = Console(width=250, record=True)
    for table in render_rich(report):
        console.print(table)
    text = console.export_text()
    assert "Table 1" in text and "The paper's claims" in text
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
