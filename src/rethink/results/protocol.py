"""The paper's protocol, and how a run's settings differ from it.

    protocol_deviations(RunSpec(model="alexnet"))              # (): the paper's protocol
    protocol_deviations(RunSpec(model="alexnet", batch_size=16, train_subset=500))
    # ('500 training images', 'batch 16')
    run_deviations(summary)       # the same for a run read back, on its own data set
    PROTOCOL                      # '25,000 steps, batch 128, SGD momentum 0.9, ...'

The protocol is rethink's `TrainingSpec` defaults (Appendix A; where the
paper is silent, rethink's documented choices: docs/paper.md) with the
model's own learning rate (`rethink.spec.architectures`), on every image of
the data set's splits: nothing here repeats a value, so changing a default
changes the protocol the report checks against. Only runs on it are
compared with the paper's numbers and judged in the verdicts; the others
are listed apart, grouped by their deviations (`protocol_groups`).

Weight decay and random crop are Table 1's columns, not deviations; the step
count is free for runs that stop at fit (their length is the time to fit).
Pure Python.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rethink.results.summary import CIFAR10, RunSummary, planned_steps
from rethink.spec import RunSpec, TrainingSpec
from rethink.spec.architectures import REGISTRY, is_custom, learning_rate_of
from rethink.spec.datasets import Dataset


def _default(name: str) -> Any:
    """The default of a `TrainingSpec` field: the protocol's setting."""
    (field,) = (f for f in dataclasses.fields(TrainingSpec) if f.name == name)
    assert field.default is not dataclasses.MISSING, name
    return field.default


PROTOCOL_STEPS: int = _default("steps")
PROTOCOL_BATCH_SIZE: int = _default("batch_size")
PROTOCOL_PRECISION: str = _default("precision")
PROTOCOL_LR_DECAY: float = _default("lr_decay")
PROTOCOL_MOMENTUM: float = _default("momentum")


def _learning_rates() -> str:
    """'0.1 (inception, inception_no_bn) / 0.01 (alexnet, mlp_1x512, mlp_3x512)'."""
    by_rate: dict[float, list[str]] = {}
    for model in REGISTRY.values():
        by_rate.setdefault(model.learning_rate, []).append(model.name)
    return " / ".join(f"{rate:g} ({', '.join(names)})" for rate, names in by_rate.items())


_TRAINING = (
    f"{PROTOCOL_STEPS:,} steps, batch {PROTOCOL_BATCH_SIZE}, SGD momentum "
    f"{PROTOCOL_MOMENTUM:g}, learning rate {_learning_rates()} x {PROTOCOL_LR_DECAY:g} per "
    f"epoch, {PROTOCOL_PRECISION}"
)
_CIFAR10_SPLITS = CIFAR10.split_sizes or (0, 0)
PROTOCOL = (
    f"{_TRAINING}, all {_CIFAR10_SPLITS[0]:,} training and {_CIFAR10_SPLITS[1]:,} test images"
)
# The paper's protocol on another data set: the same training, on all its images.
PROTOCOL_ANY_DATA = f"{_TRAINING}, all the data set's training and test images"


def protocol_text(datasets: Sequence[Dataset] = (CIFAR10,)) -> str:
    """The paper's protocol in a phrase, for runs on `datasets` (all its images: CIFAR-10's
    counted where it is the only one)."""
    return PROTOCOL if {d.name for d in datasets} == {CIFAR10.name} else PROTOCOL_ANY_DATA


def protocol_deviations(
    spec: RunSpec, dataset: Dataset = CIFAR10, sizes: tuple[int, int] | None = None
) -> tuple[str, ...]:
    """How a run's settings differ from the paper's protocol (empty: none).

    Subsets are deviations when smaller than the data set's split (`sizes`:
    (training, test) images, as the run recorded them; else the named data
    set's), or at all where the sizes are not known (an image folder's run
    that recorded none); so is a number of epochs whose steps cannot be
    counted for want of those sizes.
    """
    out = []
    known = sizes or dataset.split_sizes
    train_images, test_images = known if known is not None else (math.inf, math.inf)
    if spec.train_subset is not None and spec.train_subset < train_images:
        out.append(f"{spec.train_subset:,} training images")
    if spec.test_subset is not None and spec.test_subset < test_images:
        out.append(f"{spec.test_subset:,} test images")
    steps = planned_steps(spec, known)
    if steps != PROTOCOL_STEPS and not spec.stop_at_fit:
        out.append(f"{spec.epochs} epochs" if steps is None else f"{steps:,} steps")
    if spec.batch_size != PROTOCOL_BATCH_SIZE:
        out.append(f"batch {spec.batch_size}")
    if spec.precision != PROTOCOL_PRECISION:
        out.append(f"precision {spec.precision}")
    # A model of yours: rethink's default rate stands for the paper's (README, "Your own model").
    default_lr = learning_rate_of(spec.model)
    if not math.isclose(spec.lr, default_lr):
        whose = "default" if is_custom(spec.model) else "paper"
        out.append(f"learning rate {spec.lr:g} ({whose} {default_lr:g})")
    if not math.isclose(spec.lr_decay, PROTOCOL_LR_DECAY):
        out.append(f"learning-rate decay {spec.lr_decay:g} per epoch")
    if not math.isclose(spec.momentum, PROTOCOL_MOMENTUM):
        out.append(f"momentum {spec.momentum:g}")
    return tuple(out)


def run_deviations(r: RunSummary) -> tuple[str, ...]:
    """`protocol_deviations` of a run, on its data set."""
    return protocol_deviations(r.spec, r.dataset, r.data_images)


def on_protocol(r: RunSummary) -> bool:
    """Whether a run is on the paper's protocol: compared with the paper, and judged."""
    return not run_deviations(r)


@dataclass(frozen=True)
class ProtocolGroup:
    """Runs sharing the same deviations from the paper's protocol."""

    deviations: tuple[str, ...]
    run_ids: tuple[str, ...]


def protocol_groups(runs: Sequence[RunSummary]) -> list[ProtocolGroup]:
    """The runs off the paper's protocol, grouped by their deviations."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for r in runs:
        deviations = run_deviations(r)
        if deviations:
            groups.setdefault(deviations, []).append(r.run_id)
    return [ProtocolGroup(d, tuple(ids)) for d, ids in groups.items()]


def protocol_summary(runs: Sequence[RunSummary], groups: Sequence[ProtocolGroup]) -> str:
    """The report's header sentence: what protocol the runs ran."""
    if not runs:
        return "no runs"
    off = sum(len(g.run_ids) for g in groups)
    stop = sum(1 for r in runs if r.spec.stop_at_fit and on_protocol(r))
    stopped = (
        f"; {stop} run(s) stop at fit: they count for time to fit, their final accuracies "
        "stay out of Table 1"
        if stop
        else ""
    )
    protocol = protocol_text([r.dataset for r in runs])
    if not off:
        return f"the paper's protocol: {protocol}{stopped}"
    settings = "; ".join(", ".join(g.deviations) for g in groups)
    if off == len(runs):
        return (
            f"not the paper's protocol: {settings} - no comparison with the paper's numbers "
            "and no verdicts on its claims"
        )
    return (
        f"the paper's protocol ({protocol}) for {len(runs) - off} of {len(runs)} runs"
        f"{stopped}; {off} run(s) are not ({settings}): listed apart, with no comparison "
        "with the paper's numbers and no part in the verdicts"
    )
