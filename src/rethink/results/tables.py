"""A `Report` as text: the header lines and the tables, the same for markdown and Rich.

    report_header(report)      # ['source: output_3: 10 runs on ...', 'protocol: ...', ...]
    report_tables(report)      # [TextTable("Runs", columns, rows, note), ...]

Each table is a title, column names, rows of strings and a note under it;
`rethink.results.render` draws them as report.md or Rich tables. Columns are
data (`Columns`: a name and how an item shows in it), so a column is added
in one place for both. Empty tables are left out; the claims always show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rethink.base.text import duration, factor, number, percent, signed
from rethink.results.comparisons import Slowdown, Table1Comparison
from rethink.results.examples import MemorizationStats
from rethink.results.protocol import protocol_text, run_deviations
from rethink.results.report import Report
from rethink.results.sources import Source, run_source
from rethink.results.summary import (
    INCOMPLETE,
    WINDOW_MARK,
    RunSummary,
    train_acc_text,
    window_marked,
)
from rethink.spec import randomization_label
from rethink.spec.datasets import Dataset


@dataclass(frozen=True)
class TextTable:
    """A rendered table: markdown and Rich draw the same rows."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


def dataset_line(dataset: Dataset) -> str:
    """'my_images: 3 classes of 20x20x1 images (chance: 66.67% test error; ...)'."""
    line = f"{dataset.describe()} (chance: {percent(dataset.chance_error, 2)} test error"
    if not dataset.has_paper_numbers:
        line += "; no paper numbers: the paper's are CIFAR-10's"
    return line + ")"


def _num2(x: float | None) -> str:
    return number(x, 2)


def _yes(x: bool) -> str:
    return "yes" if x else "no"


def _test(r: RunSummary) -> str:
    """Final test accuracy, and the best of any evaluation with its step (Table 2 style)."""
    if r.best_test_acc is None:
        return percent(r.test_acc, 2)
    return f"{percent(r.test_acc, 2)} ({percent(r.best_test_acc, 2)} @ {number(r.best_test_step)})"


def _decay(t: Table1Comparison) -> str:
    if not t.weight_decay:
        return "no"
    values = ", ".join(f"{d:g}" for d in t.weight_decay_values) or "yes"
    return values if t.weight_decay_layers == "all" else f"{values} ({t.weight_decay_layers})"


def _setting(r: RunSummary) -> str:
    return " ".join(p for p in (r.randomization, r.spec.variant) if p)


def _status(r: RunSummary) -> str:
    if r.status == INCOMPLETE and r.step is not None and r.total_steps:
        return f"{INCOMPLETE} {r.step / r.total_steps:.0%}"
    return r.status


Columns = tuple[tuple[str, Callable[[Any], str]], ...]


def _several(report: Report) -> bool:
    return len(report.datasets) > 1


def _dataset_name(item: Any) -> str:
    """A run's, a slowdown's or a Table 1 row's data set (a Dataset or its name)."""
    dataset = item.dataset
    return dataset if isinstance(dataset, str) else str(dataset.name)


def _with_dataset(report: Report, columns: Columns) -> Columns:
    """`columns` with a "data set" column in front where the report has several."""
    return (("data set", _dataset_name), *columns) if _several(report) else columns


def run_columns(report: Report) -> Columns:
    """The runs table's columns; "protocol" names the run's deviation set (#n below);
    "data set" leads where the report has several, "source" (its folder) where it
    read several folders."""
    sets = {g.deviations: i for i, g in enumerate(report.deviations, 1)}

    def protocol(r: RunSummary) -> str:
        deviations = run_deviations(r)
        if deviations in sets:
            return f"off #{sets[deviations]}"
        return "paper, stop at fit" if r.spec.stop_at_fit else "paper"

    columns = _with_dataset(report, (*RUN_COLUMNS[:5], ("protocol", protocol), *RUN_COLUMNS[5:]))
    if len(report.sources) > 1:
        columns = (("source", lambda r: run_source(r, report.folder)), *columns)
    return columns


