"""Measured numbers set beside each other and beside the paper's: slowdowns, Table 1, Figure 1a.

    slowdowns(runs)            # each randomization's steps over the model's level-0 runs'
    table1(runs)               # mean final accuracies beside the paper's Table 1 row
    figure1a_comparison(runs)  # steps to loss 0.01 beside the independent reproduction

Each takes `RunSummary`s (`rethink.results.summary`) and returns frozen
records, means over seeds. Table 1 and Figure 1a take runs on the paper's
protocol only (`rethink.results.protocol`); slowdowns are measured for any
runs, against a baseline with the same deviations. The paper's numbers
(`rethink.paper`, all CIFAR-10's) stand beside CIFAR-10 runs only. Pure Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rethink import paper
from rethink.results.protocol import on_protocol, run_deviations
from rethink.results.summary import CIFAR10, RunSummary, datasets_of
from rethink.spec import randomization_label
from rethink.spec.datasets import Dataset
from rethink.train.outcome import Status


def mean(values: Iterable[float | int | None]) -> float | None:
    """The mean of the values that are known; None if none is."""
    known = [float(v) for v in values if v is not None]
    return sum(known) / len(known) if known else None


def mean_if_all(values: Sequence[float | int | None]) -> float | None:
    """The mean where every value is known; None otherwise (or for none)."""
    return mean(values) if values and all(v is not None for v in values) else None


@dataclass(frozen=True)
class Slowdown:
    """Steps a randomization needed against the model's level-0 runs: the paper's factor."""

    model: str
    randomization: str
    corruption: str
    level: float | None
    measure: str | None  # "steps_to_fit", "steps_to_loss", or None when neither was reached
    steps: float | None  # mean over the randomization's runs (seeds)
    baseline_steps: float | None  # mean over the baseline runs
    ratio: float | None
    runs: int
    baseline_runs: int
    baseline: str  # "true labels", "partial labels p=0", or both
    deviations: tuple[str, ...]  # from the paper's protocol, shared by the runs and baseline
    dataset: str = CIFAR10.name  # the data set of the runs and baseline


@dataclass(frozen=True)
class Table1Comparison:
    """Mean final accuracies (%) of completed protocol runs beside the paper's Table 1 row."""

    model: str
    corruption: str
    random_crop: bool
    weight_decay: bool
    weight_decay_values: tuple[float, ...]  # the decay used (gradient coefficient: + wd * w)
    runs: int  # completed runs averaged
    train: float | None
    train_measure: str | None  # "evaluation", "window" or "mixed" (see TRAIN_ACC_NOTE)
    test: float | None
    paper_train: float | None
    paper_test: float | None
    train_diff: float | None  # ours - paper, percentage points
    test_diff: float | None
    dataset: str = CIFAR10.name  # paper_* and *_diff: None unless CIFAR-10
    weight_decay_layers: str = "all"  # RunSpec.weight_decay_layers of the decayed runs


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


def slowdowns(runs: Sequence[RunSummary]) -> list[Slowdown]:
    """Per model and protocol, each randomization's steps over the level-0 runs'.

    Plain runs only (no weight decay, no augmentation). The baseline is level
    0 of the label-corruption axis: true labels, or partial labels at p = 0
    (a Figure 1b sweep), both where a grid has both; it shares the runs'
    deviations from the paper's protocol. Steps to fit when every run of
    both reached it, else steps to the loss threshold when every run reached
    that, else no ratio.
    """
    keyed: dict[tuple[str, str, tuple[str, ...]], list[RunSummary]] = {}
    order = {d.name: i for i, d in enumerate(datasets_of(runs))}
    for r in sorted((r for r in runs if r.plain), key=lambda r: (*r.sort_key, r.seed)):
        keyed.setdefault((r.dataset.name, r.model, run_deviations(r)), []).append(r)
    out = []
    for (dataset, model, deviations), chosen in sorted(
        keyed.items(), key=lambda kv: (len(kv[0][2]) > 0, order[kv[0][0]])
    ):
        base = [r for r in chosen if r.level == 0.0]
        if not base:
            continue
        base_name = " + ".join(dict.fromkeys(r.randomization for r in base))
        groups: dict[tuple[str, float | None], list[RunSummary]] = {}
        for r in chosen:
            groups.setdefault((r.corruption, r.level), []).append(r)
        for (corruption, level), group in groups.items():
            measure, steps, baseline = None, None, None
            for key in ("steps_to_fit", "steps_to_loss"):
                steps = mean_if_all([getattr(r, key) for r in group])
                baseline = mean_if_all([getattr(r, key) for r in base])
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
                    baseline=base_name,
                    deviations=deviations,
                    dataset=dataset,
                )
            )
    return out


