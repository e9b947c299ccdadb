"""rethink.results.claims.fitting: the fit rule, and the claims about fitting (Table 1, section 3)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from rethink import paper
from rethink.results.claims import NOT_ENOUGH, NOT_SUPPORTED, SUPPORTED, Claim
from rethink.results.claims.fitting import (
    FIT_DEFAULT,
    FIT_TOLERANCE,
    FITTED,
    NOT_FITTED,
    UNFINISHED,
    FitClaim,
    claim_alexnet_weight_decay,
    claim_fitted,
    claim_regularized_fit,
    claim_weight_decay_memorizes,
    fit_outcome,
    required_train_acc,
)
from rethink.results.summary import RunSummary
from tests.helpers.run_folders import paper_spec, summaries, write_run


def _fits(tmp_path: Path, train_acc: float, corruption: str = "random_labels") -> Claim:
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
    runs = summaries(tmp_path)
    assert {r.train_acc_measure for r in runs} == {"evaluation"}
    return claim_fitted(runs)


def test_fits_within_the_papers_figure_for_the_row(tmp_path: Path) -> None:
    # Table 1: MLP 1x512 on random labels reached 99.34% in the paper.
    row = paper.table1_row("mlp_1x512", "random_labels", False, False)
    assert row is not None
    need = row.train - FIT_TOLERANCE
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


def test_fit_outcome_of_runs_that_ended_every_way(tmp_path: Path) -> None:
    write_run(tmp_path, paper_spec("alexnet", "true_labels"), train_acc=1.0)
    write_run(tmp_path, paper_spec("alexnet", "gaussian"), train_acc=0.9)
    write_run(tmp_path, paper_spec("alexnet", "random_labels"), stop_at=300)
    write_run(tmp_path, paper_spec("alexnet", "shuffled_pixels"), diverge_at=300)
    outcomes = {r.corruption: fit_outcome(r) for r in summaries(tmp_path)}
    assert outcomes == {
        "true_labels": FITTED,
        "gaussian": NOT_FITTED,
        "random_labels": UNFINISHED,
        "shuffled_pixels": "diverged",
    }
    (true,) = [r for r in summaries(tmp_path) if r.corruption == "true_labels"]
    assert required_train_acc(true) == 100.0 - FIT_TOLERANCE  # Table 1: 100%


def test_runs_stopped_at_fit_fit_by_their_steps_to_fit(tmp_path: Path) -> None:
    spec = paper_spec("mlp_1x512", "partial_labels", level=0.5, stop_at_fit=True)
    write_run(tmp_path / "a", spec, fit_step=1100, train_acc=0.97)
    c = claim_fitted(summaries(tmp_path / "a"))
    assert c.verdict == SUPPORTED and "1/1" in c.evidence
    write_run(tmp_path / "b", spec, fit_step=None)  # ran its 25k steps without fitting
    c = claim_fitted(summaries(tmp_path / "b"))
    assert c.verdict == NOT_SUPPORTED and spec.run_id in c.evidence


def test_regularized_runs_have_their_own_verdict(
    tmp_path: Path, paper_summaries: list[RunSummary]
) -> None:
    write_run(tmp_path, paper_spec("alexnet", "true_labels", weight_decay=5e-4, augment=True))
    write_run(tmp_path, paper_spec("mlp_1x512", "true_labels", weight_decay=5e-4), train_acc=0.9)
    regularized = summaries(tmp_path)
    runs = paper_summaries + regularized
    assert claim_fitted(runs).verdict == SUPPORTED  # judged on the plain runs only
    c = claim_regularized_fit(runs)
    assert c.verdict == NOT_SUPPORTED
    assert "weight decay used: 0.0005" in c.evidence
    assert "alexnet with weight decay 0.0005 + random crop 1/1" in c.evidence
    assert "did not fit: mlp_1x512-true_labels-wd0.0005-s0 (90.00%" in c.evidence
    ok = [dataclasses.replace(r, train_acc=0.999) for r in regularized]
    assert claim_regularized_fit(paper_summaries + ok).verdict == SUPPORTED  # 99.80% - 0.5
    assert claim_regularized_fit(paper_summaries).verdict == NOT_ENOUGH


def test_a_fit_claim_is_a_row_of_which_runs_and_how_they_are_grouped(
    paper_summaries: list[RunSummary],
) -> None:
    """A new claim of the same rule: only the random-label runs, grouped by model."""
    random_fit = FitClaim(
        claim="Random labels fit.",
        wanted=lambda r: r.corruption == "random_labels",
        none="no random labels",
        group=lambda r: r.model,
        preface=lambda runs: f"{len(runs)} runs",
    )
    c = random_fit(paper_summaries)
    assert c.claim == "Random labels fit." and c.verdict == SUPPORTED
    assert c.evidence.startswith("4 runs; fit: training accuracy >= the paper's Table 1")
    assert c.evidence.endswith("fitted: alexnet 2/2, mlp_1x512 2/2")
    none = random_fit([r for r in paper_summaries if r.corruption != "random_labels"])
    assert (none.verdict, none.evidence) == (NOT_ENOUGH, "no random labels")


def _regularized(root: Path, accs: dict[str, float], **kw: Any) -> list[RunSummary]:
    """The regularized preset's runs (random labels, weight decay) ending at `accs`."""
    for model, acc in accs.items():
        spec = paper_spec(model, "random_labels", weight_decay=5e-4, **kw)
        write_run(root, spec, plateau=700, fit_step=None, test_acc=0.1, train_acc=acc)
    return summaries(root)


def test_weight_decay_does_not_stop_memorization_verdicts(
    tmp_path: Path, paper_summaries: list[RunSummary]
) -> None:
    grid = paper_summaries
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
    a = claim_alexnet_weight_decay(summaries(diverged))
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
    a = claim_alexnet_weight_decay(summaries(unfinished))
    assert a.verdict == NOT_ENOUGH and "not counted" in a.evidence


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
    runs = summaries(tmp_path)
    a = claim_alexnet_weight_decay(runs)
    assert a.verdict == SUPPORTED
    assert "0.004 on the hidden dense layers only" in a.evidence
    assert "alexnet-random_labels-wd0.004-hd-s0: not fitted (30.00%" in a.evidence
    assert "alexnet-random_labels-wd0.0005-s0: fitted" in a.evidence
    assert "the others are shown, not judged" in a.evidence
    # Without the tutorial's run the 5e-4 run decides.
    only = [r for r in runs if r.spec.weight_decay_layers == "all"]
    assert claim_alexnet_weight_decay(only).verdict == NOT_SUPPORTED
