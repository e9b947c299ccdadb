"""The claims of Figure 1: time to fit grows by a small factor, random labels start late,
test error rises to chance.

    claim_time_to_fit(runs)   # Figure 1b: every slowdown against level 0 <= MAX_SLOWDOWN
    claim_slow_start(runs)    # Figure 1a: random labels' loss drops later, then converges
    claim_test_error(runs)    # Figure 1c: rises with the level, to chance at level 1

Each judges the plain runs (no weight decay, no augmentation) of one data set
on the paper's protocol, with that data set's chance level. Pure Python.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from rethink import paper
from rethink.base.text import factor, number, percent
from rethink.results.claims.claim import (
    NOT_ENOUGH,
    NOT_SUPPORTED,
    SUPPORTED,
    Claim,
    chance_text,
    not_counted,
)
from rethink.results.comparisons import mean, mean_if_all, slowdowns
from rethink.results.protocol import on_protocol
from rethink.results.summary import INCOMPLETE, RunSummary, one_dataset, start_loss, train_acc_text
from rethink.train.outcome import Status

# Figure 1b's "small constant factor": the largest slowdown of time to fit
# (steps to fit against the model's level-0 baseline) still counted as small.
# The independent Figure 1a reproduction (docs/paper.md) puts random labels,
# the slowest randomization, at 17.7k / 5.7k = 3.1x true labels; Figure 1b
# shows every level within a few times the true-label time for all three
# models. 5x leaves room for seeds and for the other models around that 3.1x;
# a randomization needing more than five times as long is no longer the
# paper's "small constant factor".
MAX_SLOWDOWN = 5.0
TEST_ERROR_SLACK = 0.02  # test error may dip this much between levels and still "rise"
CHANCE_SLACK = 0.05  # test error at level 1 within this of chance (CIFAR-10: 90%) reaches it
RISE_MIN = 0.10  # test error must grow by at least this from the lowest level to the highest


def _plain_on_protocol(runs: Sequence[RunSummary]) -> list[RunSummary]:
    return [r for r in runs if r.plain and on_protocol(r)]


def claim_time_to_fit(runs: Sequence[RunSummary]) -> Claim:
    """Figure 1b: time to fit grows only by a small constant factor (<= MAX_SLOWDOWN)."""
    claim = (
        "Time to fit grows only by a small constant factor with the randomization or "
        f"label-corruption level (Figure 1b): at most {MAX_SLOWDOWN:g}x the level-0 steps."
    )
    one_dataset(runs)  # one data set: claims never compare across two
    chosen = _plain_on_protocol(runs)
    if not chosen:
        return Claim(claim, NOT_ENOUGH, "no run without regularizers on the paper's protocol")
    repro = paper.FIGURE1A_STEPS_TO_LOSS
    thresholds = " / ".join(percent(t, 0) for t in sorted({r.fit_threshold for r in chosen}))
    bound = (
        f"bound {MAX_SLOWDOWN:g}x (the Figure 1a reproduction: random labels "
        f"{repro['random_labels'] / repro['true_labels']:.1f}x true labels); time to fit: "
        f"steps to the first full window at {thresholds or '100%'} training accuracy"
    )
    found = [s for s in slowdowns(chosen) if s.level != 0.0]
    parts, measured = [], []
    for model in dict.fromkeys(s.model for s in found):
        mine = [
            s
            for s in found
            if s.model == model and s.measure == "steps_to_fit" and s.ratio is not None
        ]
        measured += mine
        if mine:
            parts.append(
                f"{model} (baseline {mine[0].baseline}, {number(mine[0].baseline_steps)} "
                "steps): " + ", ".join(f"{s.randomization} {factor(s.ratio)}" for s in mine)
            )
    unfitted = [r for r in chosen if r.steps_to_fit is None]
    failed = [
        f"{r.run_id} ({r.status}, train acc {train_acc_text(r)} at step {number(r.step)})"
        for r in unfitted
        if r.status == Status.COMPLETED
    ]
    pending = [r.run_id for r in unfitted if r.status == INCOMPLETE]
    others = [
        f"{r.run_id} ({r.status})"
        for r in unfitted
        if r.status not in (Status.COMPLETED, INCOMPLETE)
    ]
    evidence = bound + "; " + ("; ".join(parts) or "no slowdown measured by steps to fit")
    largest = max(measured, key=lambda s: s.ratio or 0.0, default=None)
    if largest is not None:
        evidence += (
            f"; largest factor {factor(largest.ratio)} ({largest.model}, {largest.randomization})"
        )
    if failed:
        evidence += "; never fitted (no full window at the fit threshold): " + ", ".join(failed)
    if pending:
        evidence += "; unfinished, not fitted yet: " + ", ".join(pending)
    evidence += not_counted(others)
    too_slow = largest is not None and (largest.ratio or 0.0) > MAX_SLOWDOWN
    if failed or too_slow:
        verdict = NOT_SUPPORTED
    elif pending or not measured:
        verdict = NOT_ENOUGH
        if not measured:
            evidence += "; needs, per model, level-0 runs and another level fitted"
    else:
        verdict = SUPPORTED
    return Claim(claim, verdict, evidence)


def claim_slow_start(runs: Sequence[RunSummary]) -> Claim:
    """Random labels start later (first drop of the loss) than true labels, then converge."""
    dataset = one_dataset(runs)
    k = dataset.num_classes
    claim = (
        "Random labels take longer to start (the loss first drops below "
        f"{start_loss(k):.2f} = 0.9 ln {k} later than with true labels), then converge."
    )
    plain = _plain_on_protocol(runs)
    parts, later, converged = [], [], []
    for model in sorted({r.model for r in plain}):
        true = [r for r in plain if r.model == model and r.corruption == "true_labels"]
        rand = [r for r in plain if r.model == model and r.corruption == "random_labels"]
        t_drop = mean(r.first_drop_step for r in true)
        r_drop = mean_if_all([r.first_drop_step for r in rand])
        done = [
            r for r in rand if r.status == Status.COMPLETED or r.steps_to_loss or r.steps_to_fit
        ]
        ok = [r for r in done if r.steps_to_loss is not None or r.steps_to_fit is not None]
        if t_drop is None or r_drop is None:
            continue
        later.append(r_drop > t_drop)
        converged.append(len(ok) == len(done))
        parts.append(
            f"{model}: first drop at {number(t_drop)} (true) vs {number(r_drop)} steps "
            f"(random), random labels converged in {len(ok)}/{len(done)} finished run(s)"
        )
    if not parts:
        return Claim(
            claim,
            NOT_ENOUGH,
            "no model with both true- and random-label curves on the paper's protocol",
        )
    verdict = SUPPORTED if all(later) and all(converged) else NOT_SUPPORTED
    return Claim(claim, verdict, "; ".join(parts))


def claim_test_error(runs: Sequence[RunSummary]) -> Claim:
    """Test error rises with the label-corruption level, to about chance at level 1:
    1 - 1/classes of the runs' data set (CIFAR-10: 90%)."""
    dataset = one_dataset(runs)
    chance = dataset.chance_error
    claim = (
        f"Test error rises with the label-corruption level, to about {chance_text(dataset)} "
        "when every label is random (Figure 1c)."
    )
    done = [
        r for r in _plain_on_protocol(runs) if r.level is not None and r.status == Status.COMPLETED
    ]
    parts, rising, at_chance, untrained = [], [], [], []
    for model in sorted({r.model for r in done}):
        by_level: dict[float, list[float]] = {}
        for r in done:
            if r.model == model and r.test_acc is not None:
                by_level.setdefault(float(r.level or 0.0), []).append(1 - r.test_acc)
        if len(by_level) < 2:
            continue
        levels = sorted(by_level)
        errors = [sum(by_level[p]) / len(by_level[p]) for p in levels]
        steps = " -> ".join(
            f"{percent(e, 0)} (p={p:g})" for p, e in zip(levels, errors, strict=True)
        )
        if errors[0] >= chance - CHANCE_SLACK:
            # At chance already at the lowest level: the model learned nothing to lose.
            untrained.append(f"{model}: {steps}")
            continue
        rising.append(
            all(b >= a - TEST_ERROR_SLACK for a, b in itertools.pairwise(errors))
            and errors[-1] - errors[0] >= RISE_MIN
        )
        if levels[-1] == 1.0:
            at_chance.append(errors[-1] >= chance - CHANCE_SLACK)
        parts.append(f"{model}: {steps}")
    note = (
        "; not counted, at chance already at the lowest level (too little training): "
        + "; ".join(untrained)
        if untrained
        else ""
    )
    if not parts:
        if untrained:
            return Claim(claim, NOT_ENOUGH, note.removeprefix("; "))
        return Claim(
            claim,
            NOT_ENOUGH,
            "no model with completed runs at two or more levels on the paper's protocol",
        )
    evidence = "; ".join(parts) + note
    if not all(rising) or not all(at_chance):
        verdict = NOT_SUPPORTED
    else:
        verdict = SUPPORTED if at_chance else NOT_ENOUGH
        if not at_chance:
            evidence += "; no completed run at level 1 (random labels)"
    return Claim(claim, verdict, evidence)