def paper_row(r: RunSummary) -> paper.Table1Row | None:
    """The paper's Table 1 row for a run's settings: CIFAR-10 runs only."""
    return _paper_row(r.dataset, r.model, r.corruption, r.augment, r.weight_decay > 0)


def _paper_row(
    dataset: Dataset, model: str, corruption: str, crop: bool, wd: bool
) -> paper.Table1Row | None:
    if not dataset.has_paper_numbers:
        return None
    return paper.table1_row(model, corruption, crop, wd)


def _combined_measure(measures: Sequence[str | None]) -> str | None:
    known = {m for m in measures if m is not None}
    if not known:
        return None
    return known.pop() if len(known) == 1 else "mixed"


def table1(runs: Sequence[RunSummary]) -> list[Table1Comparison]:
    """Table 1 rows for the true/random-label settings present, with the paper's numbers.

    Completed runs on the paper's protocol only; runs stopped at fit are left
    out (their final accuracies are those at the fit, not after 25k steps).
    Rows per data set; the paper's numbers beside CIFAR-10's only.
    """
    order = {d.name: i for i, d in enumerate(datasets_of(runs))}
    groups: dict[tuple[Dataset, str, str, bool, bool, str], list[RunSummary]] = {}
    for r in sorted(runs, key=lambda r: (order[r.dataset.name], *r.sort_key)):
        if (
            r.corruption in ("true_labels", "random_labels")
            and on_protocol(r)
            and not r.spec.stop_at_fit
        ):
            layers = r.spec.weight_decay_layers if r.weight_decay > 0 else "all"
            key = (r.dataset, r.model, r.corruption, r.augment, r.weight_decay > 0, layers)
            groups.setdefault(key, []).append(r)
    out = []
    for (dataset, model, corruption, crop, wd, layers), group in groups.items():
        done = [r for r in group if r.status == Status.COMPLETED]
        train = mean(100 * r.final_train_acc for r in done if r.final_train_acc is not None)
        test = mean(100 * r.test_acc for r in done if r.test_acc is not None)
        row = _paper_row(dataset, model, corruption, crop, wd)
        out.append(
            Table1Comparison(
                model=model,
                corruption=corruption,
                random_crop=crop,
                weight_decay=wd,
                weight_decay_values=tuple(
                    sorted({r.spec.weight_decay_gradient for r in group if r.weight_decay > 0})
                ),
                weight_decay_layers=layers,
                runs=len(done),
                train=train,
                train_measure=_combined_measure([r.train_acc_measure for r in done]),
                test=test,
                paper_train=row.train if row else None,
                paper_test=row.test if row else None,
                train_diff=train - row.train if row and train is not None else None,
                test_diff=test - row.test if row and test is not None else None,
                dataset=dataset.name,
            )
        )
    return out


def figure1a_comparison(
    runs: Sequence[RunSummary], model: str = paper.FIGURE1A_MODEL
) -> list[LossComparison]:
    """Our steps to loss 0.01 per randomization (plain protocol runs of `model`, CIFAR-10
    only) beside the paper's; a run stopped at fit before reaching the loss is left out."""
    chosen = [
        r
        for r in runs
        if r.plain
        and r.dataset.has_paper_numbers
        and r.model == model
        and r.loss_threshold == paper.FIGURE1A_LOSS_THRESHOLD
        and on_protocol(r)
        and not (r.spec.stop_at_fit and r.steps_to_loss is None)
    ]
    means = {
        c: mean(r.steps_to_loss for r in chosen if r.corruption == c)
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
