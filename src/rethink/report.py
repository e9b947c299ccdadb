"""A grid folder's runs against the paper: slowdowns, Table 1, the paper's claims.

    grid = load_grid(Path("output_3"))          # rethink.summary
    report = build_report([r.summary for r in grid.runs], folder="output_3")
    render_markdown(report)                      # rethink.report_render: report.md
    report_dict(report)                          # --format json
    render_rich(report)                          # the same tables on the terminal

Building the data is pure Python/NumPy; rendering lives in `report_render`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rethink import paper
from rethink.rundir import COMPLETED
from rethink.spec import CORRUPTIONS
from rethink.summary import START_LOSS, RunSummary, randomization_label

TEST_ERROR_SLACK = 0.02  # test error may dip this much between levels and still "rise"
CHANCE_SLACK = 0.05  # test error at level 1 within this of 90% counts as "reaches 90%"
RISE_MIN = 0.10  # test error must grow by at least this from the lowest level to the highest

SUPPORTED, NOT_SUPPORTED, NOT_ENOUGH = "supported", "not supported", "not enough data"


@dataclass(frozen=True)
class Slowdown:
    """Steps a randomization needed against true labels, same model: the paper's factor."""

    model: str
    randomization: str
    corruption: str
    level: float | None
    measure: str | None  # "steps_to_fit", "steps_to_loss", or None when neither was reached
    steps: float | None  # mean over the randomization's runs (seeds)
    baseline_steps: float | None  # mean over the true-labels runs
    ratio: float | None
    runs: int
    baseline_runs: int


@dataclass(frozen=True)
class Table1Comparison:
    """Mean final accuracies (%) of completed runs beside the paper's Table 1 row."""

    model: str
    corruption: str
    random_crop: bool
    weight_decay: bool
    runs: int  # completed runs averaged
    train: float | None
    test: float | None
    paper_train: float | None
    paper_test: float | None
    train_diff: float | None  # ours - paper, percentage points
    test_diff: float | None


@dataclass(frozen=True)
class LossComparison:
    """Steps to training loss 0.01 beside the independent Figure 1a reproduction."""

    model: str
    corruption: str
    runs: int
    reached: int
    steps: float | None  # mean over the runs that reached the loss
    slowdown: float | None  # against our true labels
    paper_steps: int
    paper_slowdown: float  # against the reproduction's true labels


@dataclass(frozen=True)
class Claim:
    claim: str
    verdict: str  # SUPPORTED, NOT_SUPPORTED or NOT_ENOUGH
    evidence: str


@dataclass(frozen=True)
class Report:
    folder: str
    runs: tuple[RunSummary, ...]
    slowdowns: tuple[Slowdown, ...]
    table1: tuple[Table1Comparison, ...]
    figure1a: tuple[LossComparison, ...]
    claims: tuple[Claim, ...]
    notes: tuple[str, ...]


def _order(s: RunSummary) -> tuple[Any, ...]:
    return (s.model, CORRUPTIONS.index(s.corruption), s.level or 0.0, s.weight_decay, s.augment)


