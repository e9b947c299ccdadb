"""rethink.results.claims.figure2b: BatchNorm's 3-4 points, and no benefit of early stopping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rethink.results.claims import NOT_ENOUGH, NOT_SUPPORTED, SUPPORTED
from rethink.results.claims.figure2b import claim_batchnorm, claim_early_stopping
from rethink.results.summary import RunSummary
from tests.helpers.run_folders import paper_spec, spec_for, summaries, write_run


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
    return summaries(root)


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
    off = summaries(tmp_path / "off")
    assert claim_batchnorm(only + off).verdict == NOT_ENOUGH
    assert claim_early_stopping(off).verdict == NOT_ENOUGH
    # With weight decay it is not Figure 2(b)'s setting; a partial run has no final accuracy.
    wd = fig2_runs(tmp_path / "wd", {"inception_no_bn": 0.5}, weight_decay=5e-4)
    write_run(tmp_path / "part", paper_spec("inception_no_bn", "true_labels"), stop_at=5000)
    c = claim_batchnorm(only + wd + summaries(tmp_path / "part"))
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
