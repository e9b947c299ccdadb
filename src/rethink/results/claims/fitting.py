"""When a run fitted its training set, and the claims about fitting (Table 1, section 3).

    fit_outcome(summary)             # "fitted", "not fitted", "unfinished", or how it ended
    required_train_acc(summary)      # 99.5: the training accuracy (%) that counts as fitted
    claim_fitted(runs)               # a Claim: every randomization fits (Table 1, Figure 1a)

"Fits": the final training accuracy (%) is at least the paper's Table 1
figure for the run's row minus FIT_TOLERANCE points, or FIT_DEFAULT where the
paper gives none (pixel corruptions, partial labels, other data sets). The
paper itself calls 99.34% (MLP 1x512) and 99.82% (AlexNet) on random labels
"fitted". A run stopped at fit fits by its steps to fit.

Three claims are one rule on different runs, so they are rows of `FitClaim`
(the claim, which runs, how the evidence groups them, what it says first):
every randomization fits; with weight decay or random crop the models still
fit the true labels; with weight decay Inception and the MLPs still fit
random labels. A fourth kind of claim is one more row. AlexNet with weight
decay failing to converge is judged the other way round
(`claim_alexnet_weight_decay`). Pure Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rethink.results.claims.claim import (
    NOT_ENOUGH,
    NOT_SUPPORTED,
    SUPPORTED,
    Claim,
    not_counted,
)
from rethink.results.comparisons import paper_row
from rethink.results.protocol import on_protocol
from rethink.results.summary import (
    INCOMPLETE,
    WINDOW_MARK,
    RunSummary,
    one_dataset,
    train_acc_text,
)
from rethink.spec import RunSpec
from rethink.spec.datasets import Dataset
from rethink.train.outcome import Status

FIT_TOLERANCE = 0.5  # points below the paper's Table 1 figure that still fit
FIT_DEFAULT = 99.5  # training accuracy (%) that fits where the paper gives no figure
FITTED, NOT_FITTED, UNFINISHED = "fitted", "not fitted", "unfinished"

# RunSpec.weight_decay_layers other than "all", as the report names them.
TUTORIAL_DECAY_LAYERS = "hidden_dense"  # the TF CIFAR-10 tutorial's AlexNet (the paper's)
DECAY_LAYERS_TEXT = {"hidden_dense": "hidden dense layers only (the TF CIFAR-10 tutorial's)"}


def required_train_acc(r: RunSummary) -> float:
    """The training accuracy (%) at which `r` counts as fitted (see FIT_TOLERANCE); the
    paper's figure counts for CIFAR-10 runs only, others need FIT_DEFAULT."""
    row = paper_row(r)
    return row.train - FIT_TOLERANCE if row else FIT_DEFAULT


def fit_outcome(r: RunSummary) -> str:
    """FITTED, NOT_FITTED, UNFINISHED (incomplete), or the status of a run that ended
    otherwise (diverged, failed, stopped). A run stopped at fit fits by its steps to
    fit (when its fit threshold is at least the required accuracy); any other, by its
    final training accuracy."""
    need = required_train_acc(r)
    if r.spec.stop_at_fit and r.steps_to_fit is not None and 100 * r.fit_threshold >= need:
        return FITTED
    if r.status == INCOMPLETE:
        return UNFINISHED
    if r.status != Status.COMPLETED:
        return r.status
    acc = r.final_train_acc
    if acc is None:
        return UNFINISHED
    return FITTED if 100 * acc >= need - 1e-9 else NOT_FITTED


def decay_text(spec: RunSpec) -> str:
    """A run's weight decay as the report states it: the gradient coefficient, and the
    layers it applies to where not every conv/dense kernel (e.g. '0.004 on the hidden
    dense layers')."""
    return _decay_text(spec.weight_decay_gradient, spec.weight_decay_layers)


def _decay_text(decay: float, layers: str) -> str:
    if layers == "all":
        return f"{decay:g}"
    return f"{decay:g} on the {DECAY_LAYERS_TEXT.get(layers, layers)}"


def regularizers_text(r: RunSummary) -> str:
    """' with weight decay 0.0005 + random crop', or '' for a plain run."""
    parts = []
    if r.weight_decay > 0:
        parts.append(f"weight decay {decay_text(r.spec)}")
    if r.augment:
        parts.append("random crop")
    return " with " + " + ".join(parts) if parts else ""