def _mean(values: Iterable[float | int | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _mean_if_all(values: Sequence[float | int | None]) -> float | None:
    return _mean(values) if values and all(v is not None for v in values) else None


def slowdowns(runs: Sequence[RunSummary]) -> list[Slowdown]:
    """Per model, each randomization's steps over true labels' (plain runs only).

    Steps to fit when every run of both reached it, else steps to the loss
    threshold when every run reached that, else no ratio.
    """
    plain = sorted((r for r in runs if r.plain), key=_order)
    out = []
    for model in dict.fromkeys(r.model for r in plain):
        base = [r for r in plain if r.model == model and r.corruption == "true_labels"]
        if not base:
            continue
        groups: dict[tuple[str, float | None], list[RunSummary]] = {}
        for r in plain:
            if r.model == model:
                groups.setdefault((r.corruption, r.level), []).append(r)
        for (corruption, level), group in groups.items():
            measure, steps, baseline = None, None, None
            for key in ("steps_to_fit", "steps_to_loss"):
                steps = _mean_if_all([getattr(r, key) for r in group])
                baseline = _mean_if_all([getattr(r, key) for r in base])
                if steps is not None and baseline is not None:
                    measure = key
                    break
            ratio = steps / baseline if measure and steps and baseline else None
            out.append(
                Slowdown(
                    model=model,
                    randomization=randomization_label(corruption, level),
                    corruption=corruption,
                    level=level,
                    measure=measure,
                    steps=steps if measure else None,
                    baseline_steps=baseline if measure else None,
                    ratio=ratio,
                    runs=len(group),
                    baseline_runs=len(base),
                )
            )
    return out


def table1(runs: Sequence[RunSummary]) -> list[Table1Comparison]:
    """Table 1 rows for the true/random-label settings present, with the paper's numbers."""
    groups: dict[tuple[str, str, bool, bool], list[RunSummary]] = {}
    for r in sorted(runs, key=_order):
        if r.corruption in ("true_labels", "random_labels"):
            key = (r.model, r.corruption, r.augment, r.weight_decay > 0)
            groups.setdefault(key, []).append(r)
    out = []
    for (model, corruption, crop, wd), group in groups.items():
        done = [r for r in group if r.status == COMPLETED]
        train = _mean(100 * r.train_acc for r in done if r.train_acc is not None)
        test = _mean(100 * r.test_acc for r in done if r.test_acc is not None)
        row = paper.table1_row(model, corruption, crop, wd)
        out.append(
            Table1Comparison(
                model=model,
                corruption=corruption,
                random_crop=crop,
                weight_decay=wd,
                runs=len(done),
                train=train,
                test=test,
                paper_train=row.train if row else None,
                paper_test=row.test if row else None,
                train_diff=train - row.train if row and train is not None else None,
                test_diff=test - row.test if row and test is not None else None,
            )
        )
    return out


def figure1a_comparison(
    runs: Sequence[RunSummary], model: str = paper.FIGURE1A_MODEL
) -> list[LossComparison]:
    """Our steps to loss 0.01 per randomization (plain runs of `model`) beside the paper's."""
    chosen = [
        r
        for r in runs
        if r.plain and r.model == model and r.loss_threshold == paper.FIGURE1A_LOSS_THRESHOLD
    ]
    means = {
        c: _mean(r.steps_to_loss for r in chosen if r.corruption == c)
        for c in paper.FIGURE1A_STEPS_TO_LOSS
    }
    ours_true = means["true_labels"]
    paper_true = paper.FIGURE1A_STEPS_TO_LOSS["true_labels"]
    out = []
    for corruption, paper_steps in paper.FIGURE1A_STEPS_TO_LOSS.items():
        group = [r for r in chosen if r.corruption == corruption]
        if not group:
            continue
        steps = means[corruption]
        out.append(
            LossComparison(
                model=model,
                corruption=corruption,
                runs=len(group),
                reached=sum(r.steps_to_loss is not None for r in group),
                steps=steps,
                slowdown=steps / ours_true if steps is not None and ours_true else None,
                paper_steps=paper_steps,
                paper_slowdown=paper_steps / paper_true,
            )
        )
    return out


def _pct(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def _steps(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def claim_fitted(runs: Sequence[RunSummary]) -> Claim:
    """Every randomization fits: training accuracy reaches the fit threshold."""
    thresholds = sorted({r.fit_threshold for r in runs})
    what = " / ".join(_pct(t, 0) for t in thresholds) or "100%"
    claim = f"Every randomization fits the training set (training accuracy reaches {what})."
    parts, failed, excluded = [], [], 0
    groups: dict[str, list[RunSummary]] = {}
    for r in sorted(runs, key=_order):
        groups.setdefault(r.randomization, []).append(r)
    for name, group in groups.items():
        fitted = [r for r in group if r.steps_to_fit is not None]
        decided = fitted + [r for r in group if r.steps_to_fit is None and r.status == COMPLETED]
        excluded += len(group) - len(decided)
        if decided:
            parts.append(f"{name} {len(fitted)}/{len(decided)}")
        failed += [r.run_id for r in decided if r.steps_to_fit is None]
    evidence = "runs fitted: " + (", ".join(parts) or "none decided")
    if failed:
        evidence += f"; never fitted: {', '.join(failed)}"
    if excluded:
        evidence += f"; {excluded} run(s) not counted (diverged, failed, stopped or unfinished)"
    verdict = NOT_SUPPORTED if failed else SUPPORTED if parts else NOT_ENOUGH
    return Claim(claim, verdict, evidence)


def claim_slow_start(runs: Sequence[RunSummary]) -> Claim:
    """Random labels start later (first drop of the loss) than true labels, then converge."""
    claim = (
        "Random labels take longer to start (the loss first drops below "
        f"{START_LOSS:.2f} = 0.9 ln 10 later than with true labels), then converge."
    )
    plain = [r for r in runs if r.plain]
    parts, later, converged, counted = [], [], [], 0
    for model in sorted({r.model for r in plain}):
        true = [r for r in plain if r.model == model and r.corruption == "true_labels"]
        rand = [r for r in plain if r.model == model and r.corruption == "random_labels"]
        t_drop = _mean(r.first_drop_step for r in true)
        r_drop = _mean_if_all([r.first_drop_step for r in rand])
        done = [r for r in rand if r.status == COMPLETED or r.steps_to_loss or r.steps_to_fit]
        ok = [r for r in done if r.steps_to_loss is not None or r.steps_to_fit is not None]
        if t_drop is None or r_drop is None:
            continue
        counted += 1
        later.append(r_drop > t_drop)
        converged.append(len(ok) == len(done))
        parts.append(
            f"{model}: first drop at {_steps(t_drop)} (true) vs {_steps(r_drop)} steps "
            f"(random), random labels converged in {len(ok)}/{len(done)} finished run(s)"
        )
    if not counted:
        return Claim(claim, NOT_ENOUGH, "no model with both true- and random-label curves")
    verdict = SUPPORTED if all(later) and all(converged) else NOT_SUPPORTED
    return Claim(claim, verdict, "; ".join(parts))


def claim_test_error(runs: Sequence[RunSummary]) -> Claim:
    """Test error rises with the label-corruption level, to about 90% at level 1."""
    claim = (
        "Test error rises with the label-corruption level, to about 90% (chance) "
        "when every label is random."
    )
    done = [r for r in runs if r.plain and r.level is not None and r.status == COMPLETED]
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
        steps = " -> ".join(f"{_pct(e, 0)} (p={p:g})" for p, e in zip(levels, errors, strict=True))
        if errors[0] >= paper.CHANCE_TEST_ERROR - CHANCE_SLACK:
            # At chance already at the lowest level: the model learned nothing to lose.
            untrained.append(f"{model}: {steps}")
            continue
        rising.append(
            all(b >= a - TEST_ERROR_SLACK for a, b in itertools.pairwise(errors))
            and errors[-1] - errors[0] >= RISE_MIN
        )
        if levels[-1] == 1.0:
            at_chance.append(errors[-1] >= paper.CHANCE_TEST_ERROR - CHANCE_SLACK)
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
        return Claim(claim, NOT_ENOUGH, "no model with completed runs at two or more levels")
    evidence = "; ".join(parts) + note
    if not all(rising) or not all(at_chance):
        verdict = NOT_SUPPORTED
    else:
        verdict = SUPPORTED if at_chance else NOT_ENOUGH
        if not at_chance:
            evidence += "; no completed run at level 1 (random labels)"
    return Claim(claim, verdict, evidence)


def build_report(
    runs: Sequence[RunSummary], folder: str = "", skipped: Sequence[str] = ()
) -> Report:
    runs = sorted(runs, key=lambda r: (*_order(r), r.seed))
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.status] = counts.get(r.status, 0) + 1
    notes = [f"{len(runs)} runs: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))]
    notes += [f"unreadable spec.json, skipped: {p}" for p in skipped]
    return Report(
        folder=folder,
        runs=tuple(runs),
        slowdowns=tuple(slowdowns(runs)),
        table1=tuple(table1(runs)),
        figure1a=tuple(figure1a_comparison(runs)),
        claims=(claim_fitted(runs), claim_slow_start(runs), claim_test_error(runs)),
        notes=tuple(notes),
    )
