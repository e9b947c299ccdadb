"""The paper's claims, each judged on runs: a `Claim` with its verdict and evidence.

    judge_claims(runs)        # every claim in CLAIMS, per data set
    claim_fitted(runs)        # one of them: Claim(claim, verdict, evidence)

Nine claims: the fitting claims of Table 1 and section 3 (`fitting`: rows of
one rule, and AlexNet's failure to converge), Figure 1's (`figure1`: time to
fit, the slow start on random labels, test error rising to chance) and
Figure 2(b)'s (`figure2b`: BatchNorm's gap, early stopping). Each judge takes
the runs of one data set and looks only at runs on the paper's protocol
(`rethink.results.protocol`). The tolerances are constants of the module
that judges with them; docs/paper.md (section 6) explains each. Pure Python.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from rethink.results.claims.claim import NOT_ENOUGH, NOT_SUPPORTED, SUPPORTED, Claim
from rethink.results.claims.figure1 import (
    CHANCE_SLACK,
    MAX_SLOWDOWN,
    claim_slow_start,
    claim_test_error,
    claim_time_to_fit,
)
from rethink.results.claims.figure2b import (
    BATCHNORM_GAP_SLACK,
    EARLY_STOP_MAX_GAIN,
    PAPER_BATCHNORM_GAP,
    claim_batchnorm,
    claim_early_stopping,
)
from rethink.results.claims.fitting import (
    FIT_DEFAULT,
    FIT_TOLERANCE,
    claim_alexnet_weight_decay,
    claim_fitted,
    claim_regularized_fit,
    claim_weight_decay_memorizes,
    fit_outcome,
)
from rethink.results.summary import CIFAR10, RunSummary, datasets_of

Judge = Callable[[Sequence[RunSummary]], Claim]
CLAIMS: tuple[Judge, ...] = (
    claim_fitted,
    claim_regularized_fit,
    claim_weight_decay_memorizes,
    claim_alexnet_weight_decay,
    claim_time_to_fit,
    claim_slow_start,
    claim_test_error,
    claim_batchnorm,
    claim_early_stopping,
)
# The constants the verdicts apply (--format json's "rules").
RULES = {
    "fit_tolerance_points": FIT_TOLERANCE,
    "fit_default_percent": FIT_DEFAULT,
    "max_slowdown": MAX_SLOWDOWN,
    "batchnorm_gap_paper_points": list(PAPER_BATCHNORM_GAP),
    "batchnorm_gap_slack_points": BATCHNORM_GAP_SLACK,
    "early_stopping_max_gain_points": EARLY_STOP_MAX_GAIN,
    "chance_slack": CHANCE_SLACK,
}


def judge_claims(runs: Sequence[RunSummary]) -> list[Claim]:
    """Every claim, judged per data set: on a grid of several, each claim once per data
    set, named in front ("[mnist] ..."), on that data set's runs alone."""
    datasets = datasets_of(runs) or [CIFAR10]
    if len(datasets) == 1:
        return [judge(runs) for judge in CLAIMS]
    claims = []
    for dataset in datasets:
        mine = [r for r in runs if r.dataset == dataset]
        for judge in CLAIMS:
            c = judge(mine)
            claims.append(dataclasses.replace(c, claim=f"[{dataset.name}] {c.claim}"))
    return claims


__all__ = [
    "CLAIMS",
    "NOT_ENOUGH",
    "NOT_SUPPORTED",
    "RULES",
    "SUPPORTED",
    "Claim",
    "claim_alexnet_weight_decay",
    "claim_batchnorm",
    "claim_early_stopping",
    "claim_fitted",
    "claim_regularized_fit",
    "claim_slow_start",
    "claim_test_error",
    "claim_time_to_fit",
    "claim_weight_decay_memorizes",
    "fit_outcome",
    "judge_claims",
]
