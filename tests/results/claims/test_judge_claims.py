"""rethink.results.claims: every claim judged at once (CLAIMS, judge_claims)."""

from __future__ import annotations

from pathlib import Path

from rethink.results.claims import (
    CLAIMS,
    NOT_ENOUGH,
    NOT_SUPPORTED,
    SUPPORTED,
    claim_fitted,
    judge_claims,
)
from rethink.results.summary import RunSummary
from tests.helpers.run_folders import THREE, paper_spec, summaries, write_run


def test_every_claim_once_per_data_set(tmp_path: Path, paper_summaries: list[RunSummary]) -> None:
    assert claim_fitted(paper_summaries).verdict == SUPPORTED
    claims = judge_claims(paper_summaries)
    assert [c.claim for c in claims] == [judge(paper_summaries).claim for judge in CLAIMS]
    assert len(claims) == 9 and {c.verdict for c in claims} == {SUPPORTED, NOT_ENOUGH}
    write_run(tmp_path, paper_spec("mlp_1x512", "true_labels"), dataset=THREE)
    three = summaries(tmp_path)
    both = judge_claims(paper_summaries + three)
    assert len(both) == 18
    assert [c.claim for c in both[9:]] == [f"[my_images] {c.claim}" for c in judge_claims(three)]
    assert [c.verdict for c in both[:9]] == [c.verdict for c in claims]


def test_fitted_with_counter_evidence_and_without_enough_data(
    tmp_path: Path, paper_summaries: list[RunSummary]
) -> None:
    write_run(tmp_path / "never", paper_spec("alexnet", "random_pixels"), fit_step=None)
    c = claim_fitted(paper_summaries + summaries(tmp_path / "never"))
    assert c.verdict == NOT_SUPPORTED and "alexnet-random_pixels-s0" in c.evidence
    write_run(tmp_path / "few", paper_spec("mlp_1x512", "gaussian"))
    write_run(tmp_path / "few", paper_spec("mlp_1x512", "true_labels"), stop_at=300)
    fitted = claim_fitted(summaries(tmp_path / "few"))
    assert fitted.verdict == SUPPORTED  # the gaussian run fitted; the partial one is not counted
    assert "not counted: mlp_1x512-true_labels-s0 (unfinished)" in fitted.evidence
    assert claim_fitted([]).verdict == NOT_ENOUGH