def decays_used(runs: Sequence[RunSummary]) -> str:
    """'weight decay used: 0.0005 (...)': every value and the layers it applied to."""
    decayed = sorted(
        {
            (r.spec.weight_decay_gradient, r.spec.weight_decay_layers)
            for r in runs
            if r.weight_decay > 0
        }
    )
    return (
        "weight decay used: "
        + ", ".join(_decay_text(d, layers) for d, layers in decayed)
        + " (adds wd * w to the gradient of every conv/dense kernel unless said; the paper "
        "gives no value)"
    )


def _tolerance_text(runs: Sequence[RunSummary]) -> str:
    """The fit rule, with the required accuracy of each run that has its own."""
    special = {
        f"{r.model} {r.randomization}{regularizers_text(r)} >= {required_train_acc(r):.2f}%"
        for r in runs
        if required_train_acc(r) != FIT_DEFAULT
    }
    others = sorted({r.dataset.name for r in runs if not r.dataset.has_paper_numbers})
    if others and len(others) == len({r.dataset.name for r in runs}):
        text = f"fit: training accuracy >= {FIT_DEFAULT:g}% ({', '.join(others)}: no paper numbers)"
        return text + "; runs stopped at fit: by their steps to fit"
    text = (
        f"fit: training accuracy >= the paper's Table 1 figure - {FIT_TOLERANCE:g} points "
        f"(99.5% for its 100%), >= {FIT_DEFAULT:g}% where it gives none (pixel corruptions, "
        "partial labels" + "".join(f", {name}" for name in others) + ")"
    )
    if special:
        text += " (here " + ", ".join(sorted(special)) + ")"
    return text + "; runs stopped at fit: by their steps to fit"


def fit_evidence(
    chosen: Sequence[RunSummary], label: Callable[[RunSummary], str]
) -> tuple[str, str]:
    """(verdict, evidence) of "these runs fit", grouped by `label(run)`: SUPPORTED when
    every decided run fitted, NOT_SUPPORTED when one did not, NOT_ENOUGH with none decided."""
    parts, failed, others, windows = [], [], [], []
    groups: dict[str, list[RunSummary]] = {}
    for r in sorted(chosen, key=lambda r: (*r.sort_key, r.seed)):
        groups.setdefault(label(r), []).append(r)
    for name, group in groups.items():
        outcomes = [(r, fit_outcome(r)) for r in group]
        decided = [r for r, o in outcomes if o in (FITTED, NOT_FITTED)]
        fitted = [r for r, o in outcomes if o == FITTED]
        if decided:
            parts.append(f"{name} {len(fitted)}/{len(decided)}")
        failed += [
            f"{r.run_id} ({train_acc_text(r)}, needs >= {required_train_acc(r):.2f}%)"
            for r, o in outcomes
            if o == NOT_FITTED
        ]
        others += [f"{r.run_id} ({o})" for r, o in outcomes if o not in (FITTED, NOT_FITTED)]
        windows += [
            r.run_id
            for r in decided
            if r.train_acc_measure == "window"
            and not (r.spec.stop_at_fit and r.steps_to_fit is not None)
        ]
    evidence = _tolerance_text(chosen) + "; fitted: " + (", ".join(parts) or "none decided")
    if failed:
        evidence += "; did not fit: " + ", ".join(failed)
    if windows:
        evidence += f"; judged by the window mean {WINDOW_MARK}, no evaluation: " + ", ".join(
            windows
        )
    evidence += not_counted(others)
    verdict = NOT_SUPPORTED if failed else SUPPORTED if parts else NOT_ENOUGH
    return verdict, evidence


@dataclass(frozen=True)
class FitClaim:
    """A claim that some runs fit their training set, judged by `fit_evidence`.

    Called on the runs of one data set, it picks those `wanted` (on the paper's
    protocol), groups them in the evidence by `group`, and puts `preface` (of the
    runs picked) in front; without such runs the verdict is NOT_ENOUGH, `none` says
    why.
    """

    claim: str | Callable[[Dataset], str]  # the sentence, or the sentence for a data set
    wanted: Callable[[RunSummary], bool]
    none: str
    group: Callable[[RunSummary], str]
    preface: Callable[[Sequence[RunSummary]], str] | None = None

    def __call__(self, runs: Sequence[RunSummary]) -> Claim:
        dataset = one_dataset(runs)  # one data set: claims never compare across two
        claim = self.claim if isinstance(self.claim, str) else self.claim(dataset)
        chosen = [r for r in runs if self.wanted(r) and on_protocol(r)]
        if not chosen:
            return Claim(claim, NOT_ENOUGH, self.none)
        verdict, evidence = fit_evidence(chosen, self.group)
        if self.preface is not None:
            evidence = f"{self.preface(chosen)}; {evidence}"
        return Claim(claim, verdict, evidence)


