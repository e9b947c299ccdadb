"""rethink.results.claims.figure1: time to fit, the slow start, test error rising to chance."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rethink.results.claims import NOT_ENOUGH, NOT_SUPPORTED, SUPPORTED
from rethink.results.claims.figure1 import (
    MAX_SLOWDOWN,
    claim_slow_start,
    claim_test_error,
    claim_time_to_fit,
)
from rethink.results.summary import RunSummary
from tests.helpers.run_folders import error_at_level, paper_spec, summaries, write_run


def test_figure_1_claims_supported_on_runs_that_behave_like_the_paper(
    paper_summaries: list[RunSummary], sweep_summaries: list[RunSummary]
) -> None:
    assert claim_time_to_fit(paper_summaries).verdict == SUPPORTED
    assert claim_slow_start(paper_summaries).verdict == SUPPORTED
    assert claim_test_error(paper_summaries).verdict == SUPPORTED  # 50% at p=0, 90% at p=1
    c = claim_test_error(sweep_summaries)
    assert c.verdict == SUPPORTED
    assert f"{100 * error_at_level(0.5):.0f}% (p=0.5)" in c.evidence


def test_time_to_fit_verdict(tmp_path: Path, sweep_summaries: list[RunSummary]) -> None:
    c = claim_time_to_fit(sweep_summaries)
    assert c.verdict == SUPPORTED
    assert f"bound {MAX_SLOWDOWN:g}x" in c.evidence and "3.1x true labels" in c.evidence
    assert "largest factor 2.67x" in c.evidence  # random labels: 1600 / 600 steps

    slow = 3_600  # 6x the true labels' 600 steps: twice the reproduction's 3.1x
    write_run(tmp_path / "slow", paper_spec("mlp_1x512", "true_labels"), fit_step=600)
    write_run(tmp_path / "slow", paper_spec("mlp_1x512", "random_labels"), fit_step=slow)
    c = claim_time_to_fit(summaries(tmp_path / "slow"))
    assert c.verdict == NOT_SUPPORTED and f"largest factor {slow / 600:.2f}x" in c.evidence

    write_run(tmp_path / "never", paper_spec("mlp_1x512", "true_labels"), fit_step=600)
    write_run(tmp_path / "never", paper_spec("mlp_1x512", "random_labels"), fit_step=None)
    c = claim_time_to_fit(summaries(tmp_path / "never"))
    assert c.verdict == NOT_SUPPORTED
    assert "never fitted" in c.evidence and "mlp_1x512-random_labels-s0" in c.evidence

    spec = paper_spec("mlp_1x512", "partial_labels", level=0.5)
    write_run(tmp_path / "busy", spec, fit_step=1100, stop_at=900)  # unfinished, not fitted yet
    busy = sweep_summaries + summaries(tmp_path / "busy")
    c = claim_time_to_fit(busy)
    assert c.verdict == NOT_ENOUGH and f"unfinished, not fitted yet: {spec.run_id}" in c.evidence
    assert claim_time_to_fit([]).verdict == NOT_ENOUGH


def test_slow_start_and_test_error_with_counter_evidence(
    paper_summaries: list[RunSummary],
) -> None:
    early = [dataclasses.replace(r, first_drop_step=100) for r in paper_summaries]
    assert claim_slow_start(early).verdict == NOT_SUPPORTED
    falling = [
        dataclasses.replace(r, test_acc=0.9 - r.test_acc) if r.test_acc is not None else r
        for r in paper_summaries
    ]
    assert claim_test_error(falling).verdict == NOT_SUPPORTED


def test_test_error_must_really_rise_and_untrained_models_do_not_count(
    paper_summaries: list[RunSummary],
) -> None:
    def at(summary: RunSummary, err: float) -> RunSummary:
        return dataclasses.replace(summary, test_acc=1 - err)

    leveled = [
        r for r in paper_summaries if r.level is not None and r.status == "completed" and r.plain
    ]
    low = min(r.level for r in leveled if r.level is not None)
    flat_high = [at(r, 0.9) for r in leveled]  # chance at every level: nothing learned
    c = claim_test_error(flat_high)
    assert c.verdict == NOT_ENOUGH and "at chance already" in c.evidence
    barely = [at(r, 0.80 if r.level == low else 0.86) for r in leveled]  # rises 6 points only
    assert claim_test_error(barely).verdict == NOT_SUPPORTED


def test_figure_1_claims_without_enough_data(tmp_path: Path) -> None:
    write_run(tmp_path, paper_spec("mlp_1x512", "gaussian"))
    write_run(tmp_path, paper_spec("mlp_1x512", "true_labels"), stop_at=300)
    runs = summaries(tmp_path)
    assert claim_slow_start(runs).verdict == NOT_ENOUGH
    assert claim_test_error(runs).verdict == NOT_ENOUGH
    assert claim_time_to_fit(runs).verdict == NOT_ENOUGH  # the baseline is still running
