"""Rendering a `Report`: markdown (report.md), JSON (--format json), Rich tables."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.table import Table

from rethink import paper
from rethink.report import Report, _pct, _steps
from rethink.summary import INCOMPLETE, RunSummary, randomization_label


@dataclass(frozen=True)
class TextTable:
    """A rendered table: markdown and Rich draw the same rows."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


def report_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data (numbers, not formatted strings)."""
    data = dataclasses.asdict(report)
    data["paper"] = {
        "table1": [dataclasses.asdict(r) for r in paper.TABLE1],
        "figure1a_steps_to_loss": paper.FIGURE1A_STEPS_TO_LOSS,
    }
    return data


def _secs(x: float | None) -> str:
    if x is None:
        return "-"
    if x < 60:
        return f"{x:.1f} s"
    if x < 3600:
        return f"{int(x // 60)}m{int(x % 60):02d}s"
    return f"{int(x // 3600)}h{int(x % 3600 // 60):02d}m"


def _diff(x: float | None) -> str:
    return "-" if x is None else f"{x:+.2f}"


def _num2(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _x(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def _yes(x: bool) -> str:
    return "yes" if x else "no"


def _setting(r: RunSummary) -> str:
    wd = f" wd{r.weight_decay:g}" if r.weight_decay else ""
    return r.randomization + wd + (" aug" if r.augment else "")


def _status(r: RunSummary) -> str:
    if r.status == INCOMPLETE and r.step is not None and r.total_steps:
        return f"{INCOMPLETE} {r.step / r.total_steps:.0%}"
    return r.status


Columns = tuple[tuple[str, Callable[[Any], str]], ...]
RUN_COLUMNS: Columns = (
    ("model", lambda r: r.model),
    ("randomization", _setting),
    ("level", lambda r: "-" if r.level is None else f"{r.level:g}"),
    ("seed", lambda r: str(r.seed)),
    ("status", _status),
    ("train acc", lambda r: _pct(r.train_acc, 2)),
    ("test acc", lambda r: _pct(r.test_acc, 2)),
    ("steps to fit", lambda r: _steps(r.steps_to_fit)),
    ("steps to loss", lambda r: _steps(r.steps_to_loss)),
    ("wall", lambda r: _secs(r.wall_seconds)),
    ("images/s", lambda r: _steps(r.images_per_s)),
    ("backend", lambda r: r.backend or "-"),
    ("device", lambda r: r.device or "-"),
)
SLOWDOWN_COLUMNS: Columns = (
    ("model", lambda s: s.model),
    ("randomization", lambda s: s.randomization),
    ("measured by", lambda s: (s.measure or "not reached").replace("_", " ")),
    ("steps", lambda s: _steps(s.steps)),
    ("true-label steps", lambda s: _steps(s.baseline_steps)),
    ("slowdown", lambda s: _x(s.ratio)),
    ("runs", lambda s: f"{s.runs} / {s.baseline_runs}"),
)
TABLE1_COLUMNS: Columns = (
    ("model", lambda t: t.model),
    ("labels", lambda t: t.corruption.split("_")[0]),
    ("random crop", lambda t: _yes(t.random_crop)),
    ("weight decay", lambda t: _yes(t.weight_decay)),
    ("runs", lambda t: str(t.runs)),
    ("train", lambda t: _num2(t.train)),
    ("paper train", lambda t: _num2(t.paper_train)),
    ("diff", lambda t: _diff(t.train_diff)),
    ("test", lambda t: _num2(t.test)),
    ("paper test", lambda t: _num2(t.paper_test)),
    ("diff", lambda t: _diff(t.test_diff)),
)
FIGURE1A_COLUMNS: Columns = (
    ("model", lambda c: c.model),
    ("randomization", lambda c: randomization_label(c.corruption)),
    ("reached", lambda c: f"{c.reached}/{c.runs}"),
    ("steps", lambda c: _steps(c.steps)),
    ("slowdown", lambda c: _x(c.slowdown)),
    ("reproduction", lambda c: _steps(c.paper_steps)),
    ("its slowdown", lambda c: _x(c.paper_slowdown)),
)
CLAIM_COLUMNS: Columns = (
    ("claim", lambda c: c.claim),
    ("verdict", lambda c: c.verdict),
    ("evidence", lambda c: c.evidence),
)


def _table(title: str, columns: Columns, items: Sequence[Any], note: str = "") -> TextTable:
    rows = tuple(tuple(f(item) for _, f in columns) for item in items)
    return TextTable(title, tuple(name for name, _ in columns), rows, note)


def report_tables(report: Report) -> list[TextTable]:
    """The report's tables as text, for markdown and Rich alike (empty ones left out)."""
    fits = ", ".join(sorted({_pct(r.fit_threshold, 0) for r in report.runs}))
    losses = ", ".join(sorted({f"{r.loss_threshold:g}" for r in report.runs}))
    tables = [
        _table(
            "Runs",
            RUN_COLUMNS,
            report.runs,
            f"fit: training accuracy >= {fits}; loss: training loss <= {losses}; "
            "incomplete: no result.json (running, or stopped without one)",
        ),
        _table(
            "Slowdown against true labels (the paper's 'small constant factor')",
            SLOWDOWN_COLUMNS,
            report.slowdowns,
            "runs without weight decay or augmentation, means over seeds; steps to fit "
            "where every run of both reached it, else steps to the loss threshold",
        ),
        _table(
            "Table 1: accuracy (%) beside the paper",
            TABLE1_COLUMNS,
            report.table1,
            "completed runs only, mean over seeds; diff = ours - paper, percentage points",
        ),
        _table(
            "Figure 1a: steps to training loss 0.01 beside an independent reproduction",
            FIGURE1A_COLUMNS,
            report.figure1a,
            "reproduction: small Inception, batch 128, 25k steps, one seed (docs/paper.md)",
        ),
    ]
    claims = _table("The paper's claims", CLAIM_COLUMNS, report.claims)
    return [t for t in tables if t.rows] + [claims]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    lines = [f"# rethink report: {report.folder}", ""]
    lines += [f"- {n}" for n in report.notes]
    lines.append(
        "- paper: Zhang et al., Understanding deep learning requires rethinking "
        "generalization (ICLR 2017), Figure 1 and Table 1"
    )
    for t in report_tables(report):
        lines += ["", f"## {t.title}", ""]
        lines.append("| " + " | ".join(t.columns) + " |")
        lines.append("|" + "---|" * len(t.columns))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows]
        if t.note:
            lines += ["", f"_{t.note}_"]
    return "\n".join(lines) + "\n"


def render_rich(report: Report) -> list[Table]:
    tables = []
    for t in report_tables(report):
        table = Table(
            title=t.title,
            caption=t.note or None,
            title_justify="left",
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        for c in t.columns:
            table.add_column(c, overflow="fold")
        for row in t.rows:
            table.add_row(*row)
        tables.append(table)
    return tables
