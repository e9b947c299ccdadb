"""A set of runs against the paper: one `Report` record with everything `rethink report` shows.

    grid = load_grid(Path("output_3"))          # rethink.results.loading
    report = build_report([r.summary for r in grid.runs], folder="output_3")
    grid = load_grids(["part1", "part3"], prefer="newer")   # several folders, one set
    report = build_report([r.summary for r in grid.runs], grid.sources, grid.skipped, grid.dropped)
    render_markdown(report)                      # rethink.results.render: report.md
    report_dict(report)                          # --format json
    render_rich(report)                          # the same tables on the terminal

`build_report` assembles the parts, each computed by the module that owns it:
the protocol the runs ran and their deviations (`protocol`), slowdowns,
Table 1 and Figure 1a beside the paper (`comparisons`), the verdicts on the
paper's claims (`claims`), where the runs came from (`sources`), and, beyond
the paper, how runs with corrupted labels memorized them, example by example
(`examples`: from each run's examples.npz). Only
runs on the paper's protocol are compared with the paper's numbers and
judged; the others are listed apart. Runs stopped at fit count for time to
fit and for fitting, but their final accuracies stay out of Table 1.

Runs on other data sets than CIFAR-10 (`RunSummary.dataset`) are judged with
their own chance level (test error 1 - 1/classes, loss ln(classes)) and the
generic fit rule; the paper's numbers, all CIFAR-10's, are set beside
CIFAR-10 runs only. The claims are judged per data set, never across two.
Pure Python; rendering lives in `rethink.results.render`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from rethink.results.claims import Claim, judge_claims
from rethink.results.comparisons import (
    LossComparison,
    Slowdown,
    Table1Comparison,
    figure1a_comparison,
    slowdowns,
    table1,
)
from rethink.results.examples import MemorizationStats, memorization_stats
from rethink.results.loading import Dropped
from rethink.results.protocol import ProtocolGroup, protocol_groups, protocol_summary
from rethink.results.sources import Source, dropped_notes, folders_of, set_flags, sources_of
from rethink.results.summary import CIFAR10, RunSummary, datasets_of
from rethink.spec.datasets import Dataset

TRAIN_ACC_NOTE = (
    "train acc: the trained model evaluated on the whole training split (inference mode, "
    "the run's corrupted labels or images, no augmentation), the paper's training accuracy; "
    "marked (w) where a run has no such evaluation (ended early, or written before rethink "
    "made it): the running mean over the last full log_every-step window in training mode, "
    "which the curves and the time to fit use"
)


@dataclass(frozen=True)
class Report:
    """Everything `rethink report` shows about a set of runs; `render` draws it."""

    folder: tuple[str, ...]  # the folders read, as given (`folder_text`: for a header)
    protocol: str  # what protocol the grid ran, in a sentence
    runs: tuple[RunSummary, ...]
    deviations: tuple[ProtocolGroup, ...]  # runs not on the paper's protocol, by deviations
    slowdowns: tuple[Slowdown, ...]
    table1: tuple[Table1Comparison, ...]
    figure1a: tuple[LossComparison, ...]
    claims: tuple[Claim, ...]
    notes: tuple[str, ...]
    datasets: tuple[Dataset, ...] = (CIFAR10,)  # the runs' data sets (`datasets_of`)
    sources: tuple[Source, ...] = ()  # one per folder (`sources_of`)
    flags: tuple[str, ...] = ()  # where the set disagrees with itself (`set_flags`)
    dropped: tuple[Dropped, ...] = ()  # copies of runs left out as duplicates
    memorization: tuple[MemorizationStats, ...] = ()  # runs with corrupted labels

    @property
    def folder_text(self) -> str:
        """The folders for a header: 'output_3', or '3 folders: a, b, c'."""
        if len(self.folder) > 1:
            return f"{len(self.folder)} folders: " + ", ".join(self.folder)
        return self.folder[0] if self.folder else ""


def build_report(
    runs: Sequence[RunSummary],
    folder: str | Sequence[str] = "",
    skipped: Sequence[str] = (),
    dropped: Sequence[Dropped] = (),
) -> Report:
    """The report on `runs`, the runs of one folder or of several (`folder`: the
    folders, as given); `skipped`: run folders whose spec.json could not be read;
    `dropped`: copies left out as duplicates (`Grid.dropped`)."""
    folders = folders_of(folder)
    datasets = datasets_of(runs) or [CIFAR10]
    order = {d.name: i for i, d in enumerate(datasets)}
    runs = sorted(runs, key=lambda r: (order[r.dataset.name], *r.sort_key, r.seed))
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.status] = counts.get(r.status, 0) + 1
    notes = [f"{len(runs)} runs: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))]
    notes += [f"unreadable spec.json, skipped: {p}" for p in skipped]
    notes += dropped_notes(dropped)
    flags = set_flags(runs, folders)
    notes += [f"flag: {f}" for f in flags]
    notes.append(TRAIN_ACC_NOTE)
    groups = protocol_groups(runs)
    claims = judge_claims(runs)
    off = sum(len(g.run_ids) for g in groups)
    if off:
        note = f"; {off} run(s) not on the paper's protocol left out"
        claims = [dataclasses.replace(c, evidence=c.evidence + note) for c in claims]
    return Report(
        folder=folders,
        protocol=protocol_summary(runs, groups),
        runs=tuple(runs),
        deviations=tuple(groups),
        slowdowns=tuple(slowdowns(runs)),
        table1=tuple(table1(runs)),
        figure1a=tuple(figure1a_comparison(runs)),
        claims=tuple(claims),
        notes=tuple(notes),
        datasets=tuple(datasets),
        sources=tuple(sources_of(runs, folders, dropped)),
        flags=tuple(flags),
        dropped=tuple(dropped),
        memorization=tuple(memorization_stats(runs)),
    )