def _plural(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


SOURCE_COLUMNS: Columns = (
    ("folder", lambda s: s.folder),
    ("runs", lambda s: str(s.runs)),
    ("machines (host / device / backend)", lambda s: ", ".join(s.machines) or "-"),
    ("started (UTC)", lambda s: s.dates),
    ("rethink commits", lambda s: ", ".join(s.commits) or "-"),
    ("dropped duplicates", lambda s: str(s.dropped)),
)


def source_line(source: Source) -> str:
    """One folder in a line, for a report of one folder's runs."""
    line = (
        f"source: {source.folder}: {_plural(source.runs, 'run')} on "
        f"{', '.join(source.machines) or 'unrecorded machines'} (host / device / backend), "
        f"started {source.dates if source.started else 'at unrecorded times'}, rethink "
        f"{', '.join(source.commits) or 'commit unrecorded'}"
    )
    if source.dropped:
        line += f", {source.dropped} dropped as duplicates"
    return line


RUN_COLUMNS: Columns = (
    ("model", lambda r: r.model),
    ("randomization", _setting),
    ("level", lambda r: "-" if r.level is None else f"{r.level:g}"),
    ("seed", lambda r: str(r.seed)),
    ("status", _status),
    ("train acc", train_acc_text),
    ("test acc (best @ step)", _test),
    ("steps to fit", lambda r: number(r.steps_to_fit)),
    ("steps to loss", lambda r: number(r.steps_to_loss)),
    ("wall", lambda r: duration(r.wall_seconds)),
    ("images/s", lambda r: number(r.images_per_s)),
    ("backend", lambda r: r.backend or "-"),
    ("device", lambda r: r.device or "-"),
)
SLOWDOWN_COLUMNS: Columns = (
    ("model", lambda s: s.model),
    ("randomization", lambda s: s.randomization),
    ("measured by", lambda s: (s.measure or "not reached").replace("_", " ")),
    ("steps", lambda s: number(s.steps)),
    ("baseline", lambda s: s.baseline),
    ("baseline steps", lambda s: number(s.baseline_steps)),
    ("slowdown", lambda s: factor(s.ratio)),
    ("runs", lambda s: f"{s.runs} / {s.baseline_runs}"),
)
TABLE1_COLUMNS: Columns = (
    ("model", lambda t: t.model),
    ("labels", lambda t: t.corruption.split("_")[0]),
    ("random crop", lambda t: _yes(t.random_crop)),
    ("weight decay", _decay),
    ("runs", lambda t: str(t.runs)),
    ("train", lambda t: window_marked(_num2(t.train), t.train_measure)),
    ("paper train", lambda t: _num2(t.paper_train)),
    ("diff", lambda t: signed(t.train_diff)),
    ("test", lambda t: _num2(t.test)),
    ("paper test", lambda t: _num2(t.paper_test)),
    ("diff", lambda t: signed(t.test_diff)),
)
FIGURE1A_COLUMNS: Columns = (
    ("model", lambda c: c.model),
    ("randomization", lambda c: randomization_label(c.corruption)),
    ("reached", lambda c: f"{c.reached}/{c.runs}"),
    ("steps", lambda c: number(c.steps)),
    ("slowdown", lambda c: factor(c.slowdown)),
    ("reproduction", lambda c: number(c.paper_steps)),
    ("its slowdown", lambda c: factor(c.paper_slowdown)),
)
CLAIM_COLUMNS: Columns = (
    ("claim", lambda c: c.claim),
    ("verdict", lambda c: c.verdict),
    ("evidence", lambda c: c.evidence),
)


def _steps(x: float | None) -> str:
    return "-" if x is None else number(round(x))


def _share(x: float | None) -> str:
    return "-" if x is None else percent(x, 1)


def _mean2(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _clean_first(m: MemorizationStats) -> str:
    if m.clean_first is None:
        return m.note or ("no difference" if m.median_first_kept is not None else "-")
    return "yes" if m.clean_first else "no"


MEMORIZATION_COLUMNS: Columns = (
    ("run", lambda m: m.run_id),
    ("changed", lambda m: "-" if m.changed is None else f"{m.changed:,} of {m.examples:,}"),
    ("first learned kept", lambda m: _steps(m.median_first_kept)),
    ("first learned changed", lambda m: _steps(m.median_first_changed)),
    ("never kept", lambda m: _share(m.never_kept)),
    ("never changed", lambda m: _share(m.never_changed)),
    ("clean first", _clean_first),
    ("forgotten kept", lambda m: _mean2(m.forgotten_kept)),
    ("forgotten changed", lambda m: _mean2(m.forgotten_changed)),
    (
        "peak test (step)",
        lambda m: (
            "-"
            if m.best_test_acc is None
            else f"{percent(m.best_test_acc, 2)} ({number(m.best_test_step)})"
        ),
    ),
    ("final test", lambda m: _share(m.final_test_acc)),
)


def _table(title: str, columns: Columns, items: Sequence[Any], note: str = "") -> TextTable:
    rows = tuple(tuple(f(item) for _, f in columns) for item in items)
    return TextTable(title, tuple(name for name, _ in columns), rows, note)


def _off_slowdown_columns(report: Report) -> Columns:
    sets = {g.deviations: i for i, g in enumerate(report.deviations, 1)}

    def protocol(s: Slowdown) -> str:
        return f"off #{sets[s.deviations]}" if s.deviations in sets else "-"

    return _with_dataset(report, (("protocol", protocol), *SLOWDOWN_COLUMNS))


def report_header(report: Report) -> list[str]:
    """The lines above the tables: what the grid ran, on which data set(s), and how
    things were measured."""
    if _several(report):
        datasets = [f"data sets: {len(report.datasets)}, each judged apart"]
        datasets += [f"data set {dataset_line(d)}" for d in report.datasets]
    else:
        datasets = [f"data set: {dataset_line(d)}" for d in report.datasets]
    sources = []
    if len(report.sources) == 1:
        sources.append(source_line(report.sources[0]))
    elif report.sources:
        sources.append(f"sources: {len(report.sources)} folders (table Sources)")
    return [
        *sources,
        *datasets,
        f"protocol: {report.protocol}",
        *report.notes,
        "paper: Zhang et al., Understanding deep learning requires rethinking "
        "generalization (ICLR 2017), Figure 1, Table 1 and Figure 2(b) (section 3.1)",
    ]


def report_tables(report: Report) -> list[TextTable]:
    """The report's tables as text, for markdown and Rich alike (empty ones left out)."""
    fits = ", ".join(sorted({percent(r.fit_threshold, 0) for r in report.runs}))
    losses = ", ".join(sorted({f"{r.loss_threshold:g}" for r in report.runs}))
    on = [s for s in report.slowdowns if not s.deviations]
    off = [s for s in report.slowdowns if s.deviations]
    slowdown_note = (
        "runs without weight decay or augmentation, means over seeds; baseline: the model's "
        "level-0 runs (true labels, or partial labels at p = 0); steps to fit where every "
        "run of both reached it, else steps to the loss threshold"
    )
    others = [d.name for d in report.datasets if not d.has_paper_numbers]
    paper_all = all(d.has_paper_numbers for d in report.datasets)
    table1_title = (
        "Table 1: accuracy (%) beside the paper"
        if any(d.has_paper_numbers for d in report.datasets)
        else "Table 1: accuracy (%)"
    )
    table1_note = (
        ""
        if paper_all
        else f"; paper columns: CIFAR-10 only, '-' for {', '.join(others)} (no paper numbers)"
    )
    protocol = protocol_text(report.datasets)
    tables = [
        _table(
            "Sources",
            SOURCE_COLUMNS,
            report.sources if len(report.sources) > 1 else (),
            "one row per folder read; machines, start dates (env.json 'started') and rethink "
            "commits of its runs; dropped: copies of runs in another folder too, left out "
            "(--prefer)",
        ),
        _table(
            "Runs",
            run_columns(report),
            report.runs,
            f"train acc: whole training split, inference mode, no augmentation; {WINDOW_MARK}: "
            "no such evaluation, the last full window's running mean in training mode; "
            f"steps to fit: first full window at training accuracy >= {fits}; loss: training "
            f"loss <= {losses}; protocol: off #n = not the paper's protocol (see below); "
            "incomplete: no result.json (running, or stopped without one)",
        ),
        _table(
            "Slowdown against level 0 (the paper's 'small constant factor', Figure 1b)",
            _with_dataset(report, SLOWDOWN_COLUMNS),
            on,
            f"{slowdown_note}; the paper's protocol only",
        ),
        _table(
            table1_title,
            _with_dataset(report, TABLE1_COLUMNS),
            report.table1,
            "completed runs on the paper's protocol that ran their steps (not stopped at "
            "fit), mean over seeds; diff = ours - paper, percentage points; weight decay: "
            f"the value used (+ wd * w in the gradient); {WINDOW_MARK}: includes runs "
            f"without a training-split evaluation (window mean){table1_note}",
        ),
        _table(
            "Figure 1a: steps to training loss 0.01 beside an independent reproduction",
            FIGURE1A_COLUMNS,
            report.figure1a,
            "reproduction: small Inception, batch 128, 25k steps, one seed (docs/paper.md); "
            "the paper's protocol only",
        ),
        TextTable(
            "Not the paper's protocol: settings",
            ("protocol", "deviations from the paper's protocol", "runs"),
            tuple(
                (f"off #{i}", ", ".join(g.deviations), str(len(g.run_ids)))
                for i, g in enumerate(report.deviations, 1)
            ),
            f"the paper's protocol: {protocol}; these runs are not compared with the paper's "
            "numbers and take no part in the verdicts",
        ),
        _table(
            "Not the paper's protocol: slowdown against level 0",
            _off_slowdown_columns(report),
            off,
            f"{slowdown_note}; baseline with the same settings; no comparison with the paper",
        ),
    ]
    tables.append(
        _table(
            "Memorization, example by example (beyond the paper)",
            MEMORIZATION_COLUMNS,
            report.memorization,
            "runs with corrupted labels; first learned: median step at which an example's "
            "training step first predicted its (trained) label, over the examples ever "
            "learned, kept labels against changed ones (a label redrawn as its own class is "
            "kept); never: fraction never learned; clean first: kept median below changed by more than half an epoch (no: above by as much); "
            "forgotten: mean forgetting events per example (right at one visit, wrong at "
            "the next); peak test: the best epoch-end test accuracy and its step",
        )
    )
    claims = _table("The paper's claims", CLAIM_COLUMNS, report.claims)
    return [t for t in tables if t.rows] + [claims]
