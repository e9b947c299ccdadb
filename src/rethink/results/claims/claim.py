"""A claim of the paper with its verdict and the evidence for it, and the words they share.

    Claim("Every randomization fits ...", SUPPORTED, "fitted: mlp_1x512 random labels 2/2")

A verdict is SUPPORTED, NOT_SUPPORTED or NOT_ENOUGH (the runs cannot decide:
none of the kind the claim needs, or not finished). Pure Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rethink.base.text import percent
from rethink.results.summary import CIFAR10, RunSummary
from rethink.spec.datasets import Dataset
from rethink.train.outcome import Status

SUPPORTED, NOT_SUPPORTED, NOT_ENOUGH = "supported", "not supported", "not enough data"


@dataclass(frozen=True)
class Claim:
    claim: str  # the paper's claim, in a sentence, with where it says so
    verdict: str  # SUPPORTED, NOT_SUPPORTED or NOT_ENOUGH
    evidence: str  # the rule applied and the runs' numbers


def chance_text(dataset: Dataset) -> str:
    """'90% (chance)' for CIFAR-10, else e.g. '66.67% (chance, 3 classes)'."""
    if dataset.name == CIFAR10.name:
        return f"{100 * dataset.chance_error:g}% (chance)"
    return f"{percent(dataset.chance_error, 2)} (chance, {dataset.num_classes} classes)"


def no_paper_numbers(dataset: Dataset) -> str:
    return f"no paper numbers for {dataset.name} (the paper's are CIFAR-10's)"


def ran_its_steps(r: RunSummary) -> bool:
    """A run whose final test accuracy is the paper's: completed, its steps all run
    (not stopped at fit)."""
    return r.status == Status.COMPLETED and not r.spec.stop_at_fit and r.test_acc is not None


def not_counted(runs: Sequence[str]) -> str:
    """'; not counted: a, b' for the runs (named, with why) a verdict leaves out; ''."""
    return "; not counted: " + ", ".join(runs) if runs else ""