def _randomization(r: RunSummary) -> str:
    return f"{r.model} {r.randomization}"


def _regularized(r: RunSummary) -> str:
    return r.model + regularizers_text(r)


def _random_labels_with_decay(r: RunSummary) -> bool:
    """Section 3's setting: random labels, weight decay, no augmentation."""
    return r.corruption == "random_labels" and r.weight_decay > 0 and not r.augment


def _regularized_fit_claim(dataset: Dataset) -> str:
    source = (
        "Table 1: 99.80% to 100% training accuracy"
        if dataset.has_paper_numbers
        else "Table 1, on CIFAR-10"
    )
    return f"With weight decay and/or random crop the models still fit the true labels ({source})."


def _decays_or_crop(runs: Sequence[RunSummary]) -> str:
    if any(r.weight_decay > 0 for r in runs):
        return decays_used(runs)
    return "no weight decay (random crop only)"


claim_fitted = FitClaim(
    claim="Every randomization fits the training set (Table 1 and Figure 1a: no weight decay, "
    "no augmentation).",
    wanted=lambda r: r.plain,
    none="no run without regularizers on the paper's protocol",
    group=_randomization,
)
claim_regularized_fit = FitClaim(
    claim=_regularized_fit_claim,
    wanted=lambda r: not r.plain and r.corruption == "true_labels",
    none="no true-label run with weight decay or random crop on the paper's protocol",
    group=_regularized,
    preface=_decays_or_crop,
)
claim_weight_decay_memorizes = FitClaim(
    claim="Regularizers do not stop memorization: with weight decay, Inception and the MLPs "
    "still fit random labels (section 3).",
    wanted=lambda r: _random_labels_with_decay(r) and r.model != "alexnet",
    none="no run on random labels with weight decay (other than AlexNet) on the paper's "
    "protocol (the regularized preset has them)",
    group=_regularized,
    preface=decays_used,
)


def claim_alexnet_weight_decay(runs: Sequence[RunSummary]) -> Claim:
    """Section 3: AlexNet with weight decay fails to converge on random labels."""
    dataset = one_dataset(runs)
    claim = (
        "AlexNet with weight decay fails to converge on random labels (section 3; without "
        "it, Table 1: 99.82% training accuracy)."
        if dataset.has_paper_numbers
        else "AlexNet with weight decay fails to converge on random labels (section 3, on "
        "CIFAR-10)."
    )
    chosen = [
        r for r in runs if _random_labels_with_decay(r) and r.model == "alexnet" and on_protocol(r)
    ]
    outcomes = [(r, fit_outcome(r)) for r in sorted(chosen, key=lambda r: r.seed)]
    decided = [(r, o) for r, o in outcomes if o in (FITTED, NOT_FITTED, Status.DIVERGED)]
    others = not_counted([f"{r.run_id} ({o})" for r, o in outcomes if (r, o) not in decided])
    if not decided:
        return Claim(
            claim,
            NOT_ENOUGH,
            "no finished AlexNet run on random labels with weight decay on the paper's "
            f"protocol (the regularized preset has one){others}",
        )
    parts = []
    for r, o in decided:
        final_loss = r.train_loss if r.train_loss is not None else r.window_train_loss
        loss = "" if final_loss is None else f", training loss {final_loss:.3f}"
        parts.append(
            f"{r.run_id}: {o}" + ("" if o == Status.DIVERGED else f" ({train_acc_text(r)}{loss})")
        )
    # The paper's AlexNet is the TF CIFAR-10 tutorial's model, which decays only its hidden
    # dense layers: where such runs exist, the claim is judged on them alone.
    tutorial = [(r, o) for r, o in decided if r.spec.weight_decay_layers == TUTORIAL_DECAY_LAYERS]
    judged = tutorial or decided
    fitted = [r for r, o in judged if o == FITTED]
    rule = (
        f"fails to converge: does not fit (training accuracy below {FIT_DEFAULT:g}%) "
        "or diverges by the end of its steps"
    )
    if tutorial and len(tutorial) < len(decided):
        rule += (
            "; judged on the runs decaying the hidden dense layers only, as the TF CIFAR-10 "
            "tutorial's AlexNet (the paper's) does; the others are shown, not judged"
        )
    evidence = f"{decays_used(chosen)}; {rule}; " + "; ".join(parts) + others
    return Claim(claim, NOT_SUPPORTED if fitted else SUPPORTED, evidence)
